"""The twelve red flags as Ibis expressions, scored against peers.

Every flag is first a table of *cases* (one row per decision, ticket, appointment,
rating, complaint or filing in the period) with the subjects it concerns (officer,
operator, unit, centre, citizen), the service the peers are matched on, `base` (1 when
the row counts in the denominator), `hit` (1 when the row is a suspicious case) and the
ids of the records behind it (`rid`, `rid2`). The same expression runs on the live
database (SQLite, PostgreSQL) and on DuckDB over Parquet (`redflags_sources`). The cases
are then counted per subject and service in the database; only those counts (and, for
the raised flags, the evidence ids) leave it.

Two kinds of score (docs/redflags.md):
- rate flags: k suspicious cases of n, z = how far k lies above the rate of the peers
  doing the same service (all other subjects of the same kind), in binomial standard
  errors widened by the service's overdispersion (how much honest subjects differ);
- count flags (slot hoarding, intermediaries): k cases, z = how far k lies above the
  median of all subjects of the kind at the same place, in scaled median absolute
  deviations (at least one case), and k at least a floor from the pack.
A flag is raised at z >= its threshold with n >= its minimum; the risk points are
`weight * min(z, z_cap)` (flags_config).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from onestop.integrity.flags_config import FlagsConfig, binomial_z
from onestop.integrity.redflags_sources import FlagTables

DECISIONS = ("approve", "refuse")
DECIDERS = ("officer", "supervisor")
UPHELD = ("upheld", "partly_upheld")
EVIDENCE_CAP = 5000  # evidence ids kept per raised flag and kind of record


@dataclass(frozen=True)
class Window:
    """Records of one country in [start, end), naive UTC; `utc_offset_hours` turns UTC
    into the country's local clock (working hours)."""

    country_id: int
    start: dt.datetime
    end: dt.datetime
    utc_offset_hours: float = 0.0


@dataclass(frozen=True)
class Spec:
    """How a flag's cases are scored and what their record ids are."""

    code: str
    kinds: tuple[str, ...]
    method: str  # "rate" or "count"
    evidence: tuple[str, ...]  # what rid (and rid2) are: "applications", "tickets", ...
    floor_param: str = ""  # count flags: the pack parameter k must reach


@dataclass
class Raised:
    """One raised flag of one subject."""

    flag: str
    kind: str
    subject: int
    service: int
    value: float
    z: float
    n: int
    k: int
    peers: int
    score: float
    evidence: dict[str, list[int]] = field(default_factory=dict)


SPECS: dict[str, Spec] = {s.code: s for s in (
    Spec("refusal_rate", ("officer", "unit", "centre"), "rate", ("applications",)),
    Spec("refuse_then_approve", ("officer", "unit", "centre"), "rate",
         ("applications", "applications")),
    Spec("overturned_refusals", ("officer", "unit"), "rate", ("applications", "complaints")),
    Spec("deadline_riding", ("officer", "unit"), "rate", ("applications",)),
    Spec("out_of_order", ("operator", "centre"), "rate", ("tickets",)),
    Spec("slot_hoarding", ("citizen",), "count", ("appointments",), "hoard_min"),
    Spec("intermediary", ("citizen",), "count", ("applications",), "intermediary_min"),
    Spec("counter_time", ("operator", "centre"), "rate", ("tickets",)),
    Spec("off_hours", ("officer", "unit"), "rate", ("applications",)),
    Spec("rating_burst", ("centre", "operator", "unit"), "rate", ("ratings",)),
    Spec("complaint_rate", ("centre", "operator", "unit"), "rate", ("complaints",)),
    Spec("extra_documents", ("officer", "unit"), "rate", ("applications",)),
)}


# --------------------------------------------------------------------------- helpers


def _ts(moment: dt.datetime) -> ir.Value:
    return ibis.literal(moment, type="timestamp")


def _in(column: ir.Value, w: Window) -> ir.BooleanValue:
    return (column >= _ts(w.start)) & (column < _ts(w.end))


def _int(condition: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.ifelse(condition, 1, 0).cast("int64")


def _null() -> ir.Value:
    return ibis.null("int64")


def _epoch(column: ir.Value) -> ir.IntegerValue:
    return column.epoch_seconds().cast("int64")


CASE_COLUMNS = ("service", "officer", "operator", "unit", "centre", "citizen", "base", "hit",
                "rid", "rid2")


def _cases(t: ir.Table, **given: Any) -> ir.Table:
    """The standard case columns; the kinds a flag does not use are null."""
    out: dict[str, Any] = {}
    for name in CASE_COLUMNS:
        value = given.get(name)
        if value is None:
            value = _null() if name not in {"base", "hit"} else ibis.literal(1, type="int64")
        out[name] = value.cast("int64") if hasattr(value, "cast") else value
    return t.select(**out)


def _apps(t: FlagTables, w: Window) -> ir.Table:
    a = t.applications
    return a.filter(a.country_id == w.country_id)


def _decisions(t: FlagTables, w: Window) -> ir.Table:
    """Approvals and refusals by officers in the window, with their application."""
    e = t.events
    e = e.filter(e.action.isin(list(DECISIONS)) & e.actor_role.isin(list(DECIDERS))
                 & _in(e.at, w))
    a = _apps(t, w)
    a = a.select(a_id=a.id, a_service=a.service_id, a_agency=a.agency_id,
                 a_centre=a.centre_id, a_deadline=a.deadline_at, a_nid=a.applicant_national_id,
                 a_submitted=a.submitted_at, a_standard=a.standard_id)
    return e.join(a, e.application_id == a.a_id)


# --------------------------------------------------------------------------- the flags


def refusal_rate(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    d = _decisions(t, w)
    return _cases(d, service=d.a_service, officer=d.actor_id, unit=d.a_agency,
                  centre=d.a_centre, hit=_int(d.action == "refuse"), rid=d.application_id)


def refuse_then_approve(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    d = _decisions(t, w)
    approvals = d.filter(d.action == "approve")
    # no country filter here: the service (the country's) is matched below, and a
    # country filter would steer SQLite to the country index instead of the national ID's
    a = t.applications
    refused = a.filter(a.outcome == "refused")
    refused = refused.select(r_id=refused.id, r_nid=refused.applicant_national_id,
                             r_service=refused.service_id, r_done=refused.completed_at)
    limit = int(c.param("rethink_days") * 86400)
    # the national ID is the selective key; "+ 0" keeps SQLite's planner from walking
    # the service index instead (every application of the service per approval)
    pairs = approvals.join(refused, [
        approvals.a_nid == refused.r_nid, approvals.a_service + 0 == refused.r_service + 0,
        refused.r_id != approvals.application_id,
    ])
    gap = _epoch(pairs.a_submitted) - _epoch(pairs.r_done)
    pairs = pairs.filter((gap >= 0) & (gap <= limit))
    pairs = pairs.group_by(p_event=pairs.id).aggregate(p_refused=pairs.r_id.min())
    j = approvals.left_join(pairs, approvals.id == pairs.p_event)
    return _cases(j, service=j.a_service, officer=j.actor_id, unit=j.a_agency,
                  centre=j.a_centre, hit=_int(j.p_refused.notnull()), rid=j.application_id,
                  rid2=j.p_refused)


def overturned_refusals(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    d = _decisions(t, w)
    refusals = d.filter(d.action == "refuse")
    k = t.complaints
    k = k.filter((k.country_id == w.country_id) & k.decision.isin(list(UPHELD))
                 & k.application_id.notnull())
    k = k.group_by(k_app=k.application_id).aggregate(k_id=k.id.min())
    j = refusals.left_join(k, refusals.application_id == k.k_app)
    return _cases(j, service=j.a_service, officer=j.actor_id, unit=j.a_agency,
                  hit=_int(j.k_id.notnull()), rid=j.application_id, rid2=j.k_id)


def deadline_riding(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    d = _decisions(t, w)
    e = t.events
    stops = e.filter(e.clock == "stop")
    stops = stops.group_by(s_app=stops.application_id).aggregate(s_n=stops.count())
    j = d.left_join(stops, d.application_id == stops.s_app)
    left = _epoch(j.a_deadline) - _epoch(j.at)
    riding = (left >= 0) & (left <= int(c.param("riding_hours") * 3600))
    repeated = j.s_n.fill_null(0) >= int(c.param("repeated_stops"))
    return _cases(j, service=j.a_service, officer=j.actor_id, unit=j.a_agency,
                  hit=_int(riding | repeated), rid=j.application_id)


def _tickets(t: FlagTables, w: Window) -> ir.Table:
    tk = t.tickets
    centres = t.centres.filter(t.centres.country_id == w.country_id)
    return tk.semi_join(centres, tk.centre_id == centres.id)


def out_of_order(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    tk = _tickets(t, w)
    tk = tk.filter(_in(tk.place_at, w) | _in(tk.called_at, w))
    queue = ibis.window(group_by=[tk.centre_id, tk.day, tk.group_id, tk.priority_rank],
                        order_by=[tk.place_at, tk.id], rows=(None, 0))
    tk = tk.mutate(latest=tk.called_at.max().over(queue))
    tk = tk.filter(tk.called_at.notnull() & tk.operator_id.notnull() & _in(tk.called_at, w))
    return _cases(tk, service=tk.group_id, operator=tk.operator_id, centre=tk.centre_id,
                  hit=_int(tk.called_at < tk.latest), rid=tk.id)


def counter_time(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    tk = _tickets(t, w)
    tk = tk.filter(tk.service_seconds.notnull() & tk.operator_id.notnull()
                   & _in(tk.finished_at, w))
    odd = (tk.service_seconds < int(c.param("short_seconds"))) | \
        (tk.service_seconds > int(c.param("long_seconds")))
    return _cases(tk, service=tk.group_id, operator=tk.operator_id, centre=tk.centre_id,
                  hit=_int(odd), rid=tk.id)


def slot_hoarding(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    ap = t.appointments
    centres = t.centres.filter(t.centres.country_id == w.country_id)
    ap = ap.semi_join(centres, ap.centre_id == centres.id)
    ap = ap.filter(_in(ap.slot_start, w))
    return _cases(ap, service=ap.centre_id, citizen=ap.citizen_id, rid=ap.id)


def intermediary(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    a = _apps(t, w)
    a = a.filter(_in(a.submitted_at, w) & a.submitted_by_id.notnull())
    u = t.users.filter(t.users.role == "citizen")
    u = u.select(u_id=u.id)
    j = a.join(u, a.submitted_by_id == u.u_id)
    for_others = j.applicant_id.isnull() | (j.applicant_id != j.submitted_by_id)
    return _cases(j, service=ibis.literal(0, type="int64"), citizen=j.submitted_by_id,
                  hit=_int(for_others), rid=j.id)


def off_hours(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    d = _decisions(t, w)
    local = _epoch(d.at) + int(w.utc_offset_hours * 3600)
    hour = (local % 86400) // 3600
    weekday = ((local // 86400) + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    outside = (hour < int(c.param("work_start_hour"))) | \
        (hour >= int(c.param("work_end_hour"))) | (weekday >= 5)
    return _cases(d, service=d.a_service, officer=d.actor_id, unit=d.a_agency,
                  hit=_int(outside), rid=d.application_id)


def rating_burst(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    r = t.ratings
    r = r.filter((r.country_id == w.country_id) & _in(r.created_at, w)
                 & (r.channel != "kiosk"))
    r = r.mutate(r_day=_epoch(r.created_at) // 86400,
                 r_top=_int((r.lowest >= int(c.param("top_score"))) & (r.device != "")))
    days = r.filter(r.r_top == 1)
    days = days.group_by(b_device=days.device, b_day=days.r_day).aggregate(b_n=days.count())
    days = days.filter(days.b_n >= int(c.param("burst_ratings")))
    j = r.left_join(days, (r.device == days.b_device) & (r.r_day == days.b_day))
    tk = t.tickets.select(t_id=t.tickets.id, t_operator=t.tickets.operator_id)
    j = j.left_join(tk, j.ticket_id == tk.t_id)
    return _cases(j, service=ibis.literal(0, type="int64"), centre=j.centre_id,
                  operator=j.t_operator, unit=j.agency_id,
                  hit=_int(j.b_n.notnull() & (j.r_top == 1)), rid=j.id)


def complaint_rate(t: FlagTables, w: Window, c: FlagsConfig) -> ir.Table:
    """Served (the denominator: tickets served at the counter, applications completed
    for units) and complaints registered in the period against the same subject."""
    zero = ibis.literal(0, type="int64")
    tk = _tickets(t, w)
    tk = tk.filter((tk.state == "served") & _in(tk.finished_at, w))
    served = _cases(tk, service=zero, centre=tk.centre_id, operator=tk.operator_id,
                    hit=zero, rid=tk.id)
    a = _apps(t, w)
    a = a.filter(_in(a.completed_at, w))
    completed = _cases(a, service=zero, unit=a.agency_id, hit=zero, rid=a.id)
    k = t.complaints
    k = k.filter((k.country_id == w.country_id) & _in(k.registered_at, w))
    complaints = _cases(k, service=zero, centre=k.centre_id, operator=k.staff_id,
                        unit=k.agency_id, base=zero, rid=k.id)
    return served.union(completed).union(complaints)


def extra_documents(t: FlagTables, w: Window, c: FlagsConfig) -> pd.DataFrame:
    """Requests for documents: a hit when a requested code is not in the standard's list.
    The event data is JSON, read in Python for the (few) request events only."""
    e = t.events
    e = e.filter((e.action == "request_documents") & e.actor_role.isin(list(DECIDERS))
                 & _in(e.at, w))
    a = _apps(t, w)
    a = a.select(a_id=a.id, a_service=a.service_id, a_agency=a.agency_id,
                 a_standard=a.standard_id)
    j = e.join(a, e.application_id == a.a_id)
    frame = j.select(officer=j.actor_id, unit=j.a_agency, service=j.a_service,
                     standard=j.a_standard, rid=j.application_id, data=j.data).execute()
    s = t.standards.execute()
    allowed = {int(row.id): _codes(row.documents) for row in s.itertuples()}
    hits = [
        1 if set(_requested(data)) - allowed.get(int(std), set()) else 0
        for data, std in zip(frame["data"], frame["standard"], strict=True)
    ]
    frame = frame.drop(columns=["data", "standard"])
    frame["hit"] = hits
    frame["base"] = 1
    frame["rid2"] = pd.NA
    for kind in ("operator", "centre", "citizen"):
        frame[kind] = pd.NA
    return frame


def _codes(documents: Any) -> set[str]:
    items = json.loads(documents) if isinstance(documents, str) else (documents or [])
    return {str(d.get("code")) for d in items if isinstance(d, Mapping)}


def _requested(data: Any) -> list[str]:
    value = json.loads(data) if isinstance(data, str) and data else (data or {})
    codes = value.get("requested_documents", []) if isinstance(value, Mapping) else []
    return [str(code) for code in codes] if isinstance(codes, list) else []


BUILDERS: dict[str, Callable[[FlagTables, Window, FlagsConfig], Any]] = {
    "refusal_rate": refusal_rate,
    "refuse_then_approve": refuse_then_approve,
    "overturned_refusals": overturned_refusals,
    "deadline_riding": deadline_riding,
    "out_of_order": out_of_order,
    "slot_hoarding": slot_hoarding,
    "intermediary": intermediary,
    "counter_time": counter_time,
    "off_hours": off_hours,
    "rating_burst": rating_burst,
    "complaint_rate": complaint_rate,
    "extra_documents": extra_documents,
}


# --------------------------------------------------------------------------- scoring


def _counts(cases: Any, kind: str) -> pd.DataFrame:
    """n (base rows) and k (hits) per subject of `kind` and service."""
    if isinstance(cases, pd.DataFrame):
        frame = cases[cases[kind].notna()]
        grouped = frame.groupby([kind, "service"], as_index=False).agg(
            n=("base", "sum"), k=("hit", "sum"))
        return grouped.rename(columns={kind: "subject"})
    c = cases.filter(cases[kind].notnull())
    out = c.group_by(subject=c[kind], service=c.service).aggregate(
        n=c.base.sum(), k=c.hit.sum())
    return out.execute()


def score(spec: Spec, counts: pd.DataFrame, config: FlagsConfig) -> pd.DataFrame:
    """The z of every subject against its peers of the same service; only the rows that
    raise the flag, with value, z, n, k, peers and score."""
    rule = config.rule(spec.code)
    if counts.empty:
        return counts.assign(z=[], peers=[], value=[], score=[])
    frame = counts.copy()
    frame["n"] = frame["n"].astype("int64")
    frame["k"] = frame["k"].astype("int64")
    groups = frame.groupby("service")
    if spec.method == "rate":
        frame = frame[frame["n"] > 0].copy()
        groups = frame.groupby("service")
        total_n = groups["n"].transform("sum")
        total_k = groups["k"].transform("sum")
        frame["peers"] = groups["n"].transform("count") - 1
        frame["value"] = frame["k"] / frame["n"]
        frame["z"] = [
            binomial_z(min(k, n), n, tk - k, tn - n)
            for k, n, tk, tn in zip(frame["k"], frame["n"], total_k, total_n, strict=True)
        ]
        frame["z"] = frame["z"] / _dispersion(frame, rule.min_n) ** 0.5
        # too few peers on the service: compare with every subject of the kind instead
        few = frame["peers"] < config.min_peers
        if few.any() and len(frame) > config.min_peers:
            everyone = frame.assign(service=0)
            all_n, all_k = int(frame["n"].sum()), int(frame["k"].sum())
            wide = [binomial_z(min(k, n), n, all_k - k, all_n - n)
                    for k, n in zip(frame["k"], frame["n"], strict=True)]
            wide_z = pd.Series(wide, index=frame.index) / _dispersion(
                everyone, rule.min_n) ** 0.5
            frame.loc[few, "z"] = wide_z[few]
            frame.loc[few, "peers"] = len(frame) - 1
        raised = frame[(frame["z"] >= rule.z_threshold) & (frame["n"] >= rule.min_n)
                       & (frame["peers"] >= config.min_peers)
                       & (frame["k"] >= max(config.param("min_hits"), 1))]
    else:
        # robust: distance from the median in (scaled) median absolute deviations, at
        # least one case, so a few extreme subjects do not hide each other
        median = groups["k"].transform("median")
        mad = (frame["k"] - median).abs().groupby(frame["service"]).transform("median")
        scale = (1.4826 * mad).clip(lower=1.0)
        frame["peers"] = groups["k"].transform("count") - 1
        frame["value"] = frame["k"].astype(float)
        frame["z"] = (frame["k"] - median) / scale
        floor = config.param(spec.floor_param) if spec.floor_param else 1
        raised = frame[(frame["z"] >= rule.z_threshold) & (frame["k"] >= floor)
                       & (frame["peers"] >= config.min_peers)]
    raised = raised.copy()
    raised["score"] = [config.score(spec.code, z) for z in raised["z"]]
    return raised


DISPERSION_MIN_SUBJECTS = 5
CHI2_1_MEDIAN = 0.4549  # the median of a chi-squared variable with one degree of freedom


def _dispersion(frame: pd.DataFrame, min_n: int) -> pd.Series:
    """How much more the subjects of a service vary than chance alone would make them
    (quasi-binomial): the median of the subjects' squared Pearson residuals against the
    service's pooled rate, over its median under chance; at least 1; for services with
    fewer than DISPERSION_MIN_SUBJECTS subjects of `min_n` cases or more, the same over
    every service's subjects. Honest
    subjects differ (a slow service, a hard caseload); the median keeps a few outliers
    from hiding themselves."""
    sized = frame[frame["n"] >= min_n]
    groups = sized.groupby("service")
    p = groups["k"].transform("sum") / groups["n"].transform("sum")
    chi = (sized["k"] - sized["n"] * p) ** 2 / (sized["n"] * p * (1 - p))
    chi = chi.where((p > 0) & (p < 1))
    per_service = pd.DataFrame({"service": sized["service"], "chi": chi}).groupby(
        "service")["chi"].agg(["median", "count"])
    per_service = per_service[per_service["count"] >= DISPERSION_MIN_SUBJECTS]
    phi = (per_service["median"] / CHI2_1_MEDIAN).clip(lower=1.0)
    # a service with too few subjects takes the flag's dispersion over every service
    overall = 1.0
    if chi.notna().sum() >= DISPERSION_MIN_SUBJECTS:
        overall = max(1.0, float(chi.median()) / CHI2_1_MEDIAN)
    return frame["service"].map(phi).fillna(overall).astype(float)


def _evidence(spec: Spec, cases: Any, kind: str, subjects: Iterable[int]
              ) -> dict[int, dict[str, list[int]]]:
    """The records of every suspicious case of the raised subjects (on any service: the
    flag is the subject's), at most EVIDENCE_CAP per kind of record."""
    wanted = sorted({int(s) for s in subjects})
    if not wanted:
        return {}
    if isinstance(cases, pd.DataFrame):
        frame = cases[(cases["hit"] == 1) & cases[kind].isin(wanted)]
        frame = frame.rename(columns={kind: "subject"})[["subject", "rid", "rid2"]]
    else:
        c = cases.filter((cases.hit == 1) & cases[kind].isin(wanted))
        frame = c.select(subject=c[kind], rid=c.rid, rid2=c.rid2).execute()
    found: dict[int, dict[str, set[int]]] = {}
    for row in frame.itertuples(index=False):
        bucket = found.setdefault(int(row.subject), {})
        for name, rid in zip(spec.evidence, (row.rid, row.rid2), strict=False):
            if rid is not None and not pd.isna(rid):
                bucket.setdefault(name, set()).add(int(rid))
    return {subject: {name: sorted(ids)[:EVIDENCE_CAP] for name, ids in bucket.items()}
            for subject, bucket in found.items()}


def compute(tables: FlagTables, window: Window, config: FlagsConfig,
            flags: Iterable[str] | None = None) -> list[Raised]:
    """Every raised flag of every subject: the strongest service per subject and flag,
    with its evidence."""
    out: list[Raised] = []
    for code in flags or SPECS:
        spec = SPECS[code]
        if not config.rule(code).enabled:
            continue
        out += _raised(spec, BUILDERS[code](tables, window, config), config)
    return out


def _raised(spec: Spec, cases: Any, config: FlagsConfig) -> list[Raised]:
    """The raised flags of one flag's cases, per subject kind."""
    out: list[Raised] = []
    for kind in spec.kinds:
        raised = score(spec, _counts(cases, kind), config)
        if raised.empty:
            continue
        evidence = _evidence(spec, cases, kind, raised["subject"])
        raised = raised.sort_values("z", ascending=False).drop_duplicates("subject")
        for row in raised.itertuples(index=False):
            subject, service = int(row.subject), int(row.service)
            out.append(Raised(
                flag=spec.code, kind=kind, subject=subject, service=service,
                value=round(float(row.value), 6), z=round(float(row.z), 4), n=int(row.n),
                k=int(row.k), peers=int(row.peers), score=float(row.score),
                evidence=evidence.get(subject, {}),
            ))
    return out


def risk(raised: Iterable[Raised]) -> dict[tuple[str, int], float]:
    """The risk score of every subject: the sum of its raised flags' points."""
    total: dict[tuple[str, int], float] = {}
    for item in raised:
        key = (item.kind, item.subject)
        total[key] = round(total.get(key, 0.0) + item.score, 4)
    return total
