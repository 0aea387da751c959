"""Plain-language text written from the numbers: explanations and insights."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from scipy import stats

from data.analytics import spec
from data.analytics.detectors import METHOD_LABELS, max_possible_z

CURRENCY_SYMBOLS = ("$", "₹", "€", "£", "¥")
FLAT_TREND_PERCENT = 5.0
TREND_SAMPLE = 1000  # Theil-Sen is O(n^2); longer series are sampled evenly


def bucket_nouns(granularity: str) -> tuple[str, str]:
    """One bucket's noun, singular and plural ("day", "days")."""
    noun = spec.get("granularity").option(granularity).words
    return noun, noun + "s"


def format_number(value: float | None, unit: str | None = None) -> str:
    """89000 -> "89,000"; 36685.714 -> "36,685.71"; 0.012341 -> "0.01234"."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value - round(value)) <= 1e-9 * max(1.0, abs(value)):
        text = f"{round(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.2f}"
    else:
        text = f"{value:.4g}"
    if unit in CURRENCY_SYMBOLS:
        return f"-{unit}{text[1:]}" if text.startswith("-") else f"{unit}{text}"
    if unit == "%":
        return f"{text}%"
    return text


def metric_label(metric: str) -> str:
    """The metric's name as the subject of a sentence."""
    return metric[:1].upper() + metric[1:] if metric else "The value"


def when(moment: dt.datetime, granularity: str) -> str:
    """'on 2024-01-03', 'in the week of 2024-01-01', 'in 2024-01', ..."""
    if granularity == "week":
        return f"in the week of {moment.date().isoformat()}"
    if granularity == "month":
        return f"in {moment.strftime('%Y-%m')}"
    if granularity == "hour":
        return f"at {moment.strftime('%Y-%m-%d %H:00')}"
    if granularity == "raw" and moment.time() != dt.time(0):
        return f"at {moment.strftime('%Y-%m-%d %H:%M:%S')}"
    return f"on {moment.date().isoformat()}"


def relation(value: float, expected: float, baseline: str, unit: str | None) -> str:
    """How a value compares with its baseline: '3.6× the median of 24,500'."""
    reference = f"the {baseline} of {format_number(expected, unit)}"
    if expected > 0 and value >= 0:
        ratio = value / expected
        if ratio >= 1.5:
            return f"{ratio:.1f}× {reference}"
        percent = abs(ratio - 1) * 100
        side = "above" if value >= expected else "below"
        return f"{percent:.0f}% {side} {reference}"
    side = "above" if value >= expected else "below"
    return f"{format_number(abs(value - expected), unit)} {side} {reference}"


def explanation(
    metric: str,
    moment: dt.datetime,
    granularity: str,
    value: float,
    expected: float,
    baseline: str,
    unit: str | None,
) -> str:
    """One sentence: 'Revenue on 2024-01-03 was 89,000, 3.6× the median of 24,500.'"""
    return (
        f"{metric_label(metric)} {when(moment, granularity)} was "
        f"{format_number(value, unit)}, {relation(value, expected, baseline, unit)}."
    )


def trend_percent(positions: np.ndarray, values: np.ndarray, median: float):
    """Theil-Sen change over the observed span, as a percentage of |median|."""
    if len(values) < 3 or not median:
        return None
    if len(values) > TREND_SAMPLE:
        keep = np.linspace(0, len(values) - 1, TREND_SAMPLE).round().astype(int)
        positions, values = positions[keep], values[keep]
    with np.errstate(all="ignore"):
        slope = stats.theilslopes(values, positions).slope
        percent = slope * float(positions[-1] - positions[0]) / abs(median) * 100
    return float(percent) if math.isfinite(percent) else None


def level_sentence(metric, params, summary, first, last, unit) -> str:
    """Typical level of the series over its period."""
    noun = bucket_nouns(params["granularity"])
    count = summary["count"]
    period = (
        f"from {first.date().isoformat()} to {last.date().isoformat()}"
        if first and last
        else ""
    )
    return (
        f"{metric_label(metric)} ({params['aggregation']} per {noun[0]}) had a median "
        f"of {format_number(summary['median'], unit)} and a mean of "
        f"{format_number(summary['mean'], unit)} across {count} "
        f"{noun[0] if count == 1 else noun[1]} with data {period}".rstrip()
        + "."
    )


def trend_sentence(metric: str, percent: float | None) -> str:
    """Direction of the Theil-Sen trend over the period."""
    if percent is None:
        return "Too few points (or a zero median) to judge a trend."
    if abs(percent) < FLAT_TREND_PERCENT:
        return f"{metric_label(metric)} was roughly flat over the period (Theil-Sen)."
    direction = "rose" if percent > 0 else "fell"
    return (
        f"{metric_label(metric)} {direction} by about {abs(percent):.0f}% of its "
        "median over the period (Theil-Sen trend, robust to the spikes)."
    )


def anomaly_sentences(anomalies: list[dict], method: str) -> list[str]:
    """How many anomalies, and the largest ones in words."""
    label = METHOD_LABELS[method]
    if not anomalies:
        return [f"No anomalies found ({label})."]
    count = len(anomalies)
    plural = "anomaly" if count == 1 else "anomalies"
    head = f"{count} {plural} found ({label}); the largest first:"
    return [head, *(anomaly["explanation"] for anomaly in anomalies[:3])]


def sentence_case(text: str) -> str:
    """Upper-case the first letter only ("generalized ESD" -> "Generalized ESD")."""
    return text[:1].upper() + text[1:]


def masking_sentence(
    detections: dict, anomalies: list[dict], count: int, method: str
) -> str | None:
    """Say so when the plain z-score misses what the robust methods find."""
    zscore = detections["zscore"]
    if not zscore.applicable or method not in ("auto", "zscore"):
        return None
    robust = detections["auto"].findings
    missed = [index for index in robust if index not in zscore.findings]
    if not missed:
        return None
    reason = "large values inflate the standard deviation (masking)"
    bound = max_possible_z(count)
    if bound < 3:
        reason += f", and with {count} points |z| cannot exceed {bound:.2f}"
    if method == "zscore":
        return (
            f"The robust auto mode flags {len(robust)} points; the z-score misses "
            f"{len(missed)} of them: {reason}."
        )
    return f"The plain z-score misses {len(missed)} of these {len(robust)}: {reason}."


def gap_sentence(empty: int, total: int, params: dict) -> str | None:
    """Buckets without data, in words (count views show them as 0)."""
    if not empty:
        return None
    noun = bucket_nouns(params["granularity"])[1]
    if params["aggregation"] == "count":
        return f"{empty} of {total} {noun} have no rows (counted as 0)."
    return f"{empty} of {total} {noun} have no data (shown as gaps, not zeros)."


def episode_explanation(
    metric: str,
    first: dt.datetime,
    last: dt.datetime,
    count: int,
    granularity: str,
    peak_sentence: str,
) -> str:
    """'Revenue was unusual 5 times from 2024-01-03 to 2024-01-07; the peak: ...'."""
    start = when(first, granularity).split(" ", 1)[1]
    end = when(last, granularity).split(" ", 1)[1]
    return (
        f"{metric_label(metric)} was unusual at {count} points from {start} to "
        f"{end}; the peak: {peak_sentence}"
    )


def change_explanation(metric, moment, granularity, change, unit) -> str:
    """A level shift or trend change with the levels (or slopes) around it."""
    noun = bucket_nouns(granularity)[0]
    if change.kind == "level_shift":
        direction = "rose" if change.after >= change.before else "fell"
        percent = ""
        if change.before:
            share = (change.after - change.before) / abs(change.before) * 100
            percent = f" ({share:+.0f}%)"
        moment_text = when(moment, granularity)
        return (
            f"Level shift: {metric_label(metric)} {direction} {moment_text}"
            f" from a median of {format_number(change.before, unit)} to "
            f"{format_number(change.after, unit)}{percent} and stayed there."
        )
    return (
        f"Trend change: {metric_label(metric)}'s trend changed "
        f"{when(moment, granularity)}, from {format_number(change.slope_before, unit)}"
        f" to {format_number(change.slope_after, unit)} per {noun}."
    )


def episode_sentences(episodes: list[dict], flagged: int, method: str) -> list[str]:
    """How many episodes (and flagged points), and the largest ones in words."""
    label = METHOD_LABELS[method]
    if not episodes:
        return [f"No anomalies found ({label})."]
    count = len(episodes)
    plural = "episode" if count == 1 else "episodes"
    points = "" if flagged == count else f" ({flagged} flagged points)"
    head = f"{count} anomaly {plural}{points} found ({label}); the largest first:"
    return [head, *(episode["explanation"] for episode in episodes[:3])]


ACTION_TEMPLATES = {
    "spike": (
        "Investigate the {severity} spike in {metric} {start}: look for a campaign, "
        "release, price change or duplicated data in that window."
    ),
    "drop": (
        "Check the {severity} drop in {metric} {start} for an outage, a tracking gap "
        "or lost traffic, and fix the cause if it is not expected."
    ),
    "level_shift": (
        "Confirm whether the level shift in {metric} {start} is lasting; if so, "
        "update targets and alert thresholds to the new level."
    ),
    "trend_change": (
        "Review what changed {start}, when the trend of {metric} turned, and "
        "compare it with recent decisions."
    ),
}
MAX_ACTIONS = 3


def recommended_actions(
    metric: str, episodes: list[dict], granularity: str
) -> list[str]:
    """What to do next about a view's anomaly episodes, most severe first."""
    if not episodes:
        return [
            f"No action needed: {metric} shows no unusual points in this period; "
            "keep monitoring."
        ]
    return [
        ACTION_TEMPLATES[episode["kind"]].format(
            severity=episode["severity"],
            metric=metric,
            start=when(dt.datetime.fromisoformat(episode["start"]), granularity),
        )
        for episode in episodes[:MAX_ACTIONS]
    ]
