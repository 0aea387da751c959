"""Anomaly detectors agree with independent numpy/scipy implementations, reproduce
the NIST/SEMATECH generalized ESD example and a hand-computed modified z-score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from data.analytics import detectors as det
from tests import oracle

SAMPLE = np.array([24000, 25500, 89000, 23800, 24500, 62000, 8000], dtype=float)
ROSNER = np.array(
    [
        float(v)
        for v in """
    -0.25 0.68 0.94 1.15 1.20 1.26 1.26 1.34 1.38 1.43 1.49 1.49 1.55 1.56
    1.58 1.65 1.69 1.70 1.76 1.77 1.81 1.91 1.94 1.96 1.99 2.06 2.09 2.10
    2.14 2.15 2.23 2.24 2.26 2.35 2.37 2.40 2.47 2.54 2.62 2.64 2.90 2.92
    2.92 2.93 3.21 3.26 3.30 3.59 3.68 4.30 4.64 5.34 5.42 6.01""".split()
    ]
)
# NIST/SEMATECH e-Handbook 1.3.5.17.3: R_i and lambda_i at the 5% level.
NIST_TABLE = [
    (3.118, 3.158),
    (2.942, 3.151),
    (3.179, 3.143),
    (2.810, 3.136),
    (2.815, 3.128),
    (2.848, 3.120),
    (2.279, 3.111),
    (2.310, 3.103),
    (2.101, 3.094),
    (2.067, 3.085),
]

finite = st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
series_values = st.one_of(
    st.lists(finite, max_size=40),
    st.lists(st.integers(-5, 5).map(float), max_size=40),  # many ties
    st.lists(st.sampled_from([0.0, 1.0, 1e12, -1e12]), max_size=12),
).map(lambda values: np.array(values, dtype=float))


STAT_NAMES = ("mean", "std_pop", "median", "mad", "mean_abs_dev", "q1", "q3")


def stats_of(values: np.ndarray) -> dict:
    """The pipeline's statistics, computed here with numpy for the unit tests."""
    median = float(np.median(values))
    deviations = np.abs(values - median)
    return {
        "mean": float(values.mean()),
        "std_pop": float(values.std()),
        "median": median,
        "mad": float(np.median(deviations)),
        "mean_abs_dev": float(deviations.mean()),
        "q1": float(np.percentile(values, 25)),
        "q3": float(np.percentile(values, 75)),
    }


def clear_of(scores: np.ndarray, threshold: float) -> np.ndarray:
    """Points whose |score| is not within rounding distance of the threshold."""
    return np.abs(np.abs(scores) - threshold) > 1e-9 * max(threshold, 1.0)


def test_nist_generalized_esd_example():
    detection = det.detect_gesd(ROSNER, alpha=0.05, max_outliers=10)
    steps = det.gesd_steps(ROSNER, 10, 0.05)
    # The handbook prints three decimals (truncated): allow one unit in the last.
    for (_, r, critical), (table_r, table_lambda) in zip(
        steps, NIST_TABLE, strict=True
    ):
        assert abs(r) == pytest.approx(table_r, abs=1.01e-3)
        assert critical == pytest.approx(table_lambda, abs=1.01e-3)
    assert sorted(ROSNER[list(detection.findings)]) == [5.34, 5.42, 6.01]


def test_modified_zscore_hand_computed():
    """median 24,500; |x - median| = 500, 1000, 64500, 700, 0, 37500, 16500;
    MAD = 1000; M = 0.6745 (x - 24,500) / 1000."""
    stats = stats_of(SAMPLE)
    assert (stats["median"], stats["mad"]) == (24500.0, 1000.0)
    detection = det.detect_modified_zscore(SAMPLE, 24500.0, 1000.0, None, 3.5)
    expected = {2: 43.50525, 5: 25.29375, 6: -11.12925}
    assert {i: round(f.score, 5) for i, f in detection.findings.items()} == expected


def test_modified_zscore_falls_back_to_mean_absolute_deviation():
    """[5]*5 + [100]: MAD = 0; meanAD = 95/6; M = 95 / (1.253314 * 95/6) = 4.787."""
    values = np.array([5, 5, 5, 5, 5, 100], dtype=float)
    stats = stats_of(values)
    detection = det.detect_modified_zscore(
        values, stats["median"], stats["mad"], stats["mean_abs_dev"], 3.5
    )
    assert list(detection.findings) == [5]
    assert detection.findings[5].score == pytest.approx(6 / 1.253314)
    assert "mean absolute deviation" in detection.note


def test_sample_zscore_flags_nothing_and_says_why():
    stats = stats_of(SAMPLE)
    detection = det.detect_zscore(SAMPLE, stats["mean"], stats["std_pop"], 3.0)
    assert detection.findings == {}
    assert "cannot exceed 2.27" in detection.note


def test_sample_gesd_finds_all_three_despite_masking():
    detection = det.detect_gesd(SAMPLE, 0.05, 10)
    assert sorted(detection.findings) == [2, 5, 6]


@pytest.mark.parametrize(
    ("ratio", "band"),
    [(1.0, "low"), (1.49, "low"), (1.5, "medium"), (2.0, "high"), (3.0, "critical")],
)
def test_severity_bands(ratio, band):
    assert det.severity(ratio) == band


@settings(max_examples=150, deadline=None)
@given(values=series_values, threshold=st.sampled_from([2.0, 3.0]))
def test_zscore_matches_scipy(values, threshold):
    if values.size < 3:
        assert not det.detect_zscore(values, None, None, threshold).applicable
        return
    stats = stats_of(values)
    detection = det.detect_zscore(values, stats["mean"], stats["std_pop"], threshold)
    if stats["std_pop"] == 0:
        assert detection.findings == {}
        return
    scores = oracle.zscore_scores(values)
    clear = clear_of(scores, threshold)
    expected = set(np.flatnonzero((np.abs(scores) >= threshold) & clear).tolist())
    assert {i for i in detection.findings if clear[i]} == expected


@settings(max_examples=150, deadline=None)
@given(values=series_values, k=st.sampled_from([1.5, 3.0]))
@example(values=np.array([0.0, 0.0, 0.0, 1.0, 2.225073858507203e-309]), k=1.5)
@example(values=np.array([44.0, 44.0, 44.0, 1.00001]), k=3.0)
def test_iqr_matches_numpy(values, k):
    if values.size < 4:
        assert not det.detect_iqr(values, 0, 0, 0, k).applicable
        return
    stats = stats_of(values)
    # A subnormal IQR overflows the scores (capped); as in view.run_detectors.
    with np.errstate(over="ignore"):
        detection = det.detect_iqr(values, stats["q1"], stats["q3"], stats["median"], k)
    # A value within rounding distance of a fence may fall either side of it
    # (the quantiles are computed by different code); compare the others.
    q1, q3 = np.percentile(values, [25, 75])
    fences = np.array([q1 - k * (q3 - q1), q3 + k * (q3 - q1)])
    clear = np.abs(values[:, None] - fences).min(axis=1) > 1e-9 * max(
        float(np.abs(fences).max()), 1.0
    )
    flagged = {i for i in detection.findings if clear[i]}
    assert flagged == {i for i in oracle.iqr_flags(values, k) if clear[i]}
    for index, finding in detection.findings.items():
        assert finding.expected == stats["median"]
        assert finding.ratio > 1 if clear[index] else finding.ratio >= 1 - 1e-9


@settings(max_examples=150, deadline=None)
@given(values=series_values)
@example(values=np.array([0.0, 1.0, 2.225073858507e-311]))
def test_modified_zscore_matches_scipy(values):
    if values.size < 3:
        stats = stats_of(values) if values.size else dict.fromkeys(STAT_NAMES)
        refused = det.detect_modified_zscore(
            values, stats["median"], stats["mad"], stats["mean_abs_dev"], 3.5
        )
        assert not refused.applicable and refused.findings == {}
        assert refused.note == (
            f"needs at least 3 points; the series has {values.size}"
        )
        return
    stats = stats_of(values)
    # A subnormal MAD overflows the scores to infinity on both sides; the view
    # runs the detectors under the same errstate (view.run_detectors).
    with np.errstate(over="ignore"):
        detection = det.detect_modified_zscore(
            values, stats["median"], stats["mad"], stats["mean_abs_dev"], 3.5
        )
        scores = oracle.modified_zscore_scores(values)
    if scores is None:
        assert detection.findings == {}
        return
    clear = clear_of(scores, 3.5)
    expected = set(np.flatnonzero((np.abs(scores) >= 3.5) & clear).tolist())
    assert {i for i in detection.findings if clear[i]} == expected
    for index, finding in detection.findings.items():
        want = np.clip(scores[index], -det.SCORE_LIMIT, det.SCORE_LIMIT)
        assert finding.score == pytest.approx(want, rel=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    values=series_values,
    alpha=st.sampled_from([0.05, 0.01]),
    max_outliers=st.integers(1, 10),
)
@example(  # tied outliers: which copy goes first is a tie-break
    values=np.array([1.0, 2, 1, 2, 1, 2, 1, 2, 40, 40, 40]), alpha=0.05, max_outliers=5
)
@example(
    values=np.array([0.0, 3, 3, 3, 3, 3, 3, 3, -9, -9]), alpha=0.05, max_outliers=4
)
def test_gesd_matches_independent_implementation(values, alpha, max_outliers):
    detection = det.detect_gesd(values, alpha, max_outliers)
    if values.size < 3:
        assert not detection.applicable and detection.findings == {}
        assert detection.note == (
            f"needs at least 3 points; the series has {values.size}"
        )
        return
    expected, table = oracle.gesd(values, alpha, max_outliers)
    # Exact ties between R_i and lambda_i are decided by rounding; skip those.
    assume(all(abs(r - lam) > 1e-9 for r, lam in table))
    # Flagged values, as a multiset: among tied values either copy may be removed
    # first, which changes the index but neither the value nor later steps.
    assert sorted(values[list(detection.findings)]) == sorted(values[list(expected)])


@settings(max_examples=100, deadline=None)
@given(
    raw=st.lists(st.one_of(st.none(), finite), min_size=0, max_size=40),
    window=st.integers(2, 8),
)
def test_rolling_zscore_matches_pandas(raw, window):
    series = pd.Series([np.nan if v is None else v for v in raw], dtype=float)
    means, stds, counts = oracle.trailing(series, window)
    positions = [i for i, v in enumerate(raw) if v is not None]
    values = series.to_numpy()[positions]
    baselines = [
        (
            None if np.isnan(means.iloc[i]) else float(means.iloc[i]),
            None if np.isnan(stds.iloc[i]) else float(stds.iloc[i]),
            int(counts.iloc[i]),
        )
        for i in positions
    ]
    detection = det.detect_rolling_zscore(values, baselines, window, 3.0)
    if values.size < window + 1:
        assert not detection.applicable
        return
    expected = oracle.rolling_flags(series, window, 3.0)
    assume(expected is not None)
    assert {positions[i] for i in detection.findings} == expected


def test_rolling_zscore_finds_a_contextual_anomaly():
    """A value normal globally (within the overall range) but far from its
    neighbourhood is flagged by the rolling z-score only."""
    level = np.r_[np.full(20, 100.0), np.full(20, 200.0)]
    noise = np.tile([-1.0, 1.0], 20)
    values = level + noise
    values[10] = 150.0  # mid-range globally, 50 above its neighbours
    series = pd.Series(values)
    means, stds, counts = oracle.trailing(series, 7)
    baselines = [
        (means.iloc[i], stds.iloc[i], int(counts.iloc[i])) for i in range(len(values))
    ]
    baselines = [
        (None if np.isnan(m) else m, None if np.isnan(s) else s, c)
        for m, s, c in baselines
    ]
    rolling = det.detect_rolling_zscore(values, baselines, 7, 3.0)
    assert 10 in rolling.findings
    stats = stats_of(values)
    z = det.detect_zscore(values, stats["mean"], stats["std_pop"], 3.0)
    assert 10 not in z.findings


def test_auto_mode_needs_two_agreeing_methods():
    detections = {
        "modified_zscore": det.Detection(
            "modified_zscore", {1: _finding(), 2: _finding()}
        ),
        "iqr": det.Detection("iqr", {1: _finding()}),
        "gesd": det.Detection("gesd", {3: _finding()}),
        "rolling_zscore": det.Detection("rolling_zscore", applicable=False),
    }
    scores = np.array([0.0, 7.0, 5.0, 1.0])
    auto = det.combine_auto(detections, scores, 10.0, 3.5)
    assert list(auto.findings) == [1]
    assert auto.findings[1].ratio == 2.0
    assert "at least 2 of" in auto.note and "rolling" not in auto.note


def _finding() -> det.Finding:
    return det.Finding(4.0, 0.0, 1.0, "median")
