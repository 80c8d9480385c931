"""API of the red flags: the named list for the control body (supervisors see their own
agency only; every view is audited) and public counts per agency and region."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from onestop.accounts.api import staff_bearer
from onestop.catalogue.api import resolve_country
from onestop.catalogue.models import Agency, Region, Service
from onestop.core.api_errors import ErrorOut
from onestop.integrity import selectors, services
from onestop.integrity.flags_config import FLAG_CODES
from onestop.quality.selectors import PERIOD_PATTERN

router = Router(tags=["integrity"])
ERRORS: dict[int, type[ErrorOut]] = dict.fromkeys((401, 403, 404, 422), ErrorOut)
FLAG_PATTERN = "^(" + "|".join(FLAG_CODES) + ")$"


class FlagListQuery(Schema):
    period: str = Field(pattern=PERIOD_PATTERN, description="2026, 2026-H2, 2026-Q3, 2026-07")
    country: str | None = Field(default=None, pattern="^[a-z]{2}$")
    region: str | None = Field(default=None, max_length=16, description="a region's code")
    agency: str | None = Field(default=None, max_length=32, description="an agency's code")
    service: str | None = Field(default=None, max_length=32, description="a service's code")
    flag: str | None = Field(default=None, pattern=FLAG_PATTERN)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class FlagSummaryQuery(Schema):
    period: str = Field(pattern=PERIOD_PATTERN)
    country: str | None = Field(default=None, pattern="^[a-z]{2}$")


class RaisedFlagOut(Schema):
    flag: str
    service_id: int | None
    value: float
    z: float
    n: int
    hits: int
    peers_n: int
    score: float
    evidence: dict[str, list[int]]


class FlagSubjectOut(Schema):
    kind: str
    id: int
    agency_id: int | None
    region_id: int | None
    risk: float
    flags: list[RaisedFlagOut]


class FlagListOut(Schema):
    run: int
    period: str
    config_version: str
    total: int
    subjects: list[FlagSubjectOut]


class FlagCountOut(Schema):
    code: str
    flagged: int | None = Field(description="subjects flagged; null when fewer than 10")
    suppressed: bool


class FlagSummaryOut(Schema):
    period: str
    agencies: list[FlagCountOut]
    regions: list[FlagCountOut]


def _pk(model: Any, country: Any, code: str | None, what: str) -> int | None:
    if code is None:
        return None
    pk = model.objects.filter(country=country, code=code).values_list("pk", flat=True).first()
    if pk is None:
        raise HttpError(404, f"no {what} {code!r}")
    return int(pk)


@router.get("/integrity/flags", auth=staff_bearer, response={200: FlagListOut, **ERRORS},
            summary="Red flags by risk (controllers; supervisors: their agency)")
def list_flags(request: HttpRequest, query: Query[FlagListQuery]) -> dict[str, Any]:
    user = request.user
    role = getattr(user, "role", "")
    if role not in ("controller", "supervisor"):
        raise HttpError(403, "named red flags are open to the control body and supervisors")
    country = resolve_country(query.country)
    run = selectors.latest_run(country, query.period)
    if run is None:
        raise HttpError(404, f"no red flags computed for {query.period}: run "
                             f"`onestop integrity flags --period {query.period}`")
    agency_id = _pk(Agency, country, query.agency, "agency")
    if role == "supervisor":
        own = getattr(user, "agency_id", None)
        if own is None or (agency_id is not None and agency_id != own):
            raise HttpError(403, "you may see the red flags of your own agency only")
        agency_id = own
    service_id = None
    if query.service is not None:
        service_id = Service.objects.filter(country=country, code=query.service).values_list(
            "pk", flat=True).first()
        if service_id is None:
            raise HttpError(404, f"no service {query.service!r}")
    rows = selectors.results(run, agency_id=agency_id,
                             region_id=_pk(Region, country, query.region, "region"),
                             service_id=service_id, flag=query.flag)
    total, subjects = selectors.subjects_by_risk(rows, limit=query.limit, offset=query.offset)
    services.record_view(user=user, run=run, what="flags_viewed",  # type: ignore[arg-type]
                         filters=query.dict(), shown=len(subjects))
    return {"run": run.pk, "period": run.period, "config_version": run.config_version,
            "total": total, "subjects": subjects}


@router.get("/integrity/flags/summary", response={200: FlagSummaryOut, **ERRORS},
            summary="Public counts of flagged subjects per agency and region")
def flags_summary(request: HttpRequest, query: Query[FlagSummaryQuery]) -> dict[str, Any]:
    country = resolve_country(query.country)
    run = selectors.latest_run(country, query.period)
    if run is None:
        raise HttpError(404, f"no red flags published for {query.period}")
    return {"period": run.period, **selectors.public_summary(run)}
