"""The deadline clock of an application: it stops while the application waits on the applicant.

Pure Python (no Django). A clock counts on an axis: working time (see
`WorkingCalendar.working_time_between`) for working-day deadlines, and for hour and
minute deadlines when the pack counts them in working hours; plain elapsed time for hour
and minute deadlines when the pack says they are continuous. Stopped time is measured on
the same axis, and the deadline moves along the axis by exactly that much.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from onestop.core.calendar import DeadlineUnit, WorkingCalendar

_ZERO = timedelta(0)


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {moment!r}")


@dataclass(frozen=True)
class Pause:
    """The clock stood still from `stopped_at` until `resumed_at` (None: still stopped)."""

    stopped_at: datetime
    resumed_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.stopped_at, "stopped_at")
        if self.resumed_at is not None:
            _require_aware(self.resumed_at, "resumed_at")
            if self.resumed_at < self.stopped_at:
                raise ValueError(
                    f"a pause cannot resume ({self.resumed_at}) "
                    f"before it stopped ({self.stopped_at})"
                )


@dataclass(frozen=True)
class Clock:
    """A deadline of `value` `unit` from `started_at`, moved by the time it stood stopped.

    Pauses are in order, do not overlap, start no earlier than `started_at`, and only the
    last may still be open; anything else is a ValueError. Methods taking `now` read the
    clock at that instant: a pause that has not begun by `now` does not count yet.
    """

    calendar: WorkingCalendar
    started_at: datetime
    value: int
    unit: DeadlineUnit
    pauses: tuple[Pause, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.started_at, "started_at")
        object.__setattr__(self, "unit", DeadlineUnit(self.unit))
        object.__setattr__(self, "pauses", tuple(self.pauses))
        if self.value < 1:
            raise ValueError(f"a deadline must be at least 1 {self.unit}, got {self.value}")
        previous_end = self.started_at
        for position, pause in enumerate(self.pauses):
            if pause.stopped_at < previous_end:
                raise ValueError(
                    f"pause {position + 1} stops at {pause.stopped_at}, before "
                    + ("the clock started" if position == 0 else "the previous pause resumed")
                )
            if pause.resumed_at is None:
                if position != len(self.pauses) - 1:
                    raise ValueError(f"pause {position + 1} is open but is not the last one")
            else:
                previous_end = pause.resumed_at

    # The axis

    @property
    def counts_working_time(self) -> bool:
        """True when the clock runs on the working-time axis, False on elapsed time."""
        return (
            self.unit is DeadlineUnit.WORKING_DAYS
            or self.calendar.rules.hour_deadlines == "working_hours"
        )

    def _between(self, a: datetime, b: datetime) -> timedelta:
        if self.counts_working_time:
            return self.calendar.working_time_between(a, b)
        _require_aware(a, "a datetime")
        _require_aware(b, "a datetime")
        return b.astimezone(UTC) - a.astimezone(UTC)

    def _advance(self, moment: datetime, amount: timedelta) -> datetime:
        if self.counts_working_time:
            return self.calendar.add_working_time(moment, amount)
        return (moment.astimezone(UTC) + amount).astimezone(self.calendar.zone)

    # Reading the clock

    def base_deadline(self) -> datetime:
        """The deadline had the clock never stopped."""
        return self.calendar.deadline(self.started_at, self.value, self.unit)

    def budget(self) -> timedelta:
        """Time on the clock's axis from `started_at` to the base deadline."""
        return self._between(self.started_at, self.base_deadline())

    def stopped_time(self, now: datetime) -> timedelta:
        """Axis time the clock has stood stopped by `now` (an open pause counts up to now)."""
        _require_aware(now, "now")
        total = _ZERO
        for pause in self.pauses:
            if pause.stopped_at >= now:
                break
            end = now if pause.resumed_at is None or pause.resumed_at > now else pause.resumed_at
            total += self._between(pause.stopped_at, end)
        return total

    def is_running(self, now: datetime) -> bool:
        """Started by `now` and not inside a pause at `now`."""
        _require_aware(now, "now")
        return now >= self.started_at and self._pause_at(now) is None

    def deadline_at(self, now: datetime) -> datetime:
        """The base deadline moved along the axis by all time stopped by `now`.

        While stopped, this is the provisional deadline: the one the clock would have if
        it resumed at `now`.
        """
        return self._advance(self.base_deadline(), self.stopped_time(now))

    def remaining(self, now: datetime) -> timedelta:
        """Axis time left at `now`; negative once the deadline is behind on the axis.

        It falls while the clock runs inside working time and stays constant while
        stopped. Off-hours just after a working-time deadline still read zero: use
        `is_overdue` for lateness.
        """
        used = self._between(self.started_at, now) - self.stopped_time(now)
        return self.budget() - used

    def is_overdue(self, now: datetime) -> bool:
        """Past the deadline at `now`; a stopped clock is overdue only if it stopped late."""
        pause = self._pause_at(now)
        moment = now if pause is None else pause.stopped_at
        return moment > self.deadline_at(moment)

    @property
    def stopped_since(self) -> datetime | None:
        """When the open pause began, or None if the clock is not stopped now."""
        if self.pauses and self.pauses[-1].resumed_at is None:
            return self.pauses[-1].stopped_at
        return None

    # Changing the clock

    def stop(self, at: datetime) -> Clock:
        """A copy stopped at `at`; ValueError if already stopped or `at` is out of order."""
        if self.stopped_since is not None:
            raise ValueError(f"the clock is already stopped since {self.stopped_since}")
        return replace(self, pauses=(*self.pauses, Pause(stopped_at=at)))

    def resume(self, at: datetime) -> Clock:
        """A copy running again from `at`; ValueError if running or `at` is before the stop."""
        stopped_since = self.stopped_since
        if stopped_since is None:
            raise ValueError("the clock is running; only a stopped clock can resume")
        return replace(
            self, pauses=(*self.pauses[:-1], Pause(stopped_at=stopped_since, resumed_at=at))
        )

    def _pause_at(self, now: datetime) -> Pause | None:
        _require_aware(now, "now")
        for pause in self.pauses:
            if pause.stopped_at <= now and (pause.resumed_at is None or now < pause.resumed_at):
                return pause
        return None
