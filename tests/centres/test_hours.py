"""Opening hours on the country's calendar: the live "open now" and the appointment slots
read the same rules, so they agree on decree days too."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from onestop.centres.hours import hours_key, is_open_at, open_spans, slot_spans
from onestop.core.calendar import CalendarRules, WorkingCalendar

ZONE = ZoneInfo("Asia/Almaty")
HOURS = {
    "monday": ["09:00-18:00"], "tuesday": ["09:00-18:00"], "wednesday": ["09:00-18:00"],
    "thursday": ["09:00-18:00"], "friday": ["09:00-18:00"], "saturday": ["10:00-13:00"],
}
BREAKS = {"monday": ["13:00-14:00"]}
WORKED_SATURDAY = dt.date(2026, 3, 7)
DAY_OFF_TUESDAY = dt.date(2026, 3, 10)


def calendar() -> WorkingCalendar:
    return WorkingCalendar(CalendarRules(
        holidays_country="KZ", time_zone="Asia/Almaty",
        extra_working_days=frozenset({WORKED_SATURDAY}),
        extra_days_off=frozenset({DAY_OFF_TUESDAY}),
    ))


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def test_a_saturday_made_working_keeps_mondays_hours_and_breaks() -> None:
    cal = calendar()
    assert hours_key(cal, WORKED_SATURDAY) == "monday"
    assert is_open_at(HOURS, BREAKS, cal, at(WORKED_SATURDAY, 16, 0))  # Saturday hours end 13:00
    assert not is_open_at(HOURS, BREAKS, cal, at(WORKED_SATURDAY, 13, 30))  # Monday's break
    # an ordinary Saturday keeps its own short hours
    ordinary = dt.date(2026, 3, 14)
    assert hours_key(cal, ordinary) == "saturday"
    assert is_open_at(HOURS, BREAKS, cal, at(ordinary, 12, 59))
    assert not is_open_at(HOURS, BREAKS, cal, at(ordinary, 13, 0))


def test_a_decree_day_off_and_a_holiday_close_the_centre() -> None:
    cal = calendar()
    assert hours_key(cal, DAY_OFF_TUESDAY) is None
    assert not is_open_at(HOURS, BREAKS, cal, at(DAY_OFF_TUESDAY, 10, 0))
    assert not is_open_at(HOURS, BREAKS, cal, at(dt.date(2026, 5, 1), 10, 0))  # Unity Day


def test_open_now_agrees_with_the_slots_offered_for_booking() -> None:
    cal = calendar()
    for day in (WORKED_SATURDAY, dt.date(2026, 3, 9), DAY_OFF_TUESDAY, dt.date(2026, 3, 14),
                dt.date(2026, 3, 15)):
        key = hours_key(cal, day)
        slots = slot_spans(open_spans(HOURS.get(key or ""), BREAKS.get(key or "")), 15)
        starts = {start for start, _ in slots} if key else set()
        for minute in range(0, 24 * 60, 15):
            moment = at(day, minute // 60, minute % 60)
            assert is_open_at(HOURS, BREAKS, cal, moment) == (minute in starts), moment
