"""Periods in the user's time zone: bounds, buckets and comparison periods.

Everything here is calendar arithmetic with `zoneinfo`, so days are 23 or 25 hours
long across DST changes and months have their own lengths. A period is a half-open
range of UTC instants [start, end) plus the local dates it was asked as.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from dataclasses import dataclass, replace

from data.errors import Unprocessable
from data.kpi.params import DEFAULT_DAYS, MAX_BUCKETS, KpiQuery

HOUR = dt.timedelta(hours=1)
SHIFT_DAYS = {"previous_day": 1, "wow": 7}
SHIFT_MONTHS = {"mom": 1, "yoy": 12}


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; first/last are the local dates (None for instants)."""

    start: dt.datetime
    end: dt.datetime
    first: dt.date | None = None
    last: dt.date | None = None

    def document(self) -> dict:
        """The API's {from, to} (dates when asked as dates, else instants)."""
        if self.first is not None and self.last is not None:
            return {"from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def zone(name: str) -> dt.tzinfo:
    """The tzinfo of an IANA name (UTC as the fixed zone)."""
    return dt.UTC if name == "UTC" else zoneinfo.ZoneInfo(name)


def local_midnight(day: dt.date, tz: str) -> dt.datetime:
    """The UTC instant at which `day` starts in `tz`."""
    local = dt.datetime(day.year, day.month, day.day, tzinfo=zone(tz))
    return local.astimezone(dt.UTC)


def local_date(moment: dt.datetime, tz: str) -> dt.date:
    """The calendar date of an instant in `tz`."""
    return moment.astimezone(zone(tz)).date()


def floor_hour(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC hour holding an instant."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def date_period(first: dt.date, last: dt.date, tz: str) -> Period:
    """Whole local days first..last."""
    end = local_midnight(last + dt.timedelta(days=1), tz)
    return Period(local_midnight(first, tz), end, first, last)


def resolve_period(query: KpiQuery, data_last: dt.datetime | None) -> Period:
    """The requested period; without from/to the last 7 days up to the data's
    last day (today when there is no data)."""
    start, end, tz = query.start, query.end, query.tz
    if isinstance(start, dt.datetime) or isinstance(end, dt.datetime):
        return _instant_period(start, end, tz, data_last)
    anchor = local_date(data_last or dt.datetime.now(dt.UTC), tz)
    span = dt.timedelta(days=DEFAULT_DAYS - 1)
    last = end or (start + span if start else anchor)
    first = start or last - span
    return date_period(first, last, tz)


def _instant_period(start, end, tz: str, data_last) -> Period:
    as_instant = lambda v: v if isinstance(v, dt.datetime) else local_midnight(v, tz)  # noqa: E731
    if end is None:
        end_at = floor_hour(data_last or dt.datetime.now(dt.UTC)) + HOUR
    elif isinstance(end, dt.date) and not isinstance(end, dt.datetime):
        end_at = local_midnight(end + dt.timedelta(days=1), tz)
    else:
        end_at = floor_hour(end) + HOUR
    start_at = (
        floor_hour(as_instant(start)) if start else end_at - DEFAULT_DAYS * 24 * HOUR
    )
    if start_at >= end_at:
        raise Unprocessable("The period is empty: to is before from.")
    return Period(start_at, end_at)


def shift_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return dt.date(
        year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1])
    )


def _whole_months(first: dt.date, last: dt.date) -> bool:
    following = last + dt.timedelta(days=1)
    return first.day == 1 and following.day == 1


def comparison_period(period: Period, compare: str, tz: str) -> Period | None:
    """The period a view compares with (None for compare=none)."""
    if compare == "none":
        return None
    # first and last are set together (a period asked as dates) or not at all.
    if period.first is None or period.last is None:
        return _shift_instants(period, compare)
    first, last = period.first, period.last
    if compare in SHIFT_MONTHS:
        months = SHIFT_MONTHS[compare]
        if _whole_months(first, last):
            following = last + dt.timedelta(days=1)
            shifted_last = shift_months(following, months) - dt.timedelta(days=1)
            return date_period(shift_months(first, months), shifted_last, tz)
        return date_period(shift_months(first, months), shift_months(last, months), tz)
    days = SHIFT_DAYS.get(compare, (last - first).days + 1)
    shift = dt.timedelta(days=days)
    return date_period(first - shift, last - shift, tz)


def _shift_instants(period: Period, compare: str) -> Period:
    if compare in SHIFT_MONTHS:
        months = SHIFT_MONTHS[compare]
        start = _shift_instant_months(period.start, months)
        return Period(start, start + (period.end - period.start))
    length = period.end - period.start
    shift = dt.timedelta(days=SHIFT_DAYS[compare]) if compare in SHIFT_DAYS else length
    return Period(period.start - shift, period.end - shift)


def _shift_instant_months(moment: dt.datetime, months: int) -> dt.datetime:
    day = shift_months(moment.date(), months)
    return moment.replace(year=day.year, month=day.month, day=day.day)


def like_for_like(
    current: Period, other: Period | None, data_end: dt.datetime | None, tz: str
) -> tuple[Period, Period | None, bool]:
    """Cut a current period that runs past the data (today until now) and its
    comparison at the same local wall-clock offset; True when cut."""
    if data_end is None or data_end >= current.end or data_end <= current.start:
        return current, other, False
    cut = replace(current, end=data_end)
    if other is None:
        return cut, None, True
    local = zone(tz)
    elapsed = data_end.astimezone(local).replace(
        tzinfo=None
    ) - current.start.astimezone(local).replace(tzinfo=None)
    other_start = other.start.astimezone(local).replace(tzinfo=None)
    other_end = (other_start + elapsed).replace(tzinfo=local).astimezone(dt.UTC)
    return cut, replace(other, end=min(other_end, other.end)), True


def bucket_starts(period: Period, granularity: str, tz: str) -> list[dt.datetime]:
    """UTC instants at which each local bucket overlapping the period starts
    (weeks start on Monday). 422 beyond MAX_BUCKETS."""
    estimate = (period.end - period.start) / {"hour": HOUR, "day": 24 * HOUR}.get(
        granularity, 24 * HOUR
    )
    if estimate > MAX_BUCKETS:
        raise Unprocessable(
            f"The view would have {int(estimate):,} {granularity} buckets, more than "
            f"the limit of {MAX_BUCKETS:,}. Choose a coarser granularity or a shorter "
            "period.",
            details={"limit": MAX_BUCKETS, "field": "granularity"},
        )
    if granularity == "hour":
        return _hours(period)
    return _calendar_buckets(period, granularity, tz)


def _hours(period: Period) -> list[dt.datetime]:
    starts, moment = [], floor_hour(period.start)
    while moment < period.end:
        starts.append(moment)
        moment += HOUR
    return starts


def truncate_local(moment: dt.datetime, granularity: str, tz: str) -> dt.date:
    """The local date starting the day/week/month bucket holding an instant."""
    day = local_date(moment, tz)
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def _next_bucket(day: dt.date, granularity: str) -> dt.date:
    if granularity == "week":
        return day + dt.timedelta(days=7)
    if granularity == "month":
        return shift_months(day, -1)
    return day + dt.timedelta(days=1)


def _calendar_buckets(period: Period, granularity: str, tz: str) -> list[dt.datetime]:
    day = truncate_local(period.start, granularity, tz)
    starts = []
    while (moment := local_midnight(day, tz)) < period.end:
        starts.append(moment)
        day = _next_bucket(day, granularity)
    return starts


def hour_included(moment: dt.datetime, query: KpiQuery) -> bool:
    """Whether a UTC hour bucket falls in the business hours and weekdays asked."""
    local = moment.astimezone(zone(query.tz))
    if query.days and local.isoweekday() not in query.days:
        return False
    if query.hours:
        start, end = query.hours
        hour = local.hour
        return start <= hour < end if start < end else hour >= start or hour < end
    return True
