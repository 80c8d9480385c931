"""API: submitting applications, following them, and acting on them in the back office."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.errors import HttpError

from onestop.accounts.api import bearer
from onestop.accounts.models import User
from onestop.accounts.roles import AGENCY_ROLES, Role
from onestop.applications import selectors, services
from onestop.applications.errors import (
    ApplicationError,
    Conflict,
    Forbidden,
    NotFound,
    SubmissionInvalid,
)
from onestop.applications.models import Application, ApplicationDocument, ProactiveOffer
from onestop.applications.payments import PaymentDeclined
from onestop.applications.views_portal import result_response
from onestop.catalogue import selectors as catalogue
from onestop.catalogue.api import resolve_country
from onestop.catalogue.models import LifeSituation, Region, Service, ServiceStandard
from onestop.core.api_errors import ErrorOut
from onestop.core.text import localize

router = Router(tags=["applications"])

STATUS = {SubmissionInvalid: 422, NotFound: 404, Forbidden: 403, Conflict: 409,
          PaymentDeclined: 402}
MAX_BASE64 = 15_000_000


def fail(exc: ApplicationError) -> HttpError:
    return HttpError(STATUS.get(type(exc), 400), str(exc))


def auth_user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


class UploadIn(Schema):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    filename: str = Field(min_length=1, max_length=200)
    content_type: str = Field(max_length=100)
    content_base64: str = Field(min_length=1, max_length=MAX_BASE64)

    def uploaded(self) -> services.UploadedDocument:
        try:
            content = base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise HttpError(422, f"documents.{self.code}: content_base64 is not base64") from exc
        return services.UploadedDocument(self.code, self.filename, self.content_type, content)


class ApplicationIn(Schema):
    service: str = Field(pattern=r"^\d{8}$", description="the service's code")
    country: str | None = Field(default=None, pattern="^[a-z]{2}$")
    form: dict[str, Any] = Field(description="the e-form's fields (see the service's eform)")
    national_id: str | None = Field(
        default=None, max_length=32,
        description="the applicant's national ID; an operator must give it, a citizen "
        "applies for themselves",
    )
    applicant_name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=32)
    email: str = Field(default="", max_length=254)
    region: str | None = Field(default=None, max_length=16)
    documents: list[UploadIn] = Field(default_factory=list, max_length=20)


class NamedOut(Schema):
    code: str
    name: str


class ApplicationDocumentOut(Schema):
    id: int
    code: str
    kind: str
    size: int
    uploaded_at: dt.datetime


class ApplicationOut(Schema):
    number: str
    country: str
    service: NamedOut
    standard_valid_from: dt.date
    state: str
    outcome: str
    channel: str
    agency: NamedOut
    assigned_to: str | None
    submitted_at: dt.datetime
    deadline_at: dt.datetime
    clock_running: bool
    working_seconds_left: int
    completed_at: dt.datetime | None
    refusal_ground: str
    refusal_reason: str
    fee_amount: Decimal
    documents: list[ApplicationDocumentOut]
    actions: list[str] = Field(description="what the requesting user may do now")


class SubmittedOut(ApplicationOut):
    access_code: str = Field(description="the secret for the public status check")


class EventOut(Schema):
    at: dt.datetime
    action: str
    from_state: str
    to_state: str
    actor_role: str
    clock: str
    comment: str
    data: dict[str, Any]


def application_out(
    application: Application,
    user: User | None,
    documents: Sequence[ApplicationDocument] | None = None,
) -> dict[str, Any]:
    """The answer about one application; `documents`, when the caller has them (a new
    submission), instead of reading them back."""
    languages = application.country.languages
    now = timezone.now()
    clock = services.clock_of(application)
    if application.is_open:
        left = int(clock.remaining(now).total_seconds())
    else:
        left = int(clock.remaining(application.completed_at or now).total_seconds())
    actions: list[str] = []
    if user is not None and application.is_open:
        try:
            role = services.role_on(user, application)
            actions = [a.code for a in services.workflow_of(application).actions_for(
                application.state, role)]
        except ApplicationError:
            actions = []
    return {
        "number": application.number,
        "country": application.country.code,
        "service": {"code": application.service.code,
                    "name": localize(application.standard.name, languages[0], languages)},
        "standard_valid_from": application.standard.valid_from,
        "state": application.state,
        "outcome": application.outcome,
        "channel": application.channel,
        "agency": {"code": application.agency.code,
                   "name": localize(application.agency.name, languages[0], languages)},
        "assigned_to": application.assigned_to.username if application.assigned_to else None,
        "submitted_at": application.submitted_at,
        "deadline_at": application.deadline_at,
        "clock_running": application.clock_stopped_at is None,
        "working_seconds_left": left,
        "completed_at": application.completed_at,
        "refusal_ground": application.refusal_ground,
        "refusal_reason": application.refusal_reason,
        "fee_amount": application.fee_amount,
        "documents": [
            {"id": d.pk, "code": d.code, "kind": d.kind, "size": d.size,
             "uploaded_at": d.uploaded_at}
            for d in (application.documents.all() if documents is None else documents)
        ],
        "actions": actions,
    }


@router.post(
    "/applications",
    auth=bearer,
    response={200: SubmittedOut, 201: SubmittedOut, 400: ErrorOut, 401: ErrorOut,
              402: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Submit an application",
)
def submit_application(
    request: HttpRequest,
    payload: ApplicationIn,
    idempotency_key: str | None = Header(
        default=None, alias="Idempotency-Key", max_length=200,
        description="a retry with the same key returns the first application (200)",
    ),
) -> Status[dict[str, Any]]:
    """A citizen applies for themselves; an operator applies at the counter on a
    citizen's behalf (give `national_id`). The form is checked against the service's
    e-form and documents list, every problem at once (422)."""
    user = auth_user(request)
    if user.role == Role.CITIZEN:
        channel, national_id = "api", user.national_id
        if payload.national_id and payload.national_id != user.national_id:
            raise HttpError(403, "a citizen applies for themselves")
        if not national_id:
            raise HttpError(422, "national_id: your account has no national ID on record")
    elif user.role == Role.OPERATOR:
        channel, national_id = "centre", payload.national_id or ""
        if not national_id:
            raise HttpError(422, "national_id: required when applying on a citizen's behalf")
    else:
        raise HttpError(403, "applications are submitted by citizens or at a centre's counter")
    now = timezone.now()
    service, standard = _service_and_standard(payload.country, payload.service, now)
    country = service.country
    region = None
    if payload.region:
        region = Region.objects.filter(country=country, code=payload.region).first()
        if region is None:
            raise HttpError(422, f"region: no region {payload.region!r} in {country.code}")
    try:
        result = services.submit(
            service=service, form_data=payload.form, channel=channel,
            national_id=national_id, applicant=user if user.role == Role.CITIZEN else None,
            submitted_by=user, applicant_name=payload.applicant_name, phone=payload.phone,
            email=payload.email or (user.email if user.role == Role.CITIZEN else ""),
            region=region, centre=user.centre if user.role == Role.OPERATOR else None,
            documents=[d.uploaded() for d in payload.documents],
            idempotency_key=idempotency_key, now=now, standard=standard,
        )
    except ApplicationError as exc:
        raise fail(exc) from exc
    if result.clock_events is not None:  # a new application: nothing to read back
        result.application.clock_events = list(result.clock_events)  # type: ignore[attr-defined]
    body = {**application_out(result.application, user, result.documents),
            "access_code": result.access_code}
    return Status(201 if result.created else 200, body)


def _service_and_standard(
    country_code: str | None, code: str, now: dt.datetime
) -> tuple[Service, ServiceStandard | None]:
    """The service and the version of its standard in force (None: `services.submit`
    says there is none), or the 404 of a missing country or service."""
    found = catalogue.service_to_apply_for(country_code or settings.ONESTOP_COUNTRY, code, now)
    if found is None:
        country = resolve_country(country_code)  # an unknown country's own 404
        raise HttpError(404, f"no service {code!r} in the register of {country.code}")
    return found


class ApplicationListQuery(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ApplicationListOut(Schema):
    count: int
    items: list[ApplicationOut]


@router.get("/applications", auth=bearer,
            response={200: ApplicationListOut, 401: ErrorOut, 422: ErrorOut},
            summary="My applications, or those in my scope")
def list_applications(request: HttpRequest, query: Query[ApplicationListQuery]) -> dict[str, Any]:
    user = auth_user(request)
    applications = selectors.with_clock_events(
        selectors.visible(user).order_by("-submitted_at", "-pk")
    )
    page = applications[query.offset : query.offset + query.limit]
    return {"count": applications.count(), "items": [application_out(a, user) for a in page]}


@router.get("/applications/{number}", auth=bearer,
            response={200: ApplicationOut, 401: ErrorOut, 404: ErrorOut},
            summary="One application")
def get_application(request: HttpRequest, number: str) -> dict[str, Any]:
    user = auth_user(request)
    try:
        return application_out(selectors.get_visible(user, number), user)
    except ApplicationError as exc:
        raise fail(exc) from exc


@router.get("/applications/{number}/events", auth=bearer,
            response={200: list[EventOut], 401: ErrorOut, 404: ErrorOut},
            summary="The application's history")
def list_events(request: HttpRequest, number: str) -> list[Any]:
    user = auth_user(request)
    try:
        application = selectors.get_visible(user, number)
    except ApplicationError as exc:
        raise fail(exc) from exc
    return list(application.events.all())


@router.get("/applications/{number}/documents/{document_id}", auth=bearer,
            response={200: None, 401: ErrorOut, 404: ErrorOut},
            summary="Download a document or the result")
def download_document(request: HttpRequest, number: str, document_id: int) -> FileResponse:
    user = auth_user(request)
    try:
        document = selectors.document(selectors.get_visible(user, number), document_id)
    except ApplicationError as exc:
        raise fail(exc) from exc
    return FileResponse(document.file.open("rb"), as_attachment=True,
                        filename=f"{number}-{document.code}",
                        content_type=document.content_type)


class ResultQuery(Schema):
    lang: str | None = Field(default=None, pattern="^(kk|ru|uz|en)$",
                             description="the document's language (default: the "
                                         "country's first)")


@router.get("/applications/{number}/result.pdf", auth=bearer,
            response={200: None, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
            summary="The electronic document of a result the system issued")
def result_document(request: HttpRequest, number: str,
                    query: Query[ResultQuery]) -> HttpResponse:
    """For an application issued by the system's own step (an instant service), which has
    no file of an agency's: the result as a PDF, with a QR code of the public status page
    that shows it was issued. 404 for any other application."""
    user = auth_user(request)
    try:
        application = selectors.get_visible(user, number)
    except ApplicationError as exc:
        raise fail(exc) from exc
    if not selectors.result_drawn_up_by_system(application):
        raise HttpError(404, "this application has no result drawn up by onestop: its "
                             "result, if any, is among its documents")
    return result_response(request, application,
                           query.lang or application.country.languages[0], "attachment")


class ActionIn(Schema):
    action: str = Field(min_length=1, max_length=64)
    comment: str = Field(default="", max_length=5000)
    ground: str = Field(default="", max_length=64)
    requested_documents: list[str] = Field(default_factory=list, max_length=20)
    agency: str = Field(default="", max_length=32)
    documents: list[UploadIn] = Field(default_factory=list, max_length=20)
    result_document: UploadIn | None = None


@router.post("/applications/{number}/actions", auth=bearer,
             response={200: ApplicationOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut,
                       404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Take a workflow action")
def take_action(request: HttpRequest, number: str, payload: ActionIn) -> dict[str, Any]:
    """The workflow decides whether your role may take this action in the application's
    state (403 with the reason otherwise); `actions` in the answer lists what you may
    do next."""
    user = auth_user(request)
    try:
        application = selectors.get_visible(user, number)
        application = services.act(
            application=application, user=user, action=payload.action,
            comment=payload.comment, ground=payload.ground,
            requested_documents=payload.requested_documents, agency_code=payload.agency,
            documents=[d.uploaded() for d in payload.documents],
            result_document=payload.result_document.uploaded()
            if payload.result_document else None,
        )
    except ApplicationError as exc:
        raise fail(exc) from exc
    return application_out(application, user)


class AssignIn(Schema):
    assignee: str | None = Field(default=None, max_length=150,
                                 description="username of an officer; null unassigns")


@router.post("/applications/{number}/assign", auth=bearer,
             response={200: ApplicationOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut,
                       404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Assign to an officer")
def assign_application(request: HttpRequest, number: str, payload: AssignIn) -> dict[str, Any]:
    user = auth_user(request)
    if user.role not in AGENCY_ROLES:
        raise HttpError(403, "only the agency's officers and supervisors assign")
    try:
        application = selectors.get_visible(user, number)
        assignee = None
        if payload.assignee:
            assignee = User.objects.filter(username=payload.assignee).first()
            if assignee is None:
                raise HttpError(422, f"assignee: no user {payload.assignee!r}")
        application = services.assign(application=application, user=user, assignee=assignee)
    except ApplicationError as exc:
        raise fail(exc) from exc
    return application_out(application, user)


class InboxQuery(Schema):
    service: str | None = Field(default=None, pattern=r"^\d{8}$")
    state: str | None = Field(default=None, max_length=64)
    overdue: bool | None = None
    mine: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


@router.get("/inbox", auth=bearer,
            response={200: ApplicationListOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
            summary="The back office inbox, least time left first, those waiting on the "
                    "applicant last")
def get_inbox(request: HttpRequest, query: Query[InboxQuery]) -> dict[str, Any]:
    user = auth_user(request)
    if user.role not in AGENCY_ROLES:
        raise HttpError(403, "the inbox is for an agency's officers and supervisors")
    applications = selectors.inbox(user, service=query.service, state=query.state,
                                   overdue=query.overdue, mine=query.mine)
    page = applications[query.offset : query.offset + query.limit]
    return {"count": applications.count(), "items": [application_out(a, user) for a in page]}


class PublicStatusOut(Schema):
    number: str
    service: str
    agency: str
    state: str
    outcome: str
    submitted_at: dt.datetime
    deadline_at: dt.datetime
    clock_running: bool
    completed_at: dt.datetime | None


class PublicQuery(Schema):
    code: str = Field(min_length=4, max_length=32, description="the access code from the receipt")
    lang: str | None = Field(default=None, pattern="^(kk|ru|uz|en)$")


@router.get("/public/applications/{number}",
            response={200: PublicStatusOut, 404: ErrorOut, 422: ErrorOut},
            summary="Public status check (no personal data)")
def public_status(request: HttpRequest, number: str, query: Query[PublicQuery]) -> dict[str, Any]:
    """State, deadline and agency of an application, for whoever holds its number and
    access code. A wrong code answers exactly like an unknown number."""
    application = selectors.get_public(number)
    if application is None or not services.access_code_matches(application, query.code):
        raise HttpError(404, "no application with this number and access code")
    languages = application.country.languages
    lang = query.lang or languages[0]
    return {
        "number": application.number,
        "service": localize(application.standard.name, lang, languages),
        "agency": localize(application.agency.name, lang, languages),
        "state": application.state,
        "outcome": application.outcome,
        "submitted_at": application.submitted_at,
        "deadline_at": application.deadline_at,
        "clock_running": application.clock_stopped_at is None,
        "completed_at": application.completed_at,
    }


class OfferOut(Schema):
    id: int
    service: NamedOut
    source: str = Field(description="the number of the application whose result started it")
    status: str
    form: dict[str, Any]
    application: str | None
    created_at: dt.datetime


def offer_out(offer: ProactiveOffer) -> dict[str, Any]:
    languages = offer.service.country.languages
    standard = offer.service.versions.order_by("-valid_from").first()
    return {
        "id": offer.pk,
        "service": {"code": offer.service.code,
                    "name": localize(standard.name if standard else {}, languages[0],
                                     languages)},
        "source": offer.source.number,
        "status": offer.status,
        "form": offer.form_data,
        "application": offer.application.number if offer.application else None,
        "created_at": offer.created_at,
    }


def citizen_only(request: HttpRequest) -> User:
    user = auth_user(request)
    if user.role != Role.CITIZEN:
        raise HttpError(403, "offers and bundles are a citizen's")
    return user


@router.get("/offers", auth=bearer, response={200: list[OfferOut], 401: ErrorOut, 403: ErrorOut},
            summary="Proactive services offered to me")
def list_offers(request: HttpRequest) -> list[dict[str, Any]]:
    user = citizen_only(request)
    offers = ProactiveOffer.objects.filter(applicant=user).select_related(
        "service__country", "source", "application")
    return [offer_out(o) for o in offers]


class ConfirmIn(Schema):
    form: dict[str, Any] = Field(default_factory=dict,
                                 description="fields to add to the prefilled form")


def _offer(user: User, offer_id: int) -> ProactiveOffer:
    offer = ProactiveOffer.objects.filter(pk=offer_id, applicant=user).select_related(
        "service__country", "source").first()
    if offer is None:
        raise HttpError(404, "no such offer")
    return offer


@router.post("/offers/{offer_id}/confirm", auth=bearer,
             response={201: SubmittedOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut,
                       404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Confirm a proactive service")
def confirm_offer(
    request: HttpRequest, offer_id: int, payload: ConfirmIn
) -> Status[dict[str, Any]]:
    user = citizen_only(request)
    try:
        result = services.confirm_offer(offer=_offer(user, offer_id), user=user,
                                        form_data=payload.form)
    except ApplicationError as exc:
        raise fail(exc) from exc
    return Status(201, {**application_out(result.application, user),
                        "access_code": result.access_code})


@router.post("/offers/{offer_id}/decline", auth=bearer,
             response={204: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
             summary="Decline a proactive service")
def decline_offer(request: HttpRequest, offer_id: int) -> Status[None]:
    user = citizen_only(request)
    try:
        services.decline_offer(offer=_offer(user, offer_id), user=user)
    except ApplicationError as exc:
        raise fail(exc) from exc
    return Status(204, None)


class BundleIn(Schema):
    life_situation: str = Field(min_length=1, max_length=64)
    country: str | None = Field(default=None, pattern="^[a-z]{2}$")
    services: dict[str, dict[str, Any]] = Field(
        min_length=1, max_length=20,
        description="service code -> its e-form fields; all are submitted or none",
    )
    documents: dict[str, list[UploadIn]] = Field(
        default_factory=dict, description="service code -> the documents for that service"
    )


class BundleOut(Schema):
    number: str
    life_situation: str
    applications: list[SubmittedOut]


@router.post("/bundles", auth=bearer,
             response={201: BundleOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut,
                       404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Apply for several services of one life situation at once")
def submit_bundle(request: HttpRequest, payload: BundleIn) -> Status[dict[str, Any]]:
    """"One application" for a life situation (e.g. birth of a child): every service is
    checked first and all are submitted together, or none (422 listing the problems of
    each, prefixed by the service's code)."""
    user = citizen_only(request)
    if not user.national_id:
        raise HttpError(422, "national_id: your account has no national ID on record")
    country = resolve_country(payload.country)
    situation = LifeSituation.objects.filter(country=country, code=payload.life_situation).first()
    if situation is None:
        raise HttpError(404, f"no life situation {payload.life_situation!r} in {country.code}")
    try:
        bundle, submissions = services.submit_bundle(
            life_situation=situation, applicant=user, national_id=user.national_id,
            forms=payload.services, channel="api", email=user.email,
            documents={code: [d.uploaded() for d in docs]
                       for code, docs in payload.documents.items()},
        )
    except ApplicationError as exc:
        raise fail(exc) from exc
    return Status(201, {
        "number": bundle.number,
        "life_situation": situation.code,
        "applications": [{**application_out(s.application, user), "access_code": s.access_code}
                         for s in submissions],
    })
