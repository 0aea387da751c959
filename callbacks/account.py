"""Account page callbacks: change password, create and revoke personal tokens,
revoke agent tokens."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from auth import agent_token_service, service
from auth.identity import current_user
from auth.login import client_ip, sign_in_browser
from callbacks.forms import passwords_problem, register_password_checks
from components.agent_tokens import AgentTokenIds, agent_token_table
from components.auth_forms import AccountIds as ids  # noqa: N813 (read as ids.X)
from components.auth_forms import new_token_alert, token_table
from data.errors import DomainError
from data.services import get_services


def notice(message: str, color: str) -> dbc.Alert:
    """A dismissable message above a form."""
    return dbc.Alert(message, color=color, dismissable=True, className="py-2")


def attempt_password_change(current, new, confirm) -> tuple:
    """(message, clear the three fields?) for one change-password attempt."""
    if not isinstance(current, str) or not current:
        return notice("Enter your current password.", "danger"), False
    if problem := passwords_problem(new, confirm):
        return notice(problem, "danger"), False
    user = current_user()
    try:
        service.change_password(get_services(), user, current, new, client_ip())
    except DomainError as error:
        return notice(error.message, "danger"), False
    # Every session was revoked, this one included: start a fresh one here.
    sign_in_browser(user)
    return notice("Password changed. Other sessions were signed out.", "success"), True


def attempt_token_creation(name) -> tuple:
    """(one-time secret alert, token list, name field, message) after a create."""
    if not isinstance(name, str) or not name.strip():
        return (
            no_update,
            no_update,
            no_update,
            notice("Give the token a name first.", "warning"),
        )
    owner = current_user()
    services = get_services()
    try:
        token, secret = service.create_api_token(services, owner.id, name, client_ip())
    except DomainError as error:
        return no_update, no_update, no_update, notice(error.message, "danger")
    tokens = service.list_api_tokens(services, owner.id)
    return new_token_alert(token.name, secret), token_table(tokens), "", None


def attempt_token_revocation(token_id) -> tuple:
    """(token list, message) after revoking one of the caller's tokens."""
    owner = current_user()
    services = get_services()
    try:
        token = service.revoke_api_token(services, owner.id, token_id, client_ip())
        message = notice(f"Token “{token.name}” revoked.", "success")
    except DomainError:
        message = notice("That token does not exist (any more).", "warning")
    return token_table(service.list_api_tokens(services, owner.id)), message


def attempt_agent_token_revocation(token_id) -> tuple:
    """(agent token list, message) after revoking one of the caller's agent tokens."""
    owner = current_user()
    services = get_services()
    try:
        token = agent_token_service.revoke_agent_token(
            services, owner.id, token_id, client_ip()
        )
        message = notice(f"Agent token “{token.name}” revoked.", "success")
    except DomainError:
        message = notice("That agent token does not exist (any more).", "warning")
    tokens = agent_token_service.list_agent_tokens(services, owner.id)
    return agent_token_table(tokens), message


def clicked_index(clicks) -> str:
    """The index of the pattern-matching button that was clicked (PreventUpdate
    when new buttons appearing, with n_clicks None, triggered the callback)."""
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or []):
        raise PreventUpdate
    if not ctx.triggered or not ctx.triggered[0].get("value"):
        raise PreventUpdate
    return str(ctx.triggered_id.get("index"))


def register(app: dash.Dash) -> None:
    """Attach the account page callbacks to `app`."""
    register_password_checks(
        app, (ids.NEW, ids.NEW_FEEDBACK), (ids.CONFIRM, ids.CONFIRM_FEEDBACK)
    )

    @app.callback(
        Output(ids.PASSWORD_MESSAGE, "children"),
        Output(ids.CURRENT, "value"),
        Output(ids.NEW, "value"),
        Output(ids.CONFIRM, "value"),
        Input(ids.CHANGE, "n_clicks"),
        State(ids.CURRENT, "value"),
        State(ids.NEW, "value"),
        State(ids.CONFIRM, "value"),
        prevent_initial_call=True,
    )
    def change_password(_clicks, current, new, confirm):
        message, clear = attempt_password_change(current, new, confirm)
        cleared = ("", "", "") if clear else (no_update, no_update, no_update)
        return message, *cleared

    @app.callback(
        Output(ids.TOKEN_SECRET, "children"),
        Output(ids.TOKEN_LIST, "children"),
        Output(ids.TOKEN_NAME, "value"),
        Output(ids.TOKEN_MESSAGE, "children"),
        Input(ids.TOKEN_CREATE, "n_clicks"),
        Input(ids.TOKEN_NAME, "n_submit"),
        State(ids.TOKEN_NAME, "value"),
        prevent_initial_call=True,
    )
    def create_token(_clicks, _submit, name):
        return attempt_token_creation(name)

    @app.callback(
        Output(ids.TOKEN_LIST, "children", allow_duplicate=True),
        Output(ids.TOKEN_MESSAGE, "children", allow_duplicate=True),
        Output(ids.TOKEN_SECRET, "children", allow_duplicate=True),
        Input({"type": ids.TOKEN_REVOKE, "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def revoke_token(clicks):
        return *attempt_token_revocation(clicked_index(clicks)), None

    @app.callback(
        Output(AgentTokenIds.LIST, "children"),
        Output(AgentTokenIds.MESSAGE, "children"),
        Input({"type": AgentTokenIds.REVOKE, "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def revoke_agent_token(clicks):
        return attempt_agent_token_revocation(clicked_index(clicks))
