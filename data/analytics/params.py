"""Analysis parameters: parse, validate and normalise them (one canonical form)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping

from data.analytics import spec
from data.analytics.models import canonical
from data.errors import ValidationFailed

GRANULARITIES = spec.GRANULARITY.choices
AGGREGATIONS = spec.AGGREGATION.choices
METHODS = spec.METHOD.choices
DEFAULT_THRESHOLDS = spec.DEFAULT_THRESHOLDS
PARAMETER_NAMES = spec.keys()
# The defaults of the parameters that have one (the spec's, by key).
DEFAULTS = {p.key: p.default for p in spec.PARAMETERS if p.default is not None}


def _fail(field: str, message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


def _choice(raw: Mapping, field: str) -> str:
    parameter = spec.get(field)
    return _one_of(raw, field, parameter.choices, str(parameter.default))


def _one_of(raw: Mapping, field: str, choices: tuple[str, ...], default: str) -> str:
    value = raw.get(field)
    if value is None or value == "":
        return default
    if value not in choices:
        raise _fail(
            field,
            f"Unknown {field} {str(value)[:40]!r}. "
            f"Valid choices: {', '.join(choices)}.",
            choices=list(choices),
        )
    return value


def _number(raw: Mapping, field: str) -> float | None:
    low, high = _bounds(field)
    value = raw.get(field)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(field, f"{field} must be a number.") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _fail(field, f"{field} must be between {low:g} and {high:g}.")
    return number


def _integer(raw: Mapping, field: str) -> int | None:
    low, high = _bounds(field)
    value = raw.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise _fail(field, f"{field} must be a whole number.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _fail(field, f"{field} must be a whole number.") from None
    if not low <= number <= high:
        raise _fail(field, f"{field} must be between {low:g} and {high:g}.")
    return number


def _bounds(field: str) -> tuple[float, float]:
    parameter = spec.get(field)
    assert parameter.low is not None and parameter.high is not None
    return parameter.low, parameter.high


def _default(field: str):
    return spec.get(field).default


def parse_moment(value, field: str) -> tuple[dt.datetime, bool] | None:
    """An ISO date or datetime as aware UTC, and whether it was a bare date."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC), True
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(field, f"{field} must be an ISO date such as 2024-01-31.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC), False


def _canonical_moment(parsed: tuple[dt.datetime, bool] | None) -> str | None:
    if parsed is None:
        return None
    moment, is_date = parsed
    return moment.date().isoformat() if is_date else moment.isoformat()


def _metric(raw: Mapping, dataset: dict) -> str:
    metrics = list(dataset.get("metricColumns") or [])
    if not metrics:
        raise _fail("metric", "This dataset has no numeric metric to analyse.")
    return _one_of(raw, "metric", tuple(metrics), metrics[0])


def _filters(raw: Mapping, dataset: dict) -> dict[str, list[str]]:
    value = raw.get("filters") or {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _fail("filters", "filters must be a JSON object.") from None
    if not isinstance(value, dict):
        raise _fail("filters", "filters must map dimension names to lists of values.")
    dimensions = tuple(dataset.get("dimensionColumns") or [])
    filters = {}
    for name, values in value.items():
        if name not in dimensions:
            raise _fail(
                "filters",
                f"Unknown dimension {str(name)[:40]!r}. Valid choices: "
                f"{', '.join(dimensions) or '(none)'}.",
                choices=list(dimensions),
            )
        filters[name] = _filter_values(name, values)
    return {name: filters[name] for name in sorted(filters)}


def _filter_values(name: str, values) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not values:
        raise _fail("filters", f"The filter for {name!r} needs a list of values.")
    most = int(spec.get("filters").high or 0)
    if len(values) > most or not all(isinstance(v, str) for v in values):
        raise _fail(
            "filters", f"The filter for {name!r} takes up to {most} text values."
        )
    return sorted(set(values))


def _date_range(raw: Mapping) -> tuple[str | None, str | None]:
    start = parse_moment(raw.get("from"), "from")
    end = parse_moment(raw.get("to"), "to")
    if start and end and start[0] > end[0]:
        raise _fail("to", "to must not be before from.")
    return _canonical_moment(start), _canonical_moment(end)


def _threshold(raw: Mapping, method: str) -> float | None:
    requested = _number(raw, "threshold")
    if method not in spec.DEFAULT_THRESHOLDS:
        return None  # iqr uses k, gesd uses alpha
    return requested if requested is not None else spec.DEFAULT_THRESHOLDS[method]


def _refuse_unknown(raw: Mapping) -> None:
    names = spec.keys()
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise _fail(
            unknown[0],
            f"Unknown parameter {unknown[0][:40]!r}. Valid parameters: "
            f"{', '.join(names)}.",
            choices=list(names),
        )


def parse_params(raw: Mapping, dataset: dict) -> dict:
    """Validate raw parameters for a dataset and return the canonical params dict.

    Raises ValidationFailed (HTTP 400) naming the field and, for choices, listing
    the valid ones. Equal requests give equal dicts (and equal hashes)."""
    _refuse_unknown(raw)
    method = _choice(raw, "method")
    start, end = _date_range(raw)
    return canonical(
        {
            "metric": _metric(raw, dataset),
            "granularity": _choice(raw, "granularity"),
            "aggregation": _choice(raw, "aggregation"),
            "method": method,
            "threshold": _threshold(raw, method),
            "k": _number(raw, "k") or _default("k"),
            "alpha": _number(raw, "alpha") or _default("alpha"),
            "max_outliers": _integer(raw, "max_outliers") or _default("max_outliers"),
            "window": _integer(raw, "window") or _default("window"),
            "from": start,
            "to": end,
            "filters": _filters(raw, dataset),
        }
    )


def default_params(dataset: dict) -> dict:
    """The default view's parameters: first metric, daily sums, auto detection."""
    return parse_params({}, dataset)


def params_hash(params: dict) -> str:
    """A short stable hash of canonical params (part of cache keys and stored rows)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def params_from_query(query: Mapping) -> dict:
    """Raw params from a query string: `filter.<dimension>=value` (repeatable) or
    `filters=<json>`; other keys pass through as single strings."""
    raw: dict = {}
    filters: dict[str, list[str]] = {}
    for key in query:
        values = _query_values(query, key)
        if key.startswith("filter."):
            filters.setdefault(key[len("filter.") :], []).extend(values)
        elif values:
            raw[key] = values[-1]
    if filters:
        if "filters" in raw:
            raise _fail("filters", "Use either filters=<json> or filter.<name>=...")
        raw["filters"] = filters
    return raw


def _query_values(query: Mapping, key: str) -> list:
    if hasattr(query, "getlist"):
        return query.getlist(key)
    value = query[key]
    return list(value) if isinstance(value, list | tuple) else [value]
