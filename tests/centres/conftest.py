"""Fixtures shared by the centres tests: the mini pack's centre, its groups and operators.

The mini pack (country zz) has one centre, AST-01, with 12 counters: counters 1-2 serve
group A only, 3 serves A and R, 4-12 serve every group (A, B, R). Priority categories:
disability (rank 3) and elderly (rank 2). `no_show_after_minutes` is 3.

    def test_x(centre, operator_at, issue, at):
        op = operator_at(1)                 # an operator with counter 1 open
        ticket = issue("A", now=at(9, 5))   # A-001 taken at 09:05 local time
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.centres.models import (
    Centre,
    Counter,
    CounterSession,
    PriorityCategory,
    ServiceGroup,
    Ticket,
)

# A working Monday; tests pass explicit `now` values on that day.
DAY = dt.date(2026, 3, 2)


@pytest.fixture
def zone(mini_country: Country) -> ZoneInfo:
    return ZoneInfo(mini_country.time_zone)


@pytest.fixture
def at(zone: ZoneInfo) -> Callable[..., dt.datetime]:
    """`at(9, 30)` = 09:30 local time on DAY (an aware datetime); `at(9, 30, 15)` with seconds."""

    def make(hour: int, minute: int = 0, second: int = 0, day: dt.date = DAY) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)

    return make


@pytest.fixture
def centre(mini_country: Country) -> Centre:
    """AST-01 of the mini pack, with its 12 counters."""
    return Centre.objects.get(country=mini_country, code="AST-01")


@pytest.fixture
def group(mini_country: Country) -> Callable[[str], ServiceGroup]:
    """`group("A")`: a service group of the mini country by its code."""

    def get(code: str) -> ServiceGroup:
        return ServiceGroup.objects.get(country=mini_country, code=code)

    return get


@pytest.fixture
def priority(mini_country: Country) -> Callable[[str], PriorityCategory]:
    """`priority("elderly")`: a priority category of the mini country by its code."""

    def get(code: str) -> PriorityCategory:
        return PriorityCategory.objects.get(country=mini_country, code=code)

    return get


@pytest.fixture
def other_centre(mini_country: Country, centre: Centre) -> Centre:
    """A second centre of the same country with 2 counters serving every group."""
    other = Centre.objects.create(
        country=mini_country, code="AST-02", name={"en": "Astana Centre No. 2"},
        region=centre.region, counters=2, opening_hours=centre.opening_hours,
    )
    groups = list(ServiceGroup.objects.filter(country=mini_country))
    for number in (1, 2):
        Counter.objects.create(centre=other, number=number).groups.set(groups)
    return other


@pytest.fixture
def make_staff(make_user: Callable[..., User], centre: Centre) -> Callable[..., User]:
    """`make_staff("supervisor")`: a staff member of AST-01 (or of `centre=`)."""

    def make(role: str = "operator", centre: Centre = centre, **extra: Any) -> User:
        return make_user(role, centre_code=centre.code, country_code=centre.country.code,
                         **extra)

    return make


@pytest.fixture
def make_operator(make_staff: Callable[..., User], centre: Centre) -> Callable[..., User]:
    """`make_operator()`: an operator of AST-01 (or of `centre=`), no counter open."""

    def make(centre: Centre = centre, **extra: Any) -> User:
        return make_staff("operator", centre=centre, **extra)

    return make


@pytest.fixture
def operator_at(
    make_operator: Callable[..., User], centre: Centre, at: Callable[..., dt.datetime]
) -> Callable[..., User]:
    """`operator_at(3)`: a new operator with counter 3 of AST-01 (or of `centre=`) open
    since 09:00 local (or `now=`). The session is created directly, not through services."""

    def make(number: int, *, centre: Centre = centre, now: dt.datetime | None = None) -> User:
        operator = make_operator(centre=centre)
        counter = Counter.objects.get(centre=centre, number=number)
        CounterSession.objects.create(
            counter=counter, operator=operator, opened_at=now or at(9, 0)
        )
        return operator

    return make


@pytest.fixture
def supervisor(make_staff: Callable[..., User]) -> User:
    """A supervisor managing AST-01."""
    return make_staff("supervisor")


@pytest.fixture
def issue(
    centre: Centre, group: Callable[[str], ServiceGroup],
    priority: Callable[[str], PriorityCategory],
) -> Callable[..., Ticket]:
    """`issue("A", now=..., priority="elderly")`: a ticket taken at the kiosk of AST-01
    (or of `centre=`) through `centres.services.take_ticket`."""

    def make(
        code: str = "A", *, now: dt.datetime | None = None, priority_code: str | None = None,
        centre: Centre = centre, source: str = "kiosk", **extra: Any,
    ) -> Ticket:
        from onestop.centres.services import take_ticket

        return take_ticket(
            centre=centre, group=group(code), source=source,
            priority=priority(priority_code) if priority_code else None,
            now=now or timezone.now(), **extra,
        )

    return make
