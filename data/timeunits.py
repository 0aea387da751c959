"""Calendar arithmetic on UTC datetimes in MongoDB's time units ($dateAdd rules)."""

from __future__ import annotations

import calendar
import datetime as dt

_FIXED_UNITS = {
    "millisecond": dt.timedelta(milliseconds=1),
    "second": dt.timedelta(seconds=1),
    "minute": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(weeks=1),
}
_MONTH_UNITS = {"month": 1, "quarter": 3, "year": 12}
TIME_UNITS = frozenset(_FIXED_UNITS) | frozenset(_MONTH_UNITS)


def add_units(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """$dateAdd semantics: calendar months clamp to the month's last day."""
    if unit in _FIXED_UNITS:
        return moment + amount * _FIXED_UNITS[unit]
    if unit not in _MONTH_UNITS:
        raise ValueError(f"unknown time unit value: {unit}")
    months = moment.year * 12 + moment.month - 1 + amount * _MONTH_UNITS[unit]
    year, month = divmod(months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)
