"""Layout of /datasets: the list, the upload panel and the dialogs (pure builders)."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from components.formatting import format_count, format_timestamp
from components.live import live_store
from components.widgets import (
    aria,
    card,
    checklist_field,
    empty_state,
    icon,
    progress_bar,
    status_style,
)
from data.dataset_models import (
    DEFAULT_MIN_ENTITIES,
    MIN_ENTITIES_HIGH,
    MIN_ENTITIES_LOW,
)

PREFIX = "datasets"
ACCEPTED = ".csv,.json,.jsonl,.ndjson,text/csv,application/json"


class ids:  # noqa: N801 - a namespace of component ids, read as ids.GRID
    """Component ids of the datasets page."""

    PAGE = f"{PREFIX}-page"
    NAV = f"{PREFIX}-nav"
    GRID = f"{PREFIX}-grid"
    GRID_CARD = f"{PREFIX}-grid-card"
    SEARCH = f"{PREFIX}-search"
    EMPTY = f"{PREFIX}-empty"
    SAMPLE = f"{PREFIX}-sample"
    SAMPLE_EMPTY = f"{PREFIX}-sample-empty"
    POLL = f"{PREFIX}-poll"
    WATCHED = f"{PREFIX}-watched"
    LIVE_HOLDER = f"{PREFIX}-live"
    REFRESH = f"{PREFIX}-refresh"
    CHOSEN_VERSIONS = f"{PREFIX}-chosen-versions"
    PROGRESS = f"{PREFIX}-progress"
    FEEDBACK = f"{PREFIX}-feedback"
    UPLOAD_TOGGLE = f"{PREFIX}-upload-toggle"
    UPLOAD_COLLAPSE = f"{PREFIX}-upload-collapse"
    UPLOAD = f"{PREFIX}-upload"
    UPLOAD_EMPTY = f"{PREFIX}-upload-empty"
    UPLOAD_ERROR = f"{PREFIX}-upload-error"
    PREVIEW = f"{PREFIX}-preview"
    PREVIEW_SECTION = f"{PREFIX}-preview-section"
    FILE_INFO = f"{PREFIX}-file-info"
    TIME_COLUMN = f"{PREFIX}-time-column"
    METRICS = f"{PREFIX}-metrics"
    DIMENSIONS = f"{PREFIX}-dimensions"
    TARGET = f"{PREFIX}-target"
    NAME = f"{PREFIX}-name"
    EXISTING = f"{PREFIX}-existing"
    NAME_GROUP = f"{PREFIX}-name-group"
    EXISTING_GROUP = f"{PREFIX}-existing-group"
    SUBMIT = f"{PREFIX}-submit"
    CANCEL = f"{PREFIX}-cancel"
    FILE_STORE = f"{PREFIX}-file"
    DELETE_MODAL = f"{PREFIX}-delete-modal"
    DELETE_TEXT = f"{PREFIX}-delete-text"
    DELETE_CONFIRM = f"{PREFIX}-delete-confirm"
    DELETE_CANCEL = f"{PREFIX}-delete-cancel"
    PENDING_DELETE = f"{PREFIX}-pending-delete"
    PRIVACY_MODAL = f"{PREFIX}-privacy-modal"
    PRIVACY_TEXT = f"{PREFIX}-privacy-text"
    PRIVACY_K = f"{PREFIX}-privacy-k"
    PRIVACY_UNIT = f"{PREFIX}-privacy-unit"
    PRIVACY_ERROR = f"{PREFIX}-privacy-error"
    PRIVACY_SAVE = f"{PREFIX}-privacy-save"
    PRIVACY_CANCEL = f"{PREFIX}-privacy-cancel"
    PENDING_PRIVACY = f"{PREFIX}-pending-privacy"


def page_upload_limit(max_upload_bytes: int) -> int:
    """The largest file the page can send: the browser sends it base64-encoded
    (4/3 larger) in one request bounded by the same limit (+1 MB of overhead)."""
    return min(max_upload_bytes, (max_upload_bytes + 1024 * 1024) * 3 // 4 - 64 * 1024)


def header() -> html.Div:
    """Title, one-line explanation and the upload button."""
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Datasets", className="h3 mb-1 ib-page-title"),
                    html.P(
                        "Upload CSV or JSON files. Every upload is kept as a version "
                        "you can reopen, reprocess or compare.",
                        className="text-muted mb-0",
                    ),
                ]
            ),
            html.Button(
                [icon("cloud-arrow-up"), "Upload dataset"],
                id=ids.UPLOAD_TOGGLE,
                type="button",
                className="btn btn-primary",
                **aria(controls=ids.UPLOAD_COLLAPSE, expanded="false"),
            ),
        ],
        className="d-flex flex-wrap justify-content-between align-items-end gap-3 mb-3",
    )


def dropzone(component_id: str, max_size: int) -> dcc.Upload:
    """Drag and drop (or click/Enter to browse) a single file."""
    return dcc.Upload(
        id=component_id,
        children=html.Div(
            [
                icon("cloud-arrow-up", "d-block mb-2"),
                html.Div(
                    [
                        html.Strong("Drop a file here"),
                        " or ",
                        html.Span("browse", className="text-primary fw-semibold"),
                    ]
                ),
                html.Div(
                    f"CSV, JSON or JSON Lines · up to {max_size // (1024 * 1024):,} MB",
                    className="small text-muted mt-1",
                ),
            ]
        ),
        accept=ACCEPTED,
        max_size=max_size,
        multiple=False,
        className="ib-dropzone",
        className_active="ib-dropzone ib-dropzone-active",
    )


def column_selectors() -> dbc.Row:
    """Time, metric and dimension columns (defaults come from the inferred schema)."""
    return dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label(
                        "Time column",
                        html_for=ids.TIME_COLUMN,
                        class_name="small fw-semibold mb-1",
                    ),
                    dbc.Select(id=ids.TIME_COLUMN, options=[]),
                ],
                md=4,
            ),
            dbc.Col(
                checklist_field(
                    "Metric columns", ids.METRICS, empty_text="No numeric column"
                ),
                md=4,
            ),
            dbc.Col(
                checklist_field(
                    "Dimension columns (optional)",
                    ids.DIMENSIONS,
                    empty_text="No column to filter by",
                ),
                md=4,
            ),
        ],
        className="g-3 mb-3",
    )


def destination() -> dbc.Row:
    """A new dataset (with its name) or a new version of an existing one."""
    return dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Save as", class_name="small fw-semibold mb-1 d-block"),
                    dbc.RadioItems(
                        id=ids.TARGET,
                        options=[
                            {"label": "A new dataset", "value": "new"},
                            {"label": "A new version of…", "value": "version"},
                        ],
                        value="new",
                        inline=True,
                    ),
                ],
                md=5,
            ),
            dbc.Col(
                [
                    html.Div(
                        [
                            dbc.Label(
                                "Dataset name",
                                html_for=ids.NAME,
                                class_name="small fw-semibold mb-1",
                            ),
                            dbc.Input(
                                id=ids.NAME,
                                maxlength=120,
                                size="sm",
                                placeholder="e.g. Sales 2024",
                            ),
                        ],
                        id=ids.NAME_GROUP,
                    ),
                    html.Div(
                        [
                            dbc.Label(
                                "Existing dataset",
                                html_for=ids.EXISTING,
                                class_name="small fw-semibold mb-1",
                            ),
                            dbc.Select(id=ids.EXISTING, options=[]),
                        ],
                        id=ids.EXISTING_GROUP,
                        className="d-none",
                    ),
                ],
                md=7,
            ),
        ],
        className="g-3 mb-3",
    )


def upload_panel(max_size: int) -> dbc.Collapse:
    """Choose a file → preview and inferred schema → pick columns → submit."""
    preview = html.Div(
        [
            html.Div(
                id=ids.FILE_INFO, className="d-flex align-items-center gap-2 mb-3"
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.H3("First rows", className="ib-section-title mb-2"),
                            html.Div(id=ids.PREVIEW, className="ib-preview"),
                        ],
                        lg=7,
                    ),
                    dbc.Col(
                        [
                            html.H3(
                                "Inferred schema", className="ib-section-title mb-2"
                            ),
                            html.Div(
                                id=f"{ids.PREVIEW}-schema", className="ib-preview"
                            ),
                        ],
                        lg=5,
                    ),
                ],
                className="g-3 mb-3",
            ),
            column_selectors(),
            destination(),
            html.Div(
                [
                    dbc.Button(
                        [icon("play-circle"), "Upload and process"],
                        id=ids.SUBMIT,
                        color="primary",
                    ),
                    dbc.Button(
                        "Cancel", id=ids.CANCEL, color="link", class_name="text-muted"
                    ),
                ],
                className="d-flex gap-2",
            ),
        ],
        id=ids.PREVIEW_SECTION,
        className="d-none mt-3",
    )
    return dbc.Collapse(
        card(
            [
                html.H2("Upload a dataset", className="h6 mb-3"),
                dropzone(ids.UPLOAD, max_size),
                html.Div(id=ids.UPLOAD_ERROR, className="mt-3"),
                preview,
            ],
            class_name="mb-3",
        ),
        id=ids.UPLOAD_COLLAPSE,
        is_open=False,
    )


def empty_panel(max_size: int) -> html.Div:
    """The first-visit state: upload a file, or try the sample in one click."""
    return html.Div(
        card(
            [
                empty_state(
                    "bar-chart-line",
                    "Upload your first dataset",
                    "Drop a CSV or JSON file with a date column and a numeric "
                    "column — sales, revenue, sensor readings, web KPIs. "
                    "Insightboard finds trends and explains anomalies in seconds.",
                    dbc.Button(
                        [icon("lightning-charge"), "Try the sample sales data"],
                        id=ids.SAMPLE_EMPTY,
                        color="primary",
                    ),
                    # Tight, so the drop zone shows above a laptop's fold.
                    spacing="pt-3 pb-4",
                ),
                html.Div(
                    dropzone(ids.UPLOAD_EMPTY, max_size),
                    className="mx-auto",
                    style={"maxWidth": "36rem"},
                ),
            ],
            body_class="pb-4",
        ),
        id=ids.EMPTY,
        className="d-none",
    )


def grid() -> dag.AgGrid:
    """Every dataset: sortable, filterable, with per-row version and actions."""
    return dag.AgGrid(
        id=ids.GRID,
        columnDefs=GRID_COLUMNS,
        rowData=[],
        getRowId="params.data.id",
        defaultColDef={"sortable": True, "resizable": True, "filter": False},
        columnSize="responsiveSizeToFit",
        dashGridOptions={
            "rowHeight": 56,
            "animateRows": False,
            "domLayout": "autoHeight",
            "pagination": False,
            "paginationPageSize": 10,
            "paginationPageSizeSelector": False,
            "localeText": {"noRowsToShow": "No datasets match"},
            "suppressCellFocus": False,
        },
        className="ag-theme-quartz ib-grid",
    )


CELL_TAB = {"function": "ibCellTab(params)"}
GRID_COLUMNS = [
    {
        "field": "name",
        # The value includes the shown version: AG Grid redraws a cell only when
        # its value changes, and the link's href follows the version.
        "valueGetter": {"function": "params.data.name + ' · v' + params.data.version"},
        "headerName": "Name",
        "minWidth": 150,
        "flex": 2,
        "cellRenderer": "DatasetLink",
        "filter": "agTextColumnFilter",
        "suppressKeyboardEvent": CELL_TAB,
    },
    {
        "field": "version",
        "headerName": "Version",
        "minWidth": 86,
        "flex": 0.8,
        "cellRenderer": "VersionPicker",
        "suppressKeyboardEvent": CELL_TAB,
    },
    {
        "field": "status",
        "headerName": "Status",
        "minWidth": 130,
        "flex": 1.3,
        "cellRenderer": "StatusCell",
        "filter": "agTextColumnFilter",
        # Filter and search on the word the badge shows, not the stored status.
        "filterValueGetter": {"function": "params.data.status_text"},
        "getQuickFilterText": {"function": "params.data.status_text"},
    },
    {
        "field": "rows",
        "headerName": "Rows",
        "minWidth": 80,
        "flex": 0.8,
        "type": "rightAligned",
        "valueFormatter": {"function": "params.data.rows_text"},
        "getQuickFilterText": {"function": "params.data.rows_text"},
    },
    {
        "field": "uploaded",
        "headerName": "Uploaded (UTC)",
        "minWidth": 130,
        "flex": 1.2,
        "sort": "desc",
        "valueFormatter": {"function": "params.data.uploaded_text"},
        "getQuickFilterText": {"function": "params.data.uploaded_text"},
    },
    {
        "field": "actions",
        "valueGetter": {"function": "params.data.version + ':' + params.data.status"},
        "headerName": "Actions",
        "minWidth": 250,
        "flex": 1.2,
        "sortable": False,
        # Its value carries the raw status for redraws; search must not see it.
        "getQuickFilterText": {"function": "''"},
        "cellRenderer": "DatasetActions",
        "suppressKeyboardEvent": CELL_TAB,
    },
]


def grid_card() -> html.Div:
    """The datasets table with a quick search."""
    return html.Div(
        card(
            [
                html.Div(
                    [
                        html.H2("Your datasets", className="h6 mb-0"),
                        html.Div(
                            [
                                dbc.Label(
                                    "Search datasets",
                                    html_for=ids.SEARCH,
                                    class_name="visually-hidden",
                                ),
                                dbc.Input(
                                    id=ids.SEARCH,
                                    type="search",
                                    size="sm",
                                    placeholder="Search datasets…",
                                ),
                            ],
                            style={"maxWidth": "16rem"},
                        ),
                    ],
                    className="d-flex justify-content-between align-items-center "
                    "gap-2 mb-3",
                ),
                grid(),
            ]
        ),
        id=ids.GRID_CARD,
    )


def delete_modal() -> dbc.Modal:
    """Confirmation that names the dataset about to be deleted."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Delete dataset?")),
            dbc.ModalBody(id=ids.DELETE_TEXT),
            dbc.ModalFooter(
                [
                    dbc.Button(
                        "Cancel", id=ids.DELETE_CANCEL, color="secondary", outline=True
                    ),
                    dbc.Button(
                        [icon("trash"), "Delete"], id=ids.DELETE_CONFIRM, color="danger"
                    ),
                ]
            ),
        ],
        id=ids.DELETE_MODAL,
        is_open=False,
        centered=True,
    )


def privacy_modal() -> dbc.Modal:
    """The owner's disclosure setting for one dataset: k, the smallest group
    (distinct people, else rows) a cell an agent reads may describe."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle([icon("shield-lock"), "Agent privacy"])),
            dbc.ModalBody(
                [
                    html.P(id=ids.PRIVACY_TEXT, className="mb-3"),
                    dbc.Label(
                        "Hide groups smaller than k people/rows when agents read "
                        "this dataset",
                        html_for=ids.PRIVACY_K,
                        class_name="fw-semibold small mb-1",
                    ),
                    dbc.InputGroup(
                        [
                            dbc.Input(
                                id=ids.PRIVACY_K,
                                type="number",
                                min=MIN_ENTITIES_LOW,
                                max=MIN_ENTITIES_HIGH,
                                step=1,
                            ),
                            dbc.InputGroupText(id=ids.PRIVACY_UNIT),
                        ],
                        style={"maxWidth": "22rem"},
                    ),
                    html.Div(
                        id=ids.PRIVACY_ERROR,
                        className="invalid-feedback d-block",
                        role="alert",
                    ),
                    html.Div(
                        f"{MIN_ENTITIES_LOW} to {MIN_ENTITIES_HIGH}; the default is "
                        f"{DEFAULT_MIN_ENTITIES}. A larger k hides more detail from "
                        "agents; you still see everything.",
                        className="form-text",
                    ),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(
                        "Cancel", id=ids.PRIVACY_CANCEL, color="secondary", outline=True
                    ),
                    dbc.Button(
                        [icon("check-lg"), "Save"], id=ids.PRIVACY_SAVE, color="primary"
                    ),
                ]
            ),
        ],
        id=ids.PRIVACY_MODAL,
        is_open=False,
        centered=True,
    )


def entity_unit(entity: str) -> str:
    """What k counts, for people: "people (distinct user_id)" or "rows"."""
    return "rows" if entity == "rows" else f"people (distinct {entity})"


def privacy_text(name: str, setting: dict) -> list:
    """Which dataset the setting is for and what it does now."""
    unit = entity_unit(setting["entity"])
    return [
        "Agents reading ",
        html.Strong(f"“{name}”"),
        f" see no breakdown row, filtered value or series point computed from "
        f"fewer than {setting['minEntities']} {unit}.",
    ]


def datasets_page(max_size: int) -> html.Div:
    """The whole /datasets page; the list arrives from a callback."""
    return html.Div(
        [
            dcc.Location(id=ids.NAV, refresh="callback-nav"),
            dcc.Store(id=ids.REFRESH, data=0),
            dcc.Store(id=ids.CHOSEN_VERSIONS, data={}),
            dcc.Store(id=ids.PENDING_DELETE),
            dcc.Store(id=ids.PENDING_PRIVACY),
            # Live events of the versions in flight (the socket arrives with the
            # list, only while something processes): components/live.py.
            live_store(ids.POLL, {}),
            dcc.Store(id=ids.WATCHED, data=[]),
            html.Div(id=ids.LIVE_HOLDER),
            header(),
            html.Div(id=ids.FEEDBACK),
            upload_panel(max_size),
            html.Div(id=ids.PROGRESS),
            empty_panel(max_size),
            grid_card(),
            delete_modal(),
            privacy_modal(),
        ],
        id=ids.PAGE,
    )


# ------------------------------------------------------------ rows and previews


def version_entry(dataset: dict, chosen: int | None) -> dict:
    """The chosen version of a dataset (the latest when none or unknown)."""
    versions = sorted(dataset["versions"], key=lambda entry: entry["version"])
    for entry in versions:
        if entry["version"] == chosen:
            return entry
    return versions[-1]


def grid_rows(datasets: list[dict], chosen_versions: dict) -> list[dict]:
    """One grid row per dataset, showing its chosen (or latest) version."""
    rows = []
    for dataset in datasets:
        entry = version_entry(dataset, chosen_versions.get(dataset["id"]))
        progress = entry.get("progress") or {}
        colour, word, icon_name = status_style(entry["status"])
        rows.append(
            {
                "id": dataset["id"],
                "name": dataset["name"],
                "href": f"/datasets/{dataset['id']}?version={entry['version']}",
                "kpi_href": f"/kpi/{dataset['id']}?version={entry['version']}",
                "version": entry["version"],
                "versions": sorted(v["version"] for v in dataset["versions"]),
                "latest": max(v["version"] for v in dataset["versions"]),
                "status": entry["status"],
                "status_text": word,
                "status_colour": colour,
                "status_icon": f"bi-{icon_name}",
                "error": entry.get("error"),
                "rows_done": progress.get("rowsDone") or 0,
                "rows_total": progress.get("rowsTotal") or 0,
                "rows": entry.get("rowCount"),
                "rows_text": format_count(entry.get("rowCount")),
                "uploaded": str(entry.get("uploadedAt") or ""),
                "uploaded_text": _uploaded_text(entry.get("uploadedAt")),
            }
        )
    return rows


def _uploaded_text(value) -> str:
    """Upload time for people: '2024-02-01 10:00' (UTC, said in the header)."""
    return format_timestamp(value if value else None, "hour")


def in_flight(datasets: list[dict]) -> list[tuple[dict, dict]]:
    """(dataset, version) pairs still uploading or processing."""
    return [
        (dataset, entry)
        for dataset in datasets
        for entry in dataset["versions"]
        if entry["status"] in ("uploaded", "processing")
    ]


def progress_panel(pairs: list[tuple[dict, dict]]):
    """Live progress bars with rows done, one per version being processed."""
    if not pairs:
        return None
    items = []
    for dataset, entry in pairs:
        progress = entry.get("progress") or {}
        done, total = progress.get("rowsDone") or 0, progress.get("rowsTotal") or 0
        percent = round(100 * done / total) if total else 0
        items.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(
                                [
                                    html.Strong(dataset["name"]),
                                    f" · v{entry['version']}",
                                ]
                            ),
                            html.Span(
                                _progress_text(entry["status"], done, total),
                                className="small text-muted",
                            ),
                        ],
                        className="d-flex justify-content-between mb-1",
                    ),
                    progress_bar(
                        percent, f"Rows of {dataset['name']} v{entry['version']} done"
                    ),
                ],
                className="mb-2 ib-progress-item",
            )
        )
    return card(
        [html.H2([icon("arrow-repeat"), "Processing"], className="h6 mb-3"), *items],
        class_name="mb-3",
    )


def _progress_text(status: str, done: int, total: int) -> str:
    """'Queued' or '4,500 of 10,000 rows'."""
    if status == "uploaded" or not total:
        return "Queued…" if status == "uploaded" else f"{done:,} rows so far"
    return f"{done:,} of {total:,} rows"


def preview_table(rows: list[dict], columns: list[str]) -> html.Table:
    """The first rows of the file, as the server read them."""
    head = html.Thead(html.Tr([html.Th(name, scope="col") for name in columns]))
    body = html.Tbody(
        [html.Tr([html.Td(_cell(row.get(name))) for name in columns]) for row in rows]
    )
    return html.Table(
        [head, body], className="table table-sm table-striped mb-0 align-middle"
    )


def _cell(value) -> str:
    """A preview cell as text (None shows as an empty cell)."""
    return "" if value is None else str(value)


ROLE_BADGES = {
    "time": ("primary", "time"),
    "metric": ("success", "metric"),
    "dimension": ("info", "dimension"),
    "identifier": ("secondary", "identifier"),
    "personal": ("warning", "personal — not analysed"),
}


def schema_table(columns: list[dict]) -> html.Table:
    """Each column's inferred type, role and unit."""
    rows = []
    for column in columns:
        role = column.get("role") or ""
        colour, label = ROLE_BADGES.get(role, ("light", role))
        rows.append(
            html.Tr(
                [
                    html.Td(column["name"], className="fw-semibold"),
                    html.Td(column.get("type") or "—"),
                    html.Td(dbc.Badge(label, color=colour, class_name="fw-normal")),
                    html.Td(column.get("unit") or ""),
                ]
            )
        )
    head = html.Thead(
        html.Tr([html.Th(t, scope="col") for t in ("Column", "Type", "Role", "Unit")])
    )
    return html.Table(
        [head, html.Tbody(rows)], className="table table-sm mb-0 ib-schema-table"
    )


def file_info(filename: str, size: int, detected: str | None) -> list:
    """The chosen file's name, size and detected format."""
    return [
        icon("file-earmark-spreadsheet", "text-primary fs-4"),
        html.Div(
            [
                html.Div(filename, className="fw-semibold text-break"),
                html.Div(
                    f"{_size_text(size)}" + (f" · {detected}" if detected else ""),
                    className="small text-muted",
                ),
            ]
        ),
    ]


def _size_text(size: int) -> str:
    """Bytes for people."""
    for unit, step in (("MB", 1024 * 1024), ("kB", 1024)):
        if size >= step:
            return f"{size / step:,.1f} {unit}"
    return f"{size:,} bytes"
