"""The rankings API on the hand-built history (tests/quality/history.py), assessed through
the service: ranking order, shared ranks, unranked units last, a unit's trend over two
quarters, the drill-down to the applications behind a numerator, and who may see what."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from onestop.accounts.models import User
from onestop.catalogue.models import Country, Service
from onestop.quality import services
from onestop.quality.models import AssessmentRun, Methodology
from tests.quality import history

MINI_METHODOLOGY = Path(__file__).parent.parent / "catalogue" / "data" / "mini" / "methodology.yaml"
URL = "/api/v1/quality/rankings"


def methodology(country: Country, version: str, **changes: Any) -> Methodology:
    """The mini pack's example methodology under another version, with some keys changed."""
    definition = copy.deepcopy(yaml.safe_load(MINI_METHODOLOGY.read_text()))
    definition.update(version=version, **changes)
    return services.load_methodology(country=country, definition=definition)


def assess(country: Country, m: Methodology, period: str = "2026-Q3",
           scope: str = "agency") -> AssessmentRun:
    return services.run_assessment(country=country, period=period, scope=scope,
                                   methodology=m, as_of=history.as_of(),
                                   now=datetime(2026, 10, 15, 1, tzinfo=UTC))


@pytest.fixture
def built(mini_country: Country, make_user: Callable[..., User]) -> history.History:
    op1 = make_user("operator", country_code="zz", centre_code="AST-01")
    op2 = make_user("operator", country_code="zz", centre_code="AST-01")
    return history.build(mini_country, op1, op2)


def add_mlsp_cases(built: history.History) -> None:
    """Five more MLSP applications, one late: MLSP's timeliness becomes 9/10, as ZAGS's."""
    service = Service.objects.get(country=built.country, code="02020001")
    for day in range(5, 10):
        late = day == 9
        history.application(built.country, service, channel="api",
                            submitted=history.jul(day, 5), deadline=history.jul(day, 5, 10),
                            completed=history.jul(day, 5, 20 if late else 5),
                            outcome="issued")


def get(client: Client, url: str, **params: Any) -> Any:
    return client.get(url, params)


@pytest.fixture
def controller(make_user: Callable[..., User], api_client: Callable[..., Client]) -> Client:
    return api_client(make_user("controller"))


def test_ranked_units_come_first_by_rank_and_unranked_after_them(built, controller):
    # min_cases 6: ZAGS (10 finished) is ranked, MLSP (5) is not, though its score is higher
    assess(built.country, methodology(built.country, "t-6", min_cases=6))
    response = get(controller, URL, country="zz", period="2026-Q3", scope="agency")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["methodology"]["version"] == "t-6"
    assert body["methodology"]["example"] is True
    assert "EXAMPLE" in body["methodology"]["label"]
    assert body["period"] == "2026-Q3"
    assert body["as_of"].startswith("2026-10-15T00:00:00")
    rows = body["rows"]
    assert [(r["unit"]["code"], r["rank"], r["ranked"], r["score"]) for r in rows] == [
        ("MJ-ZAGS", 1, True, 45.0), ("MLSP", None, False, 91.67)]
    assert rows[0]["n"] == 10
    assert rows[0]["values"]["timeliness"] == {"value": pytest.approx(0.9), "n": 10}
    assert rows[0]["band"] == "does_not_comply"


def test_ranked_units_are_ordered_by_score(built, controller):
    assess(built.country, methodology(built.country, "t-5", min_cases=5))
    rows = get(controller, URL, country="zz", period="2026-Q3").json()["rows"]
    assert [(r["unit"]["code"], r["rank"]) for r in rows] == [("MLSP", 1), ("MJ-ZAGS", 2)]


def test_equal_scores_share_a_rank(built, controller):
    add_mlsp_cases(built)
    only_timeliness = [{"code": "timeliness", "weight": 1}]
    m = methodology(built.country, "t-ties", min_cases=10, indicators=only_timeliness,
                    penalties={"points_per_violation_per_1000": 0, "cap": 0})
    assess(built.country, m)
    rows = get(controller, URL, country="zz", period="2026-Q3").json()["rows"]
    assert [(r["unit"]["code"], r["rank"], r["score"]) for r in rows] == [
        ("MJ-ZAGS", 1, 90.0), ("MLSP", 1, 90.0)]  # a tie: one rank, listed by unit id


def test_the_latest_run_of_the_period_is_read(built, controller):
    assess(built.country, methodology(built.country, "t-6", min_cases=6))
    assess(built.country, methodology(built.country, "t-5", min_cases=5))
    body = get(controller, URL, country="zz", period="2026-Q3").json()
    assert body["methodology"]["version"] == "t-5"


def test_trend_across_two_quarters(built, controller):
    m = methodology(built.country, "t-1", min_cases=1)
    assess(built.country, m, period="2026-Q2")
    run = assess(built.country, m, period="2026-Q3")
    response = get(controller, f"{URL}/MJ-ZAGS", country="zz", period="2026-Q3")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["run"] == run.pk
    assert body["result"]["score"] == 45.0
    assert body["counts"]["late"] == 1
    trend = body["trend"]
    assert [t["period"] for t in trend] == ["2026-Q2", "2026-Q3"]
    # Q2: z11 alone, issued on time (a Q2 violation on it costs the capped 10 points)
    assert trend[0]["n"] == 1
    assert trend[0]["score"] is not None
    assert trend[1]["score"] == 45.0
    # asking for Q2 shows no later quarter
    earlier = get(controller, f"{URL}/MJ-ZAGS", country="zz", period="2026-Q2").json()
    assert [t["period"] for t in earlier["trend"]] == ["2026-Q2"]


def test_drill_down_lists_exactly_the_late_applications(built, controller):
    assess(built.country, methodology(built.country, "t-1", min_cases=1))
    url = f"{URL}/MJ-ZAGS/indicators/timeliness/cases"
    late = get(controller, url, country="zz", period="2026-Q3", flagged="true").json()
    assert late["records"] == "applications"
    assert late["numerator"] == "late"
    assert late["in_numerator"] == 1
    assert [c["ref"] for c in late["items"]] == [built.apps["z9"].number]
    assert late["items"][0]["in_numerator"] is True
    every = get(controller, url, country="zz", period="2026-Q3").json()
    expected = {built.apps[f"z{i}"].number for i in range(1, 11)}
    assert every["count"] == 10
    assert {c["ref"] for c in every["items"]} == expected
    assert sum(1 for c in every["items"] if c["in_numerator"]) == 1
    # paginated
    page = get(controller, url, country="zz", period="2026-Q3", limit=4, offset=8).json()
    assert page["count"] == 10
    assert len(page["items"]) == 2
    # no personal data
    assert "900101300011" not in str(every)


def test_drill_down_of_refusals_and_complaints(built, controller):
    assess(built.country, methodology(built.country, "t-1", min_cases=1))
    base = f"{URL}/MJ-ZAGS/indicators"
    refusals = get(controller, f"{base}/lawful_refusals/cases", country="zz",
                   period="2026-Q3").json()
    assert [(c["ref"], c["in_numerator"]) for c in refusals["items"]] == [
        (built.apps["z10"].number, True)]
    complaints = get(controller, f"{base}/complaint_handling/cases", country="zz",
                     period="2026-Q3").json()
    assert complaints["count"] == 4  # c1..c4
    assert complaints["in_numerator"] == 2  # c1 and c3 answered in time
    violations = get(controller, f"{base}/internal_control/cases", country="zz",
                     period="2026-Q3", flagged="true").json()
    assert violations["count"] == 2  # found by the body itself


def test_operator_drill_down_names_no_one(built, make_user, api_client):
    assess(built.country, methodology(built.country, "t-1", min_cases=1), scope="operator")
    analyst = api_client(make_user("analyst"))
    body = get(analyst, URL, country="zz", period="2026-Q3", scope="operator").json()
    names = {r["unit"]["name"] for r in body["rows"]}
    assert f"operator #{built.op1.pk}" in names
    assert built.op1.username not in str(body)
    tickets = get(analyst, f"{URL}/{built.op1.pk}/indicators/queue_wait/cases", country="zz",
                  period="2026-Q3", scope="operator").json()
    assert tickets["count"] == 2
    assert tickets["in_numerator"] == 1  # 10 minutes in time, 40 over


def test_permissions(built, make_user, api_client):
    m = methodology(built.country, "t-1", min_cases=1)
    assess(built.country, m)
    assess(built.country, m, scope="operator")
    zags_supervisor = api_client(make_user("supervisor", agency_code="MJ-ZAGS",
                                           country_code="zz"))
    mj_officer = api_client(make_user("officer", agency_code="MJ", country_code="zz"))
    centre_manager = api_client(make_user("supervisor", centre_code="AST-01",
                                          country_code="zz"))
    admin = api_client(make_user("admin"))
    q = {"country": "zz", "period": "2026-Q3"}
    cases = "indicators/timeliness/cases"
    # the agency ranking: every reader
    for client in (zags_supervisor, mj_officer, centre_manager, admin):
        assert get(client, URL, **q).status_code == 200
    # operator-level results: controllers and analysts only
    for client in (zags_supervisor, centre_manager, admin):
        response = get(client, URL, scope="operator", **q)
        assert response.status_code == 403
        assert "controllers and analysts" in response.json()["detail"]
    # drill-down into one's own agency (and its parent's sub-units) only
    assert get(zags_supervisor, f"{URL}/MJ-ZAGS/{cases}", **q).status_code == 200
    assert get(mj_officer, f"{URL}/MJ-ZAGS/{cases}", **q).status_code == 200
    assert get(zags_supervisor, f"{URL}/MLSP/{cases}", **q).status_code == 403
    assert get(zags_supervisor, f"{URL}/MLSP", **q).status_code == 403
    assert get(centre_manager, f"{URL}/MJ-ZAGS", **q).status_code == 403
    assert get(admin, f"{URL}/MLSP/{cases}", **q).status_code == 200
    # citizens, operators and anonymous callers
    citizen = api_client(make_user("citizen"))
    assert get(citizen, URL, **q).status_code == 403
    assert get(api_client(built.op1), URL, **q).status_code == 403
    assert get(api_client(None), URL, **q).status_code == 401


def test_no_run_bad_period_and_unknown_things(built, controller):
    response = get(controller, URL, country="zz", period="2026-Q1")
    assert response.status_code == 404
    assert response.json()["detail"] == "no assessment for zz 2026-Q1 by agency: run onestop assess"
    for bad in ("2026-Q5", "Q3", "2026-13", "26-Q1"):
        response = get(controller, URL, country="zz", period=bad)
        assert response.status_code == 422, bad
        assert "period" in response.json()["detail"]
    assert get(controller, URL, country="zz", period="2026-Q3", scope="city").status_code == 422
    assess(built.country, methodology(built.country, "t-1", min_cases=1))
    q = {"country": "zz", "period": "2026-Q3"}
    assert get(controller, f"{URL}/NOPE", **q).status_code == 404
    assert get(controller, f"{URL}/MLSP/indicators/speed/cases", **q).status_code == 404
    response = get(controller, f"{URL}/MLSP/indicators/satisfaction/cases", flagged="true", **q)
    assert response.status_code == 422
    assert get(controller, URL, country="qq", period="2026-Q3").status_code == 404
