"""The detection baseline of a bucket (the `window` buckets before it) read from the
pipeline's trailing window at the previous bucket equals pandas' shifted window."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from data.analytics.view import baselines
from tests import oracle

values = st.lists(
    st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), max_size=40
)


def same(got, want) -> bool:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    return got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)


@given(values, st.integers(2, 10))
@example([], 7)
@example([5.0], 2)
@example([None, 1.0, None, None, 3.0, 4.0], 2)
# Identical values after large ones (pandas' rolling std gives them 0.0149).
@example([627795.65, -66620.39, -453566.43, -427017.95, 894311.58, *[923473.5] * 4], 3)
def test_baselines_match_the_shifted_window(raw, window):
    series = pd.Series([math.nan if v is None else v for v in raw], dtype=float)
    # What the pipeline's $setWindowFields gives each bucket: mean and sample std
    # of the trailing `window` buckets including the bucket itself, each window on
    # its own (pandas' rolling sums would leave a residue in identical values).
    after = pd.concat([series, pd.Series([math.nan])], ignore_index=True)
    before_next, stds_before_next, _ = oracle.trailing(after, window)
    means = before_next.iloc[1:].reset_index(drop=True)
    stds = stds_before_next.iloc[1:].reset_index(drop=True)
    points = [
        {
            "value": value,
            "rolling_mean": None if math.isnan(means[i]) else means[i],
            "rolling_std": None if math.isnan(stds[i]) else stds[i],
        }
        for i, value in enumerate(raw)
    ]
    want_mean, want_std, want_count = oracle.trailing(series, window)
    got = baselines(points, window)
    assert len(got) == len(raw)
    for i, (mean, std, count) in enumerate(got):
        assert same(mean, want_mean[i]), i
        assert same(std, want_std[i]), i
        assert count == int(want_count[i]), i
