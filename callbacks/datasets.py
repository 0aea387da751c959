"""Callbacks of /datasets: list with live status, upload with preview, actions."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, Patch, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from callbacks import gateway
from callbacks.disclosure import register_disclosure
from components import datasets_layout as layout
from components.datasets_layout import ids
from components.live import live_socket, register_live_trigger
from components.widgets import aria, message_alert, with_field_label
from data.errors import DomainError, NotFound
from data.services import get_services

SAMPLE_FILE = Path(__file__).resolve().parents[1] / "demo" / "sales.csv"
SAMPLE_NAME = "Sample sales"
PREVIEW_ROWS = 8
PAGE_SIZE = 10


def decode_upload(contents: str | None) -> bytes:
    """The bytes of a dcc.Upload value ("data:<type>;base64,<data>")."""
    if not contents or "," not in contents:
        raise ValueError("The browser sent no file content.")
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("The file could not be read. Try choosing it again.") from None


FEEDBACK_ICONS = {
    "success": "check-circle",
    "info": "info-circle",
    "warning": "exclamation-triangle",
    "danger": "exclamation-octagon",
    "secondary": "info-circle",
}


def feedback(text: str, colour: str = "success", icon_name: str | None = None):
    """A dismissable message above the list, with the icon of its kind (a warning
    never wears a success check)."""
    icon_name = icon_name or FEEDBACK_ICONS.get(colour, "info-circle")
    return dbc.Alert(
        [html.I(className=f"bi bi-{icon_name} me-2", **aria(hidden="true")), text],
        color=colour,
        dismissable=True,
        duration=8000,
        className="py-2",
    )


# ------------------------------------------------------------------ the list


def list_outputs(datasets: list[dict], chosen: dict) -> dict:
    """Grid rows, progress panel, empty state and the datasets in flight (whose
    live events the page listens to)."""
    busy = layout.in_flight(datasets)
    names = sorted(((d["name"], d["id"]) for d in datasets), key=lambda p: p[0].lower())
    return {
        "rows": layout.grid_rows(datasets, chosen),
        "progress": layout.progress_panel(busy),
        "watched": sorted({dataset["id"] for dataset, _ in busy}),
        "empty_class": "" if not datasets else "d-none",
        "grid_class": "d-none" if not datasets else "",
        "toggle_class": "d-none" if not datasets else "btn btn-primary",
        "existing": [{"label": name, "value": key} for name, key in names],
    }


def register(app: dash.Dash) -> None:
    """Register the datasets page's callbacks on this app."""
    _register_list(app)
    _register_preview(app)
    _register_submit(app)
    _register_sample(app)
    _register_row_actions(app)
    _register_delete(app)
    _register_privacy(app)
    _register_toggles(app)


def _register_list(app: dash.Dash) -> None:
    """The list, refreshed after actions and on live events while something
    processes."""

    @app.callback(
        output={
            "rows": Output(ids.GRID, "rowData"),
            "progress": Output(ids.PROGRESS, "children"),
            "socket": Output(ids.LIVE_HOLDER, "children"),
            "watched": Output(ids.WATCHED, "data"),
            "empty_class": Output(ids.EMPTY, "className"),
            "grid_class": Output(ids.GRID_CARD, "className"),
            "toggle_class": Output(ids.UPLOAD_TOGGLE, "className"),
            "existing": Output(ids.EXISTING, "options"),
            "grid_options": Output(ids.GRID, "dashGridOptions"),
            "feedback": Output(ids.FEEDBACK, "children", allow_duplicate=True),
        },
        inputs={
            "refresh": Input(ids.REFRESH, "data"),
            "tick": Input(ids.POLL, "data"),
            "chosen": Input(ids.CHOSEN_VERSIONS, "data"),
            "current": State(ids.WATCHED, "data"),
        },
        # Runs on page load too; the feedback output is shared with the actions.
        prevent_initial_call="initial_duplicate",
    )
    def refresh_list(refresh, tick, chosen, current):
        """Read the user's datasets (with each version's status and progress)."""
        user = gateway.user_or_none()
        if user is None:
            raise PreventUpdate
        datasets = gateway.list_datasets(get_services(), user.id)
        outputs = list_outputs(datasets, chosen or {})
        # Page through long lists only; a short list needs no pager.
        outputs["grid_options"] = Patch()
        outputs["grid_options"]["pagination"] = len(datasets) > PAGE_SIZE
        outputs["feedback"] = finished_feedback(
            ctx.triggered_id == ids.POLL, datasets, current, outputs["watched"]
        )
        outputs["socket"] = watching(outputs["watched"], current)
        return outputs

    register_live_trigger(app, ids.POLL, every_event=True)

    @app.callback(
        Output(ids.GRID, "dashGridOptions", allow_duplicate=True),
        Input(ids.SEARCH, "value"),
        prevent_initial_call=True,
    )
    def quick_search(text):
        """Filter the rows by any visible text (a Patch keeps the other options)."""
        patch = Patch()
        patch["quickFilterText"] = (text or "")[:200]
        return patch


def watching(watched: list[str], current: list[str] | None):
    """The live socket for the versions in flight: a new one only when that set
    changes (re-rendering it would reconnect), none when nothing is in flight."""
    if watched == (current or []):
        return no_update
    return live_socket(ids.POLL, watched) if watched else None


def finished_feedback(
    polled: bool, datasets: list[dict], before: list[str] | None, after: list[str]
):
    """Once a live event shows datasets leaving the in-flight set, say how each
    ended (ready or failed, by name and version) in place of the "uploaded"
    message; else leave the message as it is."""
    finished = set(before or []) - set(after)
    ended = [d for d in datasets if d["id"] in finished]
    if not polled or not ended:
        return no_update
    latest = [
        (d["name"], max(d["versions"], key=lambda v: v["version"])) for d in ended
    ]
    failed = [(name, entry) for name, entry in latest if entry["status"] == "failed"]
    text = " ".join(
        f"“{name}” v{entry['version']} "
        + ("failed to process." if entry["status"] == "failed" else "is ready.")
        for name, entry in latest
    )
    if failed:
        return feedback(text, "danger", "exclamation-octagon")
    return feedback(text)


# --------------------------------------------------------------- upload flow


def preview_outputs(filename: str, content: bytes, preview: dict) -> dict:
    """Preview, schema and the column pickers with the inferred defaults."""
    columns = preview["columns"]
    names = [c["name"] for c in columns]
    numeric = [c["name"] for c in columns if c.get("type") == "number"]
    candidates = [c["name"] for c in columns if c.get("role") not in ("personal",)]
    times = [c["name"] for c in columns if c.get("type") == "datetime"] or names
    return {
        "error": None,
        "section_class": "mt-3",
        "info": layout.file_info(filename, len(content), preview.get("format")),
        "preview": layout.preview_table(preview["rows"][:PREVIEW_ROWS], names),
        "schema": layout.schema_table(columns),
        "time_options": [{"label": n, "value": n} for n in times],
        "time_value": preview.get("timeColumn"),
        "metric_options": [{"label": n, "value": n} for n in numeric],
        "metric_value": preview.get("metricColumns") or [],
        "dimension_options": [{"label": n, "value": n} for n in candidates],
        "dimension_value": preview.get("dimensionColumns") or [],
        "name": suggested_name(filename),
        "zone_class": "ib-dropzone ib-dropzone-compact",
    }


def suggested_name(filename: str) -> str:
    """A dataset name from a file name: "sales_2024.csv" → "Sales 2024"."""
    stem = " ".join(Path(filename).stem.replace("_", " ").replace("-", " ").split())
    return (stem[:1].upper() + stem[1:])[:120] or "Dataset"


def preview_failure(message: str) -> dict:
    """Hide the preview and say what is wrong with the file."""
    outputs: dict[str, Any] = dict.fromkeys(PREVIEW_KEYS, no_update)
    outputs["error"] = message_alert(
        "This file cannot be used", message, "danger", "exclamation-octagon"
    )
    outputs["section_class"] = "d-none mt-3"
    outputs["zone_class"] = "ib-dropzone"
    return outputs


PREVIEW_KEYS = (
    "error",
    "section_class",
    "info",
    "preview",
    "schema",
    "time_options",
    "time_value",
    "metric_options",
    "metric_value",
    "dimension_options",
    "dimension_value",
    "name",
)


def _register_preview(app: dash.Dash) -> None:
    """A chosen file → preview of the first rows and the inferred schema."""
    outputs = {
        "error": Output(ids.UPLOAD_ERROR, "children"),
        "section_class": Output(ids.PREVIEW_SECTION, "className"),
        "info": Output(ids.FILE_INFO, "children"),
        "preview": Output(ids.PREVIEW, "children"),
        "schema": Output(f"{ids.PREVIEW}-schema", "children"),
        "time_options": Output(ids.TIME_COLUMN, "options"),
        "time_value": Output(ids.TIME_COLUMN, "value"),
        "metric_options": Output(ids.METRICS, "options"),
        "metric_value": Output(ids.METRICS, "value"),
        "dimension_options": Output(ids.DIMENSIONS, "options"),
        "dimension_value": Output(ids.DIMENSIONS, "value"),
        "name": Output(ids.NAME, "value"),
        "zone_class": Output(ids.UPLOAD, "className"),
    }

    @app.callback(
        output=outputs,
        inputs={
            "contents": Input(ids.UPLOAD, "contents"),
            "filename": State(ids.UPLOAD, "filename"),
        },
        prevent_initial_call=True,
    )
    def preview_file(contents, filename):
        """Read the head of the file the user chose and infer its schema."""
        user = gateway.user_or_none()
        if user is None or contents is None:
            raise PreventUpdate
        try:
            content = decode_upload(contents)
            preview = gateway.preview_upload(
                get_services(), user.id, filename or "upload", content
            )
        except ValueError as error:
            return preview_failure(str(error))
        except DomainError as error:
            return preview_failure(error.message)
        return preview_outputs(filename or "upload", content, preview)


def _register_submit(app: dash.Dash) -> None:
    """Submit: store the file as a new dataset or version and start processing."""

    @app.callback(
        output={
            "feedback": Output(ids.FEEDBACK, "children"),
            "error": Output(ids.UPLOAD_ERROR, "children", allow_duplicate=True),
            "refresh": Output(ids.REFRESH, "data", allow_duplicate=True),
            "open": Output(ids.UPLOAD_COLLAPSE, "is_open", allow_duplicate=True),
            "contents": Output(ids.UPLOAD, "contents"),
            "section_class": Output(
                ids.PREVIEW_SECTION, "className", allow_duplicate=True
            ),
            "zone_class": Output(ids.UPLOAD, "className", allow_duplicate=True),
        },
        inputs={
            "clicks": Input(ids.SUBMIT, "n_clicks"),
            "contents": State(ids.UPLOAD, "contents"),
            "filename": State(ids.UPLOAD, "filename"),
            "form": {
                "time_column": State(ids.TIME_COLUMN, "value"),
                "metrics": State(ids.METRICS, "value"),
                "dimensions": State(ids.DIMENSIONS, "value"),
                "target": State(ids.TARGET, "value"),
                "name": State(ids.NAME, "value"),
                "existing": State(ids.EXISTING, "value"),
            },
            "refresh": State(ids.REFRESH, "data"),
        },
        prevent_initial_call=True,
    )
    def submit_upload(clicks, contents, filename, form, refresh):
        """Upload with the chosen columns; the list then shows live progress."""
        user = gateway.user_or_none()
        if user is None or not clicks:
            raise PreventUpdate
        try:
            content = decode_upload(contents)
            result = gateway.upload(
                get_services(), user.id, filename or "upload", content, **form
            )
        except ValueError as error:
            return submit_failure(str(error))
        except DomainError as error:
            return submit_failure(error.message)
        return {
            "feedback": upload_feedback(result),
            "error": None,
            "refresh": (refresh or 0) + 1,
            "open": False,
            "contents": None,
            "section_class": "d-none mt-3",
            "zone_class": "ib-dropzone",
        }


def upload_feedback(result: dict):
    """Say what happened: a new version is processing, or the file was known."""
    if not result.get("created", True):
        return feedback(
            f"This file was already uploaded as “{result['name']}” "
            f"v{result['version']}; nothing new was stored.",
            "info",
            "info-circle",
        )
    return feedback(
        f"Uploaded “{result['name']}” v{result['version']}. Its processing status "
        "is shown in the list."
    )


def submit_failure(message: str) -> dict:
    """Keep the form as it is and explain what to fix."""
    return {
        "feedback": no_update,
        "error": message_alert(
            "The upload was not accepted", message, "danger", "exclamation-octagon"
        ),
        "refresh": no_update,
        "open": no_update,
        "contents": no_update,
        "section_class": no_update,
        "zone_class": no_update,
    }


def _register_sample(app: dash.Dash) -> None:
    """One click: upload the bundled sample file with its inferred columns."""

    @app.callback(
        Output(ids.FEEDBACK, "children", allow_duplicate=True),
        Output(ids.REFRESH, "data", allow_duplicate=True),
        Input(ids.SAMPLE_EMPTY, "n_clicks"),
        State(ids.REFRESH, "data"),
        prevent_initial_call=True,
    )
    def upload_sample(clicks, refresh):
        """Load demo/sales.csv for this user as a normal upload."""
        user = gateway.user_or_none()
        if user is None or not clicks:
            raise PreventUpdate
        content = SAMPLE_FILE.read_bytes()
        services = get_services()
        try:
            preview = gateway.preview_upload(
                services, user.id, SAMPLE_FILE.name, content
            )
            result = gateway.upload(
                services,
                user.id,
                SAMPLE_FILE.name,
                content,
                time_column=preview.get("timeColumn"),
                metrics=preview.get("metricColumns"),
                dimensions=preview.get("dimensionColumns"),
                target="new",
                name=SAMPLE_NAME,
                existing=None,
            )
        except DomainError as error:
            return feedback(error.message, "danger", "exclamation-octagon"), no_update
        return upload_feedback(result), (refresh or 0) + 1

    @app.callback(
        Output(ids.UPLOAD, "contents", allow_duplicate=True),
        Output(ids.UPLOAD, "filename", allow_duplicate=True),
        Output(ids.UPLOAD_COLLAPSE, "is_open", allow_duplicate=True),
        Input(ids.UPLOAD_EMPTY, "contents"),
        State(ids.UPLOAD_EMPTY, "filename"),
        prevent_initial_call=True,
    )
    def forward_first_upload(contents, filename):
        """A file dropped on the empty state goes through the normal upload panel."""
        if contents is None:
            raise PreventUpdate
        return contents, filename, True


# ------------------------------------------------------------- row actions


def _register_row_actions(app: dash.Dash) -> None:
    """Buttons inside the grid: version picker, reprocess, delete (asks first)."""

    @app.callback(
        output={
            "chosen": Output(ids.CHOSEN_VERSIONS, "data"),
            "feedback": Output(ids.FEEDBACK, "children", allow_duplicate=True),
            "refresh": Output(ids.REFRESH, "data", allow_duplicate=True),
            "pending": Output(ids.PENDING_DELETE, "data"),
            "modal": Output(ids.DELETE_MODAL, "is_open"),
            "modal_text": Output(ids.DELETE_TEXT, "children"),
            "privacy_pending": Output(ids.PENDING_PRIVACY, "data"),
            "privacy_modal": Output(ids.PRIVACY_MODAL, "is_open"),
            "privacy_text": Output(ids.PRIVACY_TEXT, "children"),
            "privacy_k": Output(ids.PRIVACY_K, "value"),
            "privacy_unit": Output(ids.PRIVACY_UNIT, "children"),
            "privacy_error": Output(ids.PRIVACY_ERROR, "children"),
            "privacy_invalid": Output(ids.PRIVACY_K, "invalid"),
        },
        inputs={
            "event": Input(ids.GRID, "cellRendererData"),
            "chosen": State(ids.CHOSEN_VERSIONS, "data"),
            "refresh": State(ids.REFRESH, "data"),
        },
        prevent_initial_call=True,
    )
    def row_action(event, chosen, refresh):
        """Dispatch one action from a grid row; ids come from the grid, untrusted."""
        user = gateway.user_or_none()
        if user is None or not isinstance(event, dict):
            raise PreventUpdate
        return handle_row_action(user.id, event, chosen or {}, refresh or 0)


def handle_row_action(owner_id: str, event: dict, chosen: dict, refresh: int) -> dict:
    """Version change, reprocess, the delete confirmation or the agent privacy
    setting for one row."""
    outputs: dict[str, Any] = dict.fromkeys(ROW_ACTION_KEYS, no_update)
    dataset_id = str(event.get("rowId") or "")
    raw_value = event.get("value")
    value = raw_value if isinstance(raw_value, dict) else {}
    action, version = value.get("action"), value.get("version")
    services = get_services()
    try:
        dataset = gateway.dataset_meta(services, owner_id, dataset_id)
    except NotFound:
        outputs["feedback"] = feedback("That dataset no longer exists.", "warning")
        outputs["refresh"] = refresh + 1
        return outputs
    if action == "version" and isinstance(version, int):
        outputs["chosen"] = {**chosen, dataset_id: version}
    elif action == "reprocess" and isinstance(version, int):
        outputs.update(reprocess(services, owner_id, dataset, version, refresh))
    elif action == "delete":
        outputs.update(pending=dataset_id, modal=True, modal_text=delete_text(dataset))
    elif action == "privacy":
        outputs.update(privacy_dialog(services, owner_id, dataset))
    return outputs


ROW_ACTION_KEYS = (
    "chosen", "feedback", "refresh", "pending", "modal", "modal_text",
    "privacy_pending", "privacy_modal", "privacy_text", "privacy_k", "privacy_unit",
    "privacy_error", "privacy_invalid",
)  # fmt: skip


def privacy_dialog(services, owner_id: str, dataset: dict) -> dict:
    """Open the agent privacy dialog on the dataset's current k."""
    setting = gateway.disclosure(services, owner_id, dataset["id"])
    return {
        "privacy_pending": dataset["id"],
        "privacy_modal": True,
        "privacy_text": layout.privacy_text(dataset["name"], setting),
        "privacy_k": setting["minEntities"],
        "privacy_unit": layout.entity_unit(setting["entity"]),
        "privacy_error": None,
        "privacy_invalid": False,
    }


def save_min_entities(owner_id: str, dataset_id, value) -> tuple:
    """(error, invalid?, dialog open?, feedback) after saving k for a dataset."""
    services = get_services()
    try:
        dataset = gateway.dataset_meta(services, owner_id, str(dataset_id or ""))
        setting = gateway.set_min_entities(services, owner_id, dataset["id"], value)
    except NotFound:
        gone = feedback("That dataset no longer exists.", "warning")
        return None, False, False, gone
    except DomainError as error:
        message = with_field_label(error.message, "minEntities", "k")
        return message, True, no_update, no_update
    unit = layout.entity_unit(setting["entity"])
    saved = feedback(
        f"Agents reading “{dataset['name']}” now see no group smaller than "
        f"{setting['minEntities']} {unit}.",
        icon_name="shield-check",
    )
    return None, False, False, saved


def reprocess(services, owner_id: str, dataset: dict, version: int, refresh: int):
    """Start reprocessing one version and say so."""
    try:
        gateway.reprocess(services, owner_id, dataset["id"], version)
    except DomainError as error:
        return {"feedback": feedback(error.message, "danger", "exclamation-octagon")}
    return {
        "feedback": feedback(f"Reprocessing “{dataset['name']}” v{version}."),
        "refresh": refresh + 1,
    }


def delete_text(dataset: dict) -> list:
    """The confirmation names the dataset and what goes with it."""
    count = len(dataset["versions"])
    return [
        "Delete ",
        html.Strong(f"“{dataset['name']}”"),
        f" and its {count} version{'s' if count != 1 else ''}, with every stored "
        "analysis? This cannot be undone.",
    ]


def _register_delete(app: dash.Dash) -> None:
    """The confirmation dialog's buttons."""

    @app.callback(
        Output(ids.DELETE_MODAL, "is_open", allow_duplicate=True),
        Output(ids.FEEDBACK, "children", allow_duplicate=True),
        Output(ids.REFRESH, "data", allow_duplicate=True),
        Output(ids.CHOSEN_VERSIONS, "data", allow_duplicate=True),
        Input(ids.DELETE_CONFIRM, "n_clicks"),
        Input(ids.DELETE_CANCEL, "n_clicks"),
        State(ids.PENDING_DELETE, "data"),
        State(ids.REFRESH, "data"),
        State(ids.CHOSEN_VERSIONS, "data"),
        prevent_initial_call=True,
    )
    def confirm_delete(_confirm, _cancel, dataset_id, refresh, chosen):
        """Delete only after the explicit confirmation."""
        user = gateway.user_or_none()
        if user is None:
            raise PreventUpdate
        if ctx.triggered_id != ids.DELETE_CONFIRM or not dataset_id:
            return False, no_update, no_update, no_update
        try:
            name = gateway.delete(get_services(), user.id, str(dataset_id))
        except NotFound:
            name = None
        remaining = {k: v for k, v in (chosen or {}).items() if k != dataset_id}
        text = f"Deleted “{name}”." if name else "That dataset was already deleted."
        return (
            False,
            feedback(text, "secondary", "trash"),
            (refresh or 0) + 1,
            remaining,
        )


def _register_privacy(app: dash.Dash) -> None:
    """The agent privacy dialog's buttons: save k (through the API's service)."""

    @app.callback(
        Output(ids.PRIVACY_ERROR, "children", allow_duplicate=True),
        Output(ids.PRIVACY_K, "invalid", allow_duplicate=True),
        Output(ids.PRIVACY_MODAL, "is_open", allow_duplicate=True),
        Output(ids.FEEDBACK, "children", allow_duplicate=True),
        Input(ids.PRIVACY_SAVE, "n_clicks"),
        Input(ids.PRIVACY_CANCEL, "n_clicks"),
        State(ids.PENDING_PRIVACY, "data"),
        State(ids.PRIVACY_K, "value"),
        prevent_initial_call=True,
    )
    def save_privacy(_save, _cancel, dataset_id, value):
        """Store k only on Save; Cancel closes the dialog."""
        user = gateway.user_or_none()
        if user is None:
            raise PreventUpdate
        if ctx.triggered_id != ids.PRIVACY_SAVE:
            return None, False, False, no_update
        return save_min_entities(user.id, dataset_id, value)


def _register_toggles(app: dash.Dash) -> None:
    """The upload panel toggle and the name/existing-dataset switch."""
    register_disclosure(app, ids.UPLOAD_TOGGLE, ids.UPLOAD_COLLAPSE)
    app.clientside_callback(
        """function(target) {
            return target === 'version' ? ['d-none', ''] : ['', 'd-none'];
        }""",
        Output(ids.NAME_GROUP, "className"),
        Output(ids.EXISTING_GROUP, "className"),
        Input(ids.TARGET, "value"),
    )
    app.clientside_callback(
        "function(n) { return [null, 'd-none mt-3', null, 'ib-dropzone']; }",
        Output(ids.UPLOAD, "contents", allow_duplicate=True),
        Output(ids.PREVIEW_SECTION, "className", allow_duplicate=True),
        Output(ids.UPLOAD_ERROR, "children", allow_duplicate=True),
        Output(ids.UPLOAD, "className", allow_duplicate=True),
        Input(ids.CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )
