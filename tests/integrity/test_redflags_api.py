"""The red-flag API: named lists for controllers (every view audited), supervisors'
own agency only, and public counts per agency and region with small counts suppressed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from onestop.accounts.models import User
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Agency, Country
from onestop.integrity.models import FlagResult, FlagRun

URL = "/api/v1/integrity/flags"


@pytest.fixture
def flagged(mini_country: Country) -> dict[str, Any]:
    """A stored run of 2026-Q3: 12 officers flagged in one agency (risk 12..1 points: the
    officer i has `refusal_rate` with score i, officer 12 also `off_hours` with 5), and 3
    in another."""
    first, second = list(Agency.objects.filter(country=mini_country).order_by("pk")[:2])
    now = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
    run = FlagRun.objects.create(
        country=mini_country, period="2026-Q3", starts_at=now, ends_at=now,
        config_version="t", config_sha256="0" * 64, source="live:test", created_at=now)

    def result(subject: int, agency: Agency, flag: str, score: float) -> FlagResult:
        return FlagResult(run=run, subject_kind="officer", subject_id=subject, flag=flag,
                          agency_id=agency.pk, region_id=None, value=0.5, z=score, n=20,
                          hits=10, peers_n=3, score=score, evidence={"applications": [subject]})

    rows = [result(i, first, "refusal_rate", float(i)) for i in range(1, 13)]
    rows.append(result(12, first, "off_hours", 5.0))
    rows += [result(100 + i, second, "refusal_rate", 20.0 + i) for i in range(3)]
    FlagResult.objects.bulk_create(rows)
    return {"run": run, "first": first, "second": second}


def test_a_controller_sees_named_flags_by_risk_and_the_view_is_audited(
        flagged: dict[str, Any], make_user: Callable[..., User],
        api_client: Callable[[User | None], Client]) -> None:
    controller = make_user("controller")
    before = AuditEntry.objects.filter(action="integrity.flags_viewed").count()
    response = api_client(controller).get(URL, {"period": "2026-Q3", "limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 15
    assert [(s["id"], s["risk"]) for s in body["subjects"]] == [(102, 22.0), (101, 21.0),
                                                                (100, 20.0)]
    entries = AuditEntry.objects.filter(action="integrity.flags_viewed")
    assert entries.count() == before + 1
    entry = entries.order_by("-sequence").first()
    assert entry is not None
    assert entry.actor_username == controller.username
    assert entry.subject_id == str(flagged["run"].pk)
    assert entry.data["shown"] == 3
    # filters: one agency, one flag
    response = api_client(controller).get(URL, {"period": "2026-Q3", "flag": "off_hours"})
    assert [(s["id"], s["risk"]) for s in response.json()["subjects"]] == [(12, 5.0)]
    response = api_client(controller).get(
        URL, {"period": "2026-Q3", "agency": flagged["first"].code, "limit": 1})
    top = response.json()["subjects"][0]
    assert (top["id"], top["risk"]) == (12, 17.0)
    assert {f["flag"] for f in top["flags"]} == {"refusal_rate", "off_hours"}


def test_a_supervisor_sees_only_their_agency(
        flagged: dict[str, Any], make_user: Callable[..., User],
        api_client: Callable[[User | None], Client]) -> None:
    supervisor = make_user("supervisor", agency_code=flagged["second"].code)
    response = api_client(supervisor).get(URL, {"period": "2026-Q3"})
    assert response.status_code == 200
    assert sorted(s["id"] for s in response.json()["subjects"]) == [100, 101, 102]
    response = api_client(supervisor).get(
        URL, {"period": "2026-Q3", "agency": flagged["first"].code})
    assert response.status_code == 403
    assert "own agency" in response.json()["detail"]


def test_others_may_not_see_named_flags(
        flagged: dict[str, Any], make_user: Callable[..., User],
        api_client: Callable[[User | None], Client]) -> None:
    assert api_client(None).get(URL, {"period": "2026-Q3"}).status_code == 401
    for role in ("officer", "analyst"):
        user = make_user(role, agency_code=flagged["first"].code) if role == "officer" \
            else make_user(role)
        response = api_client(user).get(URL, {"period": "2026-Q3"})
        assert response.status_code == 403, role
    citizen = make_user("citizen")
    assert api_client(citizen).get(URL, {"period": "2026-Q3"}).status_code == 403


def test_bad_queries(flagged: dict[str, Any], make_user: Callable[..., User],
                     api_client: Callable[[User | None], Client]) -> None:
    client = api_client(make_user("controller"))
    assert client.get(URL, {"period": "someday"}).status_code == 422
    assert client.get(URL, {"period": "2026-Q3", "flag": "bribery"}).status_code == 422
    response = client.get(URL, {"period": "2025-Q1"})
    assert response.status_code == 404
    assert "onestop integrity flags" in response.json()["detail"]
    assert client.get(URL, {"period": "2026-Q3", "agency": "NOPE"}).status_code == 404


def test_the_public_summary_suppresses_small_counts(
        flagged: dict[str, Any], api_client: Callable[[User | None], Client]) -> None:
    response = api_client(None).get(f"{URL}/summary", {"period": "2026-Q3"})
    assert response.status_code == 200
    body = response.json()
    counts = {row["code"]: (row["flagged"], row["suppressed"]) for row in body["agencies"]}
    assert counts == {flagged["first"].code: (12, False), flagged["second"].code: (None, True)}
    assert "subjects" not in body
    assert "officer" not in response.content.decode()
