"""Fixtures of the applications' tests: the mini pack's birth registration and the users
who apply for it and handle it (a test module may narrow them further)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from onestop.accounts.models import User
from onestop.catalogue.models import Country, Service
from tests.applications.pages import BIRTH


@pytest.fixture
def birth(mini_country: Country, settings: Any) -> Service:
    """The mini pack's birth registration, the pages' country being the mini pack's."""
    settings.ONESTOP_COUNTRY = "zz"
    return Service.objects.get(country=mini_country, code=BIRTH)


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> User:
    return make_user("citizen", national_id="900101300011")


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    """An officer of the civil registry department, which provides the birth registration."""
    return make_user("officer", agency_code="MJ-ZAGS", country_code="zz")
