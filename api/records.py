"""REST route: append records to a dataset (POST /api/datasets/{id}/records).

Thin: read the batch (JSON `{"batchId", "records"}`, or NDJSON with the batch id in
the `Idempotency-Key` header), call data.datasets.append_records, shape the answer.
"""

from __future__ import annotations

import json

from flask import jsonify, request

from api.blueprint import api
from api.datasets import ID_PARAMETER, NOT_FOUND, UNAUTHORIZED, _error, _json
from api.openapi import add_path
from auth.identity import current_user
from data import datasets
from data.errors import TooLarge, UnsupportedMedia, ValidationFailed
from data.services import get_services

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl"})
IDEMPOTENCY_HEADER = "Idempotency-Key"


@api.post("/datasets/<dataset_id>/records")
def append_records_api(dataset_id: str):
    """Append a batch of records to the latest version: a new revision."""
    owner_id = current_user().id
    services = get_services()
    batch_id, records = read_batch(services.settings)
    result, created = datasets.append_records(
        services, owner_id, dataset_id, batch_id, records
    )
    return jsonify(result), 201 if created else 200


def read_batch(settings) -> tuple[object, object]:
    """(batchId, records) from a JSON or NDJSON body; 400/413/415 naming the problem."""
    limit = settings.append_max_mb * 1024 * 1024
    if (request.content_length or 0) > limit:
        raise TooLarge(
            f"The batch is larger than the {settings.append_max_mb} MB limit "
            "(APPEND_MAX_MB).",
            details={"limit": limit},
        )
    header = request.headers.get(IDEMPOTENCY_HEADER)
    if request.mimetype in NDJSON_TYPES:
        return _required_header(header), ndjson_records(request.get_data())
    if request.mimetype != "application/json":
        raise UnsupportedMedia(
            'Send application/json ({"batchId": ..., "records": [...]}) or '
            "application/x-ndjson with an Idempotency-Key header."
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed(
            'The body must be a JSON object {"batchId": ..., "records": [...]}.',
            details={"field": "body"},
        )
    batch_id = body.get("batchId", header)
    if header is not None and batch_id != header:
        raise ValidationFailed(
            "batchId and the Idempotency-Key header differ; send one of them.",
            details={"field": "batchId"},
        )
    return batch_id, body.get("records")


def _required_header(value: str | None) -> str:
    if not value:
        raise ValidationFailed(
            "An NDJSON batch needs its batch id in the Idempotency-Key header.",
            details={"field": IDEMPOTENCY_HEADER},
        )
    return value


def ndjson_records(body: bytes) -> list[object]:
    """One record per non-blank line; a line that is not JSON stays as its text
    (it becomes a bad row: not an object of column values)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            "The NDJSON body is not UTF-8.", details={"field": "body"}
        ) from error
    records: list[object] = []
    for line in text.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append(line[:200])
    return records


RECORD = {"type": "object", "additionalProperties": True}
APPEND_BODY = {
    "type": "object",
    "required": ["batchId", "records"],
    "properties": {
        "batchId": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"},
        "records": {"type": "array", "minItems": 1, "items": RECORD},
    },
}
ROW_ERROR = {
    "type": "object",
    "properties": {
        "row": {"type": "integer"},
        "column": {"type": "string", "nullable": True},
        "message": {"type": "string"},
    },
}
APPEND_RESULT = {
    "type": "object",
    "properties": {
        "datasetId": {"type": "string"},
        "version": {"type": "integer"},
        "revision": {"type": "integer"},
        "batchId": {"type": "string"},
        "accepted": {"type": "integer"},
        "skipped": {"type": "integer"},
        "rowErrors": {"type": "array", "items": ROW_ERROR},
        "duplicate": {"type": "boolean"},
    },
}
add_path(
    "/api/datasets/{dataset_id}/records",
    "post",
    {
        "summary": "Append a batch of records to the latest version (validated "
        "against its schema like an upload); each accepted batch is a new revision",
        "parameters": [
            ID_PARAMETER,
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "The batch id (required with an NDJSON body).",
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": APPEND_BODY},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        },
        "responses": {
            "201": _json(APPEND_RESULT, "Appended: a new revision"),
            "200": _json(APPEND_RESULT, "This batch was already appended"),
            "400": _error("Malformed body, batchId or Idempotency-Key (named)"),
            "401": UNAUTHORIZED,
            "404": NOT_FOUND,
            "409": _error(
                "The batchId was used with other records, the version is not "
                "processed, or another append holds it"
            ),
            "413": _error("Over the records-per-batch, size or row limit (named)"),
            "415": _error("Neither JSON nor NDJSON"),
            "422": _error("Too many bad records (rowErrors name row, column, problem)"),
            "503": _error("File storage unavailable"),
        },
    },
)
