"""Figure builders: the right traces, markers at the right x, lines at the right x."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from components import figures, theme
from tests.unit.view_factory import (
    SAMPLE_ANOMALIES,
    SAMPLE_DATES,
    SAMPLE_REVENUE,
    large_view,
    sample_view,
)


def traces_named(figure: go.Figure, fragment: str) -> list:
    """Traces whose legend name contains `fragment`."""
    return [trace for trace in figure.data if fragment in (trace.name or "")]


def test_timeseries_has_series_band_rolling_mean_and_one_marker_trace_per_severity():
    view = sample_view()
    figure = figures.timeseries_figure(view)
    series = traces_named(figure, "revenue")[0]
    assert list(series.x) == [figures.plot_time(p["t"]) for p in view["series"]]
    assert list(series.y) == [p["value"] for p in view["series"]]
    band = traces_named(figure, "Expected range")
    assert [trace.fill for trace in band] == [None, "tonexty"]
    assert traces_named(figure, "Rolling mean")
    severities = {a["severity"] for a in view["anomalies"]}
    marker_traces = traces_named(figure, "anomaly")
    assert len(marker_traces) == len(severities)
    assert figure.layout.xaxis.rangeslider.visible is True


def test_anomaly_markers_sit_at_the_anomaly_times_and_values_with_explanations():
    view = sample_view()
    figure = figures.timeseries_figure(view)
    drawn = {}
    for trace in traces_named(figure, "anomaly"):
        for x, y, text in zip(trace.x, trace.y, trace.hovertext, strict=True):
            drawn[x] = (y, text)
    expected = {figures.plot_time(a["t"]): a for a in view["anomalies"]}
    assert set(drawn) == set(expected)
    for x, anomaly in expected.items():
        assert drawn[x][0] == anomaly["value"]
        assert anomaly["explanation"].split()[0] in drawn[x][1]


def test_each_severity_has_its_own_colour_and_shape():
    view = sample_view()
    for trace in traces_named(figures.timeseries_figure(view), "anomaly"):
        style = next(s for s in theme.SEVERITIES if trace.name.startswith(s.label))
        assert trace.marker.symbol == style.symbol
        assert trace.marker.color == style.colour
    assert len({s.symbol for s in theme.SEVERITIES}) == len(theme.SEVERITIES)
    assert len({s.colour for s in theme.SEVERITIES}) == len(theme.SEVERITIES)


@pytest.mark.parametrize(
    ("method", "threshold", "k"),
    [("auto", 3.5, figures.DEFAULT_BAND_K), ("rolling_zscore", 2.5, 2.5)],
)
def test_band_is_rolling_mean_plus_minus_k_rolling_std(method, threshold, k):
    view = sample_view()
    view["params"].update(method=method, threshold=threshold)
    lower, upper = traces_named(figures.timeseries_figure(view), "Expected range")
    for point, low, high in zip(view["rolling"], lower.y, upper.y, strict=True):
        if point["mean"] is None:
            assert low is None and high is None
        else:
            assert low == pytest.approx(point["mean"] - k * point["std"])
            assert high == pytest.approx(point["mean"] + k * point["std"])


def test_selected_anomaly_gets_a_ring_in_the_first_trace_and_unknown_none():
    view = sample_view()
    target = view["anomalies"][1]
    figure = figures.timeseries_figure(view, selected_t=target["t"])
    assert figure.data[0].name == figures.HIGHLIGHT_NAME
    assert list(figure.data[0].x) == [figures.plot_time(target["t"])]
    assert list(figure.data[0].y) == [target["value"]]
    other = figures.timeseries_figure(view, selected_t="2030-01-01T00:00:00+00:00")
    assert other.data[0].name == figures.HIGHLIGHT_NAME
    assert list(other.data[0].x) == []


def test_currency_unit_prefixes_the_value_axis():
    figure = figures.timeseries_figure(sample_view())
    assert figure.layout.yaxis.tickprefix == "₹"


def test_histogram_bars_match_bins_and_lines_sit_on_thresholds_and_fences():
    view = sample_view()
    figure = figures.histogram_figure(view)
    edges = np.array(view["histogram"]["edges"])
    bars = figure.data[0]
    assert list(bars.y) == view["histogram"]["counts"]
    assert np.allclose(bars.x, (edges[:-1] + edges[1:]) / 2)
    assert np.allclose(bars.width, np.diff(edges))
    vertical = sorted(s.x0 for s in figure.layout.shapes if s.x0 == s.x1)
    wanted = sorted([*view["thresholds"]["zscore"], *view["thresholds"]["iqr"]])
    assert vertical == pytest.approx(wanted)
    legend = {trace.name for trace in figure.data if trace.showlegend is not False}
    assert legend == {"z-score limits", "IQR fences"}


def test_histogram_without_thresholds_draws_no_lines():
    view = sample_view()
    view["thresholds"] = {"zscore": None, "iqr": None}
    figure = figures.histogram_figure(view)
    assert figure.layout.shapes == ()
    assert len(figure.data) == 1


def test_box_uses_the_precomputed_quartiles_and_plots_outliers():
    view = sample_view()
    figure = figures.box_figure(view)
    box = figure.data[0]
    assert (box.q1[0], box.median[0], box.q3[0]) == (
        view["box"]["q1"],
        view["box"]["median"],
        view["box"]["q3"],
    )
    assert box.lowerfence[0] == view["box"]["lower_whisker"]
    assert box.upperfence[0] == view["box"]["upper_whisker"]
    assert box.mean[0] == view["summary"]["mean"]
    assert list(figure.data[1].x) == view["box"]["outliers"]


def test_empty_series_still_builds_figures():
    view = sample_view()
    view.update(series=[], rolling=[], anomalies=[])
    view["histogram"] = {"edges": [], "counts": [], "rule": "none"}
    view["box"] = dict.fromkeys(view["box"]) | {"outliers": []}
    view["thresholds"] = {"zscore": None, "iqr": None}
    assert len(figures.timeseries_figure(view).data) == 2  # ring + empty series
    assert len(figures.histogram_figure(view).data) == 1
    assert figures.box_figure(view).data == ()


def test_downsample_keeps_extremes_ends_gaps_and_requested_points():
    rng = np.random.default_rng(3)
    values = rng.normal(0, 1, 10_001).tolist()
    values[1234] = None
    keep = [17, 5000, 9999]
    chosen = figures.downsample_indices(values, 500, keep)
    assert chosen == sorted(set(chosen))
    assert len(chosen) <= 500 + len(keep) + 2 + 250
    assert {0, 10_000, 1234, *keep} <= set(chosen)
    data = np.array([np.nan if v is None else v for v in values])
    assert int(np.nanargmax(data)) in chosen
    assert int(np.nanargmin(data)) in chosen


def test_downsample_leaves_short_series_alone_and_copes_with_all_missing():
    assert figures.downsample_indices([1.0, 2.0, 3.0], 10) == [0, 1, 2]
    assert figures.downsample_indices([], 10) == []
    chosen = figures.downsample_indices([None] * 50, 10)
    assert 0 in chosen and 49 in chosen


def test_long_series_is_drawn_with_few_points_but_every_anomaly():
    view = large_view(100_000)
    figure = figures.timeseries_figure(view)
    series = traces_named(figure, "revenue")[0]
    assert len(series.x) <= figures.DISPLAY_MAX_POINTS + len(view["anomalies"]) + 1000
    drawn = set(series.x)
    assert all(figures.plot_time(a["t"]) in drawn for a in view["anomalies"])
    markers = sum(len(t.x) for t in traces_named(figure, "anomaly"))
    assert markers == len(view["anomalies"])
    assert len(json.dumps(figure.to_plotly_json(), default=str)) < 400_000


def test_plot_time_drops_the_utc_offset_plotly_cannot_read():
    assert figures.plot_time("2024-01-03T00:00:00+00:00") == "2024-01-03"
    assert figures.plot_time("2024-01-03T10:30:00Z") == "2024-01-03 10:30:00"


def test_figures_use_the_shared_template():
    view = sample_view()
    for figure in (
        figures.timeseries_figure(view),
        figures.histogram_figure(view),
        figures.box_figure(view),
        figures.empty_figure("nothing"),
    ):
        assert figure.layout.template.layout.font.family == theme.FONT_FAMILY


def test_gaps_get_a_faint_connector_through_the_known_points_only():
    view = sample_view()
    view["series"][3]["value"] = None
    connector = traces_named(figures.timeseries_figure(view), "No data")[0]
    known = [p for p in view["series"] if p["value"] is not None]
    assert list(connector.x) == [figures.plot_time(p["t"]) for p in known]
    assert connector.hoverinfo == "skip"
    assert not traces_named(figures.timeseries_figure(sample_view()), "No data")


def test_chart_text_alternatives_say_what_is_plotted_its_range_and_the_anomalies():
    view = sample_view()
    revenue = np.array(SAMPLE_REVENUE, float)
    median = np.median(revenue)
    text = figures.chart_summaries(view)
    series = text["timeseries"]
    assert series.startswith(
        "Line chart of the daily sum of revenue: 7 points from 2024-01-01 to "
        f"2024-01-27, values from ₹{revenue.min():,.0f} to ₹{revenue.max():,.0f}."
    )
    assert "rolling mean of 3 points" in series and "(±2σ)" in series
    assert "3 anomalies: " in series
    for day, severity in SAMPLE_ANOMALIES.items():
        value = revenue[SAMPLE_DATES.index(day)]
        side = "above" if value > median else "below"
        assert (
            f"{day}: ₹{value:,.0f}, {side} the expected ₹{median:,.0f} ({severity})"
            in series
        )

    counts, edges = np.histogram(revenue, bins=7)
    top = int(np.argmax(counts))
    assert text["histogram"].startswith(
        "Histogram of the daily sum of revenue: 7 values from ₹8,000 to ₹89,000. "
        f"The most frequent range is ₹{edges[top]:,.0f} to ₹{edges[top + 1]:,.0f} "
        f"({counts[top]} days)."
    )
    fence = view["thresholds"]["iqr"][1]
    assert f"IQR fence (high) at ₹{fence:,.0f}" in text["histogram"]

    q1, q3 = np.percentile(revenue, [25, 75])
    outliers = revenue[revenue > q3 + 1.5 * (q3 - q1)]
    assert list(outliers) == [89000]
    assert text["box"] == (
        f"Box plot of the daily sum of revenue: median ₹{median:,.0f}, middle half "
        f"from ₹{q1:,.0f} to ₹{q3:,.0f}, range ₹8,000 to ₹89,000. "
        "1 outlier beyond the whiskers: ₹89,000."
    )


def test_chart_text_of_gaps_filters_and_a_long_anomaly_list():
    view = sample_view()
    view["params"] = {**view["params"], "aggregation": "mean", "granularity": "week"}
    view["params"]["filters"] = {"region": ["North", "South"]}
    view["series"][1]["value"] = None
    view["anomalies"] = view["anomalies"] * 4
    text = figures.timeseries_summary(view)
    assert text.startswith(
        "Line chart of the weekly average of revenue (region: North, South): "
        "7 points from"
    )
    assert "(1 without data)" in text
    assert text.count("(critical)") == 4  # 10 of the 12 listed
    assert "12 anomalies: " in text
    assert text.endswith("; and 2 more, all listed in the Anomalies table.")
    view["anomalies"] = []
    assert figures.timeseries_summary(view).endswith("No anomalies.")
    view["series"] = []
    assert figures.timeseries_summary(view).endswith(": no data points.")
    view["box"]["outliers"] = []
    assert figures.box_summary(view).endswith("No outliers beyond the whiskers.")


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_accent_kpi_card_text_meets_wcag_aa_on_every_gradient_stop():
    import re
    from pathlib import Path

    css = (Path(__file__).parents[2] / "assets" / "dashboard.css").read_text()
    background = re.search(r"\.ib-kpi-accent \{ background: ([^}]*)\}", css).group(1)
    stops = re.findall(r"#[0-9a-fA-F]{6}", background)
    small = re.search(
        r"\.ib-kpi-accent \.ib-kpi-label, \.ib-kpi-accent \.ib-kpi-hint "
        r"\{ color: (#[0-9a-fA-F]{6}); \}",
        css,
    ).group(1)
    assert len(stops) == 2
    assert contrast("#dbeafe", "#2563eb") < 4.5  # the old pair, as a check
    for stop in stops:
        assert contrast(small, stop) >= 4.5, (small, stop)
        assert contrast("#ffffff", stop) >= 4.5


def legend_mark_colours(spec: dict) -> dict[str, str]:
    """Each legend entry's mark colour: a line's, a marker's, or a filled area's
    edge (its fill when it has none)."""
    if spec["layout"].get("showlegend") is False:
        return {}
    marks = {}
    for trace in spec["data"]:
        if trace.get("showlegend") is False:
            continue
        line, marker = trace.get("line") or {}, trace.get("marker") or {}
        if trace.get("fill") and not line.get("width"):
            colour = trace["fillcolor"]
        elif "lines" in trace.get("mode", "lines"):
            colour = line.get("color")
        else:
            colour = marker.get("color")
        marks[trace["name"]] = colour
    return marks


def test_every_legend_mark_has_3_to_1_contrast_against_the_chart_background():
    view = sample_view()
    view["series"][1]["value"] = None  # draws the dotted line across the gap
    specs = [
        figures.timeseries_spec(view),
        figures.histogram_spec(view),
        figures.box_spec(view),
    ]
    marks = {}
    for spec in specs:
        marks.update(legend_mark_colours(spec))
    assert {"Expected range ±2σ", "No data between points", "revenue"} <= set(marks)
    assert {"z-score limits", "IQR fences", "Critical anomaly"} <= set(marks)
    for name, colour in marks.items():
        assert colour and colour.startswith("#"), (name, colour)
        assert contrast(colour, "#ffffff") >= 3, (name, colour)
    assert contrast("#93c5fd", "#ffffff") < 3  # the old gap line, as a check
