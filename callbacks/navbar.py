"""The navbar's toggler (the links fold away on narrow screens)."""

from __future__ import annotations

import dash

from auth.guard import allow_anonymous_callback_outputs
from callbacks.disclosure import register_disclosure


def register(app: dash.Dash) -> None:
    """Open and close the collapsed navbar in the browser (no server round trip)."""
    allow_anonymous_callback_outputs(app, "navbar-collapse")
    register_disclosure(app, "navbar-toggler", "navbar-collapse")
