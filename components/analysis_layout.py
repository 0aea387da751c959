"""Layout of the analysis view (/datasets/<id>): pure builders, ids defined once."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components import url_state
from components.live import live_socket, live_store, shown_revision
from components.reports_layout import report_button
from components.share_links import ids as share_ids
from components.share_links import share_dialog
from components.url_state import AnalysisState
from components.widgets import (
    aria,
    card,
    checklist_field,
    empty_state,
    icon,
    labelled,
    status_badge,
)
from data.analytics import spec
from data.analytics.spec import Parameter

PREFIX = "analysis"


class ids:  # noqa: N801 - a namespace of component ids, read as ids.METRIC
    """Component ids of the analysis page."""

    PAGE = f"{PREFIX}-page"
    URL = f"{PREFIX}-url"
    NAV = f"{PREFIX}-nav"
    EMBED = f"{PREFIX}-embed"
    STATE = f"{PREFIX}-state"
    DATASET = f"{PREFIX}-dataset"
    METRIC = f"{PREFIX}-metric"
    VERSION = f"{PREFIX}-version"
    GRANULARITY = f"{PREFIX}-granularity"
    AGGREGATION = f"{PREFIX}-aggregation"
    METHOD = f"{PREFIX}-method"
    THRESHOLD = f"{PREFIX}-threshold"
    K = f"{PREFIX}-k"
    ALPHA = f"{PREFIX}-alpha"
    MAX_OUTLIERS = f"{PREFIX}-max-outliers"
    WINDOW = f"{PREFIX}-window"
    DATES = f"{PREFIX}-dates"
    DATES_START = f"{PREFIX}-dates-start"  # the picker's inputs (label targets)
    DATES_END = f"{PREFIX}-dates-end"
    FILTER = f"{PREFIX}-filter"  # pattern-matching: {"type": FILTER, "dimension": d}
    PARAMS_TOGGLE = f"{PREFIX}-params-toggle"
    PARAMS_COLLAPSE = f"{PREFIX}-params-collapse"
    NOTICES = f"{PREFIX}-notices"
    LINK_NOTICES = f"{PREFIX}-link-notices"
    STATUS = f"{PREFIX}-status"
    CONTENT = f"{PREFIX}-content"
    KPIS = f"{PREFIX}-kpis"
    KPI_LINK = f"{PREFIX}-kpi-link"
    COMPARE_LINK = f"{PREFIX}-compare-link"
    TIMESERIES = f"{PREFIX}-timeseries"
    # Text alternatives of the charts (visually hidden captions).
    TIMESERIES_TEXT = f"{PREFIX}-timeseries-text"
    HISTOGRAM_TEXT = f"{PREFIX}-histogram-text"
    BOX_TEXT = f"{PREFIX}-box-text"
    CHART_SUBTITLE = f"{PREFIX}-chart-subtitle"
    HISTOGRAM = f"{PREFIX}-histogram"
    BOX = f"{PREFIX}-box"
    TABLE = f"{PREFIX}-anomalies"
    TABLE_COUNT = f"{PREFIX}-anomaly-count"
    INSIGHTS = f"{PREFIX}-insights"
    DOWNLOAD_BUTTON = f"{PREFIX}-download-button"
    DOWNLOAD = f"{PREFIX}-download"
    COPY_LINK = f"{PREFIX}-copy-link"
    SHARE_URL = f"{PREFIX}-share-url"
    SHARE_TOAST = f"{PREFIX}-share-toast"
    POLL = f"{PREFIX}-poll"


def choice_options(parameter: Parameter) -> list[dict]:
    """Dropdown options for a choice, in the spec's order, with its labels."""
    return [{"label": o.label, "value": o.value} for o in parameter.options]


def select(component_id: str, options: list[dict], value, **extra) -> dbc.Select:
    """A native select: keyboard friendly and fast on tablets."""
    return dbc.Select(id=component_id, options=options, value=value, size="sm", **extra)


def number_input(
    component_id: str, parameter: Parameter, value, disabled: bool = False
) -> dbc.Input:
    """A bounded number input that reports its value on blur or Enter."""
    return dbc.Input(
        disabled=disabled,
        id=component_id,
        type="number",
        min=parameter.low,
        max=parameter.high,
        step=1 if parameter.kind == "integer" else "any",
        value=value,
        size="sm",
        debounce=True,
        placeholder="default" if parameter.default is None else None,
    )


def version_options(meta: dict) -> list[dict]:
    """'Latest' plus one option per version, newest first."""
    newest = max((entry["version"] for entry in meta.get("versions") or []), default=0)
    options = [{"label": f"Latest (v{newest})", "value": "latest"}]
    for entry in sorted(meta.get("versions") or [], key=lambda v: -v["version"]):
        options.append(
            {"label": f"v{entry['version']}", "value": str(entry["version"])}
        )
    return options


def locked_options(options: list[dict], value, is_locked: bool) -> list[dict]:
    """A locked control offers only its own value (a shared view shows no other)."""
    return [o for o in options if o["value"] == value] if is_locked else options


def primary_controls(
    meta: dict, state: AnalysisState, locked: frozenset[str] = frozenset()
) -> dbc.Row:
    """The everyday controls: metric, aggregation, granularity, method, dates;
    a shared view's locked ones are disabled."""
    metrics = [{"label": m, "value": m} for m in meta.get("metrics") or []]

    metric_locked = "metric" in locked
    return dbc.Row(
        [
            labelled(
                "Metric",
                ids.METRIC,
                select(
                    ids.METRIC,
                    locked_options(metrics, state.metric, metric_locked),
                    state.metric,
                    disabled=metric_locked,
                ),
            ),
            choice_control(
                "aggregation", ids.AGGREGATION, state.aggregation, locked=locked
            ),
            choice_control(
                "granularity", ids.GRANULARITY, state.granularity, locked=locked
            ),
            choice_control(
                "method",
                ids.METHOD,
                state.method,
                locked=locked,
                width={"md": 6, "xl": 3},
            ),
            labelled(
                "Date range",
                ids.DATES_START,
                date_range(state, disabled=bool({"from", "to"} & locked)),
                width={"md": 6, "xl": 3},
            ),
        ],
        className="g-3",
    )


def choice_control(
    key: str,
    component_id: str,
    value: str,
    locked: frozenset[str] = frozenset(),
    **extra,
) -> dbc.Col:
    """A labelled select for one choice parameter of the spec (a shared view's
    locked one offers only its own value, disabled)."""
    parameter = spec.get(key)
    is_locked = key in locked
    options = locked_options(choice_options(parameter), value, is_locked)
    return labelled(
        parameter.short_label,
        component_id,
        select(component_id, options, value, disabled=is_locked),
        **extra,
    )


def date_range(state: AnalysisState, disabled: bool = False) -> dcc.DatePickerRange:
    """The date range picker (empty ends mean 'from the start' / 'to the end')."""
    return dcc.DatePickerRange(
        disabled=disabled,
        id=ids.DATES,
        start_date_id=ids.DATES_START,
        end_date_id=ids.DATES_END,
        start_date=state.date_from.isoformat() if state.date_from else None,
        end_date=state.date_to.isoformat() if state.date_to else None,
        display_format="YYYY-MM-DD",
        first_day_of_week=1,
        clearable=True,
        start_date_placeholder_text="Start",
        end_date_placeholder_text="End",
        className="ib-dates",
    )


# The detection parameter controls, in page order.
PARAMETER_CONTROLS = (
    ("threshold", ids.THRESHOLD),
    ("k", ids.K),
    ("alpha", ids.ALPHA),
    ("max_outliers", ids.MAX_OUTLIERS),
    ("window", ids.WINDOW),
)


def parameter_controls(
    state: AnalysisState, locked: frozenset[str] = frozenset()
) -> dbc.Row:
    """Detection parameters and the rolling window, labelled from the spec (a
    shared view's locked ones are disabled)."""
    return dbc.Row(
        [
            labelled(
                spec.get(key).short_label,
                component_id,
                number_input(
                    component_id,
                    spec.get(key),
                    getattr(state, key),
                    disabled=key in locked,
                ),
                help_text=spec.get(key).help,
                width={"md": 4, "xl": 2},
            )
            for key, component_id in PARAMETER_CONTROLS
        ],
        className="g-3",
    )


def filter_controls(meta: dict, state: AnalysisState) -> list:
    """One multi-select per dimension; options arrive with the view (a shared
    view's locked filter gets its own values only, disabled)."""
    controls = []
    for dimension in meta.get("dimensions") or []:
        chosen = list(state.filters.get(dimension, ()))
        component_id = {"type": ids.FILTER, "dimension": dimension}
        controls.append(
            dbc.Col(
                checklist_field(dimension, component_id, value=chosen),
                md=6,
                xl=4,
                class_name="ib-filter",
            )
        )
    return controls


def controls_card(
    meta: dict, state: AnalysisState, locked: frozenset[str] = frozenset()
) -> dbc.Card:
    """The toolbar: primary controls, then a collapsible row of parameters."""
    filters = filter_controls(meta, state)
    toggle_label = "Parameters & filters"
    return card(
        [
            primary_controls(meta, state, locked),
            html.Div(
                html.Button(
                    [icon("sliders"), toggle_label, _active_filter_badge(state)],
                    id=ids.PARAMS_TOGGLE,
                    type="button",
                    className="btn btn-link btn-sm px-0 text-decoration-none",
                    **aria(
                        controls=ids.PARAMS_COLLAPSE,
                        expanded="true" if state.filters else "false",
                    ),
                ),
                className="d-flex justify-content-end mt-1",
            ),
            dbc.Collapse(
                html.Div(
                    [
                        parameter_controls(state, locked),
                        dbc.Row(filters, className="g-3 mt-0") if filters else None,
                        html.P(
                            "Filters: tick the values to keep; none ticked keeps all.",
                            className="form-text small mb-0 mt-2",
                        )
                        if filters
                        else None,
                    ],
                    className="pt-3 mt-3 border-top",
                ),
                id=ids.PARAMS_COLLAPSE,
                is_open=bool(state.filters),
            ),
        ],
        class_name="mb-3 ib-controls",
        body_class="py-3",
    )


def _active_filter_badge(state: AnalysisState):
    """A count of active filters next to the toggle (so hidden filters are seen)."""
    if not state.filters:
        return None
    return dbc.Badge(
        str(len(state.filters)), color="primary", pill=True, className="ms-2"
    )


def header(meta: dict, state: AnalysisState) -> html.Div:
    """Breadcrumb, dataset name with version and status, and the share actions."""
    version = _chosen_version(meta, state)
    return html.Div(
        [
            html.Div(
                [
                    html.Nav(
                        [dcc.Link("Datasets", href="/datasets"), html.Span(" / ")],
                        className="small text-muted",
                        **aria(label="Breadcrumb"),
                    ),
                    html.Div(
                        [
                            html.H1(
                                meta.get("name") or "Dataset",
                                className="h3 mb-0 ib-page-title",
                            ),
                            version_picker(meta, state),
                            status_badge(version["status"] if version else None),
                        ],
                        className="d-flex flex-wrap align-items-center gap-2",
                    ),
                ]
            ),
            html.Div(
                [
                    dcc.Link(
                        [icon("speedometer2"), "KPIs"],
                        href=f"/kpi/{meta['id']}",
                        id=ids.KPI_LINK,
                        className="btn btn-outline-secondary btn-sm",
                    ),
                    dcc.Link(
                        [icon("layout-split"), "Compare versions"],
                        href=f"/compare/{meta['id']}",
                        id=ids.COMPARE_LINK,
                        className="btn btn-outline-secondary btn-sm",
                    )
                    if len(meta.get("versions") or []) > 1
                    else None,
                    share_actions(),
                ],
                className="d-flex gap-2",
            ),
        ],
        className="d-flex flex-wrap justify-content-between align-items-end gap-3 mb-3",
    )


def shared_header(meta: dict, state: AnalysisState) -> html.Div:
    """A shared view's title line: no links into the app, no version choice."""
    version = _chosen_version(meta, state)
    number = version["version"] if version else None
    fixed = str(state.version or "latest")
    return html.Div(
        [
            html.Div(
                [
                    html.H1(meta.get("name") or "Dataset", className="h3 mb-0"),
                    # The sync callback reads the version select; here it is fixed.
                    html.Div(
                        [
                            dbc.Label(
                                "Version",
                                html_for=ids.VERSION,
                                class_name="visually-hidden",
                            ),
                            select(
                                ids.VERSION,
                                [{"label": f"v{number}", "value": fixed}],
                                fixed,
                                disabled=True,
                                className="ib-version-picker",
                            ),
                        ]
                    ),
                    status_badge(version["status"] if version else None),
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
            html.Div([download_button(), dcc.Download(id=ids.DOWNLOAD)]),
        ],
        className="d-flex flex-wrap justify-content-between align-items-end gap-3 mb-3",
    )


def version_picker(meta: dict, state: AnalysisState) -> html.Div:
    """A compact version select beside the title (a change reloads the page)."""
    return html.Div(
        [
            dbc.Label("Version", html_for=ids.VERSION, class_name="visually-hidden"),
            select(
                ids.VERSION,
                version_options(meta),
                str(state.version) if state.version else "latest",
                className="ib-version-picker",
            ),
        ]
    )


def _chosen_version(meta: dict, state: AnalysisState) -> dict | None:
    """The version the state asks for (or the latest)."""
    versions = sorted(meta.get("versions") or [], key=lambda v: v["version"])
    if not versions:
        return None
    for entry in versions:
        if entry["version"] == state.version:
            return entry
    return versions[-1]


def share_actions() -> html.Div:
    """ "Copy link" (a clipboard copy of the exact view), the CSV download and
    the PDF report."""
    return html.Div(
        [
            # A plain button (dcc.Clipboard renders nothing outside secure contexts
            # and is not focusable); the toast always shows the link as well.
            html.Button(
                [icon("link-45deg"), "Copy link"],
                id=ids.COPY_LINK,
                type="button",
                title="Copy a link that reopens exactly this view",
                className="btn btn-outline-primary btn-sm",
            ),
            html.Button(
                [icon("share"), "Share"],
                id=share_ids.OPEN,
                type="button",
                title="Create a read-only link to this view for people without an "
                "account",
                className="btn btn-outline-primary btn-sm",
            ),
            download_button(),
            dcc.Download(id=ids.DOWNLOAD),
            report_button("analysis"),
        ],
        className="d-flex flex-wrap gap-2",
    )


def download_button() -> dbc.Button:
    """The anomalies CSV download."""
    return dbc.Button(
        [icon("download"), "Anomalies CSV"],
        id=ids.DOWNLOAD_BUTTON,
        color="primary",
        size="sm",
    )


def share_toast() -> dbc.Toast:
    """Confirms the copy and shows the link (also for browsers without clipboard)."""
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


def kpi_skeleton() -> html.Div:
    """The KPI grid before the first view arrives."""
    return html.Div(id=ids.KPIS, className="ib-kpis mb-3")


def described_chart(graph_component: dcc.Graph, text_id: str) -> html.Figure:
    """A chart in a <figure> whose visually hidden caption says what it shows."""
    return html.Figure(
        [graph_component, html.Figcaption(id=text_id, className="visually-hidden")],
        className="mb-0",
    )


def graph(component_id: str, height: int, toolbar: bool = True) -> dcc.Graph:
    """A chart area with the mode bar trimmed to what people use."""
    return dcc.Graph(
        id=component_id,
        config={
            "displaylogo": False,
            "displayModeBar": "hover" if toolbar else False,
            "responsive": True,
            "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
            "toImageButtonOptions": {"format": "png", "scale": 2},
        },
        style={"height": f"{height}px"},
    )


def chart_card(view_title: str, subtitle_id: str | None, body, **extra) -> dbc.Card:
    """A card with a title line (and an optional live subtitle) above a chart."""
    title = html.Div(
        [
            html.H2(view_title, className="h6 mb-0"),
            html.Div(id=subtitle_id, className="small text-muted")
            if subtitle_id
            else None,
        ],
        className="mb-2",
    )
    return card([title, body], **extra)


def anomalies_grid() -> dag.AgGrid:
    """The anomalies table: one selectable row per episode; a click on its points
    count expands it into its flagged points."""
    return dag.AgGrid(
        id=ids.TABLE,
        columnDefs=ANOMALY_COLUMNS,
        rowData=[],
        defaultColDef={"sortable": True, "resizable": True, "filter": False},
        getRowId="params.data.id",
        columnSize="responsiveSizeToFit",
        dashGridOptions={
            "rowSelection": {
                "mode": "singleRow",
                "checkboxes": False,
                "enableClickSelection": True,
            },
            "domLayout": "normal",
            "localeText": {"noRowsToShow": "No anomalies with these settings"},
            "suppressCellFocus": False,
            "animateRows": False,
        },
        style={"height": "340px"},
        className="ag-theme-quartz ib-grid",
    )


ANOMALY_COLUMNS = [
    {
        "field": "t",
        "headerName": "Date",
        "minWidth": 120,
        "flex": 1.4,
        "valueFormatter": {"function": "params.data.date_text"},
        "tooltipField": "explanation",
    },
    {"field": "kind_text", "headerName": "What", "minWidth": 90, "flex": 1},
    {
        "field": "points_text",
        "headerName": "Points",
        "minWidth": 78,
        "flex": 0.8,
        "headerTooltip": "Flagged points in the episode; click ▸ to list them",
        "cellClass": "ib-episode-toggle",
    },
    {
        "field": "value",
        "headerName": "Value",
        "minWidth": 84,
        "flex": 1,
        "type": "rightAligned",
        "valueFormatter": {"function": "params.data.value_text"},
    },
    {
        "field": "expected",
        "headerName": "Expected",
        "minWidth": 84,
        "flex": 1,
        "type": "rightAligned",
        "valueFormatter": {"function": "params.data.expected_text"},
    },
    {
        "field": "deviation_pct",
        "headerName": "Deviation",
        "minWidth": 84,
        "flex": 1,
        "type": "rightAligned",
        "valueFormatter": {"function": "params.data.deviation_text"},
    },
    {
        "field": "severity",
        "headerName": "Severity",
        "minWidth": 104,
        "flex": 1.1,
        "cellRenderer": "SeverityBadge",
        "comparator": {
            "function": "nodeA.data.severity_rank - nodeB.data.severity_rank"
        },
    },
    {
        "field": "methods_text",
        "headerName": "Methods",
        "minWidth": 150,
        "flex": 2.2,
        # Several methods may agree: wrap onto a second line (within the row's
        # height) rather than clip.
        "wrapText": True,
        "cellClass": "ib-cell-wrap",
        "tooltipField": "methods_full",
    },
]


def main_content() -> html.Div:
    """KPIs and the main chart, then the anomalies and distributions beside the
    insights (one column on tablets: table, insights, distributions)."""
    return html.Div(
        [
            dcc.Loading(kpi_skeleton(), type="dot", delay_show=150),
            chart_card(
                "Over time",
                ids.CHART_SUBTITLE,
                dcc.Loading(
                    described_chart(graph(ids.TIMESERIES, 440), ids.TIMESERIES_TEXT),
                    delay_show=150,
                ),
                class_name="mb-3",
            ),
            html.Div(
                [
                    # The table sits right under the chart: a click there selects here.
                    html.Div(table_card(), className="ib-area-table"),
                    html.Div(insights_card(), className="ib-area-insights"),
                    html.Div(distribution_row(), className="ib-area-charts"),
                ],
                className="ib-lower mb-4",
            ),
        ],
        id=ids.CONTENT,
    )


def distribution_row() -> dbc.Row:
    """The histogram with its limits and the box plot, side by side."""
    return dbc.Row(
        [
            dbc.Col(
                chart_card(
                    "Distribution",
                    None,
                    dcc.Loading(
                        described_chart(
                            graph(ids.HISTOGRAM, 300, toolbar=False),
                            ids.HISTOGRAM_TEXT,
                        ),
                        delay_show=150,
                    ),
                    class_name="h-100",
                ),
                md=7,
            ),
            dbc.Col(
                chart_card(
                    "Spread",
                    None,
                    dcc.Loading(
                        described_chart(
                            graph(ids.BOX, 300, toolbar=False), ids.BOX_TEXT
                        ),
                        delay_show=150,
                    ),
                    class_name="h-100",
                ),
                md=5,
            ),
        ],
        className="g-3",
    )


def table_card() -> dbc.Card:
    """The anomalies table with its count."""
    title = html.Div(
        [
            html.H2("Anomalies", className="h6 mb-0"),
            html.Span(id=ids.TABLE_COUNT, className="small text-muted"),
        ],
        className="d-flex justify-content-between align-items-baseline mb-2",
    )
    return card([title, dcc.Loading(anomalies_grid(), delay_show=150)])


def insights_card() -> dbc.Card:
    """The generated summary, in plain sentences."""
    return card(
        [
            html.H2([icon("lightbulb"), "Insights"], className="h6 mb-2"),
            dcc.Loading(
                html.Div(id=ids.INSIGHTS, className="ib-insights"), delay_show=150
            ),
        ],
        class_name="ib-insights-card",
    )


def stores(
    dataset_id: str, state: AnalysisState, notices: list[str], meta: dict
) -> list:
    """The page-local URL, the canonical state, what the link had wrong and what
    the live push updates (components/live.py)."""
    return [
        # Writes the query string without re-rendering (history.pushState only).
        dcc.Location(id=ids.URL, refresh=False),
        # A version change re-renders the page through the router instead.
        dcc.Location(id=ids.NAV, refresh="callback-nav"),
        dcc.Store(id=ids.DATASET, data=dataset_id),
        dcc.Store(id=ids.EMBED, data=state.embed),
        dcc.Store(id=ids.STATE, data=url_state.serialise(state)),
        # Notices about the URL the state came from (the view callback shows them).
        dcc.Store(id=ids.LINK_NOTICES, data=list(notices)),
        live_store(ids.POLL, {dataset_id: shown_revision(meta)}),
        live_socket(ids.POLL, [dataset_id]),
    ]


def notice_children(notices: list[str]) -> list:
    """The notices alert's content: a title line and one item per notice."""
    return [
        html.Div(
            [icon("info-circle"), "Some settings in this link were adjusted:"],
            className="fw-semibold",
        ),
        html.Ul([html.Li(notice) for notice in notices], className="mb-0 small"),
    ]


def notices_alert(notices: list[str]) -> dbc.Alert:
    """What in the link was ignored (invalid or stale values), dismissable."""
    return dbc.Alert(
        notice_children(notices),
        id=ids.NOTICES,
        color="warning",
        dismissable=True,
        is_open=bool(notices),
        className="py-2",
    )


def analysis_page(
    dataset_id: str,
    meta: dict,
    state: AnalysisState,
    notices: list[str],
    locked: frozenset[str] | None = None,
) -> html.Div:
    """The full analysis page, its embed form (no chrome, no controls), or under a
    share link (`locked` given) the read-only form with the locked controls off."""
    if locked is not None and not state.embed:
        return html.Div(
            [
                *stores(dataset_id, state, notices, meta),
                shared_header(meta, state),
                notices_alert(notices),
                controls_card(meta, state, locked),
                html.Div(id=ids.STATUS),
                main_content(),
            ],
            id=ids.PAGE,
            className="ib-shared",
        )
    if state.embed:
        return html.Div(
            [
                *stores(dataset_id, state, notices, meta),
                notices_alert(notices),
                html.Div(id=ids.STATUS),
                html.H1(meta.get("name") or "Dataset", className="h6 text-muted mb-2"),
                main_content(),
            ],
            id=ids.PAGE,
            className="ib-embed",
        )
    return html.Div(
        [
            *stores(dataset_id, state, notices, meta),
            header(meta, state),
            notices_alert(notices),
            controls_card(meta, state),
            html.Div(id=ids.STATUS),
            main_content(),
            share_toast(),
            share_dialog(
                dataset_id,
                url_state.lockable_keys(meta.get("dimensions")),
                ["metric"],
                page="analysis",
            ),
        ],
        id=ids.PAGE,
    )


def not_found_page() -> html.Div:
    """Shown for an unknown dataset id (or one that belongs to someone else)."""
    return html.Div(
        empty_state(
            "search",
            "Dataset not found",
            "The link may be old, or the dataset was deleted.",
            dcc.Link(
                "Back to your datasets", href="/datasets", className="btn btn-primary"
            ),
        ),
        id=ids.PAGE,
    )
