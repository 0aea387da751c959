"""Sign-in page callbacks: live e-mail check and the sign-in itself."""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update

from auth import service
from auth.guard import allow_anonymous_callback_outputs
from auth.login import client_ip, sign_in_browser
from auth.redirects import safe_next
from auth.validation import email_problem, normalise_email
from callbacks.forms import register_email_check
from components.auth_forms import LoginIds as ids  # noqa: N813 (read as ids.X)
from data.errors import RateLimited, Unauthorized
from data.services import get_services


def attempt_sign_in(email, password, remember, next_target) -> tuple:
    """(redirect href, error message, error shown) for one sign-in attempt."""
    if not isinstance(email, str) or email_problem(email):
        return no_update, "Enter a valid e-mail address.", True
    if not isinstance(password, str) or not password:
        return no_update, "Enter your password.", True
    try:
        user = service.authenticate(
            get_services(), normalise_email(email), password, client_ip(), "browser"
        )
    except (Unauthorized, RateLimited) as error:
        return no_update, error.message, True
    sign_in_browser(user, remember=remember is True)
    return safe_next(next_target), None, False


def register(app: dash.Dash) -> None:
    """Attach the sign-in callbacks to `app`."""
    allow_anonymous_callback_outputs(
        app, ids.EMAIL, ids.EMAIL_FEEDBACK, ids.ERROR, ids.REDIRECT
    )
    register_email_check(app, ids.EMAIL, ids.EMAIL_FEEDBACK)

    @app.callback(
        Output(ids.REDIRECT, "href"),
        Output(ids.ERROR, "children"),
        Output(ids.ERROR, "is_open"),
        Input(ids.SUBMIT, "n_clicks"),
        Input(ids.PASSWORD, "n_submit"),
        Input(ids.EMAIL, "n_submit"),
        State(ids.EMAIL, "value"),
        State(ids.PASSWORD, "value"),
        State(ids.REMEMBER, "value"),
        State(ids.NEXT, "data"),
        prevent_initial_call=True,
    )
    def sign_in(_clicks, _submit, _email_submit, email, password, remember, nxt):
        return attempt_sign_in(email, password, remember, nxt)
