"""The working calendar of a country: working days, working hours and deadlines.

Pure Python (no Django). A day is a working day unless it falls on the weekend, is a
public holiday or a day off moved by the government (the `holidays` package knows both
countries' holidays and substituted days), or is a decree day off the pack adds. Weekend
days made working by decree count as working days.

Working time accrues only inside the working hours of working days; it is the axis on
which working-day and (by default) hour deadlines are counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOUR_DEADLINE_RULES = ("working_hours", "continuous")
EXTRA_DAY_OFF_NAME = "Day off by decree"

_ONE_DAY = timedelta(days=1)
# Two years: no real calendar has a longer run of days off; a longer search means rules
# that leave no working day at all, which is an error, not an endless loop.
_SEARCH_LIMIT_DAYS = 2 * 366
_PACK_KEYS = frozenset(
    {
        "holidays_country",
        "weekend",
        "working_hours",
        "hour_deadlines",
        "extra_days_off",
        "extra_working_days",
        "removed_holidays",
    }
)


class DeadlineUnit(StrEnum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"
    MINUTES = "minutes"


@dataclass(frozen=True)
class CalendarRules:
    """What a country pack says about its calendar; see `rules_from_pack`."""

    holidays_country: str
    time_zone: str
    weekend: frozenset[int] = frozenset({5, 6})
    extra_days_off: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()
    removed_holidays: frozenset[date] = frozenset()
    working_hours: tuple[time, time] = (time(9), time(18))
    hour_deadlines: str = "working_hours"

    def __post_init__(self) -> None:
        for name in ("weekend", "extra_days_off", "extra_working_days", "removed_holidays"):
            object.__setattr__(self, name, frozenset(getattr(self, name)))
        if not self.holidays_country:
            raise ValueError("holidays_country is required")
        if any(not 0 <= day <= 6 for day in self.weekend):
            raise ValueError(
                f"weekend days are numbers 0 (Monday) to 6, got {sorted(self.weekend)}"
            )
        if len(self.weekend) == 7:
            raise ValueError("the weekend cannot take the whole week")
        start, end = self.working_hours
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("working hours are local times, without a time zone")
        if not start < end:
            raise ValueError(f"working hours must start before they end, got {start}-{end}")
        if self.hour_deadlines not in HOUR_DEADLINE_RULES:
            raise ValueError(
                f"hour_deadlines must be one of {', '.join(HOUR_DEADLINE_RULES)}, "
                f"got {self.hour_deadlines!r}"
            )


class _Year(NamedTuple):
    days_off: frozenset[date]  # every day off of the year, weekend or not
    worked_weekend_days: frozenset[date]
    names: dict[date, str]


class WorkingCalendar:
    """Working days and working time of one country, in its time zone.

    Every datetime taken must be timezone-aware (ValueError otherwise); every datetime
    returned is in the calendar's zone. Days off are computed once per year and cached.
    """

    def __init__(self, rules: CalendarRules) -> None:
        self.rules = rules
        try:
            self.zone = ZoneInfo(rules.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {rules.time_zone!r}") from error
        try:
            holidays.country_holidays(rules.holidays_country, years=())
        except NotImplementedError as error:
            raise ValueError(
                f"the holidays package has no country {rules.holidays_country!r}"
            ) from error
        self._years: dict[int, _Year] = {}

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.rules!r})"

    # Days

    def is_working_day(self, day: date) -> bool:
        year = self._year(day.year)
        if day in year.days_off:
            return False
        return day.weekday() not in self.rules.weekend or day in year.worked_weekend_days

    def days_off(self, year: int) -> dict[date, str]:
        """The year's days off outside the weekend, by date, with their names.

        Holidays that fall on a weekday, days off moved onto weekdays (observed holidays,
        substituted days) and decree days off; holidays falling on the weekend are left out.
        """
        calendar_year = self._year(year)
        return {
            day: calendar_year.names.get(day, EXTRA_DAY_OFF_NAME)
            for day in sorted(calendar_year.days_off)
            if day.weekday() not in self.rules.weekend
        }

    def working_days_in(self, start: date, end: date) -> int:
        """Working days from `start` to `end`, both included; 0 when end < start."""
        count = 0
        day = start
        while day <= end:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        for offset in range(1, _SEARCH_LIMIT_DAYS + 1):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_SEARCH_LIMIT_DAYS} days after {day}")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The end of the working hours of the `days`-th working day after start's date.

        The day of `start` itself never counts, whatever the hour: a Saturday submission
        counts from Monday.
        """
        if days < 1:
            raise ValueError(f"a working-day count must be at least 1, got {days}")
        day = self._local(start).date()
        for _ in range(days):
            day = self.next_working_day(day)
        return datetime.combine(day, self.rules.working_hours[1], tzinfo=self.zone)

    # Working time

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time inside [a, b]; the negative of (b, a) when b is before a."""
        start, end = self._utc(a), self._utc(b)
        if end < start:
            return -self.working_time_between(b, a)
        total = timedelta(0)
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._working_span(day)
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta(0):
                    total += overlap
            day += _ONE_DAY
        return total

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant t >= start with working_time_between(start, t) == amount.

        An amount that runs out exactly at the end of a working day ends there (18:00),
        not the next morning. A zero amount returns start.
        """
        if amount < timedelta(0):
            raise ValueError(f"working time to add must not be negative, got {amount}")
        moment = self._utc(start)
        left = amount
        if not left:
            return moment.astimezone(self.zone)
        day = moment.astimezone(self.zone).date()
        idle_days = 0
        while idle_days <= _SEARCH_LIMIT_DAYS:
            idle_days += 1
            if self.is_working_day(day):
                opens, closes = self._working_span(day)
                moment = max(moment, opens)
                if moment < closes:
                    if left <= closes - moment:
                        return (moment + left).astimezone(self.zone)
                    left -= closes - moment
                    idle_days = 0
            day += _ONE_DAY
        raise ValueError(f"no working day within {_SEARCH_LIMIT_DAYS} days after {day}")

    def deadline(self, start: datetime, value: int, unit: DeadlineUnit | str) -> datetime:
        """The deadline of a service standard's `value` `unit`, counted from `start`.

        Working days: `add_working_days`. Hours and minutes: working time from `start`,
        or elapsed time when the pack says hour deadlines are continuous.
        """
        unit = _deadline_unit(unit)
        if value < 1:
            raise ValueError(f"a deadline must be at least 1 {unit}, got {value}")
        if unit is DeadlineUnit.WORKING_DAYS:
            return self.add_working_days(start, value)
        amount = timedelta(hours=value) if unit is DeadlineUnit.HOURS else timedelta(minutes=value)
        if self.rules.hour_deadlines == "continuous":
            return (self._utc(start) + amount).astimezone(self.zone)
        return self.add_working_time(start, amount)

    # Helpers

    def _local(self, moment: datetime) -> datetime:
        return self._utc(moment).astimezone(self.zone)

    @staticmethod
    def _utc(moment: datetime) -> datetime:
        # Arithmetic in UTC: Python subtracts two datetimes of one zone as wall-clock times.
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
        return moment.astimezone(UTC)

    def _working_span(self, day: date) -> tuple[datetime, datetime]:
        opens, closes = self.rules.working_hours
        return (
            datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC),
            datetime.combine(day, closes, tzinfo=self.zone).astimezone(UTC),
        )

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = self._build_year(year)
        return cached

    def _build_year(self, year: int) -> _Year:
        rules = self.rules
        # Neighbouring years too: a holiday at a year's edge may be observed across it.
        package = holidays.country_holidays(
            rules.holidays_country, years=range(max(year - 1, 1), min(year + 1, 9999) + 1)
        )
        names = {
            day: name
            for day, name in package.items()
            if day.year == year and day not in rules.removed_holidays
        }
        extra = {day for day in rules.extra_days_off if day.year == year}
        # The package's weekend workdays hold stray dates of other years (KZ: 28 Dec 2013).
        worked = {day for day in package.weekend_workdays if day.year == year}
        worked |= {day for day in rules.extra_working_days if day.year == year}
        return _Year(
            days_off=frozenset(names) | frozenset(extra),
            worked_weekend_days=frozenset(worked),
            names=names,
        )


def rules_from_pack(calendar: Mapping[str, object], time_zone: str) -> CalendarRules:
    """Calendar rules from the `calendar` mapping of a country pack (see docs/packs.md).

    Raises ValueError naming the first bad value.
    """
    if not isinstance(calendar, Mapping):
        raise ValueError("calendar must be a mapping")
    unknown = sorted(set(calendar) - _PACK_KEYS)
    if unknown:
        raise ValueError(f"calendar: unknown keys {', '.join(map(str, unknown))}")
    country = calendar.get("holidays_country")
    if not isinstance(country, str) or not country:
        raise ValueError("calendar: holidays_country must be a country code such as KZ")
    weekend = calendar.get("weekend", ["saturday", "sunday"])
    if not isinstance(weekend, list | tuple):
        raise ValueError("calendar: weekend must be a list of weekday names")
    weekend_days = frozenset(_weekday(name) for name in weekend)
    hour_deadlines = calendar.get("hour_deadlines", "working_hours")
    if hour_deadlines not in HOUR_DEADLINE_RULES:
        raise ValueError(
            f"calendar: hour_deadlines must be one of {', '.join(HOUR_DEADLINE_RULES)}, "
            f"got {hour_deadlines!r}"
        )
    try:
        rules = CalendarRules(
            holidays_country=country,
            time_zone=time_zone,
            weekend=weekend_days,
            extra_days_off=_dates(calendar, "extra_days_off"),
            extra_working_days=_dates(calendar, "extra_working_days"),
            removed_holidays=_dates(calendar, "removed_holidays"),
            working_hours=_working_hours(calendar.get("working_hours")),
            hour_deadlines=str(hour_deadlines),
        )
        WorkingCalendar(rules)  # checks the time zone and the country code
    except ValueError as error:
        raise ValueError(f"calendar: {error}") from None
    return rules


def _deadline_unit(unit: DeadlineUnit | str) -> DeadlineUnit:
    try:
        return DeadlineUnit(unit)
    except ValueError:
        choices = ", ".join(unit.value for unit in DeadlineUnit)
        raise ValueError(f"a deadline unit is one of {choices}, got {unit!r}") from None


def _weekday(name: object) -> int:
    if not isinstance(name, str) or name.lower() not in WEEKDAYS:
        raise ValueError(
            f"calendar: weekend: {name!r} is not a weekday name ({', '.join(WEEKDAYS)})"
        )
    return WEEKDAYS.index(name.lower())


def _working_hours(value: object) -> tuple[time, time]:
    if value is None:
        return CalendarRules.working_hours
    if not isinstance(value, Mapping) or set(value) != {"start", "end"}:
        raise ValueError('working_hours must be {start: "09:00", end: "18:00"}')
    return _time_of_day(value["start"], "start"), _time_of_day(value["end"], "end")


def _time_of_day(value: object, key: str) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int):
        # YAML 1.1 reads an unquoted 18:00 as the sexagesimal number 1080.
        raise ValueError(f'working_hours: {key}: write the time quoted, as "HH:MM" (got {value})')
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f'working_hours: {key}: {value!r} is not a time of day "HH:MM"')


def _dates(calendar: Mapping[str, object], key: str) -> frozenset[date]:
    entries = calendar.get(key) or []
    if not isinstance(entries, list | tuple):
        raise ValueError(f"{key} must be a list of {{date: YYYY-MM-DD, reason: ...}}")
    days = set()
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping) or "date" not in entry:
            raise ValueError(f"{key}: entry {position} must be {{date: YYYY-MM-DD, reason: ...}}")
        unexpected = set(entry) - {"date", "reason"}
        if unexpected:
            keys = ", ".join(sorted(map(str, unexpected)))
            raise ValueError(f"{key}: entry {position}: unknown keys {keys}")
        days.add(_date(entry["date"], f"{key}: entry {position}"))
    return frozenset(days)


def _date(value: object, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{where}: {value!r} is not a date YYYY-MM-DD")
