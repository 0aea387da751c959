"""The user's reports: status, size and downloads, and the scheduled ones."""

import dash

from components.reports_layout import reports_page

dash.register_page(
    __name__,
    path="/reports",
    name="Reports",
    title="Reports · Insightboard",
    nav_order=3,
)


def layout(**_query):
    """The page shell; the list comes from its callback (and refreshes itself)."""
    return reports_page()
