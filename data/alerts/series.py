"""A rule's series over the dataset's whole history, from the existing views.

KPI measures come from the KPI view (data.kpi.service.get_kpi, its anomalies from
the modified z-score); analysis metrics from the analysis view
(data.analytics.service.get_view, its anomalies from the chosen detectors with
their severity). Both views are cached per version and revision, so evaluating
after processing costs the views the pages would compute anyway.
"""

from __future__ import annotations

import datetime as dt

from data.alerts.engine import Bucket
from data.alerts.rules import AlertRule
from data.analytics import detectors
from data.analytics.service import get_view, load_dataset
from data.errors import ValidationFailed
from data.kpi.service import ANOMALY_THRESHOLD, data_bounds, get_kpi
from data.services import Services


def measure_kind(dataset: dict, measure: str) -> str:
    """ "kpi" for a KPI measure name, "metric" for a metric column; else a 400."""
    if any(m.get("name") == measure for m in dataset.get("measures") or []):
        return "kpi"
    if measure in (dataset.get("metricColumns") or []):
        return "metric"
    choices = [m["name"] for m in dataset.get("measures") or []]
    choices += list(dataset.get("metricColumns") or [])
    raise ValidationFailed(
        f"measure: {measure[:60]!r} is neither a KPI measure nor a metric column "
        f"of this dataset. Valid choices: {', '.join(choices)}.",
        details={"field": "measure", "choices": choices},
    )


def load_buckets(services: Services, owner_id: str, rule: AlertRule) -> list[Bucket]:
    """The rule's buckets, oldest first (NotFound/Conflict/ValidationFailed pass)."""
    dataset = load_dataset(services, owner_id, rule.dataset_id)
    if measure_kind(dataset, rule.measure) == "kpi":
        points = _kpi_points(services, owner_id, dataset, rule)
    else:
        points = _metric_points(services, owner_id, rule)
    return to_buckets(*points)


def _kpi_points(services, owner_id: str, dataset: dict, rule: AlertRule):
    first, end = data_bounds(dataset)
    if first is None or end is None:
        return [], {}
    last = end - dt.timedelta(hours=1)
    query = {
        "measures": rule.measure,
        "granularity": rule.granularity,
        "from": first.date().isoformat(),
        "to": last.date().isoformat(),
        "compare": "none",
    }
    view = get_kpi(services, owner_id, rule.dataset_id, query)
    block = view["measures"][0]
    severities = {
        a["t"]: detectors.severity(abs(a["score"]) / ANOMALY_THRESHOLD)
        for a in block.get("anomalies") or []
    }
    return block["series"], severities


def _metric_points(services, owner_id: str, rule: AlertRule):
    params = {
        "metric": rule.measure,
        "aggregation": rule.aggregation,
        "granularity": rule.granularity,
    }
    view = get_view(services, owner_id, rule.dataset_id, params)
    severities = {a["t"]: a["severity"] for a in view.get("anomalies") or []}
    return view["series"], severities


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def to_buckets(points: list[dict], severities: dict) -> list[Bucket]:
    """Series points [{t, value}] and flagged times → buckets with their previous
    value (for % change) and severity."""
    buckets, previous = [], None
    for point in points:
        value = point["value"]
        buckets.append(
            Bucket(_moment(point["t"]), value, previous, severities.get(point["t"]))
        )
        previous = value
    return buckets
