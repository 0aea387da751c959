"""The KPI page's state in the query string: one parser, one serialiser.

`parse_page_query(query)` is the one place that reads a KPI page's query dict
(issue 15 locks parameters on shared links through it). Values are untrusted: an
invalid one falls back to its default with a notice, never an error. The URL uses
the API's names (GET /api/kpi/{id}) plus `period`, a preset the page resolves
against the data's last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from data.errors import ValidationFailed
from data.kpi.params import SPEC, parse_kpi_query

PERIODS = {
    "last7": "Last 7 days",
    "weeks": "Week by week (12 weeks)",
    "months": "Month by month (6 months)",
    "custom": "Custom range",
}
PRESET_GRANULARITY = {"last7": "day", "weeks": "week", "months": "month"}
KEY_ORDER = (
    "period",
    "measures",
    "granularity",
    "from",
    "to",
    "compare",
    "hours",
    "days",
    "tz",
    "breakdown",
    "top",
    "version",
)


@dataclass(frozen=True)
class KpiPageState:
    """Everything that defines one KPI page view."""

    period: str = "last7"
    measures: tuple[str, ...] = ()
    granularity: str = "day"
    start: dt.date | None = None
    end: dt.date | None = None
    compare: str = "previous_period"
    hours: str | None = None
    days: str | None = None
    tz: str = "UTC"
    breakdown: str | None = None
    top: int = 5
    version: int | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _first(value) -> str | None:
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    return None if value in (None, "") else str(value)


def _period(query: Mapping, notices: list[str]) -> str:
    value = _first(query.get("period"))
    if value is None:
        return "custom" if query.get("from") or query.get("to") else "last7"
    if value not in PERIODS:
        notices.append(f"Unknown period {value[:40]!r}; showing the last 7 days.")
        return "last7"
    return value


def parse_page_query(query: Mapping) -> tuple[KpiPageState, list[str]]:
    """A page state from an untrusted query dict, and notices for what was dropped."""
    notices: list[str] = []
    period = _period(query, notices)
    raw = {k: v for k, v in query.items() if k != "period" and v not in (None, "", [])}
    parsed = _lenient(raw, notices)
    start = parsed.start if isinstance(parsed.start, dt.date) else None
    end = parsed.end if isinstance(parsed.end, dt.date) else None
    state = KpiPageState(
        period=period,
        measures=parsed.measures,
        granularity=parsed.granularity,
        start=start,
        end=end,
        compare=parsed.compare,
        hours=f"{parsed.hours[0]}-{parsed.hours[1]}" if parsed.hours else None,
        days=parsed.canonical()["days"],
        tz=parsed.tz,
        breakdown=parsed.breakdown,
        top=parsed.top,
        version=parsed.version,
        filters=dict(parsed.filters),
    )
    if period in PRESET_GRANULARITY:
        state = replace(state, granularity=PRESET_GRANULARITY[period])
    return state, notices


def _lenient(raw: dict, notices: list[str]):
    """parse_kpi_query, dropping each refused field (with its message) and retrying."""
    for _attempt in range(len(raw) + 1):
        try:
            return parse_kpi_query(raw)
        except ValidationFailed as error:
            name = error.details.get("field")
            notices.append(error.message)
            if name not in raw:
                name = "from" if "from" in raw else next(iter(raw))
            raw.pop(name, None)
            if name == "to":
                raw.pop("from", None)
    return parse_kpi_query({})


def to_query(state: KpiPageState) -> list[tuple[str, str]]:
    """Query pairs in a fixed order; defaults are left out (short, stable links)."""
    values = {
        "period": None if state.period == "last7" else state.period,
        "measures": ",".join(state.measures) or None,
        "granularity": state.granularity if state.period == "custom" else None,
        "from": state.start.isoformat()
        if state.start and state.period == "custom"
        else None,
        "to": state.end.isoformat() if state.end and state.period == "custom" else None,
        "compare": None if state.compare == SPEC["compare"].default else state.compare,
        "hours": state.hours,
        "days": state.days,
        "tz": None if state.tz == "UTC" else state.tz,
        "breakdown": state.breakdown,
        "top": None
        if state.top == SPEC["top"].default or not state.breakdown
        else str(state.top),
        "version": str(state.version) if state.version else None,
    }
    pairs = [(key, value) for key in KEY_ORDER if (value := values[key])]
    for name in sorted(state.filters):
        if state.filters[name]:
            pairs.append((f"filter.{name}", ",".join(state.filters[name])))
    return pairs


def serialise(state: KpiPageState) -> str:
    """The `?query` of a state ('' for the default view)."""
    pairs = to_query(state)
    return "?" + urlencode(pairs, safe=",") if pairs else ""


def with_dates(state: KpiPageState, last_day: dt.date) -> tuple[dt.date, dt.date]:
    """The period's first and last day: presets end on the data's last day."""
    if state.period == "custom" and state.start and state.end:
        return state.start, state.end
    if state.period == "weeks":
        monday = last_day - dt.timedelta(days=last_day.weekday())
        return monday - dt.timedelta(weeks=11), last_day
    if state.period == "months":
        month = last_day.replace(day=1)
        for _ in range(5):
            month = (month - dt.timedelta(days=1)).replace(day=1)
        return month, last_day
    end = state.end or last_day
    return state.start or end - dt.timedelta(days=6), end


def api_query(state: KpiPageState, last_day: dt.date) -> dict:
    """The GET /api/kpi query for a state (the page and the API share the service)."""
    first, last = with_dates(state, last_day)
    query = dict(to_query(replace(state, period="custom", start=first, end=last)))
    query.pop("period", None)
    query.setdefault("granularity", state.granularity)
    query["compare"] = state.compare
    return query
