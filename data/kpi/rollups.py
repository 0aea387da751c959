"""KPI roll-ups, computed at ingest from the chunks being written.

One document per UTC hour (and per UTC day) and per *slice*: the whole dataset
(`k: ""`) or one value of one dimension (`k: <dimension key>`, `v: <value>`). Each
holds, per measure, the partial aggregates that merge exactly (`n` count, `s` sum,
`lo`/`hi` extremes) or, for distinct counts, an HLL sketch of the identifier hashes
(`h`, Apache DataSketches, lg_k 12), which merges by union. So a KPI view reads
hours × slices documents, never rows (DESIGN.md §2), and a filter on one dimension
or a breakdown by one reads that dimension's slices. Day documents let UTC-aligned
views read 24 times fewer documents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import datasketches
import numpy as np
import pandas as pd

from data.ingest.repository import KPI_ROLLUPS
from data.ingest.transform import Converted
from data.kpi.measures import DISTINCT_KINDS

__all__ = ["KPI_ROLLUPS", "KpiRollupAccumulator", "measure_inputs"]
SKETCH_LG_K = 12
SKETCH_TYPE = datasketches.tgt_hll_type.HLL_8
TOTAL = ""
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class MeasureInput:
    """What ingest needs of one measure: its kind and the keys it reads."""

    name: str
    kind: str
    column_key: str | None  # metric key (m), identifier/dimension key (i or d)
    where_key: str | None
    where_value: object


def measure_inputs(measures: list[dict], columns: list[dict]) -> list[MeasureInput]:
    """The stored measures resolved to field keys (ratios need no partials);
    `columns` are the ones the version holds (measures.usable_columns)."""
    keys = {column["name"]: column["key"] for column in columns}
    inputs = []
    for measure in measures:
        if measure["kind"] == "ratio":
            continue
        where = measure.get("where") or {}
        if (measure.get("column") or where.get("column")) and not all(
            name in keys
            for name in (measure.get("column"), where.get("column"))
            if name
        ):
            continue  # not held by this version: no partials (the view shows none)
        inputs.append(
            MeasureInput(
                measure["name"],
                measure["kind"],
                keys.get(measure.get("column") or ""),
                keys.get(where.get("column") or ""),
                where.get("value"),
            )
        )
    return inputs


def where_text(value: object) -> str:
    """A where value as the dimension text it matches (true -> 'true')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class KpiRollupAccumulator:
    """Hourly partials per slice, merged as chunks arrive."""

    def __init__(self, inputs: list[MeasureInput], dimension_keys: list[str]) -> None:
        self.inputs = inputs
        self.dimensions = dimension_keys
        self.numeric: list[pd.DataFrame] = []
        self.sketches: dict[tuple, datasketches.hll_sketch] = {}
        self.hour_range: tuple[int, int] | None = None

    def add(self, converted: Converted) -> None:
        """Aggregate one chunk's accepted rows by hour and slice."""
        if not len(converted.rows):
            return
        utc = converted.times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        hours = utc.astype("datetime64[h]").astype("int64")
        low, high = int(hours.min()), int(hours.max())
        if self.hour_range is not None:
            low, high = min(low, self.hour_range[0]), max(high, self.hour_range[1])
        self.hour_range = (low, high)
        columns = {"b": hours, **converted.dimensions}
        frame = pd.DataFrame(columns, index=range(len(hours)))
        for item in self.inputs:
            self._add_measure(frame, converted, item)
        for key in [TOTAL, *self.dimensions]:
            self.numeric.append(self._numeric(frame, key))
        if len(self.numeric) > 8 * (1 + len(self.dimensions)):
            self.numeric = [self._merge_numeric(self.numeric)]

    def time_range(self) -> dict | None:
        """The first and the last UTC hour holding a row (the dataset's timeRange)."""
        if self.hour_range is None:
            return None
        first, last = (EPOCH + dt.timedelta(hours=h) for h in self.hour_range)
        return {"first": first, "last": last}

    def _add_measure(self, frame: pd.DataFrame, converted: Converted, item) -> None:
        mask = self._mask(converted, item, len(frame))
        name = item.name
        if item.kind in DISTINCT_KINDS:
            source = converted.identifiers.get(item.column_key)
            if source is None:
                source = converted.dimensions[item.column_key]
            # An object column with None where the row has no entity (numpy's
            # stubs do not list None as a fill value).
            present = mask & (source != "")
            frame[f"id_{name}"] = np.where(present, source, None)  # type: ignore[call-overload]
        elif item.kind == "count":
            frame[f"n_{name}"] = mask.astype("int64")
        else:
            values = np.where(mask, converted.metrics[item.column_key], np.nan)
            frame[f"x_{name}"] = values

    def _mask(self, converted: Converted, item: MeasureInput, size: int) -> np.ndarray:
        if item.where_key is None:
            return np.ones(size, dtype=bool)
        if item.where_key in converted.dimensions:
            # Case-insensitive: the CSV reader may turn true/false cells into True.
            text = pd.Series(converted.dimensions[item.where_key], dtype="object")
            wanted = where_text(item.where_value).casefold()
            return (text.str.casefold() == wanted).to_numpy(dtype=bool)
        try:
            # Any stored value: what float() refuses matches no row.
            number = float(item.where_value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return np.zeros(size, dtype=bool)
        return converted.metrics[item.where_key] == number

    def _numeric(self, frame: pd.DataFrame, key: str) -> pd.DataFrame:
        values = frame[key] if key else pd.Series(TOTAL, index=frame.index)
        keyed = frame.assign(k=key, v=values)
        grouped = keyed.groupby(["k", "v", "b"], sort=False)
        parts = [grouped.size().rename("rows")]
        for item in self.inputs:
            if item.kind in DISTINCT_KINDS:
                self._sketch(keyed, item.name)
            elif item.kind == "count":
                parts.append(grouped[f"n_{item.name}"].sum())
            else:
                column = grouped[f"x_{item.name}"]
                parts += [
                    column.count().rename(f"n_{item.name}"),
                    column.sum().rename(f"s_{item.name}"),
                    column.min().rename(f"lo_{item.name}"),
                    column.max().rename(f"hi_{item.name}"),
                ]
        return pd.concat(parts, axis=1).reset_index()

    def _sketch(self, keyed: pd.DataFrame, name: str) -> None:
        pairs = keyed[["k", "v", "b", f"id_{name}"]].dropna().drop_duplicates()
        sketches = self.sketches
        columns = (pairs[column].to_numpy(dtype=object) for column in pairs.columns)
        for k, v, b, identifier in zip(*columns, strict=True):
            sketch = sketches.get((name, k, v, b))
            if sketch is None:
                sketch = sketches[(name, k, v, b)] = datasketches.hll_sketch(
                    SKETCH_LG_K, SKETCH_TYPE
                )
            sketch.update(identifier)

    def _merge_numeric(self, parts: list[pd.DataFrame]) -> pd.DataFrame:
        combined = pd.concat(parts, ignore_index=True)
        grouped = combined.groupby(["k", "v", "b"], sort=False)
        summed = [c for c in combined.columns if c == "rows" or c[:2] in ("n_", "s_")]
        pieces = [grouped[summed].sum(min_count=0)]
        lows = [c for c in combined.columns if c.startswith("lo_")]
        highs = [c for c in combined.columns if c.startswith("hi_")]
        if lows:
            pieces += [grouped[lows].min(), grouped[highs].max()]
        return pd.concat(pieces, axis=1).reset_index()

    def batches(self, dataset_id: str, version: int, revision: int, size=5000):
        """Hour then day documents, in lists of at most `size`."""
        if not self.numeric:
            return
        hours = self._merge_numeric(self.numeric)
        base = {"datasetId": dataset_id, "version": version, "r": revision}
        days = hours.assign(b=hours["b"] // 24 * 24)
        day_sketches = self._day_sketches()
        for grain, frame, sketches in (
            ("hour", hours, self.sketches),
            ("day", self._merge_numeric([days]), day_sketches),
        ):
            documents = self._documents(frame, sketches, {**base, "g": grain})
            for start in range(0, len(documents), size):
                yield documents[start : start + size]

    def _day_sketches(self) -> dict[tuple, datasketches.hll_union]:
        unions: dict[tuple, datasketches.hll_union] = {}
        for (name, k, v, b), sketch in self.sketches.items():
            key = (name, k, v, b // 24 * 24)
            union = unions.get(key)
            if union is None:
                union = unions[key] = datasketches.hll_union(SKETCH_LG_K)
            union.update(sketch)
        return unions

    def _documents(self, frame: pd.DataFrame, sketches: dict, base: dict) -> list:
        records = frame.to_dict("records")
        documents = []
        for row in records:
            partials = {}
            for item in self.inputs:
                partials[item.name] = self._partial(row, item, sketches)
            documents.append({
                **base, "b": EPOCH + dt.timedelta(hours=int(row["b"])),
                "k": row["k"], "v": row["v"], "rows": int(row["rows"]), "p": partials,
            })  # fmt: skip
        return documents

    def _partial(self, row: dict, item: MeasureInput, sketches: dict) -> dict:
        name = item.name
        if item.kind in DISTINCT_KINDS:
            sketch = sketches.get((name, row["k"], row["v"], row["b"]))
            if sketch is None:
                return {"h": None}
            if isinstance(sketch, datasketches.hll_union):
                sketch = sketch.get_result(SKETCH_TYPE)
            return {"h": sketch.serialize_compact()}
        if item.kind == "count":
            return {"n": int(row[f"n_{name}"])}
        count = int(row[f"n_{name}"])
        return {
            "n": count,
            "s": float(row[f"s_{name}"]) if count else None,
            "lo": float(row[f"lo_{name}"]) if count else None,
            "hi": float(row[f"hi_{name}"]) if count else None,
        }
