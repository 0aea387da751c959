"""Create an account."""

import dash
from dash import html

from auth.redirects import safe_next
from components.auth_forms import register_form

dash.register_page(
    __name__,
    path="/register",
    name="Create account",
    title="Create account · Insightboard",
    public=True,
)


def layout(next=None, **_query) -> html.Div:
    """The registration form; `next` is where to go afterwards (local paths only)."""
    return html.Div(register_form(safe_next(next, default="")), id="register-page")
