"""Document sets every registered pipeline runs on: fixed edge cases and generated.

A World is what a pipeline reads: `datasets` documents in every lifecycle state,
and one dataset version's `records` and `rollups` built from a pandas frame by
tests/analytics_data.py (which follows docs/contracts.md independently of the
ingest code), and its KPI roll-ups (`kpi_rollups`, written by the ingest's own
accumulator: the suite compares engines on them, the KPI oracle tests check
them). Every document carries an explicit `_id`, so all engines see the
same documents.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.ingest.kpi_rollups import KpiRollupAccumulator, measure_inputs
from data.ingest.measures import parse_measures
from data.ingest.repository import KPI_ROLLUPS
from data.ingest.transform import Converted
from tests.analytics_data import dataset_document, record_documents, rollup_documents

OWNER = "owner-1"
OTHER_OWNER = "owner-2"
DATASET_ID = "d" * 32
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
STALE_BEFORE = NOW - dt.timedelta(minutes=2)
DIMENSIONS = ("region", "channel")
# Records carry this identifier (a hash in production); the dataset document does
# not list it, so only the pipelines that count entities read it
# (pipelines.with_identifier).
IDENTIFIER = {"name": "customer", "key": "u", "type": "string",
              "role": "identifier", "unit": None}  # fmt: skip


@dataclass(frozen=True)
class World:
    """The collections one case reads, and the dataset version they describe."""

    name: str
    dataset: dict
    collections: dict[str, list[dict]] = field(repr=False)


def frame_of(rows, dimensions=DIMENSIONS) -> pd.DataFrame:
    """Rows (time, value, *dimension values) as the frame analytics_data reads."""
    columns = {
        "t": pd.to_datetime([row[0] for row in rows], utc=True),
        "sales": [np.nan if row[1] is None else row[1] for row in rows],
    }
    for index, name in enumerate(dimensions):
        columns[name] = [row[2 + index] for row in rows]
    return pd.DataFrame(columns)


def _hours(*items) -> list[tuple]:
    return [(BASE + dt.timedelta(hours=hour), *rest) for hour, *rest in items]


def _dst_rows() -> list[tuple]:
    """Hourly rows in Europe/Berlin local time across 2024-03-31, when clocks
    jump from 02:00 to 03:00 (a 23-hour local day), stored as UTC."""
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    start = dt.datetime(2024, 3, 30, 22, tzinfo=berlin)
    rows = []
    for step in range(30):
        moment = (start.astimezone(dt.UTC) + dt.timedelta(hours=step)).astimezone(
            berlin
        )
        rows.append((moment, float(10 + step % 5), "N" if step % 2 else "S", "web"))
    return rows


EDGE_ROWS: dict[str, list[tuple]] = {
    "empty": [],
    "one": _hours((5, 42.0, "N", "web")),
    "ties": _hours(*[(24 * d, float(d % 3), "N", "web") for d in range(12)],
                   (300, 2.0, "S", "shop"), (301, 2.0, "S", "shop")),
    "gaps": _hours((0, 5.0, "N", "web"), (30, -2.0, "S", "shop"),
                   (24 * 20, 7.0, "N", "shop"), (24 * 33, 3.0, "S", "web"),
                   (24 * 33 + 1, 4.0, "S", "web")),
    "dst-day": _dst_rows(),
    "negative-huge": _hours(*[(24 * d, v, "NS"[d % 2], "web") for d, v in enumerate(
        [1e300, -1e300, 2e300, -5.5, 1e-300, -3e300, 0.0, -0.0, 1e15 + 0.3])]),
    "missing-null": _hours((0, None, "N", "web"), (24, 3.0, "S", "web"),
                           (48, None, "N", "shop"), (49, None, "N", "shop"),
                           (72, 4.0, "N", "web"), (150, None, "S", "web"),
                           (200, 90.0, "N", "shop")),
    "constant": _hours(*[(24 * d, 7.0, "NS"[d % 2], "web") for d in range(10)]),
    "month-ends": [(dt.datetime(2024, m, day, 23, tzinfo=dt.UTC), float(m * 10 + day),
                    "N", "web") for m, day in ((1, 31), (2, 29), (3, 1), (3, 31))],
}  # fmt: skip
SEVERAL_DIMENSIONS = ("region", "channel", "product")
SEVERAL_ROWS = _hours(
    *[
        (7 * h, float((h * 37) % 11) - 3.0, "NSEW"[h % 4], ("web", "shop")[h % 2],
         ("a", "b", "c")[h % 3])
        for h in range(40)
    ]
)  # fmt: skip


def _version_states() -> list[dict]:
    """Other `datasets` documents, one per lifecycle state, for ingest's queries."""
    states = [
        ("uploaded", None, OWNER),
        ("processing", NOW - dt.timedelta(minutes=10), OWNER),  # a dead run
        ("processing", NOW - dt.timedelta(seconds=5), OWNER),  # a live run
        ("processing", None, OWNER),  # no heartbeat yet
        ("processed", None, OTHER_OWNER),
        ("cached", None, OWNER),
        ("failed", None, OWNER),
        ("failed", None, OTHER_OWNER),
    ]
    documents = []
    for version, (status, heartbeat, owner) in enumerate(states, start=2):
        document = {
            "_id": f"{DATASET_ID}-v{version}",
            "datasetId": DATASET_ID,
            "userId": owner,
            "version": version,
            "revision": version % 3 + 1,
            "status": status,
        }
        if heartbeat is not None:
            document["heartbeatAt"] = heartbeat
        documents.append(document)
    return documents


def _with_ids(prefix: str, documents: list[dict]) -> list[dict]:
    return [{"_id": f"{prefix}-{i}", **doc} for i, doc in enumerate(documents)]


def world_of(name: str, rows, dimensions=DIMENSIONS) -> World:
    """A World from rows: the version's documents and the other versions' states."""
    frame = frame_of(rows, dimensions)
    dataset = dataset_document(
        OWNER, DATASET_ID, frame, "t", ["sales"], list(dimensions)
    )
    records = _with_ids("rec", record_documents(dataset, frame))
    for index, record in enumerate(records):
        record["r"] = 1 + index % 2  # two revisions' leftovers
        if index % 4 != 3:  # every fourth record has no identifier
            record["i"] = {
                IDENTIFIER["key"]: f"{sorted(record['d'].values())}{index % 3}"
            }
        if name == "missing-null" and index % 3 == 0:
            record["m"] = {}  # the metric field absent, not null
    rollups = _with_ids("rol", rollup_documents(dataset, frame))
    dataset["measures"] = kpi_measures(dataset)
    return World(
        name=name,
        dataset=dataset,
        collections={
            "datasets": [dataset, *_version_states()],
            "records": records,
            "rollups": rollups,
            KPI_ROLLUPS: _with_ids("kpi", kpi_rollup_documents(dataset, frame)),
        },
    )


# The KPI measures of every world: each additive kind, a where, a distinct count.
KPI_MEASURES = [
    {"name": "rows", "kind": "count"},
    {"name": "sales", "kind": "sum", "column": "sales"},
    {"name": "mean_sales", "kind": "mean", "column": "sales"},
    {"name": "low", "kind": "min", "column": "sales"},
    {"name": "high", "kind": "max", "column": "sales"},
    {"name": "web_sales", "kind": "sum", "column": "sales",
     "where": {"column": "channel", "value": "web"}},
    {"name": "regions", "kind": "distinct", "column": "region"},
]  # fmt: skip


def kpi_measures(dataset: dict) -> list[dict]:
    """The stored form of KPI_MEASURES."""
    return [m.document() for m in parse_measures(KPI_MEASURES, dataset["columns"])]


def kpi_rollup_documents(dataset: dict, frame: pd.DataFrame) -> list[dict]:
    """The version's KPI roll-ups, as ingest writes them (hour and day grains)."""
    keys = {column["name"]: column["key"] for column in dataset["columns"]}
    dimensions = dataset["dimensionColumns"]
    accumulator = KpiRollupAccumulator(
        measure_inputs(dataset["measures"], dataset["columns"]),
        [keys[name] for name in dimensions],
    )
    accumulator.add(
        Converted(
            rows=np.arange(len(frame)) + 1,
            times=frame["t"],
            metrics={keys["sales"]: frame["sales"].to_numpy(float)},
            dimensions={keys[d]: frame[d].to_numpy(object) for d in dimensions},
            total=len(frame),
            bad=0,
        )
    )
    documents = []
    for batch in accumulator.batches(dataset["datasetId"], dataset["version"], 1):
        documents.extend(batch)
    return documents


def edge_worlds() -> list[World]:
    """The fixed edge cases, each a World."""
    worlds = [world_of(name, rows) for name, rows in EDGE_ROWS.items()]
    worlds.append(world_of("several-dimensions", SEVERAL_ROWS, SEVERAL_DIMENSIONS))
    return worlds
