"""Callbacks of /audit. Thin: the filters go through the same parser as
GET /api/audit (auth/audit_view.py), which also decides whose events show (the
user's own; an administrator's page shows everyone's)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from auth import audit_view
from callbacks import gateway
from components.audit_layout import (
    FILTER_INPUTS,
    PAGE_SIZE,
    audit_page,
    events_table,
    filter_query,
    ids,
    page_text,
)
from components.widgets import message_alert
from data.errors import DomainError
from data.services import get_services


def page_layout() -> object:
    """The page for the signed-in user (the guard lets no one else in)."""
    user = gateway.user_or_none()
    if user is None:
        return None
    names = gateway.dataset_names(get_services(), user.id)
    return audit_page(names, everyone=user.role == "admin")


def _filters(values: tuple, **paging) -> audit_view.AuditFilters:
    """The page's filter values as the API's filters (everyone's for admins)."""
    user = gateway.user_or_none()
    if user is None:
        raise PreventUpdate
    query = {**filter_query(*values), **{k: str(v) for k, v in paging.items()}}
    if user.role == "admin":
        query["all"] = "1"
    return audit_view.parse_filters(query)


def show_page(page: int, *values):
    """One page of events (one more is read to know whether there is another)."""
    user = gateway.user_or_none()
    page = page or 0
    try:
        filters = _filters(values, limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
        rows = audit_view.visible_events(get_services().postgres, user, filters)
    except DomainError as error:
        problem = message_alert("Check the filters", error.message, "warning")
        return problem, "", True, True
    shown = rows[:PAGE_SIZE]
    names = gateway.dataset_names(get_services(), user.id)
    table = events_table(shown, names, {user.id: user.email})
    return (table, page_text(page, len(shown)), page == 0,
            len(rows) <= PAGE_SIZE)  # fmt: skip


def turned_page(_newer, _older, *filters_then_page) -> int:
    """The page after a click: newer, older, or the first when a filter changed."""
    page = filters_then_page[-1] or 0
    if ctx.triggered_id == ids.PREVIOUS:
        return max(0, page - 1)
    if ctx.triggered_id == ids.NEXT:
        return page + 1
    return 0


def download(clicks, *values):
    """Every event the filters match, as a spreadsheet-safe CSV file."""
    if not clicks:
        raise PreventUpdate
    try:
        filters = _filters(values)
    except DomainError:
        return no_update
    rows = audit_view.export_events(
        get_services().postgres, gateway.user_or_none(), filters
    )
    return {"content": audit_view.events_csv(rows), "filename": "audit-events.csv",
            "type": "text/csv"}  # fmt: skip


def register(app: dash.Dash) -> None:
    """The page's callbacks."""
    filter_values = [Input(component, "value") for component in FILTER_INPUTS]

    app.callback(
        Output(ids.TABLE, "children"),
        Output(ids.PAGE_TEXT, "children"),
        Output(ids.PREVIOUS, "disabled"),
        Output(ids.NEXT, "disabled"),
        Input(ids.PAGE_NUMBER, "data"),
        *[State(component, "value") for component in FILTER_INPUTS],
    )(show_page)
    app.callback(
        Output(ids.PAGE_NUMBER, "data"),
        Input(ids.PREVIOUS, "n_clicks"),
        Input(ids.NEXT, "n_clicks"),
        *filter_values,
        State(ids.PAGE_NUMBER, "data"),
        prevent_initial_call=True,
    )(turned_page)
    app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"),
        *[State(component, "value") for component in FILTER_INPUTS],
        prevent_initial_call=True,
    )(download)
