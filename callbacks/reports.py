"""Report callbacks: the *Report* buttons of the analysis and KPI views, and the
/reports list. Thin: the view's parameters come from the page's URL state (the
same parsers the views use), the work from data.reports."""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update

from api.reports import download_link
from callbacks import gateway
from callbacks.kpi import view_query
from components import analysis_layout, kpi_layout, url_state
from components.reports_layout import (
    ids,
    queued_message,
    reports_table,
    schedules_table,
)
from data.errors import DomainError
from data.reports import schedules
from data.reports import service as reports
from data.services import get_services

IN_FLIGHT = ("queued", "running")


def _request(owner_id: str, page: str, dataset_id: str, search: str | None) -> dict:
    """The report request for the view a page shows at this URL."""
    if page == "kpi":
        params = view_query(get_services(), owner_id, dataset_id, search)
        version = params.pop("version", None)
        version = int(version) if version else None
    else:
        state, _ = url_state.parse_search(search)
        params, version = url_state.to_params(state), state.version
    return {
        "dataset_id": dataset_id,
        "version": version,
        "page": page,
        "params": params,
        "formats": ("pdf", "html"),
    }


def request_for_page(page: str, clicks, search, dataset_id):
    """Queue a report of the page's current view; say what happened."""
    user = gateway.user_or_none()
    if not clicks or user is None or not dataset_id:
        return no_update
    try:
        request = _request(user.id, page, dataset_id, search)
        report = reports.request_report(get_services(), user.id, request)
    except DomainError as error:
        return f"No report: {error.message}"
    return queued_message(report)


def list_page(_intervals, _clicks):
    """The /reports list and schedules; polling stops when nothing is in flight."""
    user = gateway.user_or_none()
    if user is None:
        return no_update, no_update, True
    services = get_services()
    listed = reports.list_reports(services, user.id, download_link)
    planned = schedules.list_schedules(services, user.id)
    busy = any(report["status"] in IN_FLIGHT for report in listed)
    return reports_table(listed), schedules_table(planned), not busy


def _button_callback(app: dash.Dash, page: str, page_ids) -> None:
    app.callback(
        Output({"type": ids.BUTTON_STATUS, "page": page}, "children"),
        Input({"type": ids.BUTTON, "page": page}, "n_clicks"),
        State(page_ids.URL, "search"),
        State(page_ids.DATASET, "data"),
        prevent_initial_call=True,
    )(lambda clicks, search, dataset_id: request_for_page(
        page, clicks, search, dataset_id))  # fmt: skip


def register(app: dash.Dash) -> None:
    """Register the report callbacks on this app."""
    _button_callback(app, "analysis", analysis_layout.ids)
    _button_callback(app, "kpi", kpi_layout.ids)
    app.callback(
        Output(ids.LIST, "children"),
        Output(ids.SCHEDULES, "children"),
        Output(ids.POLL, "disabled"),
        Input(ids.POLL, "n_intervals"),
        Input(ids.REFRESH, "n_clicks"),
    )(list_page)
