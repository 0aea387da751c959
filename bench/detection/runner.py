"""Run every method on a labelled series through the product's own detector code.

The view's aggregate call supplies the global statistics and the trailing windows;
here the same numbers are computed with numpy/pandas (like the test oracle), then
`data.analytics.view` runs the detectors exactly as the analysis view does.
Baselines (plain z-score > 3, IQR 3x) are computed independently in numpy.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bench.detection.corpus import Series
from bench.detection.scoring import EventScore, score_events
from data.analytics import view
from data.analytics.params import DEFAULT_THRESHOLDS, DEFAULTS

PRODUCT_METHODS = (
    "auto",
    "seasonal_esd",
    "changepoint",
    "modified_zscore",
    "gesd",
    "rolling_zscore",
)
BASELINES = ("baseline_zscore", "baseline_iqr")


def view_doc(series: Series, window: int) -> dict:
    """The fields the pipeline returns for this series (numpy/pandas)."""
    values = series.values.astype(float)
    rolling = pd.Series(values).rolling(window, min_periods=1)
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    deviations = np.abs(values - median)
    times = [
        dt.datetime.fromtimestamp(int(t), dt.UTC) for t in series.times.astype(int)
    ]
    points = [
        {"t": t, "value": v, "count": 1, "rolling_mean": m, "rolling_std": s}
        for t, v, m, s in zip(times, values, rolling.mean(), rolling.std(), strict=True)
    ]
    return {
        "series": points,
        "n": len(values),
        "mean": float(values.mean()),
        "std_pop": float(values.std()),
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "mad": float(np.median(deviations)),
        "mean_abs_dev": float(deviations.mean()),
    }


def params_for(series: Series) -> dict:
    """The default view parameters at the series' granularity."""
    return {
        **DEFAULTS,
        "metric": "value",
        "granularity": series.granularity,
        "threshold": DEFAULT_THRESHOLDS["auto"],
        "from": None,
        "to": None,
        "filters": {},
    }


def product_flags(series: Series) -> dict[str, np.ndarray]:
    """Flagged positions per product method (change points included)."""
    params = params_for(series)
    doc = view_doc(series, params["window"])
    points = view.Points(doc, params["window"])
    detections = view.run_detectors(points, doc, params)
    return {
        name: np.array(sorted(detections[name].findings), dtype=int)
        for name in PRODUCT_METHODS
    }


def baseline_flags(series: Series) -> dict[str, np.ndarray]:
    """Plain global z-score > 3 and IQR fences at 3x, computed here."""
    values = series.values.astype(float)
    std = values.std()
    z = np.abs(values - values.mean()) / std if std > 0 else np.zeros(len(values))
    q1, q3 = np.percentile(values, [25, 75])
    iqr = q3 - q1
    outside = (values < q1 - 3 * iqr) | (values > q3 + 3 * iqr)
    return {
        "baseline_zscore": np.flatnonzero(z > 3),
        "baseline_iqr": np.flatnonzero(outside) if iqr > 0 else np.array([], int),
    }


def score(series: Series, flagged: np.ndarray) -> EventScore:
    """Event-level score of flagged positions against the series' windows."""
    seconds = series.times.astype(np.int64).astype(float)
    windows = [(seconds[a], seconds[b]) for a, b in series.windows]
    return score_events(seconds[flagged], windows, (seconds[0], seconds[-1]))


def evaluate(series: Series) -> dict[str, EventScore]:
    """Every method's and baseline's event score on one series."""
    flags = {**product_flags(series), **baseline_flags(series)}
    return {name: score(series, flagged) for name, flagged in flags.items()}
