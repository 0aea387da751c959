"""The analysis view's state in the query string: parse, validate, serialise.

Query values are untrusted: anything invalid or stale falls back to its default and
produces a notice for the page to show, never an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import parse_qs, quote, urlencode

from data.analytics import spec
from data.analytics.spec import Parameter

# The same `filter.<dimension>=value` form as GET /api/analytics/{id}.
FILTER_PREFIX = "filter."
MAX_VALUE_LENGTH = spec.MAX_VALUE_LENGTH

# Every choice, bound and default comes from data.analytics.spec, read at call time
# (the service validates again with the same table; this keeps links tidy).
GRANULARITY, AGGREGATION, METHOD = spec.GRANULARITY, spec.AGGREGATION, spec.METHOD
THRESHOLD, K, ALPHA = spec.THRESHOLD, spec.K, spec.ALPHA
MAX_OUTLIERS, WINDOW = spec.MAX_OUTLIERS, spec.WINDOW
CHOICE_KEYS = tuple(p.key for p in spec.of_kind("choice"))
NUMBER_KEYS = tuple(p.key for p in spec.of_kind("number", "integer"))
# The order of keys in a serialised URL (stable, so equal views give equal links).
KEY_ORDER = ("metric", "version", *CHOICE_KEYS, *NUMBER_KEYS)


@dataclass(frozen=True)
class AnalysisState:
    """Everything that defines one analysis view; the URL holds all of it."""

    metric: str | None = None
    version: int | None = None
    granularity: str = GRANULARITY.default
    aggregation: str = AGGREGATION.default
    method: str = METHOD.default
    threshold: float | None = THRESHOLD.default
    k: float = K.default
    alpha: float = ALPHA.default
    max_outliers: int = MAX_OUTLIERS.default
    window: int = WINDOW.default
    date_from: date | None = None
    date_to: date | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    embed: bool = False


def _first(value: str | Sequence[str] | None) -> str | None:
    """The first value of a query parameter (repeated keys arrive as lists)."""
    if value is None or isinstance(value, str):
        return value
    return value[0] if value else None


def _all(value: str | Sequence[str] | None) -> list[str]:
    """Every value of a query parameter, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _shown(text: str) -> str:
    """A query value quoted for a notice, shortened so a hostile URL stays readable."""
    return text if len(text) <= 40 else text[:37] + "…"


def parse_choice(parameter: Parameter, raw: str | None, notices: list[str]) -> str:
    """A choice value, or its default with a notice."""
    default = str(parameter.default)
    if raw is None or raw == "":
        return default
    if raw in parameter.choices:
        return raw
    notices.append(
        f"Unknown {parameter.label} “{_shown(raw)}”; showing “{default}” instead "
        f"(choose one of {', '.join(parameter.choices)})."
    )
    return default


def parse_number(
    parameter: Parameter, raw: str | None, notices: list[str]
) -> float | int | None:
    """A number within bounds, or its default with a notice."""
    default = parameter.default
    assert not isinstance(default, str)
    if raw is None or raw == "":
        return default
    integer = parameter.kind == "integer"
    low, high = float(parameter.low or 0), float(parameter.high or 0)
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    valid = math.isfinite(value) and low <= value <= high
    if valid and integer and not value.is_integer():
        valid = False
    if valid:
        return int(value) if integer else value
    kind = "a whole number" if integer else "a number"
    fallback = "the default" if default is None else f"{default:g}"
    notices.append(
        f"The {parameter.label} “{_shown(raw)}” is not {kind} between {low:g} and "
        f"{high:g}; using {fallback} instead."
    )
    return default


def parse_date(label: str, raw: str | None, notices: list[str]) -> date | None:
    """A YYYY-MM-DD date, or None with a notice."""
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else _bad_date()
    except ValueError:
        notices.append(
            f"The {label} date “{_shown(raw)}” is not a date like 2024-01-31; ignored."
        )
        return None


def _bad_date() -> date:
    """Refuse the compact forms date.fromisoformat also accepts (20240131)."""
    raise ValueError("not YYYY-MM-DD")


def parse_version(raw: str | None, notices: list[str]) -> int | None:
    """A positive version number, or None (the latest) with a notice."""
    if raw is None or raw == "" or raw == "latest":
        return None
    if raw.isdigit() and 0 < int(raw) < 1_000_000:
        return int(raw)
    notices.append(f"The version “{_shown(raw)}” is not valid; showing the latest.")
    return None


def parse_metric(raw: str | None, notices: list[str]) -> str | None:
    """A metric name (checked against the dataset later by `reconcile`)."""
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_VALUE_LENGTH:
        notices.append("The metric name in the link is too long; ignored.")
        return None
    return raw


def parse_filters(query: Mapping, notices: list[str]) -> dict[str, tuple[str, ...]]:
    """Dimension filters from `filter.<dimension>=<value>` (repeat the key for
    several values)."""
    filters: dict[str, tuple[str, ...]] = {}
    for key, raw in query.items():
        if not key.startswith(FILTER_PREFIX) or len(key) == len(FILTER_PREFIX):
            continue
        dimension = key[len(FILTER_PREFIX) :]
        values = [v for v in _all(raw) if v and len(v) <= MAX_VALUE_LENGTH]
        if len(values) > int(spec.get("filters").high or 0):
            notices.append(
                f"Too many values for filter “{_shown(dimension)}”; ignored."
            )
            continue
        if values:
            # Sorted, as the service canonicalises them: equal views, equal links.
            filters[dimension] = tuple(sorted(set(values)))
    return filters


def parse_query(query: Mapping[str, str | Sequence[str]]) -> tuple[AnalysisState, list]:
    """Parse query parameters into a state plus notices for each value ignored."""
    notices: list[str] = []
    values: dict = {
        key: parse_choice(spec.get(key), _first(query.get(key)), notices)
        for key in CHOICE_KEYS
    }
    for key in NUMBER_KEYS:
        values[key] = parse_number(spec.get(key), _first(query.get(key)), notices)
    date_from = parse_date("start", _first(query.get("from")), notices)
    date_to = parse_date("end", _first(query.get("to")), notices)
    if date_from and date_to and date_from > date_to:
        notices.append("The start date is after the end date; showing all dates.")
        date_from = date_to = None
    state = AnalysisState(
        metric=parse_metric(_first(query.get("metric")), notices),
        version=parse_version(_first(query.get("version")), notices),
        date_from=date_from,
        date_to=date_to,
        filters=parse_filters(query, notices),
        embed=_first(query.get("embed")) in ("1", "true"),
        **values,
    )
    return state, notices


def parse_search(search: str | None) -> tuple[AnalysisState, list[str]]:
    """Parse a `?a=b&...` search string (as dcc.Location gives it)."""
    text = (search or "").lstrip("?")
    return parse_query(parse_qs(text, keep_blank_values=True))


def to_query(state: AnalysisState) -> list[tuple[str, str]]:
    """The state as ordered query pairs; every control is written out."""
    pairs: list[tuple[str, str]] = []
    for key in KEY_ORDER:
        value = getattr(state, key)
        if value is not None:
            pairs.append((key, _format_value(value)))
    if state.date_from:
        pairs.append(("from", state.date_from.isoformat()))
    if state.date_to:
        pairs.append(("to", state.date_to.isoformat()))
    for dimension in sorted(state.filters):
        pairs.extend(
            (FILTER_PREFIX + dimension, value) for value in state.filters[dimension]
        )
    if state.embed:
        pairs.append(("embed", "1"))
    return pairs


def _format_value(value: object) -> str:
    """Numbers without a trailing `.0`, so links stay short and stable."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def serialise(state: AnalysisState) -> str:
    """The search string for a state, starting with `?`."""
    return "?" + urlencode(to_query(state), quote_via=quote)


# What a share link may lock: every control, and each dimension's filter.
LOCKABLE = (*[key for key in KEY_ORDER if key != "version"], "from", "to")


def lockable_keys(dimensions) -> list[str]:
    """The parameters a share link of a dataset with these dimensions may lock."""
    return [*LOCKABLE, *(FILTER_PREFIX + name for name in dimensions or [])]


def to_params(state: AnalysisState) -> dict:
    """The analytics service's `params` (docs/contracts.md) for a state."""
    return {
        "metric": state.metric,
        "granularity": state.granularity,
        "aggregation": state.aggregation,
        "method": state.method,
        "threshold": state.threshold,
        "k": state.k,
        "alpha": state.alpha,
        "max_outliers": state.max_outliers,
        "window": state.window,
        "from": state.date_from.isoformat() if state.date_from else None,
        "to": state.date_to.isoformat() if state.date_to else None,
        "filters": {dim: list(values) for dim, values in state.filters.items()},
    }


def effective_threshold(state: AnalysisState) -> float | None:
    """The threshold the method will use (None for methods without one)."""
    if state.method not in spec.DEFAULT_THRESHOLDS:
        return None
    return state.threshold or spec.DEFAULT_THRESHOLDS[state.method]


def reconcile(
    state: AnalysisState, dataset: Mapping, versions: Sequence[int] = ()
) -> tuple[AnalysisState, list[str]]:
    """Check the state against the dataset: stale metrics, filters and versions."""
    notices: list[str] = []
    metrics = list(dataset.get("metrics") or [])
    metric = state.metric
    if metric not in metrics:
        if metric is not None:
            notices.append(
                f"This dataset has no metric “{_shown(metric)}”; showing "
                f"“{metrics[0] if metrics else '—'}”."
            )
        metric = metrics[0] if metrics else None
    version = state.version
    if version is not None and versions and version not in versions:
        notices.append(f"Version {version} does not exist; showing the latest.")
        version = None
    dimensions = dataset.get("dimensions") or {}
    filters = _reconcile_filters(state.filters, dimensions, notices)
    return replace(state, metric=metric, version=version, filters=filters), notices


def _reconcile_filters(
    filters: Mapping[str, Sequence[str]], dimensions, notices: list[str]
) -> dict[str, tuple[str, ...]]:
    """Keep filters on known dimensions (and known values, when the values are
    listed: `dimensions` is {name: [values]} or just the names); say what was
    dropped."""
    kept: dict[str, tuple[str, ...]] = {}
    for dimension, values in filters.items():
        if dimension not in dimensions:
            notices.append(f"Ignored a filter on unknown column “{_shown(dimension)}”.")
            continue
        valid = tuple(values)
        if isinstance(dimensions, Mapping):
            known = set(dimensions[dimension])
            valid = tuple(v for v in values if v in known)
        if len(valid) < len(values):
            notices.append(f"Ignored unknown values in the “{dimension}” filter.")
        if valid:
            kept[dimension] = valid
    return kept
