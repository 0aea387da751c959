"""Seasonality-aware residuals: find the series' rhythm, remove it, score the rest.

The seasonal-hybrid ESD idea (Hochenbaum, Vallis & Kejariwal, Twitter 2017):

1. Candidate periods from the sampling step: a day at hourly or finer steps, a
   week at daily or finer steps. A period is kept when the series holds at least
   MIN_CYCLES of it and its seasonal strength (Wang, Smith & Hyndman: 1 - var(R) /
   var(S + R)) clears MIN_STRENGTH and the noise floor of a profile estimated from
   that many cycles.
2. Robust STL (statsmodels, `robust=True`, R's default loess jumps) per period,
   shortest first, each at its natural resolution: the daily cycle on hourly
   medians, the weekly cycle on daily medians. statsmodels' MSTL does the same on
   the full series but costs 15 s on two years of hourly data; this costs ms.
3. The level: a centred rolling median of the deseasonalised series within each
   segment between change points (data.analytics.changes), so a level shift is
   one event and not every point after it.
4. Residuals scaled by their MAD (robust z); Rosner's generalized ESD on them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tsa.seasonal import STL

from data.analytics.episodes import episode_gap, group_flags

DAY, WEEK = 86_400, 7 * 86_400
PERIOD_NAMES = {DAY: "daily", WEEK: "weekly"}
# Each cycle is decomposed at this many points per cycle (hourly, daily).
CYCLE_POINTS = {DAY: 24, WEEK: 7}
MIN_CYCLES = 3
SURE_CYCLES = 4  # from here one trend estimate is enough (seasonal_strength)
MIN_STRENGTH = 0.2
NOISE_FLOOR = 4.0  # profile variance must exceed 4x what noise alone would give
MAD_TO_SIGMA = 1.4826
SEASONAL_WINDOW = 13  # STL's seasonal smoother (odd, >= 7)
STRENGTH_ALPHA = 0.05  # outliers left out of the seasonal strength (ESD level)


@dataclass
class Period:
    """A detected cycle: its length in seconds and in points, and its strength."""

    seconds: int
    points: int
    strength: float

    @property
    def name(self) -> str:
        return PERIOD_NAMES[self.seconds]


@dataclass
class Decomposition:
    """values = seasonal + level + residual, with the robust residual scale."""

    seasonal: np.ndarray
    level: np.ndarray
    residual: np.ndarray
    scale: float
    periods: list[Period] = field(default_factory=list)

    @property
    def expected(self) -> np.ndarray:
        return self.seasonal + self.level

    @property
    def robust_z(self) -> np.ndarray:
        if not self.scale > 0:
            return np.zeros_like(self.residual)
        return (self.residual - np.median(self.residual)) / self.scale


def robust_scale(values: np.ndarray) -> float:
    """MAD x 1.4826 (sigma under normal noise); mean absolute deviation if MAD = 0."""
    if not len(values):
        return 0.0
    deviations = np.abs(values - np.median(values))
    mad = float(np.median(deviations))
    return MAD_TO_SIGMA * mad if mad > 0 else 1.2533 * float(np.mean(deviations))


def sampling_step(seconds: np.ndarray) -> float:
    """The typical step between points, in seconds (the median gap)."""
    gaps = np.diff(seconds)
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if len(gaps) else 0.0


def candidate_periods(step: float) -> list[int]:
    """Cycles worth testing at this step: daily at hourly or finer, weekly at daily
    or finer (seconds)."""
    if step <= 0:
        return []
    return [period for period in (DAY, WEEK) if step <= period / CYCLE_POINTS[period]]


def block_medians(values: np.ndarray, size: int) -> np.ndarray:
    """Medians of consecutive blocks of `size` points (the last may be shorter)."""
    if size <= 1:
        return values.copy()
    padded = np.full(math.ceil(len(values) / size) * size, np.nan)
    padded[: len(values)] = values
    return np.nanmedian(padded.reshape(-1, size), axis=1)


def expand_blocks(blocked: np.ndarray, size: int, length: int, smooth: bool):
    """Back to full resolution: linear between block centres, or a step per block."""
    if size <= 1:
        return blocked[:length]
    if not smooth:
        return np.repeat(blocked, size)[:length]
    centres = np.arange(len(blocked)) * size + (size - 1) / 2
    return np.interp(np.arange(length), centres, blocked)


def _stl_options(period: int) -> dict:
    trend = math.ceil(1.5 * period / (1 - 1.5 / SEASONAL_WINDOW))
    trend += 1 - trend % 2
    low_pass = period + 1 + period % 2  # the next odd number above the period
    return {
        "seasonal": SEASONAL_WINDOW,
        "trend": trend,
        "low_pass": low_pass,
        "robust": True,
        "seasonal_jump": math.ceil(SEASONAL_WINDOW / 10),
        "trend_jump": math.ceil(trend / 10),
        "low_pass_jump": math.ceil(low_pass / 10),
    }


def stl_seasonal(values: np.ndarray, period: int) -> np.ndarray:
    """The seasonal component of a robust STL fit (needs 2+ cycles, period >= 2)."""
    return STL(values, period=period, **_stl_options(period)).fit().seasonal


def cycle_mean(values: np.ndarray, period: int) -> tuple[np.ndarray, int]:
    """(centred moving average over exactly one cycle, offset of its first value):
    the classical decomposition's trend (2 x m for an even period). It cancels a
    steady cycle and follows a straight trend exactly; only points with half a
    cycle on both sides get one."""
    weights = np.ones(period + 1 - period % 2)
    if period % 2 == 0:
        weights[[0, -1]] = 0.5
    return np.convolve(values, weights / period, mode="valid"), len(weights) // 2


def strength_around(values, trend, seasonal, period: int) -> float:
    """1 - var(R)/var(S+R) with R the remainder around `trend` (NaN where the
    trend is undefined), leaving out the residuals' ESD outliers; 0 below the
    noise floor. Two surges of 30 and 44 sigma in a year of daily sales held
    about five times the variance of its weekend rhythm, so the rhythm went
    unfound; outliers are what the test looks for, not the cycle or the noise."""
    known = np.isfinite(trend)
    remainder = values[known] - trend[known]
    residual = remainder - seasonal[known]
    typical = ~esd_outlier_mask(residual)
    total, noise = np.var(remainder[typical]), np.var(residual[typical])
    if not total > 0:
        return 0.0
    cycles = len(values) / period
    if np.var(seasonal) < NOISE_FLOOR * noise / cycles:
        return 0.0
    return float(max(0.0, 1 - noise / total))


def esd_outlier_mask(residual: np.ndarray) -> np.ndarray:
    """True at the generalized ESD outliers (STRENGTH_ALPHA, heavy tails allowed)
    of the residuals' robust z: under normal noise almost never a point, so the
    strength of white noise is unchanged. None below TAIL_MIN_POINTS residuals:
    there the MAD scale is too uncertain (four weeks of daily medians lost two
    2.6-sigma days as "outliers", and white noise gained a weekly cycle)."""
    mask = np.zeros(len(residual), dtype=bool)
    scale = robust_scale(residual)
    if len(residual) >= TAIL_MIN_POINTS and scale > 0:
        z = (residual - np.median(residual)) / scale
        mask[list(esd_outliers(z, STRENGTH_ALPHA))] = True
    return mask


def seasonal_strength(values: np.ndarray, seasonal: np.ndarray, period: int) -> float:
    """The cycle's strength around the one-cycle moving average (which follows a
    slope: a rolling median lags a slope that carries a weekend dip, and so hid
    the weekly rhythm of trending series). With fewer than SURE_CYCLES cycles the
    cycle must also be clear around a rolling median (which follows a step: over
    three cycles a moving average smears a step into a fake cycle)."""
    mean, offset = cycle_mean(values, period)
    trend = np.full(len(values), np.nan)
    trend[offset : offset + len(mean)] = mean
    strength = strength_around(values, trend, seasonal, period)
    if len(values) < SURE_CYCLES * period:
        median = centred_median(values, period + 1 - period % 2)
        strength = min(strength, strength_around(values, median, seasonal, period))
    return strength


def centred_median(values: np.ndarray, window: int) -> np.ndarray:
    """Centred rolling median, shrinking at the ends."""
    series = pd.Series(values)
    return series.rolling(window, center=True, min_periods=1).median().to_numpy()


def fit_period(values: np.ndarray, step: float, seconds: int):
    """(Period, seasonal at full resolution) for one cycle, or None when absent."""
    size = max(1, round(seconds / CYCLE_POINTS[seconds] / step))
    points = round(seconds / (size * step))
    blocked = block_medians(values, size)
    if points < 2 or len(blocked) < MIN_CYCLES * points:
        return None
    seasonal = stl_seasonal(blocked, points)
    strength = seasonal_strength(blocked, seasonal, points)
    if strength < MIN_STRENGTH:
        return None
    full = expand_blocks(seasonal, size, len(values), smooth=seconds == DAY)
    return Period(seconds, points * size, strength), full


def seasonal_component(values: np.ndarray, step: float):
    """(periods found, their summed seasonal component), shortest cycle first."""
    seasonal = np.zeros(len(values))
    periods: list[Period] = []
    if len(values) < 2 or not np.median(np.abs(np.diff(values))) > 0:
        # Most steps repeat the value exactly (a flat line, maybe with a spike or
        # a step): there is no cycle to fit, and a fit would smear the spike.
        return periods, seasonal
    for seconds in candidate_periods(step):
        fitted = fit_period(values - seasonal, step, seconds)
        if fitted is not None:
            periods.append(fitted[0])
            seasonal = seasonal + fitted[1]
    return periods, seasonal


def level_window(length: int, periods: list[Period]) -> int:
    """Rolling-median width for the level: a cycle or 2% of the series, at least 25
    points (wide enough that a burst does not become the level)."""
    shortest = min((period.points for period in periods), default=0)
    window = max(25, shortest, length // 50)
    return window + 1 - window % 2


def segment_level(values: np.ndarray, cuts: list[int], window: int) -> np.ndarray:
    """The rolling-median level computed separately between change points."""
    level = np.empty(len(values))
    bounds = [0, *cuts, len(values)]
    for start, end in itertools.pairwise(bounds):
        level[start:end] = centred_median(values[start:end], window)
    return level


def gesd_critical_values(count: int, steps: int, alpha: float) -> np.ndarray:
    """Rosner's lambda_i for i = 1..steps among `count` values (vectorised)."""
    remaining = count - np.arange(steps)
    t = stats.t.ppf(1 - alpha / (2 * remaining), remaining - 2)
    return (remaining - 1) * t / np.sqrt((remaining - 2 + t * t) * remaining)


def esd_outliers(
    z: np.ndarray, alpha: float, max_fraction: float = 0.1, factor: float | None = None
) -> dict:
    """{index: critical value} for the generalized ESD outliers among robust z.

    With median and MAD as the centre and scale, removing an outlier barely moves
    them, so the sequential test reduces to comparing the i-th largest |z| with
    Rosner's lambda_i; the count is the largest i with |z|_(i) > lambda_i."""
    count = len(z)
    if count < 3:
        return {}
    limit = max(1, min(int(count * max_fraction), count // 2))
    order = np.argsort(-np.abs(z), kind="stable")[:limit]
    critical = gesd_critical_values(count, limit, alpha)
    beyond = np.flatnonzero(np.abs(z[order]) > critical)
    if not len(beyond):
        return {}
    last = int(beyond[-1])
    factor = tail_factor(z) if factor is None else factor
    return {
        int(order[i]): float(critical[i]) * factor
        for i in range(last + 1)
        if abs(z[order[i]]) > critical[i] * factor
    }


MIN_BLOCKS = 10
# Rosner's test needs an upper bound on the outliers; among blocks it is half of
# them (what the median and MAD of the maxima withstand), so that a month of
# daily blocks can hold more than two exceptional days.
BLOCK_MAX_FRACTION = 0.5


def block_size(count: int, cycle: int = 0) -> int:
    """Points per block of the episode test: one cycle (the shortest found) when
    the series holds at least MIN_BLOCKS of them, else an episode's gap + 1.

    The test compares each block's largest |z| with the others', so the blocks
    must be alike under the null. Blocks shorter than the cycle are not: they
    cover different hours, and a series whose bursts come on most days at varying
    hours (5-minute tweet counts) puts one in some blocks and none in others.
    A block of one cycle covers every phase once (the natural period of block
    maxima in extreme-value analysis: daily maxima), and a spike that most
    cycles hold raises every block alike: it is the rhythm, not an anomaly."""
    gap_block = episode_gap(count) + 1
    if cycle > gap_block and count // cycle >= MIN_BLOCKS:
        return cycle
    return gap_block


def significant_episodes(
    z: np.ndarray, flagged: dict, alpha: float, cycle: int = 0
) -> dict:
    """The flags of the episodes that are exceptional as episodes.

    A real series' residuals come in runs (neighbours are not independent), so a
    point-wise test over n points flags the tail of every run: on the NAB series
    that meant a dozen false alarms per series. Blocks at least as long as an
    episode's gap (episodes.episode_gap), one cycle long when the series has a
    cycle (block_size), are close to independent: the generalized ESD over the
    blocks' maxima of |z| (as robust z among the blocks) says which blocks are
    exceptional, at the same significance level, and an episode is kept when it
    reaches one of them. With fewer than MIN_BLOCKS blocks the point test stands."""
    count = len(z)
    size = block_size(count, cycle)
    blocks = count // size
    if not flagged or blocks < MIN_BLOCKS:
        return flagged
    starts = np.arange(blocks) * size  # the last block runs to the end
    maxima = np.maximum.reduceat(np.abs(z), starts)
    centre = float(np.median(maxima))
    scale = robust_scale(maxima)
    if not scale > 0:
        return flagged
    block_z = (maxima - centre) / scale
    # The heavier of the residuals' tails and the maxima's own, judged at their
    # 90th percentile (a few long runs can hold more than 5% of the blocks).
    heavier = max(tail_factor(z), tail_factor(block_z, BLOCK_TAIL_QUANTILE))
    found = esd_outliers(block_z, alpha, BLOCK_MAX_FRACTION, heavier)
    peaks = {block_peak(z, starts, b) for b in found if block_z[b] > 0}
    positions = sorted(flagged)
    kept: dict = {}
    for group in group_flags(positions, episode_gap(count)):
        members = [positions[i] for i in group]
        if peaks & set(members):
            kept.update({p: flagged[p] for p in members})
    return kept


def block_peak(z: np.ndarray, starts: np.ndarray, block: int) -> int:
    """Position of a block's largest |z|. The test finds the block's maximum
    exceptional, not every run in the block: a day-long block holds a day's
    ordinary bursts beside its one exceptional spike."""
    end = int(starts[block + 1]) if block + 1 < len(starts) else len(z)
    start = int(starts[block])
    return start + int(np.argmax(np.abs(z[start:end])))


TAIL_QUANTILE = 0.95
TAIL_MIN_POINTS = 100  # fewer values say too little about their tails
BLOCK_TAIL_QUANTILE = 0.9


def tail_factor(z: np.ndarray, quantile: float = TAIL_QUANTILE) -> float:
    """How much heavier than normal the tail of z is: its `quantile` of |z| over
    the normal value (1.96 for the 95th percentile), at least 1. Anomalies under
    1 - quantile of the values cannot raise it; a heavy-tailed series raises
    every threshold."""
    if len(z) < TAIL_MIN_POINTS:
        return 1.0
    normal = float(stats.norm.ppf(0.5 + quantile / 2))
    return max(1.0, float(np.quantile(np.abs(z), quantile)) / normal)
