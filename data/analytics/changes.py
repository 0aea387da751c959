"""Level shifts and trend changes as change points (ruptures' binary segmentation).

The deseasonalised series is reduced to at most MAX_BLOCKS block medians (robust to
spikes, and bounded cost), then split by binary segmentation with a piecewise
linear cost (each segment a line, jumps allowed) and a BIC-like penalty scaled by
the block noise. Each break is then classified:
- a **level shift** when the two lines differ by at least SHIFT_SIGMAS point-noise
  sigmas at the break and so do the medians of the two segments (a burst moves
  the lines, not the medians), reported with the medians before and after;
- a **trend change** when the robust slopes (medians of each half) differ enough
  to move the level by 2 x SHIFT_SIGMAS over the shorter neighbouring segment;
- otherwise it is dropped. Segments shorter than MIN_SEGMENT_FRACTION of the series
  are not allowed, so a burst stays a burst and never becomes two shifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ruptures

from data.analytics.seasonal import block_medians, robust_scale

MAX_BLOCKS = 300
MIN_BLOCKS = 12  # shorter series have no change points
MIN_SEGMENT_FRACTION = 0.05
SHIFT_SIGMAS = 4.0
PENALTY_FACTOR = 4.0  # x noise variance x log(blocks)


@dataclass(frozen=True)
class Change:
    """One change point: where (index), what kind, and the levels around it."""

    index: int
    kind: str  # "level_shift" | "trend_change"
    before: float
    after: float
    slope_before: float  # per point
    slope_after: float
    sigmas: float  # size of the change in point-noise sigmas


def _line(blocks: np.ndarray, start: int, end: int):
    x = np.arange(start, end, dtype=float)
    slope, intercept = np.polyfit(x, blocks[start:end], 1)
    return slope, intercept


def _breaks(blocks: np.ndarray, sigma: float) -> list[int]:
    count = len(blocks)
    design = np.column_stack([blocks, np.ones(count), np.arange(count, dtype=float)])
    minimum = max(3, math.ceil(MIN_SEGMENT_FRACTION * count))
    if count < 2 * minimum:
        return []
    penalty = PENALTY_FACTOR * max(sigma, 1e-12) ** 2 * math.log(count)
    search = ruptures.Binseg(model="linear", min_size=minimum, jump=1).fit(design)
    return search.predict(pen=penalty)[:-1]


def robust_slope(blocks: np.ndarray, start: int, end: int) -> float:
    """Slope from the medians of the two halves (a burst barely moves it)."""
    middle = (start + end) // 2
    if middle - start < 2 or end - middle < 2:
        return 0.0
    first, second = blocks[start:middle], blocks[middle:end]
    distance = (middle + end) / 2 - (start + middle) / 2
    return float(np.median(second) - np.median(first)) / distance


def _classify(blocks, cut, start, end, noise) -> tuple[str, float] | None:
    """A level shift needs both the lines and the segment medians to jump; a trend
    change needs the robust slopes to differ by enough to move the level."""
    left, right = _line(blocks, start, cut), _line(blocks, cut, end)
    at = cut - 0.5
    jump = (right[0] * at + right[1]) - (left[0] * at + left[1])
    medians = float(np.median(blocks[cut:end]) - np.median(blocks[start:cut]))
    if min(abs(jump), abs(medians)) >= SHIFT_SIGMAS * noise:
        return "level_shift", abs(medians) / noise
    span = min(cut - start, end - cut)
    turn = robust_slope(blocks, cut, end) - robust_slope(blocks, start, cut)
    drift = abs(turn) * span
    if drift >= 2 * SHIFT_SIGMAS * noise and abs(jump) < SHIFT_SIGMAS * noise:
        return "trend_change", drift / noise
    return None


def find_changes(values: np.ndarray, noise: float) -> list[Change]:
    """Change points of a deseasonalised series; `noise` is its point-noise sigma."""
    size = max(1, math.ceil(len(values) / MAX_BLOCKS))
    blocks = block_medians(values, size)
    if len(blocks) < MIN_BLOCKS or not np.all(np.isfinite(blocks)):
        return []
    block_noise = robust_scale(np.diff(blocks)) / math.sqrt(2)
    floor = 1e-9 * max(1.0, float(np.median(np.abs(blocks))))
    noise = max(noise, floor)
    cuts = _breaks(blocks, max(block_noise, floor))
    kept = _significant(blocks, cuts, noise)
    return [
        _change(values, blocks, cut, before, after, size, kind)
        for before, cut, after, kind in kept
    ]


def _significant(blocks: np.ndarray, cuts: list[int], noise: float) -> list[tuple]:
    """(start, cut, end, kind) of the breaks that stay significant: the break whose
    change is smallest is removed (its segments merge) until every one left is a
    level shift or a trend change against its merged neighbours."""
    cuts = list(cuts)
    while cuts:
        bounds = [0, *cuts, len(blocks)]
        kinds = [
            _classify(blocks, cut, start, end, noise)
            for start, cut, end in zip(bounds, bounds[1:], bounds[2:], strict=False)
        ]
        weak = [i for i, kind in enumerate(kinds) if kind is None]
        if not weak:
            return [
                (bounds[i], cut, bounds[i + 2], kinds[i]) for i, cut in enumerate(cuts)
            ]
        cuts.pop(min(weak, key=lambda i: _strength(blocks, bounds, i)))
    return []


def _strength(blocks: np.ndarray, bounds: list[int], i: int) -> float:
    start, cut, end = bounds[i], bounds[i + 1], bounds[i + 2]
    return abs(float(np.median(blocks[cut:end]) - np.median(blocks[start:cut])))


def _change(values, blocks, cut, start, end, size, kind) -> Change:
    index = min(cut * size, len(values) - 1)
    before = float(np.median(values[start * size : index]))
    after = float(np.median(values[index : end * size]))
    slope_before = robust_slope(blocks, start, cut) / size
    slope_after = robust_slope(blocks, cut, end) / size
    return Change(index, kind[0], before, after, slope_before, slope_after, kind[1])
