"""One robust decomposition of a view's buckets: rhythm, change points, level, residual.

Runs on the values the view's single aggregate call returned (one per bucket, or
per row for raw views); missing buckets are interpolated for the fit only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from data.analytics import changes as change_points
from data.analytics import seasonal
from data.analytics.changes import Change
from data.analytics.seasonal import Decomposition, Period

MIN_POINTS = 30  # shorter series are left to the global robust methods
WARM_UP_FRACTION = 0.05
# Counts whose median is under this are scored on the Anscombe scale: the usual
# rule is that a Poisson count is close to normal from a mean of about 20 (its
# skewness 1/sqrt(mean) is then 0.22); below, the MAD scale misjudges its tail.
SMALL_COUNT_MEDIAN = 20


@dataclass
class Analysis:
    """The decomposition, the change points and what the tests found."""

    decomposition: Decomposition
    changes: list[Change]
    step: float  # seconds between points
    counts: bool = False  # small counts, decomposed on the Anscombe scale

    @property
    def expected(self) -> np.ndarray:
        """The expected values on the series' own scale."""
        expected = self.decomposition.expected
        return from_anscombe(expected) if self.counts else expected

    @property
    def periods(self) -> list[Period]:
        return self.decomposition.periods

    @property
    def warm_up(self) -> int:
        """Points at the start that are not judged as point anomalies: one level
        window (data.analytics.seasonal.level_window), at most WARM_UP_FRACTION
        of the series. There the level rests on a shrunk window and no history
        precedes the point, so a series' start-up stood out as anomalies (on real
        series, a sixth of the false alarms)."""
        length = len(self.decomposition.residual)
        window = seasonal.level_window(length, self.periods)
        return min(window, int(WARM_UP_FRACTION * length))

    @property
    def level_shifts(self) -> list[Change]:
        return [change for change in self.changes if change.kind == "level_shift"]


def regular_values(positions: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values on every position from the first to the last (gaps interpolated)."""
    grid = np.arange(int(positions[0]), int(positions[-1]) + 1, dtype=float)
    return np.interp(grid, positions, values)


def analyse(positions: np.ndarray, values: np.ndarray, step: float) -> Analysis | None:
    """Decompose the present points (at bucket `positions`); None when too short."""
    if len(values) < MIN_POINTS or not np.all(np.isfinite(values)):
        return None
    counts = small_counts(values)
    if counts:
        values = anscombe(values)
    grid = regular_values(positions, values)
    periods, season = seasonal.seasonal_component(grid, step)
    deseasonalised = grid - season
    noise = seasonal.robust_scale(np.diff(deseasonalised)) / math.sqrt(2)
    found = change_points.find_changes(deseasonalised, noise)
    cuts = [change.index for change in found if change.kind == "level_shift"]
    window = seasonal.level_window(len(grid), periods)
    level = seasonal.segment_level(deseasonalised, cuts, window)
    residual = deseasonalised - level
    at = (positions - positions[0]).astype(int)
    scale = max(seasonal.robust_scale(residual), cycle_noise(grid, periods))
    decomposition = Decomposition(season[at], level[at], residual[at], scale, periods)
    shifted = [_at_present(change, at, counts) for change in found]
    return Analysis(decomposition, shifted, step, counts)


def small_counts(values: np.ndarray) -> bool:
    """Whether the values are counts (non-negative whole numbers) with a median
    under SMALL_COUNT_MEDIAN. Their noise grows with the level (Poisson: the
    variance is the mean), so a daily cycle's peaks looked noisy and its troughs
    calm, and their tail is skewed: five of 24 noise-only Poisson series with a
    daily and weekly rhythm (hourly and 5-minute, expected counts 0.3 to 14)
    raised an alarm on the raw scale, none on the Anscombe scale, where the
    noise is about normal with sigma 1 at every level."""
    whole = np.all(values >= 0) and np.all(values == np.floor(values))
    return bool(whole and np.median(values) < SMALL_COUNT_MEDIAN)


def anscombe(values: np.ndarray) -> np.ndarray:
    """Anscombe's variance-stabilising transform of counts, 2 sqrt(x + 3/8)."""
    return 2 * np.sqrt(values + 0.375)


def from_anscombe(values: np.ndarray) -> np.ndarray:
    """Back to counts (the algebraic inverse, at least 0)."""
    return np.maximum(np.asarray(values) / 2, 0) ** 2 - 0.375


def cycle_noise(grid: np.ndarray, periods: list[Period]) -> float:
    """The noise sigma from differences one (longest) cycle apart, which cancel a
    steady rhythm without fitting it: robust scale / sqrt(2); 0 without a cycle.
    The fitted cycle absorbs part of each point's own noise (on four weeks of
    hourly data the residuals' MAD came out 25% under sigma, so every z was 1.3x
    too large); this estimate involves no fit."""
    if not periods:
        return 0.0
    lag = max(period.points for period in periods)
    if len(grid) < 2 * lag:
        return 0.0
    return seasonal.robust_scale(grid[lag:] - grid[:-lag]) / math.sqrt(2)


def _at_present(change: Change, at: np.ndarray, counts: bool) -> Change:
    """The change with its index among the present points (not the grid), its
    levels and slopes on the series' own scale."""
    index = min(int(np.searchsorted(at, change.index)), len(at) - 1)
    before, after = change.before, change.after
    slope_before, slope_after = change.slope_before, change.slope_after
    if counts:  # d/dy (y/2)^2 = y/2 at each level
        slope_before *= max(before, 0) / 2
        slope_after *= max(after, 0) / 2
        before, after = (float(from_anscombe(np.array(v))) for v in (before, after))
    return Change(
        index, change.kind, before, after, slope_before, slope_after, change.sigmas
    )
