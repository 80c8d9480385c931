"""Counters calling at the same moment on PostgreSQL, each thread with its own connection:
every ticket is handed out exactly once, none is left while a counter that could take it
got nothing, and a ticket being taken is skipped rather than waited on. (SQLite
serialises write transactions, so there is nothing to race.)"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.utils import translation

from onestop.accounts.models import User
from onestop.centres import services
from onestop.centres.models import Centre, Ticket, TicketState

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SKIP LOCKED is PostgreSQL's; SQLite serialises",
    ),
    pytest.mark.django_db(transaction=True),
]

TICKETS = 120
COUNTERS = range(3, 13)  # ten counters that all serve group A


def run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    # the language is per thread: the threads speak the test's, as a request would its own
    language = translation.get_language()

    def guarded(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                with translation.override(language):
                    target()
            except BaseException as exc:  # reported by the test, not lost in the thread
                errors.append(exc)
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=guarded(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_many_counters_calling_at_once_hand_out_every_ticket_once(
    operator_at: Callable[..., User], issue: Callable[..., Ticket],
    at: Callable[..., dt.datetime],
) -> None:
    base = at(9, 0)
    tickets = [issue("A", now=base + dt.timedelta(seconds=i)) for i in range(TICKETS)]
    operators = [operator_at(n) for n in COUNTERS]
    start = threading.Barrier(len(operators), timeout=30)
    got: dict[int, list[int]] = {op.pk: [] for op in operators}
    empty: dict[int, int] = {op.pk: 0 for op in operators}

    def work(operator: User) -> Callable[[], None]:
        def run() -> None:
            start.wait()
            now = at(10, 0)
            while True:
                ticket = services.call_next(operator=operator, now=now)
                if ticket is None:
                    empty[operator.pk] += 1
                    return
                got[operator.pk].append(ticket.pk)
                services.start_serving(operator=operator, now=now)
                services.finish(operator=operator, now=now)

        return run

    errors = run_threads([work(op) for op in operators])
    assert errors == []
    handed_out = [pk for pks in got.values() for pk in pks]
    assert sorted(handed_out) == sorted(t.pk for t in tickets)  # each exactly once
    assert not Ticket.objects.filter(state=TicketState.WAITING).exists()
    assert Ticket.objects.filter(state=TicketState.SERVED).count() == TICKETS
    # every counter stopped only once nothing was left, and each took its tickets in
    # the queue's order (tickets were issued a second apart: pk order is place order)
    assert all(count == 1 for count in empty.values())
    for pks in got.values():
        assert pks == sorted(pks)
    # more than one counter really took part
    assert sum(1 for pks in got.values() if pks) > 1


def test_a_ticket_being_taken_is_skipped_not_waited_on(
    operator_at: Callable[..., User], issue: Callable[..., Ticket],
    at: Callable[..., dt.datetime],
) -> None:
    first = issue("A", now=at(9, 0))
    second = issue("A", now=at(9, 1))
    fourth, fifth = operator_at(4), operator_at(5)
    holding = threading.Barrier(2, timeout=10)
    done = threading.Barrier(2, timeout=10)
    called: dict[str, int | None] = {}

    def slow() -> None:
        with transaction.atomic():  # keeps the first ticket locked until the other called
            ticket = services.call_next(operator=fourth, now=at(9, 5))
            called["slow"] = ticket.pk if ticket else None
            holding.wait()
            done.wait()

    def fast() -> None:
        holding.wait()
        ticket = services.call_next(operator=fifth, now=at(9, 5))
        called["fast"] = ticket.pk if ticket else None
        done.wait()

    assert run_threads([slow, fast]) == []
    assert called == {"slow": first.pk, "fast": second.pk}


def test_one_operator_calling_twice_at_once_gets_one_ticket(
    operator_at: Callable[..., User], issue: Callable[..., Ticket],
    at: Callable[..., dt.datetime],
) -> None:
    """A double click: the second call waits for the first on the operator's session and
    then sees the ticket the first one called, so it is refused rather than calling a
    second ticket to the same counter."""
    first = issue("A", now=at(9, 0))
    issue("A", now=at(9, 1))
    operator = operator_at(4)
    holding = threading.Barrier(2, timeout=10)
    outcome: dict[str, object] = {}

    def slow() -> None:
        with transaction.atomic():  # keeps the session locked a while after calling
            ticket = services.call_next(operator=operator, now=at(9, 5))
            outcome["slow"] = ticket.pk if ticket else None
            holding.wait()
            time.sleep(0.5)  # lets the other call reach the lock (not needed to pass)

    def fast() -> None:
        holding.wait()
        try:
            outcome["fast"] = services.call_next(operator=operator, now=at(9, 5))
        except services.Conflict as exc:
            outcome["fast"] = str(exc)

    assert run_threads([slow, fast]) == []
    assert outcome == {"slow": first.pk, "fast": "ticket A-001 is still at your counter: "
                                                "finish it first"}
    assert list(Ticket.objects.filter(operator=operator).values_list("pk", flat=True)) == [
        first.pk
    ]
    assert Ticket.objects.filter(state=TicketState.WAITING).count() == 1


def test_kiosks_issuing_at_once_get_consecutive_numbers(
    issue: Callable[..., Ticket], at: Callable[..., dt.datetime], centre: Centre,
) -> None:
    kiosks, each = 10, 6
    start = threading.Barrier(kiosks, timeout=30)
    numbers: list[str] = []
    lock = threading.Lock()

    def kiosk() -> None:
        start.wait()
        for _ in range(each):
            ticket = issue("B", now=at(9, 0))
            with lock:
                numbers.append(ticket.number)

    assert run_threads([kiosk] * kiosks) == []
    assert sorted(numbers) == [f"B-{n:03d}" for n in range(1, kiosks * each + 1)]


def test_counters_of_different_groups_racing_take_only_their_groups(
    operator_at: Callable[..., User], issue: Callable[..., Ticket],
    at: Callable[..., dt.datetime],
) -> None:
    base = at(9, 0)
    codes = ["A", "R", "B"]
    tickets = [
        issue(codes[i % 3], now=base + dt.timedelta(seconds=i),
              priority_code="elderly" if i % 7 == 0 else None)
        for i in range(90)
    ]
    operators = {n: operator_at(n) for n in range(1, 13)}  # 1-2: A; 3: A, R; 4-12: all
    serves = {1: {"A"}, 2: {"A"}, 3: {"A", "R"}}
    start = threading.Barrier(len(operators), timeout=30)
    got: dict[int, list[Ticket]] = {n: [] for n in operators}

    def work(number: int) -> Callable[[], None]:
        def run() -> None:
            operator = operators[number]
            start.wait()
            now = at(10, 0)
            while (ticket := services.call_next(operator=operator, now=now)) is not None:
                got[number].append(ticket)
                services.start_serving(operator=operator, now=now)
                services.finish(operator=operator, now=now)

        return run

    assert run_threads([work(n) for n in operators]) == []
    handed_out = sorted(t.pk for taken in got.values() for t in taken)
    assert handed_out == sorted(t.pk for t in tickets)
    for number, taken in got.items():
        allowed = serves.get(number, set(codes))
        assert {t.group.code for t in taken} <= allowed, number
    assert not Ticket.objects.filter(state=TicketState.WAITING).exists()
