"""Mute timings (recurring, in a time zone) and silences (ad hoc, with an end).

A muted notification is recorded but not sent; the rule's state still changes.
Local time comes from zoneinfo, so "0-6 in Europe/Berlin" means 00:00-06:00 on
the wall clock on both sides of a DST change (the UTC hours move)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from data.alerts.rules import WEEKDAYS, MuteTiming


def in_timing(timing: MuteTiming, moment: dt.datetime) -> bool:
    """True when `moment` falls inside the timing (weekday and hours, local)."""
    local = moment.astimezone(ZoneInfo(timing.tz))
    start, end = timing.hour_range()
    hour = local.hour
    if start < end:
        inside, weekday = start <= hour < end, local.weekday()
    else:  # over midnight: the early hours belong to the evening before
        inside = hour >= start or hour < end
        weekday = local.weekday() if hour >= start else (local.weekday() - 1) % 7
    return inside and WEEKDAYS[weekday] in timing.days


def muted(timings: list[MuteTiming], moment: dt.datetime) -> bool:
    """True when any mute timing covers `moment`."""
    return any(in_timing(timing, moment) for timing in timings)


def silenced(silenced_until: dt.datetime | None, moment: dt.datetime) -> bool:
    """True while an ad hoc silence lasts."""
    return silenced_until is not None and moment < silenced_until
