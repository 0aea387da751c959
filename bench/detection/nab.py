"""The NAB development split (../shared/data/nab-dev): series and their windows.

Read in place (never copied into the project). Each series is analysed at its own
resolution (a raw view), as a user uploading the file would see it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from bench.detection.corpus import Series

NAB_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "nab-dev"


def available(directory: Path = NAB_DIR) -> bool:
    """Whether the split is present on this machine."""
    return (directory / "windows.json").is_file()


def _window_indices(times: np.ndarray, start: str, end: str) -> tuple[int, int]:
    lower = np.searchsorted(times, np.datetime64(pd.Timestamp(start), "s"), "left")
    upper = np.searchsorted(times, np.datetime64(pd.Timestamp(end), "s"), "right")
    return int(lower), int(upper) - 1


def load(directory: Path = NAB_DIR) -> list[Series]:
    """Every series of the split with its windows as index ranges."""
    windows = json.loads((directory / "windows.json").read_text())
    series = []
    for name in sorted(windows):
        frame = pd.read_csv(directory / name)
        times = pd.to_datetime(frame["timestamp"]).to_numpy().astype("datetime64[s]")
        ranges = [_window_indices(times, *window) for window in windows[name]]
        group = name.split("/")[0]
        values = frame["value"].to_numpy(dtype=float)
        series.append(Series(name, group, "raw", times, values, ranges))
    return series
