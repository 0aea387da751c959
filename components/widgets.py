"""Small layout pieces shared by the pages: cards, labels, badges, KPIs, alerts."""

from __future__ import annotations

import re
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from components import theme
from components.formatting import format_count, format_number

STATUS_STYLES = {
    "uploaded": ("secondary", "Queued", "hourglass-split"),
    "processing": ("info", "Processing", "arrow-repeat"),
    "processed": ("success", "Ready", "check-circle-fill"),
    "cached": ("success", "Ready", "check-circle-fill"),
    "failed": ("danger", "Failed", "exclamation-octagon-fill"),
}


def aria(**attributes: str) -> dict[str, Any]:
    """ARIA attributes as component keywords: aria(label="x") -> {"aria-label": "x"}."""
    return {f"aria-{name}": value for name, value in attributes.items()}


def icon(name: str, class_name: str = "me-1") -> html.I:
    """A Bootstrap icon, hidden from screen readers (the text next to it speaks)."""
    return html.I(className=f"bi bi-{name} {class_name}", **aria(hidden="true"))


def card(children, class_name: str = "", body_class: str = "") -> dbc.Card:
    """The standard surface: white, rounded, a soft shadow, no border."""
    return dbc.Card(
        dbc.CardBody(children, class_name=body_class),
        class_name=f"border-0 shadow-sm ib-card {class_name}".strip(),
    )


def labelled(
    label: str,
    component_id: str,
    control,
    help_text: str | None = None,
    width: dict | None = None,
) -> dbc.Col:
    """A control with its visible label (and optional hint) in a responsive column."""
    sizes = width or {"md": 4, "xl": 2}
    hint = html.Div(help_text, className="form-text mt-0 small") if help_text else None
    return dbc.Col(
        [
            dbc.Label(
                label, html_for=component_id, class_name="small fw-semibold mb-1"
            ),
            control,
            hint,
        ],
        **sizes,
    )


def checklist_field(
    legend: str,
    component_id,
    value: list | None = None,
    empty_text: str = "",
    options: list[dict] | None = None,
) -> html.Fieldset:
    """A multiple choice as a fieldset of labelled checkboxes in a scroll box.

    Dash 4's multi-select dropdown hides its focus target from screen readers,
    drops the field's label and nests checkboxes in its options (axe-core flags
    all three); native checkboxes need no repair and Space toggles them.
    """
    return html.Fieldset(
        [
            html.Legend(legend, className="form-label small fw-semibold mb-1"),
            dbc.Checklist(
                id=component_id,
                # The chosen values are options from the start (the rest arrive
                # with the data), unless the options are known already.
                options=options
                if options is not None
                else [{"label": v, "value": v} for v in value or []],
                value=value or [],
                class_name="ib-checklist",
            ),
            html.Div(empty_text, className="ib-checklist-empty small text-muted"),
        ],
        className="ib-checklist-field",
    )


def with_field_label(message: str, api_name: str, label: str) -> str:
    """A service message that starts with an API field's name, for a form: the
    field's label in its place ("minEntities must be ..." -> "k must be ...")."""
    if not message.startswith(api_name):
        return message
    return label + message[len(api_name) :]


def progress_bar(percent: int, name: str, height: str = "1rem") -> html.Div:
    """An animated Bootstrap progress bar with an accessible name (dbc.Progress
    cannot carry one); `percent` is 0–100."""
    return html.Div(
        html.Div(
            f"{percent}%",
            className="progress-bar progress-bar-striped progress-bar-animated",
            # A sliver even at 0 % shows that work has started.
            style={"width": f"{max(percent, 3)}%"},
        ),
        className="progress",
        role="progressbar",
        style={"height": height},
        **aria(label=name, valuenow=str(percent), valuemin="0", valuemax="100"),
    )


def status_style(status: str | None) -> tuple[str, str, str]:
    """(colour, word, icon) of a status badge; 'Ready' for processed and cached."""
    return STATUS_STYLES.get(status or "", ("secondary", status or "", "dot"))


def status_badge(status: str | None, class_name: str = "") -> html.Span | None:
    """A status pill with an icon (so the state is not told by colour alone);
    `text-bg-*` picks a text colour that contrasts with the pill (white on info
    cyan would be 2:1), as the datasets grid's badge does."""
    if status is None:
        return None
    colour, label, icon_name = status_style(status)
    return html.Span(
        [icon(icon_name), label],
        className=f"badge rounded-pill text-bg-{colour} ib-status fw-medium "
        f"{class_name}".strip(),
    )


def severity_badge(severity: str) -> html.Span:
    """A severity label with its marker shape and colour (same as on the chart)."""
    style = theme.severity_style(severity)
    return html.Span(
        [icon(style.icon), style.label],
        className=f"ib-severity ib-severity-{style.name}",
    )


def kpi_card(label: str, value: str, hint: str | None = None, accent: bool = False):
    """One number with its label; `title` carries the exact value on hover."""
    return html.Div(
        [
            html.Div(label, className="ib-kpi-label"),
            html.Div(value, className="ib-kpi-value"),
            html.Div(hint, className="ib-kpi-hint") if hint else None,
        ],
        className="ib-kpi" + (" ib-kpi-accent" if accent else ""),
        role="group",
        **aria(label=f"{label}: {value}"),
    )


def kpi_cards(summary: dict, anomalies: list[dict], unit: str | None) -> list:
    """The summary as KPI cards, anomalies first (the reason people come)."""
    by_severity = [
        f"{sum(a.get('severity') == s.name for a in anomalies)} {s.name}"
        for s in reversed(theme.SEVERITIES)
        if any(a.get("severity") == s.name for a in anomalies)
    ]
    return [
        kpi_card(
            "Anomalies",
            format_count(len(anomalies)),
            " · ".join(by_severity) or "none found",
            accent=True,
        ),
        kpi_card("Mean", format_number(summary.get("mean"), unit)),
        kpi_card("Median", format_number(summary.get("median"), unit)),
        kpi_card("Std. deviation", format_number(summary.get("std_pop"), unit)),
        kpi_card("Minimum", format_number(summary.get("min"), unit)),
        kpi_card("Maximum", format_number(summary.get("max"), unit)),
        kpi_card(
            "Data points",
            format_count(summary.get("count")),
            f"{format_count(summary.get('missing'))} missing"
            if summary.get("missing")
            else None,
        ),
    ]


def empty_state(
    icon_name: str, title: str, text: str, *actions, spacing: str = "py-5"
) -> html.Div:
    """A friendly empty or error state with a clear next step."""
    return html.Div(
        [
            html.Div(icon(icon_name, ""), className="ib-empty-icon"),
            html.H2(title, className="h4 mt-3"),
            html.P(text, className="text-muted mb-4 mx-auto ib-empty-text"),
            html.Div(list(actions), className="d-flex gap-2 justify-content-center"),
        ],
        className=f"ib-empty text-center {spacing}",
    )


def message_alert(title: str, text: str, colour: str = "warning", icon_name: str = ""):
    """A specific, friendly message with a title line."""
    return dbc.Alert(
        [
            html.Div(
                [icon(icon_name or "info-circle"), title], className="fw-semibold"
            ),
            html.Div(text, className="small"),
        ],
        color=colour,
        className="ib-message",
    )


VISIBLE_INSIGHTS = 5


def insight_list(insights: list[str], notes: list[str]) -> list:
    """The first insights, the rest and the method notes behind disclosures."""
    if not insights and not notes:
        return [html.P("Nothing notable in this selection.", className="text-muted")]
    parts: list = [_insight_items(insights[:VISIBLE_INSIGHTS])]
    rest = insights[VISIBLE_INSIGHTS:]
    if rest:
        parts.append(
            html.Details(
                [html.Summary(f"{len(rest)} more"), _insight_items(rest)],
                className="ib-more",
            )
        )
    if notes:
        parts.append(
            html.Details(
                [
                    html.Summary(f"Method notes ({len(notes)})"),
                    html.Ul(
                        [html.Li(keep_dates_whole(note)) for note in notes],
                        className="ib-notes",
                    ),
                ],
                className="ib-more small text-muted",
            )
        )
    return parts


# Dates and times in sentences ("2024-01-03", "2024-01-03 14:00", "2024-W05").
DATE_TOKEN = re.compile(r"\d{4}-\d{2}(?:-\d{2}(?:[ T]\d{2}:\d{2})?)?|\d{4}-W\d{2}")


def keep_dates_whole(text: str) -> list:
    """A sentence with each date in a no-wrap span, so a line never breaks inside
    one ("2024-" / "01-03")."""
    parts: list = []
    position = 0
    for match in DATE_TOKEN.finditer(text):
        if match.start() > position:
            parts.append(text[position : match.start()])
        parts.append(html.Span(match.group(0), className="text-nowrap"))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return parts


def _insight_items(insights: list[str]) -> html.Ul:
    """Sentences as a list with a small marker."""
    items = [
        html.Li([icon("stars", "me-2 text-primary"), html.Span(keep_dates_whole(text))])
        for text in insights
    ]
    return html.Ul(items, className="list-unstyled ib-insight-list mb-0")
