"""The deadline clock: stops while waiting on the applicant, moves the deadline on its axis."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.core.calendar import CalendarRules, DeadlineUnit, WorkingCalendar
from onestop.core.clock import Clock, Pause

ALMATY = ZoneInfo("Asia/Almaty")
TASHKENT = ZoneInfo("Asia/Tashkent")
KZ = WorkingCalendar(CalendarRules(holidays_country="KZ", time_zone="Asia/Almaty"))
UZ = WorkingCalendar(CalendarRules(holidays_country="UZ", time_zone="Asia/Tashkent"))
KZ_CONTINUOUS = WorkingCalendar(
    CalendarRules(holidays_country="KZ", time_zone="Asia/Almaty", hour_deadlines="continuous")
)

PROPERTY = settings(max_examples=60, deadline=None, database=None)


def kz(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ALMATY)


def june_clock(*pauses: Pause) -> Clock:
    # Thu 4 Jun 2026 10:00, 4 working days: Fri 5, Mon 8, Tue 9, Wed 10 Jun -> Wed 18:00.
    # No Kazakh holiday between 27 May and 6 Jul.
    return Clock(KZ, kz(2026, 6, 4, 10), 4, DeadlineUnit.WORKING_DAYS, pauses)


# Worked examples


def test_weekend_stop_moves_the_deadline_by_working_hours() -> None:
    clock = june_clock()
    assert clock.base_deadline() == kz(2026, 6, 10, 18)
    # Thu 10:00-18:00 = 8 h, plus 4 days of 9 h.
    assert clock.budget() == timedelta(hours=44)
    # Stopped Fri 15:00, resumed Mon 10:00: 3 h on Friday + 1 h on Monday = 4 working
    # hours, so Wed 10 Jun 18:00 moves to Thu 11 Jun 13:00.
    stopped = clock.stop(kz(2026, 6, 5, 15))
    resumed = stopped.resume(kz(2026, 6, 8, 10))
    assert resumed.pauses == (Pause(kz(2026, 6, 5, 15), kz(2026, 6, 8, 10)),)
    assert resumed.stopped_time(kz(2026, 6, 9, 12)) == timedelta(hours=4)
    assert resumed.deadline_at(kz(2026, 6, 9, 12)) == kz(2026, 6, 11, 13)
    # From Mon 10:00 to Thu 13:00: 8 + 9 + 9 + 4 = 30 h left.
    assert resumed.remaining(kz(2026, 6, 8, 10)) == timedelta(hours=30)
    assert resumed.is_running(kz(2026, 6, 8, 10))
    assert not resumed.is_overdue(kz(2026, 6, 11, 13))
    assert resumed.is_overdue(kz(2026, 6, 11, 13, 1))


def test_stopped_clock_reads_a_provisional_deadline() -> None:
    stopped = june_clock().stop(kz(2026, 6, 5, 15))
    saturday = kz(2026, 6, 6, 12)
    assert not stopped.is_running(saturday)
    assert stopped.stopped_since == kz(2026, 6, 5, 15)
    # Resuming now (or first thing Monday) adds only Friday's 3 h: Thu 11 Jun 12:00.
    assert stopped.stopped_time(saturday) == timedelta(hours=3)
    assert stopped.deadline_at(saturday) == kz(2026, 6, 11, 12)
    # Remaining is frozen at what was left when it stopped: Thu 8 h + Fri 6 h used of 44.
    assert stopped.remaining(saturday) == timedelta(hours=30)
    assert stopped.remaining(kz(2026, 6, 20, 12)) == timedelta(hours=30)


def test_overdue_only_if_the_clock_stopped_late() -> None:
    clock = june_clock()
    assert not clock.is_overdue(kz(2026, 6, 10, 18))
    assert clock.is_overdue(kz(2026, 6, 10, 18, 1))
    assert clock.is_overdue(kz(2026, 6, 13, 10))  # the Saturday after: late already
    assert clock.remaining(kz(2026, 6, 11, 10)) == -timedelta(hours=1)
    # Stopped in time, it stays in time however long the applicant takes.
    in_time = clock.stop(kz(2026, 6, 10, 17))
    assert not in_time.is_overdue(kz(2026, 7, 30, 12))
    assert in_time.remaining(kz(2026, 7, 30, 12)) == timedelta(hours=1)
    # Stopped after the deadline, it stays overdue while stopped.
    late = clock.stop(kz(2026, 6, 11, 11))
    assert late.is_overdue(kz(2026, 7, 30, 12))
    assert late.remaining(kz(2026, 7, 30, 12)) == -timedelta(hours=2)


def test_overdue_at_the_edges_of_working_hours() -> None:
    clock = june_clock()
    # Stopped at the very instant of the deadline: in time, even on the weekend after.
    at_deadline = clock.stop(kz(2026, 6, 10, 18))
    assert not at_deadline.is_overdue(kz(2026, 6, 13, 12))
    # Stopped in the evening after a missed deadline: late, although no working time
    # passed since (remaining reads zero) and the provisional deadline keeps pace.
    evening = clock.stop(kz(2026, 6, 10, 20))
    assert evening.remaining(kz(2026, 6, 11, 12)) == timedelta(0)
    assert evening.deadline_at(kz(2026, 6, 11, 12)) == kz(2026, 6, 11, 12)
    assert evening.is_overdue(kz(2026, 6, 11, 12))


def test_hours_clock_under_both_rules() -> None:
    # 4 hours from Tue 6 Jan 2026 16:30; stopped 17:00-17:30 the same day.
    start, pause = kz(2026, 1, 6, 16, 30), Pause(kz(2026, 1, 6, 17), kz(2026, 1, 6, 17, 30))
    working = Clock(KZ, start, 4, DeadlineUnit.HOURS, (pause,))
    # Working hours: base Thu 8 Jan 11:30 (7 Jan is a holiday), plus 30 min -> 12:00.
    assert working.base_deadline() == kz(2026, 1, 8, 11, 30)
    assert working.deadline_at(kz(2026, 1, 8, 9)) == kz(2026, 1, 8, 12)
    continuous = Clock(KZ_CONTINUOUS, start, 4, DeadlineUnit.HOURS, (pause,))
    # Continuous: base 20:30 the same day, plus 30 min -> 21:00.
    assert continuous.base_deadline() == kz(2026, 1, 6, 20, 30)
    assert continuous.budget() == timedelta(hours=4)
    assert continuous.deadline_at(kz(2026, 1, 6, 19)) == kz(2026, 1, 6, 21)
    assert continuous.remaining(kz(2026, 1, 6, 20)) == timedelta(hours=1)


def test_minutes_clock_under_both_rules() -> None:
    # "10 minutes" from Fri 5 Jun 2026 17:55, stopped 17:57-17:59.
    start, pause = kz(2026, 6, 5, 17, 55), Pause(kz(2026, 6, 5, 17, 57), kz(2026, 6, 5, 17, 59))
    working = Clock(KZ, start, 10, DeadlineUnit.MINUTES, (pause,))
    assert working.base_deadline() == kz(2026, 6, 8, 9, 5)
    assert working.deadline_at(kz(2026, 6, 8, 9)) == kz(2026, 6, 8, 9, 7)
    continuous = Clock(KZ_CONTINUOUS, start, 10, DeadlineUnit.MINUTES, (pause,))
    assert continuous.base_deadline() == kz(2026, 6, 5, 18, 5)
    assert continuous.deadline_at(kz(2026, 6, 5, 18)) == kz(2026, 6, 5, 18, 7)


def test_working_day_clock_ignores_continuous_hour_rule() -> None:
    clock = Clock(KZ_CONTINUOUS, kz(2026, 6, 4, 10), 4, DeadlineUnit.WORKING_DAYS)
    assert clock.counts_working_time
    stopped = clock.stop(kz(2026, 6, 5, 15)).resume(kz(2026, 6, 8, 10))
    assert stopped.deadline_at(kz(2026, 6, 9, 12)) == kz(2026, 6, 11, 13)


def test_pause_not_yet_begun_does_not_count() -> None:
    clock = june_clock(Pause(kz(2026, 6, 9, 9), kz(2026, 6, 9, 18)))
    assert clock.deadline_at(kz(2026, 6, 8, 12)) == kz(2026, 6, 10, 18)
    assert clock.deadline_at(kz(2026, 6, 9, 12)) == kz(2026, 6, 11, 12)
    assert clock.deadline_at(kz(2026, 6, 10, 12)) == kz(2026, 6, 11, 18)


def test_unit_may_be_given_as_text() -> None:
    clock = Clock(KZ, kz(2026, 6, 4, 10), 4, "working_days")  # type: ignore[arg-type]
    assert clock.unit is DeadlineUnit.WORKING_DAYS


# Refusals


@pytest.mark.parametrize(
    ("pauses", "message"),
    [
        ((Pause(kz(2026, 6, 4, 9), kz(2026, 6, 4, 11)),), "before the clock started"),
        (
            (
                Pause(kz(2026, 6, 5, 10), kz(2026, 6, 5, 12)),
                Pause(kz(2026, 6, 5, 11), kz(2026, 6, 5, 13)),
            ),
            "before the previous pause resumed",
        ),
        (
            (
                Pause(kz(2026, 6, 8, 10), kz(2026, 6, 8, 12)),
                Pause(kz(2026, 6, 5, 10), kz(2026, 6, 5, 12)),
            ),
            "before the previous pause resumed",
        ),
        (
            (Pause(kz(2026, 6, 5, 10)), Pause(kz(2026, 6, 8, 10), kz(2026, 6, 8, 12))),
            "open but is not the last",
        ),
    ],
)
def test_invalid_pauses_are_refused(pauses: tuple[Pause, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        june_clock(*pauses)


def test_pause_cannot_resume_before_it_stopped() -> None:
    with pytest.raises(ValueError, match="before it stopped"):
        Pause(kz(2026, 6, 5, 12), kz(2026, 6, 5, 10))


def test_stop_and_resume_in_the_wrong_state_are_refused() -> None:
    clock = june_clock()
    with pytest.raises(ValueError, match="running"):
        clock.resume(kz(2026, 6, 5, 12))
    stopped = clock.stop(kz(2026, 6, 5, 12))
    with pytest.raises(ValueError, match="already stopped"):
        stopped.stop(kz(2026, 6, 5, 13))
    with pytest.raises(ValueError, match="before it stopped"):
        stopped.resume(kz(2026, 6, 5, 11))
    with pytest.raises(ValueError, match="before the clock started"):
        clock.stop(kz(2026, 6, 3, 12))
    resumed = stopped.resume(kz(2026, 6, 5, 14))
    with pytest.raises(ValueError, match="before the previous pause resumed"):
        resumed.stop(kz(2026, 6, 5, 13))


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 6, 5, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock(KZ, naive, 4, DeadlineUnit.WORKING_DAYS)
    with pytest.raises(ValueError, match="timezone-aware"):
        Pause(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        Pause(kz(2026, 6, 5, 10), naive)
    for read in (june_clock().remaining, june_clock().is_overdue, june_clock().deadline_at):
        with pytest.raises(ValueError, match="timezone-aware"):
            read(naive)


def test_value_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Clock(KZ, kz(2026, 6, 4, 10), 0, DeadlineUnit.HOURS)


# Properties


@st.composite
def clocks(draw: st.DrawFn) -> Clock:
    """A clock over 2025-2026 with up to three pauses, the last possibly still open."""
    calendar = draw(st.sampled_from([KZ, UZ, KZ_CONTINUOUS]))
    unit = draw(st.sampled_from(DeadlineUnit))
    value = draw(st.integers(min_value=1, max_value=600 if unit is DeadlineUnit.MINUTES else 20))
    started_at = draw(
        st.datetimes(
            min_value=datetime(2025, 1, 1),
            max_value=datetime(2026, 12, 31, 23, 59),
            timezones=st.sampled_from([ALMATY, TASHKENT, UTC]),
        )
    )
    gaps = draw(
        st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)), max_size=6)
    )
    points = []
    moment = started_at
    for gap in gaps:
        moment += gap
        points.append(moment)
    pauses = tuple(
        Pause(points[i], points[i + 1] if i + 1 < len(points) else None)
        for i in range(0, len(points), 2)
    )
    return Clock(calendar, started_at, value, unit, pauses)


def axis_time(clock: Clock, a: datetime, b: datetime | None) -> timedelta:
    """Time from a to b on the clock's axis, computed without the clock."""
    assert b is not None
    if clock.counts_working_time:
        return clock.calendar.working_time_between(a, b)
    return b - a


def segments(clock: Clock, horizon: datetime) -> list[tuple[datetime, datetime, bool]]:
    """The clock's life up to horizon as (begin, end, running) intervals."""
    parts = []
    moment = clock.started_at
    for pause in clock.pauses:
        parts.append((moment, pause.stopped_at, True))
        moment = pause.resumed_at or max(pause.stopped_at, horizon)
        parts.append((pause.stopped_at, moment, False))
    parts.append((moment, max(moment, horizon), True))
    return parts


@PROPERTY
@given(clock=clocks(), later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
def test_deadline_is_base_deadline_advanced_by_stopped_time(clock: Clock, later: timedelta) -> None:
    now = clock.started_at + later
    stopped = clock.stopped_time(now)
    due = clock.deadline_at(now)
    if clock.counts_working_time:
        assert due == clock.calendar.add_working_time(clock.base_deadline(), stopped)
        assert due == clock.calendar.add_working_time(clock.started_at, clock.budget() + stopped)
    else:
        assert due == clock.base_deadline() + stopped
    assert due.tzinfo == clock.calendar.zone
    assert stopped >= timedelta(0)
    assert due >= clock.base_deadline()


@PROPERTY
@given(clock=clocks())
def test_running_time_to_the_deadline_equals_the_budget(clock: Clock) -> None:
    # With every pause over, the time the clock ran from start to its deadline, measured
    # independently on the axis, is exactly the budget.
    closed = replace(clock, pauses=tuple(p for p in clock.pauses if p.resumed_at is not None))
    last_resumed = max((p.resumed_at or p.stopped_at for p in closed.pauses), default=None)
    due = closed.deadline_at(last_resumed or closed.started_at)
    if last_resumed is not None and due < last_resumed:
        return  # stopped after the deadline had passed: no running time is left to check
    paused = sum(
        (axis_time(closed, pause.stopped_at, pause.resumed_at) for pause in closed.pauses),
        timedelta(0),
    )
    assert axis_time(closed, closed.started_at, due) - paused == closed.budget()
    assert closed.remaining(due) == timedelta(0)
    assert not closed.is_overdue(due)


@PROPERTY
@given(clock=clocks(), data=st.data())
def test_remaining_falls_while_running_and_holds_while_stopped(
    clock: Clock, data: st.DataObject
) -> None:
    horizon = clock.started_at + timedelta(days=30)
    begin, end, running = data.draw(st.sampled_from(segments(clock, horizon)))
    first, second = sorted(
        data.draw(st.lists(st.floats(min_value=0, max_value=1), min_size=2, max_size=2))
    )
    # Remaining is continuous in time, so each segment's ends belong to it.
    earlier, later = begin + (end - begin) * first, begin + (end - begin) * second
    if running:
        assert clock.remaining(later) <= clock.remaining(earlier)
    else:
        assert clock.remaining(later) == clock.remaining(earlier)
