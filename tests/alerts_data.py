"""Alert test data: a daily series uploaded through the API, and rule bodies."""

from __future__ import annotations

import datetime as dt

from data.alerts import service
from tests.api_calls import post_file

FIRST_DAY = dt.date(2026, 1, 1)
# Two excursions above 100 (days 4-6 and 12-13) and a spike on day 17.
VALUES = [50, 52, 48, 120, 130, 125, 60, 55, 50, 49, 51, 140, 150, 60, 58, 57, 900,
          55, 54, 53]  # fmt: skip


def series_csv(values: list[float], first: dt.date = FIRST_DAY) -> bytes:
    """date,value rows, one per day."""
    lines = ["date,value"]
    for index, value in enumerate(values):
        lines.append(f"{first + dt.timedelta(days=index)},{value}")
    return ("\n".join(lines) + "\n").encode()


def upload_series(client, user, values=VALUES, name="Sensor") -> str:
    """Upload a daily series (a new version when the name exists); the dataset id."""
    response = post_file(
        client, user, series_csv(values), filename="series.csv", datasetName=name,
        timeColumn="date", metricColumn="value",
    )  # fmt: skip
    assert response.status_code in (200, 202), response.get_json()
    # Processing evaluates the dataset's rules on a background thread: wait for it.
    service.wait_for_background(client.application.extensions["insightboard"])
    return response.get_json()["id"]


def above_rule(dataset_id: str, threshold: float = 100, **fields) -> dict:
    """A rule on the analysis metric `value` (daily sums)."""
    return {
        "name": "Value too high",
        "datasetId": dataset_id,
        "measure": "value",
        "condition": {"type": "above", "threshold": threshold},
        **fields,
    }
