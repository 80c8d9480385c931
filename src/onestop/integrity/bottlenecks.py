"""Process bottlenecks of one service over one period, from the applications' event log.

One Ibis query (`visit_query`) turns the event log into stage visits: every event that
changes an application's state opens a visit of the state it enters, and the next such
event of the same application (window function `lead` ordered by time and id) closes it.
It runs unchanged on the live database (SQLite, PostgreSQL) and on DuckDB over the
Parquet files of the lake (`onestop.integrity.bottleneck_sources`). The visits are read
once, in one query for the whole service and period (never one per application); what
needs the country's working calendar (working time, working days, shares of the legal
deadline) and the nearest-rank percentiles are then computed in Python over those rows
(`analyse`). The heuristics and every formula are in docs/bottlenecks.md.

Times are naive UTC inside the queries; the calendar works on aware datetimes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from onestop.applications.workflow import Workflow
from onestop.core.calendar import WorkingCalendar

# The actions whose event data the analysis reads: documents asked of the applicant,
# and the agency an inter-agency request went to.
DOCUMENT_KEY = "requested_documents"
AGENCY_KEY = "agency"
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class Scope:
    """One service's applications submitted in [start, end) (naive UTC), events known by
    `as_of` (naive UTC)."""

    service_id: int
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime

    def __post_init__(self) -> None:
        for name in ("start", "end", "as_of"):
            if getattr(self, name).tzinfo is not None:
                raise ValueError(f"{name} must be naive UTC")
        if not self.start < self.end:
            raise ValueError("a period ends after it starts")


@dataclass(frozen=True)
class Visit:
    """One stay of an application in one state."""

    application: int
    standard: int
    agency: int
    centre: int | None
    seq: int
    stage: str
    entered_at: dt.datetime  # aware UTC
    left_at: dt.datetime | None  # None: still there at `as_of`
    entered_by: str
    left_by: str | None
    data: dict[str, Any]


def _ts(moment: dt.datetime) -> ir.Value:
    return ibis.literal(moment, type="timestamp")


def visit_query(applications: ir.Table, events: ir.Table, scope: Scope) -> ir.Table:
    """The stage visits of the service's applications submitted in the period."""
    a = applications
    a = a.filter((a.service_id == scope.service_id) & (a.submitted_at >= _ts(scope.start))
                 & (a.submitted_at < _ts(scope.end)))
    a = a.select(a_id=a.id, a_standard=a.standard_id, a_agency=a.agency_id,
                 a_centre=a.centre_id)
    e = events
    e = e.filter((e.from_state != e.to_state) & (e.at <= _ts(scope.as_of)))
    e = e.inner_join(a, e.application_id == a.a_id)
    w = ibis.window(group_by=e.application_id, order_by=[e.at, e.id])
    carries_data = e.data.contains(DOCUMENT_KEY) | e.data.contains(f'"{AGENCY_KEY}"')
    return e.select(
        application=e.application_id,
        standard=e.a_standard,
        agency=e.a_agency,
        centre=e.a_centre,
        seq=ibis.row_number().over(w),
        stage=e.to_state,
        entered_at=e.at,
        left_at=e.at.lead().over(w),
        entered_by=e.action,
        left_by=e.action.lead().over(w),
        data=ibis.ifelse(carries_data, e.data, ibis.null("string")),
    )


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _data(value: Any) -> dict[str, Any]:
    if not value:
        return {}
    try:
        loaded = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def read_visits(applications: ir.Table, events: ir.Table, scope: Scope) -> list[Visit]:
    """Run the query once and return the visits ordered by application and sequence."""
    rows: list[dict[str, Any]] = visit_query(applications, events, scope).to_pyarrow(
    ).to_pylist()
    visits = []
    for r in rows:
        entered = _aware(r["entered_at"])
        assert entered is not None
        visits.append(Visit(
            application=int(r["application"]), standard=int(r["standard"]),
            agency=int(r["agency"]),
            centre=None if r["centre"] is None else int(r["centre"]),
            seq=int(r["seq"]), stage=str(r["stage"]), entered_at=entered,
            left_at=_aware(r["left_at"]), entered_by=str(r["entered_by"]),
            left_by=r["left_by"], data=_data(r["data"]),
        ))
    visits.sort(key=lambda v: (v.application, v.seq))
    return visits


# --------------------------------------------------------------------------- working time


class WorkingClock:
    """Working seconds between two instants in O(1) after a per-day table is built: the
    working seconds before each local day and the day's working span."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        opens, closes = calendar.rules.working_hours
        self.day_seconds = (dt.datetime.combine(dt.date.min, closes)
                            - dt.datetime.combine(dt.date.min, opens)).total_seconds()
        self._first: dt.date | None = None
        self._days: list[tuple[float, dt.datetime, dt.datetime, bool]] = []

    def _ensure(self, day: dt.date) -> None:
        if self._first is None:
            self._first = day
        if day < self._first:
            self._first, self._days = day, []
        while len(self._days) <= (day - self._first).days:
            current = self._first + dt.timedelta(days=len(self._days))
            before = 0.0
            if self._days:
                prev_before, prev_open, prev_close, prev_working = self._days[-1]
                before = prev_before + ((prev_close - prev_open).total_seconds()
                                        if prev_working else 0.0)
            opens, closes = self.calendar.rules.working_hours
            zone = self.calendar.zone
            span_open = dt.datetime.combine(current, opens, tzinfo=zone).astimezone(dt.UTC)
            span_close = dt.datetime.combine(current, closes, tzinfo=zone).astimezone(dt.UTC)
            self._days.append((before, span_open, span_close,
                               self.calendar.is_working_day(current)))

    def _until(self, moment: dt.datetime) -> float:
        day = moment.astimezone(self.calendar.zone).date()
        self._ensure(day)
        assert self._first is not None
        before, opens, closes, working = self._days[(day - self._first).days]
        if not working:
            return before
        inside = (min(max(moment, opens), closes) - opens).total_seconds()
        return before + inside

    def seconds(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working seconds in [a, b] (a <= b); equals WorkingCalendar.working_time_between."""
        self._ensure(a.astimezone(self.calendar.zone).date())
        return self._until(b) - self._until(a)


# --------------------------------------------------------------------------- results


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least a share q of the values at or below
    it (the median is q = 0.5: of four values, the second)."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class StageStats:
    stage: str
    visits: int = 0
    applications: int = 0
    open_visits: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    median_working_days: float | None = None
    p90_working_days: float | None = None
    citizen_days: float = 0.0  # calendar days in the stage, over every visit (open ones
    # counted up to as_of)
    deadline_share: float | None = None  # mean share of the legal deadline per application
    clock_stopped: bool = False
    waits_on: str | None = None
    limit: str = ""
    over_limit: int = 0
    exits: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage, "visits": self.visits, "applications": self.applications,
            "open_visits": self.open_visits, "median_hours": _r(self.median_hours),
            "p90_hours": _r(self.p90_hours),
            "median_working_days": _r(self.median_working_days, 3),
            "p90_working_days": _r(self.p90_working_days, 3),
            "citizen_days": _r(self.citizen_days, 3),
            "deadline_share": _r(self.deadline_share, 4),
            "clock_stopped": self.clock_stopped, "waits_on": self.waits_on,
            "limit": self.limit, "over_limit": self.over_limit,
            "exits": dict(sorted(self.exits.items())),
        }


@dataclass(frozen=True)
class VariantStats:
    path: tuple[str, ...]
    applications: int
    share: float

    def as_dict(self) -> dict[str, Any]:
        return {"path": list(self.path), "applications": self.applications,
                "share": round(self.share, 4)}


@dataclass
class DocumentRework:
    code: str
    source: str  # "applicant", "state_database" or "" (not in the standard)
    requests: int = 0
    applications: int = 0
    repeated_applications: int = 0  # asked for it twice or more
    citizen_days: float = 0.0  # days waiting on the applicant after these requests
    repeat_citizen_days: float = 0.0  # of which after the second and later requests

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "source": self.source, "requests": self.requests,
                "applications": self.applications,
                "repeated_applications": self.repeated_applications,
                "citizen_days": round(self.citizen_days, 3),
                "repeat_citizen_days": round(self.repeat_citizen_days, 3)}


@dataclass
class AgencyWait:
    agency: str
    requests: int = 0
    answered: int = 0
    open: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    median_working_days: float | None = None
    p90_working_days: float | None = None
    citizen_days: float = 0.0
    over_limit: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"agency": self.agency, "requests": self.requests, "answered": self.answered,
                "open": self.open, "median_hours": _r(self.median_hours),
                "p90_hours": _r(self.p90_hours),
                "median_working_days": _r(self.median_working_days, 3),
                "p90_working_days": _r(self.p90_working_days, 3),
                "citizen_days": round(self.citizen_days, 3), "over_limit": self.over_limit}


@dataclass
class Analysis:
    applications: int
    finished: int
    variants: list[VariantStats]
    stages: list[StageStats]
    documents: list[DocumentRework]
    loop_applications: int  # applications that entered some stage more than once
    re_entries: dict[str, int]  # stage -> entries beyond the first, over all applications
    waits: list[AgencyWait]
    slowest_stage: str | None
    most_deadline_stage: str | None
    centres: dict[int, int] = field(default_factory=dict)  # centre id -> applications
    source: str = "live"

    def stage(self, code: str) -> StageStats | None:
        return next((s for s in self.stages if s.stage == code), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "applications": self.applications, "finished": self.finished,
            "source": self.source,
            "slowest_stage": self.slowest_stage,
            "most_deadline_stage": self.most_deadline_stage,
            "variants": [v.as_dict() for v in self.variants],
            "stages": [s.as_dict() for s in self.stages],
            "rework": {"loop_applications": self.loop_applications,
                       "re_entries": dict(sorted(self.re_entries.items())),
                       "documents": [d.as_dict() for d in self.documents]},
            "interagency": [w.as_dict() for w in self.waits],
        }


@dataclass(frozen=True)
class Deadline:
    value: int
    unit: str  # working_days | hours | minutes


# --------------------------------------------------------------------------- analysis


def _in_unit(clock: WorkingClock, a: dt.datetime, b: dt.datetime, unit: str) -> float:
    """The time from a to b in `unit` as deadlines count it: working days as working
    time over the working day's length; hours and minutes as working time, or as
    elapsed time when the pack's hour deadlines are continuous."""
    if unit == "working_days":
        return clock.seconds(a, b) / clock.day_seconds
    continuous = clock.calendar.rules.hour_deadlines == "continuous"
    seconds = (b - a).total_seconds() if continuous else clock.seconds(a, b)
    return seconds / (HOUR if unit == "hours" else 60.0)


def analyse(
    visits: Iterable[Visit],
    *,
    workflow: Workflow,
    calendar: WorkingCalendar,
    deadlines: Mapping[int, Deadline],
    document_sources: Mapping[int, Mapping[str, str]],
    as_of: dt.datetime,
) -> Analysis:
    """Variants, dwell per stage, rework loops, inter-agency waits and the use of the
    deadline, from the visits of `read_visits`. `deadlines` and `document_sources` are
    per standard id (the version each application was submitted under)."""
    as_of = as_of.replace(tzinfo=dt.UTC) if as_of.tzinfo is None else as_of
    clock = WorkingClock(calendar)
    by_app: dict[int, list[Visit]] = defaultdict(list)
    for v in visits:
        by_app[v.application].append(v)
    terminal = {code for code, s in workflow.states.items() if s.terminal}

    paths: Counter[tuple[str, ...]] = Counter()
    hours: dict[str, list[float]] = defaultdict(list)
    wdays: dict[str, list[float]] = defaultdict(list)
    stats: dict[str, StageStats] = {}
    stage_apps: dict[str, set[int]] = defaultdict(set)
    shares: dict[str, float] = defaultdict(float)
    re_entries: Counter[str] = Counter()
    loop_apps = 0
    finished = 0
    docs: dict[str, DocumentRework] = {}
    doc_apps: dict[str, Counter[int]] = defaultdict(Counter)
    waits: dict[str, AgencyWait] = {}
    wait_hours: dict[str, list[float]] = defaultdict(list)
    wait_wdays: dict[str, list[float]] = defaultdict(list)

    centres: Counter[int] = Counter()
    for app, seq in by_app.items():
        paths[tuple(v.stage for v in seq)] += 1
        if seq[0].centre is not None:
            centres[seq[0].centre] += 1
        if seq[-1].stage in terminal:
            finished += 1
        entered = Counter(v.stage for v in seq)
        loops = {s: n - 1 for s, n in entered.items() if n > 1 and s not in terminal}
        if loops:
            loop_apps += 1
            re_entries.update(loops)
        asked: Counter[str] = Counter()
        for v in seq:
            if v.stage in terminal:
                continue
            state = workflow.states.get(v.stage)
            st = stats.setdefault(v.stage, StageStats(
                stage=v.stage,
                clock_stopped=bool(state and state.stopped),
                waits_on=state.waits_on if state else None,
                limit=f"{state.limit[0]} {state.limit[1]}" if state and state.limit else "",
            ))
            st.visits += 1
            stage_apps[v.stage].add(app)
            end = v.left_at or max(as_of, v.entered_at)
            elapsed = (end - v.entered_at).total_seconds()
            st.citizen_days += elapsed / DAY
            working = clock.seconds(v.entered_at, end)
            if v.left_at is None:
                st.open_visits += 1
            else:
                hours[v.stage].append(elapsed / HOUR)
                wdays[v.stage].append(working / clock.day_seconds)
                if v.left_by:
                    st.exits[v.left_by] = st.exits.get(v.left_by, 0) + 1
            if state and state.limit and _in_unit(
                    clock, v.entered_at, end, state.limit[1]) > state.limit[0]:
                st.over_limit += 1
            deadline = deadlines.get(v.standard)
            if deadline and not st.clock_stopped:
                shares[v.stage] += _in_unit(clock, v.entered_at, end,
                                            deadline.unit) / deadline.value
            requested = [str(c) for c in v.data.get(DOCUMENT_KEY) or []]
            for code in requested:
                asked[code] += 1
                doc = docs.setdefault(code, DocumentRework(
                    code=code, source=document_sources.get(v.standard, {}).get(code, "")))
                doc.requests += 1
                part = elapsed / DAY / len(requested)
                doc.citizen_days += part
                if asked[code] > 1:
                    doc.repeat_citizen_days += part
                doc_apps[code][app] += 1
            target = v.data.get(AGENCY_KEY)
            if target and state and state.waits_on == "agency":
                wait = waits.setdefault(str(target), AgencyWait(agency=str(target)))
                wait.requests += 1
                wait.citizen_days += elapsed / DAY
                if v.left_at is None:
                    wait.open += 1
                else:
                    wait.answered += 1
                    wait_hours[wait.agency].append(elapsed / HOUR)
                    wait_wdays[wait.agency].append(working / clock.day_seconds)
                if state.limit and _in_unit(clock, v.entered_at, end,
                                            state.limit[1]) > state.limit[0]:
                    wait.over_limit += 1

    total = len(by_app)
    order = {code: i for i, code in enumerate(workflow.states)}
    stages = sorted(stats.values(), key=lambda s: (order.get(s.stage, len(order)), s.stage))
    for st in stages:
        st.applications = len(stage_apps[st.stage])
        st.median_hours = percentile(hours[st.stage], 0.5)
        st.p90_hours = percentile(hours[st.stage], 0.9)
        st.median_working_days = percentile(wdays[st.stage], 0.5)
        st.p90_working_days = percentile(wdays[st.stage], 0.9)
        st.deadline_share = (None if st.clock_stopped or not total
                             else shares[st.stage] / total)
    for code, counts in doc_apps.items():
        docs[code].applications = len(counts)
        docs[code].repeated_applications = sum(1 for n in counts.values() if n > 1)
    for name, wait in waits.items():
        wait.median_hours = percentile(wait_hours[name], 0.5)
        wait.p90_hours = percentile(wait_hours[name], 0.9)
        wait.median_working_days = percentile(wait_wdays[name], 0.5)
        wait.p90_working_days = percentile(wait_wdays[name], 0.9)
    timed = [s for s in stages if s.median_working_days is not None]
    slowest = max(timed, key=lambda s: (s.median_working_days or 0.0, s.median_hours or 0.0),
                  default=None)
    shared = [s for s in stages if s.deadline_share]
    most = max(shared, key=lambda s: s.deadline_share or 0.0, default=None)
    variants = [VariantStats(path, n, n / total) for path, n in
                sorted(paths.items(), key=lambda item: (-item[1], item[0]))]
    return Analysis(
        applications=total, finished=finished, variants=variants, stages=stages,
        documents=sorted(docs.values(), key=lambda d: (-d.citizen_days, d.code)),
        loop_applications=loop_apps, re_entries=dict(re_entries),
        waits=sorted(waits.values(), key=lambda w: (-w.citizen_days, w.agency)),
        slowest_stage=slowest.stage if slowest else None,
        most_deadline_stage=most.stage if most else None,
        centres=dict(centres),
    )
