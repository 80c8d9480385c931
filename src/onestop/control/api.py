"""API: the violations of the service standards and their handling."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from onestop.accounts.api import bearer
from onestop.accounts.models import User
from onestop.control import selectors, services
from onestop.control.errors import ControlError, status_of
from onestop.control.models import Violation
from onestop.core.api_errors import ErrorOut

router = Router(tags=["violations"])

Kind = Literal["deadline_missed", "deadline_near", "stage_overdue", "wait_over",
               "counter_time_over", "complaint_overdue", "refusal_ground", "extra_documents",
               "unjustified_refusal"]
State = Literal["open", "acknowledged", "explained", "penalised", "closed", "active"]
Found = Literal["self", "control"]


def fail(exc: ControlError) -> HttpError:
    return HttpError(status_of(exc), str(exc))


def _user(request: HttpRequest) -> User:
    auth = getattr(request, "auth", None)
    assert isinstance(auth, User)
    return auth


class ViolationOut(Schema):
    id: int
    country: str
    kind: str
    key: str
    found_at: dt.datetime
    found_by: str
    application: str | None
    ticket: int | None
    complaint: str | None
    agency: str | None
    centre: str | None
    person: str | None = Field(
        description="the responsible officer or operator: shown to the control body and "
        "analysts, and to a supervisor on one violation of their scope; else null")
    detail: dict[str, Any]
    state: str
    handled_at: dt.datetime | None
    handled_by: str | None
    note: str
    actions: list[str]


def violation_out(violation: Violation, user: User, *, one: bool) -> dict[str, Any]:
    person = violation.person.username if violation.person and selectors.shows_person(
        user, one=one) else None
    detail = dict(violation.detail) if isinstance(violation.detail, dict) else {}
    return {
        "id": violation.pk,
        "country": violation.country.code,
        "kind": violation.kind,
        "key": violation.key,
        "found_at": violation.found_at,
        "found_by": violation.found_by,
        "application": violation.application.number if violation.application else None,
        "ticket": violation.ticket_id,
        "complaint": violation.complaint.number if violation.complaint else None,
        "agency": violation.agency.code if violation.agency else None,
        "centre": violation.centre.code if violation.centre else None,
        "person": person,
        "detail": detail,
        "state": violation.state,
        "handled_at": violation.handled_at,
        "handled_by": violation.handled_by.username if violation.handled_by else None,
        "note": violation.note,
        "actions": services.actions_for(user, violation) if one else [],
    }


class ViolationListQuery(Schema):
    kind: Kind | None = None
    state: State | None = Field(default=None,
                                description="a state, or `active` (every state but closed)")
    agency: str | None = Field(default=None, max_length=64, description="an agency's code")
    found_by: Found | None = None
    since: dt.datetime | None = Field(default=None, description="found at or after")
    until: dt.datetime | None = Field(default=None, description="found before")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ViolationListOut(Schema):
    count: int
    items: list[ViolationOut]


@router.get("/violations", auth=bearer,
            response={200: ViolationListOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
            summary="Violations in my scope")
def list_violations(request: HttpRequest, query: Query[ViolationListQuery]) -> dict[str, Any]:
    """Controllers, analysts and admins: every violation. A supervisor: those of their
    agency and its sub-units, or of the centre they manage (the responsible person is not
    listed to them: open one violation to see it). Others: 403. The newest first."""
    user = _user(request)
    if query.since and query.until and query.since >= query.until:
        raise HttpError(422, "since: must be before until")
    try:
        found = selectors.filtered(
            selectors.visible_violations(user), kind=query.kind or "",
            state=query.state or "", agency=query.agency or "",
            found_by=query.found_by or "", since=query.since, until=query.until,
        )
    except ControlError as exc:
        raise fail(exc) from exc
    page = selectors.listed(found)[query.offset : query.offset + query.limit]
    return {"count": found.count(),
            "items": [violation_out(v, user, one=False) for v in page]}


@router.get("/violations/{violation_id}", auth=bearer,
            response={200: ViolationOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
            summary="One violation")
def get_violation(request: HttpRequest, violation_id: int) -> dict[str, Any]:
    user = _user(request)
    try:
        return violation_out(selectors.get_violation(user, _checked_id(violation_id)), user,
                             one=True)
    except ControlError as exc:
        raise fail(exc) from exc


def _checked_id(violation_id: int) -> int:
    if not 1 <= violation_id <= 2**62:
        raise HttpError(404, f"no violation {violation_id}")
    return violation_id


class HandleIn(Schema):
    note: str = Field(default="", max_length=services.MAX_NOTE,
                      description="explain: why (required); penalise: the measure "
                      "(required); acknowledge, close: optional")


@router.post("/violations/{violation_id}/{action}", auth=bearer,
             response={200: ViolationOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                       409: ErrorOut, 422: ErrorOut},
             summary="Handle a violation")
def handle_violation(
    request: HttpRequest,
    violation_id: int,
    action: Literal["acknowledge", "explain", "penalise", "close"],
    payload: HandleIn,
) -> dict[str, Any]:
    """`acknowledge` (from open), `explain` (from open or acknowledged, with a note),
    `penalise` (before closing, with a note: the measure taken), `close`. By the
    responsible agency's or centre's supervisor, or a controller."""
    user = _user(request)
    try:
        violation = selectors.get_violation(user, _checked_id(violation_id))
        services.handle(violation=violation, user=user, action=action, note=payload.note)
        return violation_out(selectors.get_violation(user, violation.pk), user, one=True)
    except ControlError as exc:
        raise fail(exc) from exc
