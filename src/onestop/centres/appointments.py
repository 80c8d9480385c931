"""Appointments at the centres: free slots, booking, cancelling, arriving, reminders and
no-shows. The services (writes, each one transaction, raising `centres.services.QueueError`
or its subclasses) and the selectors (reads) of one feature.

The rules (docs/centres.md, "Appointments"), all numbers from the country's QueueSettings:

- Days: a centre takes appointments on the days it opens: the weekdays its opening hours
  list, except public holidays and days off of the country calendar (a holiday falling on
  a weekend closes a centre open at weekends too); a weekend day made working by decree
  has Monday's hours. From today to `appointment_days_ahead` days after it.
- Slots: the opening hours less the breaks, cut into slots of `appointment_slot_minutes`
  from the start of each stretch (a slot that would run past its end is left out). Only
  slots starting after now are offered.
- Places: every active counter of the centre serving the group takes one appointment per
  slot; no share is held back for walk-ins (appointment tickets are called first only
  from their slot, so walk-ins are served around them). Counters serve several groups,
  so a slot's appointments of all groups must fit its counters together: the free places
  of a group are the fewest spare counters over every set of groups including it (Hall's
  condition), so bookings never promise more people than counters. Booked and arrived
  appointments hold their place; cancelled ones free it.
- A citizen holds at most `max_future_appointments` booked appointments whose slot is
  still ahead, and never two at overlapping times.
- Booking is safe under concurrency: inside its transaction it locks the citizen's row
  and every counter row of the centre (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's
  BEGIN IMMEDIATE serialises writers) and counts again before it writes.
- Arriving: at the kiosk of the centre with the code, on the slot's day, from
  `ARRIVE_EARLIEST` before the slot starts until `no_show_after_minutes` after it ends;
  the ticket is due from the slot's start less `appointment_early_minutes`.
- Reminders: one message, `REMIND_BEFORE` (24 hours) before the slot, for appointments
  booked earlier than that (a later booking's confirmation is its reminder).
- No-shows: a booked appointment nobody arrived for by `no_show_after_minutes` after its
  slot ends becomes a no-show.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onestop.accounts.models import User
from onestop.accounts.roles import Role
from onestop.catalogue.models import Country, Region
from onestop.catalogue.selectors import calendar_for, local_today
from onestop.centres.hours import hours_key, open_spans, slot_spans
from onestop.centres.models import (
    Appointment,
    AppointmentState,
    Centre,
    Counter,
    QueueSettings,
    ServiceGroup,
    Ticket,
    TicketSource,
)
from onestop.centres.services import (
    APPOINTMENT_STATE_WORDS,
    Conflict,
    NotAllowed,
    NotFound,
    QueueError,
    take_ticket,
)
from onestop.core.calendar import WorkingCalendar
from onestop.notifications.services import NotificationError, enqueue_for_user

logger = logging.getLogger(__name__)

# Codes: 8 characters of an alphabet without look-alikes (no 0/O, 1/I/L): 31^8, about
# 8.5e11 codes, drawn with `secrets`.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
ARRIVE_EARLIEST = dt.timedelta(minutes=60)
REMIND_BEFORE = dt.timedelta(hours=24)
# Appointments holding a place in their slot.
HOLDING = (AppointmentState.BOOKED, AppointmentState.ARRIVED)
# Above this many other groups booked in one slot, the exact check of every set of groups
# gives way to the simple bound (all counters against all bookings): never reached by
# the shipped packs (six groups).
MAX_EXACT_GROUPS = 10


# --- pure helpers: places -----------------------------------------------------------


def free_places(
    group_id: int, counters: Mapping[int, frozenset[int]], booked: Mapping[int, int]
) -> int:
    """Places left in a slot for `group_id`, given the counters serving each group and
    the appointments each group already holds in the slot.

    The slot's appointments must each get a counter serving their group, one per counter:
    possible exactly when every set of groups holds no more appointments than the counters
    serving any of them (Hall's theorem). One more for `group_id` fits when that still
    holds for every set including it, so the places left are the smallest slack over
    those sets. Sets of other groups without bookings only add counters, so only the
    groups with bookings are combined.
    """
    others = sorted(g for g, count in booked.items() if count > 0 and g != group_id)
    if len(others) > MAX_EXACT_GROUPS:
        every = frozenset().union(*counters.values())
        simple = len(every) - sum(booked.values())
        return max(0, min(simple, len(counters.get(group_id, frozenset()))
                          - booked.get(group_id, 0)))
    slack: int | None = None
    for size in range(len(others) + 1):
        for combo in combinations(others, size):
            chosen = (group_id, *combo)
            serving = frozenset().union(*(counters.get(g, frozenset()) for g in chosen))
            spare = len(serving) - sum(booked.get(g, 0) for g in chosen)
            slack = spare if slack is None else min(slack, spare)
    return max(0, slack or 0)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """A code as typed: any case, spaces and dashes ignored."""
    return "".join(ch for ch in str(text).upper() if ch not in " -\t")[:16]


# --- selectors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    start: dt.datetime  # aware, in the country's zone
    end: dt.datetime
    capacity: int  # the counters serving the group
    free: int


def queue_rules(country: Country) -> QueueSettings:
    """The country's queue rules (the model's defaults when its pack has none)."""
    found = QueueSettings.objects.filter(country=country).first()
    return found or QueueSettings(country=country)


def serving_counters(centre: Centre) -> dict[int, frozenset[int]]:
    """Group id -> ids of the centre's active counters serving it."""
    through = Counter.groups.through.objects.filter(
        counter__centre=centre, counter__active=True
    ).values_list("servicegroup_id", "counter_id")
    found: dict[int, set[int]] = defaultdict(set)
    for group_id, counter_id in through:
        found[group_id].add(counter_id)
    return {group_id: frozenset(ids) for group_id, ids in found.items()}


def groups_served(centre: Centre) -> list[ServiceGroup]:
    """The service groups an active counter of the centre serves, in the pack's order."""
    return list(
        ServiceGroup.objects.filter(counters__centre=centre, counters__active=True).distinct()
        .order_by("position", "code")
    )


def bookable_centres(country: Country, region: Region | None = None) -> QuerySet[Centre]:
    """Centres of the country (of `region`) with an active counter and opening hours."""
    centres = Centre.objects.filter(country=country, counter_set__active=True).distinct()
    if region is not None:
        centres = centres.filter(region=region)
    return centres.exclude(opening_hours={}).select_related("region").order_by("code")


def regions_with_centres(country: Country) -> QuerySet[Region]:
    return Region.objects.filter(
        country=country, centres__in=bookable_centres(country)
    ).distinct().order_by("code")


def booking_window(country: Country, now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The first and last days an appointment may be booked for, in the country's dates."""
    today = local_today(country, now)
    return today, today + dt.timedelta(days=queue_rules(country).appointment_days_ahead)


def _slot_times(centre: Centre, day: dt.date, rules: QueueSettings,
                calendar: WorkingCalendar) -> list[tuple[dt.datetime, dt.datetime]]:
    key = hours_key(calendar, day)
    if key is None:
        return []
    hours = centre.opening_hours if isinstance(centre.opening_hours, dict) else {}
    breaks = centre.breaks if isinstance(centre.breaks, dict) else {}
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=calendar.zone)
    return [
        (midnight + dt.timedelta(minutes=start), midnight + dt.timedelta(minutes=end))
        for start, end in slot_spans(open_spans(hours.get(key), breaks.get(key)),
                                     rules.appointment_slot_minutes)
    ]


def _booked(centre: Centre, start: dt.datetime,
            end: dt.datetime) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """(group id, slot start, slot end) of the appointments holding a place between
    `start` and `end`."""
    return list(
        Appointment.objects.filter(
            centre=centre, state__in=HOLDING, slot_start__lt=end, slot_end__gt=start
        ).values_list("group_id", "slot_start", "slot_end")
    )


def _slot(start: dt.datetime, end: dt.datetime, group: ServiceGroup,
          counters: Mapping[int, frozenset[int]],
          booked: Sequence[tuple[int, dt.datetime, dt.datetime]]) -> Slot:
    held: dict[int, int] = defaultdict(int)
    for group_id, booked_start, booked_end in booked:
        if booked_start < end and booked_end > start:
            held[group_id] += 1
    return Slot(start=start, end=end, capacity=len(counters.get(group.pk, frozenset())),
                free=free_places(group.pk, counters, held))


def _check_group(centre: Centre, group: ServiceGroup,
                 counters: Mapping[int, frozenset[int]]) -> None:
    if group.country_id != centre.country_id or not counters.get(group.pk):
        raise QueueError(_("this centre takes no appointments for group %(group)s")
                         % {"group": group.code})


def _check_day(centre: Centre, day: dt.date, now: dt.datetime) -> None:
    first, last = booking_window(centre.country, now)
    if day < first:
        raise QueueError(_("%(day)s has passed") % {"day": day.isoformat()})
    if day > last:
        raise QueueError(
            _("appointments are booked up to %(days)s days ahead (until %(last)s)")
            % {"days": (last - first).days, "last": last.isoformat()}
        )


def day_slots(centre: Centre, group: ServiceGroup, day: dt.date,
              now: dt.datetime | None = None) -> list[Slot]:
    """The slots of `day` still ahead at `now` with their free places; empty when the
    centre is closed that day. QueueError for a group the centre does not serve or a day
    outside the booking window."""
    now = now or timezone.now()
    counters = serving_counters(centre)
    _check_group(centre, group, counters)
    _check_day(centre, day, now)
    times = [(start, end) for start, end in _slot_times(
        centre, day, queue_rules(centre.country), calendar_for(centre.country)) if start > now]
    if not times:
        return []
    booked = _booked(centre, times[0][0], times[-1][1])
    return [_slot(start, end, group, counters, booked) for start, end in times]


def opens_on(centre: Centre, day: dt.date) -> bool:
    """Whether the centre has appointment slots on `day` at all (past ones included)."""
    return bool(_slot_times(centre, day, queue_rules(centre.country),
                            calendar_for(centre.country)))


def open_days(centre: Centre, now: dt.datetime | None = None) -> list[dt.date]:
    """The days of the booking window on which the centre has a slot still ahead."""
    now = now or timezone.now()
    rules = queue_rules(centre.country)
    calendar = calendar_for(centre.country)
    first, last = booking_window(centre.country, now)
    days = []
    day = first
    while day <= last:
        if any(start > now for start, _ in _slot_times(centre, day, rules, calendar)):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def appointments_of(citizen: User) -> QuerySet[Appointment]:
    """The citizen's appointments, the latest slot first."""
    return (
        Appointment.objects.filter(citizen=citizen)
        .select_related("centre__country", "centre__region", "group", "ticket")
        .order_by("-slot_start", "-pk")
    )


def own_appointment(citizen: User, code: str) -> Appointment:
    """One of the citizen's appointments by its code; NotFound for anyone else's."""
    found = appointments_of(citizen).filter(code=normalize_code(code)).first()
    if found is None:
        raise NotFound(_("no appointment with this code"))
    return found


def can_cancel(appointment: Appointment, now: dt.datetime | None = None) -> bool:
    return (appointment.state == AppointmentState.BOOKED
            and (now or timezone.now()) < appointment.slot_start)


# --- services ----------------------------------------------------------------------------


def _lock(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """`FOR UPDATE` of the queried table's rows on PostgreSQL (SQLite takes no row locks:
    its write transactions are serialised by BEGIN IMMEDIATE)."""
    if connection.vendor == "postgresql":
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update()


def _local(appointment: Appointment, moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(calendar_for(appointment.centre.country).zone)


def _notify(appointment: Appointment, template: str) -> None:
    """Tell the citizen (email, else SMS; nothing without either), in the country's first
    language. A recipient the outbox refuses must not undo the booking: it is logged
    without the recipient, and the portal shows the appointment anyway."""
    centre = appointment.centre
    country = centre.country
    languages = list(country.languages)
    context: dict[str, Any] = {
        "code": appointment.code,
        "centre": centre.name,
        "address": centre.address or "",
        "group": appointment.group.name,
        "when": f"{_local(appointment, appointment.slot_start):%d.%m.%Y %H:%M}",
        "early_minutes": int(ARRIVE_EARLIEST.total_seconds() // 60),
        "manage_url": "/appointments/",
        "languages": languages,
    }
    try:
        enqueue_for_user(
            user=appointment.citizen, template=template,
            language=languages[0] if languages else "ru", context=context,
            subject_type="appointment", subject_id=appointment.code,
        )
    except NotificationError as exc:
        logger.warning("notification %s for appointment %s not queued: %s", template,
                       appointment.pk, exc)


def _unique_code() -> str:
    while True:
        code = new_code()
        if not Appointment.objects.filter(code=code).exists():
            return code


def book(
    *,
    citizen: User,
    centre: Centre,
    group: ServiceGroup,
    slot_start: dt.datetime,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book the slot starting at `slot_start` (a naive time is read in the country's
    zone) for `group` at `centre`, and queue the confirmation. Raises NotAllowed for a
    non-citizen, QueueError for a time that is not a bookable slot (passed, too far ahead,
    a closed day, outside hours), Conflict for a full slot or when the citizen already
    holds the most appointments allowed or one at the same time."""
    now = now or timezone.now()
    if citizen.role != Role.CITIZEN:
        raise NotAllowed(_("appointments are booked by citizens, each for themselves"))
    country = centre.country
    rules = queue_rules(country)
    calendar = calendar_for(country)
    if slot_start.tzinfo is None:
        slot_start = slot_start.replace(tzinfo=calendar.zone)
    local_start = slot_start.astimezone(calendar.zone)
    day = local_start.date()
    with transaction.atomic():
        counters = serving_counters(centre)
        _check_group(centre, group, counters)
        if slot_start <= now:
            raise QueueError(_("this time has passed: choose a later slot"))
        _check_day(centre, day, now)
        times = _slot_times(centre, day, rules, calendar)
        if not times:
            raise QueueError(_("the centre is closed on %(day)s") % {"day": day.isoformat()})
        match = [(start, end) for start, end in times if start == local_start]
        if not match:
            raise QueueError(
                _("%(time)s is not the start of a slot in the centre's opening hours on "
                  "%(day)s (slots of %(minutes)s minutes from %(first)s)")
                % {"time": f"{local_start:%H:%M}", "day": day.isoformat(),
                   "minutes": rules.appointment_slot_minutes,
                   "first": f"{times[0][0]:%H:%M}"}
            )
        start, end = match[0]

        list(_lock(User.objects.filter(pk=citizen.pk)).values_list("pk", flat=True))
        held = Appointment.objects.filter(
            citizen=citizen, state=AppointmentState.BOOKED, slot_start__gt=now
        )
        if held.count() >= rules.max_future_appointments:
            raise Conflict(
                _("you already hold %(n)s future appointment(s), the most allowed: cancel "
                  "one to book another") % {"n": rules.max_future_appointments}
            )
        if held.filter(slot_start__lt=end, slot_end__gt=start).exists():
            raise Conflict(_("you already have an appointment at this time"))

        list(_lock(Counter.objects.filter(centre=centre).order_by("pk"))
             .values_list("pk", flat=True))
        slot = _slot(start, end, group, counters, _booked(centre, start, end))
        if slot.free < 1:
            raise Conflict(_("this slot is full: choose another time"))
        appointment = Appointment.objects.create(
            centre=centre, group=group, citizen=citizen, slot_start=start, slot_end=end,
            state=AppointmentState.BOOKED, code=_unique_code(), booked_at=now,
        )
        _notify(appointment, "appointment_booked")
    return appointment


def cancel(*, citizen: User, code: str, now: dt.datetime | None = None) -> Appointment:
    """The citizen cancels their booked appointment before its slot starts; its place is
    free again. NotFound for another's code, Conflict when it cannot be cancelled."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = _lock(
            Appointment.objects.filter(citizen=citizen, code=normalize_code(code))
        ).first()
        if appointment is None:
            raise NotFound(_("no appointment with this code"))
        if appointment.state != AppointmentState.BOOKED:
            raise Conflict(_("this appointment is %(state)s: only a booked one can be "
                             "cancelled")
                           % {"state": APPOINTMENT_STATE_WORDS[appointment.state]})
        if now >= appointment.slot_start:
            raise Conflict(_("the slot has started: the appointment can no longer be "
                             "cancelled"))
        appointment.state = AppointmentState.CANCELLED
        appointment.cancelled_at = now
        appointment.save(update_fields=["state", "cancelled_at"])
        _notify(appointment, "appointment_cancelled")
    return appointment


def arrive(*, centre: Centre, code: str, now: dt.datetime | None = None) -> Ticket:
    """The citizen types their code at the centre's kiosk: the appointment's ticket, due
    from the slot's start less `appointment_early_minutes`, and the appointment arrived.

    Only at the centre booked, on the slot's day, from ARRIVE_EARLIEST before the slot
    until `no_show_after_minutes` after it ends; later, an ordinary ticket."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = _lock(
            Appointment.objects.filter(centre=centre, code=normalize_code(code))
        ).first()
        if appointment is None:
            raise NotFound(_("no appointment with this code at this centre"))
        appointment.centre = centre
        state = appointment.state
        if state == AppointmentState.ARRIVED:
            ticket = appointment.ticket
            raise Conflict(_("you have already arrived: your ticket is %(number)s")
                           % {"number": ticket.number}
                           if ticket else _("you have already arrived"))
        if state == AppointmentState.CANCELLED:
            raise Conflict(_("this appointment was cancelled: take an ordinary ticket"))
        if state == AppointmentState.NO_SHOW:
            raise Conflict(_("this appointment was missed: take an ordinary ticket"))
        rules = queue_rules(centre.country)
        local_start = _local(appointment, appointment.slot_start)
        late = appointment.slot_end + dt.timedelta(minutes=rules.no_show_after_minutes)
        if now > late:
            raise Conflict(_("you are too late for this appointment: take an ordinary "
                             "ticket"))
        if _local(appointment, now).date() != local_start.date():
            raise Conflict(_("this appointment is on %(day)s: come that day")
                           % {"day": f"{local_start:%d.%m.%Y}"})
        if now < appointment.slot_start - ARRIVE_EARLIEST:
            opens = _local(appointment, appointment.slot_start - ARRIVE_EARLIEST)
            raise Conflict(_("too early: this appointment can be checked in from %(time)s")
                           % {"time": f"{opens:%H:%M}"})
        return take_ticket(
            centre=centre, group=appointment.group, source=TicketSource.APPOINTMENT,
            citizen=appointment.citizen, appointment=appointment, now=now,
        )


def send_reminders(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Queue one reminder for each booked appointment starting within REMIND_BEFORE and
    booked before that window opened; returns how many. Each is sent once
    (`reminder_sent_at`), also when several runs overlap (the rows are locked and skipped
    by the others on PostgreSQL)."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            due = (
                Appointment.objects.filter(
                    state=AppointmentState.BOOKED, reminder_sent_at__isnull=True,
                    slot_start__gt=now, slot_start__lte=now + REMIND_BEFORE,
                    booked_at__lte=F("slot_start") - REMIND_BEFORE,
                )
                .order_by("slot_start", "pk")
            )
            if connection.vendor == "postgresql":
                due = due.select_for_update(of=("self",), skip_locked=True)
            rows = list(due[:batch])
            if not rows:
                return total
            Appointment.objects.filter(pk__in=[a.pk for a in rows]).update(reminder_sent_at=now)
            fetched = Appointment.objects.select_related("centre__country", "group", "citizen")
            for appointment in fetched.filter(pk__in=[a.pk for a in rows]).order_by("pk"):
                _notify(appointment, "appointment_reminder")
        total += len(rows)
        if len(rows) < batch:
            return total


def mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """Booked appointments nobody arrived for by the country's `no_show_after_minutes`
    after their slot ended become no-shows; returns how many."""
    now = now or timezone.now()
    total = 0
    for country in Country.objects.order_by("code"):
        after = dt.timedelta(minutes=queue_rules(country).no_show_after_minutes)
        with transaction.atomic():
            total += Appointment.objects.filter(
                centre__country=country, state=AppointmentState.BOOKED,
                slot_end__lte=now - after,
            ).update(state=AppointmentState.NO_SHOW)
    return total
