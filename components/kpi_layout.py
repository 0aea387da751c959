"""The KPI page's layout: header, controls, KPI cards, trend, breakdown."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.kpi_state import KEY_ORDER, PERIODS, KpiPageState
from components.live import live_socket, live_store, shown_revision
from components.reports_layout import report_button
from components.share_links import ids as share_ids
from components.share_links import share_dialog
from components.widgets import aria, card, empty_state, icon
from data.kpi.params import COMPARE_LABELS, SPEC, WEEKDAYS

PREFIX = "kpi"
COMMON_ZONES = (
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
GRANULARITY_LABELS = {
    "hour": "Hourly",
    "day": "Daily",
    "week": "Weekly",
    "month": "Monthly",
}


class ids:  # noqa: N801 - a namespace of component ids, read as ids.PERIOD
    """Component ids of the KPI page."""

    PAGE = f"{PREFIX}-page"
    URL = f"{PREFIX}-url"
    DATASET = f"{PREFIX}-dataset"
    LIVE = f"{PREFIX}-live"
    MEASURES = f"{PREFIX}-measures"
    PERIOD = f"{PREFIX}-period"
    DATES = f"{PREFIX}-dates"
    GRANULARITY = f"{PREFIX}-granularity"
    COMPARE = f"{PREFIX}-compare"
    HOURS_FROM = f"{PREFIX}-hours-from"
    HOURS_TO = f"{PREFIX}-hours-to"
    DAYS = f"{PREFIX}-days"
    TZ = f"{PREFIX}-tz"
    FILTER = f"{PREFIX}-filter"  # pattern-matching: {"type": FILTER, "dimension": d}
    BREAKDOWN = f"{PREFIX}-breakdown"
    TOP = f"{PREFIX}-top"
    NOTICES = f"{PREFIX}-notices"
    STATUS = f"{PREFIX}-status"
    CARDS = f"{PREFIX}-cards"
    SUBTITLE = f"{PREFIX}-subtitle"
    TREND = f"{PREFIX}-trend"
    BREAKDOWN_CARD = f"{PREFIX}-breakdown-card"
    BREAKDOWN_CHART = f"{PREFIX}-breakdown-chart"
    BREAKDOWN_TABLE = f"{PREFIX}-breakdown-table"
    COPY_LINK = f"{PREFIX}-copy-link"
    SHARE_URL = f"{PREFIX}-share-url"
    SHARE_TOAST = f"{PREFIX}-share-toast"


def _field(label: str, control, control_id: str, width: int = 3) -> dbc.Col:
    return dbc.Col(
        [dbc.Label(label, html_for=control_id, className="small mb-1"), control],
        xs=12,
        sm=6,
        lg=width,
    )


def _options(labels: dict) -> list[dict]:
    return [{"label": label, "value": value} for value, label in labels.items()]


def _hour_options(end: bool) -> list[dict]:
    hours = range(1, 25) if end else range(24)
    return [{"label": "any", "value": ""}] + [
        {"label": f"{h:02d}:00", "value": str(h)} for h in hours
    ]


def _select(component_id: str, options: list[dict], value, **extra) -> dbc.Select:
    return dbc.Select(id=component_id, options=options, value=value, size="sm", **extra)


def period_controls(
    meta: dict, state: KpiPageState, locked: frozenset[str] = frozenset()
) -> dbc.Row:
    """Period, dates, granularity, comparison and the breakdown (a shared view's
    locked ones are disabled)."""
    breakdown = [{"label": "None", "value": "none"}] + [
        {"label": _title(name), "value": name} for name in meta["dimensions"]
    ]
    top = SPEC["top"]
    return dbc.Row(
        [
            _field(
                "Period",
                _select(
                    ids.PERIOD,
                    _options(PERIODS),
                    state.period,
                    disabled="period" in locked,
                ),
                ids.PERIOD,
                2,
            ),
            _field(
                "Custom range",
                dcc.DatePickerRange(
                    id=ids.DATES,
                    disabled=bool({"from", "to", "period"} & locked),
                    display_format="YYYY-MM-DD",
                    first_day_of_week=1,
                    start_date=state.start.isoformat() if state.start else None,
                    end_date=state.end.isoformat() if state.end else None,
                    start_date_id=f"{ids.DATES}-start",
                    end_date_id=f"{ids.DATES}-end",
                    className="ib-kpi-dates",
                ),
                f"{ids.DATES}-start",
                3,
            ),
            _field(
                "Granularity",
                _select(
                    ids.GRANULARITY,
                    _options(GRANULARITY_LABELS),
                    state.granularity,
                    disabled=state.period != "custom" or "granularity" in locked,
                ),
                ids.GRANULARITY,
                2,
            ),
            _field(
                "Compare with",
                _select(
                    ids.COMPARE,
                    _options(COMPARE_LABELS),
                    state.compare,
                    disabled="compare" in locked,
                ),
                ids.COMPARE,
                2,
            ),
            _field(
                "Break down by",
                _select(
                    ids.BREAKDOWN,
                    breakdown,
                    state.breakdown or "none",
                    disabled="breakdown" in locked,
                ),
                ids.BREAKDOWN,
                2,
            ),
            _field(
                "Top",
                dbc.Input(
                    id=ids.TOP,
                    type="number",
                    min=top.low,
                    max=top.high,
                    step=1,
                    value=state.top,
                    size="sm",
                    disabled="top" in locked,
                ),
                ids.TOP,
                1,
            ),
        ],
        className="g-2",
    )


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def measure_control(
    meta: dict, state: KpiPageState, locked: frozenset[str] = frozenset()
) -> dbc.Row:
    """Which measures the cards and the chart show."""
    measures = [
        {"label": m.get("label") or m["name"], "value": m["name"]}
        for m in meta["measures"]
    ]
    return dbc.Row(
        _field(
            "Measures",
            dcc.Dropdown(
                id=ids.MEASURES,
                options=measures,
                multi=True,
                value=list(state.measures),
                placeholder="The first five",
                disabled="measures" in locked,
            ),
            ids.MEASURES,
            12,
        ),
        className="g-2 mt-1",
    )


def hours_controls(
    state: KpiPageState, locked: frozenset[str] = frozenset()
) -> dbc.Row:
    """Business hours: from/to local hour, weekdays and the time zone."""
    start, end = state.hours.split("-") if state.hours else ("", "")
    zones = list(dict.fromkeys([state.tz, *COMMON_ZONES]))
    days = _expand_days(state.days)
    return dbc.Row(
        [
            _field(
                "Hours from",
                _select(
                    ids.HOURS_FROM,
                    _hour_options(False),
                    start,
                    disabled="hours" in locked,
                ),
                ids.HOURS_FROM,
                2,
            ),
            _field(
                "Hours to",
                _select(
                    ids.HOURS_TO,
                    _hour_options(True),
                    end,
                    disabled="hours" in locked,
                ),
                ids.HOURS_TO,
                2,
            ),
            dbc.Col(
                [
                    html.Div(
                        "Weekdays", className="small mb-1", id=f"{ids.DAYS}-label"
                    ),
                    html.Div(
                        dbc.Checklist(
                            id=ids.DAYS,
                            inline=True,
                            value=days,
                            options=[
                                {
                                    "label": d.title(),
                                    "value": d,
                                    "disabled": "days" in locked,
                                }
                                for d in WEEKDAYS
                            ],
                        ),
                        role="group",
                        **aria(labelledby=f"{ids.DAYS}-label"),
                    ),
                ],
                xs=12,
                lg=5,
            ),
            _field(
                "Time zone",
                dcc.Dropdown(
                    id=ids.TZ,
                    options=zones,
                    value=state.tz,
                    clearable=False,
                    disabled="tz" in locked,
                ),
                ids.TZ,
                3,
            ),
        ],
        className="g-2 mt-1",
    )


def _expand_days(days: str | None) -> list[str]:
    return list(WEEKDAYS) if not days else days.split(",")


def filter_controls(
    meta: dict, state: KpiPageState, locked: frozenset[str] = frozenset()
) -> dbc.Row:
    """One multi-select filter per dimension (a shared view's locked one offers
    only its own values, disabled)."""
    return dbc.Row(
        [
            _field(
                _title(name),
                dcc.Dropdown(
                    id={"type": ids.FILTER, "dimension": name},
                    multi=True,
                    options=[
                        {"label": v or "(empty)", "value": v}
                        for v in filter_values(name, values, state, locked)
                    ],
                    value=list(state.filters.get(name, ())),
                    placeholder="All",
                    disabled=f"filter.{name}" in locked,
                    className=f"ib-kpi-filter ib-kpi-filter-{name}",
                ),
                f"{ids.FILTER}-{name}",
                2,
            )
            for name, values in meta["dimensions"].items()
        ],
        className="g-2 mt-1",
    )


def filter_values(name: str, values, state: KpiPageState, locked) -> list:
    """A filter's choices: the dimension's values, or only the chosen ones when
    a share link locks it."""
    return list(state.filters.get(name, ())) if f"filter.{name}" in locked else values


def controls_card(
    meta: dict, state: KpiPageState, locked: frozenset[str] = frozenset()
) -> dbc.Card:
    """Every control of the view (each one is in the URL)."""
    opened = bool(state.hours or state.days or state.tz != "UTC" or state.measures)
    return card(
        [
            period_controls(meta, state, locked),
            filter_controls(meta, state, locked),
            html.Details(
                [
                    html.Summary(
                        "Measures, business hours and time zone", className="small mt-2"
                    ),
                    measure_control(meta, state, locked),
                    hours_controls(state, locked),
                ],
                open=opened,
            ),
        ],
        class_name="mb-3",
        body_class="py-2",
    )


def header(meta: dict) -> html.Div:
    """Breadcrumb, title, and the links to the analysis view and Copy link."""
    return html.Div(
        [
            html.Div(
                [
                    html.Nav(
                        [dcc.Link("Datasets", href="/datasets"), html.Span(" / ")],
                        className="small text-muted",
                        **aria(label="Breadcrumb"),
                    ),
                    html.H1(
                        f"{meta['name']} · KPIs", className="h3 mb-0 ib-page-title"
                    ),
                    html.Div(id=ids.SUBTITLE, className="small text-muted"),
                ]
            ),
            html.Div(
                [
                    dcc.Link(
                        [icon("graph-up"), "Analysis"],
                        href=f"/datasets/{meta['id']}?version={meta['version']}",
                        className="btn btn-outline-secondary btn-sm",
                    ),
                    html.Button(
                        [icon("link-45deg"), "Copy link"],
                        id=ids.COPY_LINK,
                        type="button",
                        className="btn btn-outline-primary btn-sm",
                        title="Copy a link that reopens exactly this view",
                    ),
                    html.Button(
                        [icon("share"), "Share"],
                        id=share_ids.OPEN,
                        type="button",
                        className="btn btn-outline-primary btn-sm",
                        title="Create a read-only link to this view for people "
                        "without an account",
                    ),
                    report_button("kpi"),
                ],
                className="d-flex gap-2",
            ),
        ],
        className="d-flex flex-wrap justify-content-between align-items-end gap-3 mb-3",
    )


def shared_header(meta: dict) -> html.Div:
    """A shared page's title: no links into the app."""
    return html.Div(
        [
            html.Div(
                [
                    html.H1(
                        f"{meta['name']} · KPIs", className="h3 mb-0 ib-page-title"
                    ),
                    dbc.Badge(
                        [icon("eye"), "Shared view · read-only"],
                        color="light",
                        text_color="dark",
                        class_name="border",
                        id="share-badge",
                    ),
                ],
                className="d-flex flex-wrap align-items-center gap-2",
            ),
            html.Div(id=ids.SUBTITLE, className="small text-muted"),
        ],
        className="mb-3",
    )


def share_toast() -> dbc.Toast:
    """Confirms the copy and shows the link (also without a clipboard)."""
    return dbc.Toast(
        [
            html.Label("Link to this view", htmlFor=ids.SHARE_URL, className="small"),
            dbc.Input(id=ids.SHARE_URL, readonly=True, size="sm", value=""),
        ],
        id=ids.SHARE_TOAST,
        # No `icon`: dbc draws it as an <svg role="img"> without a name.
        header="Link copied",
        is_open=False,
        dismissable=True,
        duration=8000,
        className="ib-toast",
    )


def _graph(component_id: str, height: int) -> dcc.Graph:
    return dcc.Graph(
        id=component_id,
        style={"height": f"{height}px"},
        config={"displaylogo": False, "displayModeBar": "hover", "responsive": True},
    )


def content() -> html.Div:
    """Cards, the trend chart and the breakdown (filled by the view callback)."""
    return html.Div(
        [
            html.Div(id=ids.CARDS, className="ib-kpi-cards mb-3"),
            card(
                [html.H2("Trend", className="h6"), _graph(ids.TREND, 360)],
                class_name="mb-3",
            ),
            html.Div(
                card(
                    [
                        html.H2("Breakdown", className="h6"),
                        dbc.Row(
                            [
                                dbc.Col(_graph(ids.BREAKDOWN_CHART, 320), lg=6),
                                dbc.Col(html.Div(id=ids.BREAKDOWN_TABLE), lg=6),
                            ]
                        ),
                    ],
                    class_name="mb-3",
                ),
                id=ids.BREAKDOWN_CARD,
            ),
        ]
    )


def kpi_page(
    dataset_id: str,
    meta: dict,
    state: KpiPageState,
    notices,
    locked: frozenset[str] | None = None,
    embed: bool = False,
) -> html.Div:
    """The whole page for one dataset version; under a share link (`locked`
    given) read-only with the locked controls off, or with `embed` only the
    numbers, filling their frame."""
    stores = [
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.DATASET, data=dataset_id),
        # The live push: the store changes when the dataset gets a revision.
        live_store(ids.LIVE, {dataset_id: shown_revision(meta)}),
        live_socket(ids.LIVE, [dataset_id]),
    ]
    if embed:
        return html.Div(
            [
                *stores,
                html.H1(f"{meta['name']} · KPIs", className="h6 text-muted mb-1"),
                html.Div(id=ids.SUBTITLE, className="small text-muted mb-2"),
                body(),
            ],
            id=ids.PAGE,
            className="ib-embed",
        )
    if locked is not None:
        top = [shared_header(meta), notices_alert(notices)]
        return html.Div(
            [*stores, *top, controls_card(meta, state, locked), body()],
            id=ids.PAGE,
            className="ib-shared",
        )
    return html.Div(
        [
            *stores,
            header(meta),
            notices_alert(notices),
            controls_card(meta, state),
            body(),
            share_toast(),
            share_dialog(
                dataset_id, kpi_lockable_keys(meta["dimensions"]), [], page="kpi"
            ),
        ],
        id=ids.PAGE,
    )


def kpi_lockable_keys(dimensions) -> list[str]:
    """The KPI parameters a share link may lock, and each dimension's filter."""
    keys = [key for key in KEY_ORDER if key != "version"]
    return [*keys, *(f"filter.{name}" for name in dimensions or [])]


def notices_alert(notices) -> dbc.Alert:
    """What the page dropped from its URL (dismissable)."""
    return dbc.Alert(
        id=ids.NOTICES,
        children=[html.Div(n) for n in notices],
        color="warning",
        is_open=bool(notices),
        dismissable=True,
    )


def body() -> html.Div:
    """The status line and the numbers."""
    return html.Div([html.Div(id=ids.STATUS), content()])


def not_found_page() -> html.Div:
    """An unknown dataset (or someone else's), or one not processed yet."""
    return html.Div(
        empty_state(
            "search",
            "No KPIs to show",
            "The dataset does not exist, is not yours, or is still being processed.",
            dcc.Link(
                "Back to your datasets", href="/datasets", className="btn btn-primary"
            ),
        ),
        id=ids.PAGE,
    )
