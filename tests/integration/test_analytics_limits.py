"""Views are sized before their aggregate call: raw views by rows, bucketed views by
buckets (a server refuses result documents over 16 MiB), each refused with a 422
naming the limit and what to change."""

from __future__ import annotations

import datetime as dt

import mongomock
import pandas as pd
import pytest

from data import analytics
from data.analytics import service
from data.analytics.pipeline import bucket_count
from data.errors import Unprocessable
from tests.analytics_data import insert_dataset

OWNER = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def hourly(app):
    """40 hourly rows from 2024-01-01 00:00; region A only in the first 10 hours."""
    services = app.server.extensions["insightboard"]
    times = pd.date_range("2024-01-01", periods=40, freq="h", tz="UTC")
    frame = pd.DataFrame(
        {
            "date": times,
            "revenue": [float(i % 7) for i in range(40)],
            "region": ["A"] * 10 + ["B"] * 30,
        }
    )
    with app.server.app_context():
        dataset = insert_dataset(
            services.mongo, OWNER, frame, "date", ["revenue"], ["region"]
        )
        yield services, dataset


def view(services, dataset, **params):
    """Computed every time (the limit applies to computing, not to cache reads)."""
    return analytics.run_analytics(
        services, OWNER, dataset["datasetId"], params, force=True
    )


@pytest.mark.parametrize(
    ("params", "buckets"),
    [
        ({"granularity": "hour"}, 40),  # first to last bucket with data
        ({"granularity": "hour", "from": "2024-01-02"}, 16),  # one bound
        ({"granularity": "hour", "to": "2024-01-01T04:30:00"}, 5),
        ({"granularity": "hour", "filters": {"region": ["A"]}}, 10),
        # Both bounds: missing buckets are filled across the whole range.
        ({"granularity": "hour", "from": "2024-01-01", "to": "2024-01-03"}, 72),
        ({"granularity": "day", "from": "2023-12-30", "to": "2024-01-05"}, 7),
    ],
)
def test_a_view_at_the_limit_works_and_one_more_bucket_is_refused(
    hourly, monkeypatch, params, buckets
):
    services, dataset = hourly
    monkeypatch.setattr(service, "MAX_BUCKETS", buckets)
    result = view(services, dataset, **params)
    assert len(result["series"]) == buckets
    monkeypatch.setattr(service, "MAX_BUCKETS", buckets - 1)
    with pytest.raises(Unprocessable) as refused:
        view(services, dataset, **params)
    assert f"limited to {buckets - 1:,} buckets" in refused.value.message
    assert f"has {buckets:,}" in refused.value.message
    assert refused.value.details["limit"] == buckets - 1


def test_refusal_suggests_coarser_granularities_and_a_date_range(hourly, monkeypatch):
    services, dataset = hourly
    monkeypatch.setattr(service, "MAX_BUCKETS", 10)
    with pytest.raises(Unprocessable) as hour:
        view(services, dataset, granularity="hour")
    assert "coarser granularity (day, week, month)" in hour.value.message
    assert "shorter date range (from/to)" in hour.value.message
    with pytest.raises(Unprocessable) as month:
        view(
            services,
            dataset,
            granularity="month",
            **{"from": "2020-01-01"},
            to="2024-12-31",
        )
    assert "has 60" in month.value.message
    assert "coarser" not in month.value.message
    assert "shorter date range" in month.value.message


@pytest.fixture
def aggregate_results(monkeypatch):
    """The documents each aggregate call returned (the engine's Collection)."""
    results: list[list[dict]] = []
    original = mongomock.collection.Collection.aggregate

    def recorded(self, *args, **kwargs):
        documents = list(original(self, *args, **kwargs))
        results.append(documents)
        return iter(documents)

    monkeypatch.setattr(mongomock.collection.Collection, "aggregate", recorded)
    return results


def test_with_from_and_to_the_refusal_comes_before_the_aggregate(
    hourly, aggregate_results
):
    services, dataset = hourly
    with pytest.raises(Unprocessable, match="has 298,056"):
        view(
            services,
            dataset,
            granularity="hour",
            to="2024-01-01",
            **{"from": "1990-01-01"},
        )
    assert aggregate_results == []


@pytest.mark.parametrize(
    "params", [{}, {"from": "2024-01-01T02:00:00"}, {"to": "2024-01-02"}]
)
def test_otherwise_the_one_aggregate_returns_a_bounded_series(
    hourly, monkeypatch, aggregate_results, params
):
    """Without both bounds the span comes back with the view's one aggregate call,
    whose series holds at most limit + 1 buckets whatever the span."""
    services, dataset = hourly
    monkeypatch.setattr(service, "MAX_BUCKETS", 9)
    with pytest.raises(Unprocessable, match="limited to 9 buckets"):
        view(services, dataset, granularity="hour", **params)
    [[result]] = aggregate_results
    assert len(result["view"][0]["series"]) == 10


def test_the_real_limit_is_50000_buckets():
    """Exactly 50,000 buckets pass, one more is refused (checked without running
    a 50,000-bucket view)."""
    assert service.MAX_BUCKETS == 50_000
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    for hours, refused in ((50_000, False), (50_001, True)):
        count = bucket_count(start, start + dt.timedelta(hours=hours), "hour")
        assert count == hours
        if refused:
            with pytest.raises(Unprocessable, match="limited to 50,000 buckets"):
                service.refuse_buckets("hour", count)
        else:
            service.refuse_buckets("hour", count)


def test_api_answers_422_naming_the_limit(app, client, new_user):
    user = new_user(client)
    services = app.server.extensions["insightboard"]
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC"),
            "revenue": [1.0, 2.0, 3.0],
        }
    )
    dataset = insert_dataset(services.mongo, user["id"], frame, "date", ["revenue"])
    response = client.get(
        f"/api/analytics/{dataset['datasetId']}"
        "?granularity=hour&from=2000-01-01&to=2024-12-31",
        headers=user["headers"],
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["limit"] == 50_000 and error["buckets"] == 219_168
    assert "limited to 50,000 buckets" in error["message"]
    assert "coarser granularity (day, week, month)" in error["message"]
