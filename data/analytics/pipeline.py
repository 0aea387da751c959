"""Aggregation pipeline builders: parameters in, a list of stages out (pure).

One view is one `aggregate` call. It reads `rollups` (hour/day/week/month) or
`records` (raw), so its cost grows with the number of buckets, not with raw rows:

1. `$match` dataset, version (and granularity): the indexed prefix.
2. `$facet`: `dimensions` (the dimension values present) and `series`: filter by
   date range and dimensions, one document per bucket, `$densify` the missing
   buckets, then `$setWindowFields` for the rolling mean/std (trailing window of
   `window` buckets including the current one; the detection baseline of a bucket
   is this window at the bucket before it). Each bucket carries only the five
   fields the view uses (t, value, count, rolling_mean, rolling_std).
3. `$set` stages compute the summary over the series' non-null values: count,
   missing, sum, mean, population/sample standard deviation, min, max, exact
   quartiles (sorted array + index arithmetic, numpy's default "linear" rule),
   MAD, Tukey fences, box-plot whiskers and outliers, histogram edges
   (Freedman-Diaconis) and each value's bin.
4. `$facet` counts values per bin (`$unwind` + `$group`).

`$percentile`/`$median` are not used: on a server they are approximate (t-digest).
"""

from __future__ import annotations

import datetime as dt
import math

from data.ingest.repository import committed_filter
from data.timeunits import add_units

MAX_HISTOGRAM_BINS = 100
HISTOGRAM_RULE = (
    "Freedman-Diaconis: width 2*IQR/n^(1/3), bins spanning min..max; "
    "Sturges (ceil(log2 n)+1 bins) when the IQR is 0; one bin when all values are "
    f"equal (none when they are too large for a bin of width 1); at most "
    f"{MAX_HISTOGRAM_BINS} bins; none when max - min overflows"
)
QUANTILE_RULE = (
    "linear interpolation between order statistics: position (n-1)*p in the sorted "
    "values (Hyndman-Fan type 7, numpy's default)"
)
# Missing buckets: a count of rows is truly 0, every other aggregate is unknown.
FILL_VALUES = {"count": 0}


def bucket_start(moment: dt.datetime, granularity: str) -> dt.datetime:
    """The start of the bucket holding `moment` (UTC; weeks start on Monday)."""
    moment = moment.astimezone(dt.UTC)
    if granularity == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity == "day":
        return day
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    raise ValueError(f"no buckets for granularity {granularity!r}")


def next_bucket(start: dt.datetime, granularity: str) -> dt.datetime:
    """The start of the bucket after `start`."""
    return add_units(start, 1, granularity)


def time_bounds(
    start: dt.datetime | None,
    end: dt.datetime | None,
    end_is_date: bool,
    granularity: str,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[lower, upper) on the bucket (or raw time) axis for an inclusive from/to."""
    if granularity == "raw":
        upper = None
        if end is not None:
            step = dt.timedelta(days=1) if end_is_date else dt.timedelta(milliseconds=1)
            upper = end + step
        return start, upper
    if end is not None and end_is_date:  # a bare date includes its whole day
        end = end + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    lower = bucket_start(start, granularity) if start else None
    upper = next_bucket(bucket_start(end, granularity), granularity) if end else None
    return lower, upper


def bucket_count(lower: dt.datetime, upper: dt.datetime, granularity: str) -> int:
    """How many buckets start in [lower, upper) when both are bucket starts."""
    if upper <= lower:
        return 0
    if granularity == "month":
        return (upper.year - lower.year) * 12 + upper.month - lower.month
    unit = {"hour": 3600, "day": 86400, "week": 7 * 86400}[granularity]
    return int((upper - lower).total_seconds() // unit)


def _series_match(lower, upper, filters: dict[str, list[str]], time_field: str) -> dict:
    match: dict = {}
    if lower is not None or upper is not None:
        match[time_field] = {}
        if lower is not None:
            match[time_field]["$gte"] = lower
        if upper is not None:
            match[time_field]["$lt"] = upper
    for key, values in filters.items():
        match[f"d.{key}"] = {"$in": values}
    return match


def _bucket_value(aggregation: str, key: str) -> tuple[dict, object]:
    """$group accumulators over roll-ups and the bucket's value expression."""
    count = {"$sum": f"$n.{key}"}
    has_values = {"$gt": ["$count", 0]}
    if aggregation == "count":
        return {"count": count}, "$count"
    if aggregation in ("sum", "mean"):
        total = {"total": {"$sum": f"$s.{key}"}, "count": count}
        if aggregation == "sum":
            return total, {"$cond": [has_values, "$total", None]}
        return total, {"$cond": [has_values, {"$divide": ["$total", "$count"]}, None]}
    field = "lo" if aggregation == "min" else "hi"
    operator = "$min" if aggregation == "min" else "$max"
    return {"extreme": {operator: f"${field}.{key}"}, "count": count}, "$extreme"


def _window_stages(window: int, fill, sort_by: dict) -> list[dict]:
    # Only the trailing window including the current bucket is computed: the
    # detection baseline of bucket i (the `window` buckets before it) is exactly
    # this window at bucket i - 1, so the view reads it from the previous point
    # (data/analytics/view.py) instead of carrying three more fields per bucket
    # in the result document (16 MiB limit on a server).
    current = {"documents": [-(window - 1), 0]}
    return [
        {
            "$set": {
                "value": {"$ifNull": ["$value", fill]},
                "count": {"$ifNull": ["$count", 0]},
            }
        },
        {
            "$setWindowFields": {
                "sortBy": sort_by,
                "output": {
                    "rolling_mean": {"$avg": "$value", "window": current},
                    "rolling_std": {"$stdDevSamp": "$value", "window": current},
                },
            }
        },
        {"$sort": sort_by},
    ]


def bucket_series_stages(
    metric_key: str,
    granularity: str,
    aggregation: str,
    window: int,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    filters: dict[str, list[str]],
    max_buckets: int,
) -> list[dict]:
    """Roll-ups → one document per bucket {t, value, count} with windows; at most
    max_buckets + 1 buckets, so the result document stays bounded (the caller
    refuses a view whose span holds more than max_buckets)."""
    lower, upper = bounds
    accumulators, value = _bucket_value(aggregation, metric_key)
    densify_bounds = [lower, upper] if lower and upper else "full"
    stages = (
        [{"$match": _series_match(lower, upper, filters, "b")}]
        if (lower or upper or filters)
        else []
    )
    return [
        *stages,
        {"$group": {"_id": "$b", **accumulators}},
        {"$project": {"_id": 0, "t": "$_id", "value": value, "count": "$count"}},
        {
            "$densify": {
                "field": "t",
                "range": {"step": 1, "unit": granularity, "bounds": densify_bounds},
            }
        },
        {"$limit": max_buckets + 1},
        *_window_stages(window, FILL_VALUES.get(aggregation), {"t": 1}),
    ]


def raw_series_stages(
    metric_key: str,
    window: int,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    filters: dict[str, list[str]],
) -> list[dict]:
    """Records → one document per row {t, value, count} with windows."""
    lower, upper = bounds
    value = {"$ifNull": [f"$m.{metric_key}", None]}
    stages = (
        [{"$match": _series_match(lower, upper, filters, "t")}]
        if (lower or upper or filters)
        else []
    )
    return [
        *stages,
        {
            "$project": {
                "_id": 0,
                "t": 1,
                "row": 1,
                "value": value,
                "count": {"$cond": [{"$isNumber": value}, 1, 0]},
            }
        },
        *_window_stages(window, None, {"t": 1, "row": 1}),
    ]


def quantile(array: str, count: str, p: float) -> dict:
    """Exact quantile of a sorted array field: numpy's default linear rule."""
    position = {"$multiply": [{"$subtract": [count, 1]}, p]}
    below = {"$arrayElemAt": [array, "$$lower"]}
    above_index = {"$min": [{"$add": ["$$lower", 1]}, {"$subtract": [count, 1]}]}
    step = {"$subtract": ["$$b", "$$a"]}
    # numpy interpolates from the nearer end, which keeps results bit-compatible.
    lerp = {
        "$cond": [
            {"$gte": ["$$t", 0.5]},
            {"$subtract": ["$$b", {"$multiply": [step, {"$subtract": [1, "$$t"]}]}]},
            {"$add": ["$$a", {"$multiply": [step, "$$t"]}]},
        ]
    }
    inner = {
        "$let": {
            "vars": {
                "a": below,
                "b": {"$arrayElemAt": [array, above_index]},
                "t": {"$subtract": ["$$h", "$$lower"]},
            },
            "in": lerp,
        }
    }
    located = {"$let": {"vars": {"lower": {"$floor": "$$h"}}, "in": inner}}
    return {
        "$cond": [
            {"$gt": [count, 0]},
            {"$let": {"vars": {"h": position}, "in": located}},
            None,
        ]
    }


def _values_stages() -> list[dict]:
    numeric = {"$filter": {"input": "$series.value", "cond": {"$isNumber": "$$this"}}}
    return [
        {"$set": {"values": {"$sortArray": {"input": numeric, "sortBy": 1}}}},
        {
            "$set": {
                "n": {"$size": "$values"},
                "missing": {"$subtract": [{"$size": "$series"}, {"$size": "$values"}]},
                "sum": {"$sum": "$values"},
                "mean": {"$avg": "$values"},
                "std_pop": {"$stdDevPop": "$values"},
                "std_sample": {"$stdDevSamp": "$values"},
                "min": {"$min": "$values"},
                "max": {"$max": "$values"},
            }
        },
        {
            "$set": {
                "q1": quantile("$values", "$n", 0.25),
                "median": quantile("$values", "$n", 0.5),
                "q3": quantile("$values", "$n", 0.75),
            }
        },
    ]


def _spread_stages(k: float) -> list[dict]:
    deviation = {"$abs": {"$subtract": ["$$x", "$median"]}}
    iqr = {"$subtract": ["$q3", "$q1"]}
    return [
        {
            "$set": {
                "deviations": {
                    "$sortArray": {
                        "input": {
                            "$map": {"input": "$values", "as": "x", "in": deviation}
                        },
                        "sortBy": 1,
                    }
                },
                "iqr": iqr,
                "lower_fence": {"$subtract": ["$q1", {"$multiply": [k, iqr]}]},
                "upper_fence": {"$add": ["$q3", {"$multiply": [k, iqr]}]},
            }
        },
        {
            "$set": {
                "mad": quantile("$deviations", "$n", 0.5),
                "mean_abs_dev": {"$avg": "$deviations"},
                "lower_whisker": _filtered(
                    "$min", {"$gte": ["$$this", "$lower_fence"]}
                ),
                "upper_whisker": _filtered(
                    "$max", {"$lte": ["$$this", "$upper_fence"]}
                ),
                "outliers": {
                    "$filter": {
                        "input": "$values",
                        "cond": {
                            "$or": [
                                {"$lt": ["$$this", "$lower_fence"]},
                                {"$gt": ["$$this", "$upper_fence"]},
                            ]
                        },
                    }
                },
                **_histogram_layout(),
            }
        },
    ]


def _filtered(operator: str, condition: dict) -> dict:
    return {operator: {"$filter": {"input": "$values", "cond": condition}}}


def _histogram_layout() -> dict:
    spread = {"$subtract": ["$max", "$min"]}
    width = {"$multiply": [2, "$iqr", {"$pow": ["$n", -1 / 3]}]}
    # Sturges' count; the epsilon keeps exact powers of two from rounding up.
    sturges = {"$add": [{"$ceil": {"$subtract": [{"$log": ["$n", 2]}, 1e-9]}}, 1]}
    freedman = {"$ceil": {"$divide": [spread, width]}}
    # NaN sorts below every number on a server, and compares false in Python:
    # this test is false for NaN and infinity on both engines.
    finite = {"$and": [{"$gte": [spread, 0]}, {"$lt": [spread, math.inf]}]}
    constant = {"$eq": [spread, 0]}
    lo, hi = {"$subtract": ["$min", 0.5]}, {"$add": ["$max", 0.5]}
    bins = {
        "$switch": {
            "branches": [
                {"case": {"$eq": ["$n", 0]}, "then": 0},
                {"case": {"$not": [finite]}, "then": 0},
                # Equal values too large for a bin of width 1 (|x| >~ 1e16): numpy
                # refuses those too, and the bin index would divide by zero.
                {"case": {"$and": [constant, {"$eq": [lo, hi]}]}, "then": 0},
                {"case": {"$eq": [spread, 0]}, "then": 1},
                {"case": {"$gt": [width, 0]}, "then": freedman},
            ],
            "default": sturges,
        }
    }
    return {
        "hist_bins": {"$min": [{"$max": [bins, 0]}, MAX_HISTOGRAM_BINS]},
        "hist_lo": {"$cond": [constant, lo, "$min"]},
        "hist_hi": {"$cond": [constant, hi, "$max"]},
    }


def _edges_stage() -> dict:
    step = {"$divide": [{"$subtract": ["$hist_hi", "$hist_lo"]}, "$hist_bins"]}
    edge = {
        "$cond": [
            {"$eq": ["$$i", "$hist_bins"]},
            "$hist_hi",
            {"$add": [{"$multiply": ["$$i", step]}, "$hist_lo"]},
        ]
    }
    indices = {"$range": [0, {"$add": ["$hist_bins", 1]}]}
    return {
        "$set": {
            "edges": {
                "$cond": [
                    {"$gt": ["$hist_bins", 0]},
                    {"$map": {"input": indices, "as": "i", "in": edge}},
                    [],
                ]
            }
        }
    }


def _bin_index() -> dict:
    """numpy.histogram's index for uniform bins, including its edge corrections."""
    last = {"$subtract": ["$hist_bins", 1]}
    scaled = {
        "$multiply": [
            {
                "$divide": [
                    {"$subtract": ["$$x", "$hist_lo"]},
                    {"$subtract": ["$hist_hi", "$hist_lo"]},
                ]
            },
            "$hist_bins",
        ]
    }
    first_guess = {"$min": [{"$trunc": scaled}, last]}
    below_edge = {"$lt": ["$$x", {"$arrayElemAt": ["$edges", "$$i0"]}]}
    corrected = {"$cond": [below_edge, {"$subtract": ["$$i0", 1]}, "$$i0"]}
    above_next = {
        "$and": [
            {"$gte": ["$$x", {"$arrayElemAt": ["$edges", {"$add": ["$$i1", 1]}]}]},
            {"$ne": ["$$i1", last]},
        ]
    }
    final = {"$cond": [above_next, {"$add": ["$$i1", 1]}, "$$i1"]}
    return {
        "$let": {
            "vars": {"i0": first_guess},
            "in": {"$let": {"vars": {"i1": corrected}, "in": final}},
        }
    }


def summary_stages(k: float) -> list[dict]:
    """Stages turning {series: [...]} into summary, box, histogram and bin counts."""
    return [
        *_values_stages(),
        *_spread_stages(k),
        _edges_stage(),
        {
            "$set": {
                "bin_index": {
                    "$cond": [
                        {"$gt": ["$hist_bins", 0]},
                        {"$map": {"input": "$values", "as": "x", "in": _bin_index()}},
                        [],
                    ]
                }
            }
        },
        {
            "$facet": {
                "view": [{"$project": {"values": 0, "deviations": 0, "bin_index": 0}}],
                "bins": [
                    {"$project": {"_id": 0, "bin_index": 1}},
                    {"$unwind": "$bin_index"},
                    {"$group": {"_id": "$bin_index", "count": {"$sum": 1}}},
                ],
            }
        },
    ]


def span_stages(
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    filters: dict[str, list[str]],
) -> list[dict]:
    """The first and last bucket with data among the series' roll-ups."""
    match = _series_match(*bounds, filters, "b")
    return ([{"$match": match}] if match else []) + [
        {"$group": {"_id": None, "first": {"$min": "$b"}, "last": {"$max": "$b"}}}
    ]


def dimension_stages() -> list[dict]:
    """The distinct dimension combinations present (roll-ups or records)."""
    return [{"$group": {"_id": None, "combos": {"$addToSet": "$d"}}}]


def view_pipeline(
    dataset_id: str,
    version: int,
    metric_key: str,
    params: dict,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    filter_keys: dict[str, list[str]],
    max_buckets: int,
    revision: int | None = None,
) -> tuple[str, list[dict]]:
    """The collection to aggregate and the full pipeline for one analysis view
    (of the committed `revision`'s documents, when given).

    Bucketed views also return `span` (first and last bucket with data), from
    which the caller counts the buckets and refuses views over max_buckets."""
    granularity = params["granularity"]
    match = {"datasetId": dataset_id, "version": version}
    match |= committed_filter(revision)
    facets: dict = {"dimensions": dimension_stages()}
    if granularity == "raw":
        collection = "records"
        facets["series"] = raw_series_stages(
            metric_key, params["window"], bounds, filter_keys
        )
    else:
        collection = "rollups"
        match["g"] = granularity
        facets["span"] = span_stages(bounds, filter_keys)
        facets["series"] = bucket_series_stages(
            metric_key,
            granularity,
            params["aggregation"],
            params["window"],
            bounds,
            filter_keys,
            max_buckets,
        )
    return collection, [
        {"$match": match},
        {"$facet": facets},
        *summary_stages(params["k"]),
    ]


def entity_count_pipeline(
    match: dict,
    metric_key: str,
    entity_key: str,
    granularity: str,
    bounds: tuple[dt.datetime | None, dt.datetime | None],
    filters: dict[str, list[str]],
) -> list[dict]:
    """Distinct entities (identifier `i.<entity_key>`) of the records behind
    each bucket of a view's series (those with a value of the metric), by a
    two-stage `$group`; records without an identifier are one unknown entity."""
    unit = {"date": "$t", "unit": granularity}
    if granularity == "week":
        unit["startOfWeek"] = "monday"
    chosen = {**match, **_series_match(*bounds, filters, "t")}
    chosen[f"m.{metric_key}"] = {"$ne": None}
    who = {"$ifNull": [f"$i.{entity_key}", ""]}
    return [
        {"$match": chosen},
        {"$group": {"_id": {"b": {"$dateTrunc": unit}, "u": who}}},
        {"$group": {"_id": "$_id.b", "n": {"$sum": 1}}},
    ]
