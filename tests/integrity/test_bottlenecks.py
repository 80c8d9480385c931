"""The bottleneck analysis of the hand-built history (tests/integrity/history.py): it
finds the slow stage and the rework loop with the dwell times worked out by hand, the
same on the live database and on DuckDB over an exported lake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from onestop.catalogue.models import Country
from onestop.integrity import bottleneck_services as services
from onestop.integrity.bottleneck_sources import export_flow_lake
from onestop.integrity.bottlenecks import WorkingClock, percentile
from tests.integrity import history

pytestmark = pytest.mark.django_db

PLAIN = ["submitted", "in_review", "approved", "issued"]
LOOP = ["submitted", "in_review", "awaiting_applicant", "in_review", "awaiting_applicant",
        "in_review", "approved", "issued"]


@pytest.fixture
def flow(mini_country: Country) -> history.Flow:
    return history.build(mini_country)


def _birth(flow: history.Flow, lake: Path | None = None) -> services.ServiceAnalysis:
    return services.analyse_service(country=flow.country, service=flow.birth,
                                    period="2026-07", as_of=history.as_of(), lake=lake)


def test_slow_stage_found_with_its_dwell_times(flow: history.Flow) -> None:
    a = _birth(flow).analysis
    assert a.applications == 5  # o1 was submitted in June
    assert a.finished == 5
    assert a.slowest_stage == "approved"
    approved = a.stage("approved")
    assert approved is not None
    # 72 h x 3 (p1-p3) and 1 h x 2 (r1, r2): nearest-rank median and p90 are 72 h
    assert (approved.visits, approved.applications) == (5, 5)
    assert approved.median_hours == 72.0
    assert approved.p90_hours == 72.0
    # 27 working hours = 3 working days of 9 hours
    assert approved.median_working_days == pytest.approx(3.0)
    assert approved.p90_working_days == pytest.approx(3.0)
    assert approved.citizen_days == pytest.approx((3 * 72 + 2 * 1) / 24)
    assert approved.exits == {"issue": 5}
    review = a.stage("in_review")
    assert review is not None
    # hours 22 x 3, and 2, 2, 1 for each of r1, r2: sorted 1,1,2,2,2,2,22,22,22
    assert review.visits == 9
    assert review.median_hours == 2.0
    assert review.p90_hours == 22.0
    assert review.p90_working_days == pytest.approx(7 / 9)
    submitted = a.stage("submitted")
    assert submitted is not None
    assert submitted.median_hours == 2.0
    assert submitted.median_working_days == pytest.approx(2 / 9)
    assert a.stage("issued") is None  # a terminal state has no dwell


def test_rework_loop_found(flow: history.Flow) -> None:
    a = _birth(flow).analysis
    assert a.loop_applications == 2
    assert a.re_entries == {"in_review": 4, "awaiting_applicant": 2}
    waiting = a.stage("awaiting_applicant")
    assert waiting is not None
    assert waiting.visits == 4
    assert waiting.clock_stopped
    assert waiting.median_hours == 24.0
    assert waiting.median_working_days == pytest.approx(1.0)  # 4 + 5 and 2 + 7 hours
    assert waiting.deadline_share is None  # the clock stands still
    [doc] = a.documents
    assert doc.as_dict() == {
        "code": "id_card", "source": "state_database", "requests": 4, "applications": 2,
        "repeated_applications": 2, "citizen_days": 4.0, "repeat_citizen_days": 2.0}


def test_variants_and_deadline_use(flow: history.Flow) -> None:
    a = _birth(flow).analysis
    assert [(list(v.path), v.applications, v.share) for v in a.variants] == [
        (PLAIN, 3, 0.6), (LOOP, 2, 0.4)]
    # deadline: 1 working day = 9 working hours; mean over the 5 applications
    shares = {s.stage: s.deadline_share for s in a.stages}
    assert shares["submitted"] == pytest.approx(5 * 2 / 9 / 5)
    assert shares["in_review"] == pytest.approx((3 * 7 + 2 * 5) / 9 / 5)
    assert shares["approved"] == pytest.approx((3 * 27 + 2 * 1) / 9 / 5)
    assert a.most_deadline_stage == "approved"
    assert a.centres == {flow.apps["p1"].centre_id: 1}


def test_interagency_wait(flow: history.Flow) -> None:
    result = services.analyse_service(country=flow.country, service=flow.check,
                                      period="2026-Q3", as_of=history.as_of())
    a = result.analysis
    [wait] = a.waits
    assert wait.as_dict() == {
        "agency": "MJ-ZAGS", "requests": 1, "answered": 1, "open": 0,
        "median_hours": 72.0, "p90_hours": 72.0, "median_working_days": 3.0,
        "p90_working_days": 3.0, "citizen_days": 3.0, "over_limit": 1}
    stage = a.stage("awaiting_agency")
    assert stage is not None
    assert stage.over_limit == 1
    assert stage.limit == "2 working_days"
    assert a.slowest_stage == "awaiting_agency"


def test_open_visit_counts_to_as_of(flow: history.Flow) -> None:
    """Events after as_of are not known yet: the application is still in `approved`."""
    result = services.analyse_service(country=flow.country, service=flow.birth,
                                      period="2026-07", as_of=datetime(2026, 7, 16, 5,
                                                                       tzinfo=UTC))
    approved = result.analysis.stage("approved")
    assert approved is not None
    assert approved.open_visits == 3
    assert approved.median_hours == 1.0  # only r1, r2 left it
    assert approved.citizen_days == pytest.approx((3 * 48 + 2 * 1) / 24)
    assert result.analysis.finished == 2


def test_lake_gives_the_same_results(flow: history.Flow, tmp_path: Path) -> None:
    written = export_flow_lake(tmp_path)
    assert written["flow_applications"] == 7
    live = _birth(flow).as_dict()
    lake = _birth(flow, lake=tmp_path).as_dict()
    assert live.pop("source") == "live"
    assert lake.pop("source") == "lake"
    assert lake == live


def test_missing_lake_is_a_clear_error(flow: history.Flow, tmp_path: Path) -> None:
    with pytest.raises(services.BottleneckError, match="no event log"):
        _birth(flow, lake=tmp_path)


def test_working_clock_matches_the_calendar(mini_country: Country) -> None:
    calendar = mini_country.working_calendar()
    clock = WorkingClock(calendar)
    pairs = [(history.t(3, 2), history.t(9, 11)), (history.t(13, 9), history.t(14, 9)),
             (history.t(17, 12), history.t(20, 3)), (history.t(5, 1), history.t(5, 2))]
    for a, b in pairs:
        assert clock.seconds(a, b) == calendar.working_time_between(a, b).total_seconds()


def test_percentile_is_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([], 0.5) is None


def test_bad_period(flow: history.Flow) -> None:
    with pytest.raises(services.BottleneckError, match="period"):
        services.analyse_service(country=flow.country, service=flow.birth, period="2026-13")
