"""The analysis view of one dataset: /datasets/<id>?metric=…&method=…"""

import dash

from callbacks.analysis import page_layout

dash.register_page(
    __name__,
    path_template="/datasets/<dataset_id>",
    title="Analysis · Insightboard",
)


def layout(dataset_id: str | None = None, **query):
    """Parse the query (untrusted) and build the page for the signed-in user."""
    return page_layout(dataset_id, query)
