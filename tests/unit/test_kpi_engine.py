"""$dateTrunc in the in-process engine (the manual's rules) and the HLL sketches'
stated error at 100,000 distinct values."""

from __future__ import annotations

import datetime as dt

import mongomock
import numpy as np
import pandas as pd
import pytest

from data import inprocess
from data.ingest.identity import dataset_secret, hash_identifiers
from data.ingest.kpi_rollups import KpiRollupAccumulator, MeasureInput
from data.ingest.transform import Converted
from data.kpi.compute import SKETCH_RELATIVE_ERROR, union_estimate

UTC = dt.UTC


def trunc(date, **spec):
    inprocess.install()
    collection = mongomock.MongoClient(tz_aware=True).db.dates
    collection.insert_one({"d": date})
    stages = [{"$project": {"_id": 0, "t": {"$dateTrunc": {"date": "$d", **spec}}}}]
    return next(collection.aggregate(stages))["t"]


@pytest.mark.parametrize(
    ("date", "spec", "expected"),
    [
        # The manual: binSize 1, unit hour, 2021-03-20T11:30:05Z -> 11:00:00Z.
        (
            dt.datetime(2021, 3, 20, 11, 30, 5, tzinfo=UTC),
            {"unit": "hour"},
            dt.datetime(2021, 3, 20, 11, tzinfo=UTC),
        ),
        # Weeks start on Sunday unless startOfWeek says otherwise.
        (
            dt.datetime(2021, 3, 20, 11, tzinfo=UTC),
            {"unit": "week"},
            dt.datetime(2021, 3, 14, tzinfo=UTC),
        ),
        (
            dt.datetime(2021, 3, 20, 11, tzinfo=UTC),
            {"unit": "week", "startOfWeek": "Monday"},
            dt.datetime(2021, 3, 15, tzinfo=UTC),
        ),
        (
            dt.datetime(2021, 3, 20, 11, tzinfo=UTC),
            {"unit": "month"},
            dt.datetime(2021, 3, 1, tzinfo=UTC),
        ),
        (
            dt.datetime(2021, 8, 20, 11, tzinfo=UTC),
            {"unit": "quarter"},
            dt.datetime(2021, 7, 1, tzinfo=UTC),
        ),
        # Local midnight in Berlin: 23:00 UTC in winter, 22:00 UTC in summer.
        (
            dt.datetime(2028, 3, 26, 12, tzinfo=UTC),
            {"unit": "day", "timezone": "Europe/Berlin"},
            dt.datetime(2028, 3, 25, 23, tzinfo=UTC),
        ),
        (
            dt.datetime(2028, 3, 27, 12, tzinfo=UTC),
            {"unit": "day", "timezone": "Europe/Berlin"},
            dt.datetime(2028, 3, 26, 22, tzinfo=UTC),
        ),
        # 01:30 EST is before the New York change at 02:00; 00:30 local next day.
        (
            dt.datetime(2028, 3, 12, 6, 30, tzinfo=UTC),
            {"unit": "hour", "timezone": "America/New_York"},
            dt.datetime(2028, 3, 12, 6, tzinfo=UTC),
        ),
        (
            dt.datetime(2028, 3, 1, 2, tzinfo=UTC),
            {"unit": "month", "timezone": "America/New_York"},
            dt.datetime(2028, 2, 1, 5, tzinfo=UTC),
        ),
        (None, {"unit": "day"}, None),
    ],
)
def test_date_trunc(date, spec, expected):
    assert trunc(date, **spec) == expected


def test_date_trunc_refuses_what_it_cannot_do():
    with pytest.raises(mongomock.OperationFailure):
        trunc(dt.datetime(2021, 1, 1, tzinfo=UTC), unit="hour", binSize=2)
    with pytest.raises(mongomock.OperationFailure):
        trunc(dt.datetime(2021, 1, 1, tzinfo=UTC), unit="day", timezone="Mars/Olympus")


def test_sketches_are_within_their_stated_error_at_100k_distinct_values():
    """100,000 users spread over 200 hours, each hour's sketch written by the
    ingest accumulator, merged like a period value."""
    rng = np.random.default_rng(5)
    users = np.array([f"user-{i}" for i in range(100_000)], dtype=object)
    events = np.concatenate([users, rng.choice(users, 150_000)])
    hours = rng.integers(0, 200, len(events))
    times = pd.Series(
        pd.Timestamp("2028-01-01", tz="UTC") + pd.to_timedelta(hours, unit="h")
    )
    ids = hash_identifiers(events, dataset_secret("secret", "d" * 32))
    accumulator = KpiRollupAccumulator(
        [MeasureInput("users", "distinct", "c1", None, None)], []
    )
    accumulator.add(
        Converted(
            rows=np.arange(len(events)),
            times=times,
            metrics={},
            dimensions={},
            total=len(events),
            bad=0,
            identifiers={"c1": ids},
        )
    )
    documents = [d for batch in accumulator.batches("d" * 32, 1, 1) for d in batch]
    hourly = [d["p"]["users"]["h"] for d in documents if d["g"] == "hour"]
    daily = [d["p"]["users"]["h"] for d in documents if d["g"] == "day"]
    assert len(hourly) == 200 and len(daily) == 9
    for sketches in (hourly, daily):
        estimate = union_estimate([sketches])
        assert abs(estimate - 100_000) <= SKETCH_RELATIVE_ERROR * 100_000
    assert 0.02 < SKETCH_RELATIVE_ERROR < 0.04  # lg_k 12 at two standard deviations


def test_identifier_hashes_are_keyed_per_dataset():
    values = np.array(["alice", "bob", "alice", ""], dtype=object)
    first = hash_identifiers(values, dataset_secret("secret", "a" * 32))
    second = hash_identifiers(values, dataset_secret("secret", "b" * 32))
    assert first[0] == first[2] != first[1] and first[3] == ""
    assert first[0] != second[0] and "alice" not in "".join(first)
    assert len(first[0]) == 16
