"""The optimisation report of one agency over one period: the changes that would save
its applicants the most days, each with its evidence and its estimate.

Every service the agency (or one of its sub-units) provides is analysed
(`onestop.integrity.bottleneck_services.analyse_service`, one query per service on one
set of tables); the heuristics below turn the analysis into candidate changes, and the
three with the largest estimated saving are the report's recommendations. The rules and
the estimates in words are in docs/bottlenecks.md ("Optimisation report").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from onestop.catalogue.models import Agency, Country, Service
from onestop.catalogue.selectors import agency_subtree_ids
from onestop.centres.models import Centre, Ticket
from onestop.centres.stats import group_standards
from onestop.integrity import bottleneck_services as services
from onestop.integrity import bottleneck_sources as sources
from onestop.integrity.bottleneck_services import BottleneckError, ServiceAnalysis

#: A stage is a candidate for automation only when its median stay is at least this long.
AUTOMATE_MIN_HOURS = 8.0
#: The role an automatic step runs as in the workflows.
SYSTEM_ROLE = "system"
#: Actions only these roles take are the applicant's, not the stage's work.
APPLICANT_ROLES = frozenset({"citizen", "operator"})
RECOMMENDED = 3
KINDS = ("state_database_document", "repeated_document", "automate_stage",
         "interagency_wait", "understaffed_centre")


@dataclass(frozen=True)
class Change:
    """One proposed change; the same change found in several of the agency's services
    (the same stage, document, agency asked or centre) is one change, its saving the sum
    and its evidence given per service ("" for a centre)."""

    kind: str  # one of KINDS
    subject: str  # a document code, a stage, an agency code or a centre code
    saving_days: float  # estimated citizen-days saved over the period
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)  # service -> facts

    @property
    def services(self) -> list[str]:
        return [code for code in self.evidence if code]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "services": self.services,
                "saving_days": round(self.saving_days, 3), "evidence": self.evidence}


def merged(changes: list[Change]) -> list[Change]:
    """One change per kind and subject, by estimated saving (largest first)."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        groups.setdefault((change.kind, change.subject), []).append(change)
    out = []
    for (kind, subject), group in groups.items():
        evidence: dict[str, dict[str, Any]] = {}
        for change in sorted(group, key=lambda c: (-c.saving_days, sorted(c.evidence))):
            evidence.update(change.evidence)
        out.append(Change(kind, subject, sum(c.saving_days for c in group), evidence))
    out.sort(key=lambda c: (-c.saving_days, KINDS.index(c.kind), c.subject))
    return out


@dataclass(frozen=True)
class Report:
    country: Country
    agency: Agency
    period: str
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    analyses: list[ServiceAnalysis]
    candidates: list[Change]

    @property
    def recommended(self) -> list[Change]:
        return self.candidates[:RECOMMENDED]

    @property
    def total_saving_days(self) -> float:
        return sum(c.saving_days for c in self.recommended)

    def as_dict(self) -> dict[str, Any]:
        return {
            "country": self.country.code, "agency": self.agency.code, "period": self.period,
            "starts_at": self.start.isoformat(), "ends_at": self.end.isoformat(),
            "as_of": self.as_of.isoformat(),
            "services": [{"service": a.service.code,
                          "applications": a.analysis.applications,
                          "finished": a.analysis.finished,
                          "slowest_stage": a.analysis.slowest_stage,
                          "most_deadline_stage": a.analysis.most_deadline_stage}
                         for a in self.analyses],
            "recommended": [c.as_dict() for c in self.recommended],
            "total_saving_days": round(self.total_saving_days, 3),
            "candidates": [c.as_dict() for c in self.candidates],
        }


def _automatable(result: ServiceAnalysis, stage: str) -> bool:
    """Every observed exit of the stage taken by the agency (actions only the applicant
    takes, such as a withdrawal, are left aside) is an action the workflow lets the
    system take, or one that needs no input from a person (nothing to decide or to
    attach); and there is at least one such exit."""
    state = result.workflow.states.get(stage)
    if state is None or state.stopped or state.waits_on or state.terminal:
        return False
    stats = result.analysis.stage(stage)
    if stats is None or not stats.exits:
        return False
    actions = {a.code: a for a in result.workflow.actions_from(stage)}
    agency_exits = 0
    for code in stats.exits:
        action = actions.get(code)
        if action is None:
            return False
        if action.roles <= APPLICANT_ROLES:
            continue
        if SYSTEM_ROLE not in action.roles and action.requires:
            return False
        agency_exits += 1
    return agency_exits > 0


def service_changes(result: ServiceAnalysis) -> list[Change]:
    """The candidate changes one service's analysis supports."""
    code = result.service.code
    a = result.analysis
    changes: list[Change] = []
    for doc in a.documents:
        evidence = {"requests": doc.requests, "applications": doc.applications,
                    "repeated_applications": doc.repeated_applications,
                    "citizen_days": round(doc.citizen_days, 3), "source": doc.source}
        if doc.source == "state_database" and doc.citizen_days > 0:
            changes.append(Change("state_database_document", doc.code, doc.citizen_days,
                                  {code: evidence}))
        elif doc.citizen_days > 0:
            changes.append(Change("repeated_document", doc.code, doc.citizen_days,
                                  {code: {**evidence, "repeat_citizen_days":
                                          round(doc.repeat_citizen_days, 3)}}))
    for stats in a.stages:
        if (stats.median_hours or 0.0) >= AUTOMATE_MIN_HOURS and _automatable(result,
                                                                            stats.stage):
            changes.append(Change("automate_stage", stats.stage, stats.citizen_days, {code: {
                "visits": stats.visits, "median_hours": stats.median_hours,
                "p90_hours": stats.p90_hours,
                "median_working_days": stats.median_working_days,
                "exits": dict(stats.exits), "citizen_days": round(stats.citizen_days, 3)}}))
    for wait in a.waits:
        if wait.citizen_days > 0:
            changes.append(Change("interagency_wait", wait.agency, wait.citizen_days, {code: {
                "requests": wait.requests, "answered": wait.answered, "open": wait.open,
                "median_working_days": wait.median_working_days,
                "p90_working_days": wait.p90_working_days, "over_limit": wait.over_limit,
                "citizen_days": round(wait.citizen_days, 3)}}))
    return changes


def centre_changes(country: Country, centre_ids: set[int], start: dt.datetime,
                   end: dt.datetime) -> list[Change]:
    """Centres where the agency's applications came in and whose queue kept people
    waiting beyond the standard's longest wait: the days over the standard, summed."""
    if not centre_ids:
        return []
    standards = group_standards(country, start.date())
    rows = Ticket.objects.filter(
        centre_id__in=centre_ids, state="served", finished_at__gte=start,
        finished_at__lt=end, wait_seconds__isnull=False,
    ).values_list("centre_id", "group_id", "wait_seconds")
    served: dict[int, int] = {}
    over: dict[int, int] = {}
    excess: dict[int, float] = {}
    for centre_id, group_id, wait in rows.iterator():
        if wait is None:  # pragma: no cover - filtered out above
            continue
        limit = standards.max_wait(group_id) * 60
        served[centre_id] = served.get(centre_id, 0) + 1
        if wait > limit:
            over[centre_id] = over.get(centre_id, 0) + 1
            excess[centre_id] = excess.get(centre_id, 0.0) + (wait - limit) / 86400
    codes = dict(Centre.objects.filter(pk__in=list(excess)).values_list("pk", "code"))
    return [Change("understaffed_centre", codes.get(pk, str(pk)), days, {"": {
        "served": served[pk], "over_standard": over[pk],
        "over_standard_share": round(over[pk] / served[pk], 4),
        "citizen_days": round(days, 3)}}) for pk, days in excess.items() if days > 0]


def agency_report(*, country: Country, agency: Agency, period: str,
                  lake: Path | None = None, as_of: dt.datetime | None = None) -> Report:
    start, end = services.bounds(country, period)
    as_of = as_of or timezone.now()
    try:
        tables = (sources.lake_flow_tables(lake) if lake is not None
                  else sources.live_flow_tables())
    except sources.FlowSourceError as exc:
        raise BottleneckError(str(exc)) from None
    provided = (Service.objects.filter(provider_id__in=agency_subtree_ids([agency.pk]))
                .select_related("provider", "country").order_by("code"))
    analyses = []
    candidates: list[Change] = []
    centres: set[int] = set()
    for service in provided:
        result = services.analyse_service(country=country, service=service, period=period,
                                          as_of=as_of, tables=tables)
        if not result.analysis.applications:
            continue
        analyses.append(result)
        candidates += service_changes(result)
        centres |= set(result.analysis.centres)
    candidates += centre_changes(country, centres, start, end)
    return Report(country=country, agency=agency, period=period, start=start, end=end,
                  as_of=as_of, analyses=analyses, candidates=merged(candidates))
