"""The navbar's toggler (the links fold away on narrow screens)."""

from __future__ import annotations

import dash

from callbacks.disclosure import register_disclosure


def register(app: dash.Dash) -> None:
    """Open and close the collapsed navbar in the browser (no server round trip)."""
    register_disclosure(app, "navbar-toggler", "navbar-collapse")
