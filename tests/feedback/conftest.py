"""Fixtures of the feedback tests: the mini pack (country zz, KZ calendar), a citizen with
an issued and a refused application, staff of every kind, and served tickets.

The mini pack's feedback rules: criteria legality and timeliness, alerts at or below 3,
ratings changeable for 7 days, provider deadline 5 working days, control 15, extensions
up to 60 days, anonymous complaints not allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from onestop.accounts.models import User
from onestop.applications import services as applications
from onestop.applications.models import Application
from onestop.catalogue.models import Country, Service
from onestop.centres.models import Centre, ServiceGroup, Ticket, TicketState

ALMATY = ZoneInfo("Asia/Almaty")
# Thursday 19 March 2026, before Nauryz (23-25 March are days off in Kazakhstan in 2026)
BEFORE_NAURYZ = datetime(2026, 3, 19, 10, tzinfo=ALMATY)


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> User:
    user = make_user("citizen", national_id="900101300011")
    user.email = "citizen@example.kz"
    user.save()
    return user


@pytest.fixture
def other_citizen(make_user: Callable[..., User]) -> User:
    user = make_user("citizen", national_id="900101300022")
    user.email = "other@example.kz"
    user.save()
    return user


@pytest.fixture
def birth(mini_country: Country) -> Service:
    return Service.objects.get(country=mini_country, code="01010001")


@pytest.fixture
def make_application(birth: Service, officer: User) -> Callable[..., Application]:
    """`make_application(citizen, "issued" | "refused" | "open", at=...)`"""

    def make(citizen: User, outcome: str = "issued", at: datetime = BEFORE_NAURYZ
             ) -> Application:
        application = applications.submit(
            service=birth, form_data={"child_name": "Aruzhan"}, channel="portal",
            national_id=citizen.national_id, applicant=citizen, submitted_by=citizen,
            email=citizen.email, now=at,
        ).application
        if outcome == "open":
            return application
        applications.act(application=application, user=officer, action="accept",
                         now=at + timedelta(minutes=10))
        if outcome == "refused":
            return applications.act(
                application=application, user=officer, action="refuse", ground="unreliable",
                comment="The documents are unreliable", now=at + timedelta(minutes=20))
        result = applications.UploadedDocument("result", "c.pdf", "application/pdf", b"%PDF c")
        applications.act(application=application, user=officer, action="approve",
                         result_document=result, now=at + timedelta(minutes=20))
        return applications.act(application=application, user=officer, action="issue",
                                now=at + timedelta(minutes=30))

    return make


@pytest.fixture
def make_ticket(centre: Centre, operator: User) -> Callable[..., Ticket]:
    """A ticket of AST-01 (served by `operator` unless told otherwise)."""
    sequence = iter(range(1, 1000))

    def make(citizen: User | None = None, state: str = TicketState.SERVED,
             at: datetime = BEFORE_NAURYZ) -> Ticket:
        n = next(sequence)
        return Ticket.objects.create(
            centre=centre, group=ServiceGroup.objects.get(country=centre.country, code="A"),
            day=date(at.year, at.month, at.day), sequence=n, number=f"A-{n:03d}",
            source="kiosk", state=state, issued_at=at, place_at=at,
            operator=operator if state == TicketState.SERVED else None,
            finished_at=at + timedelta(minutes=15) if state == TicketState.SERVED else None,
            citizen=citizen,
        )

    return make
