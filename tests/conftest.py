"""Fixtures shared by the whole suite: packs, users and API clients on the real database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from onestop.accounts.models import User
from onestop.accounts.services import create_user, issue_token
from onestop.catalogue.models import Country
from onestop.catalogue.packs import read_pack, resolve_pack_path
from onestop.catalogue.services import load_pack

MINI_PACK = Path(__file__).parent / "catalogue" / "data" / "mini"

# Staff of the mini pack (officer, supervisor, controller, ...), for the tests that need them.
pytest_plugins = ["tests.mini_staff"]


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Any:
    """A use case called directly (not through a page) speaks English, as the messages
    tests match are written; a page still answers in the language it picks."""
    with translation.override("en"):
        yield


@pytest.fixture
def mini_country(db: None) -> Country:
    """A two-service test country (code zz), loaded fresh for the test."""
    load_pack(read_pack(MINI_PACK))
    return Country.objects.get(code="zz")


@pytest.fixture
def kz(db: None) -> Country:
    load_pack(read_pack(resolve_pack_path("kz")))
    return Country.objects.get(code="kz")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(role: str = "citizen", **scope: Any) -> User:
        return create_user(
            username=f"{role}-{next(counter)}",
            password="a long test password",
            role=role,
            validate=False,
            **scope,
        )

    return make


@pytest.fixture
def api_client() -> Callable[[User | None], Client]:
    """A test client that presents a bearer token of `user` (or none)."""

    def make(user: User | None = None) -> Client:
        if user is None:
            return Client(HTTP_HOST="localhost")
        _, key = issue_token(user=user)
        return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {key}")

    return make


@pytest.fixture
def client() -> Client:
    """A browser-like client that asks for English pages (the default language is ru)."""
    return Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
