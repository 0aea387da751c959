"""The one visual language of every chart: fonts, colours and the severity palette."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE_NAME = "insightboard"
FONT_FAMILY = 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'

# Colours shared with assets/style.css (keep both in step).
INK = "#111827"
MUTED = "#6b7280"
GRID = "#e5e7eb"
ACCENT = "#2563eb"
ROLLING = "#475569"
BAND = "rgba(37, 99, 235, 0.10)"
# Legend marks need 3:1 against white (WCAG 1.4.11): the band's faint fill gets
# this edge, and the dotted line across empty buckets is drawn in it too.
BAND_EDGE = "#5b8def"
ZSCORE_LINE = "#7c3aed"
IQR_LINE = "#0f766e"
COLORWAY = [ACCENT, "#0f766e", "#d97706", "#7c3aed", "#db2777", "#475569"]


@dataclass(frozen=True)
class Severity:
    """How a severity level looks: a colour AND a marker shape (never colour alone)."""

    name: str
    label: str
    colour: str
    symbol: str
    size: int
    icon: str


# Ordered from mild to severe; colours pass 3:1 contrast against white.
SEVERITIES: tuple[Severity, ...] = (
    Severity("low", "Low", "#0e7490", "circle", 9, "bi-circle-fill"),
    Severity("medium", "Medium", "#b45309", "diamond", 11, "bi-diamond-fill"),
    Severity("high", "High", "#dc2626", "triangle-up", 13, "bi-triangle-fill"),
    Severity("critical", "Critical", "#86198f", "star", 16, "bi-star-fill"),
)
SEVERITY_BY_NAME = {severity.name: severity for severity in SEVERITIES}


def severity_style(name: str) -> Severity:
    """The style of a severity level; unknown names are drawn as the mildest level."""
    return SEVERITY_BY_NAME.get(name, SEVERITIES[0])


def _build_template() -> go.layout.Template:
    """A small template (the stock ones add ~10 kB of JSON to every figure)."""
    axis = {
        "gridcolor": GRID,
        "linecolor": GRID,
        "zerolinecolor": GRID,
        "tickfont": {"color": MUTED, "size": 11},
        "title": {"font": {"color": MUTED, "size": 12}},
        "automargin": True,
    }
    layout = go.Layout(
        font={"family": FONT_FAMILY, "color": INK, "size": 12},
        colorway=COLORWAY,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff",
        xaxis=axis,
        yaxis=axis,
        hoverlabel={"font": {"family": FONT_FAMILY, "size": 12}, "align": "left"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"l": 8, "r": 8, "t": 36, "b": 8},
        bargap=0.04,
    )
    return go.layout.Template(layout=layout)


def register_template() -> go.layout.Template:
    """Register the template with plotly.io once (idempotent) and return it."""
    if TEMPLATE_NAME not in pio.templates:
        pio.templates[TEMPLATE_NAME] = _build_template()
    return pio.templates[TEMPLATE_NAME]


TEMPLATE = register_template()
# The same template as plain data, for figures built without validation.
TEMPLATE_JSON = TEMPLATE.to_plotly_json()
