"""The KPI anomaly badge scores complete buckets only: a period cut at the data's
end (today until now) leaves its last bucket out."""

from __future__ import annotations

import datetime as dt

from data.kpi.service import series_anomalies

DAY = dt.timedelta(days=1)
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def daily(values: list[float | None]) -> list[dict]:
    """A measure's series of daily buckets from 1 November."""
    return [
        {"t": (START + i * DAY).isoformat(), "value": value}
        for i, value in enumerate(values)
    ]


def test_a_filling_last_bucket_is_not_a_drop():
    series = daily([100, 104, 98, 101, 99, 103, 97, 100, 8])
    complete = series_anomalies(series)
    assert [(a["t"], a["direction"]) for a in complete] == [(series[-1]["t"], "drop")]
    assert series_anomalies(series, partial=True) == []


def test_a_partial_period_still_scores_its_complete_buckets():
    series = daily([100, 104, 98, 400, 99, 103, 97, 100, 8])
    found = series_anomalies(series, partial=True)
    assert [(a["t"], a["direction"]) for a in found] == [(series[3]["t"], "spike")]
