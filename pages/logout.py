"""Sign out (the form posts to the /logout route; a GET never signs anyone out)."""

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from auth.identity import current_user_or_none
from components.account import sign_out_form
from components.auth_forms import auth_card

dash.register_page(
    __name__,
    path="/logout",
    name="Sign out",
    title="Sign out · Insightboard",
    public=True,
)


def layout(**_query) -> html.Div:
    """A confirmation button for a signed-in user; a way back in otherwise."""
    user = current_user_or_none()
    if user is None:
        body = [
            dbc.Button(
                "Sign in",
                href="/login",
                color="primary",
                className="w-100",
                external_link=True,
            )
        ]
        card = auth_card("Signed out", "You are not signed in.", body, [])
    else:
        body = [html.Div(sign_out_form("btn btn-primary w-100"), className="mb-2")]
        footer = [dcc.Link("Cancel", href="/", className="text-decoration-none")]
        card = auth_card("Sign out?", f"Signed in as {user.email}", body, footer)
    return html.Div(card, id="logout-page")
