"""Anomaly detectors over a bucketed series (pure numpy; one value per bucket).

Global statistics (mean, standard deviation, median, MAD, quartiles) and the
trailing-window baselines come from the aggregation pipeline; the detectors apply
them point by point. Generalized ESD is sequential (remove the most extreme
value, recompute, repeat), so it runs here on the series values.

Every detector returns every flagged point, not only the largest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from data.analytics import decomposition, spec
from data.analytics.decomposition import Analysis
from data.analytics.seasonal import (
    MIN_BLOCKS,
    esd_outliers,
    significant_episodes,
    tail_factor,
)

MODIFIED_Z_SCALE = 0.6745  # Iglewicz & Hoaglin: MAD/0.6745 estimates sigma
MEAN_AD_SCALE = 1.253314  # sqrt(pi/2): mean absolute deviation to sigma (MAD = 0)
MINIMUM_POINTS = {
    "zscore": 3,
    "iqr": 4,
    "modified_zscore": 3,
    "gesd": 3,
    "seasonal_esd": decomposition.MIN_POINTS,
    "changepoint": decomposition.MIN_POINTS,
    "auto": 0,
}
SEVERITY_BANDS = ((3.0, "critical"), (2.0, "high"), (1.5, "medium"), (0.0, "low"))
GESD_ACCURATE_FROM = 15  # Rosner: critical values are accurate from about n = 15
ROBUST_VOTERS = ("modified_zscore", "iqr", "gesd", "rolling_zscore")
# Every method that flags points on its own (an anomaly's `methods` lists these).
FLAGGING_METHODS = (*ROBUST_VOTERS, "zscore", "seasonal_esd", "changepoint")
# How explanations name each method (from the parameter spec).
METHOD_LABELS = {option.value: option.words for option in spec.METHOD.options}


# The seasonal ESD's point test runs at alpha / POINT_ALPHA_DIVISOR (the episode
# test among blocks at alpha). Residuals of a fit are not independent draws: a
# cycle fit is least certain at the series' ends and neighbours share their
# errors, so even with the fit-free noise scale (decomposition.cycle_noise) 9 of
# 60 held-out noise-only series (the benchmark's generator, seeds 10-29, every
# frequency) raised a flag at the nominal alpha where 5% (3) should; at alpha / 5,
# 4 did.
POINT_ALPHA_DIVISOR = 5

SCORE_LIMIT = 1e300  # scores of degenerate spreads (e.g. 1e-311) are capped here


@dataclass(frozen=True)
class Finding:
    """One flagged point: signed score, baseline and score/threshold ratio."""

    score: float
    expected: float
    ratio: float
    baseline: str  # what `expected` is, for explanations ("median", "mean", ...)

    def __post_init__(self) -> None:
        # Keep every number finite so views stay valid JSON.
        score = min(max(self.score, -SCORE_LIMIT), SCORE_LIMIT)
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "ratio", min(self.ratio, SCORE_LIMIT))


@dataclass
class Detection:
    """A method's result: flagged points by position in the value array."""

    method: str
    findings: dict[int, Finding] = field(default_factory=dict)
    applicable: bool = True
    note: str | None = None
    changes: list = field(default_factory=list)  # decomposition.Change, by time


def minimum_points(method: str, window: int) -> int:
    """The fewest non-empty points a method needs."""
    if method == "rolling_zscore":
        return window + 1
    return MINIMUM_POINTS[method]


def severity(ratio: float) -> str:
    """Severity band of a score relative to its method's threshold."""
    for lower, name in SEVERITY_BANDS:
        if ratio >= lower:
            return name
    return "low"


def _too_short(method: str, count: int, needed: int) -> Detection:
    note = f"needs at least {needed} points; the series has {count}"
    return Detection(method, applicable=False, note=note)


def max_possible_z(count: int) -> float:
    """The largest |z| any point can reach among `count` values: (n-1)/sqrt(n)."""
    return (count - 1) / math.sqrt(count) if count else 0.0


def detect_zscore(values: np.ndarray, mean, std_pop, threshold: float) -> Detection:
    """Plain z-score against the population mean and standard deviation."""
    count = len(values)
    if count < MINIMUM_POINTS["zscore"]:
        return _too_short("zscore", count, MINIMUM_POINTS["zscore"])
    if not std_pop:
        return Detection("zscore", note="all values are equal, so no z-scores exist")
    scores = (values - mean) / std_pop
    detection = Detection("zscore")
    for index in np.flatnonzero(np.abs(scores) >= threshold):
        score = float(scores[index])
        detection.findings[int(index)] = Finding(
            score, float(mean), abs(score) / threshold, "mean"
        )
    if max_possible_z(count) < threshold:
        detection.note = (
            f"with {count} points |z| cannot exceed {max_possible_z(count):.2f} "
            f"((n-1)/sqrt(n)), so no point can reach {threshold:g}"
        )
    return detection


def detect_iqr(values: np.ndarray, q1, q3, median, k: float) -> Detection:
    """Tukey fences: below Q1 - k*IQR or above Q3 + k*IQR."""
    count = len(values)
    if count < MINIMUM_POINTS["iqr"]:
        return _too_short("iqr", count, MINIMUM_POINTS["iqr"])
    iqr = q3 - q1
    if iqr <= 0:
        return Detection(
            "iqr",
            note="the IQR is 0 (at least half the values are equal), so the fences "
            "cannot separate outliers; the modified z-score handles this case",
        )
    detection = Detection("iqr")
    above = (values - q3) / iqr
    below = (values - q1) / iqr
    for index, value in enumerate(values):
        if value > q3 + k * iqr or value < q1 - k * iqr:
            score = float(above[index] if value > q3 else below[index])
            detection.findings[index] = Finding(
                score, float(median), abs(score) / k, "median"
            )
    return detection


def modified_zscores(values: np.ndarray, median, mad, mean_abs_dev) -> tuple:
    """Iglewicz-Hoaglin scores 0.6745*(x-median)/MAD; with MAD = 0, the mean
    absolute deviation scaled by 1.2533 replaces MAD/0.6745 (IBM SPSS's rule)."""
    if mad and mad > 0:
        return MODIFIED_Z_SCALE * (values - median) / mad, None
    if mean_abs_dev and mean_abs_dev > 0:
        note = (
            "the MAD is 0 (at least half the values equal the median); scores use "
            "the mean absolute deviation instead (x - median) / (1.2533 * meanAD)"
        )
        return (values - median) / (MEAN_AD_SCALE * mean_abs_dev), note
    return None, "all values are equal, so no robust scores exist"


def detect_modified_zscore(
    values: np.ndarray, median, mad, mean_abs_dev, threshold: float
) -> Detection:
    """Robust z-score from the median and MAD (Iglewicz & Hoaglin, 3.5)."""
    count = len(values)
    if count < MINIMUM_POINTS["modified_zscore"]:
        return _too_short("modified_zscore", count, MINIMUM_POINTS["modified_zscore"])
    scores, note = modified_zscores(values, median, mad, mean_abs_dev)
    detection = Detection("modified_zscore", note=note)
    if scores is None:
        return detection
    for index in np.flatnonzero(np.abs(scores) >= threshold):
        score = float(scores[index])
        detection.findings[int(index)] = Finding(
            score, float(median), abs(score) / threshold, "median"
        )
    return detection


def gesd_critical_value(count: int, step: int, alpha: float) -> float:
    """Rosner's lambda_i for the i-th removal (1-based) among `count` values."""
    remaining = count - step + 1
    p = 1 - alpha / (2 * remaining)
    t = stats.t.ppf(p, remaining - 2)
    return (remaining - 1) * t / math.sqrt((remaining - 2 + t * t) * remaining)


def gesd_steps(values: np.ndarray, max_outliers: int, alpha: float) -> list[tuple]:
    """(position, signed R_i, lambda_i) for each removal until max_outliers."""
    remaining = list(range(len(values)))
    steps = []
    for step in range(1, max_outliers + 1):
        current = values[remaining]
        mean, std = current.mean(), current.std(ddof=1)
        if not std > 0:
            break  # the rest are equal: nothing more can stand out
        deviations = (current - mean) / std
        extreme = int(np.argmax(np.abs(deviations)))
        critical = gesd_critical_value(len(values), step, alpha)
        steps.append((remaining[extreme], float(deviations[extreme]), critical))
        remaining.pop(extreme)
    return steps


def detect_gesd(values: np.ndarray, alpha: float, max_outliers: int) -> Detection:
    """Generalized ESD (Rosner 1983): the number of outliers is the largest i with
    R_i > lambda_i, for i up to min(max_outliers, n // 2)."""
    count = len(values)
    if count < MINIMUM_POINTS["gesd"]:
        return _too_short("gesd", count, MINIMUM_POINTS["gesd"])
    limit = min(max_outliers, count // 2)
    steps = gesd_steps(values, limit, alpha)
    outliers = max(
        (i + 1 for i, (_, r, lam) in enumerate(steps) if abs(r) > lam), default=0
    )
    flagged = steps[:outliers]
    clean = np.delete(values, [position for position, _, _ in flagged])
    expected = float(clean.mean()) if len(clean) else float(values.mean())
    detection = Detection("gesd", note=_gesd_note(count, max_outliers, limit))
    for position, score, critical in flagged:
        detection.findings[position] = Finding(
            score, expected, abs(score) / critical, "mean"
        )
    return detection


def _gesd_note(count: int, requested: int, limit: int) -> str | None:
    notes = []
    if limit < requested:
        notes.append(f"tested for up to {limit} outliers (half of {count} points)")
    if count < GESD_ACCURATE_FROM:
        notes.append(
            f"critical values are approximate below {GESD_ACCURATE_FROM} points"
        )
    return "; ".join(notes) or None


def _contextual_finding(value, baseline, threshold, window) -> Finding | None:
    mean, std, _ = baseline
    score = (float(value) - mean) / std
    if abs(score) < threshold:
        return None
    label = f"trailing {window}-bucket mean"
    return Finding(score, float(mean), abs(score) / threshold, label)


def _scorable(baseline: tuple, least: int) -> bool:
    mean, std, support = baseline
    return mean is not None and std is not None and support >= least and std > 0


def detect_rolling_zscore(
    values: np.ndarray,
    baselines: list[tuple],
    window: int,
    threshold: float,
) -> Detection:
    """Contextual z-score against the `window` buckets before each point.

    `baselines[i]` is (mean, sample std, count) of the trailing window. A point is
    scored when that window holds at least max(2, window // 2) values."""
    count = len(values)
    needed = minimum_points("rolling_zscore", window)
    if count < needed:
        return _too_short("rolling_zscore", count, needed)
    detection = Detection("rolling_zscore")
    least = max(2, window // 2)
    scorable = [i for i, baseline in enumerate(baselines) if _scorable(baseline, least)]
    for index in scorable:
        finding = _contextual_finding(
            values[index], baselines[index], threshold, window
        )
        if finding is not None:
            detection.findings[index] = finding
    unscored = count - len(scorable)
    if unscored:
        detection.note = (
            f"{unscored} points had too few or identical values in their trailing "
            "window and were not scored"
        )
    return detection


def combine_auto(
    detections: dict[str, Detection],
    primary: np.ndarray | None,
    median,
    threshold: float,
) -> Detection:
    """Auto mode: a point is anomalous when at least two applicable robust methods
    (modified z-score, IQR fences, generalized ESD, rolling z-score) flag it, or
    the only applicable one does. Severity comes from the modified z-score."""
    voters = [name for name in ROBUST_VOTERS if detections[name].applicable]
    needed = min(2, len(voters))
    votes: dict[int, int] = {}
    for name in voters:
        for index in detections[name].findings:
            votes[index] = votes.get(index, 0) + 1
    detection = Detection("auto", applicable=bool(voters))
    for index, count in sorted(votes.items()):
        if needed and count >= needed:
            score = float(primary[index]) if primary is not None else 0.0
            ratio = abs(score) / threshold
            detection.findings[index] = Finding(score, float(median), ratio, "median")
    labels = ", ".join(METHOD_LABELS[name] for name in voters)
    detection.note = (
        f"flags points where at least {needed} of: {labels} agree"
        if voters
        else "too few points for any method"
    )
    return detection


def _expected_label(analysis: Analysis) -> str:
    names = [period.name for period in analysis.periods]
    if not names:
        return "local level"
    return f"{' and '.join(names)} expectation"


def detect_seasonal_esd(analysis: Analysis | None, count: int, alpha: float):
    """Generalized ESD on the robust z of the decomposition's residuals."""
    if analysis is None:
        return _too_short("seasonal_esd", count, decomposition.MIN_POINTS)
    parts = analysis.decomposition
    detection = Detection("seasonal_esd", note=_decomposition_note(analysis))
    if not parts.scale > 0:
        return detection
    z = parts.robust_z
    label = _expected_label(analysis)
    point_alpha = alpha / POINT_ALPHA_DIVISOR
    expected = analysis.expected
    cycle = min((period.points for period in analysis.periods), default=0)
    flagged = significant_episodes(z, esd_outliers(z, point_alpha), alpha, cycle)
    for index, critical in flagged.items():
        if index < analysis.warm_up:
            continue
        detection.findings[index] = Finding(
            float(z[index]), float(expected[index]), abs(z[index]) / critical,
            label,
        )  # fmt: skip
    return detection


def _decomposition_note(analysis: Analysis) -> str:
    periods = ", ".join(
        f"{period.name} cycle ({period.points} points, strength {period.strength:.2f})"
        for period in analysis.periods
    )
    found = f"found a {periods}" if periods else "found no daily or weekly cycle"
    if analysis.counts:
        found = (
            f"small counts (median under {decomposition.SMALL_COUNT_MEDIAN}), "
            "decomposed on the Anscombe scale 2√(x + 3/8), where their noise is "
            f"the same at every level; {found}"
        )
    factor = tail_factor(analysis.decomposition.robust_z)
    tails = (
        f"; heavy tails (95th percentile of |z| {factor:.2f}x the normal 1.96), so "
        f"every critical value is {factor:.2f}x higher"
        if factor > 1.05
        else ""
    )
    return (
        f"{found}; residuals scored with median and MAD{tails}, points tested at "
        f"alpha / {POINT_ALPHA_DIVISOR} (the fit's residuals run heavier than "
        "independent noise); an episode is kept "
        "when its block's largest |z| is itself an ESD outlier among the blocks "
        f"(one cycle per block when the series holds {MIN_BLOCKS} or more "
        "cycles); "
        f"the first {analysis.warm_up} points are a warm-up (one level window) and "
        "are not flagged"
    )


def detect_changepoints(analysis: Analysis | None, count: int) -> Detection:
    """Level shifts and trend changes, one finding at each change point."""
    if analysis is None:
        return _too_short("changepoint", count, decomposition.MIN_POINTS)
    detection = Detection("changepoint", changes=list(analysis.changes))
    for change in analysis.changes:
        sign = 1.0 if change.after >= change.before else -1.0
        detection.findings[change.index] = Finding(
            sign * change.sigmas,
            change.before,
            change.sigmas / decomposition.change_points.SHIFT_SIGMAS,
            "level before the change",
        )
    shifts = len(analysis.level_shifts)
    trends = len(analysis.changes) - shifts
    detection.note = f"{shifts} level shift(s) and {trends} trend change(s)"
    return detection


def choose_auto(
    detections: dict[str, Detection],
    analysis: Analysis | None,
    primary: np.ndarray | None,
    median,
    threshold: float,
) -> Detection:
    """Auto: short series get the robust vote; longer ones the seasonal-hybrid ESD
    on the decomposition's residuals plus its change points."""
    if analysis is None:
        voted = combine_auto(detections, primary, median, threshold)
        voted.note = (
            f"fewer than {decomposition.MIN_POINTS} points, so no cycle or change "
            f"point can be estimated: {voted.note}"
        )
        return voted
    residual, changes = detections["seasonal_esd"], detections["changepoint"]
    detection = Detection("auto", changes=list(changes.changes))
    detection.findings.update(residual.findings)
    detection.findings.update(changes.findings)
    detection.note = (
        f"{decomposition.MIN_POINTS}+ points, so the seasonal-hybrid ESD and change "
        f"points: {residual.note}; {changes.note}"
    )
    return detection
