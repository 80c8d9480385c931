"""Use cases of the bottleneck analysis: who may see which service or agency, and the
analysis of one service over one period on the live database or a lake."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from onestop.accounts.roles import Role
from onestop.applications.workflow import Workflow, WorkflowInvalid
from onestop.catalogue.models import Agency, Country, Service, ServiceStandard, WorkflowDefinition
from onestop.catalogue.selectors import agency_subtree_ids
from onestop.integrity import bottleneck_sources as sources
from onestop.integrity.bottlenecks import Analysis, Deadline, Scope, analyse, read_visits
from onestop.quality.selectors import PERIOD_PATTERN
from onestop.quality.services import AssessmentError, period_bounds

ALL_AGENCIES = frozenset({Role.CONTROLLER, Role.ANALYST, Role.ADMIN})
OWN_AGENCY = frozenset({Role.SUPERVISOR})
SERVICE_CODE_PATTERN = r"^[A-Za-z0-9._-]{1,8}$"
AGENCY_CODE_PATTERN = r"^[A-Za-z0-9._-]{1,32}$"
_PERIOD = re.compile(PERIOD_PATTERN)


class BottleneckError(Exception):
    """An analysis that cannot be run; the message says why (a 4xx, a CommandError)."""


# --------------------------------------------------------------------------- permissions


def may_see_bottlenecks(user: Any) -> bool:
    """Supervisors of an agency (their own agency), controllers, analysts, admins."""
    role = getattr(user, "role", None)
    if role in ALL_AGENCIES:
        return True
    return role in OWN_AGENCY and getattr(user, "agency_id", None) is not None


def visible_agencies(user: Any) -> set[int] | None:
    """None: every agency; else the user's agency and its sub-units (empty: none)."""
    role = getattr(user, "role", None)
    if role in ALL_AGENCIES:
        return None
    agency_id = getattr(user, "agency_id", None)
    if role in OWN_AGENCY and agency_id is not None:
        return agency_subtree_ids([agency_id])
    return set()


def may_see_agency(user: Any, agency_id: int) -> bool:
    allowed = visible_agencies(user)
    return allowed is None or agency_id in allowed


def visible_services(user: Any, country: Country) -> list[Service]:
    services = Service.objects.filter(country=country).select_related("provider")
    allowed = visible_agencies(user)
    if allowed is not None:
        services = services.filter(provider_id__in=allowed)
    return list(services.order_by("code"))


# --------------------------------------------------------------------------- inputs


def valid_period(period: str) -> bool:
    return bool(_PERIOD.fullmatch(period or ""))


def bounds(country: Country, period: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the period at the country's local midnight, aware UTC."""
    try:
        return period_bounds(period, ZoneInfo(country.time_zone))
    except AssessmentError as exc:
        raise BottleneckError(str(exc)) from None


def find_service(country: Country, code: str) -> Service:
    service = (Service.objects.filter(country=country, code=code).select_related("provider")
               .first())
    if service is None:
        raise BottleneckError(f"no service {code!r} in {country.code}")
    return service


def find_agency(country: Country, code: str) -> Agency:
    agency = Agency.objects.filter(country=country, code=code).first()
    if agency is None:
        raise BottleneckError(f"no agency {code!r} in {country.code}")
    return agency


def workflow_for(service: Service) -> Workflow:
    definition = WorkflowDefinition.objects.filter(country_id=service.country_id,
                                                   code=service.workflow).first()
    if definition is None:
        raise BottleneckError(f"workflow {service.workflow!r} is not loaded")
    try:
        return Workflow.from_mapping(definition.definition)
    except WorkflowInvalid as exc:
        raise BottleneckError(f"workflow {service.workflow!r} is invalid: {exc}") from None


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class ServiceAnalysis:
    country: Country
    service: Service
    period: str
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    workflow: Workflow
    analysis: Analysis
    document_names: dict[str, dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "country": self.country.code, "service": self.service.code,
            "agency": self.service.provider.code, "workflow": self.workflow.code,
            "period": self.period, "starts_at": self.start.isoformat(),
            "ends_at": self.end.isoformat(), "as_of": self.as_of.isoformat(),
            **self.analysis.as_dict(),
        }


def analyse_service(*, country: Country, service: Service, period: str,
                    lake: Path | None = None, as_of: dt.datetime | None = None,
                    tables: sources.FlowTables | None = None) -> ServiceAnalysis:
    """The bottleneck analysis of `service`'s applications submitted in `period`, with
    events known by `as_of` (default now), read from the live database or `lake`."""
    start, end = bounds(country, period)
    as_of = as_of or timezone.now()
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.UTC)
    workflow = workflow_for(service)
    if tables is None:
        try:
            tables = (sources.lake_flow_tables(lake) if lake is not None
                      else sources.live_flow_tables())
        except sources.FlowSourceError as exc:
            raise BottleneckError(str(exc)) from None
    scope = Scope(service_id=service.pk, start=_naive(start), end=_naive(end),
                  as_of=_naive(as_of))
    visits = read_visits(tables.applications, tables.events, scope)
    deadlines: dict[int, Deadline] = {}
    document_sources: dict[int, dict[str, str]] = {}
    names: dict[str, dict[str, str]] = {}
    for standard in ServiceStandard.objects.filter(service=service):
        deadlines[standard.pk] = Deadline(standard.deadline_value, standard.deadline_unit)
        document_sources[standard.pk] = {
            str(d.get("code")): str(d.get("source", "")) for d in standard.documents}
        for d in standard.documents:
            names.setdefault(str(d.get("code")), dict(d.get("name") or {}))
    analysis = analyse(visits, workflow=workflow, calendar=country.working_calendar(),
                       deadlines=deadlines, document_sources=document_sources, as_of=as_of)
    analysis.source = tables.source
    return ServiceAnalysis(country=country, service=service, period=period, start=start,
                           end=end, as_of=as_of, workflow=workflow, analysis=analysis,
                           document_names=names)
