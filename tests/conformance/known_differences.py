"""Where mingo deviates from the MongoDB manual: the one list the suite expects.

Every entry names the manual's page and rule, says what mingo does instead, and
either
- `rewrite`s the pipeline sent to mingo into another spelling the manual defines
  as equivalent (so the case is still compared), or
- `tolerates` exactly the deviating values in mingo's result (and nothing else).

Each entry carries a `proof`: a minimal pipeline on which mingo deviates today.
tests/conformance/test_known_differences.py runs it on mingo (it must still deviate:
when mingo is fixed, that test fails and the entry must go) and on our engine
(which must follow the manual).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dateutil.relativedelta import relativedelta

from tests.conformance.compare import Path, Tolerate


@dataclass(frozen=True)
class KnownDifference:
    """One documented deviation of mingo from the manual."""

    key: str
    manual: str
    rule: str
    mingo: str
    proof_documents: list[dict]
    proof_pipeline: list[dict]
    # The manual's result for the proof (where the manual gives no value, ours).
    expected: list[dict]
    rewrite: Callable[[Any], Any] | None = None
    tolerates: Callable[[list[dict], Path, object, object], bool] | None = None


def _spell_trunc_as_list(node):
    """{$trunc: x} → {$trunc: [x]} everywhere (the manual's two spellings of one
    argument)."""
    if isinstance(node, list):
        return [_spell_trunc_as_list(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: [_spell_trunc_as_list(value)]
        if key == "$trunc" and not isinstance(value, list)
        else _spell_trunc_as_list(value)
        for key, value in node.items()
    }


BOUND_MARK = "__densify_bound"
_UNIT_STEPS = {"millisecond": ("microseconds", 1000), "second": ("seconds", 1),
               "minute": ("minutes", 1), "hour": ("hours", 1), "day": ("days", 1),
               "week": ("weeks", 1), "month": ("months", 1),
               "quarter": ("months", 3), "year": ("years", 1)}  # fmt: skip


def _last_grid_point(lower, upper, step, unit):
    """The last value lower + k·step (k >= 0) below upper, or None."""
    if not lower < upper:
        return None
    if unit is None:
        return lower + math.ceil((upper - lower) / step - 1) * step
    name, scale = _UNIT_STEPS[unit]
    last, k = lower, 1
    while (following := lower + relativedelta(**{name: k * step * scale})) < upper:
        last, k = following, k + 1
    return last


def _densify_with_bound_documents(stage: dict) -> list[dict]:
    """$densify with bounds [lower, upper) as mingo can run it: documents marking
    the first and last grid points join the input, a "full" densify fills between
    them, and each mark is dropped where a real document holds its value (a kept
    mark is exactly the document the server would generate). Assumes the input
    lies within the bounds, as the pipelines' $match before it guarantees."""
    spec = stage["$densify"]
    field, (lower, upper) = spec["field"], spec["range"]["bounds"]
    last = _last_grid_point(
        lower, upper, spec["range"]["step"], spec["range"].get("unit")
    )
    marks = [] if last is None else [{field: lower, BOUND_MARK: True},
                                     {field: last, BOUND_MARK: True}]  # fmt: skip
    real = {
        "$filter": {"input": "$docs", "cond": {"$ne": [f"$$this.{BOUND_MARK}", True]}}
    }
    full = {**spec, "range": {**spec["range"], "bounds": "full"}}
    return [
        {"$unionWith": {"pipeline": [{"$documents": marks}]}},
        {"$densify": full},
        {"$group": {"_id": f"${field}", "docs": {"$push": "$$ROOT"}}},
        {
            "$project": {
                "docs": {
                    "$cond": [
                        {"$gt": [{"$size": real}, 0]},
                        real,
                        [{"$first": "$docs"}],
                    ]
                }
            }
        },
        {"$unwind": "$docs"},
        {"$replaceRoot": {"newRoot": "$docs"}},
        {"$unset": BOUND_MARK},
        {"$sort": {field: 1}},
    ]


def _explicit_bounds(stage) -> bool:
    if not isinstance(stage, dict) or "$densify" not in stage:
        return False
    spec = stage["$densify"]
    return isinstance(spec["range"].get("bounds"), list) and not spec.get(
        "partitionByFields"
    )


def _densify_explicit_bounds(node):
    """Every explicit-bounds $densify stage (also inside $facet) rewritten."""
    if isinstance(node, list):
        rewritten = []
        for item in node:
            if _explicit_bounds(item):
                rewritten.extend(_densify_with_bound_documents(item))
            else:
                rewritten.append(_densify_explicit_bounds(item))
        return rewritten
    if isinstance(node, dict):
        return {key: _densify_explicit_bounds(value) for key, value in node.items()}
    return node


def fields_computed_by(pipeline, operator: str) -> set[str]:
    """Names of the fields whose expression is `{operator: ...}` anywhere in the
    pipeline ($group, $set, $project, $setWindowFields outputs)."""
    found: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict) and operator in value:
                    found.add(key.split(".")[-1])
                visit(value)

    visit(pipeline)
    return found


def _std_dev_field(pipeline, path: Path) -> bool:
    fields = fields_computed_by(pipeline, "$stdDevSamp")
    fields |= fields_computed_by(pipeline, "$stdDevPop")
    return bool(path) and path[-1] in fields


def _null_read_as_nan_or_negative_zero(pipeline, path: Path, ours, theirs) -> bool:
    """Ours null, mingo NaN or -0 (never a real standard deviation: a square root
    is +0 at least), on a field computed by $stdDevSamp/$stdDevPop."""
    negative_zero = theirs == 0 and math.copysign(1.0, theirs) < 0
    return (
        ours is None
        and isinstance(theirs, float)
        and (math.isnan(theirs) or negative_zero)
        and _std_dev_field(pipeline, path)
    )


def _overflow_nan_or_infinity(pipeline, path: Path, ours, theirs) -> bool:
    """Both non-finite (ours NaN, mingo ±infinity) on a standard deviation."""
    return (
        isinstance(ours, float)
        and math.isnan(ours)
        and isinstance(theirs, float)
        and math.isinf(theirs)
        and _std_dev_field(pipeline, path)
    )


# The span whose time-zone transitions the zoned-date rewrite knows (every document
# of the suite lies well inside it).
_ZONE_SPAN = (
    dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2040, 1, 1, tzinfo=dt.UTC),
)


@functools.cache
def _transitions(zone: str) -> tuple[tuple[dt.datetime, int], ...]:
    """(instant, UTC offset in ms from then on) at the span's start and at each
    offset change in it, from the IANA rules (zoneinfo)."""
    tz = zoneinfo.ZoneInfo(zone)

    def offset(moment: dt.datetime) -> int:
        delta = moment.astimezone(tz).utcoffset()
        assert delta is not None, "an instant in a ZoneInfo zone has an offset"
        return int(delta.total_seconds() * 1000)

    start, end = _ZONE_SPAN
    changes = [(start, offset(start))]
    day = start
    while day < end:
        following = day + dt.timedelta(days=1)
        if offset(following) != offset(day):
            low, high = day, following  # bisect to the minute
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (
                    (middle, high) if offset(middle) == offset(day) else (low, middle)
                )
            changes.append((high, offset(following)))
        day = following
    return tuple(changes)


def _offset_at(date, zone: str, local: bool = False) -> dict:
    """The zone's UTC offset (ms) at `date`, as a $switch over its transitions; with
    `local`, `date` is a local wall time written as if UTC."""
    changes = _transitions(zone)
    branches = []
    for (_, before), (instant, _after) in itertools.pairwise(changes):
        # A local wall time is before a transition while it is below the
        # transition instant in the old offset's wall time.
        limit = instant + dt.timedelta(milliseconds=before) if local else instant
        branches.append({"case": {"$lt": [date, limit]}, "then": before})
    return {"$switch": {"branches": branches, "default": changes[-1][1]}}


def _zoned_trunc_in_utc(spec: dict) -> dict:
    """{$dateTrunc: {date, unit, timezone}} computed with UTC operations only: the
    local wall time (date + offset at date), truncated as UTC, then back to an
    instant (minus the offset at that local start; for hours, the offset at date,
    since zones change offset only on a whole local hour)."""
    zone, date = spec["timezone"], spec["date"]
    utc_spec = {key: value for key, value in spec.items() if key != "timezone"}
    local = {"$add": [date, _offset_at(date, zone)]}
    start = {"$dateTrunc": {**utc_spec, "date": local}}
    if spec["unit"] in ("hour", "minute", "second", "millisecond"):
        back = _offset_at(date, zone)
    else:
        back = _offset_at("$$start", zone, local=True)
    return {"$let": {"vars": {"start": start}, "in": {"$subtract": ["$$start", back]}}}


def _zoned_dates_in_utc(node):
    """Every $dateTrunc with a time zone other than UTC rewritten (see above)."""
    if isinstance(node, list):
        return [_zoned_dates_in_utc(item) for item in node]
    if not isinstance(node, dict):
        return node
    spec = node.get("$dateTrunc")
    if isinstance(spec, dict) and spec.get("timezone") not in (None, "UTC"):
        inner = {**spec, "date": _zoned_dates_in_utc(spec["date"])}
        return _zoned_trunc_in_utc(inner)
    return {key: _zoned_dates_in_utc(value) for key, value in node.items()}


def _hour(hour: int) -> dt.datetime:
    return dt.datetime(2021, 5, 18, hour, tzinfo=dt.UTC)


KNOWN_DIFFERENCES: tuple[KnownDifference, ...] = (
    KnownDifference(
        key="trunc-single-argument",
        manual="https://www.mongodb.com/docs/v7.0/reference/operator/aggregation/",
        rule=(
            "Expression Operators: 'If an operator accepts a single argument, you "
            "can omit the outer array designating the argument list: "
            "{ <operator>: <argument> }'; $trunc takes <number> and an optional "
            "<place> (https://www.mongodb.com/docs/v7.0/reference/operator/"
            "aggregation/trunc/), so { $trunc: <number> } is { $trunc: [<number>] }."
        ),
        mingo="mingo 7.2.7 throws '$trunc expects array(2)' for { $trunc: <number> }.",
        # The manual's own example (the $trunc page up to 4.0).
        proof_documents=[
            {"_id": i, "value": v}
            for i, v in enumerate([9.25, 8.73, 4.32, -5.34], start=1)
        ],
        proof_pipeline=[{"$project": {"truncatedValue": {"$trunc": "$value"}}}],
        expected=[
            {"_id": i, "truncatedValue": v}
            for i, v in enumerate([9, 8, 4, -5], start=1)
        ],
        rewrite=_spell_trunc_as_list,
    ),
    KnownDifference(
        key="stddev-of-too-few-values",
        manual="https://www.mongodb.com/docs/v7.0/reference/operator/aggregation/stdDevSamp/",
        rule=(
            "$stdDevSamp, Behavior: 'If the sample consists of a single numeric "
            "value, $stdDevSamp returns null'; 'If all operands ... are non-numeric, "
            "$stdDevSamp returns null' (and $stdDevPop likewise: https://www."
            "mongodb.com/docs/v7.0/reference/operator/aggregation/stdDevPop/)."
        ),
        mingo=(
            "mingo 7.2.7 returns NaN for a $stdDevSamp of one value in $group and "
            "$setWindowFields, -0 for a window holding only nulls, and NaN / -0 "
            "for $stdDevPop / $stdDevSamp of an empty array."
        ),
        proof_documents=[{"_id": 1, "x": 5.0}],
        proof_pipeline=[{"$group": {"_id": None, "s": {"$stdDevSamp": "$x"}}}],
        expected=[{"_id": None, "s": None}],
        tolerates=_null_read_as_nan_or_negative_zero,
    ),
    KnownDifference(
        key="densify-explicit-bounds",
        manual="https://www.mongodb.com/docs/v7.0/reference/operator/aggregation/densify/",
        rule=(
            "range.bounds [lower, upper]: $densify adds documents on the step grid "
            "from lower (inclusive) to upper (exclusive), before, between and after "
            "the input documents."
        ),
        mingo=(
            "mingo 7.2.7 fills from lower only up to the last input document: "
            "grid points after it and below upper are missing (an empty input "
            "gets none). Sent to mingo in the equivalent documents-plus-'full' "
            "form (_densify_with_bound_documents)."
        ),
        # The manual's example "Densify Time Series Data" (weather readings at
        # 00:00, 04:00, 08:00), with the upper bound after the last reading.
        proof_documents=[
            {"_id": i, "timestamp": _hour(h), "temp": t}
            for i, (h, t) in enumerate([(0, 12), (4, 11), (8, 11)])
        ],
        proof_pipeline=[
            {
                "$densify": {
                    "field": "timestamp",
                    "range": {
                        "step": 1,
                        "unit": "hour",
                        "bounds": [_hour(0), _hour(12)],
                    },
                }
            },
            {"$project": {"_id": 0, "timestamp": 1}},
        ],
        expected=[{"timestamp": _hour(h)} for h in range(12)],
        rewrite=_densify_explicit_bounds,
    ),
    KnownDifference(
        key="stddev-overflow",
        manual="https://www.mongodb.com/docs/v7.0/reference/operator/aggregation/stdDevPop/",
        rule=(
            "The manual gives the result type (a double) but no value for a "
            "standard deviation whose squares overflow the double range; both "
            "engines return a non-finite double and the view reports null for "
            "either (README, Analytics: 'Standard deviations of values beyond "
            "~10^154 overflow and are reported as null')."
        ),
        mingo="mingo 7.2.7 returns Infinity where the in-process engine returns NaN.",
        proof_documents=[{"_id": 1, "x": 1e300}, {"_id": 2, "x": -1e300}],
        proof_pipeline=[{"$group": {"_id": None, "s": {"$stdDevPop": "$x"}}}],
        expected=[{"_id": None, "s": math.nan}],
        tolerates=_overflow_nan_or_infinity,
    ),
    KnownDifference(
        key="date-trunc-in-a-time-zone",
        manual="https://www.mongodb.com/docs/v7.0/reference/operator/aggregation/dateTrunc/",
        rule=(
            "$dateTrunc: 'timezone: The timezone to carry out the operation' (an "
            "Olson identifier); the result is the start of the unit holding `date` "
            "in that zone's local time, returned as an instant; a date exactly on "
            "a unit's start is that start."
        ),
        mingo=(
            "mingo 7.2.7 misplaces the local unit in zones other than UTC: a date "
            "on a local midnight truncates to the day before in Europe/Berlin, an "
            "evening in America/New_York to the next day, and Asia/Kolkata hours "
            "start on the UTC hour ($dateFromParts with a timezone is off the same "
            "way). Sent to mingo as UTC arithmetic on the local wall time, with "
            "the zone's offsets from the IANA rules (_zoned_trunc_in_utc)."
        ),
        # 2024-02-01 00:00 in Berlin (CET, +01:00) is 2024-01-31T23:00Z.
        proof_documents=[{"_id": 1, "t": dt.datetime(2024, 1, 31, 23, tzinfo=dt.UTC)}],
        proof_pipeline=[
            {
                "$project": {
                    "d": {
                        "$dateTrunc": {
                            "date": "$t",
                            "unit": "day",
                            "timezone": "Europe/Berlin",
                        }
                    }
                }
            }
        ],
        expected=[{"_id": 1, "d": dt.datetime(2024, 1, 31, 23, tzinfo=dt.UTC)}],
        rewrite=_zoned_dates_in_utc,
    ),
)


def for_mingo(pipeline: list[dict]) -> list[dict]:
    """The pipeline as sent to mingo: every known difference's rewrite applied."""
    for difference in KNOWN_DIFFERENCES:
        if difference.rewrite is not None:
            pipeline = difference.rewrite(pipeline)
    return pipeline


def mingo_tolerance(pipeline: list[dict]) -> Tolerate:
    """A disagreement is expected when some known difference explains it."""
    rules = [d.tolerates for d in KNOWN_DIFFERENCES if d.tolerates is not None]

    def tolerate(path: Path, ours, theirs) -> bool:
        return any(rule(pipeline, path, ours, theirs) for rule in rules)

    return tolerate
