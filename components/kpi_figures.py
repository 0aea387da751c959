"""Pure figure builders for the KPI page: a KPI view (GET /api/kpi) in, specs out."""

from __future__ import annotations

from components import theme
from components.figures import figure_spec, plot_time, scatter

SPARK_HEIGHT = 48


def _axis_kind(measure: dict) -> str:
    """What a measure's numbers are: percent, currency, or plain counts/amounts."""
    kind = measure.get("format")
    return str(kind) if kind in ("percent", "currency") else "number"


def sparkline_spec(measure: dict) -> dict:
    """A tiny line of the measure's series (no axes)."""
    points = measure["series"]
    trace = scatter(
        x=[plot_time(p["t"]) for p in points],
        y=[p["value"] for p in points],
        mode="lines",
        line={"width": 2, "color": theme.ACCENT},
        hoverinfo="skip",
        fill="tozeroy",
        fillcolor=theme.BAND,
    )
    layout = {
        "height": SPARK_HEIGHT,
        "margin": {"l": 0, "r": 0, "t": 2, "b": 2},
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "showlegend": False,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    return figure_spec([trace], layout)


def trend_spec(view: dict) -> dict:
    """Every measure over time, the comparison dotted; a second axis when the
    measures' units differ (e.g. users and a bounce rate)."""
    kinds = list(dict.fromkeys(_axis_kind(m) for m in view["measures"]))
    traces = []
    for index, measure in enumerate(view["measures"]):
        axis = "y2" if len(kinds) > 1 and _axis_kind(measure) == kinds[-1] else "y"
        colour = theme.COLORWAY[index % len(theme.COLORWAY)]
        x = [plot_time(p["t"]) for p in measure["series"]]
        traces.append(
            scatter(
                x=x,
                y=[p["value"] for p in measure["series"]],
                name=measure["label"],
                mode="lines+markers",
                yaxis=axis,
                line={"color": colour, "width": 2},
            )
        )
        if measure.get("comparisonSeries"):
            traces.append(
                scatter(
                    x=x,
                    y=[p["value"] for p in measure["comparisonSeries"]],
                    name=f"{measure['label']} (comparison)",
                    mode="lines",
                    yaxis=axis,
                    line={"color": colour, "width": 1.5, "dash": "dot"},
                    customdata=[p["t"] for p in measure["comparisonSeries"]],
                    hovertemplate=(
                        "%{y}<br>compared: %{customdata}<extra>%{fullData.name}</extra>"
                    ),
                )
            )
    layout = {
        "height": 360,
        "margin": {"l": 56, "r": 56, "t": 16, "b": 40},
        "legend": {"orientation": "h", "y": -0.18},
        "yaxis": {"title": {"text": kinds[0]}, **_format_axis(kinds[0])},
        "hovermode": "x unified",
    }
    if len(kinds) > 1:
        layout["yaxis2"] = {
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "title": {"text": kinds[-1]},
            **_format_axis(kinds[-1]),
        }
    return figure_spec(traces, layout)


def _format_axis(kind: str) -> dict:
    return {"tickformat": ".0%"} if kind == "percent" else {}


def breakdown_spec(breakdown: dict, measure: dict) -> dict:
    """Horizontal bars of the first measure per value, `other` last."""
    rows = breakdown["rows"] + ([breakdown["other"]] if breakdown.get("other") else [])
    name = measure["name"]
    labels = [str(r["value"]) if r["value"] != "" else "(empty)" for r in rows]
    trace = {
        "type": "bar",
        "orientation": "h",
        "y": labels[::-1],
        "x": [r["measures"].get(name) for r in rows][::-1],
        "marker": {
            "color": [
                theme.MUTED if r is breakdown.get("other") else theme.ACCENT
                for r in rows
            ][::-1]
        },
        "name": measure["label"],
    }
    layout = {
        "height": max(200, 40 * len(rows) + 60),
        "margin": {"l": 120, "r": 24, "t": 8, "b": 32},
        "xaxis": {
            "title": {"text": measure["label"]},
            **_format_axis(_axis_kind(measure)),
        },
        "showlegend": False,
    }
    return figure_spec([trace], layout)
