"""Pure figure builders: an analysis view (docs/contracts.md) in, `go.Figure` out.

Traces and layouts are written as plain dicts and wrapped without plotly's
per-element validation: for a few thousand points that validation costs about
25 times more than building the figure (see BENCHMARKS.md, UI section).
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.graph_objects as go

from components import theme
from components.formatting import (
    axis_affixes,
    format_count,
    format_number,
    format_percent,
    format_timestamp,
)
from data.analytics import spec

# About one point per horizontal pixel of a wide chart: more cannot be seen.
DISPLAY_MAX_POINTS = 2000
DEFAULT_BAND_K = 2.0
HIGHLIGHT_NAME = "Selection"


def plot_time(value: str) -> str:
    """An ISO 8601 UTC time as plotly.js expects it (it has no time zones); a
    midnight is written as the bare date, which keeps daily charts light."""
    text = value.replace("T", " ")
    for suffix in ("Z", "+00:00"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text[:10] if text.endswith(" 00:00:00") else text


def scatter(**properties) -> dict:
    """A scatter trace as a plain dict."""
    return {"type": "scatter", **properties}


def figure_spec(traces: list[dict], layout: dict) -> dict:
    """A figure as plain data in the shared template (what dcc.Graph accepts)."""
    return {"data": traces, "layout": {"template": theme.TEMPLATE_JSON, **layout}}


def as_figure(spec: dict) -> go.Figure:
    """A `go.Figure` around a spec, without plotly's per-element validation."""
    return go.Figure(data=spec["data"], layout=spec["layout"], _validate=False)


def _as_floats(values: Iterable[float | None]) -> np.ndarray:
    """Values as a float array with None turned into NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def downsample_indices(
    values: Sequence[float | None], max_points: int, keep: Iterable[int] = ()
) -> list[int]:
    """Indices to draw: per bucket the min, max and first gap, plus `keep` and ends.

    Min/max per bucket keeps every visible peak and trough of a line chart, so a
    series of 100k points drawn with ~2k looks the same at chart width.
    """
    count = len(values)
    chosen = {i for i in keep if 0 <= i < count}
    if count <= max_points:
        return list(range(count))
    buckets = max(1, max_points // 2)
    size = -(-count // buckets)
    padded = np.full(buckets * size, np.nan)
    padded[:count] = _as_floats(values)
    grid = padded.reshape(buckets, size)
    missing = np.isnan(grid)
    starts = np.arange(buckets) * size
    high = np.where(missing, -np.inf, grid).argmax(axis=1)
    low = np.where(missing, np.inf, grid).argmin(axis=1)
    has_value = ~missing.all(axis=1)
    chosen.update((starts + high)[has_value].tolist())
    chosen.update((starts + low)[has_value].tolist())
    # The first missing point of a bucket keeps gaps in the line visible.
    gap_rows = missing.any(axis=1)
    gap_first = starts + missing.argmax(axis=1)
    chosen.update(i for i in gap_first[gap_rows].tolist() if i < count)
    chosen.update((0, count - 1))
    return sorted(chosen)


def _unit(view: dict) -> str | None:
    """The unit (currency or percent) of the view's metric, if any."""
    dataset = view.get("dataset") or {}
    metric = (view.get("params") or {}).get("metric")
    return (dataset.get("units") or {}).get(metric)


def _metric_label(view: dict) -> str:
    """The metric name for axis titles."""
    return str((view.get("params") or {}).get("metric") or "value")


PERIOD_WORDS = {"hour": "Hours", "day": "Days", "week": "Weeks", "month": "Months"}


def _period_word(view: dict) -> str:
    """What one histogram count is: days, weeks, ... (the series buckets)."""
    granularity = (view.get("params") or {}).get("granularity")
    return PERIOD_WORDS.get(str(granularity), "Periods")


def series_trace(view: dict, max_points: int) -> dict:
    """The series line, downsampled for display with every anomaly kept."""
    series = view.get("series") or []
    keep = anomaly_positions(series, view.get("anomalies") or [])
    indices = downsample_indices([p["value"] for p in series], max_points, keep)
    return scatter(
        x=[plot_time(series[i]["t"]) for i in indices],
        y=[series[i]["value"] for i in indices],
        mode="lines+markers" if len(indices) <= 120 else "lines",
        name=_metric_label(view),
        line={"color": theme.ACCENT, "width": 2},
        marker={"size": 5, "color": theme.ACCENT},
        hovertemplate="%{x}<br><b>%{y:,.2f}</b><extra></extra>",
        connectgaps=False,
    )


def anomaly_positions(series: list[dict], anomalies: list[dict]) -> list[int]:
    """Where each anomaly sits in the series (sorted by time: a binary search)."""
    positions = []
    for anomaly in anomalies:
        index = bisect_left(series, anomaly["t"], key=lambda point: point["t"])
        if index < len(series) and series[index]["t"] == anomaly["t"]:
            positions.append(index)
    return positions


def gap_connector_trace(view: dict, max_points: int) -> dict | None:
    """A faint dotted line across empty buckets, so a sparse series still reads as
    one line while the solid line shows only where data exists."""
    series = view.get("series") or []
    present = [p for p in series if p["value"] is not None]
    if len(present) == len(series) or len(present) < 2:
        return None
    step = max(1, -(-len(present) // max_points))
    points = present[::step]
    return scatter(
        x=[plot_time(p["t"]) for p in points],
        y=[p["value"] for p in points],
        mode="lines",
        name="No data between points",
        line={"color": theme.BAND_EDGE, "width": 1, "dash": "dot"},
        hoverinfo="skip",
    )


def _rolling_points(view: dict, max_points: int) -> list[dict]:
    """Rolling points, thinned to the display budget (a smooth line needs few)."""
    rolling = view.get("rolling") or []
    if len(rolling) <= max_points:
        return rolling
    step = -(-len(rolling) // max_points)
    thinned = rolling[::step]
    return thinned if thinned[-1] is rolling[-1] else [*thinned, rolling[-1]]


def band_k(view: dict) -> float:
    """How many rolling standard deviations the expected band spans.

    For the rolling z-score the band is the detector's own limit; otherwise a
    conventional ±2σ shows what "usual" looks like.
    """
    params = view.get("params") or {}
    threshold = params.get("threshold")
    if params.get("method") == "rolling_zscore" and isinstance(threshold, int | float):
        return float(threshold)
    return DEFAULT_BAND_K


def rolling_traces(view: dict, max_points: int) -> list:
    """The rolling mean line and its ±k·std band (lower edge, then filled upper)."""
    # A smooth line needs fewer points than the jagged series.
    points = _rolling_points(view, max(2, max_points // 2))
    if not points:
        return []
    k = band_k(view)
    x = [plot_time(p["t"]) for p in points]
    mean = [p["mean"] for p in points]
    lower, upper = [], []
    for p in points:
        has_band = p["mean"] is not None and p["std"] is not None
        lower.append(p["mean"] - k * p["std"] if has_band else None)
        upper.append(p["mean"] + k * p["std"] if has_band else None)
    window = (view.get("params") or {}).get("window")
    band_name = f"Expected range ±{k:g}σ"
    common = {"x": x, "mode": "lines", "hoverinfo": "skip", "connectgaps": False}
    edge = {"color": theme.BAND_EDGE, "width": 0.75}
    return [
        scatter(y=lower, line=edge, showlegend=False, name=band_name, **common),
        scatter(
            y=upper,
            line=edge,
            fill="tonexty",
            fillcolor=theme.BAND,
            name=band_name,
            **common,
        ),
        scatter(
            y=mean,
            name=f"Rolling mean ({window})" if window else "Rolling mean",
            line={"color": theme.ROLLING, "width": 1.5, "dash": "dot"},
            **common,
        ),
    ]


def anomaly_hovertext(anomaly: dict, unit: str | None) -> str:
    """Hover text: severity, value vs expected, and the explanation."""
    style = theme.severity_style(anomaly.get("severity", "low"))
    return (
        f"<b>{style.label} {anomaly.get('direction', 'anomaly')}</b><br>"
        f"{format_number(anomaly.get('value'), unit)} vs expected "
        f"{format_number(anomaly.get('expected'), unit)} "
        f"({format_percent(anomaly.get('deviation_pct'))})<br>"
        f"{_wrap(anomaly.get('explanation') or '')}"
    )


def _wrap(text: str, width: int = 60) -> str:
    """Break long hover text into lines (hover labels do not wrap by themselves)."""
    lines, current = [], ""
    for word in text.split():
        if current and len(current) + len(word) + 1 > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return "<br>".join([*lines, current]) if current else "<br>".join(lines)


def anomaly_traces(view: dict) -> list[dict]:
    """One marker trace per severity present: colour and shape both encode it."""
    unit = _unit(view)
    traces = []
    for style in theme.SEVERITIES:
        group = [
            a for a in view.get("anomalies") or [] if a.get("severity") == style.name
        ]
        if not group:
            continue
        traces.append(
            scatter(
                x=[plot_time(a["t"]) for a in group],
                y=[a["value"] for a in group],
                mode="markers",
                name=f"{style.label} anomaly",
                marker={
                    "symbol": style.symbol,
                    "size": style.size,
                    "color": style.colour,
                    "line": {"color": "#ffffff", "width": 1.5},
                },
                customdata=[a["t"] for a in group],
                hovertext=[anomaly_hovertext(a, unit) for a in group],
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    return traces


def level_step_trace(view: dict) -> dict | None:
    """Level shifts as a step: the median level before each shift, then after it."""
    shifts = sorted(
        (e for e in view.get("episodes") or [] if e.get("kind") == "level_shift"),
        key=lambda episode: episode["start"],
    )
    series = view.get("series") or []
    if not shifts or not series:
        return None
    x, y = [plot_time(series[0]["t"])], [shifts[0]["before"]]
    for shift in shifts:
        x += [plot_time(shift["start"]), plot_time(shift["start"])]
        y += [y[-1], shift["after"]]
    x.append(plot_time(series[-1]["t"]))
    y.append(shifts[-1]["after"])
    return scatter(
        x=x,
        y=y,
        mode="lines",
        name="Level (shifts)",
        line={"color": theme.INK, "width": 2, "dash": "dash", "shape": "hv"},
        hoverinfo="skip",
    )


def episode_shapes(view: dict) -> list[dict]:
    """A shaded band over each episode that spans more than one point."""
    return [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "x0": plot_time(episode["start"]),
            "x1": plot_time(episode["end"]),
            "y0": 0,
            "y1": 1,
            "fillcolor": theme.severity_style(episode["severity"]).colour,
            "opacity": 0.12,
            "line": {"width": 0},
            "layer": "below",
        }
        for episode in view.get("episodes") or []
        if episode.get("points", 1) > 1 and episode["end"] != episode["start"]
    ]


def highlight_trace(view: dict, selected_t: str | None) -> dict:
    """A ring around the selected anomaly (empty when nothing is selected).

    It is always the first trace, so a selection can move it with a small Patch.
    """
    match = [a for a in view.get("anomalies") or [] if a["t"] == selected_t]
    return scatter(
        x=[plot_time(match[0]["t"])] if match else [],
        y=[match[0]["value"]] if match else [],
        mode="markers",
        name=HIGHLIGHT_NAME,
        showlegend=False,
        hoverinfo="skip",
        marker={
            "symbol": "circle-open",
            "size": 26,
            "color": theme.INK,
            "line": {"width": 2.5},
        },
    )


def timeseries_figure(
    view: dict, selected_t: str | None = None, max_points: int | None = None
) -> go.Figure:
    """Series, rolling mean with band, anomaly markers, range slider and zoom."""
    return as_figure(timeseries_spec(view, selected_t, max_points))


def timeseries_spec(
    view: dict, selected_t: str | None = None, max_points: int | None = None
) -> dict:
    """`timeseries_figure` as plain data (cheaper to send from a callback)."""
    max_points = max_points or DISPLAY_MAX_POINTS
    traces = [
        highlight_trace(view, selected_t),
        *rolling_traces(view, max_points),
        *filter(None, [gap_connector_trace(view, max_points)]),
        series_trace(view, max_points),
        *filter(None, [level_step_trace(view)]),
        *anomaly_traces(view),
    ]
    layout = {
        "height": 420,
        "shapes": episode_shapes(view),
        "hovermode": "closest",
        "uirevision": _ui_revision(view),
        # Below the range slider: the legend never fights the zoom buttons.
        "legend": {
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "orientation": "h",
        },
        "margin": {"l": 8, "r": 8, "t": 40, "b": 8},
        "yaxis": {"title": {"text": _metric_label(view)}, **axis_affixes(_unit(view))},
        "xaxis": {
            "type": "date",
            "rangeslider": {"visible": True, "thickness": 0.08},
            "rangeselector": _range_buttons(),
        },
    }
    return figure_spec(traces, layout)


def _ui_revision(view: dict) -> str:
    """Keep the user's zoom while only the detection method changes."""
    params = view.get("params") or {}
    dataset = view.get("dataset") or {}
    return f"{dataset.get('id')}:{params.get('metric')}:{params.get('granularity')}"


def _range_buttons() -> dict:
    """Quick zoom buttons above the chart."""
    buttons = [
        {"count": 7, "label": "7d", "step": "day", "stepmode": "backward"},
        {"count": 1, "label": "1m", "step": "month", "stepmode": "backward"},
        {"count": 3, "label": "3m", "step": "month", "stepmode": "backward"},
        {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
        {"step": "all", "label": "All"},
    ]
    return {
        "buttons": buttons,
        "bgcolor": "#f3f4f6",
        "activecolor": "#dbeafe",
        "font": {"size": 11},
        "x": 0,
        "y": 1.0,
        "yanchor": "bottom",
    }


def threshold_lines(view: dict) -> list[dict]:
    """Vertical reference lines: z-score thresholds and IQR fences, where known."""
    thresholds = view.get("thresholds") or {}
    styles = {
        "zscore": ("z-score limit", theme.ZSCORE_LINE, "dash"),
        "iqr": ("IQR fence", theme.IQR_LINE, "dot"),
    }
    lines = []
    for key, (label, colour, dash) in styles.items():
        pair = thresholds.get(key)
        if not pair:
            continue
        for position, value in zip(("low", "high"), pair, strict=True):
            if value is not None:
                lines.append(
                    {
                        "x": value,
                        "label": label,
                        "colour": colour,
                        "dash": dash,
                        "side": position,
                    }
                )
    return lines


def histogram_figure(view: dict) -> go.Figure:
    """The distribution as pre-binned bars, with thresholds and fences drawn."""
    return as_figure(histogram_spec(view))


def histogram_spec(view: dict) -> dict:
    """`histogram_figure` as plain data."""
    histogram = view.get("histogram") or {}
    edges = histogram.get("edges") or []
    unit = _unit(view)
    periods = _period_word(view)
    pairs = list(itertools.pairwise(edges))
    bars = {
        "type": "bar",
        "x": [(a + b) / 2 for a, b in pairs],
        "y": histogram.get("counts") or [],
        "width": [b - a for a, b in pairs],
        "name": periods,
        "showlegend": False,
        "marker": {
            "color": "rgba(37, 99, 235, 0.55)",
            "line": {"color": theme.ACCENT, "width": 1},
        },
        "customdata": [
            f"{format_number(a, unit)} – {format_number(b, unit)}" for a, b in pairs
        ],
        "hovertemplate": f"%{{customdata}}<br>%{{y}} {periods.lower()}<extra></extra>",
    }
    shapes, legend_traces = threshold_shapes(view)
    layout = {
        "height": 300,
        "shapes": shapes,
        "xaxis": {"title": {"text": _metric_label(view)}, **axis_affixes(unit)},
        "yaxis": {"title": {"text": periods}},
    }
    return figure_spec([bars, *legend_traces], layout)


def threshold_shapes(view: dict) -> tuple[list[dict], list[dict]]:
    """Vertical lines for thresholds/fences, and one legend entry per kind."""
    shapes, legend, named = [], [], set()
    for line in threshold_lines(view):
        style = {"color": line["colour"], "dash": line["dash"], "width": 1.5}
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "y domain",
                "x0": line["x"],
                "x1": line["x"],
                "y0": 0,
                "y1": 1,
                "line": style,
            }
        )
        if line["label"] not in named:
            named.add(line["label"])
            # Shapes have no legend entry: an empty trace carries the name.
            legend.append(
                scatter(
                    x=[None],
                    y=[None],
                    mode="lines",
                    line=style,
                    name=line["label"] + "s",
                )
            )
    return shapes, legend


def box_figure(view: dict) -> go.Figure:
    """A horizontal box plot from the precomputed quartiles, with outlier points."""
    return as_figure(box_spec(view))


def box_spec(view: dict) -> dict:
    """`box_figure` as plain data."""
    box = view.get("box") or {}
    label = _metric_label(view)
    traces = []
    if box.get("median") is not None:
        mean = _summary_mean(view)
        traces.append(
            {
                "type": "box",
                "y": [label],
                "q1": [box["q1"]],
                "median": [box["median"]],
                "q3": [box["q3"]],
                "lowerfence": [box["lower_whisker"]],
                "upperfence": [box["upper_whisker"]],
                "mean": [mean],
                "boxmean": mean is not None,
                "orientation": "h",
                "name": label,
                "boxpoints": False,
                "fillcolor": "rgba(37, 99, 235, 0.15)",
                "line": {"color": theme.ACCENT},
                "hoverinfo": "x",
            }
        )
    outliers = box.get("outliers") or []
    if outliers:
        traces.append(
            scatter(
                x=outliers,
                y=[label] * len(outliers),
                mode="markers",
                name="Outliers",
                marker={
                    "symbol": "circle-open",
                    "size": 10,
                    "color": "#dc2626",
                    "line": {"width": 2},
                },
                hovertemplate="Outlier %{x:,.2f}<extra></extra>",
            )
        )
    layout = {
        "height": 300,
        "showlegend": False,
        "xaxis": {"title": {"text": label}, **axis_affixes(_unit(view))},
        "yaxis": {"showticklabels": False},
    }
    return figure_spec(traces, layout)


def _summary_mean(view: dict) -> float | None:
    """The mean from the summary (drawn as a dashed line inside the box)."""
    return (view.get("summary") or {}).get("mean")


def empty_figure(message: str, height: int = 300) -> go.Figure:
    """A blank chart that says why it is blank."""
    return as_figure(empty_spec(message, height))


def empty_spec(message: str, height: int = 300) -> dict:
    """`empty_figure` as plain data."""
    note = {
        "text": message,
        "showarrow": False,
        "font": {"color": theme.MUTED, "size": 13},
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
    }
    layout = {
        "height": height,
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "annotations": [note],
    }
    return figure_spec([], layout)


# ------------------------------------------------- text alternatives (a11y)

SUMMARY_ANOMALIES = 10
# Words for the chart's title, from the parameter spec's short labels.
GRANULARITY_WORDS = {o.value: o.short_label for o in spec.GRANULARITY.options}
AGGREGATION_WORDS = {o.value: o.short_label for o in spec.AGGREGATION.options}
DIRECTION_WORDS = {"spike": "above", "drop": "below"}


def plotted_quantity(view: dict) -> str:
    """What one point of the series is: 'Daily sum of revenue'."""
    params = view.get("params") or {}
    granularity = params.get("granularity") or ""
    aggregation = params.get("aggregation") or ""
    return (
        f"{GRANULARITY_WORDS.get(granularity, granularity or 'Periodic')} "
        f"{AGGREGATION_WORDS.get(aggregation, aggregation or 'value')} of "
        f"{_metric_label(view)}"
    )


def _filters_text(view: dict) -> str:
    """' (region: North, South)' for the active filters, else ''."""
    filters = (view.get("params") or {}).get("filters") or {}
    parts = [
        f"{name}: {', '.join(map(str, values))}" for name, values in filters.items()
    ]
    return f" ({'; '.join(parts)})" if parts else ""


def chart_summaries(view: dict) -> dict[str, str]:
    """What each chart shows, in sentences, for people who cannot see it (read
    by screen readers from each chart's caption): what is plotted, its range and
    the anomalies."""
    return {
        "timeseries": timeseries_summary(view),
        "histogram": histogram_summary(view),
        "box": box_summary(view),
    }


def timeseries_summary(view: dict) -> str:
    """What is plotted, the time and value range, the rolling band and each
    anomaly with its date, value, expected value and severity."""
    series = view.get("series") or []
    title = f"Line chart of the {plotted_quantity(view).lower()}{_filters_text(view)}"
    if not series:
        return f"{title}: no data points."
    return " ".join(
        [
            f"{title}: {_range_text(view)}",
            _band_text(view),
            _anomalies_text(view),
        ]
    ).strip()


def _range_text(view: dict) -> str:
    """'31 points from 2024-01-01 to 2024-01-31, values from 8 to 89 (2 empty).'"""
    series, unit = view["series"], _unit(view)
    granularity = (view.get("params") or {}).get("granularity") or "day"
    values = [p["value"] for p in series if p["value"] is not None]
    first = format_timestamp(series[0]["t"], granularity)
    last = format_timestamp(series[-1]["t"], granularity)
    text = f"{len(series):,} points from {first} to {last}"
    if values:
        low, high = format_number(min(values), unit), format_number(max(values), unit)
        text += f", values from {low} to {high}"
    missing = len(series) - len(values)
    return text + (f" ({missing:,} without data)." if missing else ".")


def _band_text(view: dict) -> str:
    """The rolling mean and its expected-range band, when drawn."""
    if not view.get("rolling"):
        return ""
    window = (view.get("params") or {}).get("window")
    return (
        f"A dotted line shows the rolling mean of {window} points and a shaded "
        f"band the expected range (±{band_k(view):g}σ)."
    )


def _anomalies_text(view: dict) -> str:
    """Every anomaly (up to SUMMARY_ANOMALIES, then a count) in words."""
    anomalies = view.get("anomalies") or []
    if not anomalies:
        return "No anomalies."
    unit = _unit(view)
    granularity = (view.get("params") or {}).get("granularity") or "day"
    listed = [
        _anomaly_text(anomaly, unit, granularity)
        for anomaly in anomalies[:SUMMARY_ANOMALIES]
    ]
    more = len(anomalies) - len(listed)
    tail = f"; and {more:,} more, all listed in the Anomalies table" if more else ""
    count = "1 anomaly" if len(anomalies) == 1 else f"{len(anomalies):,} anomalies"
    return f"{count}: {'; '.join(listed)}{tail}."


def _anomaly_text(anomaly: dict, unit: str | None, granularity: str) -> str:
    """'2024-01-03: ₹89,000, above the expected ₹24,500 (critical)'."""
    text = (
        f"{format_timestamp(anomaly['t'], granularity)}: "
        f"{format_number(anomaly.get('value'), unit)}"
    )
    if anomaly.get("expected") is not None:
        side = DIRECTION_WORDS.get(anomaly.get("direction") or "", "against")
        text += f", {side} the expected {format_number(anomaly['expected'], unit)}"
    return f"{text} ({anomaly.get('severity')})"


def histogram_summary(view: dict) -> str:
    """What is counted, the range of values, the fullest bin and the limits."""
    summary, unit = view.get("summary") or {}, _unit(view)
    text = (
        f"Histogram of the {plotted_quantity(view).lower()}: "
        f"{format_count(summary.get('count'))} values from "
        f"{format_number(summary.get('min'), unit)} to "
        f"{format_number(summary.get('max'), unit)}."
    )
    histogram = view.get("histogram") or {}
    counts, edges = histogram.get("counts") or [], histogram.get("edges") or []
    if counts and len(edges) == len(counts) + 1:
        top = int(np.argmax(counts))
        text += (
            f" The most frequent range is {format_number(edges[top], unit)} to "
            f"{format_number(edges[top + 1], unit)} ({counts[top]:,} "
            f"{_period_word(view).lower()})."
        )
    limits = [
        f"{line['label']} ({line['side']}) at {format_number(line['x'], unit)}"
        for line in threshold_lines(view)
    ]
    return text + (f" Limits: {'; '.join(limits)}." if limits else "")


def box_summary(view: dict) -> str:
    """Median, quartiles, range and the outliers, as a box plot shows them."""
    summary, unit = view.get("summary") or {}, _unit(view)
    text = (
        f"Box plot of the {plotted_quantity(view).lower()}: median "
        f"{format_number(summary.get('median'), unit)}, middle half from "
        f"{format_number(summary.get('q1'), unit)} to "
        f"{format_number(summary.get('q3'), unit)}, range "
        f"{format_number(summary.get('min'), unit)} to "
        f"{format_number(summary.get('max'), unit)}."
    )
    outliers = sorted((view.get("box") or {}).get("outliers") or [])
    if not outliers:
        return text + " No outliers beyond the whiskers."
    shown = ", ".join(format_number(v, unit) for v in outliers[:SUMMARY_ANOMALIES])
    more = len(outliers) - min(len(outliers), SUMMARY_ANOMALIES)
    named = "1 outlier" if len(outliers) == 1 else f"{len(outliers):,} outliers"
    return (
        text
        + f" {named} beyond the whiskers: {shown}"
        + (f" and {more:,} more." if more else ".")
    )


def metric_unit(view: dict) -> str | None:
    """The unit of the view's metric (for documents outside the page: reports)."""
    return _unit(view)
