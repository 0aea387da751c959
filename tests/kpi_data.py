"""KPI test data: random event logs uploaded through the API, and pandas oracles."""

from __future__ import annotations

import types
import uuid

import numpy as np
import pandas as pd

from data import inprocess
from data.demo_events import DEMO_MEASURES, generate_events, to_csv
from data.ingest import repository
from data.ingest.transform import Converted, record_documents
from data.kpi.identity import hash_identifiers
from data.kpi.measures import parse_measures
from data.kpi.rollups import KpiRollupAccumulator, measure_inputs
from tests.api_calls import post_file

DIMENSIONS = "page_type,traffic_source,campaign,product_category,bounced"


def upload_events(
    client, user, frame: pd.DataFrame, name="Events", measures=None
) -> str:
    """Upload an event frame with the demo dimensions and set its measures."""
    response = post_file(
        client,
        user,
        to_csv(frame),
        filename="events.csv",
        datasetName=name,
        timeColumn="timestamp",
        metricColumn="revenue",
        dimensionColumn=DIMENSIONS,
    )
    assert response.status_code == 202, response.get_json()
    dataset_id = response.get_json()["id"]
    put = client.put(
        f"/api/datasets/{dataset_id}/measures",
        json={"measures": measures or DEMO_MEASURES},
        headers=user["headers"],
    )
    assert put.status_code == 200, put.get_json()
    return dataset_id


def small_events(events=3000, days=20, seed=1) -> pd.DataFrame:
    """A small random event log (the demo generator with another seed)."""
    return generate_events(events=events, days=days, seed=seed)


def local_frame(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Events with their local time in `tz` (the oracle's own time arithmetic)."""
    return frame.assign(local=frame["timestamp"].dt.tz_convert(tz))


def oracle_value(frame: pd.DataFrame, measure: str) -> float | None:
    """A demo measure over a frame of events, computed with pandas."""
    if measure == "dau":
        return frame["user_id"].nunique()
    if measure == "sessions":
        return frame["session_id"].nunique()
    if measure == "bounced_sessions":
        return frame.loc[frame["bounced"] == "true", "session_id"].nunique()
    if measure == "bounce_rate":
        sessions = frame["session_id"].nunique()
        bounced = frame.loc[frame["bounced"] == "true", "session_id"].nunique()
        return bounced / sessions if sessions else None
    if measure == "revenue":
        return float(frame["revenue"].sum())
    if measure == "page_views":
        return len(frame)
    raise KeyError(measure)


def close(actual, expected, relative: float) -> bool:
    """Equal within a relative error (None only equals None)."""
    if expected is None or actual is None:
        return actual is expected
    return bool(np.isclose(actual, expected, rtol=relative, atol=1e-9))


ALL_KINDS: list[dict] = [
    *DEMO_MEASURES,
    {"name": "mean_revenue", "kind": "mean", "column": "revenue"},
    {
        "name": "min_revenue",
        "kind": "min",
        "column": "revenue",
        "where": {"column": "page_type", "value": "checkout"},
    },
    {"name": "max_revenue", "kind": "max", "column": "revenue"},
    {
        "name": "checkout_views",
        "kind": "count",
        "where": {"column": "page_type", "value": "checkout"},
    },
    {
        "name": "paid_revenue",
        "kind": "sum",
        "column": "revenue",
        "where": {"column": "revenue", "value": 0},
    },
    {"name": "wau", "kind": "rolling_distinct", "column": "user_id", "windowDays": 7},
]
COLUMNS: list[dict] = [
    {
        "name": "timestamp",
        "key": "c0",
        "type": "datetime",
        "role": "time",
        "unit": None,
    },
    {
        "name": "user_id",
        "key": "c1",
        "type": "string",
        "role": "identifier",
        "unit": None,
    },
    {
        "name": "session_id",
        "key": "c2",
        "type": "string",
        "role": "identifier",
        "unit": None,
    },
    *(
        {
            "name": name,
            "key": f"c{3 + i}",
            "type": "string",
            "role": "dimension",
            "unit": None,
        }
        for i, name in enumerate(DIMENSIONS.split(","))
    ),
    {"name": "revenue", "key": "c8", "type": "number", "role": "metric", "unit": "$"},
]


def rollup_database(frame: pd.DataFrame, measures=None, chunk=1000):
    """KPI roll-ups of a frame written by the ingest accumulator into an in-process
    engine: (services-like object with .mongo, dataset document)."""
    inprocess.install()
    db = inprocess.connect(uuid.uuid4().hex)
    stored = [m.document() for m in parse_measures(measures or ALL_KINDS, COLUMNS)]
    keys = {c["name"]: c["key"] for c in COLUMNS}
    dims = DIMENSIONS.split(",")
    accumulator = KpiRollupAccumulator(
        measure_inputs(stored, COLUMNS), [keys[d] for d in dims]
    )
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start : start + chunk]
        converted = Converted(
            rows=np.arange(len(part)) + 1,
            times=part["timestamp"],
            metrics={"c8": part["revenue"].to_numpy(float)},
            dimensions={keys[d]: part[d].to_numpy(object) for d in dims},
            total=len(part),
            bad=0,
            identifiers={
                keys[c]: hash_identifiers(part[c].to_numpy(object), b"k")
                for c in ("user_id", "session_id")
            },
        )
        accumulator.add(converted)
        records = record_documents("d" * 32, 1, 1, converted)
        repository.insert_many(db, repository.RECORDS, records)
    for batch in accumulator.batches("d" * 32, 1, 1):
        repository.insert_many(db, repository.KPI_ROLLUPS, batch)
    dataset = {
        "datasetId": "d" * 32,
        "version": 1,
        "revision": 1,
        "datasetName": "Events",
        "columns": COLUMNS,
        "dimensionColumns": dims,
        "measures": stored,
        "timeRange": accumulator.time_range(),
        "rowCount": len(frame),
    }
    return types.SimpleNamespace(mongo=db), dataset


def oracle(frame: pd.DataFrame, measure: dict, lookback: pd.DataFrame | None = None):
    """Any measure of ALL_KINDS over a frame, with pandas (lookback: the rows a
    rolling window sees, ending with the frame)."""
    kind, column = measure["kind"], measure.get("column")
    where = measure.get("where")
    if where is not None:
        values = frame[where["column"]]
        wanted = where["value"]
        frame = (
            frame[values.astype(type(wanted)) == wanted]
            if not isinstance(wanted, str)
            else frame[values == wanted]
        )
    if kind == "count":
        return len(frame)
    if kind == "sum":
        return float(frame[column].sum())
    if kind in ("mean", "min", "max"):
        return None if frame.empty else float(getattr(frame[column], kind)())
    if kind == "distinct":
        return frame[column].nunique()
    if kind == "rolling_distinct":
        if lookback is None:
            raise ValueError("a rolling measure needs the rows its window sees")
        return lookback[column].nunique()
    raise KeyError(kind)


def ratio_oracle(frame: pd.DataFrame, measure: dict, by_name: dict):
    """numerator ÷ denominator over the same rows (None when the denominator is 0)."""
    top = oracle(frame, by_name[measure["numerator"]])
    bottom = oracle(frame, by_name[measure["denominator"]])
    return top / bottom if bottom else None
