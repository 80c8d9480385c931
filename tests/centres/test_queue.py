"""The queue's core: numbers, the calling order, the counter actions and their slices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from onestop.accounts.models import User
from onestop.applications.models import Application
from onestop.applications.services import submit
from onestop.audit.models import AuditEntry
from onestop.catalogue.models import Service
from onestop.centres import selectors, services
from onestop.centres.models import (
    Appointment,
    AppointmentState,
    Centre,
    Counter,
    CounterSession,
    ServiceGroup,
    SliceKind,
    Ticket,
    TicketSequence,
    TicketState,
)
from onestop.centres.services import Conflict, NotAllowed, NotFound, QueueError
from tests.applications.samples import sample_for, uploads
from tests.centres.conftest import DAY

Issue = Callable[..., Ticket]
At = Callable[..., dt.datetime]


def slices(ticket: Ticket) -> list[tuple[str, dt.datetime, dt.datetime | None]]:
    return [(s.kind, s.started_at, s.ended_at) for s in ticket.slices.order_by("started_at", "pk")]


# --- numbers -------------------------------------------------------------------------


def test_numbers_count_per_group_and_day(issue: Issue, at: At) -> None:
    first = issue("A", now=at(9, 0))
    second = issue("A", now=at(9, 1))
    other = issue("B", now=at(9, 2))
    tomorrow = issue("A", now=at(9, 0, day=DAY + dt.timedelta(days=1)))
    assert [first.number, second.number, other.number, tomorrow.number] == [
        "A-001", "A-002", "B-001", "A-001",
    ]
    assert tomorrow.day == DAY + dt.timedelta(days=1)
    assert TicketSequence.objects.get(group=first.group, day=DAY).last == 2


def test_the_day_is_the_centres_local_date(issue: Issue, at: At, centre: Centre) -> None:
    # 00:30 local on DAY is still the previous day in UTC (the mini country is east of UTC)
    ticket = issue("A", now=at(0, 30))
    assert ticket.day == DAY
    assert ticket.issued_at.astimezone(dt.UTC).date() == DAY - dt.timedelta(days=1)


def test_a_new_ticket_waits_in_an_open_slice(issue: Issue, at: At) -> None:
    ticket = issue("R", now=at(9, 0), priority_code="elderly")
    assert ticket.state == TicketState.WAITING
    assert ticket.priority_rank == 2
    assert ticket.place_at == ticket.issued_at == at(9, 0)
    assert slices(ticket) == [(SliceKind.WAITING, at(9, 0), None)]


def test_a_group_no_counter_serves_is_refused(
    issue: Issue, centre: Centre, group: Callable[[str], ServiceGroup]
) -> None:
    Counter.objects.filter(centre=centre).exclude(number__in=(1, 2)).update(active=False)
    with pytest.raises(QueueError, match="no counter of this centre serves group R"):
        issue("R")


def test_group_for_service_takes_the_longest_prefix_else_the_default(
    mini_country: object, group: Callable[[str], ServiceGroup]
) -> None:
    assert services.group_for_service(mini_country, "01010001") == group("A")  # type: ignore[arg-type]
    assert services.group_for_service(mini_country, "05010001") == group("B")  # type: ignore[arg-type]


# --- counters ------------------------------------------------------------------------


def test_an_operator_opens_and_closes_a_counter_of_their_centre(
    make_operator: Callable[..., User], at: At
) -> None:
    operator = make_operator()
    session = services.open_counter(operator=operator, counter_number=4, now=at(9, 0))
    assert selectors.open_session(operator) == session
    assert services.open_counter(operator=operator, counter_number=4, now=at(9, 1)) == session
    with pytest.raises(Conflict, match="close counter 4 first"):
        services.open_counter(operator=operator, counter_number=5, now=at(9, 1))
    with pytest.raises(Conflict, match="counter 4 is already open"):
        services.open_counter(operator=make_operator(), counter_number=4, now=at(9, 1))
    with pytest.raises(NotFound):
        services.open_counter(operator=make_operator(), counter_number=99, now=at(9, 1))
    closed = services.close_counter(operator=operator, now=at(12, 0))
    assert closed.closed_at == at(12, 0)
    assert selectors.open_session(operator) is None
    assert AuditEntry.objects.filter(action__in=("centres.counter.open",
                                                 "centres.counter.close")).count() == 2


def test_only_operators_open_counters_and_only_at_their_centre(
    make_staff: Callable[..., User],
    make_user: Callable[..., User], other_centre: Centre, centre: Centre, at: At
) -> None:
    with pytest.raises(NotAllowed):
        services.open_counter(operator=make_staff("supervisor", centre=centre), counter_number=1)
    with pytest.raises(NotAllowed):
        services.open_counter(operator=make_user("citizen"), counter_number=1)
    # an operator of AST-02 opening "counter 1" gets AST-02's counter 1, never AST-01's
    stranger = make_staff("operator", centre=other_centre)
    session = services.open_counter(operator=stranger, counter_number=1, now=at(9, 0))
    assert session.counter.centre == other_centre


def test_closing_with_a_ticket_at_the_counter_is_refused(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    operator = operator_at(1)
    issue("A", now=at(9, 0))
    services.call_next(operator=operator, now=at(9, 1))
    with pytest.raises(Conflict, match="A-001 first"):
        services.close_counter(operator=operator, now=at(9, 2))


# --- the calling order ---------------------------------------------------------------


def test_higher_priority_first_then_the_place_in_the_queue(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    plain = issue("A", now=at(9, 0))
    elderly = issue("A", now=at(9, 1), priority_code="elderly")
    disabled = issue("A", now=at(9, 2), priority_code="disability")
    later = issue("A", now=at(9, 3))
    operator = operator_at(4)
    called = []
    for minute in range(10, 14):
        ticket = services.call_next(operator=operator, now=at(9, minute))
        assert ticket is not None
        called.append(ticket.pk)
        services.start_serving(operator=operator, now=at(9, minute))
        services.finish(operator=operator, now=at(9, minute, 30))
    assert called == [disabled.pk, elderly.pk, plain.pk, later.pk]
    assert services.call_next(operator=operator, now=at(9, 20)) is None


def test_a_due_appointment_goes_first_and_not_before_it_is_due(
    operator_at: Callable[..., User], issue: Issue, at: At, centre: Centre,
    group: Callable[[str], ServiceGroup], make_user: Callable[..., User],
) -> None:
    disabled = issue("A", now=at(9, 0), priority_code="disability")
    appointment = Appointment.objects.create(
        centre=centre, group=group("A"), citizen=make_user("citizen"),
        slot_start=at(10, 0), slot_end=at(10, 15), code="ZZ1234", booked_at=at(8, 0),
    )
    booked = issue("A", now=at(9, 30), appointment=appointment, source="appointment")
    appointment.refresh_from_db()
    assert appointment.state == AppointmentState.ARRIVED
    assert appointment.ticket == booked
    assert booked.due_at == at(9, 50)  # appointment_early_minutes: 10 (the default)
    operator = operator_at(4)
    # at 09:40 the appointment is not due yet: priority goes first
    assert services.call_next(operator=operator, now=at(9, 40)) == disabled
    services.start_serving(operator=operator, now=at(9, 41))
    services.finish(operator=operator, now=at(9, 45))
    plain = issue("A", now=at(9, 46), priority_code="disability")
    # at 09:50 it is due and goes before a higher priority
    assert services.call_next(operator=operator, now=at(9, 50)) == booked
    assert plain.state == TicketState.WAITING
    with pytest.raises(Conflict, match=r"already has a ticket|arrived"):
        issue("A", now=at(9, 51), appointment=appointment)


def test_earliest_due_appointment_first(
    operator_at: Callable[..., User], issue: Issue, at: At, centre: Centre,
    group: Callable[[str], ServiceGroup], make_user: Callable[..., User],
) -> None:
    tickets = []
    for code, slot in (("ZZ0002", at(10, 15)), ("ZZ0001", at(10, 0))):
        appointment = Appointment.objects.create(
            centre=centre, group=group("A"), citizen=make_user("citizen"),
            slot_start=slot, slot_end=slot + dt.timedelta(minutes=15), code=code,
            booked_at=at(8, 0),
        )
        tickets.append(issue("A", now=at(9, 0), appointment=appointment, source="appointment"))
    assert services.call_next(operator=operator_at(4), now=at(10, 20)) == tickets[1]


def test_counters_call_only_the_groups_they_serve(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    results = issue("R", now=at(9, 0))
    documents = issue("A", now=at(9, 1))
    first, third = operator_at(1), operator_at(3)
    assert services.call_next(operator=first, now=at(9, 5)) == documents
    assert services.call_next(operator=third, now=at(9, 5)) == results
    other = issue("R", now=at(9, 6))
    services.start_serving(operator=first, now=at(9, 6))
    services.finish(operator=first, now=at(9, 7))
    assert services.call_next(operator=first, now=at(9, 8)) is None  # counter 1: A only
    assert other.state == TicketState.WAITING


def test_call_next_refuses_without_a_counter_or_with_a_ticket_at_it(
    make_operator: Callable[..., User], operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    issue("A", now=at(9, 0))
    issue("A", now=at(9, 1))
    with pytest.raises(Conflict, match="open a counter first"):
        services.call_next(operator=make_operator(), now=at(9, 2))
    operator = operator_at(4)
    services.call_next(operator=operator, now=at(9, 2))
    with pytest.raises(Conflict, match="A-001 is still at your counter"):
        services.call_next(operator=operator, now=at(9, 3))



def test_calling_records_the_call_on_the_ticket_and_its_slices(
    operator_at: Callable[..., User], issue: Issue, at: At, centre: Centre
) -> None:
    issued = issue("A", now=at(9, 0))
    issue("A", now=at(9, 1))
    operator = operator_at(4)
    ticket = services.call_next(operator=operator, now=at(9, 2))
    assert ticket is not None
    assert ticket.pk == issued.pk
    counter = Counter.objects.get(centre=centre, number=4)
    # what is returned is what is stored, down to every field
    stored = Ticket.objects.get(pk=issued.pk)
    assert [getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields] == [
        getattr(stored, f.attname) for f in Ticket._meta.concrete_fields
    ]
    assert (stored.state, stored.counter, stored.operator, stored.called_at) == (
        TicketState.CALLED, counter, operator, at(9, 2)
    )
    assert ticket.counter == counter
    assert ticket.operator == operator
    assert ticket.number == "A-001"
    assert ticket.group.code == "A"
    assert slices(stored) == [
        (SliceKind.WAITING, at(9, 0), at(9, 2)), (SliceKind.CALLED, at(9, 2), None),
    ]
    called = stored.slices.get(kind=SliceKind.CALLED)
    assert (called.counter, called.operator, called.note, called.reason,
            called.out_of_order) == (counter, operator, "", "", False)
    # the other ticket is untouched
    other = Ticket.objects.exclude(pk=issued.pk).get()
    assert other.state == TicketState.WAITING
    assert other.operator is None
    assert slices(other) == [(SliceKind.WAITING, at(9, 1), None)]
    # a refused call changes nothing
    with pytest.raises(Conflict):
        services.call_next(operator=operator, now=at(9, 3))
    assert Ticket.objects.get(pk=other.pk).state == TicketState.WAITING
    assert stored.slices.count() == 2

# --- calling by number ---------------------------------------------------------------


def test_calling_the_first_in_line_by_number_is_in_order(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    first = issue("A", now=at(9, 0))
    issue("A", now=at(9, 1))
    called = services.call_by_number(operator=operator_at(4), number="a-1", now=at(9, 2))
    assert called == first
    called_slice = called.slices.get(kind=SliceKind.CALLED)
    assert not called_slice.out_of_order
    assert not AuditEntry.objects.filter(action="centres.ticket.call_out_of_order").exists()


def test_an_out_of_order_call_needs_a_reason_and_is_recorded(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    issue("A", now=at(9, 0))
    second = issue("A", now=at(9, 1))
    issue("A", now=at(9, 2), priority_code="elderly")  # another priority: not counted
    operator = operator_at(4)
    with pytest.raises(QueueError, match="give a reason"):
        services.call_by_number(operator=operator, number="A-002", now=at(9, 3))
    called = services.call_by_number(operator=operator, number="A-002",
                                     reason="came back from the cashier", now=at(9, 3))
    assert called == second
    called_slice = called.slices.get(kind=SliceKind.CALLED)
    assert called_slice.out_of_order
    assert called_slice.reason == "came back from the cashier"
    entry = AuditEntry.objects.get(action="centres.ticket.call_out_of_order")
    assert entry.actor_username == operator.username
    assert entry.data["reason"] == "came back from the cashier"


def test_call_by_number_refusals(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    issue("R", now=at(9, 0))
    operator = operator_at(1)
    with pytest.raises(QueueError, match="does not serve group R"):
        services.call_by_number(operator=operator, number="R-001", now=at(9, 1))
    with pytest.raises(NotFound):
        services.call_by_number(operator=operator, number="A-009", now=at(9, 1))
    with pytest.raises(QueueError, match="not a ticket number"):
        services.call_by_number(operator=operator, number="??", now=at(9, 1))


# --- the slices and the times --------------------------------------------------------


def test_slices_and_the_stored_wait_and_service_seconds(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    ticket = issue("A", now=at(9, 0))
    operator = operator_at(4)
    services.call_next(operator=operator, now=at(9, 5))
    recalled = services.recall(operator=operator, now=at(9, 6))
    assert recalled.recalls == 1
    services.start_serving(operator=operator, now=at(9, 7))
    services.hold(operator=operator, now=at(9, 10))
    assert selectors.current_ticket(operator) is None  # the counter is free meanwhile
    back = services.call_by_number(operator=operator, number="A-001", now=at(9, 20))
    assert not back.slices.get(started_at=at(9, 20)).out_of_order
    services.start_serving(operator=operator, now=at(9, 21))
    done = services.finish(operator=operator, now=at(9, 25))
    assert slices(ticket) == [
        (SliceKind.WAITING, at(9, 0), at(9, 5)),
        (SliceKind.CALLED, at(9, 5), at(9, 7)),
        (SliceKind.SERVING, at(9, 7), at(9, 10)),
        (SliceKind.ON_HOLD, at(9, 10), at(9, 20)),
        (SliceKind.CALLED, at(9, 20), at(9, 21)),
        (SliceKind.SERVING, at(9, 21), at(9, 25)),
    ]
    assert done.state == TicketState.SERVED
    assert done.finished_at == at(9, 25)
    assert (done.wait_seconds, done.service_seconds) == (300, 7 * 60)
    assert done.slices.get(started_at=at(9, 21)).note == "served"


def test_finish_and_hold_need_the_citizen_at_the_counter(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    issue("A", now=at(9, 0))
    operator = operator_at(4)
    with pytest.raises(Conflict, match="no ticket at your counter"):
        services.finish(operator=operator, now=at(9, 1))
    services.call_next(operator=operator, now=at(9, 1))
    with pytest.raises(Conflict, match="start serving"):
        services.finish(operator=operator, now=at(9, 2))
    with pytest.raises(Conflict, match="start serving"):
        services.hold(operator=operator, now=at(9, 2))


# --- redirect ------------------------------------------------------------------------


def test_a_redirected_ticket_keeps_its_place_and_goes_to_its_counter_only(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    first = issue("A", now=at(9, 0))
    issue("A", now=at(9, 1))
    fourth, fifth, sixth = operator_at(4), operator_at(5), operator_at(6)
    services.call_next(operator=fourth, now=at(9, 2))
    services.start_serving(operator=fourth, now=at(9, 3))
    moved = services.redirect(operator=fourth, to_counter=6, reason="needs the notary desk",
                              now=at(9, 4))
    assert moved.state == TicketState.WAITING
    assert moved.place_at == at(9, 0)
    assert moved.target_counter is not None
    assert moved.target_counter.number == 6
    waiting = moved.slices.get(started_at=at(9, 4))
    assert (waiting.kind, waiting.note, waiting.reason) == (
        SliceKind.WAITING, "redirect", "needs the notary desk")
    # counter 5 may not take it; counter 6 takes it before the later A-002
    assert services.call_next(operator=fifth, now=at(9, 5)) != first
    assert services.call_next(operator=sixth, now=at(9, 6)) == first
    assert AuditEntry.objects.get(action="centres.ticket.redirect").data["to_counter"] == 6


def test_redirect_to_another_group_keeps_the_place_in_it(
    operator_at: Callable[..., User], issue: Issue, at: At, group: Callable[[str], ServiceGroup],
) -> None:
    first = issue("A", now=at(9, 0))
    issue("R", now=at(9, 1))
    fourth, third = operator_at(4), operator_at(3)
    services.call_next(operator=fourth, now=at(9, 2))
    moved = services.redirect(operator=fourth, to_group="R", now=at(9, 3))
    assert moved.group == group("R")
    assert moved.number == "R-002"  # the next number of R; the place of 09:00 is kept
    assert moved.place_at == at(9, 0)
    assert services.call_next(operator=third, now=at(9, 4)) == first  # placed at 09:00
    with pytest.raises(Conflict, match="R-002 is still at your counter"):
        services.call_next(operator=third, now=at(9, 5))
    services.start_serving(operator=third, now=at(9, 5))
    with pytest.raises(QueueError, match="counter 1 does not serve group R"):
        services.redirect(operator=third, to_counter=1, now=at(9, 6))
    with pytest.raises(QueueError, match="give the counter or the group"):
        services.redirect(operator=third, now=at(9, 6))


# --- no-show -------------------------------------------------------------------------


def test_a_no_show_only_after_the_packs_minutes(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    ticket = issue("A", now=at(9, 0))
    operator = operator_at(4)
    services.call_next(operator=operator, now=at(9, 1))
    services.recall(operator=operator, now=at(9, 2))
    with pytest.raises(Conflict, match=r"wait 3 minutes .*\(0:30 left\)"):
        services.no_show(operator=operator, now=at(9, 3, 30))
    gone = services.no_show(operator=operator, now=at(9, 4))
    assert gone.state == TicketState.NO_SHOW
    assert (gone.wait_seconds, gone.service_seconds) == (60, 0)
    assert slices(ticket)[-1] == (SliceKind.CALLED, at(9, 1), at(9, 4))
    assert ticket.slices.get(kind=SliceKind.CALLED).note == "no_show"
    assert AuditEntry.objects.filter(action="centres.ticket.no_show").count() == 1
    assert selectors.current_ticket(operator) is None


def test_no_show_of_a_citizen_being_served_is_refused(
    operator_at: Callable[..., User], issue: Issue, at: At
) -> None:
    issue("A", now=at(9, 0))
    operator = operator_at(4)
    services.call_next(operator=operator, now=at(9, 1))
    services.start_serving(operator=operator, now=at(9, 2))
    with pytest.raises(Conflict, match="being served"):
        services.no_show(operator=operator, now=at(9, 30))


# --- identify and applications -------------------------------------------------------


def test_identify_finds_the_citizens_account(
    operator_at: Callable[..., User], issue: Issue, at: At, make_user: Callable[..., User]
) -> None:
    citizen = make_user("citizen", national_id="900101300123")
    issue("A", now=at(9, 0))
    operator = operator_at(4)
    with pytest.raises(Conflict):
        services.identify(operator=operator, national_id="900101300123")
    services.call_next(operator=operator, now=at(9, 1))
    with pytest.raises(QueueError, match="national_id"):
        services.identify(operator=operator, national_id="  ")
    ticket = services.identify(operator=operator, national_id="900101300123")
    assert (ticket.national_id, ticket.citizen) == ("900101300123", citizen)
    entry = AuditEntry.objects.get(action="centres.ticket.identify")
    assert "900101300123" not in str(entry.data)
    unknown = services.identify(operator=operator, national_id="111111111111")
    assert unknown.citizen is None


def submitted_at(centre: Centre, operator: User, now: dt.datetime) -> Application:
    service = Service.objects.get(country=centre.country, code="01010001")
    return submit(
        service=service, form_data=sample_for(service), channel="centre",
        national_id="900101300123", submitted_by=operator, centre=centre,
        documents=uploads(service), now=now,
    ).application


def test_link_application_of_this_centre_only(
    operator_at: Callable[..., User], issue: Issue, at: At, centre: Centre,
    other_centre: Centre,
) -> None:
    issue("A", now=at(9, 0))
    operator = operator_at(4)
    services.call_next(operator=operator, now=at(9, 1))
    # submitted under the standard of 2026-03-10 (the form of the newest one)
    later = at(10, 0, day=dt.date(2026, 11, 16))
    here = submitted_at(centre, operator, later)
    there = submitted_at(other_centre, operator_at(1, centre=other_centre), later)
    with pytest.raises(NotAllowed, match="not submitted at this centre"):
        services.link_application(operator=operator, application=there)
    ticket = services.link_application(operator=operator, application=here)
    assert list(ticket.applications.all()) == [here]
    assert ticket.national_id == "900101300123"


# --- authorisation -------------------------------------------------------------------


def test_operators_of_another_centre_cannot_act_on_this_queue(
    make_staff: Callable[..., User],
    make_user: Callable[..., User], other_centre: Centre, centre: Centre, issue: Issue, at: At,
) -> None:
    issue("A", now=at(9, 0))
    stranger = make_staff("operator", centre=other_centre)
    with pytest.raises(NotAllowed):
        issue("A", now=at(9, 1), by=stranger)
    services.open_counter(operator=stranger, counter_number=1, now=at(9, 0))
    # their counter is AST-02's: AST-01's ticket is neither called nor callable by number
    assert services.call_next(operator=stranger, now=at(9, 2)) is None
    with pytest.raises(NotFound):
        services.call_by_number(operator=stranger, number="A-001", now=at(9, 2))
    # a session at AST-01's counter left over from a move to AST-02 does not let them act
    moved = make_staff("operator", centre=centre)
    CounterSession.objects.create(
        counter=Counter.objects.get(centre=centre, number=7), operator=moved, opened_at=at(9, 0)
    )
    moved.centre = other_centre
    moved.save()
    with pytest.raises(NotAllowed):
        services.call_next(operator=moved, now=at(9, 3))


def test_who_may_issue_tickets(
    make_staff: Callable[..., User],
    make_user: Callable[..., User], centre: Centre, other_centre: Centre, issue: Issue, at: At,
    supervisor: User,
) -> None:
    assert issue("A", now=at(9, 0), by=supervisor, source="reception").source == "reception"
    assert issue("A", now=at(9, 1), by=make_user("admin")).number == "A-002"
    assert issue("A", now=at(9, 2), by=make_staff("operator", centre=centre)).number == "A-003"
    for user in (make_user("citizen"), make_staff("supervisor", centre=other_centre),
                 make_user("analyst")):
        with pytest.raises(NotAllowed):
            issue("A", now=at(9, 3), by=user)
