"""The KPI view: measures over a period, its comparison, series and breakdown.

Which path serves what (README "KPI portal"): values are read from the KPI
roll-ups written at ingest (UTC hours and days, per slice), by one `aggregate` per
period and one per breakdown. Counts, sums, means and extremes are exact. Distinct
counts are exact from records (a two-stage `$group`) up to EXACT_MAX_ROWS rows, and
above that from HLL sketches merged in the app (`approximate: true` with its
`relativeError`); rolling windows and breakdowns always use the sketches. A view
filters or breaks down by one dimension at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import replace

import numpy as np

from data.analytics.detectors import detect_modified_zscore
from data.analytics.service import load_dataset
from data.cache import cache_get, cache_set
from data.datasets import entity_column, entity_name, min_entities
from data.errors import Unprocessable, ValidationFailed
from data.ingest.kpi_rollups import TOTAL, where_text
from data.ingest.measures import DISTINCT_KINDS
from data.ingest.repository import KPI_ROLLUPS, RECORDS, committed_filter
from data.kpi import compute, pipeline
from data.kpi.disclosure_view import (
    Disclosure,
    EntityCounts,
    PeriodCounts,
    apply_disclosure,
    counts_from_result,
    left_out_bound,
    left_out_rows,
)
from data.kpi.params import KpiQuery, parse_kpi_query
from data.kpi.periods import (
    HOUR,
    Period,
    bucket_starts,
    comparison_period,
    like_for_like,
    resolve_period,
    zone,
)
from data.services import Services

DEFAULT_MEASURES = 5
# Up to this many rows, distinct counts are exact: counted from records by a
# two-stage $group. Above it, from the roll-ups' sketches (a $group over 100,000
# records takes tens of seconds on the in-process engine).
EXACT_MAX_ROWS = 20_000
ANOMALY_THRESHOLD = 3.5  # the robust detector's own default (README, Analytics)


def _fail(field: str, message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


def chosen_measures(dataset: dict, query: KpiQuery) -> list[dict]:
    """The requested measures (default: the first five), checked by name."""
    stored = dataset.get("measures") or []
    names = [m["name"] for m in stored]
    if not query.measures:
        return stored[:DEFAULT_MEASURES]
    for name in query.measures:
        if name not in names:
            raise _fail(
                "measures",
                f"Unknown measure {name[:40]!r}. Valid choices: {', '.join(names)}.",
                choices=names,
            )
    return [m for name in query.measures for m in stored if m["name"] == name]


def needed_measures(dataset: dict, chosen: list[dict]) -> list[dict]:
    """The chosen measures plus the parts their ratios divide."""
    by_name = {m["name"]: m for m in dataset.get("measures") or []}
    needed = {m["name"]: m for m in chosen}
    for measure in chosen:
        if measure["kind"] == "ratio":
            for part in (measure["numerator"], measure["denominator"]):
                needed.setdefault(part, by_name[part])
    return list(needed.values())


def dimension_key(dataset: dict, name: str, field: str) -> str:
    """The field key of a dimension (400 naming the valid dimensions)."""
    dimensions = list(dataset.get("dimensionColumns") or [])
    if name not in dimensions:
        raise _fail(
            field,
            f"Unknown dimension {name[:40]!r}. Valid choices: "
            f"{', '.join(dimensions) or '(none)'}.",
            choices=dimensions,
        )
    return next(c["key"] for c in dataset["columns"] if c["name"] == name)


def choose_slice(dataset: dict, query: KpiQuery) -> tuple[str, tuple | None]:
    """The roll-up slice serving the filters: the whole dataset or one dimension."""
    used = dict.fromkeys(
        [*query.filters, *([query.breakdown] if query.breakdown else [])]
    )
    for name in query.filters:
        dimension_key(dataset, name, f"filter.{name}")
    if query.breakdown:
        dimension_key(dataset, query.breakdown, "breakdown")
    if len(used) > 1:
        raise Unprocessable(
            "A KPI view filters and breaks down by one dimension at a time (the "
            f"roll-ups hold one dimension per slice); this view uses {len(used)}: "
            f"{', '.join(used)}.",
            details={"limit": 1, "field": "filter"},
        )
    if not query.filters:
        return TOTAL, None
    ((name, values),) = query.filters.items()
    return dimension_key(dataset, name, f"filter.{name}"), values


def _grain(query: KpiQuery, period: Period) -> str:
    """Day documents when local days are UTC days and no hours are selected."""
    whole_days = all(moment.hour == 0 for moment in (period.start, period.end))
    if query.tz == "UTC" and not query.hours and not query.days and whole_days:
        return "day" if query.granularity != "hour" else "hour"
    return "hour"


def data_bounds(dataset: dict) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and the last hour with data (end of the last hour), from ingest."""
    span = dataset.get("timeRange") or {}
    first, last = span.get("first"), span.get("last")
    if isinstance(first, str) and isinstance(last, str):
        first, last = dt.datetime.fromisoformat(first), dt.datetime.fromisoformat(last)
    return first, (last + HOUR if last else None)


def _options(query: KpiQuery) -> dict:
    return {
        "granularity": query.granularity,
        "tz": query.tz,
        "hours": query.hours,
        "days": query.days,
    }


def _lookback(measures: list[dict]) -> dt.timedelta:
    days = [m["windowDays"] for m in measures if m["kind"] == "rolling_distinct"]
    return dt.timedelta(days=max(days, default=0))


def period_result(
    services: Services, dataset: dict, query: KpiQuery, period: Period, needed: list
) -> dict:
    """Bucket partials, the period's totals and the rolling windows' day sketches."""
    key, values = choose_slice(dataset, query)
    grain = _grain(query, period)
    match = pipeline.slice_match(dataset, grain, key, values)
    fetch_start = period.start - _lookback(needed)
    stages = pipeline.period_pipeline(
        match, fetch_start, period.start, period.end, needed, _options(query)
    )
    result: dict = next(iter(services.mongo[KPI_ROLLUPS].aggregate(stages)), {})
    found = {
        "series": [_utc_id(g) for g in result.get("series", [])],
        "total": (result.get("total") or [{}])[0],
        "days": [_utc_id(g) for g in result.get("days", [])] or None,
        "grain": grain,
    }
    if exact_distinct(dataset):
        _count_exactly(services, dataset, query, period, needed, found)
    return found


def exact_distinct(dataset: dict) -> bool:
    """Whether this version's distinct counts are counted from its records."""
    return (dataset.get("rowCount") or 0) <= EXACT_MAX_ROWS


def _record_field(dataset: dict, name: str) -> str:
    column = next(c for c in dataset["columns"] if c["name"] == name)
    return f"{'i' if column['role'] == 'identifier' else 'd'}.{column['key']}"


def _record_where(dataset: dict, where: dict | None) -> dict | None:
    if not where:
        return None
    column = next(c for c in dataset["columns"] if c["name"] == where["column"])
    if column["role"] == "metric":
        return {"$match": {f"m.{column['key']}": float(where["value"])}}
    text = where_text(where["value"]).casefold()
    return {"$match": {"$expr": {"$eq": [{"$toLower": f"$d.{column['key']}"}, text]}}}


def exact_query(
    dataset: dict, query: KpiQuery, period: Period, needed: list[dict]
) -> tuple[list[dict], list[dict]]:
    """The distinct measures counted from records, and the records pipeline."""
    distinct = [
        {"name": m["name"], "field": _record_field(dataset, m["column"]),
         "where": _record_where(dataset, m.get("where"))}
        for m in needed if m["kind"] == "distinct"
    ]  # fmt: skip
    match = {"datasetId": dataset["datasetId"], "version": dataset["version"],
             "t": {"$gte": period.start, "$lt": period.end},
             **committed_filter(dataset.get("revision"))}  # fmt: skip
    for name, values in query.filters.items():
        key = dimension_key(dataset, name, f"filter.{name}")
        match[f"d.{key}"] = {"$in": list(values)}
    return distinct, pipeline.exact_distinct_pipeline(match, distinct, _options(query))


def _count_exactly(services, dataset, query, period, needed, found) -> None:
    """Replace the distinct measures' sketches by exact counts from records."""
    distinct, stages = exact_query(dataset, query, period, needed)
    if not distinct:
        return
    result: dict = next(iter(services.mongo[RECORDS].aggregate(stages)), {})
    groups = {g["_id"]: g for g in found["series"]}
    for item in distinct:
        name = item["name"]
        for row in result.get(f"series_{name}", []):
            moment = _utc_id(row)["_id"]
            groups.setdefault(moment, {"_id": moment})[f"x_{name}"] = row["n"]
        for group in groups.values():
            group.setdefault(f"x_{name}", 0)
        total = result.get(f"total_{name}") or [{"n": 0}]
        found["total"][f"x_{name}"] = total[0]["n"]
    found["series"] = sorted(groups.values(), key=lambda g: g["_id"])


def _utc_id(group: dict) -> dict:
    moment = group["_id"]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return {**group, "_id": moment.astimezone(dt.UTC)}


def measure_block(
    measure: dict,
    result: dict,
    starts: list[dt.datetime],
    period: Period,
    by_name: dict[str, dict],
    tz: str,
) -> dict:
    """One period's value and series of one measure."""
    groups = {g["_id"]: g for g in result["series"]}
    series: list[float | None]
    value: float | None
    if measure["kind"] == "rolling_distinct":
        key = f"h_{measure['name']}"
        days = [(g["_id"], g.get(key) or []) for g in result["days"] or []]
        ends = [min(e, period.end) for e in [*starts[1:], period.end]]
        series = list(compute.rolling_values(measure, days, ends, zone(tz)))
        value = series[-1] if series else 0
    else:
        series = [compute.value_of(measure, groups.get(t), by_name) for t in starts]
        totals = compute.with_sketches(
            result["total"], result["series"], list(by_name.values())
        )
        value = compute.value_of(measure, totals, by_name)
    return {"value": value, "series": series}


def _series(starts: list[dt.datetime], values: list) -> list[dict]:
    return [
        {"t": t.isoformat(), "value": v} for t, v in zip(starts, values, strict=True)
    ]


def _aligned(starts: list[dt.datetime], other: list[dt.datetime], values: list) -> list:
    """The comparison series, position by position (null where it is shorter)."""
    return [
        {"t": other[i].isoformat() if i < len(other) else None,
         "value": values[i] if i < len(values) else None}
        for i in range(len(starts))
    ]  # fmt: skip


def _unit(dataset: dict, measure: dict) -> str | None:
    column = next(
        (c for c in dataset["columns"] if c["name"] == measure.get("column")), None
    )
    return column.get("unit") if column else None


def _measure_view(dataset, measure, current, compared, by_name, sketched) -> dict:
    value, previous = current["value"], compared["value"] if compared else None
    absolute, percent = compute.change(value, previous)
    return {
        "name": measure["name"],
        "label": measure.get("label") or measure["name"],
        "kind": measure["kind"],
        "format": measure.get("format", "number"),
        "unit": _unit(dataset, measure),
        "higherIsBetter": measure.get("higherIsBetter", True),
        "value": value,
        "comparisonValue": previous,
        "change": absolute,
        "changePct": percent,
        "approximate": compute.approximate(measure, by_name, sketched),
        "relativeError": compute.relative_error(measure, by_name, sketched),
    }


def series_anomalies(series: list[dict], partial: bool = False) -> list[dict]:
    """Buckets of a measure's series the modified z-score flags (median/MAD); the
    last bucket of a partial period is still filling, so it is not scored."""
    scored = series[:-1] if partial else series
    points = [p for p in scored if p["value"] is not None]
    values = np.array([p["value"] for p in points], dtype=float)
    if len(values) < 3:
        return []
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    mean_abs = float(np.mean(np.abs(values - median)))
    found = detect_modified_zscore(values, median, mad, mean_abs, ANOMALY_THRESHOLD)
    return [
        {"t": points[i]["t"], "value": points[i]["value"], "score": round(f.score, 2),
         "direction": "spike" if f.score > 0 else "drop"}
        for i, f in sorted(found.findings.items())
    ]  # fmt: skip


def view_periods(dataset: dict, query: KpiQuery) -> tuple[Period, Period | None, bool]:
    """The view's period, its comparison period and whether it is cut short."""
    _first, data_end = data_bounds(dataset)
    period = resolve_period(query, data_end - HOUR if data_end else None)
    other = comparison_period(period, query.compare, query.tz)
    return like_for_like(period, other, data_end, query.tz)


def compute_kpi(services: Services, dataset: dict, query: KpiQuery) -> dict:
    """Compute one KPI view of a loaded dataset version (no cache)."""
    chosen = chosen_measures(dataset, query)
    if not chosen:
        raise Unprocessable("This dataset has no measures; add some first.")
    needed = needed_measures(dataset, chosen)
    by_name = {m["name"]: m for m in needed}
    period, other, partial = view_periods(dataset, query)
    starts = bucket_starts(period, query.granularity, query.tz)
    other_starts = bucket_starts(other, query.granularity, query.tz) if other else []
    current = period_result(services, dataset, query, period, needed)
    compared = period_result(services, dataset, query, other, needed) if other else None
    views = []
    for measure in chosen:
        mine = measure_block(measure, current, starts, period, by_name, query.tz)
        theirs = (
            measure_block(measure, compared, other_starts, other, by_name, query.tz)
            if other and compared is not None
            else None
        )
        sketched = not exact_distinct(dataset)
        view = _measure_view(dataset, measure, mine, theirs, by_name, sketched)
        view["series"] = _series(starts, mine["series"])
        view["anomalies"] = series_anomalies(view["series"], partial)
        view["comparisonSeries"] = (
            _aligned(starts, other_starts, theirs["series"]) if theirs else []
        )
        views.append(view)
    return {
        "dataset": {"id": dataset["datasetId"], "name": dataset["datasetName"],
                    "version": dataset["version"]},
        "query": query.canonical(),
        "period": period.document(),
        "comparisonPeriod": other.document() if other else None,
        "partial": partial,
        "granularity": query.granularity,
        "tz": query.tz,
        "measures": views,
        "breakdown": (
            breakdown(services, dataset, query, period, chosen, needed, by_name)
            if query.breakdown else None
        ),
    }  # fmt: skip


def breakdown(services, dataset, query, period, chosen, needed, by_name) -> dict:
    """Top values of the breakdown dimension by the first measure, plus `other`
    (its own aggregate: distinct counts are counted, never subtracted)."""
    key = dimension_key(dataset, query.breakdown, "breakdown")
    values = query.filters.get(query.breakdown)
    match = pipeline.slice_match(dataset, _grain(query, period), key, values)
    options = _options(query)
    additive = [m for m in needed if m["kind"] != "rolling_distinct"]
    stages = pipeline.breakdown_pipeline(
        match, period.start, period.end, additive, options
    )
    groups = list(services.mongo[KPI_ROLLUPS].aggregate(stages))
    shown = [m for m in chosen if m["kind"] != "rolling_distinct"]
    rows = [_breakdown_row(g["_id"], g, shown, by_name) for g in groups]
    lead = shown[0]["name"] if shown else None
    rows.sort(key=lambda row: (-(row["measures"].get(lead) or 0), row["value"]))
    top, rest = rows[: query.top], rows[query.top :]
    other = None
    if rest:
        stages = pipeline.breakdown_pipeline(
            match,
            period.start,
            period.end,
            additive,
            options,
            [r["value"] for r in top],
        )
        group: dict = next(iter(services.mongo[KPI_ROLLUPS].aggregate(stages)), {})
        other = {**_breakdown_row("other", group, shown, by_name), "values": len(rest)}
    return {"dimension": query.breakdown, "measures": [m["name"] for m in shown],
            "rows": top, "other": other}  # fmt: skip


def _breakdown_row(value, group: dict, shown: list[dict], by_name: dict) -> dict:
    return {
        "value": value,
        "measures": {m["name"]: compute.value_of(m, group, by_name) for m in shown},
    }


def cache_key(dataset: dict, query: KpiQuery) -> str:
    """The cache key of one KPI view of one version and revision."""
    text = json.dumps(query.canonical(), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return (
        f"kpi:{dataset['datasetId']}:{dataset['version']}:"
        f"{dataset.get('revision', 1)}:{digest}"
    )


def get_kpi(
    services: Services,
    owner_id: str,
    dataset_id: str,
    args,
    *,
    for_agent: bool = False,
) -> dict:
    """The KPI view for raw query args (a dict or MultiDict): from the cache when
    present. For an agent (`for_agent`), cells from fewer than the dataset's k
    entities are hidden with their complements (data/kpi/disclosure_view.py)."""
    query = parse_kpi_query(args)
    dataset = load_dataset(services, owner_id, dataset_id, query.version)
    key = cache_key(dataset, query)
    if for_agent:
        return _agent_kpi(services, dataset, query, key)
    cached = cache_get(key)
    if cached is not None:
        return {**cached, "cached": True}
    view = compute_kpi(services, dataset, query)
    cache_set(key, view)
    return {**view, "cached": False}


def _agent_kpi(services: Services, dataset: dict, query: KpiQuery, key: str) -> dict:
    rule = disclosure_rule(dataset)
    agent_key = f"{key}:agent:{rule.k}:{rule.entity}"
    cached = cache_get(agent_key)
    if cached is not None:
        return {**cached, "cached": True}
    owner = cache_get(key)
    if owner is None:
        owner = compute_kpi(services, dataset, query)
        cache_set(key, owner)
    view = agent_kpi(services, dataset, query, rule, owner)
    cache_set(agent_key, view)
    return {**view, "cached": False}


def disclosure_rule(dataset: dict) -> Disclosure:
    """The dataset's k and entity (the setting stored with its versions), and
    the measures that count its entities."""
    entity = entity_name(dataset)
    counting = frozenset(
        m["name"]
        for m in dataset.get("measures") or []
        if m["kind"] in DISTINCT_KINDS and m.get("column") == entity
    )
    return Disclosure(min_entities(dataset), entity, counting)


def agent_kpi(
    services: Services,
    dataset: dict,
    query: KpiQuery,
    rule: Disclosure,
    view: dict | None = None,
) -> dict:
    """The KPI view (computed unless given) with small cells hidden (no cache)."""
    if view is None:
        view = compute_kpi(services, dataset, query)
    period, other, partial = view_periods(dataset, query)
    block = view.get("breakdown")
    top = [row["value"] for row in block["rows"]] if block else None
    current = period_counts(services, dataset, query, period, top)
    compared = period_counts(services, dataset, query, other, None) if other else None
    agent = apply_disclosure(view, current, compared, rule)
    for measure in agent["measures"]:
        # Flags come from the visible points only: a hidden point is not scored.
        measure["anomalies"] = series_anomalies(measure["series"], partial)
    return agent


def _selects(query: KpiQuery) -> bool:
    return bool(query.filters or query.hours or query.days)


def period_counts(
    services: Services,
    dataset: dict,
    query: KpiQuery,
    period: Period,
    top: list[str] | None,
) -> PeriodCounts:
    """Each cell's distinct entities in one period, and (for a view with filters
    or business hours) those of the rows the selection leaves out: identifiers
    counted exactly from records, or rows from the roll-ups."""
    sketched = entity_sketch(dataset)
    if sketched is not None:
        return _sketched_counts(services, dataset, query, period, top, sketched)
    if entity_column(dataset) is not None:
        own = _records_counts(services, dataset, query, period, top, False)
        left = _records_counts(services, dataset, query, period, top, True)
        return PeriodCounts(own, left if _selects(query) else None)
    own = _rollup_rows(services, dataset, query, period, top)
    if not _selects(query):
        return PeriodCounts(own)
    everything = _rollup_rows(services, dataset, _unselected(query), period, top)
    return PeriodCounts(own, left_out_rows(everything, own))


def _unselected(query: KpiQuery) -> KpiQuery:
    return replace(query, filters={}, hours=None, days=None)


def entity_sketch(dataset: dict) -> dict | None:
    """Above EXACT_MAX_ROWS, the stored distinct measure of the entity column
    (no `where`) whose roll-up sketches count each cell's entities; None: count
    from records (exact; slower on large versions without such a measure)."""
    column = entity_column(dataset)
    if column is None or exact_distinct(dataset):
        return None
    return next(
        (m for m in dataset.get("measures") or []
         if m["kind"] == "distinct" and m.get("column") == column["name"]
         and not m.get("where")),
        None,
    )  # fmt: skip


def _sketched_counts(services, dataset, query, period, top, measure) -> PeriodCounts:
    """Entities from the sketches, used conservatively: a cell is judged by its
    count's lower bound (two standard deviations), and the rows a selection
    leaves out by the fewest entities they can hold (left_out_bound)."""
    low, high = _sketch_bounds(services, dataset, query, period, top, measure)
    if not _selects(query):
        return PeriodCounts(low)
    whole = _unselected(query)
    whole_low, _ = _sketch_bounds(services, dataset, whole, period, top, measure)
    rows = left_out_rows(
        _rollup_rows(services, dataset, whole, period, top),
        _rollup_rows(services, dataset, query, period, top),
    )
    return PeriodCounts(low, left_out_bound(whole_low, high, rows))


def _sketch_bounds(services, dataset, query, period, top, measure):
    """(lower, upper) EntityCounts of each cell from the roll-ups' sketches."""
    key, values = choose_slice(dataset, query)
    grain, options, field = (
        _grain(query, period),
        _options(query),
        f"h_{measure['name']}",
    )
    match = pipeline.slice_match(dataset, grain, key, values)
    stages = pipeline.period_pipeline(
        match, period.start, period.start, period.end, [measure], options
    )
    result: dict = next(iter(services.mongo[KPI_ROLLUPS].aggregate(stages)), {})
    series = {_utc_id(g)["_id"]: compute.union_bounds([g.get(field) or []])
              for g in result.get("series", [])}  # fmt: skip
    total = compute.union_bounds([g.get(field) or [] for g in result.get("series", [])])
    rows: dict = {}
    other = (0.0, 0.0)
    if query.breakdown and top is not None:
        groups = _breakdown_groups(services, dataset, query, period, [measure])
        rows = {g["_id"]: compute.union_bounds([g.get(field) or []]) for g in groups}
        rest = [g.get(field) or [] for g in groups if g["_id"] not in top]
        other = compute.union_bounds(rest)
    return tuple(
        EntityCounts(
            {t: b[side] for t, b in series.items()}, total[side],
            {v: b[side] for v, b in rows.items()}, other[side],
        )
        for side in (0, 1)
    )  # fmt: skip


def _breakdown_groups(services, dataset, query, period, measures) -> list[dict]:
    """Period partials per value of the breakdown dimension (the view's slice)."""
    key = dimension_key(dataset, query.breakdown, "breakdown")
    match = pipeline.slice_match(
        dataset, _grain(query, period), key, query.filters.get(query.breakdown)
    )
    stages = pipeline.breakdown_pipeline(
        match, period.start, period.end, measures, _options(query)
    )
    return list(services.mongo[KPI_ROLLUPS].aggregate(stages))


def entity_query(
    dataset: dict,
    query: KpiQuery,
    period: Period,
    top: list[str] | None,
    complement: bool = False,
) -> list[dict]:
    """The records pipeline counting each cell's distinct identifiers."""
    column = entity_column(dataset)
    if column is None:
        raise ValueError("a dataset without an identifier counts rows")
    match = {"datasetId": dataset["datasetId"], "version": dataset["version"],
             "t": {"$gte": period.start, "$lt": period.end},
             **committed_filter(dataset.get("revision"))}  # fmt: skip
    selection = [
        {"$in": [f"$d.{dimension_key(dataset, name, f'filter.{name}')}", list(v)]}
        for name, v in query.filters.items()
    ]
    selection += pipeline.time_conditions(query.hours, query.days, query.tz, "$t")
    breakdown = None
    if query.breakdown and top is not None:
        field = f"d.{dimension_key(dataset, query.breakdown, 'breakdown')}"
        breakdown = (field, top)
    return pipeline.entity_count_pipeline(
        match, f"i.{column['key']}", selection, _options(query), breakdown, complement
    )


def _records_counts(services, dataset, query, period, top, complement):
    if complement and not _selects(query):
        return EntityCounts()
    stages = entity_query(dataset, query, period, top, complement)
    result: dict = next(iter(services.mongo[RECORDS].aggregate(stages)), {})
    return counts_from_result(result)


def _rollup_rows(services, dataset, query, period, top) -> EntityCounts:
    """Rows per series bucket, in the period, per breakdown value and in other."""
    key, values = choose_slice(dataset, query)
    grain = _grain(query, period)
    match = pipeline.slice_match(dataset, grain, key, values)
    options = _options(query)
    stages = pipeline.period_pipeline(
        match, period.start, period.start, period.end, [], options
    )
    result: dict = next(iter(services.mongo[KPI_ROLLUPS].aggregate(stages)), {})
    series = {_utc_id(g)["_id"]: g["rows"] for g in result.get("series", [])}
    total = (result.get("total") or [{"rows": 0}])[0]["rows"]
    if not query.breakdown or top is None:
        return EntityCounts(series=series, total=total)
    groups = _breakdown_groups(services, dataset, query, period, [])
    rows = {g["_id"]: g["rows"] for g in groups}
    other = sum(n for value, n in rows.items() if value not in top)
    return EntityCounts(series, total, rows, other)


MAX_DIMENSION_VALUES = 200


def kpi_meta(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """What the KPI page's controls need: name, version, measures, each dimension's
    values (from the day roll-ups) and the data's last hour."""
    dataset = load_dataset(services, owner_id, dataset_id, version)
    rollups = services.mongo[KPI_ROLLUPS]
    dimensions = {}
    for name in dataset.get("dimensionColumns") or []:
        key = dimension_key(dataset, name, "breakdown")
        query = {"datasetId": dataset_id, "version": dataset["version"], "g": "day",
                 "k": key, **committed_filter(dataset.get("revision"))}  # fmt: skip
        values = sorted(rollups.distinct("v", query))[:MAX_DIMENSION_VALUES]
        dimensions[name] = values
    _first, end = data_bounds(dataset)
    return {
        "id": dataset_id,
        "name": dataset["datasetName"],
        "version": dataset["version"],
        "revision": dataset.get("revision", 0),
        "status": dataset["status"],
        "measures": dataset.get("measures") or [],
        "dimensions": dimensions,
        "dataEnd": (end - HOUR).isoformat() if end else None,
    }


def kpi_data_end(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> str | None:
    """The start of the version's last hour with data (ISO), for the page's presets
    (one dataset read: the view callback must stay cheap when the view is cached)."""
    dataset = load_dataset(services, owner_id, dataset_id, version)
    _first, end = data_bounds(dataset)
    return (end - HOUR).isoformat() if end else None
