"""Reads: the live state of the centres' queues and their statistics.

Every wait and service time comes from the ticket slices: `Ticket.wait_seconds` and
`Ticket.service_seconds` of finished tickets, and the open slices of waiting tickets for
the live state. Percentiles are computed in Python over the values of one centre and
period (a few thousand tickets a day at most), so they work the same on SQLite and
PostgreSQL; the number of queries does not grow with the number of tickets or centres.

Formulas (documented in docs/centres.md, "Live state and statistics"):

- expected wait of a new ticket of group g: `W = N * S / c`, with N the tickets of g
  waiting now, c the open counters serving g, S the mean service time of g (the last
  `RECENT_HOURS` hours at this centre, else the last `HISTORY_DAYS` days, else the mean
  of the `max_service_minutes` of the standards of the group's services, else
  `DEFAULT_SERVICE_MINUTES`); None when no counter serving g is open;
- p90: the nearest-rank percentile, the smallest value with at least 90% of the values
  at or below it;
- the maximum wait of a ticket: the strictest `max_wait_minutes` among the standards in
  force of the services of its group, else the country's `default_max_wait_minutes`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, Q
from django.utils import timezone

from onestop.accounts.roles import Role
from onestop.catalogue.models import Country, ServiceStandard
from onestop.catalogue.selectors import calendar_for, local_today
from onestop.centres.hours import is_open_at
from onestop.centres.models import (
    Centre,
    Counter,
    CounterSession,
    QueueSettings,
    ServiceGroup,
    SliceKind,
    Ticket,
    TicketSlice,
    TicketState,
)

RECENT_HOURS = 2
HISTORY_DAYS = 56
DEFAULT_SERVICE_MINUTES = 15.0
MAX_PERIOD_DAYS = 366
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --------------------------------------------------------------------------- helpers


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank q-percentile (0 < q <= 1): the smallest value with at least a
    share q of the values at or below it; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q * len(ordered)) - 1)])


def mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _covers(prefixes: Iterable[str], service_code: str) -> bool:
    return any(service_code.startswith(p) for p in prefixes)


@dataclass(frozen=True)
class GroupStandards:
    """What the standards say for each service group of a country, on one day."""

    max_wait_minutes: dict[int, int]  # group id -> minutes
    service_minutes: dict[int, float]  # group id -> mean of the standards' limits
    default_max_wait_minutes: int

    def max_wait(self, group_id: int) -> int:
        return self.max_wait_minutes.get(group_id, self.default_max_wait_minutes)


def group_standards(country: Country, on: dt.date | None = None) -> GroupStandards:
    """Per service group: the strictest `max_wait_minutes` among the standards in force on
    `on` of the services the group covers (a non-default group covers the services whose
    code starts with one of its prefixes; the default group, the services no other group
    covers), and the mean of their `max_service_minutes`. Two queries."""
    on = on or local_today(country)
    queue = QueueSettings.objects.filter(country=country).first()
    default_wait = queue.default_max_wait_minutes if queue else 30
    groups = list(ServiceGroup.objects.filter(country=country))
    latest: dict[str, tuple[dt.date, int | None, int | None]] = {}
    rows = ServiceStandard.objects.filter(
        service__country=country, valid_from__lte=on
    ).values_list("service__code", "valid_from", "max_wait_minutes", "max_service_minutes")
    for code, valid_from, max_wait, max_service in rows:
        if code not in latest or latest[code][0] < valid_from:
            latest[code] = (valid_from, max_wait, max_service)
    waits: dict[int, list[int]] = defaultdict(list)
    services: dict[int, list[int]] = defaultdict(list)
    default_groups = [g for g in groups if g.is_default]
    for code, (_, max_wait, max_service) in latest.items():
        owners = [g for g in groups if not g.is_default and _covers(g.service_prefixes, code)]
        if not owners:
            owners = default_groups
        for group in owners:
            if max_wait is not None:
                waits[group.pk].append(max_wait)
            if max_service is not None:
                services[group.pk].append(max_service)
    return GroupStandards(
        max_wait_minutes={pk: min(v) for pk, v in waits.items()},
        service_minutes={pk: math.fsum(v) / len(v) for pk, v in services.items()},
        default_max_wait_minutes=default_wait,
    )


def is_open(centre: Centre, now: dt.datetime | None = None) -> bool:
    """Whether the centre is open at `now`: inside its opening hours less its breaks, on a
    day the country's calendar keeps it open (the rules of `centres.hours`, the same the
    appointment slots follow)."""
    calendar = calendar_for(centre.country)
    local = (now or timezone.now()).astimezone(ZoneInfo(centre.country.time_zone))
    return is_open_at(centre.opening_hours, centre.breaks, calendar, local)


# --------------------------------------------------------------------------- live state


@dataclass
class GroupLive:
    group: ServiceGroup
    waiting: int = 0
    open_counters: int = 0
    mean_service_seconds: float | None = None
    service_time_source: str = "default"  # "recent", "history", "standard", "default"
    longest_wait_seconds: float | None = None
    now_serving: list[tuple[str, int | None, str]] = field(default_factory=list)

    @property
    def expected_wait_seconds(self) -> float | None:
        """N * S / c: the tickets ahead served by the open counters of the group."""
        if self.open_counters == 0 or self.mean_service_seconds is None:
            return None
        return self.waiting * self.mean_service_seconds / self.open_counters


@dataclass
class CentreLive:
    centre: Centre
    groups: list[GroupLive]

    @property
    def waiting(self) -> int:
        return sum(g.waiting for g in self.groups)

    @property
    def expected_wait_seconds(self) -> float | None:
        """The longest expected wait among the groups with an open counter."""
        known = [w for g in self.groups if (w := g.expected_wait_seconds) is not None]
        return max(known) if known else None


def _live(
    centres: Sequence[Centre], now: dt.datetime, *, detail: bool
) -> dict[int, CentreLive]:
    """The live state of several centres of one country with a fixed number of queries."""
    if not centres:
        return {}
    country = centres[0].country
    ids = [c.pk for c in centres]
    groups = {g.pk: g for g in ServiceGroup.objects.filter(country=country)}
    standards = group_standards(country, local_today(country, now))
    served_groups: dict[int, set[int]] = defaultdict(set)
    for centre_id, group_id in Counter.groups.through.objects.filter(
        counter__centre_id__in=ids, counter__active=True
    ).values_list("counter__centre_id", "servicegroup_id"):
        served_groups[centre_id].add(group_id)
    waiting: Tally[tuple[int, int]] = Tally()
    for row in (
        Ticket.objects.filter(centre_id__in=ids, state=TicketState.WAITING)
        .values("centre_id", "group_id")
        .annotate(n=Count("pk"))
    ):
        waiting[(row["centre_id"], row["group_id"])] = row["n"]
        served_groups[row["centre_id"]].add(row["group_id"])
    open_counters: Tally[tuple[int, int]] = Tally()
    for centre_id, group_id in CounterSession.objects.filter(
        closed_at__isnull=True, counter__centre_id__in=ids, counter__groups__isnull=False
    ).values_list("counter__centre_id", "counter__groups"):
        open_counters[(centre_id, group_id)] += 1
    today = local_today(country, now)
    served = Q(state=TicketState.SERVED, service_seconds__isnull=False)
    recent = {
        (r["centre_id"], r["group_id"]): r["s"]
        for r in Ticket.objects.filter(
            served, centre_id__in=ids, day__gte=today - dt.timedelta(days=1),
            finished_at__gte=now - dt.timedelta(hours=RECENT_HOURS), finished_at__lte=now,
        ).values("centre_id", "group_id").annotate(s=Avg("service_seconds"))
    }
    history = {
        (r["centre_id"], r["group_id"]): r["s"]
        for r in Ticket.objects.filter(
            served, centre_id__in=ids, day__gte=today - dt.timedelta(days=HISTORY_DAYS),
            day__lte=today,
        ).values("centre_id", "group_id").annotate(s=Avg("service_seconds"))
    }
    longest: dict[tuple[int, int], float] = {}
    serving: dict[tuple[int, int], list[tuple[str, int | None, str]]] = defaultdict(list)
    if detail:
        longest = _longest_waits(ids, now)
        for number, centre_id, group_id, counter_number, state in (
            Ticket.objects.filter(
                centre_id__in=ids, state__in=(TicketState.CALLED, TicketState.SERVING)
            )
            .order_by("called_at", "pk")
            .values_list("number", "centre_id", "group_id", "counter__number", "state")
        ):
            serving[(centre_id, group_id)].append((number, counter_number, state))
    result: dict[int, CentreLive] = {}
    for centre in centres:
        rows = []
        for group_id in sorted(served_groups[centre.pk],
                               key=lambda pk: (groups[pk].position, groups[pk].code)):
            key = (centre.pk, group_id)
            live = GroupLive(group=groups[group_id], waiting=waiting[key],
                             open_counters=open_counters[key])
            if recent.get(key) is not None:
                live.mean_service_seconds, live.service_time_source = recent[key], "recent"
            elif history.get(key) is not None:
                live.mean_service_seconds, live.service_time_source = history[key], "history"
            elif group_id in standards.service_minutes:
                live.mean_service_seconds = standards.service_minutes[group_id] * 60
                live.service_time_source = "standard"
            else:
                live.mean_service_seconds = DEFAULT_SERVICE_MINUTES * 60
            if detail:
                live.longest_wait_seconds = longest.get(key)
                live.now_serving = serving.get(key, [])
            rows.append(live)
        result[centre.pk] = CentreLive(centre=centre, groups=rows)
    return result


def _longest_waits(centre_ids: list[int], now: dt.datetime) -> dict[tuple[int, int], float]:
    """Per (centre, group): the longest time a ticket waiting now has spent waiting so
    far, the sum of its waiting slices (the open one counted up to `now`). One query."""
    total: dict[int, float] = defaultdict(float)
    queue_of: dict[int, tuple[int, int]] = {}
    for ticket_id, centre_id, group_id, started, ended in TicketSlice.objects.filter(
        ticket__centre_id__in=centre_ids, ticket__state=TicketState.WAITING,
        kind=SliceKind.WAITING,
    ).values_list("ticket_id", "ticket__centre_id", "ticket__group_id", "started_at",
                  "ended_at"):
        total[ticket_id] += max(0.0, ((ended or now) - started).total_seconds())
        queue_of[ticket_id] = (centre_id, group_id)
    longest: dict[tuple[int, int], float] = {}
    for ticket_id, seconds in total.items():
        key = queue_of[ticket_id]
        longest[key] = max(longest.get(key, 0.0), seconds)
    return longest


def centre_live(centre: Centre, now: dt.datetime | None = None) -> CentreLive:
    """Per service group of the centre: people waiting, the longest current wait, the
    expected wait of a new ticket and the tickets being called or served now."""
    return _live([centre], now or timezone.now(), detail=True)[centre.pk]


def country_overview(
    country: Country, now: dt.datetime | None = None, centres: Sequence[Centre] | None = None
) -> dict[int, CentreLive]:
    """Per centre of the country (or of `centres`): waiting and expected wait per group.
    A fixed number of queries however many centres there are."""
    if centres is None:
        centres = list(Centre.objects.filter(country=country).select_related("country"))
    return _live(list(centres), now or timezone.now(), detail=False)


# --------------------------------------------------------------------------- statistics


@dataclass
class Summary:
    """Statistics of a set of tickets. Times in seconds."""

    tickets: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    waits: list[float] = field(default_factory=list, repr=False)
    services: list[float] = field(default_factory=list, repr=False)
    within: int = 0  # waits at or under the ticket's maximum wait

    @property
    def avg_wait_seconds(self) -> float | None:
        return mean(self.waits)

    @property
    def p90_wait_seconds(self) -> float | None:
        return percentile(self.waits, 0.9)

    @property
    def avg_service_seconds(self) -> float | None:
        return mean(self.services)

    @property
    def p90_service_seconds(self) -> float | None:
        return percentile(self.services, 0.9)

    @property
    def within_standard_share(self) -> float | None:
        """The share of the waits known (served and no-show tickets) at or under the
        maximum wait of the ticket's group."""
        return self.within / len(self.waits) if self.waits else None

    @property
    def no_show_rate(self) -> float | None:
        """No-shows over the tickets called to the end (served + no-show)."""
        finished = self.served + self.no_show
        return self.no_show / finished if finished else None

    def add(self, state: str, wait: int | None, service: int | None, max_wait: int) -> None:
        self.tickets += 1
        if state == TicketState.SERVED:
            self.served += 1
            if service is not None:
                self.services.append(float(service))
        elif state == TicketState.NO_SHOW:
            self.no_show += 1
        elif state == TicketState.CANCELLED:
            self.cancelled += 1
        if state in (TicketState.SERVED, TicketState.NO_SHOW) and wait is not None:
            self.waits.append(float(wait))
            if wait <= max_wait * 60:
                self.within += 1


@dataclass
class GroupSummary:
    group: ServiceGroup
    max_wait_minutes: int
    summary: Summary


@dataclass
class PeriodStats:
    centre: Centre
    first_day: dt.date
    last_day: dt.date
    total: Summary
    groups: list[GroupSummary]
    by_source: dict[str, int]
    served_per_counter: dict[int, int]


class PeriodError(ValueError):
    """The period asked for cannot be read."""


def check_period(first_day: dt.date, last_day: dt.date) -> None:
    if last_day < first_day:
        raise PeriodError("the period ends before it starts: 'to' must not be before 'from'")
    if (last_day - first_day).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError(f"the period is longer than {MAX_PERIOD_DAYS} days: choose a shorter one")


def period_stats(centre: Centre, first_day: dt.date, last_day: dt.date) -> PeriodStats:
    """Statistics of the tickets the centre issued from `first_day` to `last_day` (local
    dates, both included): per group and in total, average and p90 of wait and service,
    the share served within the standard, no-show rate, tickets by source and tickets
    served per counter. Wait statistics count the tickets called to the end (served and
    no-show); tickets still open are not in them. Three queries."""
    check_period(first_day, last_day)
    country = centre.country
    standards = group_standards(country, last_day)
    groups = {g.pk: g for g in ServiceGroup.objects.filter(country=country)}
    total = Summary()
    per_group: dict[int, Summary] = {}
    by_source: Tally[str] = Tally()
    per_counter: Tally[int] = Tally()
    rows = Ticket.objects.filter(
        centre=centre, day__gte=first_day, day__lte=last_day
    ).values_list("group_id", "state", "source", "counter__number", "wait_seconds",
                  "service_seconds")
    for group_id, state, source, counter_number, wait, service in rows.iterator(
        chunk_size=5000
    ):
        max_wait = standards.max_wait(group_id)
        total.add(state, wait, service, max_wait)
        per_group.setdefault(group_id, Summary()).add(state, wait, service, max_wait)
        by_source[source] += 1
        if state == TicketState.SERVED and counter_number is not None:
            per_counter[counter_number] += 1
    ordered = sorted(per_group, key=lambda pk: (groups[pk].position, groups[pk].code))
    return PeriodStats(
        centre=centre,
        first_day=first_day,
        last_day=last_day,
        total=total,
        groups=[GroupSummary(groups[pk], standards.max_wait(pk), per_group[pk])
                for pk in ordered],
        by_source=dict(sorted(by_source.items())),
        served_per_counter=dict(sorted(per_counter.items())),
    )


def today_stats(centre: Centre, now: dt.datetime | None = None) -> PeriodStats:
    today = local_today(centre.country, now)
    return period_stats(centre, today, today)


# --------------------------------------------------------------------------- who may see


def may_see_statistics(user: object, centre: Centre, *, operators: bool = True) -> bool:
    """The centre's manager (a supervisor of the centre) and, when `operators`, its
    operators; controllers, analysts and admins of any centre."""
    role = getattr(user, "role", None)
    if role in (Role.CONTROLLER, Role.ANALYST, Role.ADMIN):
        return True
    allowed = {Role.SUPERVISOR, Role.OPERATOR} if operators else {Role.SUPERVISOR}
    return role in allowed and getattr(user, "centre_id", None) == centre.pk
