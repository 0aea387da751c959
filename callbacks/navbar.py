"""The navbar: its toggler (the links fold away on narrow screens) and the alerts
link's count of rules firing now, refetched when the shell's socket hears that it
changed (a rule of the user's started or stopped firing: api/live.py)."""

from __future__ import annotations

import dash
from dash import Input, Output
from flask import has_request_context

from auth.guard import allow_anonymous_callback_outputs
from auth.identity import current_user_or_none
from callbacks.disclosure import register_disclosure
from components.live import ALERTS_EVENT, ALERTS_SOCKET
from components.navbar import ALERTS_COUNT, count_badge
from data.alerts import service as alerts_service
from data.errors import DomainError
from data.services import get_services


def firing_now() -> int | None:
    """How many of the signed-in user's rules fire now (None signed out, or when
    it cannot be read: the page must still render)."""
    user = current_user_or_none() if has_request_context() else None
    if user is None:
        return None
    try:
        return alerts_service.firing_count(get_services(), user.id)
    except DomainError:
        return None


def alerts_badge(count: int | None) -> list:
    """The alerts link's badge for a count."""
    return count_badge(count, "firing")


def register(app: dash.Dash) -> None:
    """Open and close the collapsed navbar in the browser (no server round trip);
    refetch the alerts count when the shell's socket hears that it changed."""
    allow_anonymous_callback_outputs(app, "navbar-collapse")
    register_disclosure(app, "navbar-toggler", "navbar-collapse")
    app.callback(
        Output(ALERTS_COUNT, "children"),
        Input(ALERTS_SOCKET, f"data-{ALERTS_EVENT}"),
        prevent_initial_call=True,
    )(lambda _event: alerts_badge(firing_now()))
