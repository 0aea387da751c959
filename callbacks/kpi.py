"""The KPI page: controls ⇄ URL, and the URL → cards, trend and breakdown.

The page's query is parsed once, by `components.kpi_state.parse_page_query`; the
view comes from data.kpi.service.get_kpi, the service behind GET /api/kpi.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs

import dash
from dash import ALL, Input, Output, State, ctx, html, no_update

from callbacks import gateway
from components.kpi_cards import breakdown_table, kpi_card
from components.kpi_figures import breakdown_spec, trend_spec
from components.kpi_layout import ids, kpi_page, not_found_page
from components.kpi_state import KpiPageState, api_query, parse_page_query, serialise
from components.live import register_live_trigger
from components.widgets import message_alert
from data.errors import Conflict, DomainError, NotFound
from data.kpi.params import WEEKDAYS
from data.kpi.periods import local_date
from data.kpi.service import get_kpi, kpi_data_end, kpi_meta
from data.services import Services, get_services

FILTER_IDS = {"type": ids.FILTER, "dimension": ALL}
VERSUS = {
    "none": "",
    "previous_period": "the previous period",
    "previous_day": "the day before",
    "wow": "last week",
    "mom": "last month",
    "yoy": "last year",
}
CONTROLS = [
    (ids.MEASURES, "value"),
    (ids.PERIOD, "value"),
    (ids.DATES, "start_date"),
    (ids.DATES, "end_date"),
    (ids.GRANULARITY, "value"),
    (ids.COMPARE, "value"),
    (ids.HOURS_FROM, "value"),
    (ids.HOURS_TO, "value"),
    (ids.DAYS, "value"),
    (ids.TZ, "value"),
    (ids.BREAKDOWN, "value"),
    (ids.TOP, "value"),
]


def page_layout(dataset_id: str | None, query: dict) -> object:
    """The KPI page for the signed-in user, or a friendly not-found page."""
    state, notices = parse_page_query(query)
    user = gateway.user_or_none()
    if user is None or not dataset_id:
        return not_found_page()
    try:
        meta = kpi_meta(get_services(), user.id, dataset_id, state.version)
    except (NotFound, Conflict):
        return not_found_page()
    return kpi_page(dataset_id, meta, state, notices)


def search_query(search: str | None) -> dict:
    """A location's ?search as the query dict parse_page_query takes."""
    return dict(parse_qs((search or "").lstrip("?")).items())


def state_from_controls(values: list, filter_ids: list, filters: list, trigger):
    """A page state from the controls (a date edit makes the period custom)."""
    (
        measures,
        period,
        start,
        end,
        granularity,
        compare,
        hour_from,
        hour_to,
        days,
        tz,
        breakdown,
        top,
    ) = values
    if trigger == ids.DATES:
        period = "custom"
    query: dict = {
        "period": period,
        "measures": ",".join(measures or []),
        "compare": compare,
        "tz": tz,
        "breakdown": None if breakdown == "none" else breakdown,
        "top": str(top) if top else None,
    }
    if period == "custom":
        query.update(
            {
                "from": (start or "")[:10],
                "to": (end or "")[:10],
                "granularity": granularity,
            }
        )
    if hour_from and hour_to:
        query["hours"] = f"{hour_from}-{hour_to}"
    if days and len(days) < len(WEEKDAYS):
        query["days"] = ",".join(d for d in WEEKDAYS if d in days)
    for component_id, chosen in zip(filter_ids, filters, strict=False):
        if chosen:
            query[f"filter.{component_id['dimension']}"] = ",".join(chosen)
    state, _ = parse_page_query({k: v for k, v in query.items() if v})
    return state


def control_values(state: KpiPageState, filter_ids: list) -> tuple[list, list]:
    """The controls' values for a state, in CONTROLS order, and the filters'."""
    start, end = state.hours.split("-") if state.hours else ("", "")
    values = [
        list(state.measures),
        state.period,
        state.start.isoformat() if state.start else None,
        state.end.isoformat() if state.end else None,
        state.granularity,
        state.compare,
        start,
        end,
        state.days.split(",") if state.days else list(WEEKDAYS),
        state.tz,
        state.breakdown or "none",
        state.top,
    ]
    return values, [list(state.filters.get(i["dimension"], ())) for i in filter_ids]


def sync_state(search, values, filters, filter_ids):
    """URL → controls (load, back/forward); controls → URL (a history entry).
    Under a share link the link's locked values win over both."""
    viewer = gateway.viewer()
    locked = viewer.locked if viewer else frozenset()
    trigger = ctx.triggered_id
    if trigger is None or trigger == ids.URL:
        state = locked_state(viewer, search)
        controls, chosen = control_values(state, filter_ids)
        fixed = state.period != "custom" or "granularity" in locked
        return no_update, controls, chosen, fixed
    trigger = trigger if isinstance(trigger, str) else ids.FILTER
    state = state_from_controls(values, filter_ids, filters, trigger)
    state = locked_state(viewer, serialise(state))
    wanted = serialise(state)
    controls, chosen = control_values(state, filter_ids)
    url = no_update if wanted == (search or "") else wanted
    return url, controls, chosen, state.period != "custom" or "granularity" in locked


def locked_state(viewer: gateway.Viewer | None, search: str | None) -> KpiPageState:
    """The page state of a query string, with a share link's locked values."""
    applied = viewer.search(search) if viewer else search
    state, _ = parse_page_query(search_query(applied))
    return state


def view_query(services: Services, owner_id: str, dataset_id: str, search) -> dict:
    """The GET /api/kpi query of the page's ?search (presets end on the data's
    last day); the view callback and the Report button both use it."""
    state, _ = parse_page_query(search_query(search))
    end = kpi_data_end(services, owner_id, dataset_id, state.version)
    moment = dt.datetime.fromisoformat(end) if end else dt.datetime.now(dt.UTC)
    return api_query(state, local_date(moment, state.tz))


def render_view(services: Services, owner_id: str, dataset_id: str, search) -> dict:
    """Everything the view callback outputs, from the service (thin)."""
    try:
        query = view_query(services, owner_id, dataset_id, search)
        view = get_kpi(services, owner_id, dataset_id, query)
    except DomainError as error:
        return _problem(error)
    return view_outputs(view)


def _problem(error: DomainError) -> dict:
    alert = message_alert("This view cannot be shown", error.message, "warning")
    return {
        "status": alert,
        "cards": [],
        "trend": {},
        "breakdown_chart": {},
        "breakdown_table": None,
        "breakdown_style": {"display": "none"},
        "subtitle": "",
    }


def subtitle(view: dict) -> str:
    """ "2028-03-01 – 2028-03-07 · vs 2028-02-23 – 2028-02-29 · Europe/Berlin"."""
    period = view["period"]
    text = f"{period['from'][:10]} – {period['to'][:10]}"
    if view["comparisonPeriod"]:
        other = view["comparisonPeriod"]
        text += f" · vs {other['from'][:10]} – {other['to'][:10]}"
    query = view["query"]
    if query.get("hours") or query.get("days"):
        text += (
            f" · hours {query.get('hours') or 'all'} {query.get('days') or ''}".rstrip()
        )
    if view.get("partial"):
        text += " · so far (compared like for like)"
    return f"{text} · {view['tz']}"


def view_outputs(view: dict) -> dict:
    """Cards, figures and the breakdown of a KPI view."""
    label = VERSUS[view["query"]["compare"]]
    breakdown: dict = view.get("breakdown") or {}
    shown = bool(breakdown and breakdown["measures"])
    first = next(
        (
            m
            for m in view["measures"]
            if shown and m["name"] == breakdown["measures"][0]
        ),
        None,
    )
    return {
        "status": None,
        "cards": [kpi_card(m, label) for m in view["measures"]],
        "trend": trend_spec(view),
        "breakdown_chart": breakdown_spec(breakdown, first) if first else {},
        "breakdown_table": breakdown_table(breakdown, view["measures"])
        if shown
        else None,
        "breakdown_style": {} if shown else {"display": "none"},
        "subtitle": subtitle(view),
    }


def register(app: dash.Dash) -> None:
    """Register the KPI page's callbacks on this app."""
    app.callback(
        output=[
            Output(ids.URL, "search"),
            [Output(c, p) for c, p in CONTROLS],
            Output(FILTER_IDS, "value"),
            Output(ids.GRANULARITY, "disabled"),
        ],
        inputs={
            "search": Input(ids.URL, "search"),
            "values": [Input(c, p) for c, p in CONTROLS],
            "filters": Input(FILTER_IDS, "value"),
            "filter_ids": State(FILTER_IDS, "id"),
        },
    )(sync_state)
    app.callback(
        output={
            "status": Output(ids.STATUS, "children"),
            "cards": Output(ids.CARDS, "children"),
            "trend": Output(ids.TREND, "figure"),
            "breakdown_chart": Output(ids.BREAKDOWN_CHART, "figure"),
            "breakdown_table": Output(ids.BREAKDOWN_TABLE, "children"),
            "breakdown_style": Output(ids.BREAKDOWN_CARD, "style"),
            "subtitle": Output(ids.SUBTITLE, "children"),
        },
        inputs={
            "search": Input(ids.URL, "search"),
            "live": Input(ids.LIVE, "data"),
            "dataset_id": State(ids.DATASET, "data"),
        },
    )(_view)
    register_live_trigger(app, ids.LIVE)
    app.clientside_callback(
        """
        function(clicks) {
            var url = window.location.href;
            var copied = Boolean(navigator.clipboard && window.isSecureContext);
            if (copied) { navigator.clipboard.writeText(url).catch(function () {}); }
            return [url, true, copied ? "Link copied" : "Copy this link"];
        }
        """,
        Output(ids.SHARE_URL, "value"),
        Output(ids.SHARE_TOAST, "is_open"),
        Output(ids.SHARE_TOAST, "header"),
        Input(ids.COPY_LINK, "n_clicks"),
        prevent_initial_call=True,
    )


def _view(search, dataset_id, live=None):
    viewer = gateway.viewer()
    if viewer is None:
        return _problem(NotFound("Sign in to see this view."))
    return render_view(
        get_services(),
        viewer.owner_id,
        viewer.dataset(dataset_id),
        viewer.search(search),
    )


__all__ = ["html", "page_layout", "register"]
