"""The staffing planner of a centre: how many counters to open in each hour of the week.

Pure Python (no Django). The first answer is Erlang C (the M/M/c queue): customers arrive
at random (a Poisson process) at a steady rate within the hour, service times are
exponential, `c` counters serve one queue first come first served, and nobody leaves the
queue. For each hour the planner takes the smallest number of counters that keeps the
share of customers served within the waiting standard at or above a target. A discrete
event simulation with SimPy then checks the answer and reports the whole distribution of
waits, also under log-normal service times, which Erlang C cannot describe.

Units: arrivals per hour, service and waiting times in minutes. The offered load
`a = arrivals_per_hour * mean_service_minutes / 60` is in Erlangs (busy counters).

Formulas (`c` counters, load `a < c`, mean service `S`, standard `t`):

- Erlang B by the recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), which never
  forms a factorial or a power and is stable for hundreds of counters;
- Erlang C, the probability of waiting: C = c B(c) / (c - a (1 - B(c)));
- mean wait: Wq = C S / (c - a);
- share served within the standard: P(W <= t) = 1 - C exp(-(c - a) t / S);
- the q-quantile of the wait: 0 if q <= 1 - C, else S ln(C / (1 - q)) / (c - a).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Collection, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

import simpy

HOURS_IN_WEEK = 7 * 24
DEFAULT_TARGET_SHARE = 0.8
DEFAULT_MAX_COUNTERS = 500


class ServiceDistribution(StrEnum):
    EXPONENTIAL = "exponential"
    LOGNORMAL = "lognormal"


# --------------------------------------------------------------------------- Erlang C


def offered_load(arrivals_per_hour: float, mean_service_minutes: float) -> float:
    """The offered load in Erlangs: how many counters would be busy on average."""
    _check_non_negative(arrivals_per_hour=arrivals_per_hour)
    _check_positive(mean_service_minutes=mean_service_minutes)
    return arrivals_per_hour * mean_service_minutes / 60.0


def erlang_b(counters: int, load: float) -> float:
    """The Erlang B blocking probability, by the stable recursion over the counters."""
    _check_counters(counters)
    _check_non_negative(load=load)
    b = 1.0
    for k in range(1, counters + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(counters: int, load: float) -> float:
    """The probability that a customer waits at all (1.0 when the load is not below c)."""
    _check_counters(counters)
    _check_non_negative(load=load)
    if load >= counters:
        return 1.0
    b = erlang_b(counters, load)
    return _c_from_b(counters, load, b)


def mean_wait(counters: int, arrivals_per_hour: float, mean_service_minutes: float) -> float:
    """The mean wait in minutes over all customers (infinite when the queue is unstable)."""
    load = offered_load(arrivals_per_hour, mean_service_minutes)
    if load >= counters:
        return math.inf
    return erlang_c(counters, load) * mean_service_minutes / (counters - load)


def share_within(
    counters: int, arrivals_per_hour: float, mean_service_minutes: float, max_wait_minutes: float
) -> float:
    """The share of customers who wait no longer than `max_wait_minutes` (the service level)."""
    _check_non_negative(max_wait_minutes=max_wait_minutes)
    load = offered_load(arrivals_per_hour, mean_service_minutes)
    if load >= counters:
        return 0.0
    c = erlang_c(counters, load)
    return _share(counters, load, c, mean_service_minutes, max_wait_minutes)


def wait_quantile(
    counters: int, arrivals_per_hour: float, mean_service_minutes: float, q: float
) -> float:
    """The wait in minutes that a share `q` of customers do not exceed."""
    if not 0.0 <= q < 1.0:
        raise ValueError(f"q must be in [0, 1), not {q}")
    load = offered_load(arrivals_per_hour, mean_service_minutes)
    if load >= counters:
        return math.inf
    c = erlang_c(counters, load)
    if q <= 1.0 - c:
        return 0.0
    return mean_service_minutes * math.log(c / (1.0 - q)) / (counters - load)


def _c_from_b(counters: int, load: float, b: float) -> float:
    return counters * b / (counters - load * (1.0 - b))


def _share(counters: int, load: float, c: float, mean_service: float, max_wait: float) -> float:
    return 1.0 - c * math.exp(-(counters - load) * max_wait / mean_service)


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class HourLoad:
    """The demand in one hour of the week."""

    arrivals_per_hour: float
    mean_service_minutes: float


@dataclass(frozen=True)
class WeekProfile:
    """Demand per hour of the week: (weekday 0 = Monday, hour 0-23) -> `HourLoad`.

    Hours not in `hours` are hours when the centre is closed. `weeks` says over how many
    weeks the profile was averaged (informative; 0 for a profile written by hand).
    """

    hours: Mapping[tuple[int, int], HourLoad]
    weeks: float = 0.0

    def __post_init__(self) -> None:
        for (weekday, hour), load in self.hours.items():
            if not (0 <= weekday <= 6 and 0 <= hour <= 23):
                raise ValueError(f"no hour of the week ({weekday}, {hour})")
            _check_non_negative(arrivals_per_hour=load.arrivals_per_hour)
            _check_positive(mean_service_minutes=load.mean_service_minutes)

    def __iter__(self) -> Iterator[tuple[int, int, HourLoad]]:
        for weekday, hour in sorted(self.hours):
            yield weekday, hour, self.hours[(weekday, hour)]


@dataclass(frozen=True)
class HourPlan:
    """Erlang C's answer for one hour: the counters to open and what they achieve."""

    weekday: int
    hour: int
    arrivals_per_hour: float
    mean_service_minutes: float
    counters: int
    load: float  # Erlangs
    utilisation: float  # load / counters, the share of time a counter is busy
    p_wait: float  # the probability that a customer waits at all
    mean_wait_minutes: float
    share_within_standard: float
    meets_standard: bool  # False only when even `max_counters` fall short


def counters_needed(
    arrivals_per_hour: float,
    mean_service_minutes: float,
    max_wait_minutes: float,
    target_share: float = DEFAULT_TARGET_SHARE,
    max_counters: int = DEFAULT_MAX_COUNTERS,
    min_counters: int = 1,
    *,
    weekday: int = 0,
    hour: int = 0,
) -> HourPlan:
    """The smallest number of counters that serves `target_share` of customers within
    `max_wait_minutes` with utilisation below 1, at least `min_counters`.

    When even `max_counters` cannot, the plan has `max_counters` and `meets_standard`
    False. One pass of the Erlang B recursion, so the cost is linear in the answer.
    """
    load = offered_load(arrivals_per_hour, mean_service_minutes)
    _check_non_negative(max_wait_minutes=max_wait_minutes)
    if not 0.0 < target_share < 1.0:
        # 1.0 would need infinitely many counters whenever anyone can wait.
        raise ValueError(f"target_share must be in (0, 1), not {target_share}")
    if min_counters < 0 or max_counters < max(min_counters, 1):
        raise ValueError("need 0 <= min_counters <= max_counters and max_counters >= 1")

    def plan(counters: int, c: float, share: float, meets: bool) -> HourPlan:
        if c == 0.0:
            wait = 0.0
        elif load < counters:
            wait = c * mean_service_minutes / (counters - load)
        else:
            wait = math.inf
        return HourPlan(
            weekday=weekday,
            hour=hour,
            arrivals_per_hour=arrivals_per_hour,
            mean_service_minutes=mean_service_minutes,
            counters=counters,
            load=load,
            utilisation=load / counters if counters else (0.0 if load == 0 else math.inf),
            p_wait=c,
            mean_wait_minutes=wait,
            share_within_standard=share,
            meets_standard=meets,
        )

    if load == 0.0:
        return plan(min_counters, 0.0, 1.0, True)
    b = 1.0
    for k in range(1, max_counters + 1):
        b = load * b / (k + load * b)
        if k < min_counters or load >= k:
            continue
        c = _c_from_b(k, load, b)
        share = _share(k, load, c, mean_service_minutes, max_wait_minutes)
        if share >= target_share:
            return plan(k, c, share, True)
    if load >= max_counters:
        return plan(max_counters, 1.0, 0.0, False)
    c = _c_from_b(max_counters, load, b)
    return plan(
        max_counters,
        c,
        _share(max_counters, load, c, mean_service_minutes, max_wait_minutes),
        False,
    )


def recommend(
    profile: WeekProfile,
    max_wait_minutes: float,
    target_share: float = DEFAULT_TARGET_SHARE,
    max_counters: int = DEFAULT_MAX_COUNTERS,
    min_counters: int = 1,
) -> list[HourPlan]:
    """The counters for each open hour of the week, by `counters_needed`, in week order."""
    return [
        counters_needed(
            load.arrivals_per_hour,
            load.mean_service_minutes,
            max_wait_minutes,
            target_share,
            max_counters,
            min_counters,
            weekday=weekday,
            hour=hour,
        )
        for weekday, hour, load in profile
    ]


# --------------------------------------------------------------------------- the profile


def profile_from_observations(
    observations: Iterable[tuple[datetime, float]],
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    closed_days: Collection[date] = (),
    tz: tzinfo | None = None,
) -> WeekProfile:
    """The average week of a centre from its history of (arrival time, service seconds).

    The arrivals in an hour of the week are averaged over the number of times that
    weekday occurs in the period observed, `first_day` to `last_day` inclusive (by
    default the days of the first and last arrival), less `closed_days` (holidays: a day
    the centre did not open would otherwise pull the average down). Arrivals on closed
    days are ignored. The mean service time of an hour is the mean over its customers.
    Aware times are read in `tz` when given, naive ones as local wall-clock time.
    """
    closed = set(closed_days)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    service_seconds: dict[tuple[int, int], float] = defaultdict(float)
    days_seen: list[date] = []
    for arrived, seconds in observations:
        if seconds < 0:
            raise ValueError(f"negative service time {seconds} s at {arrived.isoformat()}")
        local = arrived.astimezone(tz) if tz is not None and arrived.tzinfo else arrived
        day = local.date()
        days_seen.append(day)
        if day in closed:
            continue
        slot = (local.weekday(), local.hour)
        counts[slot] += 1
        service_seconds[slot] += seconds
    if not days_seen and (first_day is None or last_day is None):
        return WeekProfile(hours={}, weeks=0.0)
    start = first_day if first_day is not None else min(days_seen)
    end = last_day if last_day is not None else max(days_seen)
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if any(not start <= d <= end for d in days_seen):
        raise ValueError(f"observations fall outside the period {start} to {end}")
    open_days_per_weekday = [0] * 7
    day = start
    while day <= end:
        if day not in closed:
            open_days_per_weekday[day.weekday()] += 1
        day += timedelta(days=1)
    hours: dict[tuple[int, int], HourLoad] = {}
    for slot, n in counts.items():
        mean_seconds = service_seconds[slot] / n
        if mean_seconds <= 0:
            continue  # nobody was served: no service time to plan with
        hours[slot] = HourLoad(
            arrivals_per_hour=n / open_days_per_weekday[slot[0]],
            mean_service_minutes=mean_seconds / 60.0,
        )
    weeks = ((end - start).days + 1) / 7
    return WeekProfile(hours=hours, weeks=weeks)


# --------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class SimulationResult:
    """The waits of the customers who arrived in the measured window, in minutes."""

    served: int
    mean_wait: float
    p50: float
    p90: float
    p99: float
    share_within: float  # the share who waited no longer than the standard
    p_wait: float  # the share who waited at all
    utilisation: float  # busy counter-minutes over available counter-minutes, measured


def simulate(
    arrivals_per_hour: float,
    mean_service_minutes: float,
    counters: int,
    minutes: float,
    seed: int,
    *,
    max_wait_minutes: float = 0.0,
    service: ServiceDistribution | str = ServiceDistribution.EXPONENTIAL,
    service_cv: float = 1.0,
    warmup_minutes: float | None = None,
) -> SimulationResult:
    """Simulate one queue served by `counters` FIFO, with Poisson arrivals, for `minutes`.

    The system runs `warmup_minutes` first (by default a tenth of `minutes`) so that the
    measured customers find it in its steady state, as Erlang C assumes; the customers
    who arrive during the next `minutes` are measured, each until it is called. Service
    times are exponential, or log-normal with the same mean and coefficient of variation
    `service_cv`. The same seed gives the same result.
    """
    _check_counters(counters)
    if counters < 1:
        raise ValueError("a simulation needs at least one counter")
    _check_positive(arrivals_per_hour=arrivals_per_hour, minutes=minutes)
    _check_positive(mean_service_minutes=mean_service_minutes, service_cv=service_cv)
    _check_non_negative(max_wait_minutes=max_wait_minutes)
    warmup = minutes / 10 if warmup_minutes is None else warmup_minutes
    _check_non_negative(warmup_minutes=warmup)
    distribution = ServiceDistribution(service)
    rng = random.Random(seed)  # noqa: S311 (a reproducible simulation, not secrecy)
    rate = arrivals_per_hour / 60.0  # per minute
    if distribution is ServiceDistribution.EXPONENTIAL:
        service_rate = 1.0 / mean_service_minutes

        def service_time() -> float:
            return rng.expovariate(service_rate)

    else:
        sigma = math.sqrt(math.log1p(service_cv**2))
        mu = math.log(mean_service_minutes) - sigma**2 / 2

        def service_time() -> float:
            return rng.lognormvariate(mu, sigma)

    # The queue is one FIFO store of arrival times; each counter is a process that calls
    # the next customer as soon as it is free. No process per customer: half the cost of
    # a Resource with a process for each, and the same draws in the same order.
    env = simpy.Environment()
    queue: simpy.Store = simpy.Store(env)
    start, end = warmup, warmup + minutes
    waits: list[float] = []
    busy = [0.0]  # counter-minutes of service inside the measured window

    def arrivals() -> Generator[Any, Any, None]:
        while True:
            yield env.timeout(rng.expovariate(rate))
            if env.now >= end:
                return
            queue.put(env.now)

    def counter() -> Generator[Any, Any, None]:
        while True:
            arrived = yield queue.get()
            called = env.now
            if arrived >= start:
                waits.append(called - arrived)
            duration = service_time()
            busy[0] += max(0.0, min(called + duration, end) - max(called, start))
            yield env.timeout(duration)

    env.process(arrivals())
    for _ in range(counters):
        env.process(counter())
    env.run()  # ends when the last customer has been served and every counter waits
    return _summarise(waits, max_wait_minutes, busy[0] / (counters * minutes))


def _summarise(waits: list[float], max_wait: float, utilisation: float) -> SimulationResult:
    n = len(waits)
    if n == 0:
        return SimulationResult(0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, utilisation)
    ordered = sorted(waits)
    within = sum(1 for w in ordered if w <= max_wait)
    waited = sum(1 for w in ordered if w > 0.0)
    return SimulationResult(
        served=n,
        mean_wait=math.fsum(ordered) / n,
        p50=_quantile(ordered, 0.5),
        p90=_quantile(ordered, 0.9),
        p99=_quantile(ordered, 0.99),
        share_within=within / n,
        p_wait=waited / n,
        utilisation=utilisation,
    )


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The empirical q-quantile: the smallest value with at least q of the sample at or below."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class HourCheck:
    """Erlang C's plan for an hour next to what the simulation of that plan gave."""

    plan: HourPlan
    simulated: SimulationResult

    @property
    def share_gap(self) -> float:
        """Simulated minus Erlang C share within the standard."""
        return self.simulated.share_within - self.plan.share_within_standard


def check(
    plan: Iterable[HourPlan],
    max_wait_minutes: float,
    *,
    minutes: float = 20_000.0,
    seed: int = 0,
    service: ServiceDistribution | str = ServiceDistribution.EXPONENTIAL,
    service_cv: float = 1.0,
) -> list[HourCheck]:
    """Simulate each hour of a plan with its recommended counters, in its steady state.

    Each hour is simulated on its own for `minutes` (after a warm-up) as if its demand
    lasted, which is what Erlang C describes; the seed of an hour is derived from `seed`
    and the hour of the week, so one hour's result does not depend on the others.
    Hours with no arrivals are reported with no customers.
    """
    checks = []
    for hour in plan:
        if hour.arrivals_per_hour == 0 or hour.counters == 0:
            simulated = _summarise([], max_wait_minutes, 0.0)
        else:
            simulated = simulate(
                hour.arrivals_per_hour,
                hour.mean_service_minutes,
                hour.counters,
                minutes,
                seed * HOURS_IN_WEEK + hour.weekday * 24 + hour.hour,
                max_wait_minutes=max_wait_minutes,
                service=service,
                service_cv=service_cv,
            )
        checks.append(HourCheck(plan=hour, simulated=simulated))
    return checks


# --------------------------------------------------------------------------- checks


def _check_counters(counters: int) -> None:
    if counters < 0:
        raise ValueError(f"counters must not be negative, not {counters}")


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0 or math.isinf(value):
            raise ValueError(f"{name} must be a finite number >= 0, not {value}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0 or math.isinf(value):
            raise ValueError(f"{name} must be a finite number > 0, not {value}")
