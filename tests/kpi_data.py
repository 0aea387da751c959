"""KPI test data: random event logs uploaded through the API, and pandas oracles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.demo_events import DEMO_MEASURES, generate_events, to_csv
from tests.api_calls import post_file

DIMENSIONS = "page_type,traffic_source,campaign,product_category,bounced"


def upload_events(
    client, user, frame: pd.DataFrame, name="Events", measures=None
) -> str:
    """Upload an event frame with the demo dimensions and set its measures."""
    response = post_file(
        client, user, to_csv(frame), filename="events.csv", datasetName=name,
        timeColumn="timestamp", metricColumn="revenue", dimensionColumn=DIMENSIONS,
    )  # fmt: skip
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
