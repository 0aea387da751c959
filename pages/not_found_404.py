"""The page shown for an unknown URL."""

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", title="Page not found · Insightboard")


def layout(**_query) -> html.Div:
    """A friendly 404 with a way back."""
    return html.Div(
        [
            html.H1("Page not found", className="h3"),
            html.P(
                "The address you opened does not match any page.",
                className="text-muted",
            ),
            dcc.Link("Back to the home page", href="/"),
        ],
        className="py-5 text-center",
        id="not-found-page",
    )
