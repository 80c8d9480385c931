"""Every measure on the hand-built history (tests/quality/history.py), with the values
worked out by hand, from the live database (SQLite, or PostgreSQL when
ONESTOP_DATABASE_URL points to it) and from DuckDB over the Parquet files exported from
the same rows: all must agree exactly."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.quality import services, sources
from onestop.quality.methodology import UnitScore
from onestop.quality.models import Methodology
from tests.quality import history

MINI_PACK = Path(__file__).parent.parent / "catalogue" / "data" / "mini"


@pytest.fixture
def built(mini_country: Country, make_user: Callable[..., User]) -> history.History:
    op1 = make_user("operator", country_code="zz", centre_code="AST-01")
    op2 = make_user("operator", country_code="zz", centre_code="AST-01")
    return history.build(mini_country, op1, op2)


@pytest.fixture
def methodology(mini_country: Country) -> Methodology:
    return services.load_methodology(
        country=mini_country, definition=services.read_methodology(MINI_PACK)
    )


def _both(built: history.History, methodology: Methodology, scope: str, tmp_path: Path
          ) -> dict[str, tuple[list[UnitScore], dict[str, dict[str, float]]]]:
    starts_at, ends_at = services.period_bounds("2026-Q3", history.ALMATY)
    kwargs = {"country": built.country, "methodology": methodology, "scope": scope,
              "starts_at": starts_at, "ends_at": ends_at, "as_of": history.as_of()}
    live = services.compute(**kwargs)  # type: ignore[arg-type]
    sources.export_lake(tmp_path / "lake", on=history.day("2026-09-30"))
    lake = services.compute(**kwargs, lake=tmp_path / "lake")  # type: ignore[arg-type]
    return {connection.vendor: live, "duckdb": lake}


def _by_unit(scores: list[UnitScore]) -> dict[str, UnitScore]:
    return {s.unit: s for s in scores}


def test_agency_indicators_by_hand_on_every_backend(built, methodology, tmp_path):
    results = _both(built, methodology, "agency", tmp_path)
    assert set(results) == {connection.vendor, "duckdb"}
    zags, mlsp = str(built.zags.pk), str(built.mlsp.pk)
    for backend, (scores, counts) in results.items():
        z = counts[zags]
        # submitted in Q3: z1..z10, z12, z13 = 12; digital (portal): z1..z8, z12 = 9;
        # finished by the end of Q3: z1..z10 = 10; channels: portal 9, centre 3
        assert history.counts_subset(z, ["submitted", "digital", "completed",
                                         "channel_portal", "channel_centre"]) == {
            "submitted": 12, "digital": 9, "completed": 10,
            "channel_portal": 9, "channel_centre": 3}, backend
        # finished in Q3: z1..z10; late: z9 only (z10 finished before its moved deadline;
        # z11 is in Q2, z12 withdrawn, z13 open); refused: z10, overturned by c1
        assert history.counts_subset(z, ["finished", "late", "refusals", "overturned"]) == {
            "finished": 10, "late": 1, "refusals": 1, "overturned": 1}, backend
        # ratings in Q3: z1 (5,4) z2 (3,5) z9 (4,2) z10 (1,1); legality >= 4: 5, 4 -> 2;
        # timeliness >= 4: 4, 5 -> 2; sums 13 and 12
        assert history.counts_subset(z, [
            "ratings", "rated_legality", "satisfied_legality", "score_sum_legality",
            "rated_timeliness", "satisfied_timeliness", "score_sum_timeliness"]) == {
            "ratings": 4, "rated_legality": 4, "satisfied_legality": 2,
            "score_sum_legality": 13, "rated_timeliness": 4, "satisfied_timeliness": 2,
            "score_sum_timeliness": 12}, backend
        # complaints c1..c4: decided c1, c2, c3; in time c1 and c3 (extended); upheld c1
        assert history.counts_subset(z, ["complaints", "decided", "answered_in_time",
                                         "upheld"]) == {
            "complaints": 4, "decided": 3, "answered_in_time": 2, "upheld": 1}, backend
        # violations in Q3: 3, two found by the agency itself
        assert history.counts_subset(z, ["violations", "violations_self",
                                         "penalised_violations"]) == {
            "violations": 3, "violations_self": 2, "penalised_violations": 3}, backend

        by_unit = _by_unit(scores)
        values = {code: v.value for code, v in by_unit[zags].values.items()}
        assert values["timeliness"] == pytest.approx(0.9)  # 1 - 1/10
        assert values["satisfaction"] == pytest.approx(0.5)  # mean of 2/4 and 2/4
        assert by_unit[zags].values["satisfaction"].detail["mean"] == pytest.approx(25 / 8)
        assert values["lawful_refusals"] == pytest.approx(0.0)  # 1 - 1/1
        assert values["complaint_handling"] == pytest.approx(1 / 3)  # 2/4 x (1 - 1/3)
        assert values["digital_take_up"] == pytest.approx(0.75)  # 9/12
        assert values["internal_control"] == pytest.approx(2 / 3)
        assert values["completion_rate"] == pytest.approx(10 / 12)
        # (9 x 0.1 + 3 x 2.5) / 12
        assert values["cost_per_transaction"] == pytest.approx(0.7)
        # 30 x 0.5 + 25 x 0.9 + 15 x 0 + 10 x 1/3 + 10 x 0.75 + 10 x 2/3 = 55;
        # penalty 0.5 x 3 violations x 1000 / 12 applications = 125, capped at 10
        assert by_unit[zags].penalty == 10
        assert by_unit[zags].score == 45.0
        assert by_unit[zags].band == "does_not_comply"
        assert by_unit[zags].n == 10
        assert not by_unit[zags].ranked  # 10 finished < min_cases 30

        m = _by_unit(scores)[mlsp]
        mv = {code: v.value for code, v in m.values.items()}
        # m1..m5 all in time; m5 refused, its complaint rejected; all by API
        assert mv["timeliness"] == 1.0
        assert mv["lawful_refusals"] == 1.0
        assert mv["digital_take_up"] == 1.0
        assert mv["satisfaction"] == pytest.approx(0.75)  # legality 2/2, timeliness 1/2
        assert mv["complaint_handling"] == 1.0
        assert mv["internal_control"] is None  # no violations: no value, weight rescaled
        # (30 x 0.75 + 25 + 15 + 10 + 10) / 90 x 100 = 91.666...
        assert m.score == 91.67
        assert m.band == "complies"
    # the backends agree exactly, not just within a tolerance
    (_, live_counts), (_, lake_counts) = results.values()
    assert live_counts == lake_counts


def test_centre_and_operator_scopes(built, methodology, tmp_path):
    centre = str(built.centre.pk)
    for backend, (_, counts) in _both(built, methodology, "centre", tmp_path).items():
        # tickets served in Q3 at AST-01: 10 min (A: within), 40 min (A: over),
        # 5 min (B: within); the no-show and the June ticket do not count
        assert history.counts_subset(counts[centre], ["served", "served_in_time"]) == {
            "served": 3, "served_in_time": 2}, backend
        # applications taken at the centre: z9, z10, z13
        assert counts[centre]["submitted"] == 3, backend
        assert counts[centre]["finished"] == 2, backend
    for backend, (scores, counts) in _both(built, methodology, "operator",
                                           tmp_path / "again").items():
        op1, op2 = str(built.op1.pk), str(built.op2.pk)
        assert history.counts_subset(counts[op1], ["served", "served_in_time", "finished",
                                                   "late"]) == {
            "served": 2, "served_in_time": 1, "finished": 2, "late": 1}, backend
        assert history.counts_subset(counts[op2], ["served", "served_in_time"]) == {
            "served": 1, "served_in_time": 1}, backend
        assert _by_unit(scores)[op1].values["queue_wait"].value == 0.5


def test_region_and_service_scopes(built, methodology, tmp_path):
    for backend, (_, counts) in _both(built, methodology, "service", tmp_path).items():
        service = str(built.apps["z1"].service_id)
        assert counts[service]["finished"] == 10, backend
        assert counts[service]["late"] == 1, backend
    for backend, (_, counts) in _both(built, methodology, "region",
                                      tmp_path / "again").items():
        region = str(built.centre.region_id)
        # only the centre's applications carry a region: z9, z10 (finished), z13
        assert counts[region]["submitted"] == 3, backend
        assert counts[region]["served"] == 3, backend
        assert math.isclose(counts[region]["late"], 1), backend


def test_outcomes_after_as_of_do_not_count(built, methodology, tmp_path):
    starts_at, ends_at = services.period_bounds("2026-Q3", history.ALMATY)
    # as of 07-19 the complaint c1 (decided 07-20) was still open: nothing overturned
    _, counts = services.compute(
        country=built.country, methodology=methodology, scope="agency",
        starts_at=starts_at, ends_at=ends_at, as_of=history.jul(19),
    )
    z = counts[str(built.zags.pk)]
    assert z["overturned"] == 0
    assert z["decided"] == 0


def test_timeliness_through_the_application_services_honours_clock_stops(
        mini_country, make_user, methodology, tmp_path):
    """Two real applications taken through `applications.services`: the stored deadline
    the service moves at every stop and resume is what timeliness reads."""
    from datetime import timedelta

    from onestop.applications import services as applications
    from onestop.catalogue.models import Service

    birth = Service.objects.get(country=mini_country, code="01010001")
    citizen = make_user("citizen", national_id="900101300011")
    officer = make_user("officer", agency_code="MJ-ZAGS", country_code="zz")
    pdf = applications.UploadedDocument("id_card", "id.pdf", "application/pdf", b"%PDF-1.4")
    result = applications.UploadedDocument("result", "c.pdf", "application/pdf", b"%PDF c")

    def submit():
        # Mon 16 Nov 2026 10:00, 1 working day: deadline Tue 17 Nov 18:00
        return applications.submit(
            service=birth, form_data={"child_name": "Aruzhan"}, channel="portal",
            national_id="900101300011", applicant=citizen, submitted_by=citizen,
            now=datetime(2026, 11, 16, 10, tzinfo=history.ALMATY),
        ).application

    def finish(application, at):
        application = applications.act(application=application, user=officer,
                                       action="approve", result_document=result, now=at)
        return applications.act(application=application, user=officer, action="issue",
                                now=at + timedelta(minutes=5))

    # stopped: documents requested Tue 17 Nov 15:00, provided Mon 23 Nov 11:00, which
    # moves the deadline to Mon 23 Nov 14:00 (see tests/applications/test_lifecycle.py);
    # issued Mon 23 Nov 13:05: after the first deadline, before the moved one: ON TIME
    stopped = submit()
    applications.act(application=stopped, user=officer, action="accept",
                     now=datetime(2026, 11, 16, 11, tzinfo=history.ALMATY))
    stopped = applications.act(application=stopped, user=officer, action="request_documents",
                               requested_documents=["id_card"], comment="the record",
                               now=datetime(2026, 11, 17, 15, tzinfo=history.ALMATY))
    stopped = applications.act(application=stopped, user=citizen, action="provide_documents",
                               documents=[pdf],
                               now=datetime(2026, 11, 23, 11, tzinfo=history.ALMATY))
    stopped = finish(stopped, datetime(2026, 11, 23, 13, tzinfo=history.ALMATY))
    # never stopped, issued Wed 18 Nov 10:05: LATE
    plain = submit()
    applications.act(application=plain, user=officer, action="accept",
                     now=datetime(2026, 11, 16, 11, tzinfo=history.ALMATY))
    plain = finish(plain, datetime(2026, 11, 18, 10, tzinfo=history.ALMATY))
    assert stopped.outcome == plain.outcome == "issued"

    starts_at, ends_at = services.period_bounds("2026-Q4", history.ALMATY)
    kwargs = {"country": mini_country, "methodology": methodology, "scope": "agency",
              "starts_at": starts_at, "ends_at": ends_at,
              "as_of": datetime(2027, 1, 15, tzinfo=history.ALMATY)}
    sources.export_lake(tmp_path / "lake", on=history.day("2026-12-31"))
    for source in (None, tmp_path / "lake"):
        scores, counts = services.compute(**kwargs, lake=source)  # type: ignore[arg-type]
        agency = str(stopped.agency_id)
        assert (counts[agency]["finished"], counts[agency]["late"]) == (2, 1), source
        # 1 - 1/2
        assert _by_unit(scores)[agency].values["timeliness"].value == 0.5
