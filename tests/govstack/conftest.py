"""Fixtures of the GovStack façade tests: the conformance records in the mini country,
clients of the façade served alone (gateway mode) and mounted in the main site, and the
API documents' schemas."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.test import Client, override_settings

from onestop.catalogue.models import Country
from onestop.govstack.services import FIXTURE_MEMBER, load_fixtures

SPEC_DIR = Path(__file__).parent / "data"
MEMBER = FIXTURE_MEMBER


def _spec(name: str) -> dict[str, Any]:
    return json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))


SPEC = _spec("GovStack_Registration_BB_API.json")
STATISTICS_SPEC = _spec("GovStack_Registration_BB_API_statistics.json")


def response_schema(spec: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    response = spec["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    content = response["content"]
    return next(iter(content.values()))["schema"]


def assert_matches(body: Any, path: str, method: str = "get", status: int = 200,
                   spec: dict[str, Any] | None = None) -> None:
    """Validate a response against the OpenAPI document's schema for it (OpenAPI 3.0
    schemas read as JSON Schema draft 4, references resolved within the document)."""
    spec = spec or SPEC
    schema = {**spec, **response_schema(spec, path, method, status)}
    jsonschema.Draft4Validator(schema).validate(body)


@pytest.fixture
def govstack(mini_country: Country) -> Country:
    load_fixtures(mini_country)
    return mini_country


@pytest.fixture
def gateway() -> Iterator[Callable[..., Client]]:
    """Clients of the façade served alone at the root behind the mediator."""
    with override_settings(ONESTOP_GOVSTACK_GATEWAY=True, ROOT_URLCONF="onestop.govstack.urls"):

        def make(member: str | None = MEMBER) -> Client:
            headers = {"HTTP_INFORMATION_MEDIATOR_CLIENT": member} if member else {}
            return Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en", **headers)

        yield make
