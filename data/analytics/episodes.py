"""Anomaly episodes: flagged points that are consecutive or close form one event.

Two flags belong to the same episode when at most `gap` buckets (positions) lie
between them, gap = max(2, series length // 200); a change point is always an
episode of its own (a level shift or trend change with the levels around it).
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_GAP = 2
GAP_FRACTION = 200  # gap = length // 200


def episode_gap(length: int) -> int:
    """Largest distance (in buckets) between two flags of one episode."""
    return max(MIN_GAP, length // GAP_FRACTION)


def group_flags(positions: Sequence[float], gap: int) -> list[list[int]]:
    """Indices into `positions` (sorted ascending) grouped into runs whose
    consecutive positions are at most `gap` apart."""
    groups: list[list[int]] = []
    for index, position in enumerate(positions):
        if groups and position - positions[groups[-1][-1]] <= gap:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups
