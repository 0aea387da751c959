"""Share links from the owner's side: the Share dialog of a view, and the lists of
links with their revoke buttons (on /account and in the dialog)."""

from __future__ import annotations

import dash
from dash import ALL, MATCH, Input, Output, State, ctx
from dash.exceptions import PreventUpdate
from flask import request

from callbacks import gateway
from components import widgets
from components.share_links import created_link, ids, share_table
from data.errors import DomainError
from data.services import get_services


def create_link(owner_id: str, context: dict, search: str, locked, expires_on):
    """Create the link to the view `context` names (page, dataset) as `search`
    shows it; returns the dialog's result (the URL, or why not)."""
    query = gateway.query_of(search)
    body = {"datasetId": context["datasetId"], "page": context["page"]}
    body["query"] = query
    body["locked"] = list(locked or [])
    if expires_on:
        body["expiresAt"] = f"{expires_on}T23:59:59Z"
    try:
        token = gateway.create_share(get_services(), owner_id, body)
    except DomainError as error:
        return widgets.message_alert(
            "The link was not created", error.message, "warning", "exclamation-triangle"
        )
    return created_link(request.host_url + "share/" + token)


def list_children(owner_id: str, scope: str):
    """The table of the owner's links in this scope ("all" or one dataset)."""
    services = get_services()
    dataset_id = None if scope == "all" else scope
    links = gateway.list_shares(services, owner_id, dataset_id)
    return share_table(links, scope, gateway.dataset_names(services, owner_id))


def register(app: dash.Dash) -> None:
    """Register the share dialog's and the lists' callbacks on this app."""
    app.clientside_callback(
        "function(n) { return Boolean(n); }",
        Output(ids.MODAL, "is_open"),
        Input(ids.OPEN, "n_clicks"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(ids.RESULT, "children"),
        Output({"type": ids.REFRESH, "scope": ALL}, "data"),
        Input(ids.CREATE, "n_clicks"),
        State(ids.LOCKS, "value"),
        State(ids.EXPIRY, "value"),
        State(ids.LOCATION, "search"),
        State(ids.CONTEXT, "data"),
        State({"type": ids.REFRESH, "scope": ALL}, "data"),
        prevent_initial_call=True,
    )
    def create_share_link(_clicks, locked, expires_on, search, context, counters):
        """Create a link for the view as it is now; the list below refreshes."""
        user = gateway.user_or_none()
        if user is None or not isinstance(context, dict):
            raise PreventUpdate
        result = create_link(user.id, context, search or "", locked, expires_on)
        return result, [(count or 0) + 1 for count in counters]

    @app.callback(
        Output({"type": ids.LIST, "scope": MATCH}, "children"),
        Input({"type": ids.REVOKE, "link": ALL, "scope": MATCH}, "n_clicks"),
        Input({"type": ids.REFRESH, "scope": MATCH}, "data"),
        State({"type": ids.REFRESH, "scope": MATCH}, "id"),
    )
    def show_links(_revokes, _refresh, refresh_id):
        """Draw the list; a revoke button click revokes its link first."""
        user = gateway.user_or_none()
        if user is None:
            raise PreventUpdate
        clicked = ctx.triggered_id
        if isinstance(clicked, dict) and clicked.get("type") == ids.REVOKE:
            if not ctx.triggered[0].get("value"):
                raise PreventUpdate  # a button drawn, not clicked
            gateway.revoke_share(get_services(), user.id, clicked["link"])
        return list_children(user.id, refresh_id["scope"])
