"""Fabricated analysis views that follow docs/contracts.md exactly (no I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

SAMPLE_DATES = [
    "2024-01-01",
    "2024-01-02",
    "2024-01-03",
    "2024-01-04",
    "2024-01-05",
    "2024-01-15",
    "2024-01-27",
]
SAMPLE_REVENUE = [24000, 25500, 89000, 23800, 24500, 62000, 8000]
SAMPLE_ANOMALIES = {
    "2024-01-03": "critical",
    "2024-01-15": "high",
    "2024-01-27": "medium",
}


def iso(day: str | datetime) -> str:
    """A bucket start as the service writes it: ISO 8601 with a UTC offset."""
    if isinstance(day, datetime):
        return day.isoformat()
    return datetime.fromisoformat(day).replace(tzinfo=UTC).isoformat()


def anomaly(t: str, value: float, expected: float, severity: str) -> dict:
    """One anomaly entry of the contract."""
    deviation = value - expected
    return {
        "t": t,
        "value": value,
        "expected": expected,
        "deviation": deviation,
        "deviation_pct": 100 * deviation / expected,
        "score": 4.2,
        "direction": "spike" if deviation > 0 else "drop",
        "severity": severity,
        "methods": ["modified_zscore"],
        "explanation": f"Revenue on {t[:10]} was far from the median.",
    }


def one_point_episode(anomaly: dict) -> dict:
    """The episode of a lone anomaly, as the service writes it."""
    return {
        "kind": anomaly["direction"],
        "start": anomaly["t"],
        "end": anomaly["t"],
        "peak_t": anomaly["t"],
        "peak_value": anomaly["value"],
        "expected": anomaly["expected"],
        "score": anomaly["score"],
        "severity": anomaly["severity"],
        "direction": anomaly["direction"],
        "points": 1,
        "before": None,
        "after": None,
        "anomalies": [anomaly["t"]],
        "explanation": anomaly["explanation"],
    }


def summary_of(values: list[float]) -> dict:
    """The summary block computed with numpy (independent of the service)."""
    data = np.array(values, dtype=float)
    q1, median, q3 = np.percentile(data, [25, 50, 75])
    return {
        "count": len(data),
        "missing": 0,
        "sum": float(data.sum()),
        "mean": float(data.mean()),
        "median": float(median),
        "std_pop": float(data.std()),
        "std_sample": float(data.std(ddof=1)),
        "min": float(data.min()),
        "max": float(data.max()),
        "q1": float(q1),
        "q3": float(q3),
        "iqr": float(q3 - q1),
    }


def build_view(
    times: list[str],
    values: Sequence[float | None],
    anomalies: list[dict],
    metric: str = "revenue",
    unit: str | None = "₹",
    window: int = 3,
    k: float = 2.0,
) -> dict:
    """A complete view dict for the given series."""
    present = [v for v in values if v is not None]
    summary = summary_of(present)
    counts, edges = np.histogram(present, bins=min(10, max(1, len(present))))
    mean, std = summary["mean"], summary["std_pop"]
    fence = 1.5 * summary["iqr"]
    rolling = []
    for i, t in enumerate(times):
        window_values = [
            v for v in values[max(0, i - window + 1) : i + 1] if v is not None
        ]
        ready = i >= window - 1 and window_values
        rolling.append(
            {
                "t": t,
                "mean": float(np.mean(window_values)) if ready else None,
                "std": float(np.std(window_values)) if ready else None,
            }
        )
    return {
        "dataset": {
            "id": "a" * 32,
            "name": "Sales 2024",
            "version": 1,
            "revision": 1,
            "status": "cached",
            "timeColumn": "date",
            "metrics": [metric, "orders"],
            "dimensions": {"region": ["North", "South"]},
            "units": {metric: unit, "orders": None},
        },
        "params": {
            "metric": metric,
            "granularity": "day",
            "aggregation": "sum",
            "method": "auto",
            "threshold": 3.5,
            "k": k,
            "alpha": 0.05,
            "max_outliers": 10,
            "window": window,
            "from": None,
            "to": None,
            "filters": {},
        },
        "series": [
            {"t": t, "value": v, "count": 0 if v is None else 1}
            for t, v in zip(times, values, strict=True)
        ],
        "rolling": rolling,
        "summary": summary,
        "anomalies": anomalies,
        "episodes": [one_point_episode(a) for a in anomalies],
        "methods": {"modified_zscore": {"flagged": len(anomalies), "note": None}},
        "histogram": {
            "edges": edges.tolist(),
            "counts": counts.tolist(),
            "rule": "sturges",
        },
        "box": {
            "q1": summary["q1"],
            "median": summary["median"],
            "q3": summary["q3"],
            "lower_whisker": summary["min"],
            "upper_whisker": summary["q3"] + fence,
            "outliers": [v for v in present if v > summary["q3"] + fence],
        },
        "thresholds": {
            "zscore": [mean - 3 * std, mean + 3 * std],
            "iqr": [summary["q1"] - fence, summary["q3"] + fence],
        },
        "insights": ["Revenue averaged ₹36,686 per day.", "3 anomalies were found."],
        "notes": [],
        "cached": True,
    }


def sample_view() -> dict:
    """The demo sales file's view: seven days, three anomalies."""
    times = [iso(d) for d in SAMPLE_DATES]
    median = float(np.median(SAMPLE_REVENUE))
    anomalies = [
        anomaly(iso(day), SAMPLE_REVENUE[SAMPLE_DATES.index(day)], median, severity)
        for day, severity in SAMPLE_ANOMALIES.items()
    ]
    return build_view(times, SAMPLE_REVENUE, anomalies)


def large_view(points: int, anomaly_every: int = 9973, seed: int = 7) -> dict:
    """A long hourly random series with scattered anomalies and a few gaps."""
    rng = np.random.default_rng(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    times = [iso(start + timedelta(hours=i)) for i in range(points)]
    values: list[float | None] = rng.normal(1000, 50, points).round(2).tolist()
    for i in range(5, points, 5000):
        values[i] = None
    anomalies = []
    for i in range(anomaly_every // 2, points, anomaly_every):
        spike = 1000 + (-1) ** i * 400.0
        values[i] = spike
        anomalies.append(anomaly(times[i], spike, 1000.0, "high"))
    return build_view(times, values, anomalies, window=24)
