"""The /alerts page: firing now, a new-rule form with its backtest, the rules and
their history. Builders only: the data come from callbacks/alerts.py."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components import theme
from components.figures import figure_spec, plot_time, scatter
from components.kpi_layout import COMMON_ZONES
from components.widgets import aria, card, empty_state, icon, labelled
from data.alerts.rules import (
    AGGREGATIONS,
    CONDITION_TYPES,
    GRANULARITIES,
    NO_DATA,
    SEVERITIES,
    WEEKDAYS,
)

PREFIX = "alerts"
CONDITION_LABELS = {
    "above": "Above a threshold",
    "below": "Below a threshold",
    "change_pct": "% change vs previous bucket",
    "anomaly": "Anomaly (detectors)",
}
NO_DATA_LABELS = {
    "keep": "Keep the state",
    "ok": "Count as OK",
    "alerting": "Count as breaching",
}
STATE_COLOURS = {
    "ok": "success",
    "pending": "warning",
    "firing": "danger",
    "recovering": "info",
    "nodata": "secondary",
    "error": "dark",
}


class ids:  # noqa: N801 - a namespace of component ids, read as ids.DATASET
    """Component ids of the alerts page."""

    PAGE = f"{PREFIX}-page"
    SUMMARY = f"{PREFIX}-summary"
    FIRING = f"{PREFIX}-firing"
    RULES = f"{PREFIX}-rules"
    HISTORY = f"{PREFIX}-history"
    REFRESH = f"{PREFIX}-refresh"
    NAME = f"{PREFIX}-name"
    DATASET = f"{PREFIX}-dataset"
    MEASURE = f"{PREFIX}-measure"
    AGGREGATION = f"{PREFIX}-aggregation"
    GRANULARITY = f"{PREFIX}-granularity"
    CONDITION = f"{PREFIX}-condition"
    THRESHOLD = f"{PREFIX}-threshold"
    RECOVERY = f"{PREFIX}-recovery"
    MIN_VOLUME = f"{PREFIX}-min-volume"
    SEVERITY = f"{PREFIX}-severity"
    FOR_BUCKETS = f"{PREFIX}-for-buckets"
    KEEP_FIRING = f"{PREFIX}-keep-firing"
    NO_DATA = f"{PREFIX}-no-data"
    REPEAT = f"{PREFIX}-repeat"
    EMAIL = f"{PREFIX}-email"
    WEBHOOK_URL = f"{PREFIX}-webhook-url"
    WEBHOOK_SECRET = f"{PREFIX}-webhook-secret"
    WEBHOOK_FORMAT = f"{PREFIX}-webhook-format"
    MUTE_DAYS = f"{PREFIX}-mute-days"
    MUTE_HOURS = f"{PREFIX}-mute-hours"
    MUTE_TZ = f"{PREFIX}-mute-tz"
    BACKTEST = f"{PREFIX}-backtest"
    SAVE = f"{PREFIX}-save"
    RESULT = f"{PREFIX}-result"
    CHART = f"{PREFIX}-chart"
    ACK = f"{PREFIX}-ack"  # pattern-matching: {"type": ACK, "rule": id}
    MUTE = f"{PREFIX}-mute"  # pattern-matching: {"type": MUTE, "rule": id}
    DELETE = f"{PREFIX}-delete"  # pattern-matching: {"type": DELETE, "rule": id}


def _options(values, labels: dict | None = None) -> list[dict]:
    return [
        {"label": (labels or {}).get(v, v.capitalize()), "value": v} for v in values
    ]


def _select(component_id: str, options: list[dict], value) -> dbc.Select:
    return dbc.Select(id=component_id, options=options, value=value, size="sm")


def _number(component_id: str, value=None, **extra) -> dbc.Input:
    return dbc.Input(id=component_id, type="number", value=value, size="sm", **extra)


def _text(component_id: str, value="", **extra) -> dbc.Input:
    return dbc.Input(id=component_id, type="text", value=value, size="sm", **extra)


def what_fields(datasets: list[dict]) -> dbc.Row:
    """Name, dataset, measure, aggregation, granularity."""
    first = datasets[0]["value"] if datasets else None
    return dbc.Row(
        [
            labelled("Name", ids.NAME, _text(ids.NAME, "Alert"), width={"md": 4}),
            labelled(
                "Dataset",
                ids.DATASET,
                _select(ids.DATASET, datasets, first),
                width={"md": 4},
            ),
            labelled(
                "Measure", ids.MEASURE, _select(ids.MEASURE, [], None), width={"md": 4}
            ),
            labelled(
                "Aggregation (metrics)",
                ids.AGGREGATION,
                _select(ids.AGGREGATION, _options(AGGREGATIONS), "sum"),
            ),
            labelled(
                "Granularity",
                ids.GRANULARITY,
                _select(ids.GRANULARITY, _options(GRANULARITIES), "day"),
            ),
        ],
        class_name="g-3 mb-2",
    )


def condition_fields() -> dbc.Row:
    """The condition and its parameters."""
    return dbc.Row(
        [
            labelled(
                "Condition",
                ids.CONDITION,
                _select(
                    ids.CONDITION, _options(CONDITION_TYPES, CONDITION_LABELS), "above"
                ),
                width={"md": 4, "xl": 3},
            ),
            labelled(
                "Threshold", ids.THRESHOLD, _number(ids.THRESHOLD), "For % change: in %"
            ),
            labelled(
                "Recovery (optional)",
                ids.RECOVERY,
                _number(ids.RECOVERY),
                "Firing ends past this",
            ),
            labelled(
                "Minimum volume", ids.MIN_VOLUME, _number(ids.MIN_VOLUME, 0, min=0)
            ),
            labelled(
                "Severity at least",
                ids.SEVERITY,
                _select(ids.SEVERITY, _options(SEVERITIES), "medium"),
                "Anomaly rules",
            ),
        ],
        class_name="g-3 mb-2",
    )


def timing_fields() -> dbc.Row:
    """Pending period, keep-firing, no-data policy, repeat interval."""
    return dbc.Row(
        [
            labelled(
                "Fire after (buckets)",
                ids.FOR_BUCKETS,
                _number(ids.FOR_BUCKETS, 1, min=1),
            ),
            labelled(
                "Keep firing for (buckets)",
                ids.KEEP_FIRING,
                _number(ids.KEEP_FIRING, 0, min=0),
            ),
            labelled(
                "No data",
                ids.NO_DATA,
                _select(ids.NO_DATA, _options(NO_DATA, NO_DATA_LABELS), "keep"),
            ),
            labelled(
                "Repeat every (minutes)",
                ids.REPEAT,
                _number(ids.REPEAT, 240, min=0),
                "0: never",
            ),
        ],
        class_name="g-3 mb-2",
    )


def channel_fields() -> dbc.Row:
    """E-mail recipients and one webhook."""
    formats = [{"label": "JSON", "value": "json"}, {"label": "Slack", "value": "slack"}]
    return dbc.Row(
        [
            labelled(
                "E-mail to (comma-separated)",
                ids.EMAIL,
                _text(ids.EMAIL),
                width={"md": 4},
            ),
            labelled(
                "Webhook URL", ids.WEBHOOK_URL, _text(ids.WEBHOOK_URL), width={"md": 3}
            ),
            labelled(
                "Webhook secret (whsec_…)",
                ids.WEBHOOK_SECRET,
                _text(ids.WEBHOOK_SECRET, autoComplete="off"),
                width={"md": 3},
            ),
            labelled(
                "Webhook body",
                ids.WEBHOOK_FORMAT,
                _select(ids.WEBHOOK_FORMAT, formats, "json"),
            ),
        ],
        class_name="g-3 mb-3",
    )


def mute_fields() -> dbc.Row:
    """One recurring mute timing: weekdays, local hours and the time zone."""
    days = html.Fieldset(
        [
            html.Legend("Mute on", className="form-label small fw-semibold mb-1"),
            dbc.Checklist(
                id=ids.MUTE_DAYS,
                options=[{"label": d.capitalize(), "value": d} for d in WEEKDAYS],
                value=list(WEEKDAYS),
                inline=True,
            ),
        ]
    )
    zones = [{"label": z, "value": z} for z in COMMON_ZONES]
    return dbc.Row(
        [
            dbc.Col(days, md=6),
            labelled("Mute hours (local, e.g. 22-6)", ids.MUTE_HOURS,
                     _text(ids.MUTE_HOURS), "Blank: never muted", width={"md": 3}),
            labelled("Time zone", ids.MUTE_TZ, _select(ids.MUTE_TZ, zones, "UTC"),
                     width={"md": 3}),
        ],
        class_name="g-3 mb-3",
    )  # fmt: skip


def rule_form(datasets: list[dict]) -> html.Section:
    """The new-rule form with Backtest and Save, and the backtest's answer."""
    buttons = html.Div(
        [
            dbc.Button(
                [icon("clock-history"), "Backtest"],
                id=ids.BACKTEST,
                color="secondary",
                class_name="me-2",
            ),
            dbc.Button([icon("bell"), "Save rule"], id=ids.SAVE, color="primary"),
        ],
        className="mb-3",
    )
    return html.Section(
        card(
            [
                html.H2("New rule", className="h5", id="alerts-form-title"),
                what_fields(datasets),
                condition_fields(),
                timing_fields(),
                channel_fields(),
                mute_fields(),
                buttons,
                html.Div(id=ids.RESULT, role="status", **aria(live="polite")),
                dcc.Graph(
                    id=ids.CHART,
                    style={"display": "none"},
                    config={"displaylogo": False, "displayModeBar": False},
                ),
            ]
        ),
        **aria(labelledby="alerts-form-title"),
        id="alerts-form",
        className="mb-4",
    )


def state_badge(state: str) -> dbc.Badge:
    """A rule's state as a coloured badge with its name in words."""
    return dbc.Badge(state, color=STATE_COLOURS.get(state, "secondary"))


def firing_list(rules: list[dict]) -> list:
    """The rules firing now, each with Acknowledge and Mute for an hour."""
    firing = [r for r in rules if r["state"] in ("firing", "recovering")]
    if not firing:
        return [html.P("Nothing is firing.", className="text-muted mb-0")]
    return [html.Ul([_firing_item(rule) for rule in firing], className="list-unstyled")]


def action_button(kind: str, rule: dict, text: str, label: str) -> html.Button:
    """A small button acting on one rule, named for screen readers with the rule
    (dbc.Button cannot carry aria-label)."""
    colour = "danger" if kind == ids.DELETE else "secondary"
    return html.Button(
        text,
        id={"type": kind, "rule": rule["id"]},
        type="button",
        className=f"btn btn-sm btn-outline-{colour} me-1",
        **aria(label=label),
    )


def _firing_item(rule: dict) -> html.Li:
    seen = " · acknowledged" if rule.get("acknowledgedAt") else ""
    muted = (
        f" · muted until {rule['silencedUntil']}" if rule.get("silencedUntil") else ""
    )
    return html.Li(
        [
            state_badge(rule["state"]),
            html.Span(
                f" {rule['name']}: {rule['measure']} since {rule['stateSince']}"
                f"{seen}{muted} ",
                className="me-2",
            ),
            action_button(ids.ACK, rule, "Acknowledge", f"Acknowledge {rule['name']}"),
            action_button(ids.MUTE, rule, "Mute 1 h", f"Mute 1 h: {rule['name']}"),
        ],
        className="mb-2",
    )


def condition_text(condition: dict) -> str:
    """A rule's condition in words."""
    kind = condition["type"]
    if kind == "anomaly":
        return f"anomaly ≥ {condition['severity']}"
    if kind == "change_pct":
        return f"change {condition['threshold']:+g}%"
    return f"{kind} {condition['threshold']:g}"


def rules_table(rules: list[dict]) -> object:
    """Every rule with its state and a delete button."""
    if not rules:
        return empty_state(
            "bell", "No rules yet", "Create one with the form above.", spacing="py-3"
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(t, scope="col")
                for t in ("Name", "Measure", "Condition", "State", "")
            ]
        )
    )
    body = html.Tbody([_rule_row(rule) for rule in rules])
    return dbc.Table([head, body], size="sm", hover=True, responsive=True)


def _rule_row(rule: dict) -> html.Tr:
    delete = action_button(ids.DELETE, rule, "Delete", f"Delete {rule['name']}")
    return html.Tr(
        [
            html.Td(rule["name"]),
            html.Td(f"{rule['measure']} ({rule['granularity']})"),
            html.Td(condition_text(rule["condition"])),
            html.Td(state_badge(rule["state"])),
            html.Td(delete),
        ]
    )


def history_table(changes: list[dict]) -> object:
    """The latest state changes across rules."""
    if not changes:
        return html.P("No state changes yet.", className="text-muted mb-0")
    head = html.Thead(
        html.Tr(
            [html.Th(t, scope="col") for t in ("Rule", "Bucket", "From", "To", "Value")]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(c["rule"]),
                html.Td(c["bucket"]),
                html.Td(c["from"]),
                html.Td(c["to"]),
                html.Td(_value(c["value"])),
            ]
        )
        for c in changes
    ]
    return dbc.Table([head, html.Tbody(rows)], size="sm", responsive=True)


def _value(value) -> str:
    return "" if value is None else f"{value:,.6g}"


def summary_text(rules: list[dict]) -> str:
    """ "3 rules, 1 firing now"."""
    firing = sum(r["state"] in ("firing", "recovering") for r in rules)
    noun = "rule" if len(rules) == 1 else "rules"
    return f"{len(rules)} {noun}, {firing} firing now"


def backtest_spec(result: dict) -> dict:
    """The series with each firing interval shaded."""
    series = result["series"]
    x = [plot_time(p["t"]) for p in series]
    trace = scatter(
        x=x,
        y=[p["value"] for p in series],
        mode="lines+markers",
        name="Value",
        line={"color": theme.COLORWAY[0], "width": 2},
    )
    last = x[-1] if x else None
    shapes = [
        {
            "type": "rect",
            "xref": "x",
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "x0": plot_time(f["start"]),
            "x1": plot_time(f["end"]) if f["end"] else last,
            "fillcolor": "rgba(220, 53, 69, 0.18)",
            "line": {"width": 0},
            "layer": "below",
        }
        for f in result["firings"]
    ]
    layout = {
        "height": 300,
        "margin": {"l": 56, "r": 16, "t": 16, "b": 40},
        "shapes": shapes,
        "showlegend": False,
    }
    return figure_spec([trace], layout)


def section(title: str, section_id: str, body_id: str, children) -> html.Section:
    """A titled card whose body a callback refreshes."""
    return html.Section(
        card(
            [
                html.H2(title, className="h5", id=section_id),
                html.Div(children, id=body_id),
            ]
        ),
        **aria(labelledby=section_id),
        className="mb-4",
    )


def alerts_page(datasets: list[dict], rules: list[dict], changes: list[dict]):
    """The whole page for a signed-in user."""
    return html.Div(
        [
            html.H1("Alerts", className="h3"),
            html.P(summary_text(rules), id=ids.SUMMARY, className="text-muted"),
            dcc.Store(id=ids.REFRESH, data=0),
            section(
                "Firing now", "alerts-firing-title", ids.FIRING, firing_list(rules)
            ),
            rule_form(datasets),
            section("Rules", "alerts-rules-title", ids.RULES, rules_table(rules)),
            section(
                "History", "alerts-history-title", ids.HISTORY, history_table(changes)
            ),
        ],
        id=ids.PAGE,
    )
