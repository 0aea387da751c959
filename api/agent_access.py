"""The agent data reads: every read an agent token makes (REST or MCP) goes through
exactly one function here per kind of data, which applies the token's scope.

- datasets: names, measures, analysable metrics, dimensions and the date span of
  the token's datasets (never a column flagged personal or identifier, never a
  file name, never a measure's definition, which names columns);
- KPI views (`kpi_view`): the token's datasets and measures, its dimensions for
  filters and breakdowns, and a period no longer than maxWindowDays (none given:
  the last maxWindowDays up to the data's end);
- analysis views (`analytics_view`): the same, over buckets only (never the raw
  rows), for metrics the token's measures are computed from.

Scope problems are Forbidden (403) naming the limit; bad values stay the views'
own 400s. Nothing here returns records, identifiers or personal values: the views
are aggregates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from flask import g, has_request_context

from auth.agent_tokens import AgentToken
from data.analytics import get_view, load_dataset, params_from_query
from data.analytics.narrative import recommended_actions
from data.analytics.params import parse_moment
from data.errors import Conflict, Forbidden, NotFound
from data.kpi.params import MAX_MEASURES, parse_kpi_query
from data.kpi.periods import HOUR, resolve_period
from data.kpi.service import data_bounds, get_kpi, kpi_meta
from data.services import Services

DAY = dt.timedelta(days=1)
# Measure kinds computed from a metric column (an analysis view's metric).
METRIC_KINDS = frozenset({"sum", "mean", "min", "max"})
MEASURE_FIELDS = ("name", "label", "kind", "format", "higherIsBetter")


def _multi(raw: Mapping) -> dict[str, list]:
    """A raw query (Flask MultiDict or dict) as {name: [values]}."""
    if hasattr(raw, "getlist"):
        return {key: raw.getlist(key) for key in raw}
    return {
        key: list(value) if isinstance(value, list | tuple) else [value]
        for key, value in raw.items()
    }


def _span_days(start: dt.datetime, end: dt.datetime) -> int:
    """Whole days a half-open UTC range touches (an hour less or more across a
    DST change still counts as the same days)."""
    return max(1, math.ceil((end - start - HOUR) / DAY))


def note_suppressed(view: dict) -> None:
    """Keep how many cells disclosure control hid, for this call's audit event."""
    hidden = (view.get("disclosure") or {}).get("suppressedCells")
    if has_request_context() and isinstance(hidden, int):
        g.agent_suppressed_cells = g.get("agent_suppressed_cells", 0) + hidden


# ------------------------------------------------------------------ datasets


def allowed_measures(token: AgentToken, dataset: dict) -> list[dict]:
    """The dataset's measures this token may read, in the dataset's order."""
    return [
        measure
        for measure in dataset.get("measures") or []
        if token.measures is None or measure["name"] in token.measures
    ]


def allowed_dimensions(token: AgentToken, dataset: dict) -> list[str]:
    """The dataset's dimensions this token may filter and break down by."""
    return [
        name
        for name in dataset.get("dimensionColumns") or []
        if token.dimensions is None or name in token.dimensions
    ]


def allowed_metrics(token: AgentToken, dataset: dict) -> list[str]:
    """Metric columns this token may analyse: all of them for a token with every
    measure, else those its measures sum, average or take extremes of."""
    metrics = list(dataset.get("metricColumns") or [])
    if token.measures is None:
        return metrics
    used = {
        m.get("column") for m in allowed_measures(token, dataset)
        if m["kind"] in METRIC_KINDS
    }  # fmt: skip
    return [name for name in metrics if name in used]


def list_datasets(services: Services, token: AgentToken) -> list[dict]:
    """What the token may read, per dataset: name, measures, metrics, dimensions
    (with their values) and the date span of the data."""
    described: list[dict] = []
    for dataset_id in token.datasets:
        try:
            meta = kpi_meta(services, token.user_id, dataset_id)
            dataset = load_dataset(services, token.user_id, dataset_id)
        except (NotFound, Conflict) as error:  # deleted, or being processed
            described.append({"datasetId": dataset_id, "unavailable": error.message})
            continue
        first, end = data_bounds(dataset)
        dimensions = allowed_dimensions(token, dataset)
        described.append({
            "datasetId": dataset_id,
            "name": meta["name"],
            "version": meta["version"],
            "measures": [
                {key: m[key] for key in MEASURE_FIELDS if key in m}
                for m in allowed_measures(token, dataset)
            ],
            "metrics": allowed_metrics(token, dataset),
            "dimensions": {name: meta["dimensions"].get(name, [])
                           for name in dimensions},
            "dateSpan": {"from": first.isoformat() if first else None,
                         "to": end.isoformat() if end else None},
            "maxWindowDays": token.max_window_days,
        })  # fmt: skip
    return described


# ------------------------------------------------------------------ KPI views


def _scoped_kpi_query(token: AgentToken, dataset: dict, raw: Mapping) -> dict:
    """The raw KPI query with the token's scope applied (403 beyond it)."""
    query = _multi(raw)
    parsed = parse_kpi_query(query)
    if parsed.measures:
        token.require_measures(list(parsed.measures))
    elif token.measures is not None:
        names = [m["name"] for m in allowed_measures(token, dataset)]
        query["measures"] = [",".join(names[:MAX_MEASURES])]
    token.require_dimensions(list(parsed.filters), "filter")
    if parsed.breakdown:
        token.require_dimensions([parsed.breakdown], "breakdown")
    _first, end = data_bounds(dataset)
    if parsed.start is None and parsed.end is None:
        last = (end - HOUR) if end else dt.datetime.now(dt.UTC)
        last_day = last.astimezone(dt.UTC).date()
        query["to"] = [last_day.isoformat()]
        query["from"] = [(last_day - (token.max_window_days - 1) * DAY).isoformat()]
        query.setdefault("tz", ["UTC"])
        parsed = parse_kpi_query(query)
    period = resolve_period(parsed, (end - HOUR) if end else None)
    if period.first is not None and period.last is not None:
        token.require_window((period.last - period.first).days + 1)
    else:
        token.require_window(_span_days(period.start, period.end))
    return query


def kpi_view(
    services: Services, token: AgentToken, dataset_id: str, raw: Mapping
) -> dict:
    """The KPI view an agent may read (see the module docstring)."""
    token.require_dataset(dataset_id)
    dataset = load_dataset(services, token.user_id, dataset_id)
    query = _scoped_kpi_query(token, dataset, raw)
    # Disclosure control for agents is wired here, and only here.
    view = get_kpi(services, token.user_id, dataset_id, query, for_agent=True)
    note_suppressed(view)
    return view


# ------------------------------------------------------------ analysis views


def _analytics_window(token: AgentToken, dataset: dict, raw: dict) -> None:
    """Fill a missing window (the last maxWindowDays) and refuse a longer one."""
    first, end = data_bounds(dataset)
    start = parse_moment(raw.get("from"), "from")
    stop = parse_moment(raw.get("to"), "to")
    if start is None and stop is None:
        last_day = ((end - HOUR) if end else dt.datetime.now(dt.UTC)).date()
        raw["to"] = last_day.isoformat()
        raw["from"] = (last_day - (token.max_window_days - 1) * DAY).isoformat()
        return
    lower = start[0] if start else first
    upper = (stop[0] + DAY if stop[1] else stop[0]) if stop else end
    if lower is None or upper is None:
        return  # no data: nothing to read
    token.require_window(_span_days(lower, max(upper, lower + HOUR)))


def _scoped_analytics_params(token: AgentToken, dataset: dict, query: Mapping):
    raw = params_from_query(query) if hasattr(query, "getlist") else dict(query)
    raw.pop("version", None)
    if raw.get("granularity") == "raw":
        raise Forbidden(
            "An agent token reads aggregated buckets only (hour, day, week or "
            "month), never raw rows.",
            details={"field": "granularity"},
        )
    metrics = allowed_metrics(token, dataset)
    metric = raw.get("metric") or (metrics[0] if metrics else None)
    if metric not in metrics:
        raise Forbidden(
            "This agent token does not cover that metric; it covers: "
            f"{', '.join(metrics) or '(none)'}.",
            details={"field": "metric", "choices": metrics},
        )
    raw["metric"] = metric
    filters = raw.get("filters")
    if isinstance(filters, dict):
        token.require_dimensions([str(name) for name in filters], "filters")
    elif filters is not None:
        token.require_dimensions(["(filters)"], "filters")
    _analytics_window(token, dataset, raw)
    return raw


def analytics_view(
    services: Services, token: AgentToken, dataset_id: str, query: Mapping
) -> dict:
    """The analysis view an agent may read (see the module docstring)."""
    token.require_dataset(dataset_id)
    dataset = load_dataset(services, token.user_id, dataset_id)
    raw = _scoped_analytics_params(token, dataset, query)
    # Disclosure control for agents is wired here, and only here.
    view = get_view(services, token.user_id, dataset_id, raw, for_agent=True)
    note_suppressed(view)
    allowed = set(allowed_dimensions(token, dataset))
    header = view["dataset"]
    return {**view, "dataset": {
        **header,
        "metrics": allowed_metrics(token, dataset),
        "dimensions": {name: values
                       for name, values in (header.get("dimensions") or {}).items()
                       if name in allowed},
    }}  # fmt: skip


def insights_view(
    services: Services, token: AgentToken, dataset_id: str, query: Mapping
) -> dict:
    """Insights and recommended actions of the analysis view an agent may read."""
    view = analytics_view(services, token, dataset_id, query)
    params = view["params"]
    return {
        "dataset": {"id": dataset_id, "name": view["dataset"].get("name")},
        "params": params,
        "insights": view["insights"],
        "recommendedActions": recommended_actions(
            params["metric"], view["episodes"], params["granularity"]
        ),
        "notes": view["notes"],
        "disclosure": view.get("disclosure"),
    }
