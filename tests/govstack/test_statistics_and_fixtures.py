"""Statistics of the GovStack façade, the conformance fixtures and serving the façade."""

from __future__ import annotations

import datetime as dt
import os
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from onestop.accounts.models import User
from onestop.applications import services as application_services
from onestop.applications.models import Application
from onestop.applications.services import UploadedDocument
from onestop.catalogue.models import Country
from onestop.govstack.models import ExternalId, Kind, Member
from onestop.govstack.services import FIXTURE_FILES, FIXTURE_USER, load_fixtures
from tests.govstack.conftest import STATISTICS_SPEC, assert_matches

pytestmark = pytest.mark.django_db

MEMBER_HEADER = {"HTTP_INFORMATION_MEDIATOR_CLIENT": "eGovStack/GOV/90000009/eregistrations-dev"}


def _file(file_id: str) -> Application:
    application = ExternalId.objects.get(kind=Kind.FILE, external_id=file_id).application
    assert application is not None
    return application


def _stats(client: Client, **query: Any) -> Any:
    response = client.get("/govstack/data/statistics/1.0", query, **MEMBER_HEADER)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert_matches(response.json(), "/data/statistics", spec=STATISTICS_SPEC)
    return response.json()


@pytest.fixture
def worked(govstack: Country) -> Country:
    """Three fixture files handled: one issued, one refused by withdrawal, one sent back."""
    officer = User.objects.get(username=FIXTURE_USER)
    result = UploadedDocument(code="result", name="r.pdf", content_type="application/pdf",
                              content=b"%PDF-1.4 result")
    issued = _file(FIXTURE_FILES[0][0])
    for action, extra in (("accept", {}), ("approve", {"result_document": result}),
                          ("issue", {})):
        application_services.act(application=issued, user=officer, action=action, **extra)
    sent_back = _file(FIXTURE_FILES[1][0])
    application_services.act(application=sent_back, user=officer, action="accept")
    application_services.act(application=sent_back, user=officer, action="request_documents",
                             comment="the birth record", requested_documents=["id_document"])
    withdrawn = _file(FIXTURE_FILES[2][0])
    citizen = User.objects.create_user(username="applicant", role="citizen",
                                       national_id=withdrawn.applicant_national_id)
    Application.objects.filter(pk=withdrawn.pk).update(applicant=citizen)
    application_services.act(application=withdrawn, user=citizen, action="withdraw")
    return govstack


def test_statistics_count_what_happened(worked: Country, client: Client) -> None:
    today = timezone.localdate()
    [row] = _stats(client)
    assert {k: row[k] for k in ("processed", "approved", "sentBack", "rejected")} == {
        "processed": 2, "approved": 1, "sentBack": 1, "rejected": 1,
    }
    [row] = _stats(client, registrationName="MCTS", startDate=today.isoformat(),
                   endDate=today.isoformat())
    assert (row["processed"], row["references"]["registrationName"]) == (2, "MCTS")
    assert row["references"]["startDate"] == today.isoformat()
    [row] = _stats(client, registrationName="MCTS", timeframe="month")
    assert row["references"]["timeframeMonth"] is True
    assert row["references"]["startDate"] == today.replace(day=1).isoformat()
    assert row["processed"] == 2
    [row] = _stats(client, timeframe="week")
    monday = today - dt.timedelta(days=today.weekday())
    assert (row["references"]["startDate"], row["references"]["endDate"]) == (
        monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat()
    )
    assert (row["processed"], row["sentBack"], row["references"]["timeframeDay"]) == (2, 1, False)
    [row] = _stats(client, role="officer")
    assert (row["processed"], row["approved"], row["rejected"]) == (1, 1, 0)
    [row] = _stats(client, operator=FIXTURE_USER)
    assert row["sentBack"] == 1
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    [row] = _stats(client, endDate=yesterday)
    assert (row["processed"], row["sentBack"]) == (0, 0)
    assert _stats(client, timeframe="day", endDate=yesterday) == []


@pytest.mark.parametrize("header", [None, "", "''", "invalid_header", "eGovStack/GOV/90000009/"])
def test_statistics_need_the_mediator_header(govstack: Country, client: Client,
                                             header: str | None) -> None:
    extra = {"HTTP_INFORMATION_MEDIATOR_CLIENT": header} if header is not None else {}
    response = client.get("/govstack/data/statistics", **extra)
    assert response.status_code == 400
    assert response.json()["detail"]


@pytest.mark.parametrize(("query", "status"), [
    ({"registrationName": "n0tex1st"}, 404), ({"startDate": "30.01.2021"}, 400),
    ({"timeframe": "decade"}, 400), ({"startDate": "2021-02-01", "endDate": "2021-01-01"}, 400),
])
def test_statistics_bad_queries(govstack: Country, client: Client, query: dict[str, str],
                                status: int) -> None:
    response = client.get("/govstack/data/statistics", query, **MEMBER_HEADER)
    assert response.status_code == status


def test_fixtures_are_idempotent(mini_country: Country) -> None:
    out = StringIO()
    call_command("govstack_fixtures", "--country", "zz", stdout=out)
    assert "0 already there" in out.getvalue()
    counts = (ExternalId.objects.count(), Application.objects.count(), Member.objects.count(),
              User.objects.count())
    assert counts[1] == len(FIXTURE_FILES)
    again = load_fixtures(mini_country)
    assert again.created == 0
    assert (ExternalId.objects.count(), Application.objects.count(), Member.objects.count(),
            User.objects.count()) == counts
    assert Member.objects.get().is_default


def test_fixtures_command_errors(db: None) -> None:
    with pytest.raises(CommandError, match="load-pack"):
        call_command("govstack_fixtures", "--country", "qq")


def test_serve_govstack_selects_the_facade(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.delenv("ONESTOP_GOVSTACK_GATEWAY", raising=False)
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(argv))
    out = StringIO()
    call_command("serve", "--govstack", "--port", "3333", stdout=out)
    assert os.environ["ONESTOP_GOVSTACK_GATEWAY"] == "1"
    assert "127.0.0.1:3333" in calls[0]
    assert "GovStack" in out.getvalue()


def test_settings_pick_the_facade_urlconf(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import onestop.settings as onestop_settings

    monkeypatch.setenv("ONESTOP_GOVSTACK_GATEWAY", "1")
    monkeypatch.setenv("ONESTOP_SECRET_KEY", "test-key-for-this-reload-only")
    try:
        reloaded = importlib.reload(onestop_settings)
        assert reloaded.ROOT_URLCONF == "onestop.govstack.urls"
        monkeypatch.setenv("ONESTOP_GOVSTACK_GATEWAY", "0")
        assert importlib.reload(onestop_settings).ROOT_URLCONF == "onestop.urls"
    finally:
        monkeypatch.delenv("ONESTOP_GOVSTACK_GATEWAY")
        importlib.reload(onestop_settings)

