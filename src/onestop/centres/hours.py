"""A centre's opening hours on a day of the country's calendar: which weekday's hours
apply (none on a holiday, Monday's on a weekend day made working by decree), the stretches
left once the breaks are taken out, the slots cut from them, and whether it is open at a
moment. Pure: appointments, the live state and the public pages all read hours here, so
they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache

import holidays

from onestop.core.calendar import WEEKDAYS, WorkingCalendar


def _minutes(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    return int(hours) * 60 + int(minutes)


def _spans(intervals: object) -> list[tuple[int, int]]:
    """["09:00-13:00", ...] as minutes of the day; malformed entries are skipped."""
    found = []
    for interval in intervals if isinstance(intervals, list) else []:
        try:
            start, end = (_minutes(part) for part in str(interval).split("-"))
        except ValueError:
            continue
        if 0 <= start < end <= 24 * 60:
            found.append((start, end))
    return sorted(found)


def open_spans(hours: object, breaks: object) -> list[tuple[int, int]]:
    """The stretches of a day's opening hours left once its breaks are taken out, as
    (start, end) minutes of the day."""
    spans = _spans(hours)
    for pause_start, pause_end in _spans(breaks):
        kept = []
        for start, end in spans:
            if pause_end <= start or pause_start >= end:
                kept.append((start, end))
                continue
            if start < pause_start:
                kept.append((start, pause_start))
            if pause_end < end:
                kept.append((pause_end, end))
        spans = kept
    return spans


def slot_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Slots of `length` minutes from the start of each stretch, those that fit in it."""
    if length < 1:
        return []
    slots = set()
    for start, end in spans:
        moment = start
        while moment + length <= end:
            slots.add((moment, moment + length))
            moment += length
    return sorted(slots)


@cache
def _public_holidays(country: str, year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays(country, years=year))


def is_holiday(calendar: WorkingCalendar, day: dt.date) -> bool:
    """A public holiday or day off of the country calendar, weekend ones included."""
    rules = calendar.rules
    if calendar.is_working_day(day):
        return False
    if day.weekday() not in rules.weekend:
        return True  # a weekday off: a holiday, a substituted day, a decree day off
    if day in rules.extra_days_off:
        return True
    return day not in rules.removed_holidays and day in _public_holidays(
        rules.holidays_country, day.year
    )


def hours_key(calendar: WorkingCalendar, day: dt.date) -> str | None:
    """The weekday whose hours a centre keeps on `day`; None on a holiday."""
    if is_holiday(calendar, day):
        return None
    if day.weekday() in calendar.rules.weekend and calendar.is_working_day(day):
        return "monday"  # a weekend day made working by decree
    return WEEKDAYS[day.weekday()]


def is_open_at(hours: object, breaks: object, calendar: WorkingCalendar,
               local: dt.datetime) -> bool:
    """Whether a centre with these opening hours and breaks (weekday -> ["09:00-13:00"])
    is open at `local`, a time in the country's zone."""
    key = hours_key(calendar, local.date())
    if key is None:
        return False
    minute = local.hour * 60 + local.minute
    day_hours = hours.get(key) if isinstance(hours, dict) else None
    day_breaks = breaks.get(key) if isinstance(breaks, dict) else None
    return any(start <= minute < end for start, end in open_spans(day_hours, day_breaks))
