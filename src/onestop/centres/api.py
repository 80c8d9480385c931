"""API of the centres' queue: tickets and the counter actions of operators.

Read endpoints (centres, live queue, statistics) are in api_public.py, appointments in
api_appointments.py; all three are mounted here as one router.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from onestop.accounts.api import bearer
from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.centres import appointments, selectors, services
from onestop.centres.api_appointments import router as appointments_router
from onestop.centres.api_public import router as public_router
from onestop.centres.models import (
    Centre,
    CounterSession,
    PriorityCategory,
    ServiceGroup,
    Ticket,
    TicketSource,
)
from onestop.core.api_errors import ErrorOut

router = Router(tags=["centres"])
router.add_router("", public_router)
router.add_router("", appointments_router)

STATUS: dict[type[services.QueueError], int] = {
    services.NotAllowed: 403, services.NotFound: 404, services.Conflict: 409,
}
ERRORS: dict[int, type[ErrorOut]] = dict.fromkeys((400, 401, 403, 404, 409, 422), ErrorOut)
MAX_DATABASE_ID = 2**31 - 1


def fail(exc: services.QueueError) -> HttpError:
    return HttpError(STATUS.get(type(exc), 400), str(exc))


def auth_user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


# --- tickets -------------------------------------------------------------------------


class TicketIn(Schema):
    group: str = Field(pattern=r"^[A-Za-z]{1,4}$", description="the service group's code")
    priority: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="a priority category's code (the citizen showed their right to it)",
    )
    appointment: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9 -]{1,16}$",
        description="the code of the citizen's appointment at this centre: checks them in "
        "(the ticket is of the appointment's group; `group` and `priority` are then not used)",
    )
    source: str = Field(default=TicketSource.KIOSK, pattern="^(kiosk|reception)$")


class IssuedOut(Schema):
    number: str
    group: str
    position: int = Field(description="waiting tickets of the group called before this one")
    issued_at: dt.datetime
    due_at: dt.datetime | None


@router.post(
    "/centres/{centre_id}/tickets",
    auth=bearer,
    response={201: IssuedOut, **ERRORS},
    summary="Take a ticket",
)
def take_ticket(request: HttpRequest, centre_id: int, payload: TicketIn) -> Status[dict[str, Any]]:
    """For a kiosk or reception device of the centre, or its staff: a token of an operator
    or a supervisor of the centre, or an admin. The answer has no personal data."""
    user = auth_user(request)
    centre = _centre(centre_id)
    if not services.may_issue_tickets(user, centre):
        raise HttpError(403, "only staff of this centre may issue its tickets")
    group = ServiceGroup.objects.filter(country_id=centre.country_id,
                                        code=payload.group.upper()).first()
    if group is None:
        raise HttpError(422, f"group: no service group {payload.group!r} at this centre")
    priority = None
    if payload.priority:
        priority = PriorityCategory.objects.filter(
            country_id=centre.country_id, code=payload.priority
        ).first()
        if priority is None:
            raise HttpError(422, f"priority: no priority category {payload.priority!r}")
    now = timezone.now()
    try:
        if payload.appointment:
            # checked in as at the kiosk: the appointment's window, group and state
            ticket = appointments.arrive(centre=centre, code=payload.appointment, now=now)
        else:
            ticket = services.take_ticket(
                centre=centre, group=group, source=payload.source, priority=priority,
                now=now, by=user,
            )
    except services.QueueError as exc:
        raise fail(exc) from exc
    group = ticket.group
    return Status(201, {
        "number": ticket.number, "group": group.code,
        "position": selectors.position(ticket, now), "issued_at": ticket.issued_at,
        "due_at": ticket.due_at,
    })


def _centre(centre_id: int) -> Centre:
    centre = (
        Centre.objects.select_related("country").filter(pk=centre_id).first()
        if 0 < centre_id <= MAX_DATABASE_ID else None
    )
    if centre is None:
        raise HttpError(404, "no such centre")
    return centre


# --- the counter ---------------------------------------------------------------------


class CounterIn(Schema):
    counter: int = Field(ge=1, le=100_000, description="the counter's number at your centre")


class CallIn(Schema):
    number: str = Field(min_length=1, max_length=16, description="the ticket's number, B-042")
    reason: str = Field(default="", max_length=300,
                        description="required when calling out of order")


class RedirectIn(Schema):
    counter: int | None = Field(default=None, ge=1, le=100_000,
                                description="only this counter may call the ticket")
    group: str | None = Field(default=None, pattern=r"^[A-Za-z]{1,4}$",
                              description="the ticket moves to this group")
    reason: str = Field(default="", max_length=300)


class IdentifyIn(Schema):
    national_id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9]+$")


class LinkIn(Schema):
    application: str = Field(min_length=1, max_length=32,
                             description="the number of an application submitted at your centre")


class CounterTicketOut(Schema):
    number: str
    group: str
    state: str
    priority: str | None
    source: str
    issued_at: dt.datetime
    called_at: dt.datetime | None
    recalls: int
    due_at: dt.datetime | None
    national_id: str = Field(description="empty until the citizen is identified")
    applications: list[str]


class CounterOut(Schema):
    centre: int | None
    counter: int | None = Field(description="the open counter's number, null when closed")
    opened_at: dt.datetime | None
    ticket: CounterTicketOut | None
    waiting: int = Field(description="tickets this counter may call now")


def ticket_out(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number, "group": ticket.group.code, "state": ticket.state,
        "priority": ticket.priority.code if ticket.priority else None,
        "source": ticket.source, "issued_at": ticket.issued_at,
        "called_at": ticket.called_at, "recalls": ticket.recalls, "due_at": ticket.due_at,
        "national_id": ticket.national_id,
        "applications": [a.number for a in ticket.applications.all()],
    }


def counter_out(user: User) -> dict[str, Any]:
    session: CounterSession | None = selectors.open_session(user)
    ticket = selectors.current_ticket(user)
    return {
        "centre": user.centre_id,
        "counter": session.counter.number if session else None,
        "opened_at": session.opened_at if session else None,
        "ticket": ticket_out(ticket) if ticket else None,
        "waiting": selectors.callable_by(session.counter).count() if session else 0,
    }


def _operator(request: HttpRequest) -> User:
    user = auth_user(request)
    if user.role != "operator" or user.centre_id is None:
        raise HttpError(403, "only an operator of a centre works at its counters")
    return user


def _act(request: HttpRequest, action: Callable[..., object], **kwargs: Any) -> dict[str, Any]:
    user = _operator(request)
    try:
        action(operator=user, **kwargs)
    except services.QueueError as exc:
        raise fail(exc) from exc
    return counter_out(user)


COUNTER = {200: CounterOut, **ERRORS}


@router.get("/counter", auth=bearer, response=COUNTER, summary="Your counter")
def my_counter(request: HttpRequest) -> dict[str, Any]:
    """The operator's open counter, the ticket at it, and how many tickets it may call."""
    return counter_out(_operator(request))


@router.post("/counter/open", auth=bearer, response=COUNTER, summary="Open a counter")
def open_counter(request: HttpRequest, payload: CounterIn) -> dict[str, Any]:
    """Start working at a counter of your centre."""
    return _act(request, services.open_counter, counter_number=payload.counter)


@router.post("/counter/close", auth=bearer, response=COUNTER, summary="Close your counter")
def close_counter(request: HttpRequest) -> dict[str, Any]:
    """Refused (409) while a ticket is at the counter."""
    return _act(request, services.close_counter)


@router.post("/counter/call-next", auth=bearer, response=COUNTER, summary="Call the next ticket")
def call_next(request: HttpRequest) -> dict[str, Any]:
    """Calls the first ticket in the queue's order that this counter serves; `ticket` is
    null when none waits."""
    return _act(request, services.call_next)


@router.post("/counter/call", auth=bearer, response=COUNTER, summary="Call a ticket by number")
def call_by_number(request: HttpRequest, payload: CallIn) -> dict[str, Any]:
    """Call a waiting or on-hold ticket; out of order needs a `reason`."""
    return _act(request, services.call_by_number, number=payload.number, reason=payload.reason)


@router.post("/counter/recall", auth=bearer, response=COUNTER, summary="Call the ticket again")
def recall(request: HttpRequest) -> dict[str, Any]:
    return _act(request, services.recall)


@router.post("/counter/serve", auth=bearer, response=COUNTER, summary="Start serving")
def serve(request: HttpRequest) -> dict[str, Any]:
    """The called citizen has come to the counter."""
    return _act(request, services.start_serving)


@router.post("/counter/hold", auth=bearer, response=COUNTER, summary="Put the ticket on hold")
def hold(request: HttpRequest) -> dict[str, Any]:
    """The citizen steps away; call the ticket back by its number."""
    return _act(request, services.hold)


@router.post("/counter/redirect", auth=bearer, response=COUNTER, summary="Redirect the ticket")
def redirect(request: HttpRequest, payload: RedirectIn) -> dict[str, Any]:
    """Back to the queue with its place kept, for another counter and/or group."""
    return _act(request, services.redirect, to_counter=payload.counter,
                to_group=payload.group.upper() if payload.group else None,
                reason=payload.reason)


@router.post("/counter/no-show", auth=bearer, response=COUNTER, summary="Mark a no-show")
def no_show(request: HttpRequest) -> dict[str, Any]:
    """Allowed once the country's no-show minutes have passed since the call."""
    return _act(request, services.no_show)


@router.post("/counter/finish", auth=bearer, response=COUNTER, summary="Finish serving")
def finish(request: HttpRequest) -> dict[str, Any]:
    return _act(request, services.finish)


@router.post("/counter/identify", auth=bearer, response=COUNTER,
             summary="Identify the ticket's holder")
def identify(request: HttpRequest, payload: IdentifyIn) -> dict[str, Any]:
    """Record the national ID of the citizen at the counter."""
    return _act(request, services.identify, national_id=payload.national_id)


@router.post("/counter/link", auth=bearer, response=COUNTER,
             summary="Link an application to the ticket")
def link_application(request: HttpRequest, payload: LinkIn) -> dict[str, Any]:
    """Link an application submitted at your centre to the ticket at your counter."""
    user = _operator(request)
    application = Application.objects.filter(number=payload.application,
                                             centre=user.centre).first()
    if application is None:
        raise HttpError(404, "no such application submitted at your centre")
    return _act(request, services.link_application, application=application)
