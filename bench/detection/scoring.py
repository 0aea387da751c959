"""Event-level scoring of flags against labelled windows (the NAB dev split's rule).

A window counts as found when any flag falls inside it; flags outside every window
are grouped when closer than 1% of the series length, and each group is one false
alarm. precision = found / (found + false alarms), recall = found / windows, F1 per
series. A series without windows (noise only, flat) scores F1 1 when it raises no
false alarm and 0 otherwise, so a class mean still says how often it stays quiet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FALSE_ALARM_GAP = 0.01  # of the series length (time span)


@dataclass(frozen=True)
class EventScore:
    """One series' event-level counts and scores."""

    windows: int
    found: int
    false_alarms: int

    @property
    def precision(self) -> float:
        flagged = self.found + self.false_alarms
        return self.found / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.windows if self.windows else 1.0

    @property
    def f1(self) -> float:
        if not self.windows:
            return 1.0 if not self.false_alarms else 0.0
        if not self.found:
            return 0.0
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r)


def score_events(
    flags: np.ndarray, windows: list[tuple[float, float]], span: tuple[float, float]
) -> EventScore:
    """Score flag times against [start, end] windows; times are plain numbers."""
    flags = np.sort(np.asarray(flags, dtype=float))
    inside = np.zeros(len(flags), dtype=bool)
    found = 0
    for start, end in windows:
        hits = (flags >= start) & (flags <= end)
        found += bool(hits.any())
        inside |= hits
    return EventScore(len(windows), found, _false_alarms(flags[~inside], span))


def _false_alarms(outside: np.ndarray, span: tuple[float, float]) -> int:
    if not len(outside):
        return 0
    gap = FALSE_ALARM_GAP * (span[1] - span[0])
    return 1 + int(np.count_nonzero(np.diff(outside) >= gap))
