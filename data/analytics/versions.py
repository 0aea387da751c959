"""Two versions of a dataset side by side: series overlaid, summary and anomaly
differences. Each side is the ordinary analysis view of that version (cached like
any view), so the comparison costs two view reads and one alignment."""

from __future__ import annotations

from data.analytics.service import get_view
from data.errors import ValidationFailed
from data.services import Services

SUMMARY_FIELDS = ("count", "sum", "mean", "median", "std_pop", "min", "max")


def _difference(a, b) -> tuple[float | None, float | None]:
    if a is None or b is None:
        return None, None
    change = b - a
    return change, (change / abs(a) * 100 if a else None)


def _aligned_series(first: dict, second: dict) -> list[dict]:
    """One row per bucket time in either version (None where one has none)."""
    left = {p["t"]: p["value"] for p in first["series"]}
    right = {p["t"]: p["value"] for p in second["series"]}
    rows = []
    for t in sorted(set(left) | set(right)):
        change, _ = _difference(left.get(t), right.get(t))
        rows.append({"t": t, "a": left.get(t), "b": right.get(t), "difference": change})
    return rows


def _summary(first: dict, second: dict) -> dict:
    table = {}
    for name in SUMMARY_FIELDS:
        a, b = first["summary"].get(name), second["summary"].get(name)
        change, percent = _difference(a, b)
        table[name] = {"a": a, "b": b, "difference": change, "differencePct": percent}
    return table


def _anomalies(first: dict, second: dict) -> dict:
    left = {a["t"]: a for a in first["anomalies"]}
    right = {a["t"]: a for a in second["anomalies"]}
    return {
        "both": [
            {"t": t, "a": left[t]["value"], "b": right[t]["value"]}
            for t in sorted(set(left) & set(right))
        ],
        "onlyA": [left[t] for t in sorted(set(left) - set(right))],
        "onlyB": [right[t] for t in sorted(set(right) - set(left))],
    }


def compare_versions(
    services: Services, owner_id: str, dataset_id: str, a: int, b: int, params: dict
) -> dict:
    """The analysis views of versions a and b with the same parameters, compared."""
    if a == b:
        raise ValidationFailed(
            "Choose two different versions to compare.", details={"field": "b"}
        )
    first = get_view(services, owner_id, dataset_id, params, a)
    second = get_view(services, owner_id, dataset_id, params, b)
    return {
        "datasetId": dataset_id,
        "versions": [a, b],
        "params": first["params"],
        "series": _aligned_series(first, second),
        "summary": _summary(first, second),
        "anomalies": _anomalies(first, second),
    }
