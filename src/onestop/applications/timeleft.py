"""How long an application has left before its deadline, in words that do not rely on
colour: one reading of the clock, worded for the staff pages (`for_staff`) and for the
citizen's pages (`for_citizen`).

Both views put the result in their templates: `state` names what the clock says (a CSS
class on the citizen's pages), `overdue` and `stopped` tell the staff pages what to stress.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from onestop.applications import services
from onestop.applications.models import Application
from onestop.applications.workflow import Outcome
from onestop.core.clock import Clock


@dataclass(frozen=True)
class TimeLeft:
    state: str  # running | overdue | stopped | on_time | late | closed
    text: str

    @property
    def overdue(self) -> bool:
        return self.state in ("overdue", "late")

    @property
    def stopped(self) -> bool:
        return self.state == "stopped"


@dataclass(frozen=True)
class Units:
    """The words of a duration (plurals numbered by the key `n` or `count`); without `day`,
    a deadline counted around the clock reads in hours alone."""

    working_day: Promise
    day: Promise | None
    hour: Promise
    minute: Promise
    minutes_after_hours: bool  # "2 hours 30 minutes" rather than "2 hours"


STAFF = Units(
    working_day=ngettext_lazy("%(count)d working day", "%(count)d working days", "count"),
    day=None,
    hour=ngettext_lazy("%(count)d hour", "%(count)d hours", "count"),
    minute=ngettext_lazy("%(count)d minute", "%(count)d minutes", "count"),
    minutes_after_hours=True,
)
CITIZEN = Units(
    working_day=ngettext_lazy("%(n)d working day", "%(n)d working days", "n"),
    day=ngettext_lazy("%(n)d day", "%(n)d days", "n"),
    hour=ngettext_lazy("%(n)d hour", "%(n)d hours", "n"),
    minute=ngettext_lazy("%(n)d minute", "%(n)d minutes", "n"),
    minutes_after_hours=False,
)


def duration(amount: dt.timedelta, clock: Clock, units: Units) -> str:
    """Working days of the country's working hours on a working-time clock (whole days, if
    `units` has them, otherwise), then hours, then minutes; a negative amount reads as its
    size."""
    seconds = abs(int(amount.total_seconds()))
    if clock.counts_working_time:
        opens, closes = clock.calendar.rules.working_hours
        day: int | None = ((closes.hour * 60 + closes.minute)
                           - (opens.hour * 60 + opens.minute)) * 60
        day_unit: Promise | None = units.working_day
    else:
        day, day_unit = (86400, units.day) if units.day is not None else (None, None)
    days = 0
    if day is not None:
        days, seconds = divmod(seconds, day)
    hours, minutes = divmod(seconds // 60, 60)
    parts = []
    if days and day_unit is not None:
        parts.append(_count(day_unit, days))
    if hours:
        parts.append(_count(units.hour, hours))
    if not days and (not hours or (minutes and units.minutes_after_hours)):
        parts.append(_count(units.minute, minutes))
    return " ".join(parts)


def _count(unit: Promise, number: int) -> str:
    return str(unit % {"n": number, "count": number})


def for_staff(application: Application, now: dt.datetime) -> TimeLeft:
    """What the clock says at `now`, for the back office and the counter."""
    clock = services.clock_of(application)
    if not application.is_open:
        if clock.is_overdue(application.completed_at or now):
            return TimeLeft("late", _("Completed late"))
        return TimeLeft("on_time", _("Completed on time"))
    remaining = clock.remaining(now)
    if clock.is_overdue(now):
        if remaining < dt.timedelta(0):
            return TimeLeft("overdue", _("Overdue by %(time)s")
                            % {"time": duration(remaining, clock, STAFF)})
        return TimeLeft("overdue", _("Overdue"))
    if application.clock_stopped_at is not None:
        return TimeLeft("stopped", _("Clock stopped (waiting for the applicant), %(time)s left")
                        % {"time": duration(remaining, clock, STAFF)})
    return TimeLeft("running", _("%(time)s left") % {"time": duration(remaining, clock, STAFF)})


def for_citizen(application: Application, now: dt.datetime) -> TimeLeft:
    """Time left before the deadline, for the applicant: working days of the country's
    working hours (or whole days for a deadline counted around the clock) and hours."""
    if application.outcome == Outcome.WITHDRAWN:
        return TimeLeft("closed", _("No deadline: the application is withdrawn"))
    if not application.is_open:
        if (application.completed_at or now) <= application.deadline_at:
            return TimeLeft("on_time", _("Completed on time"))
        return TimeLeft("late", _("Completed after the deadline"))
    clock = services.clock_of(application)
    remaining = clock.remaining(now)
    left = duration(remaining, clock, CITIZEN)
    if application.clock_stopped_at is not None:
        return TimeLeft("stopped", _("Clock stopped: waiting for you (%(duration)s left "
                                     "when it runs again)") % {"duration": left})
    if remaining < dt.timedelta(0) or clock.is_overdue(now):
        return TimeLeft("overdue", _("Overdue by %(duration)s") % {"duration": left})
    return TimeLeft("running", _("%(duration)s left") % {"duration": left})
