"""Account page callbacks: change password, create and revoke personal tokens,
create and revoke agent tokens."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import request

from auth import agent_token_service, service
from auth.identity import current_user
from auth.login import client_ip, sign_in_browser
from callbacks.disclosure import register_disclosure
from callbacks.forms import passwords_problem, register_password_checks
from components.agent_tokens import (
    FIELDS,
    AgentTokenIds,
    agent_token_table,
    measure_options,
    new_agent_token_alert,
    readable_error,
)
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


def agent_token_body(form: dict) -> dict:
    """The form's values as the API's request body (POST /api/agent-tokens): no
    ticked measure or dimension means all; the expiry date is that day, 00:00 UTC.
    Anything odd is passed on for the service to refuse, naming the field."""
    body: dict[str, Any] = {
        "name": form.get("name"),
        "datasets": form.get("datasets") or [],
        "measures": form.get("measures") or None,
        "dimensions": form.get("dimensions") or None,
        "maxWindowDays": form.get("window"),
    }
    expiry = form.get("expiry")
    if expiry:
        body["expiresAt"] = f"{expiry}T00:00:00+00:00"
    return body


def form_errors(problem: tuple[str, str] | None = None) -> dict:
    """Every field's error slot and invalid flag, showing `problem` (field, message)
    beside its field and clearing the others."""
    outputs: dict[str, Any] = {}
    for field in FIELDS:
        message = problem[1] if problem and problem[0] == field.api_name else None
        outputs[f"error:{field.api_name}"] = message
        if field.is_input:
            outputs[f"invalid:{field.api_name}"] = message is not None
    return outputs


def attempt_agent_token_creation(form: dict) -> dict:
    """Create an agent token from the form through the API's service: the new
    token shown once and the list refreshed, or the error beside its field."""
    owner = current_user()
    services = get_services()
    keep = dict.fromkeys(("secret", "list", "open", "name"), no_update)
    try:
        token, secret = agent_token_service.create_agent_token(
            services, owner.id, agent_token_body(form), client_ip()
        )
    except DomainError as error:
        field = str((error.details or {}).get("field") or "")
        if field in {f.api_name for f in FIELDS}:
            shown = (field, readable_error(error.message, field))
            return {**keep, "message": None, **form_errors(shown)}
        return {**keep, "message": notice(error.message, "danger"), **form_errors()}
    tokens = agent_token_service.list_agent_tokens(services, owner.id)
    return {
        "secret": new_agent_token_alert(token.name, secret, request.host_url),
        "list": agent_token_table(tokens),
        "open": False,
        "name": "",
        "message": None,
        **form_errors(),
    }


def scope_options(dataset_ids, measures, dimensions) -> tuple:
    """(measure options, ticked measures, dimension options, ticked dimensions)
    of the chosen datasets; ticks no longer offered are dropped."""
    ids = [i for i in dataset_ids or [] if isinstance(i, str)]
    try:
        choices = agent_token_service.scope_choices(
            get_services(), current_user().id, ids
        )
    except DomainError:
        return [], [], [], []
    return (
        measure_options(choices.measures),
        [m for m in measures or [] if m in choices.measures],
        [{"label": name, "value": name} for name in choices.dimensions],
        [d for d in dimensions or [] if d in choices.dimensions],
    )


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
        Output(AgentTokenIds.SECRET, "children", allow_duplicate=True),
        Input({"type": AgentTokenIds.REVOKE, "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def revoke_agent_token(clicks):
        # The one-time token box goes too: it may show the token just revoked.
        return *attempt_agent_token_revocation(clicked_index(clicks)), None

    _register_agent_token_form(app)


def _register_agent_token_form(app: dash.Dash) -> None:
    """The new agent token form: open/close, scope choices, create."""
    agent = AgentTokenIds
    register_disclosure(app, agent.TOGGLE, agent.FORM)

    @app.callback(
        Output(agent.MEASURES, "options"),
        Output(agent.MEASURES, "value"),
        Output(agent.DIMENSIONS, "options"),
        Output(agent.DIMENSIONS, "value"),
        Input(agent.DATASETS, "value"),
        State(agent.MEASURES, "value"),
        State(agent.DIMENSIONS, "value"),
        prevent_initial_call=True,
    )
    def offer_scope(dataset_ids, measures, dimensions):
        return scope_options(dataset_ids, measures, dimensions)

    errors = {}
    for field in FIELDS:
        errors[f"error:{field.api_name}"] = Output(field.error_id, "children")
        if field.is_input:
            errors[f"invalid:{field.api_name}"] = Output(field.control_id, "invalid")

    @app.callback(
        output={
            "secret": Output(agent.SECRET, "children"),
            "list": Output(agent.LIST, "children", allow_duplicate=True),
            "message": Output(agent.MESSAGE, "children", allow_duplicate=True),
            "open": Output(agent.FORM, "is_open", allow_duplicate=True),
            "name": Output(agent.NAME, "value"),
            **errors,
        },
        inputs={
            "_clicks": Input(agent.CREATE, "n_clicks"),
            "form": {
                "name": State(agent.NAME, "value"),
                "datasets": State(agent.DATASETS, "value"),
                "measures": State(agent.MEASURES, "value"),
                "dimensions": State(agent.DIMENSIONS, "value"),
                "expiry": State(agent.EXPIRY, "value"),
                "window": State(agent.WINDOW, "value"),
            },
        },
        prevent_initial_call=True,
    )
    def create_agent_token(_clicks, form):
        return attempt_agent_token_creation(form)
