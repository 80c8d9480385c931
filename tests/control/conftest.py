"""Fixtures of the control tests: the mini pack (country zz, KZ calendar), staff of every
kind, and helpers that build applications, tickets and complaints by hand with their
times given explicitly (the scans are driven by `now`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from onestop.accounts.models import User
from onestop.applications.models import Application, ApplicationEvent
from onestop.catalogue.models import Agency, Country, Service
from onestop.centres.models import Centre, ServiceGroup, Ticket, TicketState
from onestop.feedback.models import Complaint

ALMATY = ZoneInfo("Asia/Almaty")
# Monday 2 March 2026, 10:00 in Astana: an ordinary working week
MONDAY = datetime(2026, 3, 2, 10, tzinfo=ALMATY)
_numbers = count(1)


@pytest.fixture
def birth(mini_country: Country) -> Service:
    return Service.objects.get(country=mini_country, code="01010001")


@pytest.fixture
def make_app(birth: Service, officer: User) -> Callable[..., Application]:
    """An application built by hand: `make_app(submitted_at=..., deadline_at=..., **fields)`;
    in review, assigned to the officer, with its submission event."""

    def make(submitted_at: datetime = MONDAY, deadline_at: datetime | None = None,
             **fields: Any) -> Application:
        values: dict[str, Any] = {
            "number": f"T-{next(_numbers):06d}", "country": birth.country, "service": birth,
            "standard": birth.versions.order_by("-valid_from").first(),
            "workflow": birth.workflow, "state": "in_review", "channel": "portal",
            "applicant_national_id": "900101300011",
            "agency": Agency.objects.get(country=birth.country, code="MJ-ZAGS"),
            "assigned_to": officer, "submitted_at": submitted_at,
            "deadline_at": deadline_at or submitted_at + timedelta(days=5),
        }
        values.update(fields)
        application = Application.objects.create(**values)
        ApplicationEvent.objects.create(application=application, at=submitted_at,
                                        action="submit", to_state="submitted",
                                        actor_role="citizen")
        return application

    return make


@pytest.fixture
def make_ticket(centre: Centre, operator: User) -> Callable[..., Ticket]:
    def make(wait_seconds: int = 60, service_seconds: int = 60, group: str = "A",
             at: datetime = MONDAY) -> Ticket:
        sequence = next(_numbers)
        return Ticket.objects.create(
            centre=centre, group=ServiceGroup.objects.get(country=centre.country, code=group),
            day=at.date(), sequence=sequence, number=f"{group}-{sequence:03d}",
            source="kiosk", state=TicketState.SERVED, issued_at=at, place_at=at,
            operator=operator, called_at=at + timedelta(seconds=wait_seconds),
            finished_at=at + timedelta(seconds=wait_seconds + service_seconds),
            wait_seconds=wait_seconds, service_seconds=service_seconds,
        )

    return make


@pytest.fixture
def make_complaint(mini_country: Country, officer: User) -> Callable[..., Complaint]:
    def make(deadline_at: datetime, registered_at: datetime = MONDAY, **fields: Any
             ) -> Complaint:
        values: dict[str, Any] = {
            "number": f"C-T-{next(_numbers):06d}", "country": mini_country,
            "level": "provider", "subject": "agency", "ground": "rudeness",
            "text": "They were rude.", "registered_at": registered_at,
            "deadline_at": deadline_at,
            "agency": Agency.objects.get(country=mini_country, code="MJ-ZAGS"),
            "handler": officer, "state": "in_review",
        }
        values.update(fields)
        return Complaint.objects.create(**values)

    return make
