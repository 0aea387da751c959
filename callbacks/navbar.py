"""The navbar's toggler (the links fold away on narrow screens)."""

from __future__ import annotations

import dash
from dash import Input, Output, State

from auth.guard import allow_anonymous_callback_outputs


def register(app: dash.Dash) -> None:
    """Open and close the collapsed navbar in the browser (no server round trip)."""
    allow_anonymous_callback_outputs(app, "navbar-collapse")
    app.clientside_callback(
        "function(clicks, open) { return !open; }",
        Output("navbar-collapse", "is_open"),
        Input("navbar-toggler", "n_clicks"),
        State("navbar-collapse", "is_open"),
        prevent_initial_call=True,
    )
