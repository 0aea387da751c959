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
    """Partial aggregates per granularity, merged as chunks arrive."""

    def __init__(self, metric_keys: list[str], dimension_keys: list[str]) -> None:
        self.metrics = metric_keys
        self.dimensions = dimension_keys
        self.parts: dict[str, list[pd.DataFrame]] = {g: [] for g in GRANULARITIES}

    def add(self, converted: Converted) -> None:
        """Aggregate one chunk's accepted rows."""
        if not len(converted.rows):
            return
        naive = converted.times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        base = pd.DataFrame(
            {**converted.dimensions, **converted.metrics}, index=range(len(naive))
        )
        for metric in self.metrics:
            base[f"__sq_{metric}"] = base[metric] ** 2
        for granularity in GRANULARITIES:
            frame = base.assign(b=bucket_starts(naive, granularity))
            parts = self.parts[granularity]
            parts.append(self._aggregate(frame))
            if len(parts) >= _MERGE_EVERY:
                self.parts[granularity] = [self._merge(parts)]

    def _keys(self) -> list[str]:
        return ["b", *self.dimensions]

    def _aggregate(self, frame: pd.DataFrame) -> pd.DataFrame:
        named = {"rows": ("b", "size")}
        for m in self.metrics:
            named |= {
                f"n_{m}": (m, "count"),
                f"s_{m}": (m, "sum"),
                f"q_{m}": (f"__sq_{m}", "sum"),
                f"lo_{m}": (m, "min"),
                f"hi_{m}": (m, "max"),
            }
        grouped = frame.groupby(self._keys(), sort=False, dropna=False)
        return grouped.agg(**named).reset_index()

    def _merge(self, parts: list[pd.DataFrame]) -> pd.DataFrame:
        combined = pd.concat(parts, ignore_index=True)
        how = {"rows": "sum"}
        for m in self.metrics:
            how |= {f"n_{m}": "sum", f"s_{m}": "sum", f"q_{m}": "sum"}
            how |= {f"lo_{m}": "min", f"hi_{m}": "max"}
        grouped = combined.groupby(self._keys(), sort=False, dropna=False)
        return grouped.agg(how).reset_index()

    def documents(self, dataset_id: str, version: int, revision: int) -> list[dict]:
        """Every roll-up document, in the contract's shape."""
        documents = []
        for granularity, parts in self.parts.items():
            if parts:
                merged = self._merge(parts)
                documents.extend(
                    self._shape(merged, granularity, dataset_id, version, revision)
                )
        return documents

    def _shape(self, merged, granularity, dataset_id, version, revision) -> list[dict]:
        starts = pd.to_datetime(merged["b"]).dt.tz_localize("UTC").dt.to_pydatetime()
        columns = {
            name: merged[name].tolist() for name in merged.columns if name != "b"
        }
        documents = []
        for i, start in enumerate(starts):
            document = {
                "datasetId": dataset_id,
                "version": version,
                "r": revision,
                "g": granularity,
                "b": start,
                "d": {key: columns[key][i] for key in self.dimensions},
                "rows": int(columns["rows"][i]),
            }
            for field in ("n", "s", "q", "lo", "hi"):
                document[field] = {
                    m: _number(columns[f"{field}_{m}"][i], field) for m in self.metrics
                }
            documents.append(document)
        return documents


def _number(value: float, field: str) -> float | int | None:
    if field == "n":
        return int(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return float(value)
