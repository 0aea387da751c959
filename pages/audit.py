"""The audit trail: your events (everyone's for administrators), filtered, paged
and downloadable as CSV."""

import dash

from callbacks.audit import page_layout

dash.register_page(
    __name__,
    path="/audit",
    name="Audit",
    title="Audit trail · Insightboard",
    nav_order=4,
)


def layout(**_query):
    """The page for the signed-in user; the table comes from its callback."""
    return page_layout()
