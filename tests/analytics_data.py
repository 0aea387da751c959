"""Test data for analytics: dataset, records and roll-up documents built straight
from a pandas frame, following docs/contracts.md (independent of the ingest code)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Sequence

import numpy as np
import pandas as pd

ROLLUP_GRANULARITIES = ("hour", "day", "week", "month")


def bucket_column(times: pd.Series, granularity: str) -> pd.Series:
    """Bucket starts computed with pandas (UTC; weeks start on Monday)."""
    if granularity == "hour":
        return times.dt.floor("h")
    days = times.dt.floor("D")
    if granularity == "day":
        return days
    if granularity == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days - pd.to_timedelta(days.dt.day - 1, unit="D")


def _number(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def dataset_document(
    owner_id: str,
    dataset_id: str,
    frame: pd.DataFrame,
    time_column: str,
    metrics: list[str],
    dimensions: list[str],
    version: int = 1,
    revision: int = 1,
    status: str = "processed",
    units: dict | None = None,
    name: str = "Sample",
) -> dict:
    """A `datasets` document describing the frame's columns."""
    names = [time_column, *metrics, *dimensions]
    roles = {time_column: "time", **dict.fromkeys(metrics, "metric")}
    columns = [
        {
            "name": column,
            "key": f"c{index}",
            "type": "datetime"
            if column == time_column
            else ("number" if column in metrics else "string"),
            "role": roles.get(column, "dimension"),
            "unit": (units or {}).get(column),
        }
        for index, column in enumerate(names)
    ]
    now = dt.datetime.now(dt.UTC)
    return {
        "_id": f"{dataset_id}-v{version}",
        "datasetId": dataset_id,
        "userId": owner_id,
        "datasetName": name,
        "nameKey": name.casefold(),
        "version": version,
        "revision": revision,
        "objectKey": f"datasets/{owner_id}/{dataset_id}/v{version}/source.csv",
        "format": "csv",
        "checksum": "0" * 64,
        "sizeBytes": 0,
        "uploadedAt": now,
        "updatedAt": now,
        "columns": columns,
        "timeColumn": time_column,
        "metricColumns": list(metrics),
        "dimensionColumns": list(dimensions),
        "status": status,
        "statusHistory": [{"status": status, "at": now, "message": None}],
        "error": None,
        "rowCount": len(frame),
        "skippedRows": 0,
        "rowErrors": [],
        "progress": {"rowsDone": len(frame), "rowsTotal": len(frame)},
    }


def record_documents(dataset: dict, frame: pd.DataFrame) -> list[dict]:
    """One `records` document per row."""
    keys = {column["name"]: column["key"] for column in dataset["columns"]}
    times = pd.to_datetime(frame[dataset["timeColumn"]], utc=True)
    documents = []
    for row, (index, moment) in enumerate(times.items()):
        documents.append(
            {
                "datasetId": dataset["datasetId"],
                "version": dataset["version"],
                "row": row + 1,
                "t": moment.to_pydatetime(),
                "m": {
                    keys[m]: _number(frame.at[index, m])
                    for m in dataset["metricColumns"]
                },
                "d": {
                    keys[d]: str(frame.at[index, d])
                    for d in dataset["dimensionColumns"]
                },
            }
        )
    return documents


def rollup_documents(dataset: dict, frame: pd.DataFrame) -> list[dict]:
    """`rollups` documents for every granularity and dimension combination."""
    keys = {column["name"]: column["key"] for column in dataset["columns"]}
    metrics, dimensions = dataset["metricColumns"], dataset["dimensionColumns"]
    data = pd.DataFrame(
        {"__t": pd.to_datetime(frame[dataset["timeColumn"]], utc=True)},
        index=frame.index,
    )
    for metric in metrics:
        values = pd.to_numeric(frame[metric], errors="coerce").astype(float)
        data[f"v{keys[metric]}"] = values
        with np.errstate(over="ignore"):
            data[f"q{keys[metric]}"] = values**2
    for dimension in dimensions:
        data[dimension] = frame[dimension].astype(str)
    documents: list[dict] = []
    for granularity in ROLLUP_GRANULARITIES:
        data["__b"] = bucket_column(data["__t"], granularity)
        grouped = data.groupby(["__b", *dimensions], sort=True)
        table = _aggregate(grouped, [keys[m] for m in metrics])
        documents.extend(
            _rollup(dataset, granularity, row, dimensions, keys)
            for row in table.reset_index().to_dict("records")
        )
    return documents


def _aggregate(grouped, metric_keys: list[str]) -> pd.DataFrame:
    named = {"rows": ("__t", "size")}
    for key in metric_keys:
        named.update(
            {
                f"n_{key}": (f"v{key}", "count"),
                f"s_{key}": (f"v{key}", "sum"),
                f"q_{key}": (f"q{key}", "sum"),
                f"lo_{key}": (f"v{key}", "min"),
                f"hi_{key}": (f"v{key}", "max"),
            }
        )
    with np.errstate(over="ignore"):  # squares of huge values overflow to inf
        return grouped.agg(**named)


def _rollup(dataset, granularity, row, dimensions, keys) -> dict:
    metric_keys = [keys[m] for m in dataset["metricColumns"]]
    return {
        "datasetId": dataset["datasetId"],
        "version": dataset["version"],
        "g": granularity,
        "b": row["__b"].to_pydatetime(),
        "d": {keys[d]: str(row[d]) for d in dimensions},
        "rows": int(row["rows"]),
        "n": {key: int(row[f"n_{key}"]) for key in metric_keys},
        "s": {key: float(row[f"s_{key}"]) for key in metric_keys},
        "q": {key: float(row[f"q_{key}"]) for key in metric_keys},
        "lo": {key: _number(row[f"lo_{key}"]) for key in metric_keys},
        "hi": {key: _number(row[f"hi_{key}"]) for key in metric_keys},
    }


def insert_dataset(
    database,
    owner_id: str,
    frame: pd.DataFrame,
    time_column: str,
    metrics: list[str],
    dimensions: Sequence[str] = (),
    dataset_id: str | None = None,
    **options,
) -> dict:
    """Insert a processed dataset version with its records and roll-ups."""
    dataset_id = dataset_id or uuid.uuid4().hex
    dataset = dataset_document(
        owner_id,
        dataset_id,
        frame,
        time_column,
        list(metrics),
        list(dimensions),
        **options,
    )
    database.datasets.insert_one(dict(dataset))
    records = record_documents(dataset, frame)
    if records:
        database.records.insert_many(records)
        database.rollups.insert_many(rollup_documents(dataset, frame))
    return dataset


def sample_frame(path) -> pd.DataFrame:
    """The sample sales CSV as a frame (dates as UTC timestamps)."""
    frame = pd.read_csv(path)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    return frame
