"""API of the centres: booking, cancelling and arriving for appointments.

The free slots of a centre are public (places only, no personal data); a citizen books,
lists and cancels their own appointments (another's code answers 404); the kiosk, an
operator or a supervisor of the centre checks an appointment in and gets its ticket.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError

from onestop.accounts.api import bearer
from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.centres import appointments
from onestop.centres.models import Appointment, Centre, ServiceGroup, Ticket
from onestop.centres.services import (
    Conflict,
    NotAllowed,
    NotFound,
    QueueError,
    may_issue_tickets,
)
from onestop.core.api_errors import ErrorOut, IsoDate
from onestop.core.text import localize

router = Router(tags=["centres"])

GROUP = r"^[A-Za-z0-9]{1,4}$"
CODE = r"^[A-Za-z0-9 -]{4,16}$"
MAX_ID = 2**31 - 1


def fail(exc: QueueError) -> HttpError:
    status = {NotAllowed: 403, NotFound: 404, Conflict: 409}.get(type(exc), 422)
    return HttpError(status, str(exc))


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def _citizen(request: HttpRequest) -> User:
    user = _user(request)
    if user.role != Role.CITIZEN:
        raise HttpError(403, "appointments are a citizen's: book with a citizen's token")
    return user


def _centre(centre_id: int) -> Centre:
    centre = Centre.objects.select_related("country").filter(pk=centre_id).first()
    if centre is None:
        raise HttpError(404, f"no centre {centre_id}")
    return centre


def _group(centre: Centre, code: str) -> ServiceGroup:
    group = ServiceGroup.objects.filter(country=centre.country, code=code).first()
    if group is None:
        raise HttpError(404, f"no service group {code!r} in {centre.country.code}")
    return group


def _name(text: Any, languages: list[str]) -> str:
    return localize(text, languages[0] if languages else "en", languages)


class SlotsQuery(Schema):
    group: str = Field(pattern=GROUP, description="the service group's code (ticket letter)")
    date: IsoDate = Field(description="the centre's local date, YYYY-MM-DD")


class SlotOut(Schema):
    start: dt.datetime
    end: dt.datetime
    capacity: int = Field(description="counters of the centre serving the group")
    free: int = Field(description="places left in the slot")


class SlotsOut(Schema):
    centre: int
    group: str
    date: dt.date
    open: bool = Field(description="false when the centre is closed that day (a holiday, "
                       "a day without opening hours)")
    slots: list[SlotOut] = Field(description="the day's slots still ahead")


@router.get(
    "/centres/{centre_id}/slots",
    response={200: SlotsOut, 404: ErrorOut, 422: ErrorOut},
    summary="Free appointment slots of a centre on a day (public)",
)
def list_slots(
    request: HttpRequest,
    query: Query[SlotsQuery],
    centre_id: int = Path(..., ge=1, le=MAX_ID),
) -> dict[str, Any]:
    """Every slot of the day still ahead with its free places; no personal data. 422
    for a group the centre does not serve or a date outside the booking window (today
    to the country's `appointment_days_ahead`)."""
    centre = _centre(centre_id)
    group = _group(centre, query.group)
    try:
        slots = appointments.day_slots(centre, group, query.date)
    except QueueError as exc:
        raise fail(exc) from exc
    return {
        "centre": centre.pk,
        "group": group.code,
        "date": query.date,
        "open": appointments.opens_on(centre, query.date),
        "slots": [{"start": s.start, "end": s.end, "capacity": s.capacity, "free": s.free}
                  for s in slots],
    }


class NamedOut(Schema):
    code: str
    name: str


class AppointmentCentreOut(Schema):
    id: int
    code: str
    name: str
    address: str


class AppointmentOut(Schema):
    code: str = Field(description="shown at booking; typed at the centre's kiosk")
    state: str = Field(description="booked, cancelled, arrived or no_show")
    centre: AppointmentCentreOut
    group: NamedOut
    slot_start: dt.datetime
    slot_end: dt.datetime
    booked_at: dt.datetime
    cancelled_at: dt.datetime | None
    ticket: str | None = Field(description="the ticket number once arrived")


def appointment_out(appointment: Appointment) -> dict[str, Any]:
    centre = appointment.centre
    languages = list(centre.country.languages)
    return {
        "code": appointment.code,
        "state": appointment.state,
        "centre": {"id": centre.pk, "code": centre.code, "name": _name(centre.name, languages),
                   "address": _name(centre.address, languages)},
        "group": {"code": appointment.group.code,
                  "name": _name(appointment.group.name, languages)},
        "slot_start": appointment.slot_start,
        "slot_end": appointment.slot_end,
        "booked_at": appointment.booked_at,
        "cancelled_at": appointment.cancelled_at,
        "ticket": appointment.ticket.number if appointment.ticket else None,
    }


class AppointmentIn(Schema):
    centre: int = Field(ge=1, le=MAX_ID, description="the centre's id")
    group: str = Field(pattern=GROUP, description="the service group's code")
    slot_start: dt.datetime = Field(
        description="the start of a free slot (from GET /centres/{id}/slots); a time "
        "without a zone is read in the country's time zone"
    )


@router.post(
    "/appointments",
    auth=bearer,
    response={201: AppointmentOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
              409: ErrorOut, 422: ErrorOut},
    summary="Book an appointment",
)
def book_appointment(request: HttpRequest, payload: AppointmentIn) -> Status[dict[str, Any]]:
    """A citizen books a free slot for themselves; the confirmation with the code is
    also sent by email or SMS. 409 when the slot is full or the citizen already holds
    the most future appointments allowed; 422 for a time that is not a bookable slot."""
    user = _citizen(request)
    centre = _centre(payload.centre)
    group = _group(centre, payload.group)
    try:
        appointment = appointments.book(citizen=user, centre=centre, group=group,
                                        slot_start=payload.slot_start)
    except QueueError as exc:
        raise fail(exc) from exc
    return Status(201, appointment_out(appointment))


class AppointmentsQuery(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class AppointmentListOut(Schema):
    count: int
    items: list[AppointmentOut]


@router.get(
    "/appointments",
    auth=bearer,
    response={200: AppointmentListOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="My appointments",
)
def list_appointments(request: HttpRequest, query: Query[AppointmentsQuery]) -> dict[str, Any]:
    """The citizen's own appointments, the latest slot first."""
    user = _citizen(request)
    mine = appointments.appointments_of(user)
    page = mine[query.offset : query.offset + query.limit]
    return {"count": mine.count(), "items": [appointment_out(a) for a in page]}


@router.post(
    "/appointments/{code}/cancel",
    auth=bearer,
    response={200: AppointmentOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
              409: ErrorOut, 422: ErrorOut},
    summary="Cancel my appointment",
)
def cancel_appointment(
    request: HttpRequest, code: str = Path(..., pattern=CODE)
) -> dict[str, Any]:
    """Before the slot starts; the place is free again. Another citizen's code answers
    404 as an unknown one does."""
    user = _citizen(request)
    try:
        appointment = appointments.cancel(citizen=user, code=code)
    except QueueError as exc:
        raise fail(exc) from exc
    return appointment_out(appointments.own_appointment(user, appointment.code))


class ArrivedOut(Schema):
    appointment: str
    ticket: str = Field(description="the ticket number, e.g. A-042")
    group: str
    issued_at: dt.datetime
    due_at: dt.datetime | None = Field(description="called first from this moment")


def arrived_out(appointment_code: str, ticket: Ticket) -> dict[str, Any]:
    return {"appointment": appointment_code, "ticket": ticket.number,
            "group": ticket.group.code, "issued_at": ticket.issued_at,
            "due_at": ticket.due_at}


@router.post(
    "/centres/{centre_id}/appointments/{code}/arrive",
    auth=bearer,
    response={201: ArrivedOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
              422: ErrorOut},
    summary="Check an appointment in at the centre (kiosk, operator)",
)
def arrive_appointment(
    request: HttpRequest,
    centre_id: int = Path(..., ge=1, le=MAX_ID),
    code: str = Path(..., pattern=CODE),
) -> Status[dict[str, Any]]:
    """The kiosk (a supervisor's device token), an operator or a supervisor of the centre
    checks the citizen in with the code: the answer is the ticket, called first from the
    slot's start less the country's early minutes. On the slot's day only; 409 when too
    early, too late (then an ordinary ticket), cancelled or already arrived."""
    user = _user(request)
    centre = _centre(centre_id)
    if not may_issue_tickets(user, centre):
        raise HttpError(403, "only the kiosk and staff of this centre check appointments in")
    try:
        ticket = appointments.arrive(centre=centre, code=code)
    except QueueError as exc:
        raise fail(exc) from exc
    return Status(201, arrived_out(appointments.normalize_code(code), ticket))
