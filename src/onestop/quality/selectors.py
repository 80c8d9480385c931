"""Reads of stored assessment runs: the latest run of a period and scope, its results in
ranking order, a unit's trend over earlier periods, who may see what, and the drill-down
from an indicator to the records behind it.

The drill-down recomputes, with plain ORM queries, the records the Ibis expressions of
`onestop.quality.indicators` count for one unit and one measure over the run's window
(the same filters, in the same words as docs/methodology.md): the denominator's records,
each flagged when it is in the numerator. Operators appear by account id only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications.models import Application
from onestop.applications.selectors import visible
from onestop.catalogue.models import Agency, Country, Region, Service
from onestop.catalogue.selectors import agency_subtree_ids
from onestop.centres.models import Centre, Ticket
from onestop.centres.stats import group_standards
from onestop.control.models import Violation
from onestop.feedback.models import Complaint, Rating
from onestop.quality.methodology import SCOPES, Methodology, parse
from onestop.quality.models import AssessmentResult, AssessmentRun

PERIOD_PATTERN = r"^\d{4}(-(Q[1-4]|H[12]|0[1-9]|1[0-2]))?$"
_PERIOD = re.compile(PERIOD_PATTERN)
UNIT_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"  # a unit's code, or an operator's account id
_UNIT = re.compile(UNIT_PATTERN)
_COUNTRY = re.compile(r"^[a-z]{2}$")
READERS = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.CONTROLLER, Role.ANALYST, Role.ADMIN})
EVERYTHING = frozenset({Role.CONTROLLER, Role.ANALYST, Role.ADMIN})
OPERATOR_SCOPE_READERS = frozenset({Role.CONTROLLER, Role.ANALYST})


# --------------------------------------------------------------------------- permissions


def may_see_rankings(user: Any) -> bool:
    """Agency staff (officers, supervisors), controllers, analysts and admins."""
    return getattr(user, "role", None) in READERS


def may_see_scope(user: Any, scope: str) -> bool:
    """Operator-level results only for controllers and analysts; the other scopes for
    every reader."""
    role = getattr(user, "role", None)
    if scope == "operator":
        return role in OPERATOR_SCOPE_READERS
    return role in READERS


def own_units(user: Any, scope: str) -> set[int] | None:
    """The units of `scope` a user may drill into: None for all (controllers, analysts,
    admins); an agency's staff their agency (and its sub-units) and its services; a
    centre's manager their centre; nothing else."""
    role = getattr(user, "role", None)
    if role in EVERYTHING:
        return None
    if role not in READERS:
        return set()
    agency_id = getattr(user, "agency_id", None)
    centre_id = getattr(user, "centre_id", None)
    if agency_id is not None:
        agencies = agency_subtree_ids([agency_id])
        if scope == "agency":
            return agencies
        if scope == "service":
            return set(Service.objects.filter(provider_id__in=agencies)
                       .values_list("pk", flat=True))
        return set()
    if centre_id is not None and scope == "centre":
        return {centre_id}
    return set()


def may_drill(user: Any, scope: str, unit_id: int) -> bool:
    if not may_see_scope(user, scope):
        return False
    units = own_units(user, scope)
    return units is None or unit_id in units


# --------------------------------------------------------------------------- runs


def period_kind(period: str) -> str:
    """"Q", "H", "M" or "Y": trends compare periods of one kind."""
    if "-Q" in period:
        return "Q"
    if "-H" in period:
        return "H"
    return "M" if "-" in period else "Y"


def valid_period(period: str) -> bool:
    return bool(_PERIOD.fullmatch(period))


def valid_unit(code: str) -> bool:
    return bool(_UNIT.fullmatch(code))


def valid_country(code: str) -> bool:
    return bool(_COUNTRY.fullmatch(code))


def latest_run(country: Country, period: str, scope: str) -> AssessmentRun | None:
    """The newest stored run of this country, period and scope."""
    return (AssessmentRun.objects.filter(country=country, period=period, scope=scope)
            .select_related("methodology", "country").order_by("-created_at", "-pk").first())


def stored_periods(country: Country, scope: str) -> list[str]:
    """The periods with a stored run of this scope, the latest first."""
    seen: dict[str, dt.datetime] = {}
    for period, starts in (AssessmentRun.objects.filter(country=country, scope=scope)
                           .values_list("period", "starts_at")):
        seen[period] = starts
    return sorted(seen, key=lambda p: (seen[p], p), reverse=True)


def methodology_of(run: AssessmentRun) -> Methodology:
    return parse(run.methodology.definition)


def ranking(run: AssessmentRun) -> list[AssessmentResult]:
    """The run's results: the ranked by rank (ties by unit id), then the unranked by
    score, highest first (no score last), then unit id."""
    results = list(run.results.all())
    return sorted(results, key=lambda r: (
        not r.ranked, r.rank if r.ranked and r.rank is not None else 0,
        0 if r.ranked else (r.score is None, -(r.score or 0.0)), r.unit_id,
    ))


def result_for(run: AssessmentRun, unit_code: str) -> AssessmentResult | None:
    return run.results.filter(unit_code=unit_code).first()


def unit_names(scope: str, unit_ids: list[int]) -> dict[int, dict[str, str]]:
    """The names (by language) of units; operators have none ("operator #id" is shown)."""
    if scope in ("agency", "region", "centre"):
        model = {"agency": Agency, "region": Region, "centre": Centre}[scope]
        return dict(model.objects.filter(pk__in=unit_ids)  # type: ignore[attr-defined]
                    .values_list("pk", "name"))
    if scope == "service":
        names: dict[int, dict[str, str]] = {}
        for service in Service.objects.filter(pk__in=unit_ids).prefetch_related("versions"):
            versions = sorted(service.versions.all(), key=lambda v: v.valid_from)
            names[service.pk] = dict(versions[-1].name) if versions else {}
        return names
    return {}


@dataclass(frozen=True)
class TrendPoint:
    period: str
    starts_at: dt.datetime
    run_id: int
    version: str
    example: bool
    result: AssessmentResult | None


def trend(run: AssessmentRun, unit_code: str) -> list[TrendPoint]:
    """The unit in the latest stored run of every period of the same kind (quarters
    with quarters, ...) up to and including the run's, earliest first; `result` is None
    for a period where the unit has no result."""
    kind = period_kind(run.period)
    latest: dict[str, AssessmentRun] = {}
    for other in (AssessmentRun.objects.filter(country_id=run.country_id, scope=run.scope,
                                               starts_at__lte=run.starts_at)
                  .select_related("methodology").order_by("created_at", "pk")):
        if period_kind(other.period) == kind:
            latest[other.period] = other
    latest[run.period] = run
    results = {r.run_id: r for r in AssessmentResult.objects.filter(
        run_id__in=[r.pk for r in latest.values()], unit_code=unit_code)}
    points = [
        TrendPoint(period=r.period, starts_at=r.starts_at, run_id=r.pk,
                   version=r.methodology.version, example=r.methodology.example,
                   result=results.get(r.pk))
        for r in latest.values()
    ]
    return sorted(points, key=lambda p: p.starts_at)


# --------------------------------------------------------------------------- drill-down


class DrillError(ValueError):
    """A drill-down that cannot be answered (e.g. no single numerator)."""


@dataclass(frozen=True)
class CaseRow:
    kind: str  # application | rating | complaint | violation | ticket
    ref: str  # the application's, complaint's or ticket's number; a rating's or violation's id
    at: dt.datetime | None
    in_numerator: bool | None
    application: str | None  # the number of the application behind it, if any
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CasePage:
    measure: str
    records: str  # applications | ratings | complaints | violations | tickets
    numerator: str  # what the numerator counts, in words ("" when there is none)
    count: int  # the records behind the denominator (after the `flagged` filter)
    in_numerator: int | None  # of all records behind the denominator
    items: list[CaseRow]


@dataclass(frozen=True)
class _Context:
    run: AssessmentRun
    m: Methodology
    scope: str
    unit: int

    @property
    def start(self) -> dt.datetime:
        return self.run.starts_at

    @property
    def end(self) -> dt.datetime:
        return self.run.ends_at

    @property
    def as_of(self) -> dt.datetime:
        return self.run.as_of


def _application_unit(scope: str, unit: int) -> Q:
    if scope == "agency":
        return Q(agency_id=unit)
    if scope == "region":
        return Q(region_id=unit) | Q(region__isnull=True, centre__region_id=unit)
    if scope == "centre":
        return Q(centre_id=unit)
    if scope == "service":
        return Q(service_id=unit)
    return Q(channel="centre", submitted_by_id=unit)


def _applications(c: _Context) -> QuerySet[Application]:
    return Application.objects.filter(country_id=c.run.country_id).filter(
        _application_unit(c.scope, c.unit)).select_related("service")


def _finished(c: _Context) -> QuerySet[Application]:
    return _applications(c).filter(outcome__in=list(c.m.finished_outcomes),
                                   completed_at__gte=c.start, completed_at__lt=c.end)


def _submitted(c: _Context) -> QuerySet[Application]:
    return _applications(c).filter(submitted_at__gte=c.start, submitted_at__lt=c.end)


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False),
                output_field=BooleanField())


def _app_row(a: Application, flag: bool | None, at: dt.datetime | None) -> CaseRow:
    return CaseRow(kind="application", ref=a.number, at=at, in_numerator=flag,
                   application=a.number, detail={
                       "service": a.service.code, "channel": a.channel,
                       "submitted_at": a.submitted_at, "deadline_at": a.deadline_at,
                       "completed_at": a.completed_at,
                       "clock_stopped_at": a.clock_stopped_at, "outcome": a.outcome,
                   })


@dataclass(frozen=True)
class _Query:
    records: str
    numerator: str
    queryset: QuerySet[Any]  # annotated with `flag` (None: no numerator) and ordered
    row: Callable[[Any], CaseRow]


def _timeliness(c: _Context) -> _Query:
    qs = _finished(c).annotate(
        finished_at=Coalesce("clock_stopped_at", "completed_at"),
    ).annotate(flag=_flag(Q(finished_at__gt=F("deadline_at"))))
    return _Query("applications", "late", qs.order_by("completed_at", "pk"),
                  lambda a: _app_row(a, a.flag, a.completed_at))


def _lawful_refusals(c: _Context) -> _Query:
    overturned = Complaint.objects.filter(
        country_id=c.run.country_id, application_id=OuterRef("pk"),
        ground="unjustified_refusal", decision__in=list(c.m.upheld_decisions),
        decided_at__isnull=False, decided_at__lte=c.as_of,
    )
    qs = _finished(c).filter(outcome="refused").annotate(flag=Exists(overturned))
    return _Query("applications", "overturned", qs.order_by("completed_at", "pk"),
                  lambda a: _app_row(a, a.flag, a.completed_at))


def _digital(c: _Context) -> _Query:
    qs = _submitted(c).annotate(flag=_flag(Q(channel__in=list(c.m.digital_channels))))
    return _Query("applications", "digital", qs.order_by("submitted_at", "pk"),
                  lambda a: _app_row(a, a.flag, a.submitted_at))


def _completion(c: _Context) -> _Query:
    qs = _submitted(c).annotate(flag=_flag(
        Q(outcome__in=list(c.m.finished_outcomes), completed_at__lt=c.end)))
    return _Query("applications", "completed", qs.order_by("submitted_at", "pk"),
                  lambda a: _app_row(a, a.flag, a.submitted_at))


def _cost(c: _Context) -> _Query:
    qs = _submitted(c).filter(channel__in=sorted(c.m.channel_costs)).annotate(
        flag=Value(None, output_field=BooleanField()))
    return _Query("applications", "", qs.order_by("submitted_at", "pk"),
                  lambda a: _app_row(a, None, a.submitted_at))


def _linked_unit(scope: str, unit: int, *, agency: str, region: Any, centre: str,
                 service: str, operator: Any) -> tuple[dict[str, Any], Q]:
    """An annotation and filter for records that reach their unit through their own
    columns or their application's (`region`/`operator` may be expressions)."""
    expression = {"agency": agency, "region": region, "centre": centre, "service": service,
                  "operator": operator}[scope]
    if isinstance(expression, str):
        return {}, Q(**{expression: unit})
    return {"u_unit": expression}, Q(u_unit=unit)


def _satisfaction(c: _Context) -> _Query:
    annotation, where = _linked_unit(
        c.scope, c.unit, agency="agency_id",
        region=Coalesce("application__region_id", "centre__region_id"),
        centre="centre_id", service="application__service_id",
        operator=Coalesce(
            Case(When(application__channel="centre", then=F("application__submitted_by_id")),
                 default=None, output_field=IntegerField()),
            "ticket__operator_id"),
    )
    qs = (Rating.objects.filter(country_id=c.run.country_id, created_at__gte=c.start,
                                created_at__lt=c.end)
          .annotate(**annotation).filter(where).select_related("application")
          .annotate(flag=Value(None, output_field=BooleanField())))
    criteria = list(c.m.criteria)

    def row(r: Rating) -> CaseRow:
        scores = r.scores if isinstance(r.scores, dict) else {}
        return CaseRow(kind="rating", ref=str(r.pk), at=r.created_at, in_numerator=None,
                       application=r.application.number if r.application else None,
                       detail={k: scores.get(k) for k in criteria})

    return _Query("ratings", "", qs.order_by("created_at", "pk"), row)


def _complaints(c: _Context) -> _Query:
    annotation, where = _linked_unit(
        c.scope, c.unit, agency="u_agency",
        region=Coalesce("application__region_id", "centre__region_id"),
        centre="centre_id", service="application__service_id", operator="staff_id",
    )
    qs = Complaint.objects.filter(country_id=c.run.country_id, level="provider",
                                  registered_at__gte=c.start, registered_at__lt=c.end)
    if c.scope == "agency":
        qs = qs.annotate(u_agency=Coalesce("agency_id", "application__agency_id"))
    decided = Q(decided_at__isnull=False, decided_at__lte=c.as_of) & ~Q(decision="")
    qs = (qs.annotate(**annotation).filter(where).select_related("application")
          .annotate(due=Coalesce("extended_to", "deadline_at"))
          .annotate(flag=_flag(decided & Q(decided_at__lte=F("due")))))
    as_of = c.as_of

    def row(k: Complaint) -> CaseRow:
        known = k.decided_at is not None and k.decided_at <= as_of and k.decision != ""
        return CaseRow(kind="complaint", ref=k.number, at=k.registered_at,
                       in_numerator=k.flag,  # type: ignore[attr-defined]
                       application=k.application.number if k.application else None,
                       detail={"ground": k.ground, "deadline_at": k.deadline_at,
                               "extended_to": k.extended_to,
                               "decided_at": k.decided_at if known else None,
                               "decision": k.decision if known else "",
                               "upheld": known and k.decision in c.m.upheld_decisions})

    return _Query("complaints", "answered in time", qs.order_by("registered_at", "pk"), row)


def _violations(c: _Context) -> _Query:
    annotation, where = _linked_unit(
        c.scope, c.unit, agency="agency_id",
        region=Coalesce("application__region_id", "centre__region_id"),
        centre="centre_id", service="application__service_id", operator="person_id",
    )
    qs = (Violation.objects.filter(country_id=c.run.country_id, found_at__gte=c.start,
                                   found_at__lt=c.end)
          .annotate(**annotation).filter(where).select_related("application")
          .annotate(flag=_flag(Q(found_by="self"))))

    def row(v: Violation) -> CaseRow:
        return CaseRow(kind="violation", ref=str(v.pk), at=v.found_at,
                       in_numerator=v.flag,  # type: ignore[attr-defined]
                       application=v.application.number if v.application else None,
                       detail={"kind": v.kind, "found_by": v.found_by})

    return _Query("violations", "found by the body itself", qs.order_by("found_at", "pk"),
                  row)


def _queue_wait(c: _Context) -> _Query:
    qs = Ticket.objects.filter(state="served", finished_at__gte=c.start,
                               finished_at__lt=c.end, centre__country_id=c.run.country_id)
    if c.scope in ("agency", "service"):
        qs = qs.none()  # tickets have no agency or service
    elif c.scope == "region":
        qs = qs.filter(centre__region_id=c.unit)
    elif c.scope == "centre":
        qs = qs.filter(centre_id=c.unit)
    else:
        qs = qs.filter(operator_id=c.unit)
    zone = ZoneInfo(c.run.country.time_zone)
    on = (c.end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    standards = group_standards(c.run.country, on)
    within = Q(group_id__isnull=False) & ~Q(group_id__in=list(standards.max_wait_minutes)) & Q(
        wait_seconds__lte=standards.default_max_wait_minutes * 60)
    for group, minutes in standards.max_wait_minutes.items():
        within |= Q(group_id=group, wait_seconds__lte=minutes * 60)
    within &= Q(wait_seconds__isnull=False)
    qs = qs.select_related("group").annotate(flag=_flag(within))

    def row(t: Ticket) -> CaseRow:
        return CaseRow(kind="ticket", ref=t.number, at=t.finished_at,
                       in_numerator=t.flag,  # type: ignore[attr-defined]
                       application=None,
                       detail={"group": t.group.code, "wait_seconds": t.wait_seconds,
                               "max_wait_seconds": 60 * standards.max_wait(t.group_id)})

    return _Query("tickets", "served within the maximum wait",
                  qs.order_by("finished_at", "pk"), row)


DRILLS: dict[str, Callable[[_Context], _Query]] = {
    "timeliness": _timeliness,
    "satisfaction": _satisfaction,
    "lawful_refusals": _lawful_refusals,
    "complaint_handling": _complaints,
    "digital_take_up": _digital,
    "completion_rate": _completion,
    "internal_control": _violations,
    "queue_wait": _queue_wait,
    "cost_per_transaction": _cost,
}


def indicator_measure(run: AssessmentRun, code: str) -> str | None:
    """The measure of the run's indicator `code`, or None when it has no such one."""
    for indicator in methodology_of(run).indicators:
        if indicator.code == code:
            return indicator.measure
    return None


def cases(run: AssessmentRun, result: AssessmentResult, indicator: str, *,
          flagged: bool | None = None, offset: int = 0, limit: int = 50) -> CasePage:
    """The records behind one unit's indicator in this run: those of its denominator in
    time order, each flagged when it is in the numerator; `flagged` keeps only those in
    (True) or out of (False) the numerator."""
    if run.scope not in SCOPES:
        raise DrillError(f"scope {run.scope!r} is not known")
    measure = indicator_measure(run, indicator)
    if measure is None:
        raise LookupError(f"the methodology {run.methodology.version} has no indicator "
                          f"{indicator!r}")
    context = _Context(run=run, m=methodology_of(run), scope=run.scope, unit=result.unit_id)
    query = DRILLS[measure](context)
    qs = query.queryset
    in_numerator = qs.filter(flag=True).count() if query.numerator else None
    if flagged is not None:
        if not query.numerator:
            raise DrillError(f"{indicator} has no single numerator to filter by "
                             "(its value is a mean or a cost): leave `flagged` out")
        qs = qs.filter(flag=flagged)
    total = qs.count()
    items = [query.row(record) for record in qs[offset:offset + limit]]
    return CasePage(measure=measure, records=query.records, numerator=query.numerator,
                    count=total, in_numerator=in_numerator, items=items)


def visible_numbers(user: User, numbers: list[str]) -> set[str]:
    """Of these application numbers, those `user` may open in the office."""
    if not numbers:
        return set()
    return set(visible(user).filter(number__in=numbers).values_list("number", flat=True))
