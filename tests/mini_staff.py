"""Staff of the mini pack (country zz) as fixtures, shared by the feedback and control
tests: an officer of the civil registry (MJ-ZAGS), a supervisor of the ministry above it
(MJ), staff of another agency (MLSP), a centre's manager and operator (AST-01), a
controller and an analyst. Each has a work email, as notices go to it.

Registered for the whole suite by tests/conftest.py; an app's own conftest may redefine a
name (the centres tests have their own `centre`).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.centres.models import Centre


def _staff(make_user: Callable[..., User], role: str, **scope: str) -> User:
    user = make_user(role, country_code="zz", **scope) if scope else make_user(role)
    user.email = f"{user.username}@gov.example"
    user.save()
    return user


@pytest.fixture
def officer(make_user: Callable[..., User], mini_country: Country) -> User:
    return _staff(make_user, "officer", agency_code="MJ-ZAGS")


@pytest.fixture
def supervisor(make_user: Callable[..., User], mini_country: Country) -> User:
    """A supervisor of the ministry above the civil registry (oversees its units)."""
    return _staff(make_user, "supervisor", agency_code="MJ")


@pytest.fixture
def other_officer(make_user: Callable[..., User], mini_country: Country) -> User:
    return _staff(make_user, "officer", agency_code="MLSP")


@pytest.fixture
def other_supervisor(make_user: Callable[..., User], mini_country: Country) -> User:
    return _staff(make_user, "supervisor", agency_code="MLSP")


@pytest.fixture
def centre(mini_country: Country) -> Centre:
    return Centre.objects.get(country=mini_country, code="AST-01")


@pytest.fixture
def manager(make_user: Callable[..., User], centre: Centre) -> User:
    return _staff(make_user, "supervisor", centre_code="AST-01")


@pytest.fixture
def operator(make_user: Callable[..., User], centre: Centre) -> User:
    return _staff(make_user, "operator", centre_code="AST-01")


@pytest.fixture
def controller(make_user: Callable[..., User], mini_country: Country) -> User:
    return _staff(make_user, "controller")


@pytest.fixture
def analyst(make_user: Callable[..., User], mini_country: Country) -> User:
    return _staff(make_user, "analyst")
