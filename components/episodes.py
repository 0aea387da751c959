"""The anomalies table's rows: one per episode, expandable into its flagged points.

Rows carry raw values for sorting and formatted text for display. An episode's
row id is its peak time (the chart's markers select it); the rows of its points,
shown when the episode is expanded, sit right below it with ids `<episode>|<t>`.
"""

from __future__ import annotations

from components.formatting import format_number, format_percent, format_timestamp
from components.theme import SEVERITIES

SEVERITY_RANK = {s.name: rank for rank, s in enumerate(SEVERITIES)}
KIND_WORDS = {
    "spike": "Spike",
    "drop": "Drop",
    "level_shift": "Level shift",
    "trend_change": "Trend change",
}
EXPAND, COLLAPSE = "▸", "▾"
SHOWN_METHODS = 2  # more agreeing methods are counted ("+3"); the tooltip lists all


def short_methods(text: str) -> str:
    """'modified z, IQR +3' for a long list (the full list goes in the tooltip)."""
    names = [name for name in text.split(", ") if name]
    if len(names) <= SHOWN_METHODS:
        return text
    return f"{', '.join(names[:SHOWN_METHODS])} +{len(names) - SHOWN_METHODS}"


def _period_text(episode: dict, granularity: str) -> str:
    start = format_timestamp(episode["start"], granularity)
    if episode["end"] == episode["start"]:
        return start
    return f"{start} – {format_timestamp(episode['end'], granularity)}"


def _deviation(value, expected) -> float | None:
    if value is None or expected in (None, 0):
        return None
    return (value - expected) / abs(expected) * 100


def point_row(anomaly: dict, parent: str, unit, granularity: str, methods) -> dict:
    """The row of one flagged point inside an expanded episode."""
    return {
        "id": f"{parent}|{anomaly['t']}",
        "parent": parent,
        "t": anomaly["t"],
        "date_text": "↳ " + format_timestamp(anomaly["t"], granularity),
        "kind_text": "",
        "points_text": "",
        "value": anomaly["value"],
        "value_text": format_number(anomaly["value"], unit),
        "expected": anomaly.get("expected"),
        "expected_text": format_number(anomaly.get("expected"), unit),
        "deviation_pct": anomaly.get("deviation_pct"),
        "deviation_text": format_percent(anomaly.get("deviation_pct")),
        "severity": anomaly.get("severity"),
        "severity_rank": SEVERITY_RANK.get(str(anomaly.get("severity")), 0),
        "methods_text": short_methods(methods(anomaly.get("methods") or [])),
        "methods_full": methods(anomaly.get("methods") or []),
    }


def episode_row(
    episode: dict, members: list[dict], unit, granularity: str, methods_text: str
) -> dict:
    """The row of one episode (with its point rows kept for expanding)."""
    value = episode["after"] if episode["before"] is not None else episode["peak_value"]
    deviation = _deviation(value, episode.get("expected"))
    count = episode["points"]
    return {
        "id": episode["peak_t"],
        "parent": None,
        "t": episode["peak_t"],
        "member_times": list(episode.get("anomalies") or []),
        "members": members,
        "expanded": False,
        "date_text": _period_text(episode, granularity),
        "kind_text": KIND_WORDS.get(episode["kind"], episode["kind"]),
        "points_text": f"{EXPAND} {count}" if count > 1 else "1",
        "value": value,
        "value_text": format_number(value, unit),
        "expected": episode.get("expected"),
        "expected_text": format_number(episode.get("expected"), unit),
        "deviation_pct": deviation,
        "deviation_text": format_percent(deviation),
        "severity": episode["severity"],
        "severity_rank": SEVERITY_RANK.get(episode["severity"], 0),
        "methods_text": short_methods(methods_text),
        "methods_full": methods_text,
        "explanation": episode["explanation"],
    }


def episode_rows(view: dict, unit, methods) -> list[dict]:
    """One row per episode, most severe first; `methods` formats a method list."""
    granularity = view["params"]["granularity"]
    by_time = {anomaly["t"]: anomaly for anomaly in view.get("anomalies") or []}
    rows = []
    for episode in view.get("episodes") or []:
        members = [
            point_row(by_time[t], episode["peak_t"], unit, granularity, methods)
            for t in episode.get("anomalies") or []
            if t in by_time and episode["points"] > 1
        ]
        peak = by_time.get(episode["peak_t"]) or {}
        text = methods(peak.get("methods") or [])
        rows.append(episode_row(episode, members, unit, granularity, text))
    return rows


def toggle_episode(rows: list[dict], row_id: str) -> list[dict] | None:
    """Rows with the episode `row_id` expanded or collapsed (None: not an episode
    with points to show)."""
    target = next((row for row in rows if row["id"] == row_id), None)
    if target is None or not target.get("members"):
        return None
    expanded = not target["expanded"]
    result = []
    for row in rows:
        if row.get("parent") == row_id:
            continue  # the old point rows; re-added below when expanding
        if row["id"] == row_id:
            arrow = COLLAPSE if expanded else EXPAND
            row = {**row, "expanded": expanded}
            row["points_text"] = f"{arrow} {len(row['member_times'])}"
            result.append(row)
            result.extend(row["members"] if expanded else [])
            continue
        result.append(row)
    return result
