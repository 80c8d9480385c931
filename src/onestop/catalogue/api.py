"""API: the register of public services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

import jsonschema
from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from onestop.accounts.api import staff_bearer
from onestop.accounts.models import User
from onestop.catalogue import selectors, services
from onestop.catalogue.models import Country, Service, ServiceStandard
from onestop.core.api_errors import ErrorOut, IsoDate
from onestop.core.text import localize

router = Router(tags=["catalogue"])

Language = Literal["kk", "ru", "uz", "en"]
CountryCode = Field(default=None, pattern="^[a-z]{2}$", description="country pack code, e.g. kz")


def resolve_country(code: str | None) -> Country:
    """The requested country, or the configured default, or the only one loaded."""
    if code:
        country = selectors.country_by_code(code)
        if country is None:
            raise HttpError(404, f"no country {code!r} is loaded")
        return country
    country = selectors.country_by_code(settings.ONESTOP_COUNTRY)
    if country is None:
        country = selectors.countries().first()
    if country is None:
        raise HttpError(404, "no country pack is loaded yet: run `onestop load-pack kz`")
    return country


class Text:
    def __init__(self, country: Country, lang: str | None) -> None:
        self.lang = lang or country.languages[0]
        self.fallbacks = country.languages

    def __call__(self, value: dict[str, str] | None) -> str:
        return localize(value, self.lang, self.fallbacks)


class DeadlineOut(Schema):
    value: int
    unit: Literal["working_days", "hours", "minutes"]


class NamedOut(Schema):
    code: str
    name: str


class ServiceSummaryOut(Schema):
    code: str
    country: str
    name: str
    provider: NamedOut
    life_situations: list[str]
    deadline: DeadlineOut
    fee_amount: Decimal
    channels: list[str]
    valid_from: dt.date


class ServiceListOut(Schema):
    count: int
    items: list[ServiceSummaryOut]


class DocumentOut(Schema):
    code: str
    name: str
    source: Literal["applicant", "state_database"]
    required: bool


class RefusalGroundOut(Schema):
    code: str
    text: str


class FeeOut(Schema):
    amount: Decimal
    currency: str
    note: str
    payment: list[str]


class ServiceOut(Schema):
    code: str
    country: str
    language: str
    valid_from: dt.date
    versions: list[dt.date]
    name: str
    names: dict[str, str]
    description: str
    legal_basis: str
    provider: NamedOut
    life_situations: list[NamedOut]
    workflow: str
    channels: list[str]
    deadline: DeadlineOut
    max_wait_minutes: int | None
    max_service_minutes: int | None
    form: str
    result: str
    fee: FeeOut
    schedule: str
    documents: list[DocumentOut]
    refusal_grounds: list[RefusalGroundOut]
    other_requirements: str
    eform: dict[str, Any]


def summary_out(service: Service, standard: ServiceStandard, text: Text) -> dict[str, Any]:
    return {
        "code": service.code,
        "country": service.country.code,
        "name": text(standard.name),
        "provider": {"code": service.provider.code, "name": text(service.provider.name)},
        "life_situations": [s.code for s in service.life_situations.all()],
        "deadline": {"value": standard.deadline_value, "unit": standard.deadline_unit},
        "fee_amount": standard.fee_amount,
        "channels": standard.channels,
        "valid_from": standard.valid_from,
    }


def service_out(service: Service, standard: ServiceStandard, text: Text) -> dict[str, Any]:
    return {
        **summary_out(service, standard, text),
        "language": text.lang,
        "versions": [v.valid_from for v in service.versions.all()],
        "names": standard.name,
        "description": text(standard.description),
        "legal_basis": text(standard.legal_basis),
        "life_situations": [
            {"code": s.code, "name": text(s.name)} for s in service.life_situations.all()
        ],
        "workflow": service.workflow,
        "max_wait_minutes": standard.max_wait_minutes,
        "max_service_minutes": standard.max_service_minutes,
        "form": standard.form,
        "result": text(standard.result),
        "fee": {
            "amount": standard.fee_amount,
            "currency": service.country.currency,
            "note": text(standard.fee_note),
            "payment": standard.fee_payment,
        },
        "schedule": text(standard.schedule),
        "documents": [
            {
                "code": d["code"],
                "name": text(d["name"]),
                "source": d["source"],
                "required": d.get("required", True),
            }
            for d in standard.documents
        ],
        "refusal_grounds": [
            {"code": g["code"], "text": text(g["text"])} for g in standard.refusal_grounds
        ],
        "other_requirements": text(standard.other_requirements),
        "eform": standard.eform,
    }


class ServiceFilters(Schema):
    q: str = Field(default="", max_length=200, description="words from the name, any language")
    lang: Language | None = None
    agency: str | None = Field(default=None, max_length=32)
    life_situation: str | None = Field(default=None, max_length=64)
    country: str | None = CountryCode
    on: IsoDate | None = Field(default=None, description="the standard in force on this date")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@router.get(
    "/services",
    response={200: ServiceListOut, 404: ErrorOut, 422: ErrorOut},
    summary="Search the register",
)
def list_services(request: HttpRequest, filters: Query[ServiceFilters]) -> dict[str, Any]:
    """Services whose name or description, in any language of the pack, contains every
    word of `q`; filtered by providing agency (with its sub-units) and life situation."""
    country = resolve_country(filters.country)
    text = Text(country, filters.lang)
    day = filters.on or selectors.local_today(country)
    found = selectors.search_services(
        country=country,
        query=filters.q,
        agency=filters.agency,
        life_situation=filters.life_situation,
    )
    items = []
    for service in found:
        standard = selectors.current_standard(service, day)
        if standard is not None:
            items.append(summary_out(service, standard, text))
    return {"count": len(items), "items": items[filters.offset : filters.offset + filters.limit]}


class ServiceQuery(Schema):
    lang: Language | None = None
    country: str | None = CountryCode
    on: IsoDate | None = Field(default=None, description="the standard in force on this date")


def _service_and_standard(
    code: str, query: ServiceQuery
) -> tuple[Service, ServiceStandard, Text]:
    country = resolve_country(query.country)
    service = selectors.service_by_code(country, code)
    if service is None:
        raise HttpError(404, f"no service {code!r} in the register of {country.code}")
    day = query.on or selectors.local_today(country)
    standard = selectors.current_standard(service, day)
    if standard is None:
        raise HttpError(404, f"service {code} had no standard in force on {day.isoformat()}")
    return service, standard, Text(country, query.lang)


@router.get(
    "/services/{code}",
    response={200: ServiceOut, 404: ErrorOut, 422: ErrorOut},
    summary="A service and its standard",
)
def get_service(request: HttpRequest, code: str, query: Query[ServiceQuery]) -> dict[str, Any]:
    """The service's standard in force today, or on `on` (YYYY-MM-DD) for an older one."""
    service, standard, text = _service_and_standard(code, query)
    return service_out(service, standard, text)


class DocumentIn(Schema):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
    name: dict[str, str] = Field(min_length=1)
    source: Literal["applicant", "state_database"]
    required: bool = True


class RefusalGroundIn(Schema):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
    text: dict[str, str] = Field(min_length=1)


class DeadlineIn(Schema):
    value: int = Field(ge=1, le=10000)
    unit: Literal["working_days", "hours", "minutes"]


class StandardChangesIn(Schema):
    """Fields to change relative to the version in force on `valid_from`."""

    name: dict[str, str] | None = Field(default=None, min_length=1)
    description: dict[str, str] | None = None
    legal_basis: dict[str, str] | None = None
    channels: (
        list[Literal["provider_office", "centre", "portal", "mobile", "kiosk", "proactive"]]
        | None
    ) = Field(default=None, min_length=1)
    deadline: DeadlineIn | None = None
    max_wait_minutes: int | None = Field(default=None, ge=1, le=1440)
    max_service_minutes: int | None = Field(default=None, ge=1, le=1440)
    form: Literal["electronic", "partly_automated", "paper", "proactive"] | None = None
    result: dict[str, str] | None = Field(default=None, min_length=1)
    fee_amount: Decimal | None = Field(default=None, ge=0, le=Decimal("999999999999.99"),
                                       decimal_places=2)
    fee_note: dict[str, str] | None = None
    documents: list[DocumentIn] | None = None
    refusal_grounds: list[RefusalGroundIn] | None = None
    eform: dict[str, Any] | None = None


class VersionIn(Schema):
    valid_from: IsoDate
    changes: StandardChangesIn


class VersionQuery(Schema):
    country: str | None = CountryCode


@router.post(
    "/services/{code}/versions",
    auth=staff_bearer,
    response={
        201: ServiceOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
        409: ErrorOut, 422: ErrorOut,
    },
    summary="Publish a new version of a standard",
)
def publish_version(
    request: HttpRequest, code: str, payload: VersionIn, query: Query[VersionQuery]
) -> Status[dict[str, Any]]:
    """A supervisor of the providing agency (or an admin) publishes a new version of the
    standard applying from `valid_from`; earlier versions stay readable with `?on=`."""
    user: User = request.auth  # type: ignore[attr-defined]
    country = resolve_country(query.country)
    service = selectors.service_by_code(country, code)
    if service is None:
        raise HttpError(404, f"no service {code!r} in the register of {country.code}")
    changes = payload.changes.model_dump(exclude_unset=True)
    if "deadline" in changes:
        deadline = changes.pop("deadline")
        changes["deadline_value"], changes["deadline_unit"] = deadline["value"], deadline["unit"]
    if changes.get("eform") is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(changes["eform"])
        except jsonschema.SchemaError as exc:
            raise HttpError(422, f"eform is not a valid JSON Schema: {exc.message}") from exc
    changes = {name: value for name, value in changes.items() if value is not None}
    if not changes:
        raise HttpError(422, "changes is empty: name at least one field to change")
    try:
        standard = services.publish_standard_version(
            user=user, service=service, valid_from=payload.valid_from, changes=changes
        )
    except services.NotAllowed as exc:
        raise HttpError(403, str(exc)) from exc
    except services.Conflict as exc:
        raise HttpError(409, str(exc)) from exc
    service = selectors.service_by_code(country, code)
    assert service is not None
    return Status(201, service_out(service, standard, Text(country, None)))


class AgencyOut(Schema):
    code: str
    name: str
    kind: str
    parent: str | None
    region: str | None


class ListQuery(Schema):
    lang: Language | None = None
    country: str | None = CountryCode


@router.get(
    "/agencies", response={200: list[AgencyOut], 404: ErrorOut, 422: ErrorOut},
    summary="Agencies of the register",
)
def list_agencies(request: HttpRequest, query: Query[ListQuery]) -> list[dict[str, Any]]:
    country = resolve_country(query.country)
    text = Text(country, query.lang)
    return [
        {
            "code": a.code,
            "name": text(a.name),
            "kind": a.kind,
            "parent": a.parent.code if a.parent else None,
            "region": a.region.code if a.region else None,
        }
        for a in selectors.agencies(country).select_related("region")
    ]


class LifeSituationOut(Schema):
    code: str
    number: str
    name: str
    description: str


@router.get(
    "/life-situations", response={200: list[LifeSituationOut], 404: ErrorOut, 422: ErrorOut},
    summary="Life situations of the register",
)
def list_life_situations(
    request: HttpRequest, query: Query[ListQuery]
) -> list[dict[str, Any]]:
    country = resolve_country(query.country)
    text = Text(country, query.lang)
    return [
        {"code": s.code, "number": s.number, "name": text(s.name),
         "description": text(s.description)}
        for s in selectors.life_situations(country)
    ]


class CountryOut(Schema):
    code: str
    name: str
    languages: list[str]
    time_zone: str
    currency: str


@router.get("/countries", response={200: list[CountryOut]}, summary="Loaded country packs")
def list_countries(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"code": c.code, "name": localize(c.name, "en", c.languages), "languages": c.languages,
         "time_zone": c.time_zone, "currency": c.currency}
        for c in selectors.countries()
    ]
