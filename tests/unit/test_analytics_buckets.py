"""bucket_count agrees with pandas' calendar on every granularity."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from data.analytics.pipeline import bucket_count, bucket_start, next_bucket

FREQUENCIES = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}
moments = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)
).map(lambda moment: moment.replace(tzinfo=dt.UTC))


@given(st.sampled_from(sorted(FREQUENCIES)), moments, moments)
@example(
    "month",
    dt.datetime(2024, 1, 31, tzinfo=dt.UTC),
    dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
)
@example(
    "week",
    dt.datetime(2024, 1, 7, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 8, tzinfo=dt.UTC),
)
@example(
    "hour",
    dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
)
def test_bucket_count_matches_pandas(granularity, one, other):
    first, last = sorted((one, other))
    lower = bucket_start(first, granularity)
    upper = next_bucket(bucket_start(last, granularity), granularity)
    expected = len(
        pd.date_range(lower, upper, freq=FREQUENCIES[granularity], inclusive="left")
    )
    assert bucket_count(lower, upper, granularity) == expected
    assert bucket_count(upper, lower, granularity) == 0
