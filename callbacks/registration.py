"""Registration page callbacks: live field checks and account creation."""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update

from auth import service
from auth.guard import allow_anonymous_callback_outputs
from auth.login import client_ip, sign_in_browser
from auth.redirects import safe_next
from auth.validation import email_problem, normalise_email
from callbacks.forms import (
    passwords_problem,
    register_email_check,
    register_password_checks,
)
from components.auth_forms import RegisterIds as ids  # noqa: N813 (read as ids.X)
from data.errors import DomainError
from data.services import get_services


def attempt_registration(email, password, confirm, next_target) -> tuple:
    """(redirect href, error message, error shown) for one registration attempt."""
    if not isinstance(email, str):
        return no_update, "Enter your e-mail address.", True
    if problem := email_problem(email):
        return no_update, problem, True
    if problem := passwords_problem(password, confirm):
        return no_update, problem, True
    services = get_services()
    try:
        user = service.register_account(
            services, normalise_email(email), password, client_ip()
        )
    except DomainError as error:
        return no_update, error.message, True
    service.record_sign_in(services, user, client_ip(), "registration")
    sign_in_browser(user)
    return safe_next(next_target), None, False


def register(app: dash.Dash) -> None:
    """Attach the registration callbacks to `app`."""
    allow_anonymous_callback_outputs(
        app, ids.EMAIL, ids.EMAIL_FEEDBACK, ids.ERROR, ids.REDIRECT
    )
    register_email_check(app, ids.EMAIL, ids.EMAIL_FEEDBACK)
    register_password_checks(
        app,
        (ids.PASSWORD, ids.PASSWORD_FEEDBACK),
        (ids.CONFIRM, ids.CONFIRM_FEEDBACK),
    )

    @app.callback(
        Output(ids.REDIRECT, "href"),
        Output(ids.ERROR, "children"),
        Output(ids.ERROR, "is_open"),
        Input(ids.SUBMIT, "n_clicks"),
        Input(ids.CONFIRM, "n_submit"),
        State(ids.EMAIL, "value"),
        State(ids.PASSWORD, "value"),
        State(ids.CONFIRM, "value"),
        State(ids.NEXT, "data"),
        prevent_initial_call=True,
    )
    def create_account(_clicks, _submit, email, password, confirm, next_target):
        return attempt_registration(email, password, confirm, next_target)
