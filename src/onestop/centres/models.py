"""One-stop-shop centres: where citizens meet the state.

A centre has numbered counters, each serving some of the country's service groups
(the ticket letter: `B-042` is the 42nd ticket of group B today). A ticket's life is a
sequence of time slices (waiting, called, serving, on hold), so wait and counter times
are read from the slices, never estimated. Appointments book a slot for a service
group; arriving for one issues a ticket that is called first when its slot is due.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from onestop.catalogue.models import Country, Region


class CentreKind(models.TextChoices):
    CENTRE = "centre", "centre"
    BRANCH = "branch", "branch"
    DUTY = "duty", "duty centre"
    SPECIALISED = "specialised", "specialised centre"


class Centre(models.Model):
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="centres")
    code = models.CharField(max_length=32)
    name = models.JSONField(default=dict)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="centres")
    kind = models.CharField(max_length=16, choices=CentreKind.choices, default=CentreKind.CENTRE)
    address = models.JSONField(default=dict, blank=True)
    counters = models.PositiveIntegerField(default=1)
    # {"monday": ["09:00-18:00"], ...}; a weekday that is absent is closed.
    opening_hours = models.JSONField(default=dict, blank=True)
    # the same shape: intervals inside opening hours when no counter calls
    breaks = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["country", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="centre_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"


class QueueSettings(models.Model):
    """The country's queue rules, from the `queue` section of its pack."""

    country = models.OneToOneField(Country, on_delete=models.CASCADE, related_name="queue")
    no_show_after_minutes = models.PositiveIntegerField(default=3)
    max_future_appointments = models.PositiveIntegerField(default=2)
    appointment_slot_minutes = models.PositiveIntegerField(default=15)
    appointment_days_ahead = models.PositiveIntegerField(default=14)
    # an appointment ticket counts as due this many minutes before its slot starts
    appointment_early_minutes = models.PositiveIntegerField(default=10)
    default_max_wait_minutes = models.PositiveIntegerField(default=30)

    def __str__(self) -> str:
        return f"queue rules of {self.country.code}"


class ServiceGroup(models.Model):
    """A queue of a centre: the letter on the ticket and the services it covers."""

    class Purpose(models.TextChoices):
        APPLY = "apply", "applications"
        PICKUP = "pickup", "collecting results"
        CONSULT = "consult", "consultation"

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="service_groups")
    code = models.CharField(max_length=4)  # the ticket letter(s)
    name = models.JSONField(default=dict)
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.APPLY)
    # service code prefixes covered (e.g. "01" for a whole sphere); empty = none
    service_prefixes = models.JSONField(default=list, blank=True)
    # the group for services no other group covers
    is_default = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["country", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="service_group_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"


class PriorityCategory(models.Model):
    """People served first (disability, elderly, pregnant, veterans): from the pack.
    A higher `rank` is called before a lower one; ordinary tickets have rank 0."""

    country = models.ForeignKey(
        Country, on_delete=models.CASCADE, related_name="priority_categories"
    )
    code = models.CharField(max_length=32)
    name = models.JSONField(default=dict)
    rank = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["country", "-rank", "code"]
        constraints = [
            models.UniqueConstraint(fields=["country", "code"], name="priority_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}/{self.code}"


class Counter(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="counter_set")
    number = models.PositiveIntegerField()
    groups = models.ManyToManyField(ServiceGroup, related_name="counters")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["centre", "number"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "number"], name="counter_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.centre.code} #{self.number}"


class CounterSession(models.Model):
    """An operator working at a counter, from opening to closing it."""

    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="sessions")
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="counter_sessions"
    )
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["counter"], condition=Q(closed_at__isnull=True),
                name="one_open_session_per_counter",
            ),
            models.UniqueConstraint(
                fields=["operator"], condition=Q(closed_at__isnull=True),
                name="one_open_session_per_operator",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.counter} from {self.opened_at:%Y-%m-%d %H:%M}"


class TicketState(models.TextChoices):
    WAITING = "waiting", "waiting"
    CALLED = "called", "called"
    SERVING = "serving", "being served"
    ON_HOLD = "on_hold", "on hold"
    SERVED = "served", "served"
    NO_SHOW = "no_show", "no-show"
    CANCELLED = "cancelled", "cancelled"


OPEN_TICKET_STATES = (TicketState.WAITING, TicketState.CALLED, TicketState.SERVING,
                      TicketState.ON_HOLD)


class TicketSource(models.TextChoices):
    KIOSK = "kiosk", "kiosk"
    RECEPTION = "reception", "reception"
    APPOINTMENT = "appointment", "appointment"
    API = "api", "API"


class Ticket(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="tickets")
    group = models.ForeignKey(ServiceGroup, on_delete=models.PROTECT, related_name="tickets")
    day = models.DateField()  # the centre's local date the ticket was issued
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=16)  # "B-042"
    source = models.CharField(max_length=16, choices=TicketSource.choices)
    priority = models.ForeignKey(
        PriorityCategory, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    priority_rank = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=16, choices=TicketState.choices, default=TicketState.WAITING
    )
    issued_at = models.DateTimeField()
    # the moment that orders the ticket in its queue: kept when it is redirected
    place_at = models.DateTimeField()
    # set when the ticket comes from an appointment: called first from this moment
    due_at = models.DateTimeField(null=True, blank=True)
    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="served_tickets",
    )
    # redirected to this counter: only it may call the ticket
    target_counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    called_at = models.DateTimeField(null=True, blank=True)
    recalls = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    # who came, once the operator identifies them (None for an anonymous ticket)
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="tickets",
    )
    national_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    applications = models.ManyToManyField(
        "applications.Application", blank=True, related_name="tickets"
    )
    wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    service_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["centre", "day", "group", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "day", "group", "sequence"], name="ticket_sequence_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["centre", "state", "group", "place_at"], name="ticket_queue"),
            models.Index(fields=["centre", "day"], name="ticket_day"),
        ]

    def __str__(self) -> str:
        return f"{self.centre.code} {self.day} {self.number}"


class TicketSequence(models.Model):
    """The last number issued per centre, group and day (locked while issuing)."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(ServiceGroup, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["centre", "group", "day"], name="ticket_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.centre_id}/{self.group_id} {self.day}: {self.last}"


class SliceKind(models.TextChoices):
    WAITING = "waiting", "waiting"
    CALLED = "called", "called"
    SERVING = "serving", "being served"
    ON_HOLD = "on_hold", "on hold"


class TicketSlice(models.Model):
    """One stretch of a ticket's life. The open slice has no `ended_at`."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="slices")
    kind = models.CharField(max_length=16, choices=SliceKind.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    # how the slice ended or began when it matters: "redirect", "recall", "no_show",
    # "out_of_order", "served", "cancelled"
    note = models.CharField(max_length=32, blank=True, default="")
    # an operator's reason for an out-of-order call or a redirect
    reason = models.CharField(max_length=300, blank=True, default="")
    out_of_order = models.BooleanField(default=False)

    class Meta:
        ordering = ["ticket", "started_at", "pk"]
        indexes = [models.Index(fields=["ticket", "ended_at"], name="slice_open")]

    def __str__(self) -> str:
        return f"{self.kind} from {self.started_at:%H:%M:%S}"


class AppointmentState(models.TextChoices):
    BOOKED = "booked", "booked"
    CANCELLED = "cancelled", "cancelled"
    ARRIVED = "arrived", "arrived"
    NO_SHOW = "no_show", "no-show"


class Appointment(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="appointments")
    group = models.ForeignKey(ServiceGroup, on_delete=models.PROTECT, related_name="+")
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    slot_start = models.DateTimeField()
    slot_end = models.DateTimeField()
    state = models.CharField(
        max_length=16, choices=AppointmentState.choices, default=AppointmentState.BOOKED
    )
    code = models.CharField(max_length=12, unique=True)  # shown to the citizen, typed at the kiosk
    booked_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    ticket = models.OneToOneField(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointment"
    )

    class Meta:
        ordering = ["slot_start"]
        indexes = [
            models.Index(fields=["centre", "group", "slot_start"], name="appointment_slot"),
            models.Index(fields=["citizen", "state", "slot_start"], name="appointment_citizen"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.slot_start:%Y-%m-%d %H:%M}"
