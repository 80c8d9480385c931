"""Appointments: slots, places, the limit per person, refusals, cancelling, arriving for a
due ticket, reminders once, no-shows, the periodic command, the API and its permissions.

Services take `now`; the mini pack's centre AST-01 opens Monday to Friday 09:00-18:00
(Asia/Almaty), 15-minute slots, 14 days ahead, at most 2 future appointments per person,
no-show after 3 minutes. DAY (conftest) is Monday 2 March 2026; Monday 9 March 2026 is
a public holiday (International Women's Day, observed).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from onestop.accounts.models import User
from onestop.catalogue.models import Country
from onestop.catalogue.selectors import calendar_for
from onestop.centres import appointments as appt
from onestop.centres import hours
from onestop.centres.models import (
    Appointment,
    AppointmentState,
    Centre,
    Counter,
    ServiceGroup,
    TicketSource,
    TicketState,
)
from onestop.centres.services import Conflict, NotAllowed, NotFound, QueueError
from onestop.notifications.models import Message
from tests.centres.conftest import DAY

At = Callable[..., dt.datetime]
HOLIDAY = dt.date(2026, 3, 9)  # Monday, International Women's Day (observed)
SATURDAY = dt.date(2026, 3, 7)


@pytest.fixture
def citizen(make_user: Callable[..., User]) -> Callable[[], User]:
    """`citizen()`: a new citizen with an email address."""

    def make() -> User:
        user = make_user("citizen", national_id="900101300011")
        user.email = f"{user.username}@example.kz"
        user.save(update_fields=["email"])
        return user

    return make


@pytest.fixture
def small(other_centre: Centre) -> Centre:
    """AST-02: two counters, each serving every group."""
    return other_centre


def staff(make_user: Callable[..., User], role: str, centre: Centre) -> User:
    return make_user(role, centre_code=centre.code, country_code=centre.country.code)


# --- pure: hours, slots, places, codes, holidays ------------------------------------------


def test_opening_hours_less_breaks_are_cut_into_whole_slots() -> None:
    spans = hours.open_spans(["09:00-18:00"], ["13:00-14:00"])
    assert spans == [(540, 780), (840, 1080)]
    slots = hours.slot_spans(spans, 25)
    assert slots[0] == (540, 565)
    assert all(end <= 780 or start >= 840 for start, end in slots)
    assert (765, 790) not in slots  # would run into the break
    assert hours.open_spans(["bad", "18:00-09:00"], []) == []


def test_free_places_keep_shared_counters_from_being_promised_twice() -> None:
    # counters 1, 2 serve A; counter 3 serves A and R
    counters = {1: frozenset({1, 2, 3}), 2: frozenset({3})}
    assert appt.free_places(1, counters, {}) == 3
    assert appt.free_places(2, counters, {}) == 1
    # one R booked takes counter 3: A has two places left, R none
    assert appt.free_places(1, counters, {2: 1}) == 2
    assert appt.free_places(2, counters, {2: 1}) == 0
    # three A booked fill every counter, R's too
    assert appt.free_places(2, counters, {1: 3}) == 0


def test_codes_are_short_unambiguous_and_read_as_typed() -> None:
    codes = {appt.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 8 and set(c) <= set(appt.CODE_ALPHABET) for c in codes)
    assert not set("0O1IL") & set(appt.CODE_ALPHABET)
    assert appt.normalize_code(" abcd-ef 23 ") == "ABCDEF23"


def test_holidays_close_centres_weekend_ones_too(mini_country: Country) -> None:
    calendar = calendar_for(mini_country)
    assert hours.is_holiday(calendar, HOLIDAY)
    assert hours.is_holiday(calendar, dt.date(2026, 3, 8))  # a Sunday holiday
    assert not hours.is_holiday(calendar, SATURDAY)
    assert hours.hours_key(calendar, DAY) == "monday"
    assert hours.hours_key(calendar, SATURDAY) == "saturday"
    assert hours.hours_key(calendar, HOLIDAY) is None


# --- slots and booking -------------------------------------------------------------------


def test_slots_of_a_day_with_their_places(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At
) -> None:
    slots = appt.day_slots(centre, group("A"), DAY, now=at(8, 0))
    assert len(slots) == 36  # 09:00-18:00 in 15 minutes
    assert (slots[0].start, slots[0].end) == (at(9, 0), at(9, 15))
    assert {s.capacity for s in slots} == {12}
    assert appt.day_slots(centre, group("B"), DAY, now=at(8, 0))[0].capacity == 9
    # only the slots still ahead
    later = appt.day_slots(centre, group("A"), DAY, now=at(17, 30))
    assert [s.start for s in later] == [at(17, 45)]
    assert appt.day_slots(centre, group("A"), HOLIDAY, now=at(8, 0)) == []
    assert not appt.opens_on(centre, HOLIDAY)
    assert HOLIDAY not in appt.open_days(centre, now=at(8, 0))
    assert SATURDAY not in appt.open_days(centre, now=at(8, 0))
    assert DAY in appt.open_days(centre, now=at(8, 0))


def test_booking_confirms_with_a_code_and_a_message(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    person = citizen()
    booked = appt.book(citizen=person, centre=centre, group=group("A"),
                       slot_start=at(10, 0), now=at(8, 0))
    assert booked.state == AppointmentState.BOOKED
    assert (booked.slot_start, booked.slot_end) == (at(10, 0), at(10, 15))
    assert len(booked.code) == 8
    message = Message.objects.get(subject_type="appointment", subject_id=booked.code)
    assert message.template == "appointment_booked"
    assert message.recipient == person.email
    assert message.context["when"] == "02.03.2026 10:00"
    # a naive time is read in the country's zone
    again = appt.book(citizen=citizen(), centre=centre, group=group("A"),
                      slot_start=dt.datetime(2026, 3, 2, 10, 0), now=at(8, 0))
    assert again.slot_start == at(10, 0)


def test_a_full_slot_is_refused_and_cancelling_frees_a_place(
    small: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    first = appt.book(citizen=citizen(), centre=small, group=group("A"),
                      slot_start=at(10, 0), now=at(8, 0))
    appt.book(citizen=citizen(), centre=small, group=group("B"), slot_start=at(10, 0),
              now=at(8, 0))
    # two counters, two appointments: full for every group, since they share counters
    assert [s.free for s in appt.day_slots(small, group("R"), DAY, now=at(8, 0))][4] == 0
    late = citizen()
    with pytest.raises(Conflict, match="full"):
        appt.book(citizen=late, centre=small, group=group("R"), slot_start=at(10, 0),
                  now=at(8, 0))
    appt.cancel(citizen=first.citizen, code=first.code, now=at(8, 30))
    assert appt.day_slots(small, group("R"), DAY, now=at(8, 30))[4].free == 1
    taken = appt.book(citizen=late, centre=small, group=group("R"), slot_start=at(10, 0),
                      now=at(8, 30))
    assert taken.state == AppointmentState.BOOKED


def test_an_inactive_counter_gives_no_place(
    small: Centre, group: Callable[[str], ServiceGroup], at: At
) -> None:
    Counter.objects.filter(centre=small, number=2).update(active=False)
    assert appt.day_slots(small, group("A"), DAY, now=at(8, 0))[0].capacity == 1


def test_one_person_holds_at_most_the_allowed_future_appointments(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    person = citizen()
    first = appt.book(citizen=person, centre=centre, group=group("A"), slot_start=at(10, 0),
                      now=at(8, 0))
    appt.book(citizen=person, centre=centre, group=group("B"), slot_start=at(11, 0),
              now=at(8, 0))
    with pytest.raises(Conflict, match="most allowed"):
        appt.book(citizen=person, centre=centre, group=group("A"), slot_start=at(12, 0),
                  now=at(8, 0))
    # once the first slot has passed, it no longer counts
    third = appt.book(citizen=person, centre=centre, group=group("A"), slot_start=at(12, 0),
                      now=at(10, 1))
    assert third.state == AppointmentState.BOOKED
    assert Appointment.objects.get(pk=first.pk).state == AppointmentState.BOOKED


def test_two_appointments_at_the_same_time_are_refused(
    centre: Centre, small: Centre, group: Callable[[str], ServiceGroup], at: At,
    citizen: Callable[[], User],
) -> None:
    person = citizen()
    appt.book(citizen=person, centre=centre, group=group("A"), slot_start=at(10, 0),
              now=at(8, 0))
    with pytest.raises(Conflict, match="at this time"):
        appt.book(citizen=person, centre=small, group=group("B"), slot_start=at(10, 0),
                  now=at(8, 0))


@pytest.mark.parametrize(("when", "message"), [
    (lambda at: at(7, 0), "passed"),
    (lambda at: at(8, 45), "not the start of a slot"),
    (lambda at: at(18, 0), "not the start of a slot"),
    (lambda at: at(10, 7), "not the start of a slot"),
    (lambda at: at(10, 0, day=HOLIDAY), "closed"),
    (lambda at: at(10, 0, day=SATURDAY), "closed"),
    (lambda at: at(10, 0, day=DAY + dt.timedelta(days=15)), "days ahead"),
])
def test_times_that_are_not_bookable_slots_are_refused(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User],
    when: Callable[[At], dt.datetime], message: str,
) -> None:
    with pytest.raises(QueueError, match=message):
        appt.book(citizen=citizen(), centre=centre, group=group("A"), slot_start=when(at),
                  now=at(8, 0))
    assert not Appointment.objects.exists()


def test_a_group_the_centre_does_not_serve_and_staff_are_refused(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At,
    make_user: Callable[..., User],
) -> None:
    Counter.objects.get(centre=centre, number=4).groups.set([group("A")])
    for counter in Counter.objects.filter(centre=centre, number__gt=4):
        counter.groups.set([group("A"), group("R")])
    with pytest.raises(QueueError, match="no appointments for group B"):
        appt.book(citizen=make_user("citizen"), centre=centre, group=group("B"),
                  slot_start=at(10, 0), now=at(8, 0))
    with pytest.raises(NotAllowed):
        appt.book(citizen=staff(make_user, "operator", centre), centre=centre,
                  group=group("A"), slot_start=at(10, 0), now=at(8, 0))


# --- cancel ------------------------------------------------------------------------------


def test_only_the_citizen_cancels_and_only_before_the_slot(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    person = citizen()
    booked = appt.book(citizen=person, centre=centre, group=group("A"), slot_start=at(10, 0),
                       now=at(8, 0))
    with pytest.raises(NotFound):
        appt.cancel(citizen=citizen(), code=booked.code, now=at(9, 0))
    with pytest.raises(Conflict, match="started"):
        appt.cancel(citizen=person, code=booked.code, now=at(10, 0))
    cancelled = appt.cancel(citizen=person, code=booked.code.lower(), now=at(9, 59))
    assert cancelled.state == AppointmentState.CANCELLED
    assert cancelled.cancelled_at == at(9, 59)
    assert Message.objects.filter(subject_id=booked.code,
                                  template="appointment_cancelled").count() == 1
    with pytest.raises(Conflict, match="cancelled"):
        appt.cancel(citizen=person, code=booked.code, now=at(9, 59))


# --- arrive ------------------------------------------------------------------------------


def test_arriving_issues_a_ticket_due_before_the_slot(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    person = citizen()
    booked = appt.book(citizen=person, centre=centre, group=group("A"), slot_start=at(10, 0),
                       now=at(8, 0))
    typed = f"{booked.code[:4].lower()}-{booked.code[4:]}"
    ticket = appt.arrive(centre=centre, code=typed, now=at(9, 20))
    assert ticket.source == TicketSource.APPOINTMENT
    assert ticket.state == TicketState.WAITING
    assert ticket.group == group("A")
    assert ticket.citizen == person
    assert ticket.due_at == at(9, 50)  # ten early minutes (the model's default)
    booked.refresh_from_db()
    assert booked.state == AppointmentState.ARRIVED
    assert booked.ticket == ticket
    with pytest.raises(Conflict, match=f"already arrived: your ticket is {ticket.number}"):
        appt.arrive(centre=centre, code=booked.code, now=at(9, 21))


def test_arriving_at_the_wrong_time_or_place_is_refused(
    centre: Centre, small: Centre, group: Callable[[str], ServiceGroup], at: At,
    citizen: Callable[[], User],
) -> None:
    booked = appt.book(citizen=citizen(), centre=centre, group=group("A"),
                       slot_start=at(10, 0), now=at(8, 0))
    with pytest.raises(NotFound):
        appt.arrive(centre=small, code=booked.code, now=at(9, 30))
    with pytest.raises(NotFound):
        appt.arrive(centre=centre, code="ZZZZZZZZ", now=at(9, 30))
    with pytest.raises(Conflict, match="too early"):
        appt.arrive(centre=centre, code=booked.code, now=at(8, 59))
    with pytest.raises(Conflict, match="come that day"):
        appt.arrive(centre=centre, code=booked.code,
                    now=at(9, 59, day=DAY - dt.timedelta(days=1)))
    with pytest.raises(Conflict, match="ordinary ticket"):
        appt.arrive(centre=centre, code=booked.code, now=at(10, 18, 1))
    assert Appointment.objects.get(pk=booked.pk).state == AppointmentState.BOOKED
    # late but within the no-show minutes after the slot: still checked in
    assert appt.arrive(centre=centre, code=booked.code, now=at(10, 18)).due_at == at(9, 50)


def test_a_cancelled_appointment_cannot_be_checked_in(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    person = citizen()
    booked = appt.book(citizen=person, centre=centre, group=group("A"), slot_start=at(10, 0),
                       now=at(8, 0))
    appt.cancel(citizen=person, code=booked.code, now=at(8, 1))
    with pytest.raises(Conflict, match="cancelled"):
        appt.arrive(centre=centre, code=booked.code, now=at(9, 55))


# --- reminders and no-shows --------------------------------------------------------------


def test_a_reminder_is_sent_once_a_day_before(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    tomorrow = DAY + dt.timedelta(days=1)
    early = appt.book(citizen=citizen(), centre=centre, group=group("A"),
                      slot_start=at(10, 0, day=tomorrow), now=at(8, 0))
    # booked less than a day ahead: the confirmation is its reminder
    appt.book(citizen=citizen(), centre=centre, group=group("A"),
              slot_start=at(9, 0, day=tomorrow), now=at(10, 0))
    cancelled = appt.book(citizen=citizen(), centre=centre, group=group("A"),
                          slot_start=at(11, 0, day=tomorrow), now=at(8, 0))
    appt.cancel(citizen=cancelled.citizen, code=cancelled.code, now=at(8, 5))
    assert appt.send_reminders(now=at(9, 59)) == 0
    assert appt.send_reminders(now=at(10, 0)) == 1
    assert appt.send_reminders(now=at(10, 30)) == 0
    assert appt.send_reminders(now=at(11, 0)) == 0
    reminders = Message.objects.filter(template="appointment_reminder")
    assert [m.subject_id for m in reminders] == [early.code]
    early.refresh_from_db()
    assert early.reminder_sent_at == at(10, 0)


def test_reminders_go_out_in_batches(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    tomorrow = DAY + dt.timedelta(days=1)
    for hour in (9, 10, 11):
        appt.book(citizen=citizen(), centre=centre, group=group("A"),
                  slot_start=at(hour, 0, day=tomorrow), now=at(7, 0))
    assert appt.send_reminders(now=at(12, 0), batch=2) == 3
    assert Message.objects.filter(template="appointment_reminder").count() == 3


def test_appointments_nobody_came_for_become_no_shows(
    centre: Centre, group: Callable[[str], ServiceGroup], at: At, citizen: Callable[[], User]
) -> None:
    missed = appt.book(citizen=citizen(), centre=centre, group=group("A"),
                       slot_start=at(10, 0), now=at(8, 0))
    came = appt.book(citizen=citizen(), centre=centre, group=group("A"),
                     slot_start=at(10, 0), now=at(8, 0))
    later = appt.book(citizen=citizen(), centre=centre, group=group("A"),
                      slot_start=at(11, 0), now=at(8, 0))
    appt.arrive(centre=centre, code=came.code, now=at(9, 55))
    assert appt.mark_no_shows(now=at(10, 17, 59)) == 0
    assert appt.mark_no_shows(now=at(10, 18)) == 1
    states = dict(Appointment.objects.values_list("code", "state"))
    assert states == {missed.code: AppointmentState.NO_SHOW,
                      came.code: AppointmentState.ARRIVED,
                      later.code: AppointmentState.BOOKED}
    with pytest.raises(Conflict, match="missed"):
        appt.arrive(centre=centre, code=missed.code, now=at(10, 18))


def test_the_periodic_commands(
    centre: Centre, group: Callable[[str], ServiceGroup], citizen: Callable[[], User]
) -> None:
    now = timezone.now()
    past = Appointment.objects.create(
        centre=centre, group=group("A"), citizen=citizen(), code="PAST2345",
        slot_start=now - dt.timedelta(hours=2), slot_end=now - dt.timedelta(hours=1, minutes=45),
        booked_at=now - dt.timedelta(days=3),
    )
    soon = Appointment.objects.create(
        centre=centre, group=group("A"), citizen=citizen(), code="SOON2345",
        slot_start=now + dt.timedelta(hours=3), slot_end=now + dt.timedelta(hours=3, minutes=15),
        booked_at=now - dt.timedelta(days=3),
    )
    out = StringIO()
    call_command("appointments", "remind", stdout=out)
    call_command("appointments", "remind", stdout=out)
    call_command("appointments", "close-day", stdout=out)
    assert out.getvalue().splitlines() == [
        "reminders queued: 1", "reminders queued: 0", "appointments marked no-show: 1",
    ]
    assert Appointment.objects.get(pk=past.pk).state == AppointmentState.NO_SHOW
    assert Appointment.objects.get(pk=soon.pk).reminder_sent_at is not None


# --- concurrency (PostgreSQL: real row locks between two connections) ----------------------


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises write transactions (BEGIN IMMEDIATE)")
@pytest.mark.django_db(transaction=True)
def test_two_people_cannot_take_the_last_place(
    mini_country: Country, small: Centre, group: Callable[[str], ServiceGroup], at: At,
    citizen: Callable[[], User],
) -> None:
    appt.book(citizen=citizen(), centre=small, group=group("A"), slot_start=at(10, 0),
              now=at(8, 0))  # one of two places left
    people = [citizen(), citizen()]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def take(person: User) -> None:
        try:
            start.wait()
            appt.book(citizen=person, centre=small, group=group("B"), slot_start=at(10, 0),
                      now=at(8, 0))
            outcomes.append("booked")
        except Conflict:
            outcomes.append("full")
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "full"]
    assert Appointment.objects.filter(centre=small, slot_start=at(10, 0)).count() == 2


# --- API ---------------------------------------------------------------------------------


def _next_open_day(centre: Centre) -> dt.date:
    days = appt.open_days(centre)
    assert days, "the mini centre opens on some day of the next two weeks"
    return days[-1]


def test_free_slots_are_public_without_personal_data(
    api_client: Callable[..., Client], centre: Centre, group: Callable[[str], ServiceGroup],
    citizen: Callable[[], User],
) -> None:
    day = _next_open_day(centre)
    first = appt.day_slots(centre, group("A"), day)[0]
    appt.book(citizen=citizen(), centre=centre, group=group("A"), slot_start=first.start)
    response = api_client().get(f"/api/v1/centres/{centre.pk}/slots",
                                {"group": "A", "date": day.isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert body["open"] is True
    assert set(body["slots"][0]) == {"start", "end", "capacity", "free"}
    assert (body["slots"][0]["capacity"], body["slots"][0]["free"]) == (12, 11)
    assert body["slots"][1]["free"] == 12


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/api/v1/centres/999999/slots", {"group": "A", "date": "2026-03-02"}, 404),
    ("/api/v1/centres/{id}/slots", {"group": "Q", "date": "2026-03-02"}, 404),
    ("/api/v1/centres/{id}/slots", {"group": "A", "date": "02.03.2026"}, 422),
    ("/api/v1/centres/{id}/slots", {"group": "A", "date": "2000-01-01"}, 422),
])
def test_slots_bad_input(
    api_client: Callable[..., Client], centre: Centre, path: str, params: dict[str, str],
    status: int,
) -> None:
    response = api_client().get(path.replace("{id}", str(centre.pk)), params)
    assert response.status_code == status
    assert response.json()["detail"]


def test_a_citizen_books_lists_and_cancels_through_the_api(
    api_client: Callable[..., Client], centre: Centre, group: Callable[[str], ServiceGroup],
    citizen: Callable[[], User],
) -> None:
    person, other = citizen(), citizen()
    day = _next_open_day(centre)
    slot = appt.day_slots(centre, group("A"), day)[2]
    client = api_client(person)
    response = client.post("/api/v1/appointments", {
        "centre": centre.pk, "group": "A", "slot_start": slot.start.isoformat(),
    }, content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    code = body["code"]
    assert body["state"] == "booked"
    assert body["centre"]["code"] == "AST-01"
    assert body["group"]["code"] == "A"
    assert dt.datetime.fromisoformat(body["slot_start"]) == slot.start
    listed = client.get("/api/v1/appointments").json()
    assert [a["code"] for a in listed["items"]] == [code]
    assert api_client(other).get("/api/v1/appointments").json() == {"count": 0, "items": []}
    # another citizen's code is unknown to them
    assert api_client(other).post(f"/api/v1/appointments/{code}/cancel").status_code == 404
    response = client.post(f"/api/v1/appointments/{code}/cancel")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert client.post(f"/api/v1/appointments/{code}/cancel").status_code == 409


def test_booking_problems_answer_with_clear_statuses(
    api_client: Callable[..., Client], centre: Centre, group: Callable[[str], ServiceGroup],
    citizen: Callable[[], User], make_user: Callable[..., User],
) -> None:
    day = _next_open_day(centre)
    slots = appt.day_slots(centre, group("A"), day)
    person = citizen()

    def post(client: Client, **changes: Any) -> Any:
        payload = {"centre": centre.pk, "group": "A", "slot_start": slots[0].start.isoformat(),
                   **changes}
        return client.post("/api/v1/appointments", payload, content_type="application/json")

    assert post(api_client()).status_code == 401
    refused = post(api_client(staff(make_user, "operator", centre)))
    assert refused.status_code == 403
    not_a_slot = post(api_client(person),
                      slot_start=(slots[0].start + dt.timedelta(minutes=7)).isoformat())
    assert not_a_slot.status_code == 422
    assert "not the start of a slot" in not_a_slot.json()["detail"]
    assert post(api_client(person), centre=999999).status_code == 404
    assert post(api_client(person)).status_code == 201
    assert post(api_client(person), slot_start=slots[1].start.isoformat()).status_code == 201
    too_many = post(api_client(person), slot_start=slots[2].start.isoformat())
    assert too_many.status_code == 409
    assert "most allowed" in too_many.json()["detail"]


def test_arrive_is_for_the_kiosk_and_staff_of_that_centre(
    api_client: Callable[..., Client], centre: Centre, small: Centre,
    group: Callable[[str], ServiceGroup], citizen: Callable[[], User],
    make_user: Callable[..., User],
) -> None:
    now = timezone.now().replace(microsecond=0)
    person = citizen()
    booked = Appointment.objects.create(
        centre=centre, group=group("A"), citizen=person, code="ARRV2345",
        slot_start=now + dt.timedelta(minutes=5), slot_end=now + dt.timedelta(minutes=20),
        booked_at=now - dt.timedelta(days=1),
    )
    path = f"/api/v1/centres/{centre.pk}/appointments/arrv-2345/arrive"
    assert api_client().post(path).status_code == 401
    assert api_client(person).post(path).status_code == 403
    assert api_client(staff(make_user, "operator", small)).post(path).status_code == 403
    other_path = f"/api/v1/centres/{small.pk}/appointments/ARRV2345/arrive"
    assert api_client(staff(make_user, "operator", small)).post(other_path).status_code == 404
    response = api_client(staff(make_user, "operator", centre)).post(path)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["appointment"] == "ARRV2345"
    assert body["ticket"].startswith("A-")
    assert dt.datetime.fromisoformat(body["due_at"]) == booked.slot_start - dt.timedelta(
        minutes=10)
    again = api_client(staff(make_user, "supervisor", centre)).post(path)
    assert again.status_code == 409
    assert body["ticket"] in again.json()["detail"]


# --- pages -------------------------------------------------------------------------------


def test_pages_are_a_citizens_own(
    client: Client, centre: Centre, group: Callable[[str], ServiceGroup],
    citizen: Callable[[], User], make_user: Callable[..., User],
) -> None:
    assert client.get("/appointments/").status_code == 302
    assert client.get("/appointments/new/").status_code == 302
    client.force_login(staff(make_user, "operator", centre))
    assert client.get("/appointments/").status_code == 403
    person, other = citizen(), citizen()
    day = _next_open_day(centre)
    booked = appt.book(citizen=person, centre=centre, group=group("A"),
                       slot_start=appt.day_slots(centre, group("A"), day)[0].start)
    client.force_login(other)
    assert client.get(f"/appointments/{booked.code}/").status_code == 404
    assert client.post(f"/appointments/{booked.code}/cancel/").status_code == 404
    assert booked.code not in client.get("/appointments/").content.decode()
    client.force_login(person)
    page = client.get(f"/appointments/{booked.code}/")
    assert page.status_code == 200
    assert booked.code in page.content.decode()
    assert booked.code in client.get("/appointments/").content.decode()
    response = client.post(f"/appointments/{booked.code}/cancel/")
    assert response.status_code == 302
    assert Appointment.objects.get(pk=booked.pk).state == AppointmentState.CANCELLED


def test_booking_on_the_portal_step_by_step(
    client: Client, mini_country: Country, centre: Centre,
    group: Callable[[str], ServiceGroup], citizen: Callable[[], User], settings: Any,
) -> None:
    settings.ONESTOP_COUNTRY = "zz"
    person = citizen()
    client.force_login(person)
    day = _next_open_day(centre)
    start = client.get("/appointments/new/").content.decode()
    assert 'name="region"' in start
    assert 'name="centre"' not in start
    step = client.get("/appointments/new/", {"region": centre.region.code}).content.decode()
    assert "Astana Centre No. 1" in step
    step = client.get("/appointments/new/", {"region": centre.region.code,
                                             "centre": centre.pk}).content.decode()
    assert 'name="group"' in step
    assert day.isoformat() in step
    choice = {"region": centre.region.code, "centre": centre.pk, "group": "A",
              "date": day.isoformat()}
    step = client.get("/appointments/new/", choice).content.decode()
    slot = appt.day_slots(centre, group("A"), day)[3]
    assert f'value="{slot.start.isoformat()}"' in step
    wrong = client.post("/appointments/new/", {
        **choice, "slot": (slot.start + dt.timedelta(minutes=7)).isoformat()})
    assert wrong.status_code == 422
    assert "not the start of a slot" in wrong.content.decode()
    response = client.post("/appointments/new/", {**choice, "slot": slot.start.isoformat()})
    booked = Appointment.objects.get(citizen=person)
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{booked.code}/"
    assert booked.slot_start == slot.start
