"""Sign in."""

import dash
import dash_bootstrap_components as dbc
from dash import html

from auth.identity import current_user_or_none
from auth.redirects import safe_next
from components.account import sign_out_form
from components.auth_forms import auth_card, login_form

dash.register_page(
    __name__,
    path="/login",
    name="Sign in",
    title="Sign in · Insightboard",
    public=True,
)


def already_signed_in(email: str, next_target: str) -> html.Div:
    """Shown instead of the form to someone who is signed in already."""
    body = [
        html.P(
            ["You are signed in as ", html.Strong(email), "."], className="text-center"
        ),
        dbc.Button(
            "Continue",
            href=next_target,
            color="primary",
            className="w-100 mb-2",
            external_link=True,
        ),
    ]
    footer = [sign_out_form("btn btn-link btn-sm text-decoration-none")]
    return auth_card("Signed in", "Nothing to do here.", body, footer)


def layout(next=None, signed_out=None, **_query) -> html.Div:
    """The sign-in form; `next` is where to go afterwards (local paths only)."""
    target = safe_next(next, default="")
    user = current_user_or_none()
    if user is not None:
        return html.Div(already_signed_in(user.email, target or "/"), id="login-page")
    notice = "You have been signed out." if signed_out == "1" else None
    return html.Div(login_form(target, notice), id="login-page")
