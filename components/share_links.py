"""Share links in the UI: the Share dialog of a view and the list with revoke buttons
(on /account for every link, on a view for that dataset's links)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.formatting import format_timestamp
from components.widgets import aria, icon

PREFIX = "share"


class ids:  # noqa: N801 - a namespace of component ids
    """Component ids of the share dialog and lists (lists are keyed by `scope`:
    "all" on /account, the dataset id on a view)."""

    OPEN = f"{PREFIX}-open"
    MODAL = f"{PREFIX}-modal"
    LOCKS = f"{PREFIX}-locks"
    EXPIRY = f"{PREFIX}-expiry"
    CREATE = f"{PREFIX}-create"
    RESULT = f"{PREFIX}-result"
    URL = f"{PREFIX}-url"
    LIST = f"{PREFIX}-list"  # {"type": LIST, "scope": scope}
    REVOKE = f"{PREFIX}-revoke"  # {"type": REVOKE, "link": id, "scope": scope}
    REFRESH = f"{PREFIX}-refresh"  # {"type": REFRESH, "scope": scope}
    CONTEXT = f"{PREFIX}-context"  # {"page": ..., "datasetId": ...} of the view
    LOCATION = f"{PREFIX}-location"  # the view's URL, as it is when shared


LOCK_LABELS = {
    "metric": "Metric",
    "granularity": "Granularity",
    "aggregation": "Aggregation",
    "method": "Detection method",
    "threshold": "Threshold",
    "k": "k",
    "alpha": "Alpha",
    "max_outliers": "Max outliers",
    "window": "Rolling window",
    "from": "Start date",
    "to": "End date",
    # The KPI page's
    "period": "Period",
    "measures": "Measures",
    "compare": "Comparison",
    "hours": "Business hours",
    "days": "Weekdays",
    "tz": "Time zone",
    "breakdown": "Breakdown",
    "top": "Top N",
}


def lock_label(key: str) -> str:
    """A parameter name as the dialog shows it ("filter.region" → "Filter: region")."""
    if key.startswith("filter."):
        return f"Filter: {key[len('filter.') :]}"
    return LOCK_LABELS.get(key, key)


def share_dialog(
    scope: str, lockable: list[str], default_locked: list[str], page: str
) -> dbc.Modal:
    """The Share button's dialog on the view `page` of dataset `scope`: what to
    lock, an optional expiry, the new link, and this dataset's links."""
    return dbc.Modal(
        [
            dcc.Store(id=ids.CONTEXT, data={"page": page, "datasetId": scope}),
            dcc.Location(id=ids.LOCATION, refresh=False),
            dbc.ModalHeader(dbc.ModalTitle("Share this view")),
            dbc.ModalBody(
                [
                    html.P(
                        "Anyone with the link sees this view read-only, without an "
                        "account. Locked settings cannot be changed by the viewer.",
                        className="small text-muted",
                    ),
                    html.Fieldset(
                        [
                            html.Legend(
                                "Lock", className="form-label small fw-semibold"
                            ),
                            dbc.Checklist(
                                id=ids.LOCKS,
                                options=[
                                    {"label": lock_label(k), "value": k}
                                    for k in lockable
                                ],
                                value=default_locked,
                                inline=True,
                                className="small",
                            ),
                        ],
                        className="mb-3",
                    ),
                    dbc.Label(
                        "Expires on (optional)",
                        html_for=ids.EXPIRY,
                        class_name="small fw-semibold",
                    ),
                    dbc.Input(id=ids.EXPIRY, type="date", size="sm", class_name="mb-3"),
                    dbc.Button(
                        [icon("link-45deg"), "Create link"],
                        id=ids.CREATE,
                        color="primary",
                        size="sm",
                    ),
                    html.Div(id=ids.RESULT, className="mt-3", **aria(live="polite")),
                    html.H2("Links to this dataset", className="h6 mt-4"),
                    share_list_container(scope),
                ]
            ),
        ],
        id=ids.MODAL,
        is_open=False,
        size="lg",
    )


def share_list_container(scope: str) -> html.Div:
    """Where a list of links is drawn (filled by its callback)."""
    return html.Div(
        [
            dcc.Store(id={"type": ids.REFRESH, "scope": scope}, data=0),
            html.Div(id={"type": ids.LIST, "scope": scope}),
        ]
    )


def created_link(url: str) -> list:
    """The new link, ready to copy."""
    return [
        dbc.Label(
            "New link (copy it now: it is shown only once)",
            html_for=ids.URL,
            class_name="small",
        ),
        dbc.Input(id=ids.URL, value=url, readonly=True, size="sm"),
    ]


def share_table(links: list[dict], scope: str, dataset_names: dict[str, str]):
    """The links as a table with a revoke button each (or a line saying none)."""
    if not links:
        return html.P("No share links yet.", className="small text-muted mb-0")
    header = [
        "Page",
        "Dataset",
        "Locked",
        "Created",
        "Expires",
        "Last used",
        "Views",
        "",
    ]
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(text, scope="col") for text in header])),
            html.Tbody([_link_row(link, scope, dataset_names) for link in links]),
        ],
        size="sm",
        hover=True,
        responsive=True,
        class_name="small ib-share-table mb-0",
    )


def _when(value: str | None, empty: str) -> str:
    return format_timestamp(value, "hour") if value else empty


def _link_row(link: dict, scope: str, dataset_names: dict[str, str]) -> html.Tr:
    locked = [lock_label(key) for key in link["locked"] if key != "version"]
    return html.Tr(
        [
            html.Td(link["page"].capitalize()),
            html.Td(dataset_names.get(link["datasetId"], link["datasetId"][:8])),
            html.Td(", ".join(locked) or "nothing"),
            html.Td(_when(link["created"], "")),
            html.Td(_when(link["expiresAt"], "never")),
            html.Td(_when(link["lastUsed"], "not yet")),
            html.Td(str(link["views"])),
            html.Td(
                dbc.Button(
                    "Revoke",
                    id={"type": ids.REVOKE, "link": link["id"], "scope": scope},
                    color="outline-danger",
                    size="sm",
                    title="Stop this link from working",
                )
            ),
        ]
    )


def share_list_card(scope: str = "all") -> dbc.Card:
    """The /account card listing every share link."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Share links", className="h5 mb-1"),
                html.P(
                    "Read-only links to your views. Revoke one to stop it working "
                    "at once.",
                    className="small text-muted",
                ),
                share_list_container(scope),
            ]
        ),
        class_name="shadow-sm border-0 mb-4",
        id="account-shares",
    )
