"""Shape one aggregate result into the analysis view (docs/contracts.md), pure."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from data.analytics import decomposition, narrative, seasonal
from data.analytics import detectors as det
from data.analytics.episodes import episode_gap, group_flags
from data.analytics.pipeline import MAX_HISTOGRAM_BINS
from data.analytics.spec import DEFAULT_THRESHOLDS
from data.errors import Unprocessable

SUMMARY_FIELDS = {
    "count": "n",
    "missing": "missing",
    "sum": "sum",
    "mean": "mean",
    "median": "median",
    "std_pop": "std_pop",
    "std_sample": "std_sample",
    "min": "min",
    "max": "max",
    "q1": "q1",
    "q3": "q3",
    "iqr": "iqr",
}


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat()


def _float(value) -> float | None:
    """A JSON-safe float: None for missing, infinite or NaN values."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def summary(doc: dict) -> dict:
    """Summary statistics of the series' non-empty values (all from the pipeline)."""
    result = {name: _float(doc.get(field)) for name, field in SUMMARY_FIELDS.items()}
    result["count"] = int(doc.get("n") or 0)
    result["missing"] = int(doc.get("missing") or 0)
    result["sum"] = _float(doc.get("sum") or 0)
    return result


def series(doc: dict) -> list[dict]:
    """[{t, value, count}] in time order; missing buckets carry value null."""
    return [
        {
            "t": _iso(point["t"]),
            "value": _float(point["value"]),
            "count": int(point["count"]),
        }
        for point in doc["series"]
    ]


def rolling(doc: dict) -> list[dict]:
    """Rolling mean and sample standard deviation over the trailing window."""
    return [
        {
            "t": _iso(point["t"]),
            "mean": _float(point.get("rolling_mean")),
            "std": _float(point.get("rolling_std")),
        }
        for point in doc["series"]
    ]


def histogram(doc: dict, bins: list[dict]) -> dict:
    """Edges and counts (bins without values count 0) and the rule used."""
    edges = [_float(edge) for edge in doc.get("edges") or []]
    counts = [0] * max(len(edges) - 1, 0)
    for row in bins:
        counts[int(row["_id"])] = int(row["count"])
    return {"edges": edges, "counts": counts, "rule": _histogram_rule(doc)}


def _histogram_rule(doc: dict) -> str:
    count = doc.get("n") or 0
    if not count:
        return "no values"
    if not doc.get("hist_bins"):
        if doc["max"] == doc["min"]:
            return "none: all values are equal and too large for a bin of width 1"
        return "none: the values span more than the floating-point range"
    if doc["max"] == doc["min"]:
        return "one bin: all values are equal"
    if not doc.get("iqr"):
        return "Sturges (IQR is 0)"
    capped = doc["hist_bins"] >= MAX_HISTOGRAM_BINS
    return "Freedman-Diaconis" + (
        f", capped at {MAX_HISTOGRAM_BINS} bins" if capped else ""
    )


def box(doc: dict) -> dict:
    """Box-plot data: quartiles, Tukey whiskers and the points beyond them."""
    return {
        "q1": _float(doc.get("q1")),
        "median": _float(doc.get("median")),
        "q3": _float(doc.get("q3")),
        "lower_whisker": _float(doc.get("lower_whisker")),
        "upper_whisker": _float(doc.get("upper_whisker")),
        "outliers": [_float(value) for value in doc.get("outliers") or []],
    }


def thresholds(doc: dict, params: dict) -> dict:
    """Value bands for charts: mean ± t·σ and the Tukey fences."""
    z = (
        params["threshold"]
        if params["method"] == "zscore"
        else DEFAULT_THRESHOLDS["zscore"]
    )
    zscore = None
    if doc.get("n") and doc.get("std_pop") is not None:
        band = [doc["mean"] - z * doc["std_pop"], doc["mean"] + z * doc["std_pop"]]
        zscore = [_float(limit) for limit in band]
    iqr = None
    if doc.get("n"):
        iqr = [_float(doc["lower_fence"]), _float(doc["upper_fence"])]
    return {"zscore": zscore, "iqr": iqr}


def dimensions(dataset: dict, combos: list) -> dict[str, list[str]]:
    """Each dimension's values present in the data, sorted."""
    names = {column["key"]: column["name"] for column in dataset.get("columns", [])}
    found: dict[str, set[str]] = {
        name: set() for name in dataset.get("dimensionColumns") or []
    }
    for combo in combos:
        for key, value in (combo or {}).items():
            if names.get(key) in found and value is not None:
                found[names[key]].add(str(value))
    return {name: sorted(values) for name, values in found.items()}


def baselines(points: list[dict], window: int) -> list[tuple]:
    """(mean, sample std, count of values) of the `window` buckets before each one.

    That window is the pipeline's trailing window at the previous bucket, so its
    mean and std are read from there; the count is counted here."""
    present = [point.get("value") is not None for point in points]
    running = np.concatenate([[0], np.cumsum(present, dtype=np.int64)])
    result = []
    for index in range(len(points)):
        count = int(running[index] - running[max(0, index - window)])
        previous = points[index - 1] if index else {}
        result.append(
            (previous.get("rolling_mean"), previous.get("rolling_std"), count)
        )
    return result


class Points:
    """The non-empty series points the detectors see, with their baselines."""

    def __init__(self, doc: dict, window: int) -> None:
        series = doc["series"]
        present = [
            i for i, point in enumerate(series) if point.get("value") is not None
        ]
        every_baseline = baselines(series, window)
        self.times = [series[i]["t"] for i in present]
        self.positions = np.array(present, dtype=float)
        self.values = np.array([float(series[i]["value"]) for i in present])
        self.baselines = [every_baseline[i] for i in present]


def refuse_short_series(params: dict, count: int) -> None:
    """422 when the chosen method needs more points than the series has."""
    method = params["method"]
    if method == "auto":
        return
    needed = det.minimum_points(method, params["window"])
    if count < needed:
        raise Unprocessable(
            f"The {det.METHOD_LABELS[method]} method needs at least {needed} points; "
            f"this series has {count} (granularity {params['granularity']}).",
            details={"method": method, "minimum": needed, "points": count},
        )


def run_detectors(points: Points, doc: dict, params: dict) -> dict[str, det.Detection]:
    """Every method on the same points; the chosen one uses the request's threshold."""
    # Degenerate spreads (tiny or zero) give infinite scores; they are capped, and
    # numpy's warnings about them are expected here.
    with np.errstate(all="ignore"):
        return _run_detectors(points, doc, params)


def _run_detectors(points: Points, doc: dict, params: dict) -> dict[str, det.Detection]:
    values, window = points.values, params["window"]
    median, mad, mean_ad = doc.get("median"), doc.get("mad"), doc.get("mean_abs_dev")

    def threshold(name: str) -> float:
        chosen = params["method"] == name
        return params["threshold"] if chosen else DEFAULT_THRESHOLDS[name]

    detections = {
        "zscore": det.detect_zscore(
            values, doc.get("mean"), doc.get("std_pop"), threshold("zscore")
        ),
        "iqr": det.detect_iqr(
            values, doc.get("q1"), doc.get("q3"), median, params["k"]
        ),
        "modified_zscore": det.detect_modified_zscore(
            values, median, mad, mean_ad, threshold("modified_zscore")
        ),
        "gesd": det.detect_gesd(values, params["alpha"], params["max_outliers"]),
        "rolling_zscore": det.detect_rolling_zscore(
            values, points.baselines, window, threshold("rolling_zscore")
        ),
    }
    analysis = decomposition.analyse(points.positions, values, step(points, params))
    detections["seasonal_esd"] = det.detect_seasonal_esd(
        analysis, len(values), params["alpha"]
    )
    detections["changepoint"] = det.detect_changepoints(analysis, len(values))
    primary, _ = det.modified_zscores(values, median, mad, mean_ad)
    detections["auto"] = det.choose_auto(
        detections, analysis, primary, median, threshold("auto")
    )
    return detections


BUCKET_SECONDS = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 2_629_746}


def step(points: Points, params: dict) -> float:
    """Seconds between consecutive positions: the bucket, or raw rows' median gap."""
    if params["granularity"] != "raw":
        return float(BUCKET_SECONDS[params["granularity"]])
    seconds = np.array([moment.timestamp() for moment in points.times])
    return seasonal.sampling_step(seconds)


def _percent(value: float, expected: float) -> float | None:
    """Deviation as a percentage of |expected| (None when expected is 0)."""
    if not expected:
        return None
    return _float((value - expected) / abs(expected) * 100)


def _anomaly_core(index: int, finding, points, params, unit) -> dict:
    value = float(points.values[index])
    moment = points.times[index]
    explanation = narrative.explanation(
        params["metric"], moment, params["granularity"], value,
        finding.expected, finding.baseline, unit,
    )  # fmt: skip
    return {
        "t": _iso(moment),
        "value": _float(value),
        "expected": _float(finding.expected),
        "deviation": _float(value - finding.expected),
        "deviation_pct": _percent(value, finding.expected),
        "score": finding.score,
        "direction": "spike" if value > finding.expected else "drop",
        "severity": det.severity(finding.ratio),
        "explanation": explanation,
    }


def _anomaly(index: int, finding, points, detections, params, unit) -> dict:
    anomaly = _anomaly_core(index, finding, points, params, unit)
    explanation = anomaly.pop("explanation")
    anomaly["methods"] = [
        name for name in det.FLAGGING_METHODS if index in detections[name].findings
    ]
    anomaly["explanation"] = explanation
    return anomaly


def anomalies(points, detections, params, unit: str | None) -> list[dict]:
    """The chosen method's anomalies, most severe first, with agreeing methods."""
    findings = detections[params["method"]].findings
    order = sorted(findings, key=lambda i: (-findings[i].ratio, points.times[i]))
    return [
        _anomaly(index, findings[index], points, detections, params, unit)
        for index in order
    ]


def methods_summary(detections: dict, params: dict) -> dict:
    """Flag counts and notes per method (auto only when it is the chosen mode)."""
    names = list(det.FLAGGING_METHODS)
    if params["method"] == "auto":
        names.append("auto")
    return {
        name: {"flagged": len(detections[name].findings), "note": detections[name].note}
        for name in names
    }


def _point_episode(members, points, findings, params, unit) -> dict:
    peak = max(members, key=lambda i: (findings[i].ratio, -i))
    anomaly = _anomaly_core(peak, findings[peak], points, params, unit)
    first, last = points.times[members[0]], points.times[members[-1]]
    explanation = anomaly["explanation"]
    if len(members) > 1:
        explanation = narrative.episode_explanation(
            params["metric"], first, last, len(members), params["granularity"],
            explanation,
        )  # fmt: skip
    return {
        "kind": anomaly["direction"],
        "start": _iso(first),
        "end": _iso(last),
        "peak_t": anomaly["t"],
        "peak_value": anomaly["value"],
        "expected": anomaly["expected"],
        "score": anomaly["score"],
        "severity": anomaly["severity"],
        "direction": anomaly["direction"],
        "points": len(members),
        "before": None,
        "after": None,
        "anomalies": [_iso(points.times[i]) for i in members],
        "explanation": explanation,
        "rank": findings[peak].ratio,
    }


def _change_episode(change, finding, points, params, unit) -> dict:
    moment = points.times[change.index]
    value = float(points.values[change.index])
    return {
        "kind": change.kind,
        "start": _iso(moment),
        "end": _iso(moment),
        "peak_t": _iso(moment),
        "peak_value": _float(value),
        "expected": _float(change.before),
        "score": finding.score,
        "severity": det.severity(finding.ratio),
        "direction": "spike" if change.after >= change.before else "drop",
        "points": 1,
        "before": _float(change.before),
        "after": _float(change.after),
        "anomalies": [_iso(moment)],
        "explanation": narrative.change_explanation(
            params["metric"], moment, params["granularity"], change, unit
        ),
        "rank": finding.ratio,
    }


def episodes(points: Points, detections: dict, params: dict, unit) -> list[dict]:
    """The chosen method's flags grouped into episodes, most severe first."""
    detection = detections[params["method"]]
    findings = detection.findings
    changes = {change.index: change for change in detection.changes}
    flagged = sorted(index for index in findings if index not in changes)
    gap = episode_gap(int(points.positions[-1] - points.positions[0]) + 1)
    result = [
        _point_episode([flagged[i] for i in group], points, findings, params, unit)
        for group in group_flags([points.positions[i] for i in flagged], gap)
    ] if flagged else []  # fmt: skip
    result += [
        _change_episode(change, findings[index], points, params, unit)
        for index, change in changes.items()
    ]
    result.sort(key=lambda episode: (-episode["rank"], episode["start"]))
    for episode in result:
        del episode["rank"]
    return result
