"""A labelled synthetic corpus with fixed seeds (daily, hourly and 5-minute data).

Classes: spikes and dips, spikes hidden by a cycle (at its low or high point),
contextual anomalies (a weekday at weekend level, daytime at night level), level
shifts, trend changes, bursts, noise only (with a rhythm, nothing to find) and flat
lines (a constant, a constant with one +15% shift or one spike). Noise is Gaussian
with sigma 2% of the level; each anomaly's window is where a flag counts as found.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

LEVEL = 1000.0
SIGMA = 20.0
START = np.datetime64("2024-01-01T00:00:00", "s")
STEPS = {"day": 86400, "hour": 3600, "5min": 300}
GRANULARITY = {
    "day": "day",
    "hour": "hour",
    "5min": "raw",
    "raw": "raw",
}  # how the view reads it
LENGTHS = {"day": 730, "hour": 24 * 7 * 10, "5min": 288 * 28}
SMALL_LENGTHS = {"day": 400, "hour": 24 * 7 * 4, "5min": 288 * 21}
CLASSES = (
    "spikes_dips",
    "cycle_hidden",
    "contextual",
    "level_shift",
    "trend_change",
    "bursts",
    "noise_only",
    "flat_line",
)


@dataclass
class Series:
    """One labelled series: values at `times` and the windows to find."""

    name: str
    kind: str  # the class
    frequency: str  # day, hour or 5min
    times: np.ndarray  # datetime64[s]
    values: np.ndarray
    windows: list[tuple[int, int]] = field(default_factory=list)  # index ranges

    @property
    def granularity(self) -> str:
        return GRANULARITY[self.frequency]


def _times(frequency: str, length: int) -> np.ndarray:
    return START + np.arange(length) * np.timedelta64(STEPS[frequency], "s")


def rhythm(frequency: str, times: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Daily cycle (hourly and finer) plus weekly rhythm, as a multiple of LEVEL."""
    seconds = (times - START).astype(float)
    weekday = ((seconds // 86400) % 7).astype(int)  # 2024-01-01 is a Monday
    weekly = np.where(weekday >= 5, -0.3, 0.0)
    if frequency == "day":
        return strength * weekly
    phase = 2 * np.pi * (seconds % 86400) / 86400
    daily = -0.25 * np.cos(phase) - 0.08 * np.cos(2 * phase)
    return strength * (daily + 0.5 * weekly)


def _window(index: int, length: int, half: int) -> tuple[int, int]:
    return max(0, index - half), min(length - 1, index + half)


def _positions(rng, length: int, count: int, margin: int) -> np.ndarray:
    """`count` well-separated positions away from both ends."""
    slots = np.linspace(margin, length - margin, count + 1).astype(int)
    return np.array(
        [
            rng.integers(a + (b - a) // 4, b - (b - a) // 4)
            for a, b in itertools.pairwise(slots)
        ]
    )


def _point_half(length: int) -> int:
    return max(2, length // 400)


def spikes_dips(rng, frequency, times, length):
    """Six spikes and dips of 7 to 12 sigma on a mild rhythm."""
    values = LEVEL * (1 + rhythm(frequency, times, 0.3)) + rng.normal(0, SIGMA, length)
    windows = []
    for index in _positions(rng, length, 6, length // 20):
        values[index] += rng.choice([-1, 1]) * rng.uniform(7, 12) * SIGMA
        windows.append(_window(index, length, _point_half(length)))
    return values, windows


def cycle_hidden(rng, frequency, times, length):
    """A strong cycle; spikes at its low points and dips at its high points."""
    season = rhythm(frequency, times, 1.0)
    values = LEVEL * (1 + season) + rng.normal(0, SIGMA, length)
    windows = []
    low, high = season <= np.quantile(season, 0.1), season >= np.quantile(season, 0.9)
    for number, index in enumerate(_positions(rng, length, 6, length // 20)):
        pool = np.flatnonzero(low if number % 2 == 0 else high)
        index = int(pool[np.argmin(np.abs(pool - index))])
        values[index] += (1 if number % 2 == 0 else -1) * rng.uniform(7, 10) * SIGMA
        windows.append(_window(index, length, _point_half(length)))
    return values, windows


def contextual(rng, frequency, times, length):
    """Daily data: weekdays at weekend level; finer data: daytime at night level."""
    season = rhythm(frequency, times, 1.0)
    values = LEVEL * (1 + season) + rng.normal(0, SIGMA, length)
    step = STEPS[frequency]
    run = 1 if frequency == "day" else 3 * 3600 // step  # three hours of daytime
    windows = []
    for index in _positions(rng, length, 4, length // 10):
        if frequency == "day":
            index = index - (index % 7) + 2  # a Wednesday
            target = LEVEL * 0.7
        else:
            day = index - index % (86400 // step)
            index = day + 12 * 3600 // step  # noon
            target = LEVEL * (1 + season[day])  # midnight's level
        values[index : index + run] = target + rng.normal(0, SIGMA, run)
        windows.append((max(0, index - _point_half(length)), index + run))
    return values, windows


def level_shift(rng, frequency, times, length):
    """One lasting step of 8 to 15 sigma (up or down) on a rhythm."""
    values = LEVEL * (1 + rhythm(frequency, times, 0.5)) + rng.normal(0, SIGMA, length)
    index = int(rng.integers(length // 4, 3 * length // 4))
    values[index:] += rng.choice([-1, 1]) * rng.uniform(8, 15) * SIGMA
    return values, [_window(index, length, max(3, length // 100))]


def trend_change(rng, frequency, times, length):
    """Flat, then a trend that adds 25 to 40 sigma by the end."""
    values = LEVEL * (1 + rhythm(frequency, times, 0.5)) + rng.normal(0, SIGMA, length)
    index = int(rng.integers(length // 3, 2 * length // 3))
    drift = rng.choice([-1, 1]) * rng.uniform(25, 40) * SIGMA
    values[index:] += drift * np.arange(length - index) / (length - index)
    return values, [_window(index, length, max(3, length // 40))]


def bursts(rng, frequency, times, length):
    """Three runs of raised (or lowered) values, 6 to 9 sigma."""
    values = LEVEL * (1 + rhythm(frequency, times, 0.5)) + rng.normal(0, SIGMA, length)
    run = {"day": 5, "hour": 8, "5min": 24}[frequency]
    windows = []
    for index in _positions(rng, length, 3, length // 10):
        values[index : index + run] += rng.choice([-1, 1]) * rng.uniform(6, 9) * SIGMA
        windows.append((max(0, index - _point_half(length)), index + run))
    return values, windows


def noise_only(rng, frequency, times, length):
    """A rhythm (and one weekday 30% higher) and noise: nothing to find."""
    values = LEVEL * (1 + rhythm(frequency, times, 1.0)) + rng.normal(0, SIGMA, length)
    weekday = ((times - START).astype(int) // 86400) % 7
    values[weekday == 3] += 0.3 * LEVEL
    return values, []


def flat_line(rng, frequency, times, length, seed=0):
    """A constant: plain, with one +15% shift, or with one spike."""
    values = np.full(length, LEVEL)
    variant = seed % 3
    index = int(rng.integers(length // 4, 3 * length // 4))
    if variant == 1:
        values[index:] *= 1.15
        return values, [_window(index, length, max(3, length // 100))]
    if variant == 2:
        values[index] *= 1.5
        return values, [_window(index, length, _point_half(length))]
    return values, []


GENERATORS: dict[str, Callable] = {
    "spikes_dips": spikes_dips,
    "cycle_hidden": cycle_hidden,
    "contextual": contextual,
    "level_shift": level_shift,
    "trend_change": trend_change,
    "bursts": bursts,
    "noise_only": noise_only,
    "flat_line": flat_line,
}


def make_series(kind: str, frequency: str, seed: int, length: int) -> Series:
    """One series of a class, reproducible from its seed."""
    rng = np.random.default_rng([CLASSES.index(kind), STEPS[frequency], seed])
    times = _times(frequency, length)
    generate = GENERATORS[kind]
    extra = {"seed": seed} if kind == "flat_line" else {}
    values, windows = generate(rng, frequency, times, length, **extra)
    name = f"{kind}/{frequency}/{seed}"
    return Series(name, kind, frequency, times, np.round(values, 3), windows)


def corpus(seeds: int = 3, small: bool = False) -> list[Series]:
    """Every class at every frequency, `seeds` series each (flat: 3 variants);
    the full form adds two years of hourly rhythm and noise (17,520 points)."""
    lengths = SMALL_LENGTHS if small else LENGTHS
    extra = [] if small else [make_series("noise_only", "hour", 99, 2 * 365 * 24)]
    return extra + [
        make_series(kind, frequency, seed, lengths[frequency])
        for kind in CLASSES
        for frequency in STEPS
        for seed in range(seeds if kind != "flat_line" else max(seeds, 3))
    ]
