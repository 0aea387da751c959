"""Operators the in-process engine (mongomock) lacks, following the MongoDB manual.

Everything the pipelines need beyond mongomock 4.3 lives in this package (this module
and `bulk`), so production pipelines run unchanged on a real MongoDB >= 7.0 and in
process:

- accumulators `$stdDevPop`, `$stdDevSamp` (in `$group`, expressions and windows);
- the manual's single-operand array rule for `$sum/$avg/$min/$max/$stdDev*` in
  expressions (`{$avg: {$map: ...}}` averages the array);
- expressions `$sortArray`, `$range` and `$dateTrunc` (units hour to year, binSize
  1, `timezone` and `startOfWeek`, DST-correct through zoneinfo);
- the date-part operators' document form without a time zone (`{$hour: {date:
  <expr>}}`, which the manual defines as UTC; mongomock reads only `{date,
  timezone}` or a bare date);
- stages `$setWindowFields` (documents and range windows, accumulators,
  `$documentNumber`, `$rank`, `$denseRank`, `$shift`) and `$densify`;
- unique indexes checked atomically with the write, as on a server (see
  `_install_atomic_writes`);
- engine speed-ups that do not change results: a leading `$match` is answered by
  `find()` (as a server answers it from an index) instead of copying the whole
  collection first, and simple top-level equalities are checked with a plain
  dictionary lookup before mongomock's general matcher runs.

tests/unit/test_inprocess_engine.py checks each addition against the manual's examples.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
import numbers
import threading
import zoneinfo
from collections.abc import Callable
from typing import Any

from mongomock import OperationFailure, aggregate, filtering, helpers
from mongomock import collection as mongomock_collection
from mongomock.collection import Collection

from data import timeunits
from data.timeunits import TIME_UNITS

_installed = False
WRITE_LOCK = threading.RLock()
_MISSING = object()
_SUMMING_OPERATORS = ("$sum", "$avg", "$min", "$max", "$stdDevPop", "$stdDevSamp")


def install() -> None:
    """Register the missing operators with mongomock once per process."""
    global _installed
    if _installed:
        return
    _installed = True
    aggregate._GROUPING_OPERATOR_MAP["$stdDevPop"] = _std_dev_pop
    aggregate._GROUPING_OPERATOR_MAP["$stdDevSamp"] = _std_dev_samp
    _install_expressions()
    aggregate._PIPELINE_HANDLERS["$setWindowFields"] = _handle_set_window_fields
    aggregate._PIPELINE_HANDLERS["$densify"] = _handle_densify
    _install_match_pushdown()
    _install_atomic_writes()
    aggregate._accumulate_group = _accumulate_with_hashed_sets(
        aggregate._accumulate_group
    )


# --- accumulators ------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _numbers(values) -> list[float]:
    """Numeric values only: the manual says these operators ignore everything else."""
    return [value for value in values if _is_number(value)]


def _std_dev(values, ddof: int) -> float | None:
    numbers_only = _numbers(values)
    if len(numbers_only) <= ddof or not numbers_only:
        return None
    if not all(math.isfinite(value) for value in numbers_only):
        return None
    try:
        mean = math.fsum(numbers_only) / len(numbers_only)
        squares = math.fsum((value - mean) ** 2 for value in numbers_only)
    except OverflowError:
        return math.nan  # beyond double range, as a server's running sums would be
    return math.sqrt(squares / (len(numbers_only) - ddof))


def _std_dev_pop(values) -> float | None:
    """$stdDevPop: population standard deviation; 0 for one value, null for none."""
    return _std_dev(values, 0)


def _std_dev_samp(values) -> float | None:
    """$stdDevSamp: sample standard deviation; null for fewer than two values."""
    return _std_dev(values, 1)


# --- expressions -------------------------------------------------------------------


def _install_expressions() -> None:
    aggregate.array_operators.extend(["$sortArray", "$dateTrunc"])
    original_project = aggregate._Parser._handle_project_operator
    original_array = aggregate._Parser._handle_array_operator

    def handle_project_operator(parser, operator, values):
        if operator in _SUMMING_OPERATORS and not isinstance(values, list):
            return aggregate._GROUPING_OPERATOR_MAP[operator](
                _single_operand(parser, values)
            )
        return original_project(parser, operator, values)

    def handle_array_operator(parser, operator, value):
        if operator == "$sortArray":
            return _sort_array(parser, value)
        if operator == "$range":
            return _range(parser, value)
        if operator == "$dateTrunc":
            return _date_trunc(parser, value)
        return original_array(parser, operator, value)

    original_arithmetic = aggregate._Parser._handle_arithmetic_operator

    def handle_arithmetic_operator(parser, operator, values):
        if operator in _ROUNDING:
            return _round(parser, operator, values)
        return original_arithmetic(parser, operator, values)

    original_date = aggregate._Parser._handle_date_operator

    def handle_date_operator(parser, operator, values):
        if isinstance(values, dict) and values.keys() == {"date"}:
            values = values["date"]  # no timezone: the manual's UTC
        return original_date(parser, operator, values)

    aggregate._Parser._handle_project_operator = handle_project_operator
    aggregate._Parser._handle_array_operator = handle_array_operator
    aggregate._Parser._handle_arithmetic_operator = handle_arithmetic_operator
    aggregate._Parser._handle_date_operator = handle_date_operator


_ROUNDING: dict[str, Callable[[float], int]] = {
    "$ceil": math.ceil,
    "$floor": math.floor,
    "$trunc": math.trunc,
}


def _round(parser, operator: str, expression):
    """$ceil/$floor/$trunc; infinities and NaN pass through as on a server."""
    try:
        number = parser.parse(expression)
    except KeyError:
        return None
    if number is None:
        return None
    if not _is_number(number):
        raise OperationFailure(
            f"{operator} only supports numeric types, not {number!r}"
        )
    if isinstance(number, float) and not math.isfinite(number):
        return number
    return _ROUNDING[operator](number)


def _single_operand(parser, expression) -> list:
    """One operand: an array is traversed, a scalar counts once, missing is nothing."""
    try:
        value = parser.parse(expression)
    except KeyError:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _sort_array(parser, spec) -> list | None:
    """$sortArray: {input, sortBy: 1 | -1 | {field: 1 | -1, ...}}."""
    if not isinstance(spec, dict) or set(spec) != {"input", "sortBy"}:
        raise OperationFailure("$sortArray requires exactly 'input' and 'sortBy'")
    values = parser._parse_or_nothing(spec["input"])
    if values is None or values is aggregate.NOTHING:
        return None
    if not isinstance(values, list | tuple):
        raise OperationFailure("The input argument to $sortArray must be an array")
    sort_by = spec["sortBy"]
    if isinstance(sort_by, dict):
        return _sort_documents(list(values), sort_by)
    if sort_by not in (1, -1):
        raise OperationFailure("$sortArray sortBy must be 1, -1 or a sort document")
    return sorted(values, key=filtering.BsonComparable, reverse=sort_by < 0)


def _sort_documents(values: list, sort_by: dict) -> list:
    # Stable sorts from the last key to the first give the compound order.
    for key, direction in reversed(list(sort_by.items())):
        values = sorted(
            values,
            key=functools.partial(_sort_key, key=key),
            reverse=direction < 0,
        )
    return values


def _sort_key(item, key: str):
    if not isinstance(item, dict):
        return filtering.BsonComparable(None)
    return filtering.resolve_sort_key(key, item)


def _range(parser, value) -> list[int]:
    """$range: [start, end, step?] of integers."""
    arguments = list(parser.parse_many(value))
    if len(arguments) not in (2, 3) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in arguments
    ):
        raise OperationFailure("$range requires 2 or 3 integer arguments")
    step = arguments[2] if len(arguments) == 3 else 1
    if step == 0:
        raise OperationFailure("$range requires a non-zero step value")
    return list(range(arguments[0], arguments[1], step))


# --- dates -------------------------------------------------------------------------

_WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_WEEKDAY_ABBREVIATIONS = {name[:3]: index for index, name in enumerate(_WEEKDAYS)}


def _date_trunc(parser, spec) -> dt.datetime | None:
    """$dateTrunc: {date, unit, binSize: 1, timezone, startOfWeek} (manual: the
    start of the unit holding `date` in `timezone`, returned as a UTC instant)."""
    if not isinstance(spec, dict) or not {"date", "unit"} <= set(spec):
        raise OperationFailure("$dateTrunc requires 'date' and 'unit'")
    if spec.get("binSize", 1) != 1:
        raise OperationFailure("$dateTrunc: only binSize 1 is supported in process")
    value = parser._parse_or_nothing(spec["date"])
    if value is None or value is aggregate.NOTHING:
        return None
    if not isinstance(value, dt.datetime):
        raise OperationFailure("$dateTrunc requires 'date' to be a date")
    aware = value.tzinfo is not None
    moment = value if aware else value.replace(tzinfo=dt.UTC)
    local = moment.astimezone(_zone(spec.get("timezone", "UTC")))
    start = _local_unit_start(local.replace(tzinfo=None), spec["unit"], spec)
    result = start.replace(tzinfo=local.tzinfo).astimezone(dt.UTC)
    return result if aware else result.replace(tzinfo=None)


def _zone(name: str) -> dt.tzinfo:
    if name in ("UTC", "Etc/UTC", "GMT", "Z"):
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise OperationFailure(f"unrecognized time zone identifier: {name}") from None


def _local_unit_start(local: dt.datetime, unit: str, spec: dict) -> dt.datetime:
    if unit in ("second", "minute", "hour"):
        fields: dict[str, dict[str, Any]] = {
            "second": {"microsecond": 0},
            "minute": {"second": 0, "microsecond": 0},
        }
        return local.replace(
            **fields.get(unit, {"minute": 0, "second": 0, "microsecond": 0})
        )
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return midnight
    if unit == "week":
        first = _WEEKDAY_ABBREVIATIONS[
            str(spec.get("startOfWeek", "sunday"))[:3].lower()
        ]
        return midnight - dt.timedelta(days=(midnight.weekday() - first) % 7)
    if unit == "month":
        return midnight.replace(day=1)
    if unit == "quarter":
        return midnight.replace(month=(midnight.month - 1) // 3 * 3 + 1, day=1)
    if unit == "year":
        return midnight.replace(month=1, day=1)
    raise OperationFailure(f"unknown time unit value: {unit}")


def add_units(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    """$dateAdd semantics; an unknown unit fails as on a server."""
    if unit not in TIME_UNITS:
        raise OperationFailure(f"unknown time unit value: {unit}")
    return timeunits.add_units(moment, amount, unit)


def _align_awareness(value, reference):
    """Compare datetimes as UTC whether or not either side carries a timezone."""
    if not isinstance(value, dt.datetime) or not isinstance(reference, dt.datetime):
        return value
    if reference.tzinfo is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    if reference.tzinfo is None and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


# --- $setWindowFields --------------------------------------------------------------

_WINDOW_OPERATORS = {
    "$sum": lambda values: aggregate._sum_operation(values),
    "$avg": lambda values: aggregate._avg_operation(values),
    "$min": lambda values: _extreme(values, min),
    "$max": lambda values: _extreme(values, max),
    "$stdDevPop": _std_dev_pop,
    "$stdDevSamp": _std_dev_samp,
    "$push": lambda values: list(values),
    "$addToSet": lambda values: _distinct(values),
    "$first": lambda values: values[0] if values else None,
    "$last": lambda values: values[-1] if values else None,
}
_RANK_OPERATORS = ("$documentNumber", "$rank", "$denseRank")


def _extreme(values, pick):
    present = [value for value in values if value is not None]
    if not present:
        return None
    return pick(present, key=filtering.BsonComparable)


def _distinct(values) -> list:
    result = []
    for value in values:
        if value not in result:
            result.append(value)
    return result


def _handle_set_window_fields(in_collection, unused_database, options):
    """$setWindowFields: partition, sort, then compute each output over its window."""
    unknown = set(options) - {"partitionBy", "sortBy", "output"}
    if unknown or "output" not in options:
        raise OperationFailure(f"$setWindowFields: unknown or missing fields {unknown}")
    sort_by = options.get("sortBy") or {}
    output = []
    for partition in _partitions(in_collection, options.get("partitionBy")):
        rows = _sorted_rows([dict(doc) for doc in partition], sort_by)
        for field, spec in options["output"].items():
            _compute_window_output(rows, field, spec, sort_by)
        output.extend(rows)
    return output


def _evaluate(expression, doc):
    try:
        return aggregate._parse_expression(expression, doc, ignore_missing_keys=True)
    except KeyError:
        return _MISSING


def _partitions(docs, partition_by) -> list[list]:
    """Groups of documents with equal partition keys, in BSON order of the key."""
    if partition_by is None:
        return [list(docs)] if docs else []
    keyed = [(_evaluate(partition_by, doc), doc) for doc in docs]
    keyed = [(None if key is _MISSING else key, doc) for key, doc in keyed]
    keyed.sort(key=lambda pair: filtering.BsonComparable(pair[0]))
    groups: list[list] = []
    previous = None
    for key, doc in keyed:
        comparable = filtering.BsonComparable(key)
        # BsonComparable only defines "<": a new group starts where the order rises.
        if previous is None or previous < comparable:
            groups.append([])
        groups[-1].append(doc)
        previous = comparable
    return groups


def _sorted_rows(rows: list[dict], sort_by: dict) -> list[dict]:
    for key, direction in reversed(list(sort_by.items())):
        rows = sorted(
            rows,
            key=functools.partial(filtering.resolve_sort_key, key),
            reverse=direction < 0,
        )
    return rows


def _compute_window_output(rows: list[dict], field: str, spec: dict, sort_by):
    operators = [key for key in spec if key != "window"]
    if len(operators) != 1:
        raise OperationFailure(f"Expected exactly one window operator for '{field}'")
    operator = operators[0]
    if operator in _RANK_OPERATORS or operator == "$shift":
        if "window" in spec:
            raise OperationFailure(f"{operator} does not accept a 'window' field")
        values = _rank_values(rows, operator, spec[operator], sort_by)
    elif operator in _WINDOW_OPERATORS or operator == "$count":
        values = _accumulate_windows(rows, operator, spec[operator], spec, sort_by)
    else:
        raise NotImplementedError(f"{operator} is not supported in $setWindowFields")
    for row, value in zip(rows, values, strict=True):
        helpers.set_value_by_dot(_ensure_parents(row, field), field, value)


def _ensure_parents(row: dict, field: str) -> dict:
    target = row
    for part in field.split(".")[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    return row


def _rank_values(rows, operator, argument, sort_by) -> list:
    if operator == "$shift":
        return _shift_values(rows, argument)
    if len(sort_by) != 1:
        raise OperationFailure(
            f"{operator} must be specified with a single sortBy field"
        )
    key = next(iter(sort_by))
    sort_keys = [filtering.resolve_sort_key(key, row) for row in rows]
    values, rank, dense = [], 0, 0
    for index, sort_key in enumerate(sort_keys):
        tied = index > 0 and not (
            sort_keys[index - 1] < sort_key or sort_key < sort_keys[index - 1]
        )
        if not tied:
            rank, dense = index + 1, dense + 1
        values.append(
            {"$documentNumber": index + 1, "$rank": rank}.get(operator, dense)
        )
    return values


def _shift_values(rows, argument: dict) -> list:
    offset = argument["by"]
    default = argument.get("default")
    values = []
    for index in range(len(rows)):
        target = index + offset
        if 0 <= target < len(rows):
            value = _evaluate(argument["output"], rows[target])
            values.append(None if value is _MISSING else value)
        else:
            values.append(default)
    return values


def _accumulate_windows(rows, operator, argument, spec, sort_by) -> list:
    window = spec.get("window", {})
    if "documents" in window and "range" in window:
        raise OperationFailure(
            "Window bounds can specify either 'documents' or 'range'"
        )
    if operator == "$count":
        operator, argument = "$sum", 1
    values = [_evaluate(argument, row) for row in rows]
    if "range" in window:
        spans = _range_spans(rows, window, sort_by)
    else:
        spans = _document_spans(len(rows), window.get("documents"))
    reduce = _WINDOW_OPERATORS[operator]
    return [
        reduce([value for value in values[start:stop] if value is not _MISSING])
        for start, stop in spans
    ]


def _document_spans(count: int, bounds) -> list[tuple[int, int]]:
    lower, upper = bounds or ("unbounded", "unbounded")
    spans = []
    for index in range(count):
        start = 0 if lower == "unbounded" else index + _offset(lower)
        stop = count if upper == "unbounded" else index + _offset(upper) + 1
        spans.append((max(start, 0), max(min(stop, count), max(start, 0))))
    return spans


def _offset(bound) -> int:
    if bound == "current":
        return 0
    if isinstance(bound, int) and not isinstance(bound, bool):
        return bound
    raise OperationFailure(f"Numeric document window bound must be an integer: {bound}")


def _range_spans(rows, window, sort_by) -> list[tuple[int, int]]:
    if len(sort_by) != 1 or next(iter(sort_by.values())) != 1:
        raise OperationFailure("Range-based windows require a single ascending sortBy")
    key = next(iter(sort_by))
    unit = window.get("unit")
    points = [_evaluate(f"${key}", row) for row in rows]
    eligible = [_range_value_ok(point, unit) for point in points]
    spans = []
    for point in points:
        if not _range_value_ok(point, unit):
            raise OperationFailure(
                "Range windows require numeric (or date) sortBy values"
            )
        low, high = (_range_limit(point, bound, unit) for bound in window["range"])
        spans.append(_span_between(points, eligible, low, high))
    return spans


def _range_value_ok(point, unit) -> bool:
    return isinstance(point, dt.datetime) if unit else _is_number(point)


def _range_limit(point, bound, unit):
    if bound == "unbounded":
        return None
    if bound == "current":
        return point
    if unit:
        if not isinstance(bound, int):
            raise OperationFailure("Time range window bounds must be integers")
        return add_units(point, bound, unit)
    return point + bound


def _span_between(points, eligible, low, high) -> tuple[int, int]:
    inside = [
        index
        for index, point in enumerate(points)
        if eligible[index]
        and (low is None or point >= low)
        and (high is None or point <= high)
    ]
    return (inside[0], inside[-1] + 1) if inside else (0, 0)


# --- $densify ----------------------------------------------------------------------


def _handle_densify(in_collection, unused_database, options):
    """$densify: add documents on the step grid where values are missing."""
    field, partition_fields, step, unit, bounds = _densify_options(options)
    passing, keyed = [], []
    for doc in in_collection:
        value = _field_value(doc, field)
        if value is _MISSING:
            passing.append(doc)
            continue
        _check_densify_type(value, unit)
        keyed.append(
            (tuple(_field_value(doc, f) for f in partition_fields), value, doc)
        )
    output = list(passing)
    for key, members in _densify_partitions(keyed, partition_fields, bounds):
        values = [value for value, _ in members]
        start, stop, inclusive = _densify_range(keyed, values, bounds, step, unit)
        generated = _grid_values(values, start, stop, inclusive, step, unit)
        output.extend(doc for _, doc in members)
        output.extend(
            _generated_doc(field, partition_fields, key, value) for value in generated
        )
    return sorted(
        output, key=lambda doc: _densify_sort_key(doc, field, partition_fields)
    )


def _densify_options(options: dict):
    field = options.get("field")
    if not isinstance(field, str) or field.startswith("$"):
        raise OperationFailure("$densify 'field' must be a field name without '$'")
    partition_fields = list(options.get("partitionByFields", []))
    range_spec = options.get("range") or {}
    step: Any = range_spec.get("step")
    unit = range_spec.get("unit")
    bounds = range_spec.get("bounds")
    if not _is_number(step) or step <= 0:
        raise OperationFailure("$densify 'step' must be a positive number")
    if unit and not float(step).is_integer():
        raise OperationFailure("$densify 'step' must be an integer when 'unit' is set")
    if bounds not in ("full", "partition") and not (
        isinstance(bounds, list | tuple) and len(bounds) == 2
    ):
        raise OperationFailure(
            "$densify 'bounds' must be 'full', 'partition' or [lo, hi]"
        )
    return field, partition_fields, int(step) if unit else step, unit, bounds


def _field_value(doc, field):
    try:
        return helpers.get_value_by_dot(doc, field)
    except KeyError:
        return _MISSING


def _check_densify_type(value, unit) -> None:
    if unit and not isinstance(value, dt.datetime):
        raise OperationFailure("Encountered non-date densify value with a date unit")
    if not unit and not _is_number(value):
        raise OperationFailure("Encountered non-numeric densify value without a unit")


def _densify_partitions(keyed, partition_fields, bounds):
    groups: list[tuple[tuple, list]] = []
    for key, value, doc in keyed:
        for group_key, members in groups:
            if group_key == key:
                members.append((value, doc))
                break
        else:
            groups.append((key, [(value, doc)]))
    if not groups and not partition_fields and isinstance(bounds, list | tuple):
        groups.append(((), []))  # explicit bounds densify even an empty input
    for _, members in groups:
        members.sort(key=lambda pair: filtering.BsonComparable(pair[0]))
    return groups


def _densify_range(keyed, values, bounds, step, unit):
    """Grid anchor, end and whether the end is inclusive, per the server's rules."""
    if isinstance(bounds, list | tuple):
        reference = values[0] if values else bounds[0]
        low, high = (_align_awareness(bound, reference) for bound in bounds)
        return low, high, False
    if bounds == "full":
        everything = sorted(
            (value for _, value, _ in keyed), key=filtering.BsonComparable
        )
        return everything[0], everything[-1], True
    return values[0], values[-1], False


def _grid_values(values, start, stop, inclusive, step, unit) -> list:
    """Grid points from `start` (stepping like the server, one step at a time) up to
    `stop`, except where a document already holds the value."""
    present = set(values)
    generated, current = [], start
    while current < stop or (inclusive and current == stop):
        if current not in present:
            generated.append(current)
        current = add_units(current, step, unit) if unit else current + step
    return generated


def _generated_doc(field, partition_fields, key, value) -> dict:
    doc: dict = {}
    for name, part in zip(partition_fields, key, strict=True):
        if part is not _MISSING:
            helpers.set_value_by_dot(_ensure_parents(doc, name), name, part)
    helpers.set_value_by_dot(_ensure_parents(doc, field), field, value)
    return doc


def _densify_sort_key(doc, field, partition_fields):
    parts = [filtering.resolve_sort_key(name, doc) for name in partition_fields]
    return (*parts, filtering.resolve_sort_key(field, doc))


# --- writes ------------------------------------------------------------------------


def _install_atomic_writes() -> None:
    """Make each document write and its unique-index check one step.

    A server refuses the second of two racing inserts with the same unique key.
    mongomock stores the document first and then counts duplicates, so two threads
    can each see the other's document and both roll back (and a retry loop can
    then lose every round). One process-wide lock around its insert and update
    paths restores the server's behaviour; reads are not affected.
    """
    for name in ("_insert", "_update"):
        original = getattr(Collection, name)

        def locked(collection, *args, _original=original, **kwargs):
            with WRITE_LOCK:
                return _original(collection, *args, **kwargs)

        setattr(Collection, name, locked)


# --- engine speed-ups (same results, less copying) ---------------------------------


def _install_match_pushdown() -> None:
    original_iter = Collection._iter_documents

    def aggregate_with_pushdown(collection, pipeline, session=None, **unused_kwargs):
        stages = list(pipeline)
        match = {}
        if stages and list(stages[0]) == ["$match"]:
            match, stages = stages[0]["$match"], stages[1:]
        documents = _matching_copies(collection, match)
        return aggregate.process_pipeline(
            documents, collection.database, stages, session
        )

    def iter_documents(collection, filter):
        equalities = _simple_equalities(filter)
        if not equalities or collection._store.is_empty:
            return original_iter(collection, filter)
        return _prefiltered(list(collection._store.documents), filter, equalities)

    Collection.aggregate = aggregate_with_pushdown  # type: ignore[assignment]
    Collection._iter_documents = iter_documents
    mongomock_collection._copy_field = _copy_field
    original_unwind = aggregate._PIPELINE_HANDLERS["$unwind"]
    aggregate._PIPELINE_HANDLERS["$unwind"] = _unwind_with(original_unwind)
    original_group = aggregate._PIPELINE_HANDLERS["$group"]
    aggregate._PIPELINE_HANDLERS["$group"] = _group_with(original_group)
    aggregate._parse_expression = _parse_expression_with(aggregate._parse_expression)


def _parse_expression_with(original):
    """Field paths ("$a.b") resolved directly, as mongomock's parser would."""

    def parse_expression(expression, doc_dict, ignore_missing_keys=False):
        if (
            expression.__class__ is str
            and expression.startswith("$")
            and not expression.startswith("$$")
        ):
            return helpers.get_value_by_dot(
                doc_dict, expression[1:], can_generate_array=True
            )
        return original(expression, doc_dict, ignore_missing_keys=ignore_missing_keys)

    return parse_expression


def _hash_marker(key):
    """A dict key that groups exactly the values MongoDB groups (None: unhashable)."""
    if key.__class__ is bool:
        return ("bool", key)  # True and 1 are different groups in MongoDB
    if isinstance(key, str | int | float | dt.datetime) or key is None:
        return key
    return _MISSING


def _group_with(original):
    """$group by hashing scalar keys instead of sorting every document by key."""

    def handle_group(in_collection, database, options):
        # One output document per group key, so none without input (mongomock
        # makes one for a constant key such as null; a server makes none).
        if not in_collection:
            return []
        expression = options["_id"]
        if not expression:
            return original(in_collection, database, options)
        groups: dict = {}
        for doc in in_collection:
            try:
                key = aggregate._parse_expression(
                    expression, doc, ignore_missing_keys=True
                )
            except KeyError:
                key = None
            marker = _hash_marker(key)
            if marker is _MISSING:
                return original(in_collection, database, options)
            groups.setdefault(marker, (key, []))[1].append(doc)
        ordered = sorted(
            groups.values(), key=lambda pair: filtering.BsonComparable(pair[0])
        )
        output = []
        for key, members in ordered:
            row = aggregate._accumulate_group(options, members)
            row["_id"] = key
            output.append(row)
        return output

    return handle_group


def _set_key(value):
    """A hashable stand-in that is equal exactly when $addToSet treats two values
    as one: documents by their fields in order, arrays by their elements, and
    booleans apart from numbers."""
    if isinstance(value, dict):
        return ("doc", tuple((key, _set_key(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return ("array", tuple(_set_key(item) for item in value))
    if value.__class__ is bool:
        return ("bool", value)
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return value


def _accumulate_with_hashed_sets(original):
    """mongomock's group accumulation, with $addToSet deduplicated by hashing.

    mongomock checks each value against the list built so far, so one $addToSet
    costs rows x distinct values comparisons: over a million roll-up documents
    with thousands of dimension combinations (the analysis view's `dimensions`
    facet) processing never finished. Same values, same first-seen order, and
    mongomock's own reading of each value kept (`val or None`)."""

    def accumulate(output_fields, group_list):
        sets = {
            field: spec["$addToSet"]
            for field, spec in output_fields.items()
            if field != "_id" and isinstance(spec, dict) and "$addToSet" in spec
        }
        if not sets:
            return original(output_fields, group_list)
        others = {field: spec for field, spec in output_fields.items()
                  if field not in sets}  # fmt: skip
        computed = original(others, group_list)
        for field, expression in sets.items():
            seen: set = set()
            members = []
            for doc in group_list:
                try:
                    value = aggregate._parse_expression(expression, doc) or None
                except KeyError:
                    continue
                key = _set_key(value)
                if key not in seen:
                    seen.add(key)
                    members.append(value)
            computed[field] = members
        return {field: computed[field] for field in output_fields if field in computed}

    return accumulate


def _matching_copies(collection, match: dict) -> list[dict]:
    """Independent copies of the matching documents, as find() returns them.

    One pass per document (mongomock's cursor copies twice and re-slices its
    result list on every step, which is quadratic in the number of matches)."""
    validate = getattr(mongomock_collection, "validate_is_mapping", None)
    if validate:
        validate("filter", match)
    spec = helpers.patch_datetime_awareness_in_document(match)
    matched = collection._iter_documents(spec)
    if collection.codec_options.tz_aware:
        # This conversion rebuilds every dict and list, so it is also the copy.
        return [
            helpers.make_datetime_timezone_aware_in_document(doc) for doc in matched
        ]
    return [_copy_field(doc, dict) for doc in matched]


def _unwind_copies(doc: dict, field: str) -> list[dict]:
    """One copy of `doc` per element of `doc[field]`, as $unwind outputs them."""
    value = doc.get(field)
    if not isinstance(value, list):
        present = value is not None and field in doc
        return [copy.deepcopy(doc)] if present else []
    return [
        {
            key: copy.deepcopy(item if key == field else other)
            for key, other in doc.items()
        }
        for item in value
    ]


def _unwind_with(original):
    """$unwind that copies the rest of the document once per element, instead of
    deep-copying the whole document (array included) for every element."""

    def handle_unwind(in_collection, database, options):
        spec = options if isinstance(options, dict) else {"path": options}
        path = spec.get("path")
        simple = isinstance(path, str) and path.startswith("$") and "." not in path
        if not simple or set(spec) != {"path"}:
            return original(in_collection, database, options)
        return [
            unwound
            for doc in in_collection
            for unwound in _unwind_copies(doc, path[1:])
        ]

    return handle_unwind


def _simple_equalities(filter) -> dict:
    """Top-level `field: scalar` conditions that a dictionary lookup can decide."""
    if not isinstance(filter, dict):
        return {}
    return {
        key: value
        for key, value in filter.items()
        if not key.startswith("$")
        and "." not in key
        and (isinstance(value, str) or _is_number(value))
    }


def _prefiltered(documents: list, filter: dict, equalities: dict):
    """Decide plain equalities by lookup; defer anything subtle to mongomock.

    Inlined loop: this runs once per stored document on every query."""
    items = list(equalities.items())
    exact = len(equalities) == len(filter)
    decidable = _DECIDABLE_TYPES
    for doc in documents:
        # True: equalities hold; False: one fails; None: ask mongomock.
        verdict: bool | None = True
        for key, wanted in items:
            stored = doc.get(key, _MISSING)
            if stored == wanted:
                if stored.__class__ is bool:  # True == 1 in Python, not in MongoDB
                    verdict = None
                continue
            verdict = False if stored.__class__ in decidable else None
            break
        if verdict is False:
            continue
        if verdict is None or not exact:
            verdict = filtering.filter_applies(filter, doc)
        if verdict:
            yield doc


_DECIDABLE_TYPES = (str, int, float, dict, type(None), dt.datetime, type(_MISSING))
_IMMUTABLE_TYPES = frozenset((str, int, float, bool, type(None), dt.datetime))


def _copy_field(value, container):
    """mongomock's document copy without copying immutable scalars one by one."""
    kind = value.__class__
    if kind in _IMMUTABLE_TYPES:
        return value
    if kind is list:
        return [_copy_field(item, container) for item in value]
    if isinstance(value, dict):
        copied = container()
        for key, item in value.items():
            copied[key] = _copy_field(item, container)
        return copied
    return copy.copy(value)
