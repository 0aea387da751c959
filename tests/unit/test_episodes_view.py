"""Episodes in the view (grouping, explanations, change events), the table's
expandable episode rows and the chart's step and bands (pure, no browser)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from bench.detection import runner
from bench.detection.corpus import Series
from callbacks import analysis
from components import episodes as rows_of
from components import figures
from data.analytics import view

START = np.datetime64("2024-01-01T00:00:00", "s")


def hourly(values: np.ndarray) -> Series:
    """An hourly series starting 2024-01-01."""
    times = START + np.arange(len(values)) * np.timedelta64(3600, "s")
    return Series("case", "case", "hour", times, values, [])


def episodes_of(series: Series, method: str = "auto") -> tuple[list, list]:
    """(anomalies, episodes) the view computes for a series (bench's numpy doc)."""
    params = {**runner.params_for(series), "method": method}
    doc = runner.view_doc(series, params["window"])
    points = view.Points(doc, params["window"])
    detections = view.run_detectors(points, doc, params)
    return (
        view.anomalies(points, detections, params, None),
        view.episodes(points, detections, params, None),
    )


def noisy(length: int, seed: int = 0) -> np.ndarray:
    """Level 1000, Gaussian noise sigma 10."""
    return 1000 + np.random.default_rng(seed).normal(0, 10, length)


def test_a_burst_is_one_episode_with_its_peak_and_explanation():
    """Six raised hours in a row: one episode spanning them, peak at the largest."""
    values = noisy(24 * 21)
    values[200:206] += [80, 120, 150, 110, 90, 85]
    anomalies, found = episodes_of(hourly(values))
    assert len(found) == 1
    episode = found[0]
    assert episode["kind"] == "spike" and episode["points"] == len(anomalies)
    assert episode["start"].startswith("2024-01-09T08") and episode["points"] >= 5
    assert episode["peak_t"].startswith("2024-01-09T10")
    assert episode["peak_value"] == max(a["value"] for a in anomalies)
    assert episode["explanation"].startswith("Value was unusual at")
    assert "the peak: Value at 2024-01-09 10:00 was" in episode["explanation"]
    assert set(episode["anomalies"]) == {a["t"] for a in anomalies}


def test_far_apart_flags_are_separate_episodes_most_severe_first():
    """Two spikes days apart: two one-point episodes, the larger first."""
    values = noisy(24 * 21, seed=1)
    values[100] += 100
    values[400] += 200
    _, found = episodes_of(hourly(values))
    assert [e["points"] for e in found] == [1, 1]
    assert [e["peak_t"][:13] for e in found] == ["2024-01-17T16", "2024-01-05T04"]


def test_a_level_shift_is_one_event_with_levels_before_and_after():
    """+15% from one hour on: one level-shift episode, not every point after it."""
    values = noisy(24 * 28, seed=2)
    values[300:] *= 1.15
    _, found = episodes_of(hourly(values))
    assert [e["kind"] for e in found] == ["level_shift"]
    shift = found[0]
    assert abs(shift["before"] - 1000) < 5 and abs(shift["after"] - 1150) < 6
    assert shift["explanation"].startswith("Level shift: Value rose at 2024-01-13")
    assert "(+15%)" in shift["explanation"]


def test_each_method_answers_on_its_own():
    """seasonal_esd and changepoint are methods of their own."""
    values = noisy(24 * 28, seed=3)
    values[300:] += 200
    values[100] += 150
    _, residual = episodes_of(hourly(values), "seasonal_esd")
    _, changes = episodes_of(hourly(values), "changepoint")
    assert {e["kind"] for e in residual} == {"spike"}
    assert [e["kind"] for e in changes] == ["level_shift"]


def sample_view() -> dict:
    """A small view with one three-point episode and one level shift."""
    times = [f"2024-01-{day:02d}T00:00:00+00:00" for day in range(1, 11)]
    anomalies = [
        {"t": times[i], "value": v, "expected": 100.0, "deviation_pct": v - 100,
         "severity": "high", "methods": ["seasonal_esd"], "score": 5.0}
        for i, v in ((2, 150.0), (3, 170.0), (4, 140.0), (7, 130.0))
    ]  # fmt: skip
    burst = {
        "kind": "spike", "start": times[2], "end": times[4], "peak_t": times[3],
        "peak_value": 170.0, "expected": 100.0, "severity": "high", "points": 3,
        "before": None, "after": None, "anomalies": times[2:5],
        "explanation": "Value was unusual at 3 points.",
    }  # fmt: skip
    shift = {
        "kind": "level_shift", "start": times[7], "end": times[7],
        "peak_t": times[7], "peak_value": 130.0, "expected": 100.0,
        "severity": "medium", "points": 1, "before": 100.0, "after": 130.0,
        "anomalies": [times[7]], "explanation": "Level shift: ...",
    }  # fmt: skip
    return {
        "params": {"granularity": "day"},
        "series": [{"t": t, "value": 100.0, "count": 1} for t in times],
        "anomalies": anomalies,
        "episodes": [burst, shift],
    }


def test_table_has_one_row_per_episode_and_expands_into_points():
    """Rows per episode; a toggle inserts its point rows below it, then removes them."""
    rows = rows_of.episode_rows(sample_view(), None, analysis.methods_text)
    assert [row["kind_text"] for row in rows] == ["Spike", "Level shift"]
    assert rows[0]["date_text"] == "2024-01-03 – 2024-01-05"
    assert rows[0]["points_text"] == "▸ 3" and rows[1]["points_text"] == "1"
    assert rows[1]["value"] == 130.0 and rows[1]["expected"] == 100.0
    assert rows_of.short_methods("a, b") == "a, b"
    assert rows_of.short_methods("a, b, c, d") == "a, b +2"
    opened = rows_of.toggle_episode(rows, rows[0]["id"])
    assert [row["t"][:10] for row in opened] == [
        "2024-01-04", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08",
    ]  # fmt: skip
    assert opened[0]["points_text"] == "▾ 3" and opened[1]["date_text"].startswith("↳")
    closed = rows_of.toggle_episode(opened, rows[0]["id"])
    assert [row["id"] for row in closed] == [row["id"] for row in rows]
    assert rows_of.toggle_episode(rows, rows[1]["id"]) is None  # nothing to expand


def test_a_click_on_any_point_of_an_episode_selects_its_row():
    """Markers of non-peak points select their episode's row."""
    view_dict = sample_view()
    rows = rows_of.episode_rows(view_dict, None, analysis.methods_text)
    member = view_dict["episodes"][0]["anomalies"][0]
    click = {"points": [{"customdata": member}]}
    assert analysis.clicked_anomaly(click, rows) == rows[0]["id"]


def test_chart_draws_level_shifts_as_a_step_and_bands_over_episodes():
    """A dashed step at the levels before and after; a band over the burst."""
    spec = figures.timeseries_spec(sample_view())
    step = next(t for t in spec["data"] if t.get("name") == "Level (shifts)")
    assert step["y"] == [100.0, 100.0, 130.0, 130.0]
    assert (
        step["x"][1] == step["x"][2] == figures.plot_time("2024-01-08T00:00:00+00:00")
    )
    shapes = spec["layout"]["shapes"]
    assert len(shapes) == 1
    assert shapes[0]["x0"] == figures.plot_time("2024-01-03T00:00:00+00:00")
    assert dt.date(2024, 1, 5).isoformat() in shapes[0]["x1"]


def auto_note(series: Series) -> str:
    """The note auto writes for a series."""
    params = runner.params_for(series)
    doc = runner.view_doc(series, params["window"])
    points = view.Points(doc, params["window"])
    note = view.run_detectors(points, doc, params)["auto"].note
    assert note is not None, "auto always says what it chose"
    return note


def test_auto_says_what_it_chose_and_why():
    """Cycle found, heavy tails, or too short for a decomposition: in the note."""
    hours = np.arange(24 * 21)
    rng = np.random.default_rng(6)
    cycle = 1000 + 300 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 10, len(hours))
    note = auto_note(hourly(cycle))
    assert note.startswith("30+ points, so the seasonal-hybrid ESD and change points")
    assert "found a daily cycle (24 points" in note and "heavy tails" not in note
    heavy = 1000 + 10 * rng.standard_t(2, len(hours))
    assert "heavy tails" in auto_note(hourly(heavy))
    short = auto_note(hourly(noisy(12)))
    assert short.startswith("fewer than 30 points, so no cycle or change point")
