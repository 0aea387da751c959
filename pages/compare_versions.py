"""Two versions of a dataset side by side: /compare/<id>?a=1&b=2&metric=…"""

import dash

from callbacks.versions import page_layout

dash.register_page(
    __name__,
    path_template="/compare/<dataset_id>",
    title="Compare versions · Insightboard",
)


def layout(dataset_id: str | None = None, **query):
    """Parse the query (untrusted) and build the page for the signed-in user."""
    return page_layout(dataset_id, query)
