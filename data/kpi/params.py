"""KPI view parameters: one spec table, one parser (`parse_kpi_query`).

`KPI_PARAMETERS` holds each parameter's name, choices or bounds, default and label;
the API's validation, its OpenAPI description and the page's controls all read it.
`parse_kpi_query` takes the raw query dict (a Flask MultiDict, or a page's query
dict) and returns one canonical `KpiQuery`; every bad value is a 400 naming the
field and the valid choices.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field

from data.errors import ValidationFailed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Parameter:
    """One KPI parameter: choices (or bounds), default and label."""

    name: str
    label: str
    choices: tuple[str, ...] = ()
    default: str | int | None = None
    low: int | None = None
    high: int | None = None
    description: str = ""


KPI_PARAMETERS: tuple[Parameter, ...] = (
    Parameter("measures", "Measures", description="Comma-separated measure names"),
    Parameter("granularity", "Granularity", ("hour", "day", "week", "month"), "day"),
    Parameter("from", "From", description="First day (date in tz) or an instant"),
    Parameter("to", "To", description="Last day, inclusive (date in tz) or an instant"),
    Parameter(
        "compare",
        "Compare with",
        ("none", "previous_period", "previous_day", "wow", "mom", "yoy"),
        "previous_period",
    ),
    Parameter("hours", "Business hours", description="Local hours, e.g. 9-17 or 22-6"),
    Parameter("days", "Weekdays", description="e.g. mon-fri or mon,wed,sat"),
    Parameter("tz", "Time zone", default="UTC", description="IANA time zone"),
    Parameter("breakdown", "Breakdown", description="A dimension"),
    Parameter("top", "Top values", default=5, low=1, high=50),
    Parameter("version", "Version", low=1, high=1_000_000),
)
SPEC = {parameter.name: parameter for parameter in KPI_PARAMETERS}
COMPARE_LABELS = {
    "none": "No comparison",
    "previous_period": "Previous period",
    "previous_day": "Previous day (D vs D-1)",
    "wow": "Week over week",
    "mom": "Month over month",
    "yoy": "Same period last year",
}
DEFAULT_DAYS = 7
MAX_MEASURES = 8
MAX_FILTER_VALUES = 100
# One KPI view reads at most this many series buckets (422 beyond).
MAX_BUCKETS = 5_000


@dataclass(frozen=True)
class KpiQuery:
    """A validated KPI request; dates are local calendar dates in `tz`."""

    measures: tuple[str, ...] = ()
    granularity: str = "day"
    start: dt.date | dt.datetime | None = None
    end: dt.date | dt.datetime | None = None
    compare: str = "previous_period"
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    hours: tuple[int, int] | None = None
    days: tuple[int, ...] | None = None  # ISO weekdays 1..7
    tz: str = "UTC"
    breakdown: str | None = None
    top: int = 5
    version: int | None = None

    def canonical(self) -> dict:
        """A JSON-ready form (cache keys, the API's `query` echo, URLs)."""
        return {
            "measures": list(self.measures),
            "granularity": self.granularity,
            "from": _iso(self.start),
            "to": _iso(self.end),
            "compare": self.compare,
            "filters": {k: list(v) for k, v in sorted(self.filters.items())},
            "hours": f"{self.hours[0]}-{self.hours[1]}" if self.hours else None,
            "days": _days_text(self.days),
            "tz": self.tz,
            "breakdown": self.breakdown,
            "top": self.top,
            "version": self.version,
        }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _days_text(days: tuple[int, ...] | None) -> str | None:
    return ",".join(WEEKDAYS[d - 1] for d in days) if days else None


def _fail(name: str, message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, details={"field": name, **details})


def _values(query: Mapping, key: str) -> list:
    if hasattr(query, "getlist"):
        return query.getlist(key)
    value = query[key]
    return list(value) if isinstance(value, list | tuple) else [value]


def _single(query: Mapping, name: str) -> str | None:
    if name not in query:
        return None
    values = [v for v in _values(query, name) if v not in (None, "")]
    return str(values[-1]).strip() if values else None


def _choice(query: Mapping, name: str) -> str:
    spec = SPEC[name]
    value = _single(query, name)
    if value is None:
        return str(spec.default)
    if value not in spec.choices:
        raise _fail(
            name,
            f"Unknown {name} {value[:40]!r}. Valid choices: {', '.join(spec.choices)}.",
            choices=list(spec.choices),
        )
    return value


def _integer(query: Mapping, name: str) -> int | None:
    spec = SPEC[name]
    value = _single(query, name)
    if value is None:
        return spec.default if isinstance(spec.default, int) else None
    low, high = spec.low, spec.high
    if low is None or high is None:
        raise ValueError(f"KPI parameter {name} has no bounds")
    if not value.isdigit() or not low <= int(value) <= high:
        raise _fail(name, f"{name} must be a whole number from {low} to {high}.")
    return int(value)


@functools.cache
def time_zones() -> frozenset[str]:
    """Every IANA zone name zoneinfo knows."""
    return frozenset(zoneinfo.available_timezones())


def _tz(query: Mapping) -> str:
    value = _single(query, "tz") or "UTC"
    if value not in time_zones() and value != "UTC":
        raise _fail(
            "tz",
            f"Unknown time zone {value[:40]!r}. Use an IANA name such as "
            "Europe/Berlin, America/New_York or UTC.",
        )
    return value


def _moment(query: Mapping, name: str):
    value = _single(query, name)
    if value is None:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(
            name, f"{name} must be a date such as 2024-01-31 or an instant with an "
            "offset such as 2024-01-31T09:00:00+01:00.",
        ) from None  # fmt: skip
    if moment.tzinfo is None:
        raise _fail(name, f"{name}: an instant needs an offset (Z or +01:00).")
    return moment.astimezone(dt.UTC)


def _hours(query: Mapping) -> tuple[int, int] | None:
    value = _single(query, "hours")
    if value is None:
        return None
    parts = value.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise _fail("hours", "hours must look like 9-17 (local hours, end excluded).")
    start, end = int(parts[0]), int(parts[1])
    if not (0 <= start <= 23 and 1 <= end <= 24) or start == end % 24:
        raise _fail("hours", "hours: start 0-23, end 1-24, and not equal.")
    return start, end


def _days(query: Mapping) -> tuple[int, ...] | None:
    value = _single(query, "days")
    if value is None:
        return None
    chosen: set[int] = set()
    for part in value.lower().split(","):
        ends = part.strip().split("-")
        if not all(end in WEEKDAYS for end in ends) or len(ends) > 2:
            raise _fail(
                "days",
                f"days: {part[:20]!r} is not a weekday or range; use "
                f"{', '.join(WEEKDAYS)} (e.g. mon-fri).",
                choices=list(WEEKDAYS),
            )
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        span = (
            range(first, last + 1)
            if first <= last
            else [*range(first, 7), *range(last + 1)]
        )
        chosen.update(day + 1 for day in span)
    return tuple(sorted(chosen))


def _filters(query: Mapping) -> dict[str, tuple[str, ...]]:
    filters: dict[str, tuple[str, ...]] = {}
    for key in query:
        if not str(key).startswith("filter."):
            continue
        values = [str(v) for raw in _values(query, key) for v in str(raw).split(",")]
        values = sorted({v for v in values if v != ""})
        if len(values) > MAX_FILTER_VALUES:
            raise _fail(key, f"{key} takes up to {MAX_FILTER_VALUES} values.")
        if values:
            filters[str(key)[len("filter.") :]] = tuple(values)
    return filters


def _measures(query: Mapping) -> tuple[str, ...]:
    value = _single(query, "measures")
    if value is None:
        return ()
    names = [name.strip() for name in value.split(",") if name.strip()]
    if len(names) > MAX_MEASURES:
        raise _fail("measures", f"At most {MAX_MEASURES} measures per view.")
    return tuple(dict.fromkeys(names))


def _refuse_unknown(query: Mapping) -> None:
    for key in query:
        if str(key) not in SPEC and not str(key).startswith("filter."):
            names = [*SPEC, "filter.<dimension>"]
            raise _fail(
                str(key),
                f"Unknown parameter {str(key)[:40]!r}. Valid parameters: "
                f"{', '.join(names)}.",
                choices=names,
            )


def parse_kpi_query(query: Mapping) -> KpiQuery:
    """Validate a raw query dict (names checked against the dataset later)."""
    _refuse_unknown(query)
    start, end = _moment(query, "from"), _moment(query, "to")
    comparable = start is not None and end is not None and type(start) is type(end)
    if comparable and start > end:
        raise _fail("to", "to must not be before from.")
    return KpiQuery(
        measures=_measures(query),
        granularity=_choice(query, "granularity"),
        start=start,
        end=end,
        compare=_choice(query, "compare"),
        filters=_filters(query),
        hours=_hours(query),
        days=_days(query),
        tz=_tz(query),
        breakdown=_single(query, "breakdown"),
        top=_integer(query, "top") or 5,
        version=_integer(query, "version"),
    )
