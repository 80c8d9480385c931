"""The red flags' configuration and scoring without a database, and three flags' Ibis
expressions on DuckDB over hand-built tables whose answers are worked out below."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import ibis
import pandas as pd
import pytest
import yaml

from onestop.integrity import flags_config, redflags
from onestop.integrity.flags_config import FLAG_CODES, FlagsConfigError, binomial_z, parse
from onestop.integrity.redflags_sources import FLAG_COLUMNS, FlagTables

PACKS = Path(__file__).resolve().parents[2] / "src" / "onestop" / "packs"


def test_defaults_and_the_shipped_packs_parse() -> None:
    default = parse(None)
    assert default.version == "default"
    assert set(default.rules) == set(FLAG_CODES)
    assert len(FLAG_CODES) == 12
    for code in ("kz", "uz"):
        config = parse(yaml.safe_load((PACKS / code / "integrity.yaml").read_text()))
        assert config.version == "2026.1"
        assert config.rule("refuse_then_approve").weight == 1.5
        assert config.rule("refusal_rate").z_threshold == 4.0
        assert config.rule("off_hours").z_threshold == 3.0
        assert config.param("burst_ratings") == 5


@pytest.mark.parametrize(("document", "message"), [
    ({"colour": 1}, "unknown keys: colour"),
    ({"flags": {"bribery": {}}}, "unknown flag codes bribery"),
    ({"params": {"rethink_days": "soon"}}, "params.rethink_days: 'soon' is not a number"),
    ({"params": {"work_start_hour": 20, "work_end_hour": 8}}, "work_start_hour"),
    ({"z_threshold": 0.1}, "below 0.5"),
    ({"flags": {"off_hours": {"weigth": 2}}}, "unknown keys weigth"),
])
def test_bad_configuration_is_refused_with_the_place(document: dict, message: str) -> None:
    with pytest.raises(FlagsConfigError, match=message):
        parse(document)


def test_binomial_z_worked_out() -> None:
    # 20 of 40 against peers at 40.5/(499+1)=0.081: (20 - 3.24) / sqrt(40*.081*.919)
    p = 40.5 / 500
    assert binomial_z(20, 40, 40, 499) == pytest.approx((20 - 40 * p) / math.sqrt(40 * p * (1 - p)))
    assert binomial_z(0, 0, 5, 10) == 0.0
    # peers with no case at all still give a finite z (p = 0.5 / 101)
    assert math.isfinite(binomial_z(3, 10, 0, 100))


def test_score_rate_flag_against_peers_of_the_same_service() -> None:
    config = parse({"min_n": 10, "params": {"min_hits": 3}})
    spec = redflags.SPECS["refusal_rate"]
    counts = pd.DataFrame({
        "subject": [1, 2, 3, 4, 5],
        "service": [7, 7, 7, 8, 8],
        "n": [40, 200, 300, 40, 5],
        "k": [20, 16, 24, 4, 4],
    })
    raised = score_of(spec, counts, config)
    # subject 1: 20/40 against 40/500 on service 7; subject 5 has too few cases (5 < 10)
    assert list(raised["subject"]) == [1]
    row = raised.iloc[0]
    assert row["peers"] == 2
    assert row["value"] == 0.5
    assert row["z"] == pytest.approx(binomial_z(20, 40, 40, 500))
    assert row["score"] == round(min(row["z"], 10.0) * 1.0, 4)


def score_of(spec: redflags.Spec, counts: pd.DataFrame, config: flags_config.FlagsConfig
             ) -> pd.DataFrame:
    return redflags.score(spec, counts, config)


def test_score_count_flag_is_robust_to_a_second_extreme_subject() -> None:
    config = parse({"params": {"hoard_min": 5}})
    spec = redflags.SPECS["slot_hoarding"]
    counts = pd.DataFrame({"subject": [1, 2, 3, 4, 5, 6], "service": [9] * 6,
                           "n": [12, 12, 1, 1, 2, 4], "k": [12, 12, 1, 1, 2, 4]})
    raised = score_of(spec, counts, config)
    # median 3, MAD median(|k-3|) = median(9,9,2,2,1,1) = 2 -> scale 2.9652
    assert sorted(raised["subject"]) == [1, 2]
    assert raised.iloc[0]["z"] == pytest.approx((12 - 3) / (1.4826 * 2))


# --------------------------------------------------------------------------- DuckDB


T0 = dt.datetime(2026, 7, 13, 4, 0)  # Monday 13 July 2026, 09:00 at UTC+5


def _tables(**rows: list[dict]) -> FlagTables:
    """In-memory DuckDB tables with the columns of FLAG_COLUMNS; only `rows` filled."""
    con = ibis.duckdb.connect()
    kinds = {"at": "timestamp", "submitted_at": "timestamp", "completed_at": "timestamp",
             "deadline_at": "timestamp", "place_at": "timestamp", "called_at": "timestamp",
             "finished_at": "timestamp", "slot_start": "timestamp", "booked_at": "timestamp",
             "created_at": "timestamp", "registered_at": "timestamp", "decided_at": "timestamp",
             "day": "date"}
    strings = {"action", "actor_role", "clock", "data", "applicant_national_id", "channel",
               "outcome", "state", "device", "decision", "role", "documents"}
    tables = {}
    for name, (_, columns) in FLAG_COLUMNS.items():
        short = name.removeprefix("flag_")
        schema = {c: kinds.get(c, "string" if c in strings else "int64") for c in columns}
        frame = pd.DataFrame(rows.get(short, []), columns=list(columns))
        tables[short] = con.create_table(name, ibis.memtable(frame, schema=ibis.schema(schema)))
    return FlagTables(**tables, source="test")


def _window() -> redflags.Window:
    return redflags.Window(country_id=1, start=dt.datetime(2026, 7, 1),
                           end=dt.datetime(2026, 8, 1), utc_offset_hours=5)


def _ticket(pk: int, minute_placed: int, minute_called: int | None, operator: int) -> dict:
    return {"id": pk, "centre_id": 1, "group_id": 2, "day": dt.date(2026, 7, 13),
            "priority_rank": 0, "place_at": T0 + dt.timedelta(minutes=minute_placed),
            "called_at": None if minute_called is None else
            T0 + dt.timedelta(minutes=minute_called),
            "operator_id": operator, "state": "served", "service_seconds": 300,
            "finished_at": None}


def test_out_of_order_marks_tickets_called_while_older_ones_waited() -> None:
    tables = _tables(
        centres=[{"id": 1, "country_id": 1, "region_id": 1}],
        tickets=[
            _ticket(1, 0, 5, 10),    # in order
            _ticket(2, 1, 30, 11),   # older, called late: in order itself
            _ticket(3, 2, 10, 10),   # called at 10 while 2 (placed at 1) waited to 30
            _ticket(4, 3, 12, 10),   # the same
            _ticket(5, 4, 35, 11),   # after 2: in order
            _ticket(6, 5, None, 11),  # never called: no case
        ],
    )
    cases = redflags.out_of_order(tables, _window(), parse({})).execute()
    hits = dict(zip(cases["rid"], cases["hit"], strict=True))
    assert hits == {1: 0, 2: 0, 3: 1, 4: 1, 5: 0}
    assert set(cases.loc[cases["hit"] == 1, "operator"]) == {10}


def _decision(pk: int, app: int, at: dt.datetime, action: str = "approve") -> dict:
    return {"id": pk, "application_id": app, "at": at, "action": action, "actor_id": 7,
            "actor_role": "officer", "clock": "", "data": "{}"}


def _application(pk: int, nid: str, submitted: dt.datetime, outcome: str,
                 completed: dt.datetime | None) -> dict:
    return {"id": pk, "country_id": 1, "service_id": 3, "standard_id": 1, "agency_id": 4,
            "region_id": 1, "centre_id": None, "applicant_id": None,
            "applicant_national_id": nid, "submitted_by_id": None, "channel": "portal",
            "submitted_at": submitted, "completed_at": completed,
            "deadline_at": submitted + dt.timedelta(days=10), "outcome": outcome}


def test_off_hours_uses_the_local_clock_and_weekends() -> None:
    # 13 July 2026 is a Monday; local = UTC + 5; working hours 08-20 local
    moments = {
        1: dt.datetime(2026, 7, 13, 4, 0),    # 09:00 local Monday: inside
        2: dt.datetime(2026, 7, 13, 15, 30),  # 20:30 local: outside
        3: dt.datetime(2026, 7, 13, 2, 59),   # 07:59 local: outside
        4: dt.datetime(2026, 7, 18, 6, 0),    # Saturday 11:00 local: outside
        5: dt.datetime(2026, 7, 17, 14, 59),  # Friday 19:59 local: inside
    }
    tables = _tables(
        applications=[_application(pk, str(pk), T0, "issued", T0) for pk in moments],
        events=[_decision(pk, pk, at) for pk, at in moments.items()],
    )
    cases = redflags.off_hours(tables, _window(), parse({})).execute()
    hits = dict(zip(cases["rid"], cases["hit"], strict=True))
    assert hits == {1: 0, 2: 1, 3: 1, 4: 1, 5: 0}


def test_refuse_then_approve_pairs_the_same_applicant_and_service_within_the_days() -> None:
    d = dt.timedelta(days=1)
    tables = _tables(
        applications=[
            _application(1, "A", T0, "refused", T0 + d),          # refused on day 1
            _application(2, "A", T0 + 3 * d, "issued", T0 + 4 * d),  # again 2 days later
            _application(3, "B", T0, "refused", T0 + d),
            _application(4, "B", T0 + 40 * d, "issued", T0 + 41 * d),  # 39 days: too late
            _application(5, "C", T0, "issued", T0 + d),            # never refused
        ],
        events=[_decision(10, 1, T0 + d, "refuse"), _decision(11, 2, T0 + 4 * d),
                _decision(12, 3, T0 + d, "refuse"), _decision(13, 4, T0 + 41 * d),
                _decision(14, 5, T0 + d)],
    )
    window = redflags.Window(1, dt.datetime(2026, 7, 1), dt.datetime(2026, 10, 1), 5)
    cases = redflags.refuse_then_approve(tables, window, parse({})).execute()
    rows = {int(r.rid): (int(r.hit), None if pd.isna(r.rid2) else int(r.rid2))
            for r in cases.itertuples()}
    assert rows == {2: (1, 1), 4: (0, None), 5: (0, None)}


def test_dispersion_widens_the_errors_of_a_service_whose_subjects_differ() -> None:
    frame = pd.DataFrame({"service": [1] * 6 + [2] * 3, "n": [100] * 9,
                          "k": [10, 10, 10, 10, 10, 40, 5, 50, 90]})
    phi = redflags._dispersion(frame, min_n=10)
    # service 1: p = 90/600 = 0.15; residuals (10-15)^2/12.75 = 1.9608 (five) and 49.0;
    # median 1.9608 / 0.4549. Service 2 has fewer than 5 subjects: it takes the median
    # over all nine, p = 145/300 there: residuals 75.1, 0.11, 69.6 -> median still 1.9608
    assert phi.iloc[0] == pytest.approx((25 / 12.75) / 0.4549)
    assert list(phi.iloc[6:]) == pytest.approx([(25 / 12.75) / 0.4549] * 3)
    # a lone service of three takes no dispersion at all
    assert list(redflags._dispersion(frame.iloc[6:], min_n=10)) == [1.0, 1.0, 1.0]
