"""The measures as Ibis expressions: per unit counts over one period.

The same expressions run on the live database (SQLite or PostgreSQL, through Django's own
connection) and on DuckDB over the Parquet files of `onestop export lake`
(`onestop.quality.sources`). Each function takes the tables, the window and the scope and
returns one Ibis table: a `unit` column (the unit's id) and named counts. The pure module
`onestop.quality.methodology` turns the counts into indicator values and scores; the
formulas in words are in docs/methodology.md.

Times inside the expressions are naive UTC (sources normalise the columns to that).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis.expr.types import Table

from onestop.quality.methodology import Methodology


@dataclass(frozen=True)
class Tables:
    """The inputs, each with the columns `onestop.quality.sources.COLUMNS` names."""

    applications: Table
    ratings: Table
    complaints: Table
    violations: Table
    tickets: Table
    centres: Table
    # the longest wait the standard allows, per service group, and for other groups
    max_wait_seconds: Mapping[int, int] = field(default_factory=dict)
    default_max_wait_seconds: int = 30 * 60


@dataclass(frozen=True)
class Window:
    """Rows of one country in [start, end); outcomes known by `as_of` (all naive UTC)."""

    country_id: int
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime

    def __post_init__(self) -> None:
        for name in ("start", "end", "as_of"):
            if getattr(self, name).tzinfo is not None:
                raise ValueError(f"{name} must be naive UTC")
        if not self.start < self.end:
            raise ValueError("a window ends after it starts")


def _ts(moment: dt.datetime) -> ir.Value:
    return ibis.literal(moment, type="timestamp")


def _in(column: ir.Value, window: Window) -> ir.BooleanValue:
    return (column >= _ts(window.start)) & (column < _ts(window.end))


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.ifelse(condition, 1, 0)


def _centre_regions(tables: Tables) -> Table:
    c = tables.centres
    return c.select(c_id=c.id, c_region=c.region_id)


def _applications(tables: Tables, window: Window, scope: str) -> Table:
    """The country's applications with the unit columns of every scope (the centres are
    joined only for the region scope, the one that needs them)."""
    a = tables.applications
    a = a.filter(a.country_id == window.country_id)
    if scope == "region":
        regions = _centre_regions(tables)
        a = a.left_join(regions, a.centre_id == regions.c_id)
        region = ibis.coalesce(a.region_id, a.c_region)
    else:
        region = a.region_id
    return a.mutate(
        u_agency=a.agency_id,
        u_region=region,
        u_centre=a.centre_id,
        u_service=a.service_id,
        u_operator=ibis.ifelse(a.channel == "centre", a.submitted_by_id, ibis.null("int64")),
    )


def _grouped(t: Table, scope: str, **counts: ir.Value) -> Table:
    grouped = t.group_by(unit=t[f"u_{scope}"]).aggregate(**counts)
    return grouped.filter(grouped.unit.notnull())


# --------------------------------------------------------------------------- measures


def submitted(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Applications submitted in the period: all, digital, finished by the period's end,
    and per channel (digital take-up, completion rate, cost per transaction, penalties)."""
    a = _applications(tables, window, scope)
    a = a.filter(_in(a.submitted_at, window))
    finished = a.outcome.isin(list(m.finished_outcomes)) & (a.completed_at < _ts(window.end))
    channels = sorted(set(m.channel_costs))
    per_channel = {f"channel_{ch}": _flag(a.channel == ch).sum() for ch in channels}
    return _grouped(
        a, scope,
        submitted=a.count(),
        digital=_flag(a.channel.isin(list(m.digital_channels))).sum(),
        completed=_flag(finished).sum(),
        **per_channel,
    )


def finished(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Applications finished (an outcome of `finished_outcomes`) in the period; late when
    finished after the deadline as moved by the clock's stops (`deadline_at` is rewritten
    at every stop and resume); one finished while the clock stood still is late only if
    the clock stopped after the deadline. Refusals, and those overturned: a complaint on
    the ground `unjustified_refusal` decided by `as_of` with a decision of
    `upheld_decisions`."""
    a = _applications(tables, window, scope)
    a = a.filter(a.outcome.isin(list(m.finished_outcomes)) & _in(a.completed_at, window))
    finished_at = ibis.coalesce(a.clock_stopped_at, a.completed_at)
    k = tables.complaints
    overturned = (
        k.filter(
            (k.country_id == window.country_id)
            & (k.ground == "unjustified_refusal")
            & k.decision.isin(list(m.upheld_decisions))
            & k.decided_at.notnull()
            & (k.decided_at <= _ts(window.as_of))
            & k.application_id.notnull()
        )
        .select(o_app=k.application_id)
        .distinct()
    )
    a = a.left_join(overturned, a.id == overturned.o_app)
    refused = a.outcome == "refused"
    return _grouped(
        a, scope,
        finished=a.count(),
        late=_flag(finished_at > a.deadline_at).sum(),
        refusals=_flag(refused).sum(),
        overturned=_flag(refused & a.o_app.notnull()).sum(),
    )


def _score_of(scores: ir.StringValue, criterion: str) -> ir.IntegerValue:
    # The scores are stored as a JSON object of whole numbers ({"legality": 5, ...}); a
    # regular expression reads one the same way on every backend (SQLite has no JSON type
    # Ibis can cast to).
    pattern = rf'"{re.escape(criterion)}"\s*:\s*([0-9]+)'
    return ibis.ifelse(
        scores.re_search(pattern),
        scores.re_extract(pattern, 1).cast("int64"),
        ibis.null("int64"),
    )


def ratings(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Ratings given in the period: per criterion how many scored it, how many at or above
    `satisfied_at_or_above`, and the sum of scores (for the mean)."""
    r = tables.ratings
    r = r.filter((r.country_id == window.country_id) & _in(r.created_at, window))
    a = tables.applications
    apps = a.select(a_id=a.id, a_region=a.region_id, a_service=a.service_id,
                    a_channel=a.channel, a_by=a.submitted_by_id)
    t = tables.tickets
    tickets = t.select(t_id=t.id, t_operator=t.operator_id)
    regions = _centre_regions(tables)
    r = r.left_join(apps, r.application_id == apps.a_id)
    r = r.left_join(tickets, r.ticket_id == tickets.t_id)
    r = r.left_join(regions, r.centre_id == regions.c_id)
    r = r.mutate(
        u_agency=r.agency_id,
        u_region=ibis.coalesce(r.a_region, r.c_region),
        u_centre=r.centre_id,
        u_service=r.a_service,
        u_operator=ibis.coalesce(
            ibis.ifelse(r.a_channel == "centre", r.a_by, ibis.null("int64")), r.t_operator
        ),
    )
    scores = {c: _score_of(r.scores, c) for c in m.criteria}
    counts: dict[str, ir.Value] = {"ratings": r.count()}
    for c, score in scores.items():
        counts[f"rated_{c}"] = score.count()
        counts[f"satisfied_{c}"] = _flag(score >= m.satisfied_at_or_above).sum()
        counts[f"score_sum_{c}"] = score.sum()
    return _grouped(r, scope, **counts)


def complaints(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Complaints to the provider registered in the period: answered (decided) by their
    deadline (the extended one when extended), decided by `as_of`, and upheld."""
    k = tables.complaints
    k = k.filter((k.country_id == window.country_id) & (k.level == "provider")
                 & _in(k.registered_at, window))
    a = tables.applications
    apps = a.select(a_id=a.id, a_region=a.region_id, a_service=a.service_id,
                    a_agency=a.agency_id)
    regions = _centre_regions(tables)
    k = k.left_join(apps, k.application_id == apps.a_id)
    k = k.left_join(regions, k.centre_id == regions.c_id)
    k = k.mutate(
        u_agency=ibis.coalesce(k.agency_id, k.a_agency),
        u_region=ibis.coalesce(k.a_region, k.c_region),
        u_centre=k.centre_id,
        u_service=k.a_service,
        u_operator=k.staff_id,
    )
    decided = k.decided_at.notnull() & (k.decided_at <= _ts(window.as_of)) & (k.decision != "")
    due = ibis.coalesce(k.extended_to, k.deadline_at)
    return _grouped(
        k, scope,
        complaints=k.count(),
        decided=_flag(decided).sum(),
        answered_in_time=_flag(decided & (k.decided_at <= due)).sum(),
        upheld=_flag(decided & k.decision.isin(list(m.upheld_decisions))).sum(),
    )


def violations(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Violations found in the period: all, found by the body itself, and those that
    count for the penalty (`penalties.kinds`, every kind when empty)."""
    v = tables.violations
    v = v.filter((v.country_id == window.country_id) & _in(v.found_at, window))
    a = tables.applications
    apps = a.select(a_id=a.id, a_region=a.region_id, a_service=a.service_id)
    regions = _centre_regions(tables)
    v = v.left_join(apps, v.application_id == apps.a_id)
    v = v.left_join(regions, v.centre_id == regions.c_id)
    v = v.mutate(
        u_agency=v.agency_id,
        u_region=ibis.coalesce(v.a_region, v.c_region),
        u_centre=v.centre_id,
        u_service=v.a_service,
        u_operator=v.person_id,
    )
    penalised = (_flag(v.kind.isin(list(m.penalty_kinds))).sum() if m.penalty_kinds
                 else v.count())
    return _grouped(
        v, scope,
        violations=v.count(),
        violations_self=_flag(v.found_by == "self").sum(),
        penalised_violations=penalised,
    )


def served(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Tickets served in the period at the country's centres, and those whose wait was
    within the longest wait the standard allows for the ticket's service group."""
    t = tables.tickets
    c = tables.centres.filter(tables.centres.country_id == window.country_id)
    c = c.select(c_id=c.id, c_region=c.region_id)
    t = t.filter((t.state == "served") & _in(t.finished_at, window))
    t = t.inner_join(c, t.centre_id == c.c_id)
    limit: ir.IntegerValue = ibis.literal(tables.default_max_wait_seconds)
    if tables.max_wait_seconds:
        limit = ibis.cases(
            *((t.group_id == group, seconds)
              for group, seconds in sorted(tables.max_wait_seconds.items())),
            else_=tables.default_max_wait_seconds,
        )
    t = t.mutate(
        u_agency=ibis.null("int64"),
        u_region=t.c_region,
        u_centre=t.centre_id,
        u_service=ibis.null("int64"),
        u_operator=t.operator_id,
    )
    return _grouped(
        t, scope,
        served=t.count(),
        served_in_time=_flag(t.wait_seconds.notnull() & (t.wait_seconds <= limit)).sum(),
    )


MEASURE_QUERIES: tuple[Callable[[Tables, Window, str, Methodology], Table], ...] = (
    submitted, finished, ratings, complaints, violations, served,
)


def unit_counts(tables: Tables, window: Window, scope: str,
                m: Methodology) -> dict[str, dict[str, float]]:
    """Run every query and merge the counts per unit (the unit's id as text)."""
    merged: dict[str, dict[str, float]] = {}
    for query in MEASURE_QUERIES:
        rows: list[dict[str, Any]] = query(tables, window, scope, m).to_pyarrow().to_pylist()
        for row in rows:
            unit = str(int(row.pop("unit")))
            target = merged.setdefault(unit, {})
            for name, value in row.items():
                target[name] = float(value or 0)
    return merged
