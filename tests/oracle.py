"""Independent reference implementations (numpy, pandas, scipy) of every number the
analytics view reports. Written from the definitions, not from the app's code."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

FREQUENCIES = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}


def bucketed(frame: pd.DataFrame, metric: str, granularity: str, aggregation: str):
    """The series per bucket, with every bucket between the first and last present.

    Missing buckets are NaN, except for the count aggregation (0)."""
    times = pd.to_datetime(frame["t"], utc=True)
    values = pd.to_numeric(frame[metric], errors="coerce").astype(float)
    if granularity == "week":
        days = times.dt.floor("D")
        keys = days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    elif granularity == "month":
        days = times.dt.floor("D")
        keys = days - pd.to_timedelta(days.dt.day - 1, unit="D")
    else:
        keys = times.dt.floor(FREQUENCIES[granularity])
    grouped = values.groupby(keys.array)
    per_bucket = {
        "sum": grouped.sum(min_count=1),
        "mean": grouped.mean(),
        "min": grouped.min(),
        "max": grouped.max(),
        "count": grouped.count().astype(float),
    }[aggregation]
    counts = grouped.count()
    if per_bucket.empty:
        return per_bucket, counts
    step = {"hour": "h", "day": "D", "week": "7D", "month": "MS"}[granularity]
    full = pd.date_range(per_bucket.index.min(), per_bucket.index.max(), freq=step)
    fill = 0.0 if aggregation == "count" else np.nan
    return per_bucket.reindex(full, fill_value=fill), counts.reindex(full, fill_value=0)


def quantile(values: np.ndarray, p: float) -> float:
    """numpy's default ('linear', Hyndman-Fan type 7) quantile."""
    return float(np.percentile(values, p * 100))


def summary(values: np.ndarray, missing: int) -> dict:
    """Summary statistics of the non-missing values."""
    if values.size == 0:
        return {"count": 0, "missing": missing, "sum": 0.0}
    q1, median, q3 = (quantile(values, p) for p in (0.25, 0.5, 0.75))
    return {
        "count": int(values.size),
        "missing": missing,
        "sum": float(np.sum(values)),
        "mean": float(np.mean(values)),
        "median": median,
        "std_pop": float(np.std(values)),
        "std_sample": float(np.std(values, ddof=1)) if values.size > 1 else None,
        "min": float(values.min()),
        "max": float(values.max()),
        "q1": q1,
        "q3": q3,
        "iqr": float(stats.iqr(values)),
    }


def histogram(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Freedman-Diaconis bins (Sturges when IQR = 0, 1 bin if constant, <= 100)."""
    n = values.size
    low, high = float(values.min()), float(values.max())
    if low == high:
        if low - 0.5 == high + 0.5:  # too large for a bin of width 1: numpy refuses
            return np.array([]), np.array([], dtype=int)
        return np.histogram(values, bins=1, range=(low - 0.5, high + 0.5))[::-1]
    width = 2 * stats.iqr(values) * n ** (-1 / 3)
    if width > 0:
        with np.errstate(over="ignore"):  # tiny widths give inf: capped below
            bins = float(np.ceil((high - low) / width))
    else:
        bins = math.ceil(math.log2(n) - 1e-9) + 1
    counts, edges = np.histogram(
        values, bins=int(min(max(bins, 1), 100)), range=(low, high)
    )
    return edges, counts


def box(values: np.ndarray, k: float) -> dict:
    """Tukey box plot: whiskers at the extreme points inside the fences."""
    q1, q3 = quantile(values, 0.25), quantile(values, 0.75)
    low, high = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    inside = values[(values >= low) & (values <= high)]
    return {
        "lower_whisker": float(inside.min()),
        "upper_whisker": float(inside.max()),
        "outliers": sorted(float(v) for v in values[(values < low) | (values > high)]),
        "fences": (low, high),
    }


def zscore_scores(values: np.ndarray) -> np.ndarray:
    """scipy's population z-scores.

    scipy warns about catastrophic cancellation on nearly identical values (e.g.
    [0.2, 0.2, 0.2], whose float mean is not exactly 0.2); the oracle still gives its
    answer there, and the test compares only scores clear of the threshold.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Precision loss occurred", RuntimeWarning)
        return stats.zscore(values)


def modified_zscore_scores(values: np.ndarray) -> np.ndarray | None:
    """0.6745 (x - median) / MAD; MAD = 0 → (x - median) / (1.253314 * meanAD)."""
    median = np.median(values)
    mad = stats.median_abs_deviation(values, scale=1.0)
    if mad > 0:
        return 0.6745 * (values - median) / mad
    mean_ad = np.mean(np.abs(values - median))
    if mean_ad > 0:
        return (values - median) / (1.253314 * mean_ad)
    return None


def iqr_flags(values: np.ndarray, k: float) -> set[int]:
    """Indices outside the Tukey fences (none when IQR = 0)."""
    q1, q3 = np.percentile(values, [25, 75])
    if q3 - q1 <= 0:
        return set()
    outside = (values < q1 - k * (q3 - q1)) | (values > q3 + k * (q3 - q1))
    return set(np.flatnonzero(outside).tolist())


def gesd(values: np.ndarray, alpha: float, max_outliers: int) -> tuple[set[int], list]:
    """Rosner's generalized ESD: returns (outlier indices, [(R_i, lambda_i)])."""
    n = values.size
    active = np.ones(n, dtype=bool)
    tested, table = [], []
    for i in range(1, min(max_outliers, n // 2) + 1):
        subset = values[active]
        spread = subset.std(ddof=1)
        if not spread > 0:
            break
        distance = np.where(active, np.abs(values - subset.mean()), -np.inf)
        worst = int(np.argmax(distance))
        p = 1 - alpha / (2 * (n - i + 1))
        t = stats.t.ppf(p, n - i - 1)
        lam = (n - i) * t / math.sqrt((n - i - 1 + t**2) * (n - i + 1))
        table.append((distance[worst] / spread, lam))
        tested.append(worst)
        active[worst] = False
    count = max((i + 1 for i, (r, lam) in enumerate(table) if r > lam), default=0)
    return set(tested[:count]), table


def trailing(series: pd.Series, window: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Mean, sample std and count of the `window` buckets before each bucket.

    Each window is computed on its own with numpy's two-pass formulas: pandas'
    rolling std keeps running sums, which leave a residue (1e-9 and more) in the
    std of identical values that follow large ones, where the true std is 0."""
    values = series.to_numpy(dtype=float)
    means, stds, counts = [], [], []
    for position in range(values.size):
        previous = values[max(0, position - window) : position]
        previous = previous[~np.isnan(previous)]
        counts.append(float(previous.size))
        means.append(previous.mean() if previous.size else np.nan)
        stds.append(previous.std(ddof=1) if previous.size >= 2 else np.nan)
    return (
        pd.Series(means, index=series.index),
        pd.Series(stds, index=series.index),
        pd.Series(counts, index=series.index),
    )


def rolling_flags(series: pd.Series, window: int, threshold: float) -> set | None:
    """Positions (in the full series) whose contextual |z| reaches the threshold;
    None when a score sits within rounding distance of the threshold."""
    means, stds, counts = trailing(series, window)
    flagged = set()
    least = max(2, window // 2)
    for position, value in enumerate(series.to_numpy()):
        std = stds.iloc[position]
        if math.isnan(value) or counts.iloc[position] < least or not std > 0:
            continue
        score = abs(value - means.iloc[position]) / std
        if abs(score - threshold) <= 1e-9 * threshold:
            return None
        if score >= threshold:
            flagged.add(position)
    return flagged
