"""Callbacks of the analysis view: URL state, the view itself, selection, export.

Callbacks stay thin: they parse inputs, call the services the API uses (the
analytics view and the dataset service) and build output with the pure functions
in `components/`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import dash
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from callbacks import gateway
from callbacks.disclosure import register_disclosure
from components import episodes, figures, url_state, widgets
from components.analysis_layout import (
    analysis_page,
    ids,
    not_found_page,
    notice_children,
)
from components.export import anomalies_csv, export_filename
from components.formatting import (
    format_number,
    format_percent,
    format_timestamp,
)
from components.live import register_live_trigger
from components.theme import SEVERITIES
from components.url_state import AnalysisState
from data.analytics import spec
from data.errors import (
    Conflict,
    DomainError,
    NotFound,
    Unprocessable,
    ValidationFailed,
)
from data.services import Services, get_services

SEVERITY_RANK = {s.name: rank for rank, s in enumerate(SEVERITIES)}
FILTER_IDS = {"type": ids.FILTER, "dimension": ALL}
TABLE_ROW_PX, TABLE_CHROME_PX, TABLE_MAX_PX = 42, 52, 360


# ---------------------------------------------------------------- page layout


def page_layout(dataset_id: str | None, query: dict) -> object:
    """The analysis page for the signed-in user, or a friendly not-found page."""
    state, notices = url_state.parse_query(query)
    user = gateway.user_or_none()
    if user is None or not dataset_id:
        return not_found_page()
    try:
        meta = gateway.dataset_meta(get_services(), user.id, dataset_id, state.version)
    except NotFound:
        return not_found_page()
    versions = [entry["version"] for entry in meta["versions"]]
    state, stale = url_state.reconcile(state, meta, versions)
    return analysis_page(dataset_id, meta, state, notices + stale)


# ------------------------------------------------------- controls ⇄ URL state


def state_from_controls(values: dict, filter_ids: list, filter_values: list):
    """An AnalysisState from the controls' values (bad numbers become defaults)."""
    query: dict[str, Any] = {key: _text(values.get(key)) for key in url_state.KEY_ORDER}
    query["version"] = _text(values.get("version"))
    query["from"] = _date_text(values.get("from"))
    query["to"] = _date_text(values.get("to"))
    for component_id, chosen in zip(filter_ids, filter_values, strict=False):
        if chosen:
            query[url_state.FILTER_PREFIX + component_id["dimension"]] = list(chosen)
    state, _ = url_state.parse_query(query)
    return state


def _text(value) -> str | None:
    """A control value as query text (None stays None)."""
    if value is None:
        return None
    return str(value)


def _date_text(value: str | None) -> str | None:
    """The date part of a date picker value ("2024-01-31" or with a time)."""
    return value[:10] if isinstance(value, str) and value else None


def control_values(state: AnalysisState, filter_ids: list) -> list:
    """Values to put into the controls for a state, in `CONTROL_PROPS` order."""
    return [
        state.metric,
        state.granularity,
        state.aggregation,
        state.method,
        state.threshold,
        state.k,
        state.alpha,
        state.max_outliers,
        state.window,
        state.date_from.isoformat() if state.date_from else None,
        state.date_to.isoformat() if state.date_to else None,
        [list(state.filters.get(i["dimension"], ())) for i in filter_ids],
    ]


# Each URL parameter with the control that edits it (the filters come last).
CONTROLS = [
    ("metric", ids.METRIC, "value"),
    ("granularity", ids.GRANULARITY, "value"),
    ("aggregation", ids.AGGREGATION, "value"),
    ("method", ids.METHOD, "value"),
    ("threshold", ids.THRESHOLD, "value"),
    ("k", ids.K, "value"),
    ("alpha", ids.ALPHA, "value"),
    ("max_outliers", ids.MAX_OUTLIERS, "value"),
    ("window", ids.WINDOW, "value"),
    ("from", ids.DATES, "start_date"),
    ("to", ids.DATES, "end_date"),
]
CONTROL_KEYS = [key for key, _, _ in CONTROLS]
CONTROL_PROPS = [(component, prop) for _, component, prop in CONTROLS] + [
    (FILTER_IDS, "value")
]


def sync_state(search, version, controls, filter_ids, current, metrics, embed):
    """Controls changed → new URL; URL changed (back/forward) → controls follow.

    One callback owns both directions, since Dash forbids cycles across callbacks.
    A version change reloads the page through the router: columns may differ.
    """
    if ctx.triggered_id == ids.URL:
        state, notices = url_state.parse_search(search)
        state = locked_state(state)
        state, stale = check_link(replace(state, embed=embed), metrics, filter_ids)
        notices += stale
        canonical = url_state.serialise(state)
        if canonical == current:
            if not notices:
                raise PreventUpdate
            return sync_outputs(len(filter_ids), notices=notices)
        if state.version != _version_number(version):
            return sync_outputs(len(filter_ids), nav=canonical)
        controls = control_values(state, filter_ids)
        return sync_outputs(
            len(filter_ids), state=canonical, controls=controls, notices=notices
        )
    values = dict(zip(CONTROL_KEYS, controls[:-1], strict=True))
    values["version"] = version
    state = state_from_controls(values, filter_ids, controls[-1])
    state = _fit_metric(replace(state, embed=embed), metrics)
    state = locked_state(state)
    canonical = url_state.serialise(state)
    if ctx.triggered_id == ids.VERSION:
        return sync_outputs(len(filter_ids), nav=canonical)
    if canonical == current and canonical == search:
        raise PreventUpdate
    controls = control_values(state, filter_ids)
    # The user took over: what the old link had wrong no longer applies.
    return sync_outputs(
        len(filter_ids), url=canonical, state=canonical, controls=controls, notices=[]
    )


def locked_state(state: AnalysisState) -> AnalysisState:
    """Under a share link, the state with the link's locked values (unchanged
    otherwise): the URL of a shared view never leaves its scope."""
    viewer = gateway.viewer()
    if viewer is None or viewer.share is None:
        return state
    locked, _ = url_state.parse_search(viewer.search(url_state.serialise(state)))
    return replace(locked, embed=state.embed)


def sync_outputs(
    filter_count: int,
    url=no_update,
    state=no_update,
    nav=no_update,
    controls=None,
    notices=no_update,
) -> dict:
    """The sync callback's outputs; anything not given is left alone (the filter
    dropdowns are a pattern-matching output: one entry per dropdown)."""
    untouched = [no_update] * (len(CONTROL_PROPS) - 1) + [[no_update] * filter_count]
    return {
        "url": url,
        "state": state,
        "nav": nav,
        "controls": controls or untouched,
        "notices": notices,
    }


def check_link(
    state: AnalysisState, metric_options: list | None, filter_ids: list
) -> tuple[AnalysisState, list[str]]:
    """A state from a URL (back/forward) checked against what the page offers:
    its metrics and the dimensions it has filters for; with notices."""
    metrics = [o["value"] for o in metric_options or []]
    if not metrics:
        return state, []
    dimensions = [component_id["dimension"] for component_id in filter_ids]
    return url_state.reconcile(state, {"metrics": metrics, "dimensions": dimensions})


def _fit_metric(state: AnalysisState, metric_options: list | None) -> AnalysisState:
    """A metric the dataset has (the first one when the asked one is unknown)."""
    metrics = [o["value"] for o in metric_options or []]
    if state.metric in metrics or not metrics:
        return state
    return replace(state, metric=metrics[0])


def _version_number(value) -> int | None:
    """The version select's value as a number (None for 'latest')."""
    return int(value) if isinstance(value, str) and value.isdigit() else None


# ------------------------------------------------------------- the main view


def render_view(
    services: Services,
    owner_id: str,
    dataset_id: str,
    search: str,
    link_notices: list[str] | tuple = (),
):
    """Everything the page shows for one state: the main callback's whole work.

    `notices` lists what the link had wrong (`link_notices`, from the page load or
    a back/forward step) and whatever the state turned out to have stale."""
    notices = list(link_notices)
    result = _render(services, owner_id, dataset_id, search, notices)
    result["notices"] = list(dict.fromkeys(notices))
    return result


def _render(services, owner_id, dataset_id, search, notices: list[str]) -> dict:
    """The view's outputs; adds to `notices` what it had to ignore."""
    state, invalid = url_state.parse_search(search)
    notices.extend(invalid)
    try:
        meta = gateway.dataset_meta(services, owner_id, dataset_id, state.version)
    except NotFound:
        return problem_outputs(dataset_gone())
    versions = [entry["version"] for entry in meta["versions"]]
    state, stale = url_state.reconcile(state, meta, versions)
    notices.extend(stale)
    version = _version_entry(meta, state.version)
    problem = readiness_problem(meta, version)
    if problem is not None or version is None:  # no version: readiness says so
        return problem_outputs(*(problem or (dataset_gone(), False)))
    try:
        view = gateway.analysis_view(
            services, owner_id, dataset_id, url_state.to_params(state), state.version
        )
    except NotFound:
        return problem_outputs(dataset_gone())
    except Conflict:
        # The version changed state since the check above (e.g. a reprocess).
        return problem_outputs(processing_message(version), True)
    except (Unprocessable, ValidationFailed) as error:
        return problem_outputs(analysis_problem(error, state))
    return view_outputs(view, state)


def _version_entry(meta: dict, version: int | None) -> dict | None:
    """The asked version's metadata, or the latest one."""
    versions = sorted(meta["versions"], key=lambda entry: entry["version"])
    chosen = [entry for entry in versions if entry["version"] == version]
    return chosen[0] if chosen else (versions[-1] if versions else None)


def readiness_problem(meta: dict, version: dict | None):
    """A (message, poll) pair when the version cannot be analysed yet, else None."""
    if version is None:
        return dataset_gone(), False
    status = version["status"]
    if status in gateway.IN_FLIGHT:
        return processing_message(version), True
    if status == "failed":
        return failed_message(version), False
    if not meta.get("metrics"):
        return (
            widgets.message_alert(
                "No numeric column to analyse",
                "This dataset has no metric column. Upload a version with at "
                "least one numeric column (such as revenue or orders).",
                "warning",
                "123",
            ),
            False,
        )
    return None


def processing_message(version: dict):
    """'Still processing' with the rows done so far; the page polls until ready."""
    progress = version.get("progress") or {}
    done, total = progress.get("rowsDone") or 0, progress.get("rowsTotal") or 0
    percent = round(100 * done / total) if total else 0
    counted = f"{done:,} of {total:,} rows so far" if total else f"{done:,} rows so far"
    return html.Div(
        [
            widgets.message_alert(
                "This dataset is still being processed",
                f"Version {version['version']}: {counted}. The analysis appears "
                "here as soon as it is ready.",
                "info",
                "hourglass-split",
            ),
            html.Div(
                widgets.progress_bar(percent, "Rows processed", "1.25rem"),
                className="mb-3",
            ),
        ]
    )


def failed_message(version: dict):
    """Processing failed, with the reason the service recorded."""
    return widgets.message_alert(
        "Processing this dataset failed",
        f"{version.get('error') or 'The file could not be processed.'} "
        "Fix the file and upload it as a new version, or reprocess it from the "
        "Datasets page.",
        "danger",
        "exclamation-octagon",
    )


def dataset_gone():
    """The dataset no longer exists (or never belonged to this user)."""
    return widgets.message_alert(
        "Dataset not found",
        "It may have been deleted. Go back to your datasets to pick another one.",
        "secondary",
        "search",
    )


def analysis_problem(error: DomainError, state: AnalysisState):
    """Specific advice for a view the service could not compute."""
    if isinstance(error, Unprocessable) and "limit" in error.details:
        return widgets.message_alert(
            "Too many points for this view",
            error.message,
            "warning",
            "exclamation-triangle",
        )
    if isinstance(error, Unprocessable):
        return widgets.message_alert(
            "Not enough data for this analysis",
            f"{error.message} Try a finer granularity, a wider date range, fewer "
            "filters or another detection method.",
            "warning",
            "exclamation-triangle",
        )
    return widgets.message_alert(
        "These settings cannot be used",
        f"{error.message} Adjust the highlighted setting or reset the view.",
        "warning",
        "sliders",
    )


def problem_outputs(message, poll: bool = False) -> dict:
    """Outputs that show only a message (and keep polling while processing)."""
    return {
        "status": message,
        "content_class": "d-none",
        "poll_disabled": not poll,
        **dict.fromkeys(VIEW_KEYS, no_update),
    }


VIEW_KEYS = (
    "timeseries_text",
    "histogram_text",
    "box_text",
    "table_style",
    "kpis",
    "timeseries",
    "subtitle",
    "histogram",
    "box",
    "rows",
    "count",
    "insights",
    "filter_options",
)


def view_outputs(view: dict, state: AnalysisState) -> dict:
    """The view turned into component properties by the pure builders."""
    unit = (view["dataset"].get("units") or {}).get(view["params"]["metric"])
    anomalies = view.get("anomalies") or []
    notes = view.get("notes") or []
    rows = episodes.episode_rows(view, unit, methods_text)
    found = len(view.get("episodes") or [])
    return {
        "status": None,
        "content_class": "",
        "poll_disabled": True,
        "kpis": widgets.kpi_cards(view["summary"], anomalies, unit),
        "timeseries": figures.timeseries_spec(view),
        "subtitle": chart_subtitle(view),
        "histogram": figures.histogram_spec(view),
        "box": figures.box_spec(view),
        "rows": rows,
        "table_style": table_style(len(rows)),
        "count": count_text(found, len(anomalies)),
        "insights": widgets.insight_list(view.get("insights") or [], notes),
        **{
            f"{chart}_text": text
            for chart, text in figures.chart_summaries(view).items()
        },
        "filter_options": view["dataset"].get("dimensions") or {},
    }


def count_text(found: int, flagged: int) -> str:
    """'3 found' (episodes), '2 found (14 points)' when episodes group points."""
    if not found:
        return "none found"
    return f"{found} found" + (f" ({flagged} points)" if flagged != found else "")


def methods_text(methods: list[str]) -> str:
    """The agreeing methods in the table's short words."""
    return ", ".join(spec.short_label("method", m) for m in methods)


def table_style(rows: int) -> dict:
    """Grow the table with its rows up to a cap (no empty box under few rows).
    Rows keep one height: a long methods cell wraps onto two lines inside it."""
    height = TABLE_CHROME_PX + TABLE_ROW_PX * max(rows, 2)
    return {"height": f"{min(height, TABLE_MAX_PX)}px"}


def chart_subtitle(view: dict) -> str:
    """What the chart shows, in words: 'Daily sum of revenue · 27 points · …'."""
    params = view["params"]
    band = figures.band_k(view)
    return (
        f"{figures.plotted_quantity(view)} · "
        f"{len(view.get('series') or []):,} points · rolling mean of "
        f"{params['window']} with a ±{band:g}σ band · click a marker for details"
    )


def anomaly_rows(anomalies: list[dict], unit: str | None, granularity: str) -> list:
    """Table rows: raw values for sorting, formatted text for display."""
    return [
        {
            "t": a["t"],
            "date_text": format_timestamp(a["t"], granularity),
            "value": a["value"],
            "value_text": format_number(a["value"], unit),
            "expected": a.get("expected"),
            "expected_text": format_number(a.get("expected"), unit),
            "deviation_pct": a.get("deviation_pct"),
            "deviation_text": format_percent(a.get("deviation_pct")),
            "severity": a.get("severity"),
            "severity_rank": SEVERITY_RANK.get(str(a.get("severity")), 0),
            "methods_text": methods_text(a.get("methods") or []),
            "methods_full": methods_text(a.get("methods") or []),
        }
        for a in anomalies
    ]


def filter_options(
    dimensions: dict, filter_ids: list, chosen: list, locked=frozenset()
) -> list:
    """Options for each filter dropdown: the dimension's values (plus chosen ones);
    a locked filter offers only its own values."""
    options = []
    for component_id, values in zip(filter_ids, chosen, strict=False):
        key = url_state.FILTER_PREFIX + component_id["dimension"]
        known = (
            [] if key in locked else list(dimensions.get(component_id["dimension"], []))
        )
        extra = [v for v in values or [] if v not in known]
        options.append(
            [{"label": v, "value": v, "disabled": key in locked} for v in known + extra]
        )
    return options


# ------------------------------------------------------------- registration


def register(app: dash.Dash) -> None:
    """Register the analysis page's callbacks on this app."""
    _register_sync(app)
    _register_view(app)
    _register_selection(app)
    _register_download(app)
    _register_share(app)
    _register_toggles(app)
    register_live_trigger(app, ids.POLL)


def _register_sync(app: dash.Dash) -> None:
    """Controls ⇄ URL."""
    app.callback(
        output={
            "url": Output(ids.URL, "search"),
            "state": Output(ids.STATE, "data"),
            "nav": Output(ids.NAV, "search"),
            "notices": Output(ids.LINK_NOTICES, "data"),
            "controls": [Output(component, prop) for component, prop in CONTROL_PROPS],
        },
        inputs={
            "search": Input(ids.URL, "search"),
            "version": Input(ids.VERSION, "value"),
            "controls": [Input(component, prop) for component, prop in CONTROL_PROPS],
            "filter_ids": State(FILTER_IDS, "id"),
            "current": State(ids.STATE, "data"),
            "metrics": State(ids.METRIC, "options"),
            "embed": State(ids.EMBED, "data"),
        },
        prevent_initial_call=True,
    )(sync_state)


def _register_view(app: dash.Dash) -> None:
    """State → the whole view."""
    outputs = {
        "status": Output(ids.STATUS, "children"),
        "content_class": Output(ids.CONTENT, "className"),
        "kpis": Output(ids.KPIS, "children"),
        "timeseries": Output(ids.TIMESERIES, "figure"),
        "subtitle": Output(ids.CHART_SUBTITLE, "children"),
        "histogram": Output(ids.HISTOGRAM, "figure"),
        "box": Output(ids.BOX, "figure"),
        "timeseries_text": Output(ids.TIMESERIES_TEXT, "children"),
        "histogram_text": Output(ids.HISTOGRAM_TEXT, "children"),
        "box_text": Output(ids.BOX_TEXT, "children"),
        "rows": Output(ids.TABLE, "rowData"),
        "table_style": Output(ids.TABLE, "style"),
        "count": Output(ids.TABLE_COUNT, "children"),
        "insights": Output(ids.INSIGHTS, "children"),
        "filter_options": Output(FILTER_IDS, "options"),
        "notices": Output(ids.NOTICES, "children"),
        "notices_open": Output(ids.NOTICES, "is_open"),
    }

    @app.callback(
        output=outputs,
        inputs={
            "search": Input(ids.STATE, "data"),
            "tick": Input(ids.POLL, "data"),
            "link_notices": Input(ids.LINK_NOTICES, "data"),
            "dataset_id": State(ids.DATASET, "data"),
            "filter_ids": State(FILTER_IDS, "id"),
            "chosen": State(FILTER_IDS, "value"),
        },
    )
    def update_view(search, tick, link_notices, dataset_id, filter_ids, chosen):
        """Compute and draw the view for the current state."""
        viewer = gateway.viewer()
        if viewer is None:
            raise PreventUpdate
        result = render_view(
            get_services(),
            viewer.owner_id,
            viewer.dataset(dataset_id),
            viewer.search(search),
            link_notices or [],
        )
        dims = result["filter_options"]
        result["filter_options"] = (
            [no_update] * len(filter_ids)
            if dims is no_update
            else filter_options(dims, filter_ids, chosen, viewer.locked)
        )
        result.pop("poll_disabled")  # the live push refreshes; nothing to poll
        polled = list(ctx.triggered_prop_ids) == [f"{ids.POLL}.data"]
        result.update(notice_outputs(result["notices"], polled))
        return result


def notice_outputs(notices: list[str], polled: bool) -> dict:
    """The notices alert's content and visibility (left alone on a poll tick, so a
    dismissed alert stays closed while the page waits for processing)."""
    if polled:
        return {"notices": no_update, "notices_open": no_update}
    return {"notices": notice_children(notices), "notices_open": bool(notices)}


def _register_selection(app: dash.Dash) -> None:
    """Chart click ⇄ table selection, and a ring around the selected anomaly."""

    @app.callback(
        Output(ids.TABLE, "rowData", allow_duplicate=True),
        Input(ids.TABLE, "cellClicked"),
        State(ids.TABLE, "rowData"),
        prevent_initial_call=True,
    )
    def toggle_episode(cell, rows):
        """A click on an episode's points count shows or hides its points."""
        if not cell or cell.get("colId") != "points_text":
            raise PreventUpdate
        toggled = episodes.toggle_episode(rows or [], cell.get("rowId"))
        if toggled is None:
            raise PreventUpdate
        return toggled

    @app.callback(
        Output(ids.TABLE, "selectedRows"),
        Output(ids.TABLE, "scrollTo"),
        Input(ids.TIMESERIES, "clickData"),
        State(ids.TABLE, "rowData"),
        prevent_initial_call=True,
    )
    def select_clicked_anomaly(click, rows):
        """Clicking an anomaly marker selects and reveals its row."""
        t = clicked_anomaly(click, rows or [])
        if t is None:
            raise PreventUpdate
        return {"ids": [t]}, {"rowId": t, "rowPosition": "middle"}

    @app.callback(
        Output(ids.TIMESERIES, "figure", allow_duplicate=True),
        Input(ids.TABLE, "selectedRows"),
        prevent_initial_call=True,
    )
    def ring_selected_anomaly(rows):
        """Draw a ring around the selected row's point on the chart."""
        patch = Patch()
        row = rows[0] if isinstance(rows, list) and rows else None
        x = [figures.plot_time(row["t"])] if row else []
        patch["data"][0]["x"] = x
        patch["data"][0]["y"] = [row["value"]] if row else []
        return patch


def clicked_anomaly(click: dict | None, rows: list[dict]) -> str | None:
    """The row id of the anomaly (or its episode) under a chart click, else None.

    A marker carries its time as customdata; a click that lands on the series
    point under a marker is matched by its x instead.
    """
    points = (click or {}).get("points") or []
    if not points:
        return None
    owners = row_owners(rows)
    custom = points[0].get("customdata")
    if isinstance(custom, str) and custom in owners:
        return owners[custom]
    moment = _moment(points[0].get("x"))
    for t, row_id in owners.items():
        if moment is not None and _moment(figures.plot_time(t)) == moment:
            return row_id
    return None


def row_owners(rows: list[dict]) -> dict[str, str]:
    """Flagged time → the id of the row that shows it (its episode's row)."""
    owners: dict[str, str] = {}
    for row in rows:
        row_id = row.get("id", row["t"])
        owners.setdefault(row["t"], row_id)
        for t in row.get("member_times") or []:
            owners.setdefault(t, row_id)
    return owners


def _moment(value) -> datetime | None:
    """A plotly date value ("2024-01-03" or "2024-01-03 14:00") as a datetime."""
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=None)
    except ValueError:
        return None


def _register_download(app: dash.Dash) -> None:
    """The anomalies as a formula-safe CSV file."""

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
        State(ids.STATE, "data"),
        State(ids.DATASET, "data"),
        prevent_initial_call=True,
    )
    def download_anomalies(_clicks, search, dataset_id):
        """Recompute (cached) the view for the state and send its anomalies."""
        viewer = gateway.viewer()
        if viewer is None:
            raise PreventUpdate
        return anomalies_download(
            get_services(),
            viewer.owner_id,
            viewer.dataset(dataset_id),
            viewer.search(search),
        )


def anomalies_download(services: Services, owner_id: str, dataset_id: str, search):
    """dcc.Download data for the view's anomalies (nothing when unavailable)."""
    state, _ = url_state.parse_search(search)
    try:
        view = gateway.analysis_view(
            services, owner_id, dataset_id, url_state.to_params(state), state.version
        )
    except DomainError:
        raise PreventUpdate from None
    name = export_filename(view["dataset"]["name"], view["params"]["metric"])
    return dcc.send_string(anomalies_csv(view.get("anomalies") or []), name)


def _register_share(app: dash.Dash) -> None:
    """'Copy link': the canonical URL of this exact view, copied and shown."""
    app.clientside_callback(
        """
        function(clicks, search) {
            var url = window.location.origin + window.location.pathname + search;
            var copied = Boolean(navigator.clipboard && window.isSecureContext);
            if (copied) { navigator.clipboard.writeText(url).catch(function () {}); }
            return [url, true, copied ? "Link copied" : "Copy this link"];
        }
        """,
        Output(ids.SHARE_URL, "value"),
        Output(ids.SHARE_TOAST, "is_open"),
        Output(ids.SHARE_TOAST, "header"),
        Input(ids.COPY_LINK, "n_clicks"),
        State(ids.STATE, "data"),
        prevent_initial_call=True,
    )


def parameter_states(method: str | None) -> list:
    """(disabled, placeholder) of the parameter inputs for a method."""
    used = spec.METHOD_PARAMETERS.get(method or "", ())
    default = url_state.effective_threshold(AnalysisState(method=method or "auto"))
    placeholder = f"{default:g} (default)" if default is not None else "not used"
    return [
        "threshold" not in used,
        placeholder,
        "k" not in used,
        "alpha" not in used,
        "max_outliers" not in used,
    ]


def viewer_parameter_states(method: str | None) -> list:
    """parameter_states, with a shared view's locked parameters kept disabled."""
    states = parameter_states(method)
    viewer = gateway.viewer()
    locked = viewer.locked if viewer else frozenset()
    for index, key in ((0, "threshold"), (2, "k"), (3, "alpha"), (4, "max_outliers")):
        states[index] = states[index] or key in locked
    return states


def _register_toggles(app: dash.Dash) -> None:
    """The 'Parameters & filters' collapse; parameters the method ignores."""
    app.callback(
        Output(ids.THRESHOLD, "disabled"),
        Output(ids.THRESHOLD, "placeholder"),
        Output(ids.K, "disabled"),
        Output(ids.ALPHA, "disabled"),
        Output(ids.MAX_OUTLIERS, "disabled"),
        Input(ids.METHOD, "value"),
    )(viewer_parameter_states)
    register_disclosure(app, ids.PARAMS_TOGGLE, ids.PARAMS_COLLAPSE)
