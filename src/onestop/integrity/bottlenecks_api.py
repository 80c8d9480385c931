"""API of the bottleneck analysis and the optimisation report: supervisors see their own
agency's services, controllers, analysts and admins every agency's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError

from onestop.accounts.api import staff_bearer
from onestop.catalogue.api import resolve_country
from onestop.core.api_errors import ErrorOut
from onestop.integrity import bottleneck_services as services
from onestop.integrity import optimisation

router = Router(tags=["integrity"])
ERRORS: dict[int, type[ErrorOut]] = dict.fromkeys((401, 403, 404, 422), ErrorOut)


class BottleneckQuery(Schema):
    service: str = Field(pattern=services.SERVICE_CODE_PATTERN,
                         description="the service's code in the register, e.g. 01010001")
    period: str = Field(pattern=services.PERIOD_PATTERN,
                        description="2026, 2026-H2, 2026-Q3 or 2026-07 (local dates)")
    country: str | None = Field(default=None, pattern="^[a-z]{2}$",
                                description="country pack code (default: the site's)")


class ReportQuery(Schema):
    period: str = Field(pattern=services.PERIOD_PATTERN,
                        description="2026, 2026-H2, 2026-Q3 or 2026-07 (local dates)")
    country: str | None = Field(default=None, pattern="^[a-z]{2}$",
                                description="country pack code (default: the site's)")


class VariantOut(Schema):
    path: list[str]
    applications: int
    share: float


class StageOut(Schema):
    stage: str
    visits: int
    applications: int
    open_visits: int = Field(description="stays still going on at the time of the analysis")
    median_hours: float | None
    p90_hours: float | None
    median_working_days: float | None
    p90_working_days: float | None
    citizen_days: float = Field(description="calendar days spent in the stage, all stays")
    deadline_share: float | None = Field(
        description="mean share of the legal deadline used per application (null: the "
                    "clock stands still in this stage)")
    clock_stopped: bool
    waits_on: str | None
    limit: str
    over_limit: int
    exits: dict[str, int]


class ReworkDocumentOut(Schema):
    code: str
    source: str
    requests: int
    applications: int
    repeated_applications: int
    citizen_days: float
    repeat_citizen_days: float


class ReworkOut(Schema):
    loop_applications: int
    re_entries: dict[str, int]
    documents: list[ReworkDocumentOut]


class WaitOut(Schema):
    agency: str
    requests: int
    answered: int
    open: int
    median_hours: float | None
    p90_hours: float | None
    median_working_days: float | None
    p90_working_days: float | None
    citizen_days: float
    over_limit: int


class AnalysisOut(Schema):
    country: str
    service: str
    agency: str
    workflow: str
    period: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    as_of: dt.datetime
    source: str
    applications: int
    finished: int
    slowest_stage: str | None
    most_deadline_stage: str | None
    variants: list[VariantOut]
    stages: list[StageOut]
    rework: ReworkOut
    interagency: list[WaitOut]


class ChangeOut(Schema):
    kind: str = Field(description="state_database_document, repeated_document, "
                      "automate_stage, interagency_wait or understaffed_centre")
    subject: str = Field(description="the document, stage, agency asked or centre")
    services: list[str] = Field(description="the services where it was found (none for a "
                                "centre)")
    saving_days: float = Field(description="estimated citizen-days saved over the period")
    evidence: dict[str, dict[str, Any]] = Field(
        description="the facts per service (the key \"\" for a centre)")


class BottleneckServiceOut(Schema):
    service: str
    applications: int
    finished: int
    slowest_stage: str | None
    most_deadline_stage: str | None


class ReportOut(Schema):
    country: str
    agency: str
    period: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    as_of: dt.datetime
    services: list[BottleneckServiceOut]
    recommended: list[ChangeOut]
    total_saving_days: float
    candidates: list[ChangeOut]


AgencyCode = Annotated[str, Path(pattern=services.AGENCY_CODE_PATTERN,
                                 description="the agency's code")]


def _reader(request: HttpRequest) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    if not services.may_see_bottlenecks(user):
        raise HttpError(403, "bottlenecks are open to supervisors, controllers, analysts and "
                             "admins only")
    return user


@router.get(
    "/integrity/bottlenecks", auth=staff_bearer, response={200: AnalysisOut, **ERRORS},
    summary="The process bottlenecks of one service over one period",
)
def get_bottlenecks(request: HttpRequest, query: Query[BottleneckQuery]) -> dict[str, Any]:
    """The variants (paths) the service's applications submitted in the period took, dwell
    time per stage (nearest-rank median and 90th percentile, calendar hours and working
    days), rework loops (stages entered again, documents requested again), inter-agency
    waits and the share of the legal deadline each stage uses. A supervisor may analyse
    only the services of their own agency."""
    user = _reader(request)
    country = resolve_country(query.country)
    try:
        service = services.find_service(country, query.service)
    except services.BottleneckError as exc:
        raise HttpError(404, str(exc)) from None
    if not services.may_see_agency(user, service.provider_id):
        raise HttpError(403, "you may analyse the services of your own agency only")
    try:
        return services.analyse_service(country=country, service=service,
                                        period=query.period).as_dict()
    except services.BottleneckError as exc:
        raise HttpError(422, str(exc)) from None


@router.get(
    "/integrity/optimisation/{agency}", auth=staff_bearer, response={200: ReportOut, **ERRORS},
    summary="The optimisation report of one agency over one period",
)
def get_optimisation(request: HttpRequest, agency: AgencyCode,
                     query: Query[ReportQuery]) -> dict[str, Any]:
    """The three changes that would save the agency's applicants the most citizen-days
    (`recommended`), each with its evidence and estimate, and every other candidate. The
    heuristics are in docs/bottlenecks.md. A supervisor may open only their own agency."""
    user = _reader(request)
    country = resolve_country(query.country)
    try:
        found = services.find_agency(country, agency)
    except services.BottleneckError as exc:
        raise HttpError(404, str(exc)) from None
    if not services.may_see_agency(user, found.pk):
        raise HttpError(403, "you may open the report of your own agency only")
    try:
        return optimisation.agency_report(country=country, agency=found,
                                          period=query.period).as_dict()
    except services.BottleneckError as exc:
        raise HttpError(422, str(exc)) from None
