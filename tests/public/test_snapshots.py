"""The snapshot refresh on the hand-built history (tests/quality/history.py, worked out in
its docstring): the national picture, the rankings as stored, a service's standard beside
its performance, a centre's waits, violations and complaints with small counts suppressed,
and the daily audit head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from onestop.audit import services as audit_services
from onestop.catalogue.models import Agency
from onestop.control.models import Violation
from onestop.feedback.models import Complaint
from onestop.public import selectors, services
from onestop.public.models import PublicSnapshot, PublishedHead
from onestop.quality.models import AssessmentResult, AssessmentRun
from tests.public.conftest import NOW, assess_all
from tests.quality import history

pytestmark = pytest.mark.django_db


def block(built: history.History, key: str) -> dict:
    data = selectors.block(built.country, "2026-Q3", key)
    assert data is not None, key
    return data


def test_periods() -> None:
    assert services.previous_period("2026-Q1") == "2025-Q4"
    assert services.previous_period("2026-Q3") == "2026-Q2"
    assert services.previous_period("2026-H1") == "2025-H2"
    assert services.previous_period("2026-01") == "2025-12"
    assert services.previous_period("2026-10") == "2026-09"
    assert services.previous_period("2026") == "2025"


def test_suppression_of_small_counts() -> None:
    assert [services.suppress(n) for n in (0, 1, 9, 10, 250)] == [0, None, None, 10, 250]


def test_the_period_is_the_latest_assessed(refreshed: history.History) -> None:
    index = selectors.index(refreshed.country)
    assert index is not None
    assert index["period"] == "2026-Q3"
    assert index["taken_at"] == NOW.isoformat()
    assert index["agencies"] == ["MJ", "MJ-ZAGS", "MLSP"]
    assert index["services"] == ["01010001", "02020001"]


def test_national_picture(refreshed: history.History) -> None:
    national = block(refreshed, "national")
    f = national["figures"]
    # submitted in Q3: z1-z10, z12, z13 (12) and m1-m5 (5); z11 was submitted in June
    assert f["submitted"] == 17
    # digital: the 8 portal z's, z12 (portal) and the 5 API m's
    assert f["digital"] == 14
    assert f["digital_take_up"] == pytest.approx(14 / 17)
    # finished (issued or refused) in Q3: z1-z10 and m1-m5; late: z9 only
    assert (f["finished"], f["on_time"], f["refused"]) == (15, 14, 2)
    assert f["timeliness"] == pytest.approx(14 / 15)
    # 6 ratings in Q3: fewer than 10, so suppressed with the mean behind them
    assert f["ratings"] is None
    assert f["satisfaction"] is None
    # the trend starts at the first period with applications (z11 in Q2)
    assert [p["period"] for p in national["trend"]] == ["2026-Q2", "2026-Q3"]
    assert national["trend"][0]["submitted"] == 1
    assert national["channels"] == {"api": 5, "centre": 3, "portal": 9}


def test_rankings_are_the_stored_runs(refreshed: history.History) -> None:
    ranking = block(refreshed, "ranking:agency")
    run = AssessmentRun.objects.filter(period="2026-Q3", scope="agency").latest("created_at")
    assert ranking["run"]["id"] == run.pk
    assert ranking["run"]["results_sha256"] == run.results_sha256
    assert [r["code"] for r in ranking["rows"]] == ["MJ-ZAGS", "MLSP"]
    zags, mlsp = ranking["rows"]
    stored = AssessmentResult.objects.get(run=run, unit_code="MJ-ZAGS")
    assert zags["score"] == stored.score == 45.0
    assert (zags["rank"], zags["ranked"], zags["n"]) == (1, True, 10)
    assert zags["values"]["timeliness"] == {"value": 0.9, "n": 10}
    assert zags["name"]["en"] == "Civil Registry Department"
    assert mlsp["ranked"] is False
    assert mlsp["rank"] is None
    assert block(refreshed, "ranking:region")["run"]["scope"] == "region"


def test_agency_block(refreshed: history.History) -> None:
    zags = block(refreshed, "agency:MJ-ZAGS")
    assert zags["result"]["score"] == 45.0
    assert [(p["period"], p["score"]) for p in zags["trend"]][-1] == ("2026-Q3", 45.0)
    assert zags["services"] == [{
        "code": "01010001", "name": zags["services"][0]["name"], "submitted": 12,
        "finished": 10, "timeliness": 0.9}]
    # 3 violations and 4 complaints in Q3: both fewer than 10, so not published
    assert zags["control"]["violations"] is None
    assert zags["control"]["complaints"] is None


def test_service_block_standard_beside_performance(refreshed: history.History) -> None:
    s = block(refreshed, "service:01010001")
    assert s["standard"]["deadline_unit"] in ("working_days", "hours", "minutes")
    a = s["actual"]
    assert (a["submitted"], a["finished"], a["refused"]) == (12, 10, 1)
    assert a["timeliness"] == pytest.approx(0.9)
    assert a["refusal_rate"] == pytest.approx(0.1)
    # processing times: z1-z8 7 days, z9 and z10 14 days: nearest-rank median 7 d, p90 14 d
    assert a["median_seconds"] == 7 * 86400
    assert a["p90_seconds"] == 14 * 86400
    assert a["n"] == 10
    # 4 ratings: fewer than 10, every figure per criterion suppressed
    assert a["ratings"] is None
    assert [c["criterion"] for c in a["criteria"]] == ["legality", "timeliness"]
    assert all(c["mean"] is None and c["n"] is None for c in a["criteria"])
    assert s["channels"] == {"centre": 3, "portal": 9}
    run = AssessmentRun.objects.filter(period="2026-Q3", scope="service").latest("created_at")
    stored = AssessmentResult.objects.get(run=run, unit_code="01010001")
    assert s["result"]["score"] == stored.score
    assert s["result"]["values"]["timeliness"]["value"] == stored.values["timeliness"]["value"]
    assert s["run"]["id"] == run.pk


def test_ratings_are_published_from_ten(built: history.History) -> None:
    for i in range(6):  # z3-z8: 4 + 6 = 10 ratings of the birth service in Q3
        history.rating(built.apps[f"z{i + 3}"], {"legality": 5 if i % 2 else 3,
                                                 "timeliness": 4}, history.jul(20 + i))
    assess_all(built.country)
    services.refresh(built.country, now=NOW)
    a = block(built, "service:01010001")["actual"]
    assert a["ratings"] == 10
    legality = a["criteria"][0]
    # legality: 5, 3, 4, 1 (the history) and 3, 5, 3, 5, 3, 5
    assert legality["n"] == 10
    assert legality["mean"] == pytest.approx(37 / 10)
    assert legality["satisfied"] == pytest.approx(5 / 10)  # 5, 4, 5, 5, 5


def test_centre_block(refreshed: history.History) -> None:
    centre = block(refreshed, "centre:AST-01")
    period = centre["period"]
    # Q3 tickets: 2 served in A (10 and 40 min), 1 served in B (5 min), 1 no-show (no wait)
    assert period["tickets"] == 4
    assert period["served"] == 3
    assert period["within_standard"] == pytest.approx(2 / 3)
    assert centre["live"]["waiting"] == 0
    assert centre["today"]["tickets"] == 0
    assert centre["first_day"] == "2026-07-01"
    assert centre["last_day"] == "2026-09-30"


def test_control_counts_are_suppressed_below_ten(built: history.History) -> None:
    zags = Agency.objects.get(country=built.country, code="MJ-ZAGS")
    for day in range(1, 8):  # 3 + 7 = 10 violations of ZAGS in Q3
        history.violation(built.country, zags, found=history.at(8, day), found_by="control")
    assess_all(built.country)
    services.refresh(built.country, now=NOW)
    control = block(built, "control")
    rows = {r["code"]: r for r in control["agencies"]}
    assert rows["MJ-ZAGS"]["violations"] == 10
    assert rows["MJ-ZAGS"]["violations_self"] is None  # 2
    assert rows["MJ-ZAGS"]["complaints"] is None  # 4
    assert rows["MLSP"]["complaints"] is None  # 1
    assert rows["MJ"]["violations"] == 0
    assert control["total"]["violations"] == 10
    assert Violation.objects.filter(country=built.country).count() == 11  # + 1 in Q2
    assert Complaint.objects.filter(country=built.country).count() == 5


def test_refresh_without_assessment_uses_the_current_quarter(built: history.History) -> None:
    index = services.refresh(built.country, now=datetime(2026, 8, 1, tzinfo=UTC))
    assert index["period"] == "2026-Q3"
    ranking = selectors.block(built.country, "2026-Q3", "ranking:agency")
    assert ranking == {"run": None, "indicators": [], "rows": [], "min_cases": None}
    assert selectors.block(built.country, "2026-Q3", "methodology")["version"] is None


def test_a_second_refresh_replaces_the_snapshots(refreshed: history.History) -> None:
    before = PublicSnapshot.objects.filter(country=refreshed.country).count()
    services.refresh(refreshed.country, now=NOW + timedelta(hours=1))
    assert PublicSnapshot.objects.filter(country=refreshed.country).count() == before
    assert selectors.index(refreshed.country)["taken_at"] == (NOW + timedelta(hours=1)
                                                              ).isoformat()


def _audit(action: str) -> None:
    audit_services.record(actor_username="", actor_role="", action=action,
                          subject_type="test", subject_id="1", data={})


def test_the_audit_head_is_recorded_once_a_day(built: history.History) -> None:
    _audit("test.one")
    services.refresh(built.country, now=NOW)
    first = PublishedHead.objects.get()
    assert first.day.isoformat() == "2026-10-15"
    assert first.sequence >= 1
    _audit("test.two")
    services.refresh(built.country, now=NOW + timedelta(hours=3))  # the same day
    assert PublishedHead.objects.get() == first
    assert PublishedHead.objects.get().sequence == first.sequence
    services.refresh(built.country, now=NOW + timedelta(days=1))
    heads = selectors.heads()
    assert [h.day.isoformat() for h in heads] == ["2026-10-16", "2026-10-15"]
    assert heads[0].sequence == first.sequence + 1


def test_published_head_verifies_the_chain(built: history.History) -> None:
    _audit("test.one")
    services.refresh(built.country, now=NOW)
    head = PublishedHead.objects.get()
    call_command("audit", "verify", "--against", f"{head.sequence}:{head.hash}")


def test_refresh_command(built: history.History, capsys) -> None:
    assess_all(built.country)
    call_command("public", "refresh", "--country", "zz")
    out = capsys.readouterr().out
    assert "zz 2026-Q3: snapshots taken" in out
    assert "3 agencies, 2 services, 1 centres" in out
    with pytest.raises(CommandError, match="no country 'qq' is loaded"):
        call_command("public", "refresh", "--country", "qq")
    with pytest.raises(CommandError, match="period '2026-Q9'"):
        call_command("public", "refresh", "--country", "zz", "--period", "2026-Q9")
