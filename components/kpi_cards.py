"""KPI cards: value with its format, change with arrow and colour, sparkline,
anomaly badge, and "≈" with the error on hover for sketch-based values."""

from __future__ import annotations

from dash import dcc, html

from components.formatting import format_count, format_number, format_percent
from components.kpi_figures import sparkline_spec
from components.widgets import aria

MISSING = "–"


def format_value(value, measure: dict) -> str:
    """A measure's value in its format (percent for ratios, currency with the
    column's unit, whole numbers for counts)."""
    if value is None:
        return MISSING
    kind = measure.get("format")
    if kind == "percent":
        return format_percent(100 * value, signed=False)
    if kind == "integer":
        return format_count(round(value))
    if kind == "currency":
        return format_number(value, measure.get("unit") or "", decimals=0)
    return format_number(value)


def change_text(measure: dict) -> tuple[str, str, str]:
    """(arrow, words, colour class): green when the move is good for this measure."""
    absolute, percent = measure.get("change"), measure.get("changePct")
    if absolute is None:
        return "", "no comparison", "text-muted"
    if absolute == 0:
        return "→", "no change", "text-muted"
    up = absolute > 0
    good = up == measure.get("higherIsBetter", True)
    arrow = "▲" if up else "▼"
    if measure.get("format") == "percent":
        words = f"{100 * absolute:+.1f} pts"
    else:
        words = format_percent(percent) if percent is not None else "new"
    return arrow, words, "ib-good" if good else "ib-bad"


def anomaly_badge(measure: dict):
    """A badge when the detectors flag buckets of this series."""
    found = measure.get("anomalies") or []
    if not found:
        return None
    dates = ", ".join(a["t"][:10] for a in found[:5])
    return html.Span(
        f"{len(found)} unusual",
        className="badge ib-anomaly-badge",
        title=f"Flagged by the modified z-score (≥ 3.5): {dates}",
    )


def kpi_card(measure: dict, previous_label: str) -> html.Div:
    """One KPI card."""
    value = format_value(measure["value"], measure)
    approximate = measure.get("approximate")
    error = measure.get("relativeError") or 0
    arrow, words, colour = change_text(measure)
    shown = f"≈{value}" if approximate else value
    hover = (
        f"Approximate (HLL sketch): ±{100 * error:.1f}% at 95%"
        if approximate
        else value
    )
    comparison = format_value(measure.get("comparisonValue"), measure)
    return html.Div(
        [
            html.Div(
                [
                    html.Span(measure["label"], className="ib-kpi-label"),
                    anomaly_badge(measure),
                ],
                className="d-flex justify-content-between gap-2",
            ),
            html.Div(shown, className="ib-kpi-value", title=hover),
            html.Div(
                [
                    html.Span(f"{arrow} {words}".strip(), className=colour),
                    html.Span(
                        f" vs {comparison} {previous_label}" if previous_label else "",
                        className="text-muted",
                    ),
                ],
                className="small",
            ),
            dcc.Graph(
                figure=sparkline_spec(measure),
                config={"displayModeBar": False, "staticPlot": True},
                style={"height": "48px"},
            ),
        ],
        className="ib-kpi ib-kpi-card",
        role="group",
        **aria(label=f"{measure['label']}: {shown}, {words}"),
    )


def breakdown_table(breakdown: dict, measures: list[dict]):
    """The breakdown rows as a table (values in each measure's format)."""
    by_name = {m["name"]: m for m in measures}
    names = [n for n in breakdown["measures"] if n in by_name]
    rows = breakdown["rows"] + ([breakdown["other"]] if breakdown.get("other") else [])
    head = html.Thead(
        html.Tr(
            [
                html.Th(breakdown["dimension"].replace("_", " ")),
                *(html.Th(by_name[n]["label"], className="text-end") for n in names),
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(_row_label(row, breakdown)),
                    *(
                        html.Td(
                            format_value(row["measures"].get(n), by_name[n]),
                            className="text-end",
                        )
                        for n in names
                    ),
                ]
            )
            for row in rows
        ]
    )
    return html.Table([head, body], className="table table-sm ib-breakdown-table")


def _row_label(row: dict, breakdown: dict) -> str:
    if row is breakdown.get("other"):
        return f"Other ({row['values']} values)"
    return row["value"] if row["value"] != "" else "(empty)"
