"""Numbers formatted for people: thousands separators, sensible decimals, units."""

from __future__ import annotations

import math
from datetime import datetime

MISSING = "—"
PERCENT_UNITS = {"%"}
COMPACT_STEPS = ((1e12, "T"), (1e9, "B"), (1e6, "M"))


def _is_missing(value: float | int | None) -> bool:
    """True for None, NaN and infinities (nothing sensible to print)."""
    return value is None or not math.isfinite(float(value))


def sensible_decimals(value: float) -> int:
    """Decimals that show a value's precision without noise."""
    magnitude = abs(value)
    if float(value).is_integer() or magnitude >= 1_000:
        return 0
    if magnitude >= 1:
        return 2
    if magnitude == 0:
        return 0
    # Small numbers keep three significant digits (0.00123).
    return min(8, 2 - math.floor(math.log10(magnitude)))


def with_unit(text: str, unit: str | None, negative: bool = False) -> str:
    """Attach a unit: percent after the number, currency symbols before it."""
    sign = "−" if negative else ""
    if not unit:
        return f"{sign}{text}"
    if unit in PERCENT_UNITS:
        return f"{sign}{text}%"
    return f"{sign}{unit}{text}"


def format_number(
    value: float | int | None, unit: str | None = None, decimals: int | None = None
) -> str:
    """A readable number: `format_number(36685.714, "₹")` → "₹36,686"."""
    if value is None or _is_missing(value):
        return MISSING
    places = sensible_decimals(value) if decimals is None else decimals
    return with_unit(f"{abs(value):,.{places}f}", unit, negative=value < 0)


def format_compact(value: float | int | None, unit: str | None = None) -> str:
    """A short number for tight spaces: 1,234,567 → "1.23M"; below a million, full."""
    if value is None or _is_missing(value):
        return MISSING
    for step, suffix in COMPACT_STEPS:
        if abs(value) >= step:
            text = f"{abs(value) / step:,.2f}".rstrip("0").rstrip(".") + suffix
            return with_unit(text, unit, negative=value < 0)
    return format_number(value, unit)


def format_count(value: int | None) -> str:
    """A whole count with thousands separators."""
    if value is None or _is_missing(value):
        return MISSING
    return f"{int(value):,}"


def format_percent(value: float | None, signed: bool = True) -> str:
    """A percentage already expressed in percent (262.9 → "+262.9%")."""
    if value is None or _is_missing(value):
        return MISSING
    sign = "+" if signed and value > 0 else ("−" if value < 0 else "")
    return f"{sign}{abs(value):,.1f}%"


def axis_affixes(unit: str | None) -> dict:
    """Plotly axis `tickprefix`/`ticksuffix` for a unit."""
    if not unit:
        return {}
    if unit in PERCENT_UNITS:
        return {"ticksuffix": unit}
    return {"tickprefix": unit}


def format_timestamp(value: str | datetime | None, granularity: str = "day") -> str:
    """A bucket start for people: "2024-01-03", or with the time for hourly buckets."""
    if value is None or value == "":
        return MISSING
    moment = value if isinstance(value, datetime) else _parse_iso(value)
    if moment is None:
        return str(value)
    if granularity == "hour":
        return moment.strftime("%Y-%m-%d %H:%M")
    if granularity == "month":
        return moment.strftime("%b %Y")
    return moment.strftime("%Y-%m-%d")


def _parse_iso(text: str) -> datetime | None:
    """Parse an ISO 8601 string (with a trailing Z), or None."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
