"""Aggregate event scores per method and class, as Markdown tables."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable

from bench.detection.corpus import Series
from bench.detection.runner import BASELINES, PRODUCT_METHODS, evaluate
from bench.detection.scoring import EventScore

METHODS = (*PRODUCT_METHODS, *BASELINES)


def run(series: Iterable[Series]) -> dict[str, dict[str, list[EventScore]]]:
    """{class: {method: [score per series]}} for every series."""
    results: dict[str, dict[str, list[EventScore]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for item in series:
        for method, score in evaluate(item).items():
            results[item.kind][method].append(score)
    return results


def mean_f1(scores: list[EventScore]) -> float:
    """Mean event F1 over series."""
    return statistics.fmean(score.f1 for score in scores)


def median_false_alarms(scores: list[EventScore]) -> float:
    """Median false alarms per series."""
    return statistics.median(score.false_alarms for score in scores)


def pooled(results: dict, method: str) -> list[EventScore]:
    """Every series' score of one method, over all classes."""
    return [score for by_method in results.values() for score in by_method[method]]


def table(results: dict, classes: Iterable[str]) -> str:
    """F1 (median false alarms) per class and method, one row per class."""
    header = "| class | series | " + " | ".join(METHODS) + " |"
    lines = [header, "|---" * (len(METHODS) + 2) + "|"]
    for kind in classes:
        by_method = results[kind]
        cells = [
            f"{mean_f1(by_method[m]):.2f} ({median_false_alarms(by_method[m]):g})"
            for m in METHODS
        ]
        count = len(by_method[METHODS[0]])
        lines.append(f"| {kind} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def totals(results: dict) -> str:
    """Precision, recall, mean F1, false alarms (total, median, max) per method."""
    lines = [
        "| method | mean F1 | found / windows | false alarms (total, median, max) |",
        "|---|---|---|---|",
    ]
    for method in METHODS:
        scores = pooled(results, method)
        found = sum(score.found for score in scores)
        windows = sum(score.windows for score in scores)
        alarms = [score.false_alarms for score in scores]
        lines.append(
            f"| {method} | {mean_f1(scores):.3f} | {found} / {windows} | "
            f"{sum(alarms)}, {statistics.median(alarms):g}, {max(alarms)} |"
        )
    return "\n".join(lines)
