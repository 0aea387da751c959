"""Validate a parsed chunk and turn its good rows into record documents.

Bad-row policy: a row is bad when its time is missing or not in the column's date
format, when a metric cell holds something that is not a finite number, or (JSON)
when a record is not an object. Bad rows are skipped and counted; the first 20 are
reported as "row 17, column revenue: 'abc' is not a number". When more than
`max_bad_row_fraction` (default 10%) of the rows are bad, the whole version fails
instead (a file that broken is more likely misread than dirty). Empty metric cells,
NaN and the other null tokens are missing values (null), not errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.ingest import dates
from data.ingest.readers import ERROR_COLUMN, EXTRA_COLUMN
from data.ingest.values import missing_mask, parse_numbers, quote_cell
from data.kpi.identity import hash_identifiers

MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class ConvertPlan:
    """Which keys hold the time, metrics and dimensions, and how to parse them."""

    time: tuple[str, str]  # (name, key)
    time_format: str
    metrics: list[tuple[str, str, str]]  # (name, key, decimal)
    dimensions: list[tuple[str, str]]  # (name, key)
    width: int = 0  # columns in the header
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # (name, key)
    identifier_secret: bytes = b""  # the dataset's HMAC key (data/kpi/identity.py)


@dataclass
class Converted:
    """The accepted rows of a chunk, column by column, and what was wrong."""

    rows: np.ndarray
    times: pd.Series
    metrics: dict[str, np.ndarray]
    dimensions: dict[str, np.ndarray]
    total: int
    bad: int
    errors: list[dict] = field(default_factory=list)
    identifiers: dict[str, np.ndarray] = field(default_factory=dict)  # HMAC hashes


class _Errors:
    """Bad-row mask plus messages for the first few bad rows (built lazily)."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows
        self.bad = np.zeros(len(rows), dtype=bool)
        self.found: list[tuple[int, str | None, str]] = []

    def add(self, mask: np.ndarray, column: str | None, describe: Callable) -> None:
        new = mask & ~self.bad
        for position in np.flatnonzero(new)[:MAX_REPORTED_ERRORS]:
            self.found.append((int(position), column, describe(position)))
        self.bad |= new

    def first(self) -> list[dict]:
        ordered = sorted(self.found)[:MAX_REPORTED_ERRORS]
        return [
            _row_error(int(self.rows[p]), column, text) for p, column, text in ordered
        ]


def _row_error(row: int, column: str | None, text: str) -> dict:
    where = f"row {row}, column {column}" if column else f"row {row}"
    return {"row": row, "column": column, "message": f"{where}: {text}"}


def convert_chunk(frame: pd.DataFrame, plan: ConvertPlan) -> Converted:
    """Parse times and metrics, mark bad rows, keep the good ones."""
    rows = frame.index.to_numpy() + 1
    errors = _Errors(rows)
    if ERROR_COLUMN in frame:
        reasons = frame[ERROR_COLUMN].to_numpy()
        errors.add(pd.notna(reasons), None, lambda p: reasons[p])
    if EXTRA_COLUMN in frame:
        extra = frame[EXTRA_COLUMN]
        errors.add(
            (extra.notna() & (extra.astype(str) != "")).to_numpy(dtype=bool),
            None,
            lambda _: (
                f"it has more fields than the header ({plan.width}); "
                "check its quoting (an unquoted comma in a number?)"
            ),
        )
    times = _parse_time(frame, plan, errors)
    metrics = {
        key: _parse_metric(frame, name, key, dec, errors)
        for name, key, dec in plan.metrics
    }
    keep = ~errors.bad
    return Converted(
        rows=rows[keep],
        times=times[keep],
        metrics={key: values[keep] for key, values in metrics.items()},
        dimensions={key: _text(frame[key])[keep] for _, key in plan.dimensions},
        total=len(frame),
        bad=int(errors.bad.sum()),
        errors=errors.first(),
        identifiers={
            key: hash_identifiers(_text(frame[key])[keep], plan.identifier_secret)
            for _, key in plan.identifiers
        },
    )


def _parse_time(frame: pd.DataFrame, plan: ConvertPlan, errors: _Errors) -> pd.Series:
    name, key = plan.time
    cells = frame[key]
    if pd.api.types.is_datetime64_any_dtype(cells.dtype):  # parsed by the reader
        utc = cells.dt.tz is not None
        times = cells.dt.tz_convert("UTC") if utc else cells.dt.tz_localize("UTC")
    else:
        times = dates.parse_dates(cells, plan.time_format)
    label = dates.format_by_pattern(plan.time_format).label
    raw = cells.to_numpy()

    def describe(position: int) -> str:
        # Only the reported rows are examined, so this costs nothing per good row.
        if missing_mask(pd.Series([raw[position]], dtype="object"))[0]:
            return "the time is missing"
        return f"{quote_cell(raw[position])} is not a date in the format {label}"

    errors.add(times.isna().to_numpy(), name, describe)
    return times


def _parse_metric(
    frame: pd.DataFrame, name: str, key: str, decimal: str, errors: _Errors
) -> np.ndarray:
    cells = frame[key]
    parsed = parse_numbers(cells, decimal)
    raw = cells.to_numpy()
    errors.add(
        parsed.bad, name, lambda p: f"{quote_cell(raw[p])} is {parsed.reasons[p]}"
    )
    return parsed.values


def _text(cells: pd.Series) -> np.ndarray:
    """Dimension values as text; missing cells become ''."""
    if isinstance(cells.dtype, pd.CategoricalDtype):
        # The CSV reader gives dimensions as categories: one string per distinct
        # value, shared by every row that holds it.
        labels = np.append(cells.cat.categories.astype(str).to_numpy(dtype=object), "")
        return labels[cells.cat.codes.to_numpy()]
    if cells.hasnans:
        cells = cells.astype("object").where(cells.notna(), "")
    if isinstance(cells.dtype, pd.StringDtype):
        return cells.to_numpy(dtype=object)
    return cells.astype(str).to_numpy(dtype=object)


def record_documents(
    dataset_id: str,
    version: int,
    revision: int,
    converted: Converted,
    append_seq: int | None = None,
) -> list[dict]:
    """One document per accepted row, in the `records` shape of docs/contracts.md;
    rows of an appended batch carry its number `a` (their `row` counts in it)."""
    count = len(converted.rows)
    times = converted.times.dt.to_pydatetime().tolist()
    metrics = _mappings(
        {key: _nullable(values) for key, values in converted.metrics.items()}, count
    )
    dims = _mappings(
        {key: values.tolist() for key, values in converted.dimensions.items()}, count
    )
    documents = [
        {
            "datasetId": dataset_id,
            "version": version,
            "r": revision,
            "row": row,
            "t": time,
            "m": metric,
            "d": dim,
        }
        for row, time, metric, dim in zip(
            converted.rows.tolist(), times, metrics, dims, strict=True
        )
    ]
    if append_seq is not None:
        for document in documents:
            document["a"] = append_seq
    if converted.identifiers:
        hashed = {key: values.tolist() for key, values in converted.identifiers.items()}
        for document, ids in zip(documents, _mappings(hashed, count), strict=True):
            document["i"] = ids
    return documents


def _mappings(columns: dict[str, list], count: int) -> list[dict]:
    """Row-wise dicts from column lists (a fresh dict per row)."""
    if not columns:
        return [{} for _ in range(count)]
    keys = list(columns)
    rows = zip(*columns.values(), strict=True)
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _nullable(values: np.ndarray) -> list:
    """Floats with None where missing (MongoDB has no NaN-as-missing)."""
    objects = values.astype(object)
    objects[np.isnan(values)] = None
    return objects.tolist()
