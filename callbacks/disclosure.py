"""Disclosure buttons: a toggle opens and closes a collapse, and its
aria-expanded tells screen readers whether the panel is open (WCAG 4.1.2)."""

from __future__ import annotations

import dash
from dash import Input, Output, State

TOGGLE_JS = "function(clicks, open) { return !open; }"
EXPANDED_JS = "function(open) { return open ? 'true' : 'false'; }"


def register_disclosure(app: dash.Dash, toggle_id: str, collapse_id: str) -> None:
    """`toggle_id` opens and closes `collapse_id` in the browser; the toggle's
    aria-expanded follows the collapse whatever opened or closed it."""
    app.clientside_callback(
        TOGGLE_JS,
        Output(collapse_id, "is_open"),
        Input(toggle_id, "n_clicks"),
        State(collapse_id, "is_open"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        EXPANDED_JS,
        Output(toggle_id, "aria-expanded"),
        Input(collapse_id, "is_open"),
    )
