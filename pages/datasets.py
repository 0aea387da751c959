"""The user's datasets: upload with preview, live processing status, actions."""

import dash

from components.datasets_layout import datasets_page, page_upload_limit
from data.services import get_services

dash.register_page(
    __name__,
    path="/datasets",
    name="Datasets",
    title="Datasets · Insightboard",
    nav_order=1,
)


def layout(**_query):
    """The page shell; the list and its live status come from callbacks."""
    return datasets_page(page_upload_limit(get_services().settings.max_upload_bytes))
