"""Look at the first part of an upload: format, header, first rows and the schema.

This runs while the upload request waits, on the first `sample_bytes` of the file
(the line limit plus 64 KB, so at least one full line) and at most SAMPLE_ROWS
rows. Everything that can be decided there is refused with a 4xx at once: binary or
unknown formats, empty and header-only files, duplicate or too many columns,
missing or unusable chosen columns, ambiguous or mixed date formats. Problems
further down the file are found by the background processing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.errors import DomainError, Unprocessable
from data.ingest import readers, schema, sniff
from data.ingest.schema import Choice, Schema
from data.ingest.values import missing_mask, quote_cell

SAMPLE_ROWS = 1000
PREVIEW_ROWS = 10
HIDDEN = "•••"


@dataclass
class Analysis:
    """What the first part of a file says about the whole file."""

    format: sniff.FileFormat
    names: list[str]
    fields: list[str]  # JSON keys exactly as written (names may differ when blank)
    schema: Schema
    preview: list[dict]
    sampled_rows: int
    complete: bool


def sample_size(settings) -> int:
    """How many leading bytes are analysed: one maximal line plus some rows.

    The line limit counts UTF-8 bytes, but UTF-16 and UTF-32 files take up to four
    bytes per character, so the sample holds four times the limit: a line cut off
    by its end is then over the limit in any encoding (and is refused as such);
    the cost is in BENCHMARKS.md (Ingest, `analysis`).
    """
    return 4 * settings.max_line_kb * 1024 + 64 * 1024


def analyse(sample: bytes, complete: bool, choice: Choice, settings) -> Analysis:
    """Detect the format, read the first rows, infer and resolve the schema."""
    max_line = settings.max_line_kb * 1024
    file_format, text = sniff.sniff(sample, complete, max_line)
    if file_format.kind == "csv":
        delimiter = file_format.delimiter or ","  # always set for CSV
        names, rows = _csv_table(text, delimiter, settings.max_columns)
        fields = names
    else:
        names, rows, fields = _json_table(text, file_format.kind, complete, settings)
    if not rows:
        raise Unprocessable(_no_rows_message(file_format, complete, len(sample)))
    samples = _column_samples(names, rows)
    comma_decimals = file_format.delimiter != ","
    columns = schema.infer_columns(names, samples, comma_decimals)
    resolved = schema.resolve(columns, samples, choice, settings.max_dimension_columns)
    preview = _preview(resolved, names, rows)
    return Analysis(file_format, names, fields, resolved, preview, len(rows), complete)


def _no_rows_message(file_format: sniff.FileFormat, complete: bool, size: int) -> str:
    if not complete:
        return f"No complete row was found in the first {size // 1024} KB of the file."
    if file_format.kind == "csv":
        return "The file has a header row but no data rows."
    return "The file holds no records."


def _csv_table(text: str, delimiter: str, max_columns: int):
    rows = readers.sample_rows(text, delimiter, SAMPLE_ROWS)
    header = [cell.strip().lstrip("\ufeff").strip() for cell in rows[0]] if rows else []
    names = schema.column_names(header, max_columns)
    width = len(names)
    body = [(row + [""] * width)[:width] for row in rows[1:]]
    return names, body


def _json_table(text: str, kind: str, complete: bool, settings):
    records = _sample_records(text, kind, complete, settings)
    fields = seen_order(records)
    names = schema.column_names(fields, settings.max_columns)
    rows = [[record.get(field) for field in fields] for record in records]
    return names, rows, fields


def seen_order(records: list[dict]) -> list[str]:
    """Keys in order of first appearance."""
    order: dict[str, None] = {}
    for record in records:
        order.update(dict.fromkeys(record))
    return list(order)


def _sample_records(text: str, kind: str, complete: bool, settings) -> list[dict]:
    """Up to SAMPLE_ROWS objects; a record cut off by the sample's end is dropped."""
    stream = readers.SourceStream(io.BytesIO(text.encode("utf-8")), "utf-8")
    decoder = json.JSONDecoder(object_pairs_hook=_refuse_duplicate_keys)
    records: list[dict] = []
    items = readers.json_records(stream, kind, settings.max_line_kb * 1024, decoder)
    try:
        for item in items:
            if isinstance(item, dict):
                records.append(item)
            elif not isinstance(item, readers.BadRecord):
                raise Unprocessable(
                    f"Record {len(records) + 1} is not an object of column values."
                )
            if len(records) >= SAMPLE_ROWS:
                break
    except DomainError:
        if complete or not records:
            raise
    return records


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise Unprocessable(
                f"Duplicate column name {quote_cell(key)} in one record.",
                details={"column": key},
            )
        result[key] = value
    return result


def _column_samples(names: list[str], rows: list[list]) -> dict[str, list[str]]:
    """Non-missing values of each column as stripped text."""
    samples = {}
    for index, name in enumerate(names):
        cells = pd.Series([row[index] for row in rows], dtype="object")
        present = ~missing_mask(cells)
        samples[name] = [str(cell).strip() for cell in cells[present]]
    return samples


def _preview(resolved: Schema, names: list[str], rows: list[list]) -> list[dict]:
    """The first rows, with personal data hidden."""
    hidden = {c.name for c in resolved.columns if c.role == "personal"}
    preview = []
    for row in rows[:PREVIEW_ROWS]:
        preview.append(
            {
                name: HIDDEN if name in hidden else _json_safe(value)
                for name, value in zip(names, row, strict=True)
            }
        )
    return preview


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict | list):
        return json.dumps(value)[:200]
    return value
