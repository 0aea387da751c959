"""Roll-ups computed at ingest with pandas, from the chunks being written.

Analytics views read these instead of raw records so that their cost grows with the
number of time buckets, not rows (DESIGN.md §2): on the in-process engine a $group
by day over 100,000 records takes about 35 s, while the same roll-up computed here
from the parsed chunks costs a few pandas group-bys. For every granularity (hour,
day, week starting Monday, month, all in UTC) and every combination of dimension
values there is one document holding the row count and, per metric, the non-null
count, sum, sum of squares, minimum and maximum (docs/contracts.md `rollups`).
These are all mergeable, so partial aggregates of chunks are combined exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.ingest.transform import Converted

GRANULARITIES = ("hour", "day", "week", "month")
_MERGE_EVERY = 8


def bucket_starts(times: np.ndarray, granularity: str) -> np.ndarray:
    """Start of each value's bucket; `times` are naive UTC datetime64 values."""
    unit = times.dtype
    if granularity == "hour":
        return times.astype("datetime64[h]").astype(unit)
    if granularity == "day":
        return times.astype("datetime64[D]").astype(unit)
    if granularity == "week":
        days = times.astype("datetime64[D]")
        # 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays.
        weekday = (days.astype("int64") + 3) % 7
        return (days - weekday.astype("timedelta64[D]")).astype(unit)
    if granularity == "month":
        return times.astype("datetime64[M]").astype(unit)
    raise ValueError(f"unknown granularity {granularity!r}")


class RollupAccumulator:
    """Hourly partial aggregates merged as chunks arrive; day, week and month are
    aggregated from the hours at the end (UTC hours nest exactly in all three)."""

    def __init__(self, metric_keys: list[str], dimension_keys: list[str]) -> None:
        self.metrics = metric_keys
        self.dimensions = dimension_keys
        self.hours: list[pd.DataFrame] = []

    def add(self, converted: Converted) -> None:
        """Aggregate one chunk's accepted rows by hour and dimension values."""
        if not len(converted.rows):
            return
        naive = converted.times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        frame = pd.DataFrame(
            {**converted.dimensions, **converted.metrics}, index=range(len(naive))
        )
        frame["b"] = bucket_starts(naive, "hour")
        for metric in self.metrics:
            frame[f"__sq_{metric}"] = frame[metric] ** 2
        self.hours.append(self._aggregate(frame))
        if len(self.hours) >= _MERGE_EVERY:
            self.hours = [self._merge(self.hours)]

    def _keys(self) -> list[str]:
        return ["b", *self.dimensions]

    def _aggregate(self, frame: pd.DataFrame) -> pd.DataFrame:
        """rows, and per metric n (count), s (sum), q (sum of squares), lo, hi."""
        grouped = frame.groupby(self._keys(), sort=False)
        values, squares = self.metrics, [f"__sq_{m}" for m in self.metrics]
        parts = [
            grouped.size().rename("rows"),
            grouped[values].count().add_prefix("n_"),
            grouped[values].sum().add_prefix("s_"),
            grouped[squares].sum().set_axis([f"q_{m}" for m in values], axis=1),
            grouped[values].min().add_prefix("lo_"),
            grouped[values].max().add_prefix("hi_"),
        ]
        return pd.concat(parts, axis=1).reset_index()

    def _merge(self, parts: list[pd.DataFrame], granularity: str = "hour"):
        """Combine partial aggregates (re-bucketed to a coarser granularity)."""
        combined = pd.concat(parts, ignore_index=True)
        if granularity != "hour":
            combined["b"] = bucket_starts(combined["b"].to_numpy(), granularity)
        grouped = combined.groupby(self._keys(), sort=False)
        sums = [
            c for c in combined.columns if c == "rows" or c[:2] in ("n_", "s_", "q_")
        ]
        parts = [
            grouped[sums].sum(),
            grouped[[f"lo_{m}" for m in self.metrics]].min(),
            grouped[[f"hi_{m}" for m in self.metrics]].max(),
        ]
        return pd.concat(parts, axis=1).reset_index()

    def batches(self, dataset_id: str, version: int, revision: int, size=5000):
        """The documents in lists of at most `size`, built as they are consumed (a
        million rows by the minute make 200,000 hourly documents)."""
        if not self.hours:
            return
        hours = self._merge(self.hours)
        base = {"datasetId": dataset_id, "version": version, "r": revision}
        for granularity in GRANULARITIES:
            merged = (
                hours if granularity == "hour" else self._merge([hours], granularity)
            )
            for start in range(0, len(merged), size):
                part = merged.iloc[start : start + size]
                yield self._shape(part, {**base, "g": granularity})

    def _shape(self, merged: pd.DataFrame, base: dict) -> list[dict]:
        """Column-wise conversion, then one dict per group."""
        starts = pd.to_datetime(merged["b"]).dt.tz_localize("UTC").dt.to_pydatetime()
        dims = _rows(merged, self.dimensions, self.dimensions, str)
        fields = {
            field: _rows(merged, [f"{field}_{m}" for m in self.metrics], self.metrics,
                         int if field == "n" else None)
            for field in ("n", "s", "q", "lo", "hi")
        }  # fmt: skip
        counts = merged["rows"].astype("int64").tolist()
        return [
            {**base, "b": start, "d": dims[i], "rows": counts[i],
             **{field: rows[i] for field, rows in fields.items()}}
            for i, start in enumerate(starts.tolist())
        ]  # fmt: skip


def _rows(frame: pd.DataFrame, columns: list[str], names: list[str], kind) -> list:
    """Per row, {name: value}; NaN becomes None (MongoDB has no NaN-as-missing)."""
    if not columns:
        return [{} for _ in range(len(frame))]
    lists = []
    for column in columns:
        values = frame[column]
        if kind is int:
            lists.append(values.astype("int64").tolist())
        elif kind is str:
            lists.append(values.astype(str).tolist())
        else:
            objects = values.to_numpy(dtype=object)
            objects[values.isna().to_numpy()] = None
            lists.append([None if v is None else float(v) for v in objects])
    return [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
