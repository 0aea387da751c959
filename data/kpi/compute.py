"""From pipeline partials to measure values (the part that runs beside MongoDB).

Additive partials arrive totalled by MongoDB. HLL sketches arrive as lists of
serialized sketches per bucket and are merged here by union: MongoDB has no
operator that merges DataSketches, so this is the one place where a measure is
finished in the app. Ratios divide the period's (or bucket's) numerator by its
denominator; they are never means of per-bucket ratios.
"""

from __future__ import annotations

import datetime as dt
import math

import datasketches

from data.ingest.kpi_rollups import SKETCH_LG_K
from data.ingest.measures import DISTINCT_KINDS

# Relative error of a merged sketch at two standard deviations (about 95%).
SKETCH_RELATIVE_ERROR = round(
    abs(datasketches.hll_sketch.get_rel_err(True, True, SKETCH_LG_K, 2)), 4
)


def union_estimate(groups: list[list[bytes | None]]) -> int:
    """Distinct count of the union of every sketch in the groups."""
    union = datasketches.hll_union(SKETCH_LG_K)
    empty = True
    for group in groups:
        for blob in group or ():
            if blob:
                union.update(datasketches.hll_sketch.deserialize(blob))
                empty = False
    return 0 if empty else round(union.get_estimate())


def union_bounds(groups: list[list[bytes | None]]) -> tuple[float, float]:
    """Lower and upper bounds (two standard deviations) of the distinct count of
    the union of every sketch in the groups; (0, 0) without any."""
    union = datasketches.hll_union(SKETCH_LG_K)
    empty = True
    for group in groups:
        for blob in group or ():
            if blob:
                union.update(datasketches.hll_sketch.deserialize(blob))
                empty = False
    if empty:
        return 0.0, 0.0
    result = union.get_result()
    return result.get_lower_bound(2), result.get_upper_bound(2)


def value_of(
    measure: dict, partial: dict | None, by_name: dict[str, dict]
) -> float | None:
    """One measure's value from one group of partials (None: undefined)."""
    name, kind = measure["name"], measure["kind"]
    partial = partial or {}
    if kind == "ratio":
        top = value_of(by_name[measure["numerator"]], partial, by_name)
        bottom = value_of(by_name[measure["denominator"]], partial, by_name)
        return None if top is None or not bottom else top / bottom
    if kind in DISTINCT_KINDS:
        if f"x_{name}" in partial:  # exact, counted from records
            return partial[f"x_{name}"]
        return union_estimate([partial.get(f"h_{name}") or []])
    count = partial.get(f"n_{name}") or 0
    if kind == "count":
        return count
    if kind == "sum":
        return partial.get(f"s_{name}") or 0.0 if count else 0.0
    if not count:
        return None
    if kind == "mean":
        return partial[f"s_{name}"] / count
    return partial.get(f"lo_{name}" if kind == "min" else f"hi_{name}")


def with_sketches(total: dict, groups: list[dict], measures: list[dict]) -> dict:
    """The period's partials: MongoDB's additive totals plus every bucket's
    sketches (merged by value_of)."""
    merged = dict(total)
    for measure in measures:
        if measure["kind"] == "distinct":
            key = f"h_{measure['name']}"
            merged[key] = [blob for group in groups for blob in group.get(key) or ()]
    return merged


def rolling_values(
    measure: dict, days: list[tuple[dt.datetime, list]], ends: list[dt.datetime], tz
) -> list[int]:
    """Distinct over the `windowDays` local days ending at each bucket end (from
    the day sketches; the window starts at local midnight, DST or not)."""
    window = dt.timedelta(days=measure["windowDays"])
    values = []
    for end in ends:
        local_end = end.astimezone(tz)
        first = (local_end.date() - window) if local_end.time() == dt.time() else (
            local_end.date() - window + dt.timedelta(days=1))  # fmt: skip
        start = dt.datetime.combine(first, dt.time(), tzinfo=tz)
        chosen = [blobs for day, blobs in days if start <= day < end]
        values.append(union_estimate(chosen))
    return values


def approximate(measure: dict, by_name: dict[str, dict], sketched: bool) -> bool:
    """Whether the measure's value comes from sketches (`sketched`: distinct
    counts are; rolling windows always are)."""
    if measure["kind"] == "ratio":
        parts = (by_name[measure["numerator"]], by_name[measure["denominator"]])
        return any(approximate(part, by_name, sketched) for part in parts)
    if measure["kind"] == "rolling_distinct":
        return True
    return sketched and measure["kind"] == "distinct"


def relative_error(measure: dict, by_name: dict[str, dict], sketched: bool) -> float:
    """The stated relative error (0 when exact; a ratio adds its parts')."""
    if measure["kind"] == "ratio":
        parts = (by_name[measure["numerator"]], by_name[measure["denominator"]])
        return round(sum(relative_error(p, by_name, sketched) for p in parts), 4)
    return SKETCH_RELATIVE_ERROR if approximate(measure, by_name, sketched) else 0.0


def change(value: float | None, previous: float | None) -> tuple:
    """Absolute and percent change (percent None when the base is 0 or missing)."""
    if value is None or previous is None:
        return None, None
    absolute = value - previous
    percent = absolute / abs(previous) * 100 if previous else None
    return absolute, percent if percent is None or math.isfinite(percent) else None
