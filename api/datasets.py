"""REST routes: datasets (see DESIGN.md §4): upload, preview, list, show, progress,
reprocess, delete. Thin: read the request, call data.datasets, shape the answer."""

from __future__ import annotations

from flask import Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from api.blueprint import api
from api.openapi import add_path, error_doc, model_schema, response_doc
from auth.identity import current_user
from auth.validation import read_json_object
from data import datasets
from data.dataset_models import (
    MIN_ENTITIES_HIGH,
    MIN_ENTITIES_LOW,
    DatasetSummary,
    DatasetVersionView,
    DisclosureSetting,
    VersionProgress,
)
from data.errors import TooLarge, UnsupportedMedia, ValidationFailed
from data.ingest.schema import Choice
from data.services import get_services

MAX_FIELD_LENGTH = 1000
TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}


@api.post("/datasets/upload")
def upload_dataset_api():
    """Store a CSV/JSON file as a new dataset version; processing runs later."""
    owner_id = current_user().id
    services = get_services()
    file, form = _multipart(services.settings)
    result = datasets.upload_dataset(
        services,
        owner_id,
        file.stream,
        dataset_name=form.get("datasetName", ""),
        filename=file.filename,
        choice=choice_from_form(form),
    )
    created = result.pop("created")
    return jsonify(result), 202 if created else 200


@api.post("/datasets/preview")
def preview_dataset_api():
    """The inferred schema and first rows of a file; nothing is stored."""
    owner_id = current_user().id
    services = get_services()
    file, form = _multipart(services.settings)
    preview = datasets.preview_upload(
        services,
        owner_id,
        file.stream,
        filename=file.filename,
        choice=choice_from_form(form),
    )
    return jsonify(preview)


@api.get("/datasets")
def list_datasets_api():
    """The caller's datasets with their versions and status."""
    owner_id = current_user().id
    return jsonify({"datasets": datasets.list_datasets(get_services(), owner_id)})


@api.get("/datasets/<dataset_id>")
def get_dataset_api(dataset_id: str):
    """One version (latest unless ?version=n): columns, roles, status, errors."""
    owner_id = current_user().id
    version = version_argument(single_query_value("version"))
    view = datasets.get_dataset(get_services(), owner_id, dataset_id, version)
    return jsonify(view)


@api.get("/datasets/<dataset_id>/progress")
def dataset_progress_api(dataset_id: str):
    """Status and rows done / total, for polling while a version is processed."""
    owner_id = current_user().id
    version = version_argument(single_query_value("version"))
    progress = datasets.get_progress(get_services(), owner_id, dataset_id, version)
    return jsonify(progress)


@api.post("/datasets/<dataset_id>/reprocess")
def reprocess_dataset_api(dataset_id: str):
    """Process a version again from its stored file."""
    owner_id = current_user().id
    body = request.get_json(silent=True) if request.is_json else None
    raw = (body or {}).get("version") if isinstance(body, dict) else None
    query = single_query_value("version")
    version = version_argument(raw if query is None else query)
    view = datasets.reprocess_dataset(get_services(), owner_id, dataset_id, version)
    return jsonify(view), 202


@api.delete("/datasets/<dataset_id>")
def delete_dataset_api(dataset_id: str):
    """Delete every version with its files, records, results and cache entries."""
    owner_id = current_user().id
    datasets.delete_dataset(get_services(), owner_id, dataset_id)
    return Response(status=204)


@api.get("/datasets/<dataset_id>/disclosure")
def get_disclosure_api(dataset_id: str):
    """The dataset's disclosure setting: agents see no smaller cells."""
    owner_id = current_user().id
    return jsonify(datasets.get_disclosure(get_services(), owner_id, dataset_id))


@api.put("/datasets/<dataset_id>/disclosure")
def put_disclosure_api(dataset_id: str):
    """Set k (minEntities) for every version of the dataset."""
    owner_id = current_user().id
    body = read_json_object(request)
    setting = datasets.set_disclosure(get_services(), owner_id, dataset_id, body)
    return jsonify(setting)


def _multipart(settings):
    """The uploaded file and form fields; size and content type checked first."""
    limit = f"The upload is larger than the {settings.max_upload_mb} MB limit."
    if (request.content_length or 0) > settings.max_upload_bytes + 1024 * 1024:
        raise TooLarge(limit)
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMedia(
            "Send multipart/form-data with the file in a field named 'file'."
        )
    try:
        file, form = request.files.get("file"), request.form
    except RequestEntityTooLarge as error:
        raise TooLarge(limit) from error
    if file is None:
        raise ValidationFailed(
            "The file is missing: send it in a field named 'file'.",
            details={"field": "file"},
        )
    return file, form


def choice_from_form(form) -> Choice:
    """timeColumn, metricColumn(s), dimensionColumn(s), dayFirst from form fields."""
    return Choice(
        time_column=_text(form.get("timeColumn"), "timeColumn") or None,
        metric_columns=_names(form, "metricColumn", "metricColumns"),
        dimension_columns=_names(form, "dimensionColumn", "dimensionColumns"),
        day_first=_boolean(form.get("dayFirst"), "dayFirst"),
    )


def _text(value: str | None, field: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_FIELD_LENGTH:
        raise ValidationFailed(f"{field} is too long.", details={"field": field})
    return value


def _names(form, *fields: str) -> tuple[str, ...]:
    names: list[str] = []
    for field in fields:
        names.extend(_text(value, field) for value in form.getlist(field))
    return tuple(name for name in names if name)


def _boolean(value: str | None, field: str) -> bool | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if text in TRUE | FALSE:
        return text in TRUE
    raise ValidationFailed(f"{field} must be true or false.", details={"field": field})


def single_query_value(name: str) -> str | None:
    """A query parameter that may appear at most once (which one would count?)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise ValidationFailed(
            f"{name} is given {len(values)} times; give it once.",
            details={"field": name},
        )
    return values[0] if values else None


def version_argument(value) -> int | None:
    """?version=n: a positive integer, or None for the latest version."""
    if value is None or value == "":
        return None
    try:
        version = int(str(value))
    except ValueError:
        version = 0
    if not 1 <= version <= 1_000_000:
        raise ValidationFailed(
            "version must be a positive integer.", details={"field": "version"}
        )
    return version


# OpenAPI descriptions of the operations above.
UPLOAD_FORM = {
    "type": "object",
    "required": ["file", "datasetName"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "datasetName": {"type": "string", "maxLength": 120},
        "timeColumn": {"type": "string"},
        "metricColumn": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Repeat the field (or separate names with commas) for "
            "several metrics. Default: every numeric column.",
        },
        "dimensionColumn": {"type": "array", "items": {"type": "string"}},
        "dayFirst": {
            "type": "boolean",
            "description": "Needed when dates like 01/02/2024 are ambiguous.",
        },
    },
}
# The response shapes are the dataset service's models (data/dataset_models.py).
DATASET = model_schema(DatasetVersionView)
SUMMARY = model_schema(DatasetSummary)
PROGRESS = model_schema(VersionProgress)
ID_PARAMETER = {
    "name": "dataset_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
}
VERSION_PARAMETER = {
    "name": "version",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1},
    "description": "A version number; the latest version when omitted.",
}


UNAUTHORIZED = error_doc("No valid credential")
NOT_FOUND = error_doc("No such dataset (or version) of yours")
INVALID_VERSION = error_doc("version is not a positive integer, or is given twice")
MULTIPART = {
    "required": True,
    "content": {"multipart/form-data": {"schema": UPLOAD_FORM}},
}

add_path(
    "/api/datasets/upload",
    "post",
    {
        "summary": "Upload a CSV or JSON file as a dataset (a new version if the "
        "name exists); processing continues in the background",
        "requestBody": MULTIPART,
        "responses": {
            "202": response_doc(DATASET, "Stored and queued for processing"),
            "200": response_doc(
                DATASET, "The same file was already uploaded: that version"
            ),
            "400": error_doc("A form field is missing or invalid"),
            "401": UNAUTHORIZED,
            "413": error_doc("Over the size, row, column or line limit (named)"),
            "415": error_doc("Not CSV or JSON (detected from the content)"),
            "422": error_doc(
                "Unusable content: empty, header only, duplicate or missing "
                "columns, ambiguous or mixed date formats"
            ),
            "503": error_doc("File storage unavailable"),
        },
    },
)
add_path(
    "/api/datasets/preview",
    "post",
    {
        "summary": "Infer the schema of a file and show its first rows; "
        "nothing is stored",
        "requestBody": MULTIPART,
        "responses": {
            "200": response_doc({"type": "object"}, "Format, columns, choice and rows"),
            "400": error_doc("A form field is missing or invalid (names it)"),
            "401": UNAUTHORIZED,
            "413": error_doc("Over a limit"),
            "415": error_doc("Not CSV or JSON"),
            "422": error_doc("Unusable content"),
        },
    },
)
add_path(
    "/api/datasets",
    "get",
    {
        "summary": "The caller's datasets, most recently changed first",
        "responses": {
            "200": response_doc(
                {
                    "type": "object",
                    "properties": {"datasets": {"type": "array", "items": SUMMARY}},
                },
                "Datasets",
            ),
            "401": UNAUTHORIZED,
        },
    },
)
add_path(
    "/api/datasets/{dataset_id}",
    "get",
    {
        "summary": "One dataset version with columns, roles, status history, errors",
        "parameters": [ID_PARAMETER, VERSION_PARAMETER],
        "responses": {
            "200": response_doc(DATASET, "The version"),
            "400": INVALID_VERSION,
            "401": UNAUTHORIZED,
            "404": NOT_FOUND,
        },
    },
)
add_path(
    "/api/datasets/{dataset_id}",
    "delete",
    {
        "summary": "Delete the dataset: every version's file, records, analytics "
        "results and cache entries",
        "parameters": [ID_PARAMETER],
        "responses": {
            "204": {"description": "Deleted"},
            "401": UNAUTHORIZED,
            "404": NOT_FOUND,
            "503": error_doc("File storage or the share-link cache unavailable"),
        },
    },
)
add_path(
    "/api/datasets/{dataset_id}/progress",
    "get",
    {
        "summary": "Processing status and rows done / total",
        "parameters": [ID_PARAMETER, VERSION_PARAMETER],
        "responses": {
            "200": response_doc(PROGRESS, "Progress"),
            "400": INVALID_VERSION,
            "401": UNAUTHORIZED,
            "404": NOT_FOUND,
        },
    },
)
add_path(
    "/api/datasets/{dataset_id}/reprocess",
    "post",
    {
        "summary": "Process a version again from its stored file",
        "parameters": [ID_PARAMETER, VERSION_PARAMETER],
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"version": {"type": "integer"}},
                    }
                }
            },
        },
        "responses": {
            "202": response_doc(DATASET, "Queued"),
            "400": INVALID_VERSION,
            "401": UNAUTHORIZED,
            "404": NOT_FOUND,
            "409": error_doc("A live run is processing this version"),
        },
    },
)
DISCLOSURE = model_schema(DisclosureSetting)
DISCLOSURE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["minEntities"],
                "additionalProperties": False,
                "properties": {
                    "minEntities": {
                        "type": "integer",
                        "minimum": MIN_ENTITIES_LOW,
                        "maximum": MIN_ENTITIES_HIGH,
                        "description": "k: agents see no cell computed from "
                        "fewer distinct entities (identifier values, else rows)",
                    }
                },
            }
        }
    },
}
add_path(
    "/api/datasets/{dataset_id}/disclosure",
    "get",
    {
        "summary": "The disclosure setting: the fewest distinct entities (k) a "
        "cell an agent sees is computed from, and what an entity is",
        "parameters": [ID_PARAMETER],
        "responses": {
            "200": response_doc(DISCLOSURE, "The setting"),
            "401": UNAUTHORIZED,
            "404": NOT_FOUND,
        },
    },
)
add_path(
    "/api/datasets/{dataset_id}/disclosure",
    "put",
    {
        "summary": "Set k for every version of the dataset (new versions keep it)",
        "parameters": [ID_PARAMETER],
        "requestBody": DISCLOSURE_BODY,
        "responses": {
            "200": response_doc(DISCLOSURE, "The stored setting"),
            "400": error_doc("minEntities missing or out of bounds (named)"),
            "401": UNAUTHORIZED,
            "404": NOT_FOUND,
            "413": error_doc("The JSON body is too large"),
            "415": error_doc("No JSON body (Content-Type application/json)"),
        },
    },
)
