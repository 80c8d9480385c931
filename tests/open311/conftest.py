"""Fixtures of the Open311 tests: the mini pack (country zz) with its birth registration
made free and given a richer e-form (so Open311 clients may request it), a citizen with
an account, an officer and a supervisor of the civil registry, and an API key.

Open311 offers a service when it is online, free and asks for no uploaded documents:
the mini pack's instant job-seeker registration (02020001) is such a service as loaded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.catalogue.models import Country, Service, ServiceStandard
from onestop.open311 import services

BIRTH = "01010001"
JOBS = "02020001"
NATIONAL_ID = "900101300011"
RICH_EFORM: dict[str, Any] = {
    "type": "object",
    "required": ["child_name", "child_sex", "child_birth_date"],
    "additionalProperties": False,
    "x-order": ["child_name", "child_sex", "child_birth_date", "twins", "weight_kg",
                "siblings", "languages"],
    "properties": {
        "child_name": {"type": "string", "title": "Child's name", "maxLength": 100,
                       "x-title": {"en": "Child's name", "ru": "Имя ребенка"}},
        "child_sex": {"type": "string", "title": "Sex", "enum": ["male", "female"]},
        "child_birth_date": {"type": "string", "title": "Date of birth", "format": "date"},
        "twins": {"type": "boolean", "title": "Twins"},
        "weight_kg": {"type": "number", "title": "Weight, kg", "exclusiveMinimum": 0,
                      "maximum": 10},
        "siblings": {"type": "array", "title": "IINs of siblings",
                     "items": {"type": "string", "pattern": "^[0-9]{12}$"}},
        "languages": {"type": "array", "title": "Languages",
                      "items": {"type": "string", "enum": ["kk", "ru", "en"]}},
    },
}


@pytest.fixture
def birth(mini_country: Country) -> Service:
    """Birth registration, its 2026 standard made free with RICH_EFORM."""
    ServiceStandard.objects.filter(service__country=mini_country, service__code=BIRTH,
                                   valid_from=date(2026, 3, 10)).update(
        fee_amount=0, fee_payment=[], eform=RICH_EFORM)
    return Service.objects.get(country=mini_country, code=BIRTH)


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> User:
    user = make_user("citizen", national_id=NATIONAL_ID)
    user.email = "aigerim.sapar@example.kz"
    user.first_name, user.last_name = "Aigerim", "Saparova"
    user.save()
    return user


@pytest.fixture
def officer(make_user: Callable[..., User], mini_country: Country) -> User:
    return make_user("officer", agency_code="MJ-ZAGS", country_code="zz")


@pytest.fixture
def controller(make_user: Callable[..., User]) -> User:
    return make_user("controller")


@pytest.fixture
def api_key(db: None) -> str:
    _key, key = services.create_api_key(name="city app")
    return key


@pytest.fixture
def o311() -> Client:
    return Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    body = response.content
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(body)  # noqa: S314 (the test server's own answer)


def texts(element: ET.Element) -> dict[str, str]:
    """A record's child elements: tag -> text ("" for an empty element)."""
    return {child.tag: child.text or "" for child in element}
