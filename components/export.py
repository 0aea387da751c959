"""CSV export of anomalies, safe to open in a spreadsheet (no formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# OWASP "CSV injection": a cell starting with one of these can run as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ANOMALY_COLUMNS = (
    ("t", "date"),
    ("value", "value"),
    ("expected", "expected"),
    ("deviation", "deviation"),
    ("deviation_pct", "deviation_pct"),
    ("score", "score"),
    ("direction", "direction"),
    ("severity", "severity"),
    ("methods", "methods"),
    ("explanation", "explanation"),
)


def safe_cell(value: object) -> str | float | int:
    """A value a spreadsheet shows as text: risky strings get a leading quote.

    Numbers stay numbers (a negative number is data, not a formula); every string,
    including a column name or a dimension value from an upload, is checked.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def anomalies_csv(anomalies: Iterable[dict]) -> str:
    """The anomalies as CSV text with a header row, every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header for _, header in ANOMALY_COLUMNS])
    for anomaly in anomalies:
        row = []
        for key, _ in ANOMALY_COLUMNS:
            value = anomaly.get(key)
            if isinstance(value, list | tuple):
                value = "; ".join(str(item) for item in value)
            row.append(safe_cell(value))
        writer.writerow(row)
    return buffer.getvalue()


def export_filename(dataset_name: str, metric: str | None) -> str:
    """A download name built only from safe characters of untrusted names."""
    stem = "-".join(part for part in (dataset_name, metric or "", "anomalies") if part)
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)
    return (cleaned.strip("_") or "anomalies")[:100] + ".csv"
