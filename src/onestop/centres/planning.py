"""The staffing planner of a centre, on the Django side: reads the centre's history and
asks the pure planner (`onestop.centres.planner`) how many counters each hour needs.

The history is the centre's served tickets of the last `weeks` full weeks before today:
the arrival is the moment the ticket was issued, the service time the sum of its
serving slices (`Ticket.service_seconds`). No-shows and cancelled tickets are left out:
they take no service time. Days off of the country's calendar are left out of the
average (a holiday would pull it down). The centre is planned as one queue under the
strictest maximum wait among the groups it serves.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from onestop.catalogue.selectors import calendar_for, local_today
from onestop.centres import planner
from onestop.centres.models import Centre, Counter, Ticket, TicketState
from onestop.centres.stats import group_standards

DEFAULT_WEEKS = 8
MAX_WEEKS = 52
# Each hour is simulated for about this many customers (so a busy centre's page stays
# quick), for at least MIN_SIMULATION_MINUTES and at most the `simulation_minutes` given.
SIMULATED_CUSTOMERS = 400
MIN_SIMULATION_MINUTES = 240.0
SIMULATION_MINUTES = 2_000.0


@dataclass(frozen=True)
class PlanRow:
    weekday: int  # 0 = Monday
    hour: int
    arrivals_per_hour: float
    mean_service_minutes: float
    counters: int
    erlang_share_within: float
    erlang_mean_wait_minutes: float
    simulated_share_within: float
    simulated_mean_wait_minutes: float
    meets_standard: bool


@dataclass(frozen=True)
class CentrePlan:
    centre: Centre
    first_day: dt.date
    last_day: dt.date
    weeks: int
    tickets: int  # served tickets in the history
    max_wait_minutes: int
    target_share: float
    rows: list[PlanRow]

    @property
    def peak_counters(self) -> int:
        return max((r.counters for r in self.rows), default=0)


def centre_max_wait(centre: Centre, on: dt.date) -> int:
    """The strictest maximum wait among the groups the centre's counters serve."""
    standards = group_standards(centre.country, on)
    group_ids = set(
        Counter.groups.through.objects.filter(
            counter__centre=centre, counter__active=True
        ).values_list("servicegroup_id", flat=True)
    )
    if not group_ids:
        return standards.default_max_wait_minutes
    return min(standards.max_wait(pk) for pk in group_ids)


def history(
    centre: Centre, weeks: int = DEFAULT_WEEKS, now: dt.datetime | None = None
) -> tuple[dt.date, dt.date, list[tuple[dt.datetime, float]]]:
    """The period (the `weeks` full weeks before today) and its (issued_at, service
    seconds) observations of served tickets. One query."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be from 1 to {MAX_WEEKS}, not {weeks}")
    today = local_today(centre.country, now)
    last_day = today - dt.timedelta(days=1)
    first_day = today - dt.timedelta(days=7 * weeks)
    rows = Ticket.objects.filter(
        centre=centre, day__gte=first_day, day__lte=last_day, state=TicketState.SERVED,
        service_seconds__gt=0,
    ).values_list("issued_at", "service_seconds")
    return first_day, last_day, [(issued, float(seconds or 0)) for issued, seconds in rows]


def days_off(centre: Centre, first_day: dt.date, last_day: dt.date) -> set[dt.date]:
    calendar = calendar_for(centre.country)
    off: set[dt.date] = set()
    for year in range(first_day.year, last_day.year + 1):
        off.update(d for d in calendar.days_off(year) if first_day <= d <= last_day)
    return off


def plan_centre(
    centre: Centre,
    *,
    weeks: int = DEFAULT_WEEKS,
    target_share: float = planner.DEFAULT_TARGET_SHARE,
    now: dt.datetime | None = None,
    simulation_minutes: float = SIMULATION_MINUTES,
    seed: int = 0,
) -> CentrePlan:
    """Per open hour of the centre's average week: arrivals per hour, mean service time,
    the counters Erlang C recommends for `target_share` within the maximum wait, and what
    a simulation of that many counters gives."""
    now = now or timezone.now()
    first_day, last_day, observations = history(centre, weeks, now)
    max_wait = centre_max_wait(centre, local_today(centre.country, now))
    profile = planner.profile_from_observations(
        observations,
        first_day=first_day,
        last_day=last_day,
        closed_days=days_off(centre, first_day, last_day),
        tz=ZoneInfo(centre.country.time_zone),
    )
    plan = planner.recommend(profile, max_wait, target_share)
    checks = [
        check
        for hour in plan
        for check in planner.check(
            [hour], max_wait, minutes=simulation_length(hour, simulation_minutes), seed=seed
        )
    ]
    rows = [
        PlanRow(
            weekday=c.plan.weekday,
            hour=c.plan.hour,
            arrivals_per_hour=c.plan.arrivals_per_hour,
            mean_service_minutes=c.plan.mean_service_minutes,
            counters=c.plan.counters,
            erlang_share_within=c.plan.share_within_standard,
            erlang_mean_wait_minutes=c.plan.mean_wait_minutes,
            simulated_share_within=c.simulated.share_within,
            simulated_mean_wait_minutes=c.simulated.mean_wait,
            meets_standard=c.plan.meets_standard,
        )
        for c in checks
    ]
    return CentrePlan(
        centre=centre,
        first_day=first_day,
        last_day=last_day,
        weeks=weeks,
        tickets=len(observations),
        max_wait_minutes=max_wait,
        target_share=target_share,
        rows=rows,
    )


def simulation_length(hour: planner.HourPlan, longest: float) -> float:
    """Minutes to simulate an hour: about SIMULATED_CUSTOMERS arrivals, within bounds."""
    if hour.arrivals_per_hour <= 0:
        return longest
    wanted = 60.0 * SIMULATED_CUSTOMERS / hour.arrivals_per_hour
    return min(longest, max(MIN_SIMULATION_MINUTES, wanted))


def finite(value: float) -> float | None:
    """None for an infinite wait (an unstable queue), for JSON and templates."""
    return None if math.isinf(value) or math.isnan(value) else value
