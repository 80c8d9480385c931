"""The plan of a demo history: every application, event, payment and proactive offer of a
year, from a seed, without touching the database.

Pure Python (no Django): the writer hands over a `Context` (the register, the calendar,
the workflows, the accounts to act as) and `Params`; `HistoryPlan.chunks()` yields the rows
in chunks of about `chunk_size` applications, submission day by submission day, so memory
stays flat whatever the size. The same context, parameters and seed give the same rows.

How a history is drawn:

- Volume by day: each channel's count is spread over the year by a monthly pattern and
  the day of the week; the portal works round the clock every day (less at weekends and on
  holidays), centres only on their opening days (duty centres on Saturdays, none on public
  holidays, per the country calendar), system-started proactive services on any day.
- Within the day: centre submissions within the centre's opening hours with a late-morning
  and afternoon peak, portal ones around the clock with a daytime peak. Centres get volume
  by counters and opening hours; regions by their centres' counters.
- Each application takes the standard in force on its (local) submission date, the unit
  its service's provider has in its region (`routing.route`, resolved once per pair), the
  deadline of `calendar.deadline` for that standard, and a path through its workflow:
  automatic services complete at once as `services._advance_automatically` does; the
  others are taken by an officer of the unit, with documents requested (the clock stops
  until the applicant answers), requests to other agencies, a refusal on a ground of the
  standard, a withdrawal, or the result issued. Officers act within working hours; the
  time to completion is drawn per service as a share of the deadline, and a configurable
  share finish late. Events after `now` are not taken: recent applications are still open.
- The centres' history (with `Context.queue`): each centre's day is a `_Desk`, its demo
  operators each at one counter. A counter application is placed first: a stretch of a
  counter serving its service's group, free then, is taken (called, then served for a
  lognormal time), and the application is submitted during the serving by that counter's
  operator. At the end of the day consultations, pickups of results and no-shows fill free
  stretches; waits are drawn by hour and centre size and paired with the calls in the order
  issued, numbers run per group, slices, appointments and counter sessions follow.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

import holidays

from onestop.applications.workflow import Workflow, clock_effect
from onestop.catalogue.packs import APPLICANT_ID, APPLICANT_PHONE, applicant_id_properties
from onestop.core.calendar import WorkingCalendar
from onestop.core.clock import Clock, Pause
from onestop.demo.feedback import FeedbackInfo, FeedbackPlanner, FeedbackSummary
from onestop.demo.forms import Applicant, FormContext, FormMaker
from onestop.demo.people import (
    Person,
    Population,
    first_name,
    full_name,
    national_id,
    patronymic_of,
    surname_of,
)

SYSTEM = "system"
NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as services.NUMBER_ALPHABET
PORTAL_LIKE = ("portal", "api", "open311", "govstack")
CHANNELS = (*PORTAL_LIKE, "centre", "proactive")
DEFAULT_MIX = {"portal": 0.45, "centre": 0.5, "proactive": 0.05}
ACCOUNT_SHARE = 0.6
"""The share of citizens with a portal account (portal applications come from them)."""
CITIZENS_PER_APPLICATION = 1 / 3
"""Citizens in the population per application: each applies about three times a year."""
AGENCY_REQUEST_SHARE = 0.6
"""Of the applications whose workflow can ask another agency, the share that do."""
OFFICER_LOAD = 2000
"""Applications per officer and year: how many officer accounts each unit gets."""
OPERATOR_LOAD = 2500
"""Applications per operator and year at a centre's counter."""
FEATURED_APPLICATIONS = 24
"""About how many applications each featured citizen (the demo-accounts citizen) gets."""

# Seasonality: January starts slowly (holidays), March and May have long holidays,
# summer is quieter, August-September (school, kindergartens) and December are busy.
MONTH_FACTORS = (0.82, 0.95, 0.97, 1.0, 0.92, 1.0, 0.9, 1.08, 1.15, 1.06, 1.04, 1.08)
WEEKDAY_FACTORS = (1.15, 1.06, 1.0, 0.97, 0.88, 1.0, 1.0)
PORTAL_WEEKEND = 0.5
PORTAL_HOLIDAY = 0.35
# Portal submissions by local hour: night trough, daytime plateau, evening tail.
PORTAL_HOURS = (0.15, 0.08, 0.05, 0.04, 0.05, 0.1, 0.3, 0.7, 1.2, 1.7, 1.9, 1.9,
                1.6, 1.6, 1.8, 1.8, 1.7, 1.5, 1.3, 1.2, 1.1, 0.9, 0.6, 0.3)
# Counter submissions by local hour within opening hours: late-morning and afternoon peaks.
COUNTER_HOURS = {8: 0.6, 9: 0.9, 10: 1.3, 11: 1.35, 12: 1.1, 13: 0.95, 14: 1.2, 15: 1.2,
                 16: 1.05, 17: 0.8, 18: 0.55, 19: 0.4}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

COMMENTS = {
    "request_documents": (
        "Просим представить недостающие документы.",
        "Приложенная копия нечитаема, представьте документ повторно.",
        "Срок действия документа истёк, представьте действующий.",
    ),
    "request_agency": (
        "Запрос сведений в уполномоченный орган.",
        "Направлен межведомственный запрос для подтверждения сведений.",
    ),
    "agency_answer": (
        "Сведения получены, расхождений нет.",
        "Получен ответ госоргана.",
    ),
    "submit_for_approval": ("Замечаний нет, направляется на утверждение.",),
    "return_to_review": ("Требуется дополнительная проверка.",),
    "refuse": (
        "Основание указано в решении.",
        "По результатам проверки выявлено несоответствие требованиям.",
    ),
}
DEFAULT_COMMENT = ("Рассмотрено.",)
_STREETS = {
    "kk": ("Абай даңғылы", "Сәтбаев көшесі", "Төле би көшесі", "Достық даңғылы",
           "Жібек жолы көшесі", "Қабанбай батыр даңғылы"),
    "uz": ("Amir Temur ko'chasi", "Navoiy ko'chasi", "Mustaqillik shoh ko'chasi",
           "Bunyodkor shoh ko'chasi", "Shota Rustaveli ko'chasi", "Bobur ko'chasi"),
    "ru": ("ул. Абая", "ул. Ленина", "пр. Мира", "ул. Гагарина", "ул. Садовая", "ул. Школьная"),
}
_ORGANISATION_WORDS = ("company", "business", "entity", "organisation", "object", "facility",
                       "school", "polyclinic", "kindergarten", "driving", "clinic", "office",
                       "registry", "make")


# --- what the writer hands over ----------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Whoever acts: a user (pk and username) in a role, or the system."""

    pk: int | None
    username: str
    role: str


SYSTEM_ACTOR = Actor(None, SYSTEM, SYSTEM)


@dataclass(frozen=True)
class StandardInfo:
    pk: int
    valid_from: date
    channels: frozenset[str]
    deadline_value: int
    deadline_unit: str
    fee: Decimal
    grounds: tuple[tuple[str, str], ...]  # (code, text)
    applicant_documents: tuple[str, ...]
    required_documents: tuple[str, ...]
    eform: Mapping[str, Any]
    max_wait_minutes: int | None = None  # the standard's longest wait in the queue
    max_service_minutes: int | None = None  # and at the counter


@dataclass(frozen=True)
class ServiceInfo:
    pk: int
    code: str
    workflow: str
    provider: int
    standards: tuple[StandardInfo, ...]  # by valid_from, oldest first
    routes: Mapping[str | None, tuple[int, str]]  # region code (None: none) -> (agency pk, code)
    proactive_after: str | None = None  # the code of the service whose result starts it

    def standard_on(self, day: date) -> StandardInfo | None:
        found = None
        for standard in self.standards:
            if standard.valid_from <= day:
                found = standard
        return found


@dataclass(frozen=True)
class CentreInfo:
    pk: int
    code: str
    region: str
    kind: str
    counters: int
    hours: Mapping[str, tuple[tuple[int, int], ...]]  # weekday -> ((start s, end s), ...)
    breaks: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CounterInfo:
    pk: int
    number: int
    groups: frozenset[int]  # pks of the service groups it serves


@dataclass(frozen=True)
class QueueInfo:
    """The centres' queue as loaded from the pack: groups, counters, rules."""

    group_codes: Mapping[int, str]  # group pk -> ticket letter(s)
    service_groups: Mapping[str, int]  # service code -> the group its ticket is taken in
    pickup: int | None  # the group results are collected in
    consult: int | None  # the group of consultations
    priorities: tuple[tuple[int, int], ...]  # (pk, rank) of each priority category
    counters: Mapping[int, tuple[CounterInfo, ...]]  # centre pk -> its active counters
    no_show_after_minutes: int = 3
    default_max_wait_minutes: int = 30
    slot_minutes: int = 15
    early_minutes: int = 10
    days_ahead: int = 14


@dataclass(frozen=True)
class Context:
    country: str
    languages: tuple[str, ...]
    currency: str
    calendar: WorkingCalendar
    regions: Mapping[str, int]  # code -> pk
    agencies: tuple[tuple[int, str], ...]  # (pk, code) of every agency
    services: tuple[ServiceInfo, ...]
    centres: tuple[CentreInfo, ...]
    workflows: Mapping[str, Workflow]
    offered_as: Mapping[str, frozenset[str]]  # submission channel -> standard channels
    queue: QueueInfo | None = None  # None: no queue, so no centres' history
    feedback: FeedbackInfo | None = None  # the pack's feedback rules (None: no feedback)


@dataclass(frozen=True)
class Staff:
    """The accounts the history acts as (created by the writer before planning)."""

    officers: Mapping[int, tuple[Actor, ...]]  # agency pk -> officers
    supervisors: Mapping[int, Actor]  # agency pk -> supervisor
    operators: Mapping[int, tuple[Actor, ...]]  # centre pk -> operators
    citizens: Mapping[int, Actor]  # population index -> the citizen's account
    featured: tuple[tuple[Person, Actor], ...] = ()  # existing citizens who get a history
    controllers: tuple[Actor, ...] = ()  # the control body (complaints at its level)


@dataclass(frozen=True)
class Params:
    applications: int
    seed: int
    year: int
    now: datetime
    channel_mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    late: float = 0.06
    refused: float = 0.08
    sent_back: float = 0.12
    withdrawn: float = 0.02
    chunk_size: int = 20_000
    batch: str = "demo"
    tickets: bool = True  # the centres' history: tickets, appointments, counter sessions
    feedback: bool = True  # ratings, complaints and the violations they bring
    alert_share: float = 0.8  # ONESTOP_DEADLINE_ALERT_SHARE: "deadline near" at this share


class PlanError(ValueError):
    """Parameters this country's register cannot carry out; the message says why."""


# --- what the plan produces ------------------------------------------------------------


class PlannedApp:
    """One application's row, as `services.submit` and `services.act` would leave it."""

    __slots__ = (
        "account", "agency", "agency_code", "applicant", "assigned", "centre", "channel",
        "clock_stopped_at", "completed_at", "deadline_at", "demo_batch", "email", "fee",
        "form_data", "late", "name", "national_id", "number", "outcome", "phone",
        "refusal_ground", "refusal_reason", "region", "sent_back", "serial", "service",
        "standard", "started_by", "state", "stopped_seconds", "submitted_at", "submitted_by",
        "ticket",
    )

    def __init__(self) -> None:
        self.number = ""
        self.serial = 0
        self.state = ""
        self.outcome = ""
        self.refusal_ground = ""
        self.refusal_reason = ""
        self.clock_stopped_at: datetime | None = None
        self.completed_at: datetime | None = None
        self.stopped_seconds = 0
        self.assigned: int | None = None
        self.started_by: int | None = None  # index of the source in the chunk's apps
        self.late = False
        self.sent_back = False
        self.service: ServiceInfo
        self.standard: StandardInfo
        self.channel = ""
        self.applicant: int | None = None
        self.account: Actor | None = None
        self.national_id = ""
        self.name = ""
        self.phone = ""
        self.email = ""
        self.form_data: dict[str, Any] = {}  # what the citizen typed, nothing else
        self.demo_batch = ""  # Application.demo_batch: the run's Params.batch
        self.submitted_by: int | None = None
        self.centre: int | None = None
        self.region: int | None = None
        self.agency = 0
        self.agency_code = ""
        self.submitted_at: datetime
        self.deadline_at: datetime
        self.fee = Decimal(0)
        self.ticket: PlannedTicket | None = None  # the ticket it was submitted on


@dataclass(slots=True)
class PlannedEvent:
    app: int  # index in the chunk's apps
    at: datetime
    action: str
    from_state: str
    to_state: str
    actor: Actor
    clock: str
    comment: str
    data: dict[str, Any]
    offer: int | None = None  # index in the chunk's offers: data["offer"] is its pk


@dataclass(slots=True)
class PlannedPayment:
    app: int
    reference: str
    amount: Decimal
    currency: str
    paid_at: datetime
    status: str = "paid"  # refund_due: flagged by an upheld complaint against a refusal


@dataclass(slots=True)
class PlannedOffer:
    source: int  # index in the chunk's apps
    service: int  # pk
    applicant: int | None
    form_data: dict[str, Any]
    status: str  # offered | confirmed | declined
    application: int | None  # index in the chunk's apps
    created_at: datetime
    decided_at: datetime | None


class PlannedTicket:
    """One ticket of a centre's queue, finished (times are UNIX seconds).

    `slices`: (kind, started, ended, counter pk, operator pk, note, reason), in order.
    `app`: the index in the chunk's apps of the application submitted on it.
    """

    __slots__ = (
        "app", "appointment", "booker", "called_at", "centre", "citizen", "counter", "day",
        "due_at", "finished_at", "group", "issued_at", "kind", "limit", "national_id", "number",
        "operator", "priority", "priority_rank", "recalls", "sequence", "service_seconds",
        "slices", "source", "state", "target_counter", "visits", "wait_seconds",
    )

    def __init__(self, kind: str, centre: int, group: int, day: date) -> None:
        self.kind = kind  # application | consult | pickup | no_show
        self.centre = centre
        self.group = group
        self.day = day
        self.sequence = 0
        self.number = ""
        self.source = "kiosk"
        self.priority: int | None = None
        self.priority_rank = 0
        self.state = "served"
        self.issued_at = 0
        self.due_at: int | None = None
        self.counter = 0
        self.operator = 0
        self.target_counter: int | None = None
        self.called_at = 0
        self.recalls = 0
        self.finished_at = 0
        self.citizen: int | None = None
        self.national_id = ""
        self.app: int | None = None
        self.wait_seconds = 0
        self.service_seconds = 0
        self.slices: list[tuple[str, int, int, int | None, int | None, str, str]] = []
        self.appointment: PlannedAppointment | None = None
        # while the day is planned: the visits to counters (counter, operator, called,
        # serving from, until), the longest wait allowed, who booked it (a user pk)
        self.visits: list[tuple[int, int, int, int, int]] = []
        self.limit = 0
        self.booker: int | None = None


@dataclass(slots=True)
class PlannedAppointment:
    centre: int
    group: int
    citizen: int
    slot_start: int
    slot_end: int
    state: str  # arrived (with its ticket) | no_show | cancelled
    code: str
    booked_at: int
    cancelled_at: int | None
    reminder_sent_at: int | None


@dataclass(slots=True)
class PlannedSession:
    counter: int
    operator: int
    opened_at: int
    closed_at: int


@dataclass
class Chunk:
    apps: list[PlannedApp] = field(default_factory=list)
    events: list[PlannedEvent] = field(default_factory=list)
    payments: list[PlannedPayment] = field(default_factory=list)
    offers: list[PlannedOffer] = field(default_factory=list)
    # the centres' history of the chunk's days
    tickets: list[PlannedTicket] = field(default_factory=list)
    appointments: list[PlannedAppointment] = field(default_factory=list)  # without a ticket
    sessions: list[PlannedSession] = field(default_factory=list)
    sequences: list[tuple[int, int, date, int]] = field(default_factory=list)  # last numbers
    overlaps: int = 0
    # the citizens' side (onestop.demo.feedback)
    ratings: list[Any] = field(default_factory=list)
    complaints: list[Any] = field(default_factory=list)
    violations: list[Any] = field(default_factory=list)


# --- workflow routes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    action: str
    source: str
    target: str
    roles: frozenset[str]
    requires: frozenset[str]
    clock: str  # "stop" | "resume" | ""
    outcome: str  # the target's outcome when terminal, else ""
    automatic: bool  # the system takes it at once (services._advance_automatically)


@dataclass(frozen=True)
class Route:
    """The ways through one workflow that a history uses.

    `prefix`: the automatic steps at submission. When `instant`, they reach a terminal
    state and the application is complete at once. Otherwise `states[i]` is where the
    application is after `i` steps of `main`, which ends in an issued state; at position
    `i` it may be refused (`refuse[i]`), withdrawn (`withdraw_from[state]`), wait on the
    applicant (`stop[i]`: the request and the answer) or on another agency (`agency[i]`).
    """

    workflow: Workflow
    prefix: tuple[Step, ...]
    instant: bool
    states: tuple[str, ...]
    main: tuple[Step, ...]
    refuse: Mapping[int, Step]
    stop: Mapping[int, tuple[Step, Step]]
    agency: Mapping[int, tuple[Step, Step]]
    withdraw_from: Mapping[str, Step]


def _step(workflow: Workflow, action: Any, source: str) -> Step:
    target = workflow.states[action.target]
    effect = clock_effect(workflow.states[source], target)
    return Step(
        action=action.code,
        source=source,
        target=action.target,
        roles=action.roles,
        requires=action.requires,
        clock={"stop": "stop", "resume": "resume"}.get(str(effect), ""),
        outcome=str(target.outcome) if target.outcome else "",
        automatic=action.roles == frozenset({SYSTEM}) and not action.requires,
    )


def _automatic(workflow: Workflow, state: str) -> Any | None:
    """The action the system takes at once in `state`, as `_advance_automatically` does."""
    found = [
        a for a in workflow.actions_from(state)
        if a.roles == frozenset({SYSTEM}) and not a.requires
    ]
    return found[0] if len(found) == 1 else None


def plan_route(workflow: Workflow) -> Route:
    """The routes of `workflow`: a shortest path to an issued result and its side paths."""
    states = workflow.states
    state = workflow.initial
    prefix: list[Step] = []
    for _ in range(10):
        action = _automatic(workflow, state)
        if action is None or states[state].terminal:
            break
        prefix.append(_step(workflow, action, state))
        state = action.target
    if states[state].terminal:
        return Route(workflow, tuple(prefix), True, (state,), (), {}, {}, {}, {})

    def usable(action: Any) -> bool:
        target = states[action.target]
        if target.stopped or target.waits_on == "agency":
            return False
        if target.terminal and str(target.outcome) != "issued":
            return False
        return bool(action.roles - {SYSTEM}) or not action.requires

    # breadth-first search for an issued terminal, in the pack's declaration order
    start = state
    previous: dict[str, tuple[str, Any] | None] = {start: None}
    queue = [start]
    goal = None
    while queue and goal is None:
        following: list[str] = []
        for current in queue:
            automatic = _automatic(workflow, current)
            for action in [automatic] if automatic else workflow.actions_from(current):
                if not usable(action) or action.target in previous:
                    continue
                previous[action.target] = (current, action)
                if states[action.target].terminal:
                    goal = action.target
                    break
                following.append(action.target)
            if goal is not None:
                break
        queue = following
    if goal is None:
        raise PlanError(f"workflow {workflow.code}: no way to an issued result")
    path: list[Step] = []
    cursor = goal
    while previous[cursor] is not None:
        source, action = previous[cursor]  # type: ignore[misc]
        path.append(_step(workflow, action, source))
        cursor = source
    path.reverse()
    on_path = (start, *(step.target for step in path))

    refuse: dict[int, Step] = {}
    stop: dict[int, tuple[Step, Step]] = {}
    agency: dict[int, tuple[Step, Step]] = {}
    for position, here in enumerate(on_path[:-1]):
        if _automatic(workflow, here) is not None:
            continue
        for action in workflow.actions_from(here):
            target = states[action.target]
            if not action.roles - {SYSTEM}:
                continue
            if target.terminal and str(target.outcome) == "refused" and position not in refuse:
                refuse[position] = _step(workflow, action, here)
            elif target.stopped and position not in stop:
                back = [a for a in workflow.actions_from(action.target) if a.target == here
                        and a.roles - {SYSTEM}]
                if back:
                    stop[position] = (_step(workflow, action, here),
                                      _step(workflow, back[0], action.target))
            elif target.waits_on == "agency" and not target.terminal and position not in agency:
                back = [a for a in workflow.actions_from(action.target) if a.target == here]
                if back:
                    agency[position] = (_step(workflow, action, here),
                                        _step(workflow, back[0], action.target))
    withdraw_from: dict[str, Step] = {}
    for code in states:
        for action in workflow.actions_from(code):
            target = states[action.target]
            if target.terminal and str(target.outcome) == "withdrawn" and "citizen" in action.roles:
                withdraw_from.setdefault(code, _step(workflow, action, code))
    return Route(workflow, tuple(prefix), False, on_path, tuple(path), refuse, stop, agency,
                 withdraw_from)


# --- time --------------------------------------------------------------------------------


class WorkingAxis:
    """Working time as a line: seconds of working hours since the axis began.

    `position(t)` is the working time up to the instant `t` (UNIX seconds); `instant(x)`
    the earliest instant at which that much has passed, so it always falls within working
    hours. The same arithmetic as `WorkingCalendar.working_time_between` and
    `add_working_time`, with each day looked up by bisection instead of walked.
    """

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        opens_at, closes_at = calendar.rules.working_hours
        zone = calendar.zone
        self.opens: list[int] = []
        self.closes: list[int] = []
        self.before: list[int] = []  # working seconds before each day
        total = 0
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                opens = int(datetime.combine(day, opens_at, tzinfo=zone).timestamp())
                closes = int(datetime.combine(day, closes_at, tzinfo=zone).timestamp())
                self.opens.append(opens)
                self.closes.append(closes)
                self.before.append(total)
                total += closes - opens
            day += timedelta(days=1)
        self.through = [b + c - o for b, c, o in
                        zip(self.before, self.closes, self.opens, strict=True)]

    def position(self, moment: int) -> int:
        i = bisect.bisect_right(self.opens, moment) - 1
        if i < 0:
            return 0
        if moment >= self.closes[i]:
            return self.through[i]
        return self.before[i] + moment - self.opens[i]

    def instant(self, position: int) -> int:
        i = bisect.bisect_left(self.through, position)
        if i >= len(self.through):
            raise PlanError("the history runs past the end of its working calendar")
        return self.opens[i] + position - self.before[i]


def public_holidays(calendar: WorkingCalendar, years: Sequence[int]) -> frozenset[date]:
    """Every public holiday of `years`, weekend ones too (centres close on them)."""
    rules = calendar.rules
    found = holidays.country_holidays(rules.holidays_country, years=list(years))
    days = {day for day in found if day not in rules.removed_holidays}
    days |= {day for day in rules.extra_days_off if day.year in years}
    return frozenset(days)


def _officer_factor(officer: Actor) -> float:
    """How often this officer refuses compared with peers: about one officer in sixteen
    refuses two and a half times as often (a red flag for the controllers)."""
    digest = hashlib.blake2b(officer.username.encode(), digest_size=2).digest()
    return 2.5 if digest[0] < 16 else 0.9


class _Share:
    """Keeps a planned share on target: each draw takes the base chance, nudged by how far
    the count so far is from `target` times the applications seen. Deterministic for the
    random generator it is given; it corrects what the base chance cannot know (which
    applications a pack lets have the outcome, and how often)."""

    __slots__ = ("base", "hits", "seen", "target")

    def __init__(self, target: float, base: float) -> None:
        self.target = target
        self.base = base
        self.seen = 0
        self.hits = 0

    def count(self) -> None:
        """One more application in the share's denominator."""
        self.seen += 1

    def draw(self, rng: random.Random, weight: float = 1.0) -> bool:
        """For an application that can have the outcome: does it?"""
        if self.target <= 0:
            return False
        behind = self.target * self.seen - self.hits
        nudge = max(-0.9, min(3.0, behind / (self.target * 50 + 1)))
        hit = rng.random() < self.base * weight * (1 + nudge)
        self.hits += hit
        return hit


def _utc(moment: int) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _unit_hash(*parts: object) -> bytes:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()


def _choose(rng: random.Random, items: Sequence[Any], cumulative: Sequence[float]) -> Any:
    return items[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]


def _spread(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` by largest remainder (sums to `total`)."""
    mass = sum(weights)
    if total <= 0 or mass <= 0:
        return [0] * len(weights)
    exact = [total * w / mass for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass(frozen=True)
class _Day:
    on: date
    midnight: int
    working: bool
    holiday: bool
    hours_key: str | None  # which weekday's opening hours apply (None: centres closed)


@dataclass
class _Table:
    """Services to draw from, with cumulative weights."""

    services: list[ServiceInfo]
    cumulative: list[float]
    standards: list[StandardInfo]


@dataclass
class Summary:
    """Counts of what the plan produced."""

    applications: int = 0
    events: int = 0
    payments: int = 0
    offers: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    completed: int = 0
    late: int = 0
    sent_back: int = 0
    first_day: date | None = None
    last_day: date | None = None
    warnings: list[str] = field(default_factory=list)
    tickets: int = 0
    slices: int = 0
    sessions: int = 0
    appointments: int = 0
    by_ticket: dict[str, int] = field(default_factory=dict)
    overlaps: int = 0  # app tickets the counters had no room for (served over another)
    feedback: FeedbackSummary = field(default_factory=FeedbackSummary)

    def add(self, chunk: Chunk) -> None:
        FeedbackPlanner.count(self.feedback, chunk)
        self.applications += len(chunk.apps)
        self.events += len(chunk.events)
        self.payments += len(chunk.payments)
        self.offers += len(chunk.offers)
        self.tickets += len(chunk.tickets)
        self.sessions += len(chunk.sessions)
        self.appointments += len(chunk.appointments)
        self.overlaps += chunk.overlaps
        by = self.by_ticket
        for ticket in chunk.tickets:
            self.slices += len(ticket.slices)
            by[ticket.kind] = by.get(ticket.kind, 0) + 1
            if ticket.priority is not None:
                by["priority"] = by.get("priority", 0) + 1
            if ticket.target_counter is not None:
                by["redirected"] = by.get("redirected", 0) + 1
            if ticket.appointment is not None:
                self.appointments += 1
                by["appointment"] = by.get("appointment", 0) + 1
        for appointment in chunk.appointments:
            key = f"appointment {appointment.state}"
            by[key] = by.get(key, 0) + 1
        for app in chunk.apps:
            outcome = app.outcome or "open"
            self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + 1
            self.by_channel[app.channel] = self.by_channel.get(app.channel, 0) + 1
            if app.outcome in ("issued", "refused"):
                self.completed += 1
                self.late += app.late
            self.sent_back += app.sent_back


# --- the plan ------------------------------------------------------------------------------


class HistoryPlan:
    """A year of applications for one country, drawn from `params.seed`."""

    def __init__(self, context: Context, params: Params) -> None:
        self.context = context
        self.params = params
        self.summary = Summary()
        self._check_params()
        calendar = context.calendar
        self.calendar = calendar
        self.zone = calendar.zone
        self.language = context.languages[0] if context.languages else "ru"
        self.now = int(params.now.timestamp())
        local_today = params.now.astimezone(self.zone).date()
        first = date(params.year, 1, 1)
        last = min(date(params.year, 12, 31), local_today - timedelta(days=1))
        if last < first:
            raise PlanError(
                f"--year {params.year}: no whole day of that year has passed yet "
                f"(today is {local_today.isoformat()} in {self.zone.key})"
            )
        self.first, self.last = first, last
        self.summary.first_day, self.summary.last_day = first, last
        self.axis = WorkingAxis(calendar, first - timedelta(days=10), last + timedelta(days=800))
        self.holidays = public_holidays(calendar, range(first.year, last.year + 2))
        self.routes = {code: plan_route(wf) for code, wf in context.workflows.items()}
        for service in context.services:
            if service.workflow not in self.routes:
                raise PlanError(
                    f"service {service.code}: workflow {service.workflow!r} is not loaded"
                )
        self.services = sorted(context.services, key=lambda s: s.code)
        self.by_code = {s.code: s for s in self.services}
        self.centres = sorted(context.centres, key=lambda c: c.code)
        self.region_codes = sorted(context.regions)
        self._weights()
        self._days = [self._day(first + timedelta(days=i)) for i in range((last - first).days + 1)]
        self._epochs = sorted({st.valid_from for s in self.services for st in s.standards})
        self._tables: dict[tuple[str, int, str], _Table | None] = {}
        self._centre_tables: dict[str, tuple[list[CentreInfo], list[float]]] = {}
        self._segments: dict[tuple[int, str], tuple[list[tuple[int, int]], list[float]]] = {}
        self._deadlines: dict[tuple[date, int], datetime] = {}
        self._forms: dict[int, FormMaker] = {}
        self._form_contexts: dict[date, FormContext] = {}
        self._agency_waits: dict[str, frozenset[str]] = {}
        self._following: dict[str, list[ServiceInfo]] = {}
        self._allocate()
        self._probabilities()
        self.id_pattern = self._eform_patterns(lambda name, spec: spec.get(APPLICANT_ID) is True)
        population_size = max(200, int(params.applications * CITIZENS_PER_APPLICATION))
        self.population = Population(
            context.country, population_size, id_length=self._id_length(),
            language=self.language, phone_pattern=self._phone_pattern(),
            account_share=ACCOUNT_SHARE,
        )
        self.staff: Staff | None = None
        queue = context.queue
        self.queue = queue if params.tickets and queue is not None and queue.counters else None
        self._centre_by_pk = {c.pk: c for c in self.centres}

    # --- checks and shapes ----------------------------------------------------------------

    def _check_params(self) -> None:
        p = self.params
        if p.applications < 1:
            raise PlanError("--applications must be at least 1")
        unknown = sorted(set(p.channel_mix) - set(CHANNELS))
        if unknown:
            raise PlanError(
                f"--channel-mix: unknown channel {', '.join(unknown)} "
                f"(channels: {', '.join(CHANNELS)})"
            )
        if any(v < 0 for v in p.channel_mix.values()):
            raise PlanError("--channel-mix: shares cannot be negative")
        total = sum(p.channel_mix.values())
        if abs(total - 1) > 0.001:
            raise PlanError(f"--channel-mix: the shares must add up to 1 (they add up to "
                            f"{total:g})")
        for name in ("late", "refused", "sent_back", "withdrawn"):
            value = getattr(p, name)
            if not 0 <= value <= 1:
                raise PlanError(f"--{name.replace('_', '-')} must be a share from 0 to 1")
        if p.refused + p.withdrawn > 1:
            raise PlanError("--refused and --withdrawn together cannot exceed 1")
        if p.chunk_size < 1:
            raise PlanError("--chunk-size must be at least 1")

    def _eform_patterns(self, wanted: Callable[[str, Mapping[str, Any]], bool]) -> str | None:
        """The pattern most of the e-forms' `wanted` properties have."""
        seen: dict[str, int] = {}
        for service in self.services:
            for standard in service.standards:
                properties = (standard.eform or {}).get("properties", {}) or {}
                for name, spec in properties.items():
                    pattern = spec.get("pattern") if isinstance(spec, Mapping) else None
                    if isinstance(pattern, str) and wanted(name, spec):
                        seen[pattern] = seen.get(pattern, 0) + 1
        return max(sorted(seen), key=lambda k: seen[k]) if seen else None

    def _id_length(self) -> int:
        pattern = self.id_pattern or ""
        digits = "".join(ch for ch in pattern.split("{")[-1] if ch.isdigit()) if "{" in pattern \
            else ""
        return int(digits) if digits and "," not in pattern else 12

    def _phone_pattern(self) -> str | None:
        return self._eform_patterns(lambda name, spec: spec.get(APPLICANT_PHONE) is True)

    # --- weights ------------------------------------------------------------------------

    def _weights(self) -> None:
        self.popularity: dict[str, float] = {}
        self.speed: dict[str, float] = {}
        self.refusing: dict[str, float] = {}
        self.lateness: dict[str, float] = {}
        for service in self.services:
            digest = _unit_hash(self.context.country, service.code)
            route = self.routes[service.workflow]
            if route.instant:
                factor = 3.0
            elif len(route.main) >= 4:
                factor = 0.3
            elif route.agency:
                factor = 1.0
            else:
                factor = 1.5
            self.popularity[service.code] = factor * (0.25 + 3 * (digest[0] / 255) ** 2)
            self.speed[service.code] = 0.2 + 0.45 * digest[1] / 255
            # some services are refused, or late, more often than others (mean about 1)
            self.refusing[service.code] = 0.35 + 1.3 * digest[2] / 255
            self.lateness[service.code] = 0.35 + 1.3 * digest[3] / 255
        capacity: dict[str, float] = dict.fromkeys(self.region_codes, 0.0)
        for centre in self.centres:
            hours = sum(end - start for start, end in centre.hours.get("monday", ()))
            capacity[centre.region] = capacity.get(centre.region, 0.0) + centre.counters * max(
                hours, 1
            )
        positive = sorted(v for v in capacity.values() if v > 0)
        floor = positive[len(positive) // 2] * 0.3 if positive else 1.0
        self.region_weights = {code: max(capacity.get(code, 0.0), floor)
                               for code in self.region_codes}
        self._regions = list(self.region_codes)
        self._region_cumulative = list(accumulate(self.region_weights[c] for c in self._regions))

    def _day(self, on: date) -> _Day:
        midnight = int(datetime.combine(on, time(0), tzinfo=self.zone).timestamp())
        working = self.calendar.is_working_day(on)
        holiday = on in self.holidays or (not working and on.weekday() not in
                                          self.calendar.rules.weekend)
        if working:
            key: str | None = WEEKDAYS[on.weekday()]
            if on.weekday() in self.calendar.rules.weekend:
                key = "monday"  # a weekend day made working by decree
        elif holiday:
            key = None
        else:
            key = WEEKDAYS[on.weekday()]
        return _Day(on, midnight, working, holiday, key)

    def _epoch(self, on: date) -> int:
        return bisect.bisect_right(self._epochs, on)

    def _eligible(self, group: str, standard: StandardInfo, service: ServiceInfo) -> bool:
        offered = self.context.offered_as
        if group in PORTAL_LIKE:
            return bool(standard.channels & offered.get(group, frozenset()))
        if group == "centre:working":
            return bool(standard.channels & offered.get("centre", frozenset()))
        if group == "centre:weekend":
            return "centre" in standard.channels
        if group == "proactive":
            return "proactive" in standard.channels and service.proactive_after is None
        if group == "pair":
            return service.proactive_after is not None and service.proactive_after in \
                self.by_code and bool(standard.channels & offered.get("proactive", frozenset()))
        raise AssertionError(group)

    def _table(self, group: str, day: date) -> _Table | None:
        epoch = self._epoch(day)
        key = (group, epoch, "")
        if key in self._tables:
            return self._tables[key]
        services: list[ServiceInfo] = []
        standards: list[StandardInfo] = []
        weights: list[float] = []
        for service in self.services:
            standard = service.standard_on(day)
            if standard is None or not self._eligible(group, standard, service):
                continue
            services.append(service)
            standards.append(standard)
            weights.append(self.popularity[service.code])
        table = _Table(services, list(accumulate(weights)), standards) if services else None
        self._tables[key] = table
        return table

    def _centre_group(self, day: _Day) -> str | None:
        if day.hours_key is None:
            return None
        if day.working:
            return "centre:working"
        if self._open_centres(day.hours_key)[0]:
            return "centre:weekend"
        return None

    def _open_centres(self, key: str) -> tuple[list[CentreInfo], list[float]]:
        found = self._centre_tables.get(key)
        if found is None:
            open_ = [c for c in self.centres if c.hours.get(key)]
            weights = [c.counters * sum(e - s for s, e in c.hours[key]) for c in open_]
            found = self._centre_tables[key] = (open_, list(accumulate(weights)))
        return found

    def _channel_weight(self, channel: str, day: _Day) -> float:
        base = MONTH_FACTORS[day.on.month - 1]
        if channel in PORTAL_LIKE or channel == "pair":
            if day.working:
                return base * WEEKDAY_FACTORS[day.on.weekday()]
            return base * (PORTAL_HOLIDAY if day.holiday else PORTAL_WEEKEND)
        if channel == "centre":
            group = self._centre_group(day)
            if group is None:
                return 0.0
            reference = self._open_centres("monday")[1]
            today = self._open_centres(day.hours_key or "monday")[1]
            if not reference or not reference[-1]:
                return base * WEEKDAY_FACTORS[day.on.weekday()] if day.working else 0.0
            share = (today[-1] if today else 0.0) / reference[-1]
            if day.working:
                share = max(share, 0.3)  # provider offices work even where no centre opens
            return base * WEEKDAY_FACTORS[day.on.weekday()] * share
        if channel == "proactive":
            return base * (1.0 if day.working else 0.3)
        raise AssertionError(channel)

    def _group_of(self, channel: str, day: _Day) -> str | None:
        if channel == "centre":
            return self._centre_group(day)
        return channel

    # --- allocation ----------------------------------------------------------------------

    def _allocate(self) -> None:
        params = self.params
        mix = {c: params.channel_mix.get(c, 0.0) for c in CHANNELS}
        # proactive: services started by another's result (pairs) and by the state itself
        pair_weight = sum(self.popularity[s.code] for s in self.services if s.proactive_after
                          and s.proactive_after in self.by_code)
        alone_weight = sum(
            self.popularity[s.code] for s in self.services
            if s.proactive_after is None and any("proactive" in st.channels
                                                 for st in s.standards)
        )
        if mix["proactive"] > 0 and pair_weight + alone_weight == 0:
            self.summary.warnings.append(
                "no service of this pack is proactive: the proactive share goes to the portal"
            )
            mix["portal"] += mix["proactive"]
            mix["proactive"] = 0.0
        counts = dict(zip(CHANNELS, _spread(params.applications, [mix[c] for c in CHANNELS]),
                          strict=True))
        proactive = counts.pop("proactive")
        pairs = round(proactive * pair_weight / (pair_weight + alone_weight)) if proactive else 0
        counts["proactive"] = proactive - pairs
        source = "portal" if mix["portal"] > 0 else "centre"
        rng = random.Random(f"{params.seed}:{self.context.country}:days")  # noqa: S311
        self._alloc: dict[str, list[int]] = {}
        for channel in (*CHANNELS, "pair"):
            total = pairs if channel == "pair" else counts.get(channel, 0)
            weights = []
            for day in self._days:
                weight = self._channel_weight(channel, day)
                group = self._group_of("portal" if channel == "pair" else channel, day)
                if group is None or self._table(group if channel != "pair" else "pair",
                                                day.on) is None:
                    weight = 0.0
                if channel == "pair" and (day.on > self.last - timedelta(days=21)):
                    weight = 0.0
                weights.append(weight * max(0.2, 1 + 0.08 * rng.gauss(0, 1)) if weight else 0.0)
            if total and not any(weights):
                raise PlanError(
                    f"no day of {params.year} on which this pack offers the {channel} channel"
                    if channel != "pair" else "proactive services: no day to start them on"
                )
            self._alloc[channel] = _spread(total, weights)
        self._pair_source = source
        # the pair's source is one of that day's applications of the source channel
        for i, n in enumerate(self._alloc["pair"]):
            self._alloc[source][i] = max(self._alloc[source][i], n)

    def _probabilities(self) -> None:
        """Per-application chances that give the asked shares over the whole history."""
        params = self.params
        totals: dict[str, float] = dict.fromkeys(("all", "refuse", "withdraw", "stop", "human"),
                                                 0.0)
        expected: dict[tuple[str, str], float] = {}
        for channel in (*CHANNELS, "pair"):
            alloc = self._alloc[channel]
            account = 1.0 if channel in (*PORTAL_LIKE, "pair") else ACCOUNT_SHARE
            for day, count in zip(self._days, alloc, strict=True):
                if not count:
                    continue
                group = self._group_of(channel, day)
                table = self._table(group, day.on) if group else None
                if table is None:
                    continue
                previous = 0.0
                for service, cumulative in zip(table.services, table.cumulative, strict=True):
                    share = count * (cumulative - previous) / table.cumulative[-1]
                    previous = cumulative
                    key = (channel if channel != "pair" else "proactive", service.code)
                    expected[key] = expected.get(key, 0.0) + share
                    route = self.routes[service.workflow]
                    totals["all"] += share
                    if route.instant:
                        continue
                    totals["human"] += share
                    totals["refuse"] += share * bool(route.refuse)
                    totals["withdraw"] += share * bool(route.withdraw_from) * account
                    totals["stop"] += share * bool(route.stop)
        self.expected = expected
        n = max(totals["all"], 1.0)
        # the service factors average 1 over the expected volume, so shares stay as asked
        for factors in (self.refusing, self.lateness):
            volume = mass = 0.0
            for (_, code), amount in expected.items():
                if not self.routes[self.by_code[code].workflow].instant:
                    volume += amount
                    mass += amount * factors[code]
            mean = mass / volume if volume else 1.0
            for code in factors:
                factors[code] /= mean

        forced = sum(self._alloc["pair"]) / n  # pair sources are always issued on time

        def chance(target: float, feasible: float, name: str) -> float:
            if target <= 0:
                return 0.0
            if feasible <= 0:
                self.summary.warnings.append(
                    f"--{name}: no service of this pack can have that outcome; share 0"
                )
                return 0.0
            value = target / feasible
            if value > 1:
                self.summary.warnings.append(
                    f"--{name} {target:g}: at most {feasible:.3f} is reachable with this pack"
                )
            return min(value, 1.0)

        f_withdraw = totals["withdraw"] / n * (1 - forced)
        self.p_withdraw = chance(params.withdrawn, f_withdraw, "withdrawn")
        f_refuse = totals["refuse"] / n * (1 - forced) - params.withdrawn * (
            totals["refuse"] / max(totals["human"], 1.0)
        )
        self.p_refuse = chance(params.refused, f_refuse, "refused")
        self.p_stop = chance(params.sent_back, totals["stop"] / n * (1 - forced), "sent-back")
        completed = 1 - params.withdrawn
        human_completed = (totals["human"] / n) * (1 - forced) - params.withdrawn
        self.p_late = chance(params.late * completed, human_completed, "late")

    # --- staff --------------------------------------------------------------------------------

    def _region_distribution(self, channel: str) -> dict[str, float]:
        if channel == "centre" and self.centres:
            weights: dict[str, float] = {}
            _, cumulative = self._open_centres("monday")
            open_, _ = self._open_centres("monday")
            previous = 0.0
            for centre, c in zip(open_, cumulative, strict=True):
                weights[centre.region] = weights.get(centre.region, 0.0) + c - previous
                previous = c
            total = sum(weights.values()) or 1.0
            return {k: v / total for k, v in weights.items()}
        total = sum(self.region_weights.values()) or 1.0
        return {k: v / total for k, v in self.region_weights.items()}

    def officer_needs(self) -> dict[int, tuple[str, int]]:
        """Officers each routed unit needs: agency pk -> (agency code, count)."""
        volume: dict[int, float] = {}
        codes: dict[int, str] = {}
        for (channel, code), n in self.expected.items():
            service = self.by_code[code]
            if self.routes[service.workflow].instant:
                continue
            for region, share in self._region_distribution(channel).items():
                pk, agency_code = service.routes.get(region) or service.routes[None]
                volume[pk] = volume.get(pk, 0.0) + n * share
                codes[pk] = agency_code
        for service in self.services:  # every unit that may get work has someone
            if not self.routes[service.workflow].instant:
                for pk, agency_code in service.routes.values():
                    volume.setdefault(pk, 0.0)
                    codes[pk] = agency_code
        return {pk: (codes[pk], max(1, min(60, math.ceil(v / OFFICER_LOAD))))
                for pk, v in sorted(volume.items())}

    def operator_needs(self) -> dict[int, tuple[str, int]]:
        """Operators each centre needs: centre pk -> (centre code, count)."""
        centre_total = sum(n for (channel, _), n in self.expected.items() if channel == "centre")
        open_, cumulative = self._open_centres("monday")
        shares: dict[int, float] = {}
        previous = 0.0
        for centre, c in zip(open_, cumulative, strict=True):
            shares[centre.pk] = (c - previous) / (cumulative[-1] or 1.0)
            previous = c
        # at least two, where there are two counters: a centre never runs on one window
        return {
            centre.pk: (centre.code, max(min(2, centre.counters), min(centre.counters, math.ceil(
                centre_total * shares.get(centre.pk, 0.0) / OPERATOR_LOAD))))
            for centre in self.centres
        }

    def account_holders(self) -> Iterator[Person]:
        """Every citizen of the population who has a portal account."""
        for index in range(self.population.size):
            if self.population.has_account(index):
                yield self.population.person(index)

    def use(self, staff: Staff) -> None:
        self.staff = staff
        # officers' refusal rates around their unit's, the unit's mean kept at 1
        self._officer_factors: dict[str, float] = {}
        for pool in staff.officers.values():
            factors = {o.username: _officer_factor(o) for o in pool}
            mean = sum(factors.values()) / len(factors) if factors else 1.0
            for username, factor in factors.items():
                self._officer_factors.setdefault(username, factor / mean)
        self._desk_setup(staff)

    # --- generating ----------------------------------------------------------------------

    def chunks(self) -> Iterator[Chunk]:
        """The history in chunks of about `chunk_size` applications, by submission day.

        Pure: it may run in another process (the writer's pipeline), so the consumer
        counts what it receives (`Summary.add`).
        """
        if self.staff is None:
            raise PlanError("no staff: call use() with the accounts to act as")
        rng = random.Random(f"{self.params.seed}:{self.context.country}:history")  # noqa: S311
        self._rng = rng
        params = self.params
        self._shares = {
            "withdrawn": _Share(params.withdrawn, self.p_withdraw),
            "refused": _Share(params.refused, self.p_refuse),
            "sent_back": _Share(params.sent_back, self.p_stop),
            "late": _Share(params.late, self.p_late),
        }
        self._numbers: dict[date, set[str]] = {}
        self._serial = 0
        self._desks: dict[int, _Desk | None] = {}
        self._pickups: dict[date, list[tuple[int, str, int | None]]] = {}
        self._appointment_serial = 0
        self._feedback = self._feedback_planner()
        self._featured_chance = 0.0
        featured = self.staff.featured
        if featured:
            self._featured_chance = min(
                0.5, FEATURED_APPLICATIONS * len(featured) / self.params.applications
            )
        chunk = Chunk()
        order = (*PORTAL_LIKE, "centre", "proactive")
        for index, day in enumerate(self._days):
            start = len(chunk.apps)
            starts = (len(chunk.events), len(chunk.payments), len(chunk.offers))
            pairs = self._alloc["pair"][index]
            for channel in order:
                for k in range(self._alloc[channel][index]):
                    pair = channel == self._pair_source and k < pairs
                    self._application(chunk, channel, day, pair)
            self._evict(day.on)
            if len(chunk.apps) - start > 1:
                self._sort_day(chunk, start, starts)
            if self.queue is not None:
                self._close_day(chunk, day, start)
            if len(chunk.apps) >= self.params.chunk_size:
                self._finish(chunk)
                yield chunk
                chunk = Chunk()
        if chunk.apps:
            self._finish(chunk)
            yield chunk

    def _feedback_planner(self) -> FeedbackPlanner | None:
        info = self.context.feedback
        if not self.params.feedback or info is None or self.staff is None:
            return None
        return FeedbackPlanner(info=info, calendar=self.calendar, seed=self.params.seed,
                               country=self.context.country, now=self.params.now,
                               alert_share=self.params.alert_share, staff=self.staff)

    def _sort_day(self, chunk: Chunk, start: int, starts: tuple[int, int, int]) -> None:
        """Put one day's applications in submission order (their events follow them)."""
        apps = chunk.apps[start:]
        order = sorted(range(len(apps)), key=lambda i: (apps[i].submitted_at, apps[i].serial))
        if order == list(range(len(apps))):
            return
        new_index = {start + old: start + new for new, old in enumerate(order)}
        chunk.apps[start:] = [apps[i] for i in order]
        for app in chunk.apps[start:]:
            if app.started_by is not None and app.started_by in new_index:
                app.started_by = new_index[app.started_by]
        for event in chunk.events[starts[0]:]:
            event.app = new_index[event.app]
        for payment in chunk.payments[starts[1]:]:
            payment.app = new_index[payment.app]
        for offer in chunk.offers[starts[2]:]:
            if offer.source >= start:
                offer.source = new_index[offer.source]
            if offer.application is not None and offer.application >= start:
                offer.application = new_index[offer.application]

    def _finish(self, chunk: Chunk) -> None:
        chunk.events.sort(key=lambda e: (e.at, e.app))
        if self._feedback is not None:
            self._feedback.add(chunk)

    def _evict(self, today: date) -> None:
        for day in [d for d in self._numbers if d < today - timedelta(days=2)]:
            del self._numbers[day]

    def _number(self, submitted: datetime) -> str:
        """`services._new_number`: country, UTC date, six characters; unique in the run."""
        day = submitted.date()
        taken = self._numbers.setdefault(day, set())
        rng = self._rng
        prefix = f"{self.context.country.upper()}-{submitted:%y%m%d}-"
        alphabet = NUMBER_ALPHABET
        while True:
            bits = rng.getrandbits(30)
            number = prefix + "".join(alphabet[(bits >> shift) & 31]
                                      for shift in (25, 20, 15, 10, 5, 0))
            if number not in taken:
                taken.add(number)
                return number

    # --- one application -------------------------------------------------------------------

    def _citizen(self, account_needed: bool) -> tuple[Person, Actor | None]:
        staff = self.staff
        assert staff is not None
        rng = self._rng
        if staff.featured and rng.random() < self._featured_chance:
            person, actor = staff.featured[int(rng.random() * len(staff.featured))]
            return person, actor
        population = self.population
        size = population.size
        while True:
            index = int(rng.random() * size)
            if not account_needed or population.has_account(index):
                break
        person = population.person(index)
        return person, staff.citizens.get(index) if person.has_account else None

    def _region(self) -> str:
        return str(_choose(self._rng, self._regions, self._region_cumulative))

    def _time_in(self, day: _Day, segments: tuple[list[tuple[int, int]], list[float]]) -> int:
        pieces, cumulative = segments
        start, end = _choose(self._rng, pieces, cumulative)
        return day.midnight + start + int(self._rng.random() * (end - start))

    def _hour_segments(self, intervals: Sequence[tuple[int, int]],
                       profile: Callable[[int], float]) -> tuple[list[tuple[int, int]],
                                                                  list[float]]:
        pieces: list[tuple[int, int]] = []
        weights: list[float] = []
        for start, end in intervals:
            moment = start
            while moment < end:
                hour_end = min(end, (moment // 3600 + 1) * 3600)
                pieces.append((moment, hour_end))
                weights.append(profile(moment // 3600) * (hour_end - moment))
                moment = hour_end
        return pieces, list(accumulate(weights))

    def _portal_time(self, day: _Day) -> int:
        key = (-1, "portal")
        segments = self._segments.get(key)
        if segments is None:
            segments = self._segments[key] = self._hour_segments(
                [(0, 86400)], lambda h: PORTAL_HOURS[h % 24]
            )
        return self._time_in(day, segments)

    def _counter_time(self, day: _Day, centre: CentreInfo | None) -> int:
        if centre is None:  # the provider's office: the calendar's working hours
            opens, closes = self.calendar.rules.working_hours
            key = (0, "office")
            intervals = [(opens.hour * 3600 + opens.minute * 60,
                          closes.hour * 3600 + closes.minute * 60)]
        else:
            key = (centre.pk, day.hours_key or "monday")
            intervals = list(centre.hours.get(day.hours_key or "monday", ()))
        segments = self._segments.get(key)
        if segments is None:
            segments = self._segments[key] = self._hour_segments(
                intervals, lambda h: COUNTER_HOURS.get(h, 0.3)
            )
        return self._time_in(day, segments)

    def _system_time(self, day: _Day) -> int:
        return day.midnight + 8 * 3600 + int(self._rng.random() * 12 * 3600)

    def _form(self, standard: StandardInfo, person: Person, on: date,
              known: Mapping[str, Any] | None = None) -> dict[str, Any]:
        maker = self._forms.get(standard.pk)
        if maker is None:
            maker = self._forms[standard.pk] = FormMaker(standard.eform or {}, self.id_pattern)
        context = self._form_contexts.get(on)
        if context is None:
            if len(self._form_contexts) > 400:
                self._form_contexts.clear()
            context = self._form_contexts[on] = self._form_context(on)
        applicant = Applicant(person.national_id, person.name, person.phone, person.email)
        return maker.fill(self._rng, applicant, context, known)

    def _form_context(self, on: date) -> FormContext:
        language = self.language
        id_length = self.population.id_length

        def make_id(rng: random.Random, when: date) -> str:
            birth = when - timedelta(days=rng.randint(0, 80 * 365))
            return national_id(id_length, birth, rng.random() < 0.5, rng.randrange(5000))

        return FormContext(on, language, self.id_pattern, make_id, self._texts)

    def _texts(self, name: str, rng: random.Random) -> str:
        language = self.language
        female = rng.random() < 0.5
        if "surname" in name:
            return surname_of(language, female, rng.randrange(20))
        if "patronymic" in name:
            return patronymic_of(language, female, rng.randrange(2000))
        if any(word in name for word in ("address", "location", "place")):
            streets = _STREETS.get(language, _STREETS["ru"])
            return f"{streets[rng.randrange(len(streets))]}, {rng.randint(1, 120)}"
        organisation = any(word in name for word in _ORGANISATION_WORDS)
        if "full_name" in name:
            return full_name(language, female, rng.randrange(20), rng.randrange(20),
                             rng.randrange(2000))
        if name.endswith("name") and not organisation:
            return first_name(language, female, rng.randrange(20))
        if name.endswith(("number", "_code")) or name in ("serial_number",):
            return f"{rng.randrange(10**6, 10**7)}"
        label = name.replace("_", " ")
        return f"{label} {rng.randint(1, 999)}"

    def _standard(self, group: str, day: date) -> tuple[ServiceInfo, StandardInfo] | None:
        table = self._table(group, day)
        if table is None:
            return None
        rng = self._rng
        i = bisect.bisect_right(table.cumulative, rng.random() * table.cumulative[-1])
        return table.services[i], table.standards[i]

    def _application(self, chunk: Chunk, channel: str, day: _Day, pair: bool) -> None:
        rng = self._rng
        staff = self.staff
        assert staff is not None
        group = self._group_of(channel, day)
        if group is None:
            return
        chosen = self._standard(group, day.on)
        if chosen is None:
            return
        service, standard = chosen
        pair_service: ServiceInfo | None = None
        if pair:
            target = self._standard("pair", day.on)
            if target is not None:
                source = self.by_code[str(target[0].proactive_after)]
                source_standard = source.standard_on(day.on)
                if source_standard is not None and self._eligible(
                    group, source_standard, source
                ):
                    pair_service = target[0]
                    service, standard = source, source_standard
        account_needed = channel in PORTAL_LIKE or pair_service is not None
        person, account = self._citizen(account_needed)
        app = PlannedApp()
        app.channel = channel
        app.service, app.standard = service, standard
        centre: CentreInfo | None = None
        submitter: Actor
        served: tuple[PlannedTicket, int, Actor] | None = None
        if channel == "centre":
            if "centre" in standard.channels and (day.hours_key is not None) and \
                    self._open_centres(day.hours_key)[0]:
                open_, cumulative = self._open_centres(day.hours_key)
                centre = _choose(rng, open_, cumulative)
            served = self._desk_serve(day, centre, service, standard, person, account) \
                if centre is not None and self.queue is not None else None
            if served is not None:
                assert centre is not None
                region = centre.region
                _, moment, submitter = served
            elif centre is not None:
                region = centre.region
                operators = staff.operators.get(centre.pk) or ()
                submitter = operators[rng.randrange(len(operators))] if operators else \
                    SYSTEM_ACTOR
                moment = self._counter_time(day, centre)
            else:
                region = self._region()
                agency_pk, _ = service.routes.get(region) or service.routes[None]
                officers = staff.officers.get(agency_pk) or ()
                submitter = officers[rng.randrange(len(officers))] if officers else SYSTEM_ACTOR
                moment = self._counter_time(day, None)
        elif channel == "proactive":
            region = self._region()
            submitter = SYSTEM_ACTOR
            moment = self._system_time(day)
        else:
            region = self._region()
            submitter = account if account is not None else SYSTEM_ACTOR
            moment = self._portal_time(day)
        app.centre = centre.pk if centre else None
        self._fill(app, chunk, person, account, submitter, region, moment)
        forced = pair_service is not None
        source_index = len(chunk.apps)
        chunk.apps.append(app)
        self._simulate(chunk, source_index, forced=forced)
        if served is not None and centre is not None:
            app.ticket = served[0]
            self._maybe_pickup(app, centre)
        if forced and pair_service is not None:
            self._pair(chunk, source_index, pair_service, person, account)
        elif app.outcome == "issued":
            self._offers(chunk, source_index, None)

    def _fill(self, app: PlannedApp, chunk: Chunk, person: Person, account: Actor | None,
              submitter: Actor, region: str, moment: int) -> None:
        rng = self._rng
        service, standard = app.service, app.standard
        submitted = _utc(moment)
        app.serial = self._serial
        self._serial += 1
        app.submitted_at = submitted
        app.number = self._number(submitted)
        app.applicant = account.pk if account is not None else None
        app.national_id = person.national_id
        app.name = person.name
        app.phone = person.phone
        app.email = person.email if account is not None else ""
        app.submitted_by = submitter.pk
        app.region = self.context.regions.get(region)
        app.agency, app.agency_code = service.routes.get(region) or service.routes[None]
        app.fee = standard.fee
        app.account = account
        if not app.form_data:
            local_day = submitted.astimezone(self.zone).date()
            app.form_data = self._form(standard, person, local_day)
        app.demo_batch = self.params.batch
        app.deadline_at = self._deadline(submitted, standard)
        app.state = self.routes[service.workflow].workflow.initial
        index = len(chunk.apps)
        documents = [] if app.channel == "proactive" else list(standard.required_documents)
        chunk.events.append(PlannedEvent(
            index, submitted, "submit", "", app.state, submitter, "", "",
            {"channel": app.channel, "standard_from": standard.valid_from.isoformat(),
             "documents": sorted(documents)},
        ))
        if standard.fee > 0 and app.channel != "proactive":
            chunk.payments.append(PlannedPayment(
                index, f"SIM-{rng.getrandbits(64):016X}", standard.fee, self.context.currency,
                submitted,
            ))

    def _deadline(self, submitted: datetime, standard: StandardInfo) -> datetime:
        if standard.deadline_unit == "working_days":
            key = (submitted.astimezone(self.zone).date(), standard.deadline_value)
            found = self._deadlines.get(key)
            if found is None:
                found = self._deadlines[key] = self.calendar.deadline(
                    submitted, standard.deadline_value, standard.deadline_unit
                )
            return found
        if self.calendar.rules.hour_deadlines == "working_hours":
            # working time, as calendar.add_working_time counts it, on the working axis
            amount = standard.deadline_value * (3600 if standard.deadline_unit == "hours" else 60)
            moment = self.axis.instant(self.axis.position(int(submitted.timestamp())) + amount)
            return _utc(moment).astimezone(self.zone)
        return self.calendar.deadline(submitted, standard.deadline_value, standard.deadline_unit)

    # --- a path through the workflow ------------------------------------------------------

    def _simulate(self, chunk: Chunk, index: int, *, forced: bool) -> None:
        """Events of application `index` from submission to its outcome (or to now)."""
        app = chunk.apps[index]
        route = self.routes[app.service.workflow]
        for name in ("withdrawn", "refused", "sent_back"):
            self._shares[name].count()
        if route.instant:
            self._shares["late"].count()  # complete at once, and never late
        submitted = int(app.submitted_at.timestamp())
        requested: list[str] = []
        for step in route.prefix:
            self._clocked_event(chunk, index, step, submitted, SYSTEM_ACTOR, [], None, requested)
        if route.instant:
            return
        rng = self._rng
        staff = self.staff
        assert staff is not None
        has_account = app.applicant is not None
        # the officer first: how often an application is refused depends on who decides
        agency_pk = app.agency
        officers = staff.officers.get(agency_pk) or ()
        officer = officers[int(rng.random() * len(officers))] if officers else None
        code = app.service.code
        outcome = "issued"
        shares = self._shares
        if not forced:
            if route.withdraw_from and has_account and shares["withdrawn"].draw(rng):
                outcome = "withdrawn"
            elif route.refuse and shares["refused"].draw(
                rng, self.refusing[code] * self._officer_factors.get(
                    officer.username if officer else "", 1.0)
            ):
                outcome = "refused"
        sent_back = bool(route.stop) and not forced and shares["sent_back"].draw(rng)
        asks_agency = bool(route.agency) and rng.random() < AGENCY_REQUEST_SHARE
        late = False
        if outcome != "withdrawn":
            shares["late"].count()
            late = not forced and shares["late"].draw(rng, self.lateness[code])

        # the steps, in order
        if outcome == "refused":
            places = sorted(route.refuse)
            if sent_back:  # refused after the documents were asked for, where possible
                places = [p for p in places if p >= min(route.stop)] or places
            end = places[rng.randrange(len(places))]
            steps = list(route.main[:end])
            final = route.refuse[end]
        else:
            end = len(route.main) - 1
            steps = list(route.main[:end])
            final = route.main[end]
        stop_at = agency_at = None
        if sent_back:
            places = [p for p in sorted(route.stop) if p <= end]
            stop_at = places[rng.randrange(len(places))] if places else None
            if stop_at is None:
                shares["sent_back"].hits -= 1  # not sent back after all: owed to the next
        if asks_agency:
            places = [p for p in sorted(route.agency) if p <= end]
            agency_at = places[rng.randrange(len(places))] if places else None
        moves: list[Step] = []
        for position in range(end + 1):
            if position == agency_at:
                moves.extend(route.agency[position])
            if position == stop_at:
                moves.extend(route.stop[position])
            moves.append(steps[position] if position < end else final)

        # who takes each step
        supervisor = staff.supervisors.get(agency_pk) or officer
        actors = [self._actor(step, app, officer, supervisor) for step in moves]

        # when: running working time E to the last step, drawn from the deadline
        x0 = self.axis.position(submitted)
        budget = max(self.axis.position(int(app.deadline_at.timestamp())) - x0, 3600)
        if late:
            total = int(budget * (1 + rng.expovariate(5.0))) + 600 + rng.randrange(3600)
        else:
            fraction = self.speed[app.service.code] * math.exp(0.5 * rng.gauss(0, 1))
            total = int(budget * min(0.97, max(0.03, fraction)))
        timed = [i for i, step in enumerate(moves) if not step.automatic and step.clock != "resume"]
        count = len(timed)
        positions = sorted(rng.random() for _ in range(count - 1))
        spots = [int(total * (0.02 + 0.9 * p)) for p in positions] + [total]
        if len(spots) > 1 and moves[-1].outcome == "issued" and actors[-1].role == SYSTEM:
            # the system issues the result within a minute or two of the approval
            spots[-2] = max(spots[-2], total - 30 - rng.randrange(90))
        spots[0] = max(spots[0], 1)
        for k in range(1, len(spots)):
            if spots[k] <= spots[k - 1]:
                spots[k] = spots[k - 1] + 1
        at_position = dict(zip(timed, spots, strict=True))

        # withdrawal: the citizen withdraws while the state allows it
        withdraw_after: int | None = None
        if outcome == "withdrawn":
            state = route.workflow.initial
            choices = []
            for i, step in enumerate(moves):
                if state in route.withdraw_from:
                    choices.append(i)
                state = step.target
            asked = next((i for i, step in enumerate(moves) if step.clock == "stop"), None)
            if asked is not None:  # sent back: withdrawn while, or after, documents were asked
                choices = [i for i in choices if i > asked] or choices
            withdraw_after = choices[rng.randrange(len(choices))] if choices else None

        # the assignment: the officer takes it from the inbox before the first step
        first_officer = next((i for i, a in enumerate(actors) if a.role == "officer"), None)

        shift = 0
        previous = submitted
        stopped_at: int | None = None
        pauses: list[Pause] = []
        for i, step in enumerate(moves):
            actor = actors[i]
            if i == first_officer and officer is not None:
                spot = at_position.get(i, 0)
                moment = self.axis.instant(x0 + shift + max(1, int(spot * rng.uniform(0.4, 0.95))))
                moment = max(moment, previous + 1)
                if moment > self.now:
                    return
                self._assign(chunk, index, officer, moment)
                previous = moment
            if step.automatic:
                moment = previous
            elif step.clock == "resume" and stopped_at is not None:
                moment = self._answer_time(app, stopped_at, actor)
            else:
                moment = self.axis.instant(x0 + shift + at_position[i])
                moment = max(moment, previous + 1)
            if withdraw_after is not None and i == withdraw_after:
                moment_w = previous + max(60, int((moment - previous) * rng.uniform(0.1, 0.9)))
                if moment_w > self.now:
                    return
                citizen = app.account or SYSTEM_ACTOR
                withdrawal = route.withdraw_from[app.state]
                self._clocked_event(chunk, index, withdrawal, moment_w, citizen, pauses,
                                    stopped_at, requested)
                return
            if moment > self.now:
                return
            if step.clock == "resume" and stopped_at is not None:
                shift += self.axis.position(moment) - self.axis.position(stopped_at)
            stopped_at = self._clocked_event(chunk, index, step, moment, actor, pauses,
                                             stopped_at, requested)
            if step.clock == "stop":
                app.sent_back = True
            previous = moment
        if app.outcome in ("issued", "refused") and app.completed_at is not None:
            app.late = app.completed_at > app.deadline_at

    def _actor(self, step: Step, app: PlannedApp, officer: Actor | None,
               supervisor: Actor | None) -> Actor:
        roles = step.roles
        staff = self.staff
        assert staff is not None
        rng = self._rng
        if step.automatic:
            return SYSTEM_ACTOR
        citizen = app.account
        if step.outcome == "withdrawn" and citizen is not None:
            return citizen
        if step.outcome == "issued":
            if app.channel != "centre" and SYSTEM in roles:
                return SYSTEM_ACTOR
            if app.centre is not None and "operator" in roles:
                return self._operator(app)
        if step.clock == "resume":
            if citizen is not None and "citizen" in roles and (
                app.channel != "centre" or rng.random() < 0.3
            ):
                return citizen
            if "operator" in roles:
                return self._operator(app)
        if SYSTEM in roles and "officer" in roles and step.source in self._waits_on_agency(
            app.service.workflow
        ) and rng.random() < 0.6:
            return SYSTEM_ACTOR
        if "officer" in roles and officer is not None:
            return officer
        if "supervisor" in roles and supervisor is not None:
            return supervisor
        if "operator" in roles:
            return self._operator(app)
        if SYSTEM in roles:
            return SYSTEM_ACTOR
        if "citizen" in roles and citizen is not None:
            return citizen
        return officer or SYSTEM_ACTOR

    def _waits_on_agency(self, workflow_code: str) -> frozenset[str]:
        found = self._agency_waits.get(workflow_code)
        if found is None:
            workflow = self.routes[workflow_code].workflow
            found = self._agency_waits[workflow_code] = frozenset(
                code for code, state in workflow.states.items() if state.waits_on == "agency"
            )
        return found

    def _operator(self, app: PlannedApp) -> Actor:
        staff = self.staff
        assert staff is not None
        pool = staff.operators.get(app.centre or 0)
        if not pool:
            pools = [staff.operators[k] for k in sorted(staff.operators) if staff.operators[k]]
            if not pools:
                return SYSTEM_ACTOR
            pool = pools[(app.serial * 7) % len(pools)]
        return pool[int(self._rng.random() * len(pool))]

    def _answer_time(self, app: PlannedApp, stopped_at: int, actor: Actor) -> int:
        """When the applicant answers a request: days later, at a counter or online."""
        rng = self._rng
        gap = 3600 + int(rng.expovariate(1 / (2.5 * 86400)))
        gap = min(gap, 30 * 86400)
        target = stopped_at + gap
        day = self._day(_utc(target).astimezone(self.zone).date())
        if actor.role == "operator":
            for _ in range(30):
                if day.hours_key is not None and app.centre is not None:
                    centre = next((c for c in self.centres if c.pk == app.centre), None)
                    if centre is not None and centre.hours.get(day.hours_key):
                        moment = self._counter_time(day, centre)
                        if moment > stopped_at:
                            return moment
                elif day.working:
                    moment = self._counter_time(day, None)
                    if moment > stopped_at:
                        return moment
                day = self._day(day.on + timedelta(days=1))
            return target
        moment = self._portal_time(day)
        return moment if moment > stopped_at else moment + 86400

    def _inputs(self, step: Step, app: PlannedApp, requested: list[str]) -> tuple[str, dict[
            str, Any]]:
        """The comment and data of a step, as `services._check_inputs` records them."""
        rng = self._rng
        comment = ""
        data: dict[str, Any] = {}
        if "comment" in step.requires or step.outcome == "refused":
            texts = COMMENTS.get(step.action, DEFAULT_COMMENT)
            comment = texts[rng.randrange(len(texts))]
        if "ground" in step.requires:
            grounds = app.standard.grounds
            if grounds:
                code, text = grounds[rng.randrange(len(grounds))]
                data["ground"] = code
                comment = text or comment
        if "requested_documents" in step.requires:
            documents = app.standard.applicant_documents or ("supporting_document",)
            count = 1 + (rng.random() < 0.3)
            chosen = sorted(set(rng.sample(documents, min(count, len(documents)))))
            requested[:] = chosen
            data["requested_documents"] = chosen
        if "agency" in step.requires:
            others = [code for pk, code in self.context.agencies if pk != app.agency]
            data["agency"] = others[rng.randrange(len(others))] if others else app.agency_code
        if "documents" in step.requires:
            data["documents"] = sorted(requested or app.standard.applicant_documents[:1]
                                       or ("supporting_document",))
        return comment, data

    def _clocked_event(self, chunk: Chunk, index: int, step: Step, moment: int, actor: Actor,
                       pauses: list[Pause], stopped_at: int | None, requested: list[str]
                       ) -> int | None:
        """Record a step and update the application as `services._apply` does; returns when
        the clock stopped (None while it runs)."""
        app = chunk.apps[index]
        comment, data = self._inputs(step, app, requested)
        when = _utc(moment)
        chunk.events.append(PlannedEvent(index, when, step.action, app.state, step.target,
                                         actor, step.clock, comment, data))
        app.state = step.target
        if step.clock:
            if step.clock == "stop":
                pauses.append(Pause(when))
                stopped_at = moment
            else:
                if pauses and pauses[-1].resumed_at is None:
                    pauses[-1] = Pause(pauses[-1].stopped_at, when)
                stopped_at = None
            clock = Clock(calendar=self.calendar, started_at=app.submitted_at,
                          value=app.standard.deadline_value,
                          unit=app.standard.deadline_unit,  # type: ignore[arg-type]
                          pauses=tuple(pauses))
            app.clock_stopped_at = when if step.clock == "stop" else None
            app.stopped_seconds = int(clock.stopped_time(when).total_seconds())
            app.deadline_at = clock.deadline_at(when)
        if step.outcome:
            app.completed_at = when
            app.outcome = step.outcome
            if step.outcome == "refused":
                app.refusal_ground = str(data.get("ground", ""))
                app.refusal_reason = comment
        return stopped_at

    def _assign(self, chunk: Chunk, index: int, officer: Actor, moment: int) -> None:
        app = chunk.apps[index]
        app.assigned = officer.pk
        chunk.events.append(PlannedEvent(index, _utc(moment), "assign", app.state, app.state,
                                         officer, "", "", {"from": "", "to": officer.username}))

    # --- proactive services ------------------------------------------------------------------

    def _followers(self, service: ServiceInfo) -> list[ServiceInfo]:
        found = self._following.get(service.code)
        if found is None:
            found = self._following[service.code] = [
                s for s in self.services if s.proactive_after == service.code
            ]
        return found

    def _offers(self, chunk: Chunk, index: int, confirmed: tuple[ServiceInfo, int] | None
                ) -> None:
        """`services._offer_proactive`: every service started by this one's result is
        offered when it is issued; the citizen confirms, declines, or has not decided."""
        app = chunk.apps[index]
        if app.outcome != "issued" or app.completed_at is None:
            return
        for follower in self._followers(app.service):
            issued = app.completed_at
            on = issued.astimezone(self.zone).date()
            standard = follower.standard_on(on)
            properties = (standard.eform or {}).get("properties", {}) if standard else {}
            known = {k: v for k, v in app.form_data.items() if k in properties}
            for id_field in applicant_id_properties(standard.eform if standard else None):
                known.setdefault(id_field, app.national_id)
            offer = PlannedOffer(index, follower.pk, app.applicant, known, "offered", None,
                                 issued, None)
            if confirmed is not None and confirmed[0].pk == follower.pk:
                offer.status = "confirmed"
                offer.application = confirmed[1]
                offer.decided_at = chunk.apps[confirmed[1]].submitted_at
            else:
                decided = int(issued.timestamp()) + 3600 + self._rng.randrange(10 * 86400)
                if decided <= self.now:
                    offer.status = "declined"
                    offer.decided_at = _utc(decided)
            chunk.offers.append(offer)
            chunk.events.append(PlannedEvent(
                index, issued, "offer_proactive", app.state, app.state, SYSTEM_ACTOR, "", "",
                {"service": follower.code, "offer": None}, offer=len(chunk.offers) - 1,
            ))

    def _pair(self, chunk: Chunk, source_index: int, service: ServiceInfo, person: Person,
              account: Actor | None) -> None:
        """The proactive application a source's result starts, once the citizen confirms."""
        source = chunk.apps[source_index]
        rng = self._rng
        if source.outcome != "issued" or source.completed_at is None or account is None:
            self._offers(chunk, source_index, None)
            return
        issued = int(source.completed_at.timestamp())
        day = self._day(_utc(issued + 1800 + rng.randrange(4 * 86400)).astimezone(
            self.zone).date())
        moment = max(self._portal_time(day), issued + 600)
        standard = service.standard_on(day.on)
        if moment > self.now or standard is None:
            self._offers(chunk, source_index, None)
            return
        app = PlannedApp()
        app.channel = "proactive"
        app.service, app.standard = service, standard
        app.started_by = source_index
        properties = (standard.eform or {}).get("properties", {}) or {}
        known = {k: v for k, v in source.form_data.items() if k in properties}
        for id_field in applicant_id_properties(standard.eform):
            known.setdefault(id_field, source.national_id)
        app.form_data = self._form(standard, person, day.on, known)
        region = next((code for code, pk in self.context.regions.items() if pk == source.region),
                      self._region())
        self._fill(app, chunk, person, account, account, region, moment)
        app.submitted_by = account.pk
        index = len(chunk.apps)
        chunk.apps.append(app)
        self._offers(chunk, source_index, (service, index))
        self._simulate(chunk, index, forced=False)
        if app.outcome == "issued":
            self._offers(chunk, index, None)

    # --- the centres' history: tickets, appointments, counter sessions -----------------------

    def _desk_setup(self, staff: Staff) -> None:
        """Who works at which counters: each centre's demo operators each open one counter a
        day, counters chosen so that every group is served, operators rotating over them."""
        self._desk_counters: dict[int, tuple[CounterInfo, ...]] = {}
        self._desk_staff: dict[int, tuple[Actor, ...]] = {}
        queue = self.queue
        if queue is None:
            return
        every_group = set(queue.group_codes)
        for centre in self.centres:
            pool = staff.operators.get(centre.pk) or ()
            # the demo's own operators: the `demo-accounts` one (kz-operator) keeps its
            # counter free for live use, and demo tickets are told apart by their operator
            operators = tuple(a for a in pool if "-demo-" in a.username) or tuple(pool)
            counters = sorted(queue.counters.get(centre.pk, ()), key=lambda c: c.number)
            if not operators or not counters:
                continue
            chosen: list[CounterInfo] = []
            uncovered = set(every_group)
            while uncovered:
                best = max(counters, key=lambda c: (len(c.groups & uncovered), -c.number))
                if not best.groups & uncovered or best in chosen:
                    break
                chosen.append(best)
                uncovered -= best.groups
            rest = sorted((c for c in counters if c not in chosen),
                          key=lambda c: (-len(c.groups), c.number))
            self._desk_counters[centre.pk] = tuple(chosen + rest)
            self._desk_staff[centre.pk] = operators

    def _desk(self, day: _Day, centre: CentreInfo) -> _Desk | None:
        if centre.pk in self._desks:
            return self._desks[centre.pk]
        desk = None
        counters = self._desk_counters.get(centre.pk, ())
        operators = self._desk_staff.get(centre.pk, ())
        key = day.hours_key
        spans = _open_spans(centre, key) if key is not None else []
        if counters and operators and spans:
            m = min(len(counters), len(operators))
            offset = day.on.toordinal() % len(operators)
            opened = [(counters[i], operators[(i + offset) % len(operators)]) for i in range(m)]
            desk = _Desk(centre, day, [(day.midnight + a, day.midnight + b) for a, b in spans],
                         opened)
        self._desks[centre.pk] = desk
        return desk

    def _service_time(self, mean_minutes: float) -> int:
        """Seconds at the counter: lognormal around `mean_minutes`, within reason."""
        seconds = self._rng.lognormvariate(math.log(mean_minutes * 60) - 0.1, 0.45)
        return int(min(max(seconds, 60.0), mean_minutes * 60 * 4))

    def _desk_serve(self, day: _Day, centre: CentreInfo, service: ServiceInfo,
                    standard: StandardInfo, person: Person, account: Actor | None
                    ) -> tuple[PlannedTicket, int, Actor] | None:
        """A counter application's ticket: the counter, the operator and the moment the
        application is submitted (within the ticket's serving); None without a desk."""
        queue = self.queue
        assert queue is not None
        desk = self._desk(day, centre)
        if desk is None:
            return None
        group = queue.service_groups.get(service.code)
        if group is None or not desk.serving(group):
            desk.overlaps += 1
            return None
        rng = self._rng
        want = self._counter_time(day, centre)
        mean = (standard.max_service_minutes or DEFAULT_SERVICE_MINUTES) / 2
        serve = self._service_time(mean)
        call = CALL_SECONDS[0] + int(rng.random() * (CALL_SECONDS[1] - CALL_SECONDS[0]))
        fraction = 0.15 + 0.75 * rng.random()  # how far into the serving the form is sent
        placed = desk.place(group, want - call - int(fraction * serve), call + serve, rng)
        if placed is None:  # a full day: a short visit where there is room
            serve, call = 60, 15
            placed = desk.place(group, want - call - 30, call + serve, rng)
        if placed is None:  # no room at all: over another ticket (counted)
            desk.overlaps += 1
            options = desk.serving(group)
            counter, operator = options[int(rng.random() * len(options))]
            start = desk.clamp(want - call - serve // 2, call + serve)
            placed = (counter, operator, start)
        counter, operator, start = placed
        ticket = PlannedTicket("application", centre.pk, group, day.on)
        ticket.visits = [(counter.pk, operator.pk or 0, start, start + call, start + call + serve)]
        ticket.limit = (standard.max_wait_minutes or queue.default_max_wait_minutes) * 60
        ticket.citizen = account.pk if account is not None else None
        ticket.national_id = person.national_id
        ticket.booker = account.pk if account is not None and "-demo-citizen-" in \
            account.username else None
        submitted = start + call + max(1, min(serve - 1, int(fraction * serve)))
        if rng.random() < REDIRECT_SHARE:
            desk.redirect(ticket, group, counter.pk, rng)
        desk.tickets.append(ticket)
        return ticket, submitted, operator

    def _maybe_pickup(self, app: PlannedApp, centre: CentreInfo) -> None:
        """A share of issued results are collected at the centre a few days later."""
        rng = self._rng
        if app.outcome != "issued" or app.completed_at is None or \
                self.routes[app.service.workflow].instant or rng.random() >= PICKUP_SHARE:
            return
        on = app.completed_at.astimezone(self.zone).date() + timedelta(
            days=1 + int(rng.expovariate(1 / 1.5)))
        for _ in range(14):
            if on > self.last:
                return
            day = self._days[(on - self.first).days]
            if day.hours_key is not None and centre.hours.get(day.hours_key):
                self._pickups.setdefault(on, []).append(
                    (centre.pk, app.national_id, app.applicant))
                return
            on += timedelta(days=1)

    def _close_day(self, chunk: Chunk, day: _Day, start: int) -> None:
        """The day's queues at every centre: the applications' tickets (placed as they were
        submitted), then consultations, pickups and no-shows where the counters had room,
        waits, numbers, slices, appointments and the counter sessions."""
        for index in range(start, len(chunk.apps)):
            ticket = chunk.apps[index].ticket
            if ticket is not None:
                ticket.app = index
        pickups: dict[int, list[tuple[str, int | None]]] = {}
        for centre_pk, national, citizen in self._pickups.pop(day.on, ()):
            pickups.setdefault(centre_pk, []).append((national, citizen))
            if centre_pk not in self._desks:
                self._desk(day, self._centre_by_pk[centre_pk])
        for centre_pk, desk in self._desks.items():
            if desk is not None:
                self._close_desk(chunk, desk, pickups.get(centre_pk, []))
        self._desks = {}
        for on in [d for d in self._pickups if d < day.on]:
            del self._pickups[on]

    def _random_booker(self) -> tuple[int, str] | None:
        """A demo citizen with an account: (user pk, national ID)."""
        staff = self.staff
        assert staff is not None
        population = self.population
        for _ in range(6):
            index = int(self._rng.random() * population.size)
            actor = staff.citizens.get(index)
            if actor is not None and actor.pk is not None and population.has_account(index):
                return actor.pk, population.person(index).national_id
        return None

    def _appointment_code(self) -> str:
        """Ten characters, distinct within the run: a keyed bijection of a serial."""
        self._appointment_serial += 1
        if not hasattr(self, "_code_key"):
            self._code_key = int.from_bytes(_unit_hash(self.params.seed, "codes")[:7])
        value = (self._appointment_serial * 0x5DEECE66D + self._code_key) % (1 << 50)
        return "".join(NUMBER_ALPHABET[(value >> shift) & 31] for shift in range(45, -5, -5))

    def _close_desk(self, chunk: Chunk, desk: _Desk,
                    pickups: Sequence[tuple[str, int | None]]) -> None:
        queue = self.queue
        assert queue is not None
        rng = self._rng
        day, centre = desk.day, desk.centre
        default_limit = queue.default_max_wait_minutes * 60
        consult, pickup = queue.consult, queue.pickup
        # tickets without an application, where a counter serving their group has room
        extra: list[tuple[str, int, str, int | None]] = []
        if consult is not None and desk.serving(consult):
            extra.extend(("consult", consult, "", None) for _ in desk.tickets
                         if rng.random() < CONSULT_SHARE)
        if pickup is not None and desk.serving(pickup):
            extra.extend(("pickup", pickup, national, citizen) for national, citizen in pickups)
        base_groups = [t.group for t in desk.tickets] + [e[1] for e in extra]
        extra.extend(("no_show", base_groups[int(rng.random() * len(base_groups))], "", None)
                     for _ in range(len(base_groups)) if rng.random() < NO_SHOW_SHARE)
        no_show_after = queue.no_show_after_minutes * 60
        for kind, group, national, citizen in extra:
            call = CALL_SECONDS[0] + int(rng.random() * (CALL_SECONDS[1] - CALL_SECONDS[0]))
            if kind == "no_show":
                length = no_show_after + 20 + int(rng.random() * 120)
                serve = 0
            else:
                serve = self._service_time(CONSULT_MINUTES if kind == "consult"
                                           else PICKUP_MINUTES)
                length = call + serve
            want = self._counter_time(day, centre)
            placed = desk.place(group, want - length // 2, length, rng)
            if placed is None:
                continue
            counter, operator, start = placed
            ticket = PlannedTicket(kind, centre.pk, group, day.on)
            end = start + length
            ticket.visits = [(counter.pk, operator.pk or 0, start,
                              end if kind == "no_show" else start + call, end)]
            ticket.limit = default_limit
            ticket.national_id = national
            ticket.citizen = citizen
            if kind == "consult" and rng.random() < CONSULT_BOOKED:
                booker = self._random_booker()
                if booker is not None:
                    ticket.booker, ticket.national_id = booker
                    ticket.citizen = booker[0]
            desk.tickets.append(ticket)
        chunk.overlaps += desk.overlaps
        if not desk.tickets:
            return
        self._desk_tickets(chunk, desk)

    def _desk_tickets(self, chunk: Chunk, desk: _Desk) -> None:
        """Waits, sources, priorities, appointments, numbers and slices of a desk's tickets,
        then its counter sessions."""
        queue = self.queue
        assert queue is not None
        rng = self._rng
        day, centre = desk.day, desk.centre
        midnight = day.midnight
        size = 0.6 + 0.04 * min(centre.counters, 40)
        slot = queue.slot_minutes * 60
        early = queue.early_minutes * 60
        priorities = queue.priorities
        ordinary: dict[int, list[PlannedTicket]] = {}
        arrived: list[PlannedAppointment] = []
        for ticket in desk.tickets:
            first_call = ticket.visits[0][2]
            opens = desk.span_start(first_call)
            if ticket.booker is not None and (ticket.kind == "consult"
                                              or rng.random() < APPOINTMENT_SHARE):
                # booked: arrives a few minutes before the slot, called once it is due
                slot_start = midnight + ((first_call - midnight) // slot) * slot
                if slot_start >= opens:
                    wait = int(rng.lognormvariate(math.log(180), 0.6))
                    ticket.issued_at = max(opens, first_call - wait)
                    ticket.due_at = slot_start - early
                    ticket.source = "appointment"
                    booked = slot_start - 7200 - int(rng.random() * queue.days_ahead * 86400)
                    ticket.appointment = PlannedAppointment(
                        centre.pk, ticket.group, ticket.booker, slot_start, slot_start + slot,
                        "arrived", self._appointment_code(), booked, None,
                        slot_start - 86400 if booked < slot_start - 86400 else None,
                    )
                    arrived.append(ticket.appointment)
            if ticket.appointment is None:
                draw = rng.random()
                ticket.source = "reception" if draw < RECEPTION_SHARE else "api" if \
                    draw < RECEPTION_SHARE + API_SHARE else "kiosk"
                hour = COUNTER_HOURS.get((first_call - midnight) // 3600, 0.3) / 1.35
                limit = ticket.limit
                if rng.random() < OVER_WAIT_SHARE:
                    wait = int(limit * (1.02 + rng.expovariate(4.0)))
                else:
                    mean = WAIT_MINUTES * 60 * hour * size
                    wait = min(int(rng.lognormvariate(math.log(mean) - 0.18, 0.6)),
                               int(limit * 0.97))
                if priorities and rng.random() < PRIORITY_SHARE:
                    ticket.priority, ticket.priority_rank = priorities[
                        int(rng.random() * len(priorities))]
                    wait //= 4
                ticket.issued_at = max(opens, first_call - wait)
                if ticket.priority is None:
                    ordinary.setdefault(ticket.group, []).append(ticket)
        # first come, first called: within a group, ordinary tickets are called in the
        # order they were issued (the sorted issue times paired with the sorted calls keep
        # every issue before its call)
        for tickets in ordinary.values():
            issued = sorted(t.issued_at for t in tickets)
            tickets.sort(key=lambda t: t.visits[0][2])
            for ticket, moment in zip(tickets, issued, strict=True):
                ticket.issued_at = moment
        # numbers: per group, in the order issued
        by_group: dict[int, list[PlannedTicket]] = {}
        for ticket in desk.tickets:
            by_group.setdefault(ticket.group, []).append(ticket)
        for group, tickets in by_group.items():
            tickets.sort(key=lambda t: (t.issued_at, t.visits[0][2]))
            code = queue.group_codes[group]
            for sequence, ticket in enumerate(tickets, start=1):
                ticket.sequence = sequence
                ticket.number = f"{code}-{sequence:03d}"
            chunk.sequences.append((centre.pk, group, day.on, len(tickets)))
        # slices, and what the counters did all day
        worked: dict[tuple[int, int], list[int]] = {}
        for ticket in desk.tickets:
            slices = ticket.slices
            waiting_from = ticket.issued_at
            note = ""
            reason = ""
            wait = service = 0
            visits = ticket.visits
            for k, (counter, operator, call, serve, end) in enumerate(visits):
                slices.append(("waiting", waiting_from, call, None, None, note, reason))
                wait += call - waiting_from
                last = k == len(visits) - 1
                if ticket.kind == "no_show":
                    ticket.recalls = 1 + int(rng.random() * 2)
                    slices.append(("called", call, end, counter, operator, "no_show", ""))
                    ticket.state = "no_show"
                else:
                    recall = last and rng.random() < RECALL_SHARE
                    if recall:
                        ticket.recalls = 1
                    slices.append(("called", call, serve, counter, operator,
                                   "recall" if recall else "", ""))
                    slices.append(("serving", serve, end, counter, operator,
                                   "served" if last else "", ""))
                    service += end - serve
                if not last:
                    waiting_from = end
                    note = "redirect"
                    reason = REDIRECT_REASONS[int(rng.random() * len(REDIRECT_REASONS))]
                    ticket.target_counter = visits[-1][0]
                span = worked.setdefault((counter, operator), [call, end])
                span[0] = min(span[0], call)
                span[1] = max(span[1], end)
            counter, operator, call, _, end = visits[-1]
            ticket.counter, ticket.operator = counter, operator
            ticket.called_at, ticket.finished_at = call, end
            ticket.wait_seconds, ticket.service_seconds = wait, service
            ticket.visits = []
            chunk.tickets.append(ticket)
        first_open, last_close = desk.spans[0][0], desk.spans[-1][1]
        for (counter, operator), (first, until) in worked.items():
            opened = min(first, first_open + int(rng.random() * 180))
            closed = max(until, last_close - int(rng.random() * 300))
            chunk.sessions.append(PlannedSession(counter, operator, opened, closed))
        # booked appointments nobody came to, and cancelled ones
        groups = list(by_group)
        for _ in arrived:
            for state, share in (("no_show", APPOINTMENT_NO_SHOW),
                                 ("cancelled", APPOINTMENT_CANCELLED)):
                if rng.random() >= share:
                    continue
                booker = self._random_booker()
                if booker is None:
                    continue
                moment = self._counter_time(day, centre)
                slot_start = max(midnight + ((moment - midnight) // slot) * slot,
                                 desk.span_start(moment))
                booked = slot_start - 7200 - int(rng.random() * queue.days_ahead * 86400)
                cancelled = booked + int(rng.random() * (slot_start - booked)) \
                    if state == "cancelled" else None
                reminder = slot_start - 86400 if booked < slot_start - 86400 and (
                    cancelled is None or cancelled > slot_start - 86400) else None
                chunk.appointments.append(PlannedAppointment(
                    centre.pk, groups[int(rng.random() * len(groups))], booker[0], slot_start,
                    slot_start + slot, state, self._appointment_code(), booked, cancelled,
                    reminder,
                ))


DEFAULT_SERVICE_MINUTES = 20
"""A standard without `max_service_minutes`: its counter service takes about half this."""
CONSULT_MINUTES = 7.0
PICKUP_MINUTES = 4.0
CALL_SECONDS = (15, 75)
"""From the call to the citizen sitting down at the counter."""
WAIT_MINUTES = 7.0
"""The mean wait at a centre of 10 counters at the busiest hour; less at quiet hours."""
CONSULT_SHARE = 0.2
"""Consultations per application ticket."""
PICKUP_SHARE = 0.5
"""Issued counter applications (not instant ones) whose result is collected at the centre."""
NO_SHOW_SHARE = 0.05
"""No-show tickets per served ticket."""
REDIRECT_SHARE = 0.03
"""Application tickets first called to another counter, then redirected."""
PRIORITY_SHARE = 0.04
APPOINTMENT_SHARE = 0.15
"""Of the tickets of citizens with a portal account, the share that come from a booking."""
CONSULT_BOOKED = 0.1
"""Consultations booked in advance (by citizens with an account)."""
APPOINTMENT_NO_SHOW = 0.1
APPOINTMENT_CANCELLED = 0.12
"""Per arrived appointment: booked ones nobody came to, and cancelled ones."""
OVER_WAIT_SHARE = 0.04
"""Tickets drawn to wait longer than the maximum wait of the standard."""
RECEPTION_SHARE = 0.1
API_SHARE = 0.05
RECALL_SHARE = 0.05
REDIRECT_REASONS = ("Услуга другой группы", "Требуется консультация специалиста",
                    "Документы принимает другое окно")


def _open_spans(centre: CentreInfo, key: str) -> list[tuple[int, int]]:
    """The centre's opening hours of a weekday less its breaks, in seconds from midnight."""
    spans = list(centre.hours.get(key, ()))
    for b_start, b_end in centre.breaks.get(key, ()):
        cut: list[tuple[int, int]] = []
        for start, end in spans:
            if b_end <= start or b_start >= end:
                cut.append((start, end))
                continue
            if start < b_start:
                cut.append((start, b_start))
            if b_end < end:
                cut.append((b_end, end))
        spans = cut
    return sorted(s for s in spans if s[1] - s[0] >= 600)


class _Desk:
    """One centre's counters on one day: which are open, by whom, and when each is busy."""

    __slots__ = ("busy", "by_group", "centre", "day", "opened", "overlaps", "spans", "tickets")

    def __init__(self, centre: CentreInfo, day: _Day, spans: list[tuple[int, int]],
                 opened: list[tuple[CounterInfo, Actor]]) -> None:
        self.centre = centre
        self.day = day
        self.spans = spans
        self.opened = opened
        # per counter: the starts and ends of its busy stretches, sorted
        self.busy: dict[int, tuple[list[int], list[int]]] = {c.pk: ([], []) for c, _ in opened}
        self.by_group: dict[int, list[tuple[CounterInfo, Actor]]] = {}
        self.tickets: list[PlannedTicket] = []
        self.overlaps = 0

    def serving(self, group: int) -> list[tuple[CounterInfo, Actor]]:
        found = self.by_group.get(group)
        if found is None:
            found = self.by_group[group] = [(c, a) for c, a in self.opened if group in c.groups]
        return found

    def span_start(self, moment: int) -> int:
        for start, end in self.spans:
            if start <= moment < end:
                return start
        return max((s for s, _ in self.spans if s <= moment), default=self.spans[0][0])

    def clamp(self, start: int, length: int) -> int:
        best = None
        for a, b in self.spans:
            x = min(max(start, a), max(a, b - length))
            if best is None or abs(x - start) < abs(best - start):
                best = x
        return best if best is not None else start

    def _fits(self, counter: int, start: int, end: int) -> bool:
        if not any(a <= start and end <= b for a, b in self.spans):
            return False
        starts, ends = self.busy[counter]
        i = bisect.bisect_right(starts, start)
        return (i == 0 or ends[i - 1] <= start) and (i == len(starts) or starts[i] >= end)

    def _take(self, counter: int, start: int, end: int) -> None:
        starts, ends = self.busy[counter]
        i = bisect.bisect_right(starts, start)
        starts.insert(i, start)
        ends.insert(i, end)

    def _nearest(self, counter: int, want: int, length: int, before: int | None) -> int | None:
        """The free start nearest `want` for `length` seconds (ending by `before`)."""
        starts, ends = self.busy[counter]
        best = None
        for a, b in self.spans:
            if before is not None:
                b = min(b, before)
            edge = a
            for s, e in [*zip(starts, ends, strict=True), (b, b)]:
                if e <= a:
                    continue
                top = min(s, b)
                if top - edge >= length:
                    x = min(max(want, edge), top - length)
                    if best is None or abs(x - want) < abs(best - want):
                        best = x
                edge = max(edge, e)
                if edge >= b:
                    break
        return best

    def place(self, group: int, want: int, length: int, rng: random.Random, *,
              exclude: int | None = None, before: int | None = None
              ) -> tuple[CounterInfo, Actor, int] | None:
        """A counter serving `group` free for `length` seconds from about `want`: the
        exact moment on the first counter free then, else the nearest free moment."""
        options = [o for o in self.serving(group) if o[0].pk != exclude]
        if not options:
            return None
        first = int(rng.random() * len(options))
        order = options[first:] + options[:first]
        if before is None or want + length <= before:
            for counter, operator in order:
                if self._fits(counter.pk, want, want + length):
                    self._take(counter.pk, want, want + length)
                    return counter, operator, want
        best = None
        for counter, operator in order:
            x = self._nearest(counter.pk, want, length, before)
            if x is not None and (best is None or abs(x - want) < abs(best[2] - want)):
                best = (counter, operator, x)
        if best is not None:
            self._take(best[0].pk, best[2], best[2] + length)
        return best

    def redirect(self, ticket: PlannedTicket, group: int, final: int,
                 rng: random.Random) -> None:
        """Called first to another counter of the group, served briefly, sent on."""
        call_at = ticket.visits[0][2]
        call = CALL_SECONDS[0] + int(rng.random() * (CALL_SECONDS[1] - CALL_SECONDS[0]))
        serve = 60 + int(rng.random() * 240)
        gap = 60 + int(rng.random() * 540)
        placed = self.place(group, call_at - gap - call - serve, call + serve, rng,
                            exclude=final, before=call_at - 30)
        if placed is None:
            return
        counter, operator, start = placed
        ticket.visits.insert(0, (counter.pk, operator.pk or 0, start, start + call,
                                 start + call + serve))
