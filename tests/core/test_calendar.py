"""The working calendar: real 2025-2026 calendars of Kazakhstan and Uzbekistan, and properties.

The worked examples follow docs SERVICES.md section 3 (the calendars as published) and are
computed by hand in the comments; the properties cover the arithmetic over 2025-2027.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onestop.core.calendar import (
    CalendarRules,
    DeadlineUnit,
    WorkingCalendar,
    rules_from_pack,
)

ALMATY = ZoneInfo("Asia/Almaty")
TASHKENT = ZoneInfo("Asia/Tashkent")
KZ = WorkingCalendar(CalendarRules(holidays_country="KZ", time_zone="Asia/Almaty"))
UZ = WorkingCalendar(CalendarRules(holidays_country="UZ", time_zone="Asia/Tashkent"))
KZ_CONTINUOUS = WorkingCalendar(
    CalendarRules(holidays_country="KZ", time_zone="Asia/Almaty", hour_deadlines="continuous")
)

# A few seconds for the whole suite; no example database written into the work tree.
PROPERTY = settings(max_examples=60, deadline=None, database=None)

calendars = st.sampled_from([KZ, UZ])
moments = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31, 23, 59),
    timezones=st.sampled_from([ALMATY, TASHKENT, UTC]),
)
amounts = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=300))


def kz(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ALMATY)


def uz(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TASHKENT)


def is_inside_working_hours(calendar: WorkingCalendar, moment: datetime) -> bool:
    opens, closes = calendar.rules.working_hours
    local = moment.astimezone(calendar.zone)
    return (
        calendar.is_working_day(local.date())
        and opens <= local.timetz().replace(tzinfo=None) <= closes
    )


# Worked examples: Kazakhstan


def test_kz_new_year_2026_five_working_days() -> None:
    # Submitted Tue 30 Dec 2025; the submission day does not count.
    # Wed 31 Dec = 1; Thu 1 and Fri 2 Jan New Year; Sat 3, Sun 4 weekend; Mon 5 = 2,
    # Tue 6 = 3; Wed 7 Orthodox Christmas; Thu 8 = 4, Fri 9 = 5 -> Fri 9 Jan 18:00.
    due = KZ.deadline(kz(2025, 12, 30, 11, 0), 5, DeadlineUnit.WORKING_DAYS)
    assert due == kz(2026, 1, 9, 18, 0)
    assert due.tzinfo == ALMATY


def test_kz_nauryz_2026() -> None:
    # 21-22 Mar fall on Sat-Sun: 23 Mar is Nauryz, 24-25 Mar are the moved days off,
    # so 21-25 Mar are all off. Submitted Thu 19 Mar: Fri 20 = 1, Thu 26 = 2, Fri 27 = 3.
    assert [KZ.is_working_day(date(2026, 3, day)) for day in range(20, 27)] == [
        True, False, False, False, False, False, True,
    ]  # fmt: skip
    assert KZ.deadline(kz(2026, 3, 19, 10, 0), 3, "working_days") == kz(2026, 3, 27, 18, 0)
    assert KZ.working_days_in(date(2026, 3, 20), date(2026, 3, 27)) == 3


def test_kz_womens_day_2026_moves_to_monday() -> None:
    # 8 Mar 2026 is a Sunday; the day off moves to Mon 9 Mar. Submitted Fri 6 Mar,
    # one working day: Mon 9 off -> Tue 10 Mar 18:00.
    off = KZ.days_off(2026)
    assert date(2026, 3, 9) in off
    assert "observed" in off[date(2026, 3, 9)]
    assert date(2026, 3, 8) not in off  # a Sunday: a weekend day, not listed
    assert KZ.add_working_days(kz(2026, 3, 6, 15, 0), 1) == kz(2026, 3, 10, 18, 0)


def test_kz_constitution_day_cancelled_in_2026() -> None:
    # The new Constitution moves the holiday to 15 Mar from 2027: Mon 31 Aug 2026 is a
    # normal working day, so one working day from Fri 28 Aug ends Mon 31 Aug 18:00.
    assert KZ.is_working_day(date(2026, 8, 31))
    assert date(2026, 8, 31) not in KZ.days_off(2026)
    assert KZ.add_working_days(kz(2026, 8, 28, 12, 0), 1) == kz(2026, 8, 31, 18, 0)


def test_kz_2025_sunday_5_january_worked_for_3_january() -> None:
    # Sunday 5 Jan 2025 was worked and its rest moved to Fri 3 Jan. From Thu 2 Jan
    # (a holiday itself), one working day: Fri 3 off, Sat 4 weekend, Sun 5 worked.
    assert not KZ.is_working_day(date(2025, 1, 3))
    assert KZ.is_working_day(date(2025, 1, 5))
    assert KZ.add_working_days(kz(2025, 1, 2, 10, 0), 1) == kz(2025, 1, 5, 18, 0)
    # The package's stray 28 Dec 2013 weekend workday leaks into no other year.
    assert not KZ.is_working_day(date(2025, 12, 28))


def test_kz_hours_deadline_before_a_holiday() -> None:
    # 4 working hours from Tue 6 Jan 2026 16:30: 1 h 30 min that day, Wed 7 Jan is
    # Orthodox Christmas, then 2 h 30 min from Thu 8 Jan 09:00 -> 11:30.
    assert KZ.deadline(kz(2026, 1, 6, 16, 30), 4, "hours") == kz(2026, 1, 8, 11, 30)
    # Counted continuously, the same deadline is four elapsed hours later.
    assert KZ_CONTINUOUS.deadline(kz(2026, 1, 6, 16, 30), 4, "hours") == kz(2026, 1, 6, 20, 30)


def test_minutes_deadline_under_both_rules() -> None:
    # "10 minutes" from Fri 5 Jun 2026 17:55: 5 min on Friday and 5 on Monday 8 Jun
    # in working hours; 18:05 the same day when counted continuously.
    assert KZ.deadline(kz(2026, 6, 5, 17, 55), 10, "minutes") == kz(2026, 6, 8, 9, 5)
    assert KZ_CONTINUOUS.deadline(kz(2026, 6, 5, 17, 55), 10, "minutes") == kz(2026, 6, 5, 18, 5)
    # Inside working hours the two rules agree.
    assert KZ.deadline(kz(2026, 6, 5, 11, 0), 10, "minutes") == kz(2026, 6, 5, 11, 10)
    assert KZ_CONTINUOUS.deadline(kz(2026, 6, 5, 11, 0), 10, "minutes") == kz(2026, 6, 5, 11, 10)


def test_working_time_ending_at_close_stays_on_that_day() -> None:
    assert KZ.add_working_time(kz(2026, 6, 5, 17, 0), timedelta(hours=1)) == kz(2026, 6, 5, 18, 0)
    assert KZ.add_working_time(kz(2026, 6, 5, 20, 0), timedelta(0)) == kz(2026, 6, 5, 20, 0)
    # From Saturday evening, the first working hour is Monday 09:00-10:00.
    assert KZ.add_working_time(kz(2026, 6, 6, 20, 0), timedelta(hours=1)) == kz(2026, 6, 8, 10, 0)


def test_working_time_between_examples() -> None:
    # Fri 5 Jun 15:00 to Mon 8 Jun 10:00: 3 h on Friday, 1 h on Monday.
    assert KZ.working_time_between(kz(2026, 6, 5, 15), kz(2026, 6, 8, 10)) == timedelta(hours=4)
    assert KZ.working_time_between(kz(2026, 6, 8, 10), kz(2026, 6, 5, 15)) == -timedelta(hours=4)
    assert KZ.working_time_between(kz(2026, 6, 6, 10), kz(2026, 6, 7, 10)) == timedelta(0)


def test_submission_on_saturday_counts_from_monday() -> None:
    assert KZ.add_working_days(kz(2026, 6, 6, 10, 0), 1) == kz(2026, 6, 8, 18, 0)
    # Late on a Friday still does not count Friday.
    assert KZ.add_working_days(kz(2026, 6, 5, 8, 0), 1) == kz(2026, 6, 8, 18, 0)


def test_results_are_in_the_calendar_zone() -> None:
    start = datetime(2026, 6, 5, 4, 0, tzinfo=UTC)  # 09:00 in Almaty
    assert KZ.add_working_time(start, timedelta(hours=2)) == kz(2026, 6, 5, 11, 0)
    assert KZ.add_working_time(start, timedelta(hours=2)).tzinfo == ALMATY


# Worked examples: Uzbekistan (five-day week)


def test_uz_new_year_2026() -> None:
    # 31 Dec 2025 (decree), 1 Jan New Year, 2 Jan (decree) are off; 3-4 Jan weekend.
    # From Tue 30 Dec 2025, one working day ends Mon 5 Jan 2026 18:00.
    for day in (date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2)):
        assert not UZ.is_working_day(day)
    assert UZ.add_working_days(uz(2025, 12, 30, 10, 0), 1) == uz(2026, 1, 5, 18, 0)


def test_uz_navruz_2026_moves_to_monday() -> None:
    # Fri 20 Mar Ramazon hayit; Navruz Sat 21 Mar moves to Mon 23 Mar. From Thu 19 Mar,
    # one working day: 20 off, 21-22 weekend, 23 off -> Tue 24 Mar 18:00.
    assert not UZ.is_working_day(date(2026, 3, 20))
    assert not UZ.is_working_day(date(2026, 3, 23))
    assert UZ.is_working_day(date(2026, 3, 24))
    assert UZ.add_working_days(uz(2026, 3, 19, 10, 0), 1) == uz(2026, 3, 24, 18, 0)


def test_uz_qurbon_hayit_2026() -> None:
    # Wed 27 May Qurbon hayit, Thu 28-Fri 29 May extra days; from Tue 26 May,
    # one working day ends Mon 1 Jun 18:00.
    assert [UZ.is_working_day(date(2026, 5, day)) for day in (26, 27, 28, 29)] == [
        True, False, False, False,
    ]  # fmt: skip
    assert UZ.add_working_days(uz(2026, 5, 26, 10, 0), 1) == uz(2026, 6, 1, 18, 0)


def test_uz_saturday_12_december_2026_worked_for_31_december() -> None:
    # Sat 12 Dec 2026 is worked (five-day week); its rest moves to Thu 31 Dec.
    assert UZ.is_working_day(date(2026, 12, 12))
    assert UZ.add_working_days(uz(2026, 12, 11, 10, 0), 1) == uz(2026, 12, 12, 18, 0)
    assert not UZ.is_working_day(date(2026, 12, 31))
    # From Wed 30 Dec: 31 Dec off, Fri 1 Jan 2027 New Year, 2-3 Jan weekend -> Mon 4 Jan.
    assert UZ.add_working_days(uz(2026, 12, 30, 10, 0), 1) == uz(2027, 1, 4, 18, 0)


@pytest.mark.parametrize(
    ("calendar", "year", "working_days"),
    [(KZ, 2025, 246), (KZ, 2026, 247), (UZ, 2025, 251), (UZ, 2026, 248)],
)
def test_working_days_per_year(calendar: WorkingCalendar, year: int, working_days: int) -> None:
    # The yearly totals of SERVICES.md section 3 (five-day week).
    assert calendar.working_days_in(date(year, 1, 1), date(year, 12, 31)) == working_days


def test_days_off_lists_only_weekdays_with_names() -> None:
    off = UZ.days_off(2026)
    assert off[date(2026, 12, 31)].startswith("Day off")
    assert date(2026, 3, 21) not in off  # Navruz on a Saturday
    assert all(day.year == 2026 and day.weekday() < 5 and name for day, name in off.items())
    # Built from three years of the package, each year keeps only its own dates.
    assert date(2025, 12, 31) in UZ.days_off(2025)
    assert list(off) == sorted(off)


# Pack overlays


def test_overlays_change_the_package_calendar() -> None:
    # A six-day-week overlay for Uzbekistan 2026: only Sunday is weekend, and the
    # decree's six-day-only days off (Sat 3 Jan, Sat 30 May) come from the pack.
    six_day = WorkingCalendar(
        CalendarRules(
            holidays_country="UZ",
            time_zone="Asia/Tashkent",
            weekend=frozenset({6}),
            extra_days_off=frozenset({date(2026, 1, 3), date(2026, 5, 30)}),
        )
    )
    assert not six_day.is_working_day(date(2026, 1, 3))
    assert six_day.is_working_day(date(2026, 1, 10))
    assert six_day.days_off(2026)[date(2026, 1, 3)] == "Day off by decree"
    changed = WorkingCalendar(
        CalendarRules(
            holidays_country="KZ",
            time_zone="Asia/Almaty",
            removed_holidays=frozenset({date(2026, 5, 27)}),
            extra_working_days=frozenset({date(2026, 6, 6)}),
        )
    )
    assert changed.is_working_day(date(2026, 5, 27))
    assert date(2026, 5, 27) not in changed.days_off(2026)
    assert changed.is_working_day(date(2026, 6, 6))  # a Saturday worked by decree


def test_next_working_day_is_strictly_after() -> None:
    assert KZ.next_working_day(date(2026, 6, 8)) == date(2026, 6, 9)
    assert KZ.next_working_day(date(2026, 3, 20)) == date(2026, 3, 26)


def test_working_hours_come_from_the_rules() -> None:
    short = WorkingCalendar(
        CalendarRules(
            holidays_country="KZ", time_zone="Asia/Almaty", working_hours=(time(8), time(17))
        )
    )
    assert short.add_working_days(kz(2026, 6, 5, 10), 1) == kz(2026, 6, 8, 17, 0)
    assert short.add_working_time(kz(2026, 6, 5, 16), timedelta(hours=2)) == kz(2026, 6, 8, 9, 0)


# Refusals


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 6, 5, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        KZ.add_working_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        KZ.add_working_time(naive, timedelta(hours=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        KZ.working_time_between(naive, kz(2026, 6, 5, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        KZ_CONTINUOUS.deadline(naive, 1, "hours")


def test_bad_deadlines_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        KZ.deadline(kz(2026, 6, 5, 10), 0, "hours")
    with pytest.raises(ValueError, match="at least 1"):
        KZ.add_working_days(kz(2026, 6, 5, 10), 0)
    with pytest.raises(ValueError, match="deadline unit"):
        KZ.deadline(kz(2026, 6, 5, 10), 1, "weeks")
    with pytest.raises(ValueError, match="negative"):
        KZ.add_working_time(kz(2026, 6, 5, 10), timedelta(hours=-1))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weekend": frozenset({7})}, "weekend days"),
        ({"weekend": frozenset(range(7))}, "whole week"),
        ({"working_hours": (time(18), time(9))}, "start before"),
        ({"hour_deadlines": "calendar_days"}, "hour_deadlines"),
        ({"holidays_country": ""}, "holidays_country"),
    ],
)
def test_bad_rules_are_refused(changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"holidays_country": "KZ", "time_zone": "Asia/Almaty", **changes}
    with pytest.raises(ValueError, match=message):
        CalendarRules(**values)  # type: ignore[arg-type]


def test_unknown_zone_or_country_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        WorkingCalendar(CalendarRules(holidays_country="KZ", time_zone="Asia/Nowhere"))
    with pytest.raises(ValueError, match="no country"):
        WorkingCalendar(CalendarRules(holidays_country="XX", time_zone="Asia/Almaty"))


# Rules from a pack


def test_rules_from_pack() -> None:
    rules = rules_from_pack(
        {
            "holidays_country": "UZ",
            "weekend": ["sunday"],
            "working_hours": {"start": "08:30", "end": "17:30"},
            "hour_deadlines": "continuous",
            "extra_days_off": [{"date": date(2026, 1, 3), "reason": {"en": "Decree"}}],
            "extra_working_days": [{"date": "2026-06-07", "reason": {"en": "Decree"}}],
            "removed_holidays": [],
        },
        "Asia/Tashkent",
    )
    assert rules == CalendarRules(
        holidays_country="UZ",
        time_zone="Asia/Tashkent",
        weekend=frozenset({6}),
        extra_days_off=frozenset({date(2026, 1, 3)}),
        extra_working_days=frozenset({date(2026, 6, 7)}),
        working_hours=(time(8, 30), time(17, 30)),
        hour_deadlines="continuous",
    )


def test_rules_from_pack_defaults() -> None:
    assert rules_from_pack({"holidays_country": "KZ"}, "Asia/Almaty") == CalendarRules(
        holidays_country="KZ", time_zone="Asia/Almaty"
    )


@pytest.mark.parametrize(
    ("calendar", "time_zone", "message"),
    [
        ({}, "Asia/Almaty", "holidays_country"),
        ({"holidays_country": "XX"}, "Asia/Almaty", "no country"),
        ({"holidays_country": "KZ"}, "Mars/Olympus", "time zone"),
        ({"holidays_country": "KZ", "weekend": ["caturday"]}, "Asia/Almaty", "caturday"),
        ({"holidays_country": "KZ", "weekend": "sunday"}, "Asia/Almaty", "list of weekday"),
        (
            {"holidays_country": "KZ", "working_hours": {"start": "09:00", "end": 1080}},
            "Asia/Almaty",
            "quoted",
        ),
        (
            {"holidays_country": "KZ", "working_hours": {"start": "nine", "end": "18:00"}},
            "Asia/Almaty",
            "'nine' is not a time",
        ),
        ({"holidays_country": "KZ", "working_hours": "9-18"}, "Asia/Almaty", "working_hours"),
        ({"holidays_country": "KZ", "hour_deadlines": "wall"}, "Asia/Almaty", "hour_deadlines"),
        (
            {"holidays_country": "KZ", "extra_days_off": [{"date": "2026-02-30"}]},
            "Asia/Almaty",
            "extra_days_off: entry 1: '2026-02-30' is not a date",
        ),
        (
            {"holidays_country": "KZ", "removed_holidays": ["2026-08-30"]},
            "Asia/Almaty",
            "removed_holidays: entry 1 must be",
        ),
        (
            {"holidays_country": "KZ", "extra_working_days": [{"date": "2026-06-06", "why": "x"}]},
            "Asia/Almaty",
            "unknown keys why",
        ),
        (
            {
                "holidays_country": "KZ",
                "extra_days_off": [{"date": datetime(2026, 1, 3, 10, 0)}],
            },
            "Asia/Almaty",
            "is not a date",
        ),
        (
            {"holidays_country": "KZ", "extra_day_off": []},
            "Asia/Almaty",
            "unknown keys extra_day_off",
        ),
    ],
)
def test_rules_from_pack_refuses_bad_values(
    calendar: dict[str, object], time_zone: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rules_from_pack(calendar, time_zone)


# Properties over 2025-2027


@PROPERTY
@given(calendar=calendars, start=moments, amount=amounts)
def test_add_and_between_are_inverse(
    calendar: WorkingCalendar, start: datetime, amount: timedelta
) -> None:
    end = calendar.add_working_time(start, amount)
    assert end >= start
    assert calendar.working_time_between(start, end) == amount
    assert calendar.working_time_between(end, start) == -amount


@PROPERTY
@given(calendar=calendars, start=moments, later=moments)
def test_between_then_add_finds_the_earliest_instant(
    calendar: WorkingCalendar, start: datetime, later: datetime
) -> None:
    worked = calendar.working_time_between(start, later)
    if later >= start:
        reached = calendar.add_working_time(start, worked)
        assert start <= reached <= later
        assert calendar.working_time_between(reached, later) == timedelta(0)
    else:
        assert worked <= timedelta(0)


@PROPERTY
@given(calendar=calendars, start=moments, a=amounts, b=amounts)
def test_add_working_time_is_monotonic(
    calendar: WorkingCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    smaller, larger = sorted((a, b))
    assert calendar.add_working_time(start, smaller) <= calendar.add_working_time(start, larger)


@PROPERTY
@given(calendar=calendars, start=moments, amount=amounts)
def test_add_working_time_lands_in_working_hours(
    calendar: WorkingCalendar, start: datetime, amount: timedelta
) -> None:
    end = calendar.add_working_time(start, amount)
    assert end.tzinfo == calendar.zone
    if amount:
        assert is_inside_working_hours(calendar, end)
    else:
        assert end == start


@PROPERTY
@given(calendar=calendars, start=moments, a=amounts, b=amounts)
def test_add_working_time_is_additive(
    calendar: WorkingCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    stepwise = calendar.add_working_time(calendar.add_working_time(start, a), b)
    assert stepwise == calendar.add_working_time(start, a + b)


@PROPERTY
@given(calendar=calendars, start=moments, days=st.integers(min_value=1, max_value=60))
def test_add_working_days_lands_at_close_of_the_nth_working_day(
    calendar: WorkingCalendar, start: datetime, days: int
) -> None:
    due = calendar.add_working_days(start, days)
    assert due.tzinfo == calendar.zone
    assert calendar.is_working_day(due.date())
    assert due.time() == calendar.rules.working_hours[1]
    first_counted = start.astimezone(calendar.zone).date() + timedelta(days=1)
    assert calendar.working_days_in(first_counted, due.date()) == days
    assert due == calendar.deadline(start, days, DeadlineUnit.WORKING_DAYS)
