"""API: citizens' ratings, and complaints with their handling at each level."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from onestop.accounts.api import bearer
from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.applications.models import Application
from onestop.catalogue.api import resolve_country
from onestop.catalogue.models import Agency
from onestop.centres.models import Centre, Ticket
from onestop.core.api_errors import ErrorOut
from onestop.feedback import selectors, services
from onestop.feedback.errors import FeedbackError, status_of
from onestop.feedback.models import Complaint, Rating

router = Router(tags=["ratings and complaints"])


def fail(exc: FeedbackError) -> HttpError:
    return HttpError(status_of(exc), str(exc))


def _no_token(request: HttpRequest) -> bool:
    """Rating by a receipt's QR token needs no account: a request without any
    Authorization header passes as anonymous (a wrong token still gets 401)."""
    return "HTTP_AUTHORIZATION" not in request.META


def _user(request: HttpRequest) -> User | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, User) else None


def _device(request: HttpRequest) -> str:
    """An opaque hash of where a rating came from, for integrity checks (never the
    address itself)."""
    seen = f"{request.META.get('REMOTE_ADDR', '')}|{request.META.get('HTTP_USER_AGENT', '')}"
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


# --- ratings ---------------------------------------------------------------------------


class RatingIn(Schema):
    application: str | None = Field(default=None, max_length=32,
                                    description="the number of one's own completed application")
    ticket: int | None = Field(default=None, ge=1, le=2**62,
                               description="the id of one's own served ticket")
    ticket_token: str | None = Field(
        default=None, max_length=200,
        description="the token of a ticket receipt's QR code: rates without an account",
    )
    scores: dict[str, int] = Field(description="every criterion of the country, 1 to 5")
    comment: str = Field(default="", max_length=2000)
    channel: Literal["portal", "notification", "receipt", "kiosk", "api"] = "api"


class RatingOut(Schema):
    id: int
    application: str | None
    ticket: int | None
    channel: str
    scores: dict[str, int]
    mean: Decimal
    lowest: int
    comment: str
    alert: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    changeable_until: dt.datetime


def rating_out(rating: Rating) -> dict[str, Any]:
    rules = selectors.rules_for(rating.country)
    return {
        "id": rating.pk,
        "application": rating.application.number if rating.application else None,
        "ticket": rating.ticket_id,
        "channel": rating.channel,
        "scores": rating.scores,
        "mean": rating.mean,
        "lowest": rating.lowest,
        "comment": rating.comment,
        "alert": rating.alert,
        "created_at": rating.created_at,
        "updated_at": rating.updated_at,
        "changeable_until": rating.created_at + dt.timedelta(days=rules.change_days),
    }


@router.post("/ratings", auth=[bearer, _no_token],
             response={200: RatingOut, 201: RatingOut, 401: ErrorOut, 403: ErrorOut,
                       404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
             summary="Rate a completed application or a served ticket")
def post_rating(request: HttpRequest, payload: RatingIn) -> Status[dict[str, Any]]:
    """A citizen rates their own completed application (`application`) or served ticket
    (`ticket`); anyone holding a ticket receipt's QR token (`ticket_token`) may rate that
    ticket without an account. Every criterion of the country's pack, 1 to 5. Posting
    again changes the rating (200) within the pack's change window, 409 after."""
    user = _user(request)
    given = [x for x in (payload.application, payload.ticket, payload.ticket_token) if x]
    if len(given) != 1:
        raise HttpError(422, "give exactly one of application, ticket, ticket_token")
    if user is None and not payload.ticket_token:
        raise HttpError(401, "a valid bearer token is required")
    if user is not None and user.role != Role.CITIZEN:
        raise HttpError(403, "ratings are given by citizens")
    application = ticket = None
    if payload.application:
        application = Application.objects.filter(number=payload.application).first()
        if application is None or user is None or application.applicant_id != user.pk:
            raise HttpError(404, f"no application {payload.application}")
    elif payload.ticket:
        ticket = Ticket.objects.filter(pk=payload.ticket).first()
        if ticket is None or user is None or ticket.citizen_id != user.pk:
            raise HttpError(404, "no such ticket")
    try:
        if payload.ticket_token:
            ticket = services.ticket_for_token(payload.ticket_token)
        existing = (Rating.objects.filter(application=application) if application is not None
                    else Rating.objects.filter(ticket=ticket))
        existed = existing.exists()
        rating = services.rate(
            citizen=user, application=application, ticket=ticket,
            ticket_token=payload.ticket_token or "", scores=payload.scores,
            comment=payload.comment, channel=payload.channel, device=_device(request),
        )
    except FeedbackError as exc:
        raise fail(exc) from exc
    return Status(200 if existed else 201, rating_out(rating))


@router.get("/ratings/mine", auth=bearer, response={200: list[RatingOut], 401: ErrorOut},
            summary="My ratings")
def my_ratings(request: HttpRequest) -> list[dict[str, Any]]:
    user = _user(request)
    assert user is not None
    return [rating_out(r) for r in selectors.ratings_of(user)[:500]]


# --- complaints ------------------------------------------------------------------------


class ComplaintIn(Schema):
    subject: Literal["application", "agency", "centre", "operator"]
    ground: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=5000)
    application: str | None = Field(default=None, max_length=32)
    agency: str | None = Field(default=None, max_length=32)
    centre: str | None = Field(default=None, max_length=32)
    ticket: int | None = Field(default=None, ge=1, le=2**62,
                               description="for an operator: one's own served ticket")
    country: str | None = Field(default=None, pattern="^[a-z]{2}$")


class ComplaintEventOut(Schema):
    at: dt.datetime
    action: str
    actor_role: str
    note: str


class ComplaintOut(Schema):
    number: str
    country: str
    level: str
    subject: str
    ground: str
    text: str
    application: str | None
    agency: str | None
    centre: str | None
    state: str
    registered_at: dt.datetime
    deadline_at: dt.datetime
    extended_to: dt.datetime | None
    extension_reason: str
    handler: str | None
    decision: str
    decision_reason: str
    decided_at: dt.datetime | None
    escalated_from: str | None
    escalated_to: str | None
    events: list[ComplaintEventOut]
    actions: list[str] = Field(description="what the requesting user may do now")


def actions_for(user: User, complaint: Complaint) -> list[str]:
    open_ = complaint.state in selectors.OPEN_STATES
    if user.role == Role.CITIZEN:
        found = ["withdraw"] if open_ else []
        if complaint.level == "provider" and complaint.state == "decided":
            found.append("disagree")
        return found
    if open_ and services.may_handle(user, complaint):
        return ["assign", "extend", "decide"]
    return []


def complaint_out(complaint: Complaint, user: User) -> dict[str, Any]:
    escalation = Complaint.objects.filter(escalated_from=complaint).values_list(
        "number", flat=True).first()
    staff_view = user.role != Role.CITIZEN
    return {
        "number": complaint.number,
        "country": complaint.country.code,
        "level": complaint.level,
        "subject": complaint.subject,
        "ground": complaint.ground,
        "text": complaint.text,
        "application": complaint.application.number if complaint.application else None,
        "agency": complaint.agency.code if complaint.agency else None,
        "centre": complaint.centre.code if complaint.centre else None,
        "state": complaint.state,
        "registered_at": complaint.registered_at,
        "deadline_at": complaint.deadline_at,
        "extended_to": complaint.extended_to,
        "extension_reason": complaint.extension_reason,
        "handler": complaint.handler.username if complaint.handler and staff_view else None,
        "decision": complaint.decision,
        "decision_reason": complaint.decision_reason,
        "decided_at": complaint.decided_at,
        "escalated_from": complaint.escalated_from.number if complaint.escalated_from else None,
        "escalated_to": escalation,
        "events": [
            {"at": e.at, "action": e.action,
             "actor_role": e.actor.role if e.actor else "system", "note": e.note}
            for e in complaint.events.select_related("actor")
        ],
        "actions": actions_for(user, complaint),
    }


@router.post("/complaints", auth=bearer,
             response={201: ComplaintOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                       409: ErrorOut, 422: ErrorOut},
             summary="File a complaint")
def post_complaint(request: HttpRequest, payload: ComplaintIn) -> Status[dict[str, Any]]:
    """A citizen complains about their application, an agency, a centre or an operator
    (named by the citizen's served ticket), on a ground of the country's pack that
    allows that subject. The answer is due by `deadline_at` (working days on the
    country's calendar)."""
    user = _user(request)
    assert user is not None
    if user.role != Role.CITIZEN:
        raise HttpError(403, "complaints are filed by citizens")
    application = agency = centre = ticket = None
    country = None
    if payload.application:
        application = Application.objects.filter(number=payload.application).first()
        if application is None or application.applicant_id != user.pk:
            raise HttpError(404, f"no application {payload.application}")
    if payload.agency or payload.centre:
        country = resolve_country(payload.country)
    if payload.agency:
        agency = Agency.objects.filter(country=country, code=payload.agency).first()
        if agency is None:
            raise HttpError(422, f"agency: no agency {payload.agency!r}")
    if payload.centre:
        centre = Centre.objects.filter(country=country, code=payload.centre).first()
        if centre is None:
            raise HttpError(422, f"centre: no centre {payload.centre!r}")
    if payload.ticket:
        ticket = Ticket.objects.select_related("operator", "centre").filter(
            pk=payload.ticket).first()
        if ticket is None or ticket.citizen_id != user.pk:
            raise HttpError(404, "no such ticket")
    try:
        complaint = services.file_complaint(
            citizen=user, subject=payload.subject, ground=payload.ground, text=payload.text,
            application=application, agency=agency, centre=centre, ticket=ticket,
            country=country,
        )
    except FeedbackError as exc:
        raise fail(exc) from exc
    return Status(201, complaint_out(selectors.get_complaint(user, complaint.number), user))


class ComplaintListQuery(Schema):
    open: bool | None = Field(default=None, description="only the open ones (true)")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ComplaintListOut(Schema):
    count: int
    items: list[ComplaintOut]


@router.get("/complaints", auth=bearer,
            response={200: ComplaintListOut, 401: ErrorOut, 422: ErrorOut},
            summary="My complaints, or those in my scope")
def list_complaints(request: HttpRequest, query: Query[ComplaintListQuery]) -> dict[str, Any]:
    """A citizen: their own. Staff: those about their agency or centre. The control body,
    analysts and admins: all. The nearest deadline first."""
    user = _user(request)
    assert user is not None
    complaints = selectors.with_effective_deadline(selectors.visible_complaints(user))
    if query.open:
        complaints = complaints.filter(state__in=selectors.OPEN_STATES)
    complaints = complaints.order_by("effective_deadline", "pk")
    page = complaints[query.offset : query.offset + query.limit]
    return {"count": complaints.count(), "items": [complaint_out(c, user) for c in page]}


@router.get("/complaints/{number}", auth=bearer,
            response={200: ComplaintOut, 401: ErrorOut, 404: ErrorOut},
            summary="One complaint")
def get_complaint(request: HttpRequest, number: str) -> dict[str, Any]:
    user = _user(request)
    assert user is not None
    try:
        return complaint_out(selectors.get_complaint(user, number), user)
    except FeedbackError as exc:
        raise fail(exc) from exc


class ComplaintActionIn(Schema):
    handler: str | None = Field(default=None, max_length=150,
                                description="assign: the username of the handler")
    reason: str = Field(default="", max_length=5000,
                        description="extend, decide (required); disagree (optional)")
    days: int | None = Field(default=None, ge=1, le=3650, description="extend: by how many days")
    decision: Literal["upheld", "partly_upheld", "rejected"] | None = None


@router.post("/complaints/{number}/{action}", auth=bearer,
             response={200: ComplaintOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                       409: ErrorOut, 422: ErrorOut},
             summary="Act on a complaint")
def act_on_complaint(
    request: HttpRequest,
    number: str,
    action: Literal["assign", "extend", "decide", "withdraw", "disagree"],
    payload: ComplaintActionIn,
) -> dict[str, Any]:
    """`assign`, `extend` and `decide` are for the handlers of the complaint's level (the
    agency's officers and supervisors, or a centre's manager; the control body at the
    control level); `withdraw` and `disagree` for the citizen who filed it. `disagree`
    answers with the new complaint at the control level."""
    user = _user(request)
    assert user is not None
    try:
        complaint = selectors.get_complaint(user, number)
        if action in ("withdraw", "disagree"):
            if user.role != Role.CITIZEN:
                raise HttpError(403, "only the citizen who filed the complaint may do this")
            if action == "withdraw":
                complaint = services.withdraw(complaint=complaint, citizen=user)
            else:
                complaint = services.disagree(complaint=complaint, citizen=user,
                                              reason=payload.reason)
        elif user.role == Role.CITIZEN:
            raise HttpError(403, "complaints are handled by the agency or the control body")
        elif action == "assign":
            handler = User.objects.filter(username=payload.handler or "").first()
            if handler is None:
                raise HttpError(422, "handler: give the username of a handler")
            complaint = services.assign(complaint=complaint, user=user, handler=handler)
        elif action == "extend":
            if payload.days is None:
                raise HttpError(422, "days: required to extend")
            complaint = services.extend(complaint=complaint, user=user,
                                        reason=payload.reason, days=payload.days)
        else:
            if payload.decision is None:
                raise HttpError(422, "decision: upheld, partly_upheld or rejected")
            complaint = services.decide(complaint=complaint, user=user,
                                        decision=payload.decision, reason=payload.reason)
        return complaint_out(selectors.get_complaint(user, complaint.number), user)
    except FeedbackError as exc:
        raise fail(exc) from exc
