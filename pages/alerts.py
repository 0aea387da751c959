"""Alerts: rules, what fires now, the history, and a new rule with its backtest."""

import dash

from callbacks.alerts import page_layout

dash.register_page(
    __name__, path="/alerts", name="Alerts", title="Alerts · Insightboard", nav_order=2
)


def layout(**_query):
    """The page for the signed-in user."""
    return page_layout()
