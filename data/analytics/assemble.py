"""Put the analysis view together from one aggregate result (pure)."""

from __future__ import annotations

from data.analytics import detectors as det
from data.analytics import narrative
from data.analytics import view as shape


def dataset_header(dataset: dict, combos: list) -> dict:
    """The view's `dataset` block."""
    return {
        "id": dataset["datasetId"],
        "name": dataset.get("datasetName"),
        "version": dataset["version"],
        "revision": dataset.get("revision", 1),
        "status": dataset.get("status"),
        "timeColumn": dataset.get("timeColumn"),
        "metrics": list(dataset.get("metricColumns") or []),
        "dimensions": shape.dimensions(dataset, combos),
        "units": units(dataset),
    }


def units(dataset: dict) -> dict:
    """Metric name → unit symbol (or None)."""
    metrics = set(dataset.get("metricColumns") or [])
    return {
        column["name"]: column.get("unit")
        for column in dataset.get("columns", [])
        if column["name"] in metrics
    }


def notes(detections: dict, params: dict, empty: int, total: int) -> list[str]:
    """Data-quality and method notes, one line each."""
    lines = []
    gap = narrative.gap_sentence(empty, total, params)
    if gap:
        lines.append(gap)
    names = (
        (*det.FLAGGING_METHODS, "auto")
        if params["method"] == "auto"
        else det.FLAGGING_METHODS
    )
    for name in names:
        note = detections[name].note
        if note:
            lines.append(f"{narrative.sentence_case(det.METHOD_LABELS[name])}: {note}.")
    return lines


def _quality_lines(detections, anomalies, params, count, view_series) -> list[str]:
    masking = narrative.masking_sentence(detections, anomalies, count, params["method"])
    empty = sum(1 for point in view_series if point["count"] == 0)
    gap = narrative.gap_sentence(empty, len(view_series), params)
    skipped = [
        f"{narrative.sentence_case(det.METHOD_LABELS[name])} was skipped: "
        f"{detections[name].note}."
        for name in det.ROBUST_VOTERS
        if not detections[name].applicable
    ]
    return [line for line in (masking, gap) if line] + skipped


def insights(
    doc, detections, episodes, anomalies, params, points, view_series, unit
) -> list[str]:
    """A short plain-language summary written from the numbers."""
    summary = shape.summary(doc)
    if not summary["count"]:
        return ["No values in the selected range."]
    metric = params["metric"]
    trend = narrative.trend_percent(points.positions, points.values, summary["median"])
    first, last = points.times[0], points.times[-1]
    return [
        narrative.level_sentence(metric, params, summary, first, last, unit),
        narrative.trend_sentence(metric, trend),
        *narrative.episode_sentences(episodes, len(anomalies), params["method"]),
        *_quality_lines(detections, anomalies, params, summary["count"], view_series),
    ]


def assemble_view(dataset: dict, params: dict, result: dict) -> dict:
    """The full analysis view from the pipeline's single output document."""
    doc = result["view"][0]
    groups = doc.get("dimensions") or []
    combos = groups[0].get("combos") or [] if groups else []
    unit = units(dataset).get(params["metric"])
    points = shape.Points(doc, params["window"])
    shape.refuse_short_series(params, len(points.values))
    detections = shape.run_detectors(points, doc, params)
    anomalies = shape.anomalies(points, detections, params, unit)
    episodes = (
        shape.episodes(points, detections, params, unit) if len(points.values) else []
    )
    view_series = shape.series(doc)
    empty = sum(1 for point in view_series if point["count"] == 0)
    return {
        "dataset": dataset_header(dataset, combos),
        "params": params,
        "series": view_series,
        "rolling": shape.rolling(doc),
        "summary": shape.summary(doc),
        "anomalies": anomalies,
        "episodes": episodes,
        "methods": shape.methods_summary(detections, params),
        "histogram": shape.histogram(doc, result["bins"]),
        "box": shape.box(doc),
        "thresholds": shape.thresholds(doc, params),
        "insights": insights(
            doc, detections, episodes, anomalies, params, points, view_series, unit
        ),
        "notes": notes(detections, params, empty, len(view_series)),
        "cached": False,
    }
