"""The API against its own OpenAPI document, with schemathesis: no server error and no
response that contradicts the document, for generated valid and invalid input."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from onestop.accounts.models import User
from onestop.accounts.services import issue_token
from onestop.catalogue.models import Country
from onestop.wsgi import application


@pytest.fixture
def _keep_test_connection() -> Iterator[None]:
    """Calling the WSGI app directly fires Django's request signals, whose handler closes
    a connection that is inside a transaction: the test's rollback transaction. Django's
    own test client disconnects that handler the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(_keep_test_connection: None, mini_country: Country, settings):  # type: ignore[no-untyped-def]
    settings.ONESTOP_COUNTRY = "zz"
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def admin_token(make_user: Callable[..., User]) -> str:
    return issue_token(user=make_user("admin"))[1]


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi_document(case, admin_token: str) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"})


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_no_two_api_schemas_share_a_name() -> None:
    """The OpenAPI document names each schema by its class name: two different schemas of
    one name (in two apps) would be one component, and one of them wrongly described."""
    from ninja import Schema

    import onestop.api  # noqa: F401 (every router and its schemas imported)

    by_name: dict[str, dict[str, object]] = {}
    clashes = []
    for schema in _subclasses(Schema):
        if not schema.__module__.startswith("onestop."):
            continue
        shape = schema.model_json_schema()
        shape.pop("title", None)
        shape.pop("description", None)
        known = by_name.setdefault(schema.__name__, shape)
        if known != shape:
            clashes.append(f"{schema.__name__} ({schema.__module__})")
    assert clashes == []
