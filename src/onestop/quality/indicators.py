"""The measures as Ibis expressions: per unit counts over one period.

The same expressions run on the live database (SQLite or PostgreSQL, through Django's own
connection) and on DuckDB over the Parquet files of `onestop export lake`
(`onestop.quality.sources`). Each function takes the tables, the window and the scope and
returns one Ibis table: a `unit` column (the unit's id) and named counts (NULL where the
unit has no rows of that kind, which `unit_counts` leaves out). The pure module
`onestop.quality.methodology` turns the counts into indicator values and scores; the
formulas in words are in docs/methodology.md.

Times inside the expressions are naive UTC (sources normalise the columns to that).
For speed on large histories (docs/performance.md) each measure reads its tables once and
joins only the tables its scope needs.
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


def _with_unit(t: Table, unit: ir.Value) -> Table:
    """`t` with its unit in column `unit`, without the rows that have none (filtered before
    grouping, so a scope a measure has no unit for reads nothing)."""
    t = t.mutate(unit=unit)
    return t.filter(t.unit.notnull())


def _count_if(condition: ir.BooleanValue) -> ir.IntegerValue:
    return _flag(condition).sum()


# Each measure below joins only what the scope needs: the joins are left joins on ids
# (unique), so a join the scope does not read changes no count, but it costs a read of the
# joined table (all of the applications, all of the tickets) on every backend.


def applications(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Both application measures in one read of the applications.

    Submitted in the period: all, digital, finished by the period's end, and per channel
    (digital take-up, completion rate, cost per transaction, penalties).

    Finished (an outcome of `finished_outcomes`) in the period; late when finished after the
    deadline as moved by the clock's stops (`deadline_at` is rewritten at every stop and
    resume); one finished while the clock stood still is late only if the clock stopped
    after the deadline. Refusals, and those overturned: a complaint on the ground
    `unjustified_refusal` decided by `as_of` with a decision of `upheld_decisions`.

    A unit with no application submitted (or none finished) in the period has NULL for
    the counts of that kind, so that it reads as absent from that measure."""
    a = tables.applications
    outcomes = list(m.finished_outcomes)
    a = a.filter(
        (a.country_id == window.country_id)
        & (_in(a.submitted_at, window) | (a.outcome.isin(outcomes) & _in(a.completed_at, window)))
    )
    if scope == "region":
        regions = _centre_regions(tables)
        a = a.left_join(regions, a.centre_id == regions.c_id)
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
    units: dict[str, Callable[[], ir.Value]] = {
        "agency": lambda: a.agency_id,
        "region": lambda: ibis.coalesce(a.region_id, a.c_region),
        "centre": lambda: a.centre_id,
        "service": lambda: a.service_id,
        "operator": lambda: ibis.ifelse(a.channel == "centre", a.submitted_by_id,
                                        ibis.null("int64")),
    }
    a = _with_unit(a, units[scope]())
    is_submitted = _in(a.submitted_at, window)
    is_finished = a.outcome.isin(outcomes) & _in(a.completed_at, window)
    refused = a.outcome == "refused"
    submitted_counts = {
        "submitted": _count_if(is_submitted),
        "digital": _count_if(is_submitted & a.channel.isin(list(m.digital_channels))),
        "completed": _count_if(is_submitted & a.outcome.isin(outcomes)
                               & (a.completed_at < _ts(window.end))),
        **{f"channel_{ch}": _count_if(is_submitted & (a.channel == ch))
           for ch in sorted(set(m.channel_costs))},
    }
    finished_counts = {
        "finished": _count_if(is_finished),
        "late": _count_if(is_finished
                          & (ibis.coalesce(a.clock_stopped_at, a.completed_at) > a.deadline_at)),
        "refusals": _count_if(is_finished & refused),
        "overturned": _count_if(is_finished & refused & a.o_app.notnull()),
    }
    counts = a.group_by("unit").aggregate(**submitted_counts, **finished_counts)
    none = ibis.null("int64")
    return counts.mutate(
        **{name: ibis.ifelse(counts.submitted > 0, counts[name], none)
           for name in submitted_counts},
        **{name: ibis.ifelse(counts.finished > 0, counts[name], none)
           for name in finished_counts},
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
    `satisfied_at_or_above`, and the sum of scores (for the mean). The ratings are first
    counted per unit and text of scores, so each distinct text is parsed once per unit
    rather than once per rating."""
    r = tables.ratings
    r = r.filter((r.country_id == window.country_id) & _in(r.created_at, window))
    if scope in ("region", "service", "operator"):
        a = tables.applications
        apps = a.select(a_id=a.id, a_region=a.region_id, a_service=a.service_id,
                        a_channel=a.channel, a_by=a.submitted_by_id)
        r = r.left_join(apps, r.application_id == apps.a_id)
    if scope == "operator":
        t = tables.tickets
        tickets = t.select(t_id=t.id, t_operator=t.operator_id)
        r = r.left_join(tickets, r.ticket_id == tickets.t_id)
    if scope == "region":
        regions = _centre_regions(tables)
        r = r.left_join(regions, r.centre_id == regions.c_id)
    units: dict[str, Callable[[], ir.Value]] = {
        "agency": lambda: r.agency_id,
        "region": lambda: ibis.coalesce(r.a_region, r.c_region),
        "centre": lambda: r.centre_id,
        "service": lambda: r.a_service,
        "operator": lambda: ibis.coalesce(
            ibis.ifelse(r.a_channel == "centre", r.a_by, ibis.null("int64")), r.t_operator),
    }
    r = _with_unit(r, units[scope]())
    texts = r.group_by(["unit", "scores"]).aggregate(n=r.count())
    n = texts.n
    counts: dict[str, ir.Value] = {"ratings": n.sum()}
    for c in m.criteria:
        score = _score_of(texts.scores, c)
        counts[f"rated_{c}"] = ibis.ifelse(score.notnull(), n, 0).sum()
        counts[f"satisfied_{c}"] = ibis.ifelse(score >= m.satisfied_at_or_above, n, 0).sum()
        # 0 rather than NULL when no rating scored the criterion (NULL means "no ratings")
        counts[f"score_sum_{c}"] = ibis.coalesce((score * n).sum(), 0)
    return texts.group_by("unit").aggregate(**counts)


def complaints(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Complaints to the provider registered in the period: answered (decided) by their
    deadline (the extended one when extended), decided by `as_of`, and upheld."""
    k = tables.complaints
    k = k.filter((k.country_id == window.country_id) & (k.level == "provider")
                 & _in(k.registered_at, window))
    a = tables.applications
    if scope == "agency":
        # the application's agency counts only for a complaint that names none: only those
        # complaints' applications are read (none at all when every complaint names one)
        unnamed = k.filter(k.agency_id.isnull())
        apps = a.select(a_id=a.id, a_agency=a.agency_id)
        apps = apps.filter(apps.a_id.isin(unnamed.application_id))
        k = k.left_join(apps, k.application_id == apps.a_id)
    if scope in ("region", "service"):
        apps = a.select(a_id=a.id, a_region=a.region_id, a_service=a.service_id)
        k = k.left_join(apps, k.application_id == apps.a_id)
    if scope == "region":
        regions = _centre_regions(tables)
        k = k.left_join(regions, k.centre_id == regions.c_id)
    units: dict[str, Callable[[], ir.Value]] = {
        "agency": lambda: ibis.coalesce(k.agency_id, k.a_agency),
        "region": lambda: ibis.coalesce(k.a_region, k.c_region),
        "centre": lambda: k.centre_id,
        "service": lambda: k.a_service,
        "operator": lambda: k.staff_id,
    }
    k = _with_unit(k, units[scope]())
    decided = k.decided_at.notnull() & (k.decided_at <= _ts(window.as_of)) & (k.decision != "")
    due = ibis.coalesce(k.extended_to, k.deadline_at)
    return k.group_by("unit").aggregate(
        complaints=k.count(),
        decided=_count_if(decided),
        answered_in_time=_count_if(decided & (k.decided_at <= due)),
        upheld=_count_if(decided & k.decision.isin(list(m.upheld_decisions))),
    )


def violations(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Violations found in the period: all, found by the body itself, and those that
    count for the penalty (`penalties.kinds`, every kind when empty)."""
    v = tables.violations
    v = v.filter((v.country_id == window.country_id) & _in(v.found_at, window))
    if scope in ("region", "service"):
        a = tables.applications
        apps = a.select(a_id=a.id, a_region=a.region_id, a_service=a.service_id)
        v = v.left_join(apps, v.application_id == apps.a_id)
    if scope == "region":
        regions = _centre_regions(tables)
        v = v.left_join(regions, v.centre_id == regions.c_id)
    units: dict[str, Callable[[], ir.Value]] = {
        "agency": lambda: v.agency_id,
        "region": lambda: ibis.coalesce(v.a_region, v.c_region),
        "centre": lambda: v.centre_id,
        "service": lambda: v.a_service,
        "operator": lambda: v.person_id,
    }
    v = _with_unit(v, units[scope]())
    penalised = _count_if(v.kind.isin(list(m.penalty_kinds))) if m.penalty_kinds else v.count()
    return v.group_by("unit").aggregate(
        violations=v.count(),
        violations_self=_count_if(v.found_by == "self"),
        penalised_violations=penalised,
    )


def served(tables: Tables, window: Window, scope: str, m: Methodology) -> Table:
    """Tickets served in the period at the country's centres, and those whose wait was
    within the longest wait the standard allows for the ticket's service group (no
    agency or service: a ticket is not an application)."""
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
    units: dict[str, Callable[[], ir.Value]] = {
        "agency": lambda: ibis.null("int64"),
        "region": lambda: t.c_region,
        "centre": lambda: t.centre_id,
        "service": lambda: ibis.null("int64"),
        "operator": lambda: t.operator_id,
    }
    t = _with_unit(t, units[scope]())
    return t.group_by("unit").aggregate(
        served=t.count(),
        served_in_time=_count_if(t.wait_seconds.notnull() & (t.wait_seconds <= limit)),
    )


MEASURE_QUERIES: tuple[Callable[[Tables, Window, str, Methodology], Table], ...] = (
    applications, ratings, complaints, violations, served,
)
# the scopes a measure has no unit in (its query returns no rows there)
NO_UNIT: Mapping[Callable[..., Table], frozenset[str]] = {
    served: frozenset({"agency", "service"}),
}


def unit_counts(tables: Tables, window: Window, scope: str,
                m: Methodology) -> dict[str, dict[str, float]]:
    """Run every query and merge the counts per unit (the unit's id as text); a NULL
    count (the unit had no rows of its kind) is left out."""
    merged: dict[str, dict[str, float]] = {}
    for query in MEASURE_QUERIES:
        if scope in NO_UNIT.get(query, ()):
            continue
        rows: list[dict[str, Any]] = query(tables, window, scope, m).to_pyarrow().to_pylist()
        for row in rows:
            unit = str(int(row.pop("unit")))
            target = merged.setdefault(unit, {})
            for name, value in row.items():
                if value is not None:
                    target[name] = float(value)
    return merged
