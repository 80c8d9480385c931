"""The queue's live state and statistics, from ticket rows with known times.

The tickets are written directly (with their slices where the live state reads them),
so the figures do not depend on the queue services. The mini pack on DAY (2026-03-02):
group A covers service 01010001 (maximum wait 30 minutes in force then), group B is the
default group and covers 02020001 (15 minutes), group R covers no service (the country's
default, 30 minutes).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.centres import stats
from onestop.centres.models import (
    Centre,
    Counter,
    ServiceGroup,
    SliceKind,
    Ticket,
    TicketSlice,
    TicketState,
)
from tests.centres.conftest import DAY

_sequence = itertools.count(1)


def make_ticket(
    centre: Centre,
    group: ServiceGroup,
    issued_at: dt.datetime,
    *,
    state: str = TicketState.SERVED,
    wait: int | None = None,
    service: int | None = None,
    source: str = "kiosk",
    counter: int | None = None,
    finished_at: dt.datetime | None = None,
    **extra: Any,
) -> Ticket:
    """A ticket row with known times; `counter` is the number of a counter of the centre."""
    sequence = next(_sequence)
    local_day = issued_at.astimezone(dt.timezone(dt.timedelta(hours=5))).date()
    return Ticket.objects.create(
        centre=centre, group=group, day=extra.pop("day", local_day), sequence=sequence,
        number=f"{group.code}-{sequence:03d}", source=source, state=state,
        issued_at=issued_at, place_at=issued_at,
        counter=Counter.objects.get(centre=centre, number=counter) if counter else None,
        wait_seconds=wait, service_seconds=service,
        finished_at=finished_at or (
            issued_at + dt.timedelta(seconds=(wait or 0) + (service or 0))
            if state in (TicketState.SERVED, TicketState.NO_SHOW) else None),
        **extra,
    )


def waiting_ticket(centre: Centre, group: ServiceGroup, *slices: tuple[str, dt.datetime,
                   dt.datetime | None]) -> Ticket:
    """A ticket waiting now, with its slices (kind, started, ended)."""
    ticket = make_ticket(centre, group, slices[0][1], state=TicketState.WAITING)
    for kind, started, ended in slices:
        TicketSlice.objects.create(ticket=ticket, kind=kind, started_at=started, ended_at=ended)
    return ticket


@pytest.fixture
def history(centre: Centre, group: Callable[[str], ServiceGroup],
            at: Callable[..., dt.datetime], other_centre: Centre) -> None:
    """DAY's tickets of AST-01 with known waits and service times (seconds)."""
    a, b = group("A"), group("B")
    for wait, service, counter, source in [
        (120, 300, 1, "kiosk"), (240, 600, 1, "kiosk"), (600, 900, 4, "appointment"),
        (1800, 1200, 4, "kiosk"), (2400, 1500, 1, "reception"),
    ]:
        make_ticket(centre, a, at(9, 0), wait=wait, service=service, counter=counter,
                    source=source)
    make_ticket(centre, a, at(9, 0), state=TicketState.NO_SHOW, wait=3000, counter=1)
    make_ticket(centre, a, at(9, 0), state=TicketState.CANCELLED)
    make_ticket(centre, b, at(10, 0), wait=600, service=600, counter=4)
    make_ticket(centre, b, at(10, 0), wait=1200, service=600, counter=4, source="api")
    # outside the period and at another centre: never counted
    make_ticket(centre, a, at(9, 0, day=DAY - dt.timedelta(days=1)), wait=9000, service=9000)
    make_ticket(other_centre, a, at(9, 0), wait=9000, service=9000)


def test_group_standards_take_the_strictest_standard(mini_country: Country,
                                                     group: Callable[[str], ServiceGroup]
                                                     ) -> None:
    on_day = stats.group_standards(mini_country, DAY)
    assert on_day.max_wait(group("A").pk) == 30
    assert on_day.max_wait(group("B").pk) == 15
    assert on_day.max_wait(group("R").pk) == 30  # no service: the country's default
    assert on_day.service_minutes[group("A").pk] == 20
    # the standard of 01010001 in force from 2026-03-10 allows 15 minutes
    assert stats.group_standards(mini_country, dt.date(2026, 3, 10)).max_wait(
        group("A").pk) == 15


def test_percentile_is_the_nearest_rank() -> None:
    assert stats.percentile([], 0.9) is None
    assert stats.percentile([5], 0.9) == 5
    assert stats.percentile(list(range(1, 11)), 0.9) == 9
    assert stats.percentile(list(range(1, 12)), 0.9) == 10
    assert stats.percentile([3, 1, 2], 0.5) == 2


@pytest.mark.usefixtures("history")
def test_period_statistics_are_exact(centre: Centre) -> None:
    period = stats.period_stats(centre, DAY, DAY)
    groups = {g.group.code: g for g in period.groups}
    a = groups["A"].summary
    assert groups["A"].max_wait_minutes == 30
    assert (a.tickets, a.served, a.no_show, a.cancelled) == (7, 5, 1, 1)
    # waits of the served and the no-show: 120, 240, 600, 1800, 2400, 3000
    assert a.avg_wait_seconds == pytest.approx(8160 / 6)
    assert a.p90_wait_seconds == 3000
    assert a.within_standard_share == pytest.approx(4 / 6)  # <= 1800 s
    assert a.avg_service_seconds == 900
    assert a.p90_service_seconds == 1500
    assert a.no_show_rate == pytest.approx(1 / 6)

    b = groups["B"].summary
    assert groups["B"].max_wait_minutes == 15
    assert b.avg_wait_seconds == 900
    assert b.within_standard_share == 0.5  # 600 <= 900 < 1200
    assert b.no_show_rate == 0

    total = period.total
    assert total.tickets == 9
    assert total.avg_wait_seconds == pytest.approx(9960 / 8)
    assert total.p90_wait_seconds == 3000
    assert total.within_standard_share == pytest.approx(5 / 8)  # each against its group
    assert total.no_show_rate == pytest.approx(1 / 8)
    assert total.avg_service_seconds == pytest.approx((4500 + 1200) / 7)
    assert period.by_source == {"api": 1, "appointment": 1, "kiosk": 6, "reception": 1}
    assert period.served_per_counter == {1: 3, 4: 4}


@pytest.mark.usefixtures("history")
def test_a_longer_period_takes_in_the_day_before(centre: Centre) -> None:
    period = stats.period_stats(centre, DAY - dt.timedelta(days=1), DAY)
    assert period.total.tickets == 10
    assert period.total.p90_wait_seconds == 9000


def test_an_empty_period_has_no_averages(centre: Centre) -> None:
    period = stats.period_stats(centre, DAY, DAY)
    assert period.total.tickets == 0
    assert period.total.avg_wait_seconds is None
    assert period.total.within_standard_share is None
    assert period.total.no_show_rate is None
    assert period.groups == []


def test_a_bad_period_is_refused(centre: Centre) -> None:
    with pytest.raises(stats.PeriodError, match="ends before it starts"):
        stats.period_stats(centre, DAY, DAY - dt.timedelta(days=1))
    with pytest.raises(stats.PeriodError, match="longer than 366 days"):
        stats.period_stats(centre, DAY, DAY + dt.timedelta(days=366))


def test_live_state_per_group(
    centre: Centre, group: Callable[[str], ServiceGroup], at: Callable[..., dt.datetime],
    operator_at: Callable[..., User],
) -> None:
    a, b = group("A"), group("B")
    operator_at(1)
    operator_at(4)  # counter 4 serves A, B and R
    now = at(11, 0)
    waiting_ticket(centre, a, (SliceKind.WAITING, at(10, 0), None))  # 60 min so far
    waiting_ticket(centre, a, (SliceKind.WAITING, at(10, 50), None))
    # waited 20 minutes, was called, went back to waiting at 10:45: 35 minutes in all
    waiting_ticket(centre, a, (SliceKind.WAITING, at(9, 0), at(9, 20)),
                   (SliceKind.CALLED, at(9, 20), at(9, 21)),
                   (SliceKind.WAITING, at(10, 45), None))
    # the last two hours' service times of A: 600 and 1200 s; an older one is not recent
    make_ticket(centre, a, at(9, 30), wait=60, service=600, finished_at=at(10, 0))
    make_ticket(centre, a, at(9, 30), wait=60, service=1200, finished_at=at(10, 30))
    make_ticket(centre, a, at(8, 0), wait=60, service=60, finished_at=at(8, 30))
    # B served a week ago only: its history
    make_ticket(centre, b, at(10, 0, day=DAY - dt.timedelta(days=7)), wait=60, service=480)
    serving = make_ticket(centre, a, at(10, 40), state=TicketState.SERVING, counter=4,
                          called_at=at(10, 55))

    live = stats.centre_live(centre, now)
    groups = {g.group.code: g for g in live.groups}
    assert list(groups) == ["A", "B", "R"]
    assert (groups["A"].waiting, groups["A"].open_counters) == (3, 2)
    assert groups["A"].longest_wait_seconds == 3600
    assert groups["A"].service_time_source == "recent"
    assert groups["A"].mean_service_seconds == 900
    assert groups["A"].expected_wait_seconds == 3 * 900 / 2
    assert groups["A"].now_serving == [(serving.number, 4, "serving")]
    assert (groups["B"].waiting, groups["B"].open_counters) == (0, 1)
    assert groups["B"].service_time_source == "history"
    assert groups["B"].mean_service_seconds == 480
    assert groups["B"].expected_wait_seconds == 0
    assert groups["R"].service_time_source == "default"  # R covers no service
    assert groups["R"].mean_service_seconds == stats.DEFAULT_SERVICE_MINUTES * 60
    assert live.waiting == 3
    assert live.expected_wait_seconds == 1350


def test_no_open_counter_means_no_expected_wait(
    centre: Centre, group: Callable[[str], ServiceGroup], at: Callable[..., dt.datetime],
) -> None:
    waiting_ticket(centre, group("B"), (SliceKind.WAITING, at(10, 0), None))
    live = stats.centre_live(centre, at(10, 30))
    b = next(g for g in live.groups if g.group.code == "B")
    assert b.waiting == 1
    assert b.open_counters == 0
    assert b.service_time_source == "standard"  # 02020001 allows 15 minutes
    assert b.mean_service_seconds == 900
    assert b.expected_wait_seconds is None
    assert live.expected_wait_seconds is None


def test_country_overview_does_not_query_per_centre(
    mini_country: Country, centre: Centre, other_centre: Centre,
    group: Callable[[str], ServiceGroup], at: Callable[..., dt.datetime],
    operator_at: Callable[..., User],
) -> None:
    operator_at(1, centre=other_centre)
    waiting_ticket(other_centre, group("A"), (SliceKind.WAITING, at(10, 0), None))
    waiting_ticket(other_centre, group("A"), (SliceKind.WAITING, at(10, 5), None))
    with CaptureQueriesContext(connection) as one:
        stats.country_overview(mini_country, at(10, 30), centres=[centre])
    with CaptureQueriesContext(connection) as both:
        overview = stats.country_overview(mini_country, at(10, 30))
    assert len(both.captured_queries) == len(one.captured_queries)
    assert overview[centre.pk].waiting == 0
    assert overview[other_centre.pk].waiting == 2
    # two waiting, one counter open, the standard's 20 minutes for A
    assert overview[other_centre.pk].expected_wait_seconds == 2 * 20 * 60


def test_is_open_follows_hours_and_days_off(centre: Centre, at: Callable[..., dt.datetime]
                                            ) -> None:
    assert stats.is_open(centre, at(10, 0))
    assert not stats.is_open(centre, at(8, 59))
    assert not stats.is_open(centre, at(18, 0))
    assert not stats.is_open(centre, at(10, 0, day=dt.date(2026, 3, 7)))  # Saturday
    centre.breaks = {"monday": ["13:00-14:00"]}
    assert not stats.is_open(centre, at(13, 30))
    # 1 May is a public holiday in Kazakhstan; in 2026 it is a Friday
    assert not stats.is_open(centre, at(10, 0, day=dt.date(2026, 5, 1)))


def test_who_may_see_statistics(
    centre: Centre, other_centre: Centre, make_user: Callable[..., User],
    make_staff: Callable[..., User], supervisor: User,
) -> None:
    assert stats.may_see_statistics(supervisor, centre, operators=False)
    assert not stats.may_see_statistics(supervisor, other_centre)
    operator = make_staff("operator")
    assert stats.may_see_statistics(operator, centre)
    assert not stats.may_see_statistics(operator, centre, operators=False)
    for role in ("controller", "analyst", "admin"):
        assert stats.may_see_statistics(make_user(role), other_centre, operators=False)
    assert not stats.may_see_statistics(make_user("citizen"), centre)
