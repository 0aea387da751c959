"""The KPI portal of one dataset: /kpi/<id>?period=…&compare=…&filter.<dim>=…"""

import dash

from callbacks.kpi import page_layout

dash.register_page(
    __name__, path_template="/kpi/<dataset_id>", title="KPIs · Insightboard"
)


def layout(dataset_id: str | None = None, **query):
    """Parse the query (untrusted) and build the page for the signed-in user."""
    return page_layout(dataset_id, query)
