"""REST routes: measures of a dataset and the KPI view. Thin: read the request,
call data.kpi, shape the answer; parameters and their choices come from
data.kpi.params.KPI_PARAMETERS."""

from __future__ import annotations

from flask import jsonify, request

from api import agent_access
from api.blueprint import api
from api.datasets import version_argument
from api.openapi import AGENT_ERRORS, add_path, error_doc, response_doc
from auth.agent_guard import current_agent
from auth.identity import current_user
from auth.validation import read_json_object
from data.ingest.measures import FORMATS, KINDS, NAME_PATTERN
from data.kpi.catalog import get_measures, set_measures
from data.kpi.params import KPI_PARAMETERS
from data.kpi.service import get_kpi
from data.services import get_services


@api.get("/datasets/<dataset_id>/measures")
def get_measures_api(dataset_id: str):
    """The measures stored with a version (latest unless ?version=n)."""
    version = version_argument(request.args.get("version"))
    owner_id = current_user().id
    return jsonify(get_measures(get_services(), owner_id, dataset_id, version))


@api.put("/datasets/<dataset_id>/measures")
def put_measures_api(dataset_id: str):
    """Replace a version's measures; the version is processed again."""
    owner_id = current_user().id
    body = read_json_object(request)
    version = version_argument(request.args.get("version"))
    view = set_measures(
        get_services(), owner_id, dataset_id, body.get("measures"), version
    )
    return jsonify(view)


@api.get("/kpi/<dataset_id>")
def kpi_view_api(dataset_id: str):
    """The KPI view: measures over a period with comparison, series, breakdown."""
    agent = current_agent()
    if agent is not None:
        return jsonify(
            agent_access.kpi_view(get_services(), agent, dataset_id, request.args)
        )
    owner_id = current_user().id
    return jsonify(get_kpi(get_services(), owner_id, dataset_id, request.args))


PATH_ID = {
    "name": "datasetId",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}
VERSION = {
    "name": "version",
    "in": "query",
    "required": False,
    "schema": {"type": "integer"},
}
NULLABLE_NUMBER = {"type": "number", "nullable": True}
MEASURE_SCHEMA = {
    "type": "object",
    "required": ["name", "kind"],
    "properties": {
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "label": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "column": {"type": "string", "nullable": True},
        "where": {
            "type": "object",
            "nullable": True,
            "properties": {"column": {"type": "string"}, "value": {}},
        },
        "numerator": {"type": "string", "nullable": True},
        "denominator": {"type": "string", "nullable": True},
        "windowDays": {"type": "integer", "nullable": True, "minimum": 1},
        "format": {"type": "string", "enum": list(FORMATS)},
        "higherIsBetter": {"type": "boolean"},
    },
}
MEASURES_SCHEMA = {
    "type": "object",
    "properties": {"measures": {"type": "array", "items": MEASURE_SCHEMA}},
}
SUPPRESSED = {
    "type": "string",
    "description": "Agent views only: why the value is hidden (fewer than k "
    "entities, or so that another hidden value cannot be worked out)",
}
POINT = {
    "type": "object",
    "properties": {
        "t": {"type": "string", "format": "date-time"},
        "value": NULLABLE_NUMBER,
        "suppressed": SUPPRESSED,
    },
}
DISCLOSURE = {
    "type": "object",
    "description": "Agent views only: the disclosure setting applied",
    "properties": {
        "k": {"type": "integer"},
        "entity": {"type": "string", "description": "Identifier column, or rows"},
        "suppressedCells": {"type": "integer"},
    },
}
KPI_SCHEMA = {
    "type": "object",
    "properties": {
        "dataset": {"type": "object"},
        "query": {"type": "object"},
        "period": {"type": "object"},
        "comparisonPeriod": {"type": "object", "nullable": True},
        "partial": {
            "type": "boolean",
            "description": "Cut at the data's end, like for like",
        },
        "measures": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "value": NULLABLE_NUMBER,
                    "comparisonValue": NULLABLE_NUMBER,
                    "change": NULLABLE_NUMBER,
                    "changePct": NULLABLE_NUMBER,
                    "series": {"type": "array", "items": POINT},
                    "comparisonSeries": {"type": "array", "items": POINT},
                    "approximate": {"type": "boolean"},
                    "relativeError": {"type": "number"},
                    "suppressed": {
                        "type": "object",
                        "description": "Agent views only: hidden headline values "
                        "(value, comparisonValue) and why",
                        "additionalProperties": SUPPRESSED,
                    },
                },
            },
        },
        "breakdown": {"type": "object", "nullable": True},
        "cached": {"type": "boolean"},
        "disclosure": DISCLOSURE,
    },
}


def _parameter(spec) -> dict:
    schema: dict = {"type": "integer"} if spec.low is not None else {"type": "string"}
    if spec.choices:
        schema["enum"] = list(spec.choices)
    if spec.default is not None:
        schema["default"] = spec.default
    return {"name": spec.name, "in": "query", "required": False, "schema": schema,
            "description": spec.description or spec.label}  # fmt: skip


COMMON_ERRORS = {
    "401": error_doc("No valid credential"),
    "404": error_doc("No such dataset (or not yours)"),
}
add_path("/api/datasets/{datasetId}/measures", "get", {
    "summary": "The measures stored with a dataset version",
    "parameters": [PATH_ID, VERSION],
    "responses": {
        "200": response_doc(MEASURES_SCHEMA, "The measures"),
        "400": error_doc("version is not a positive integer"),
        **COMMON_ERRORS,
    },
})  # fmt: skip
add_path("/api/datasets/{datasetId}/measures", "put", {
    "summary": "Replace a version's measures (the version is processed again)",
    "parameters": [PATH_ID, VERSION],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": MEASURES_SCHEMA}},
    },
    "responses": {
        "200": response_doc(MEASURES_SCHEMA, "The stored measures"),
        "400": error_doc("A bad field, named with the allowed values"),
        "409": error_doc("The version is being processed"),
        "413": error_doc("The JSON body is too large"),
        "415": error_doc("No JSON body (Content-Type application/json)"),
        **COMMON_ERRORS,
    },
})  # fmt: skip
add_path("/api/kpi/{datasetId}", "get", {
    "summary": "KPI view: measures over a period, comparison, series, breakdown",
    "parameters": [
        PATH_ID,
        *(_parameter(spec) for spec in KPI_PARAMETERS),
        {"name": "filter.<dimension>", "in": "query", "required": False,
         "schema": {"type": "string"},
         "description": "Values, comma-separated or repeated"},
    ],
    "responses": {
        "200": response_doc(KPI_SCHEMA, "The KPI view"),
        "400": error_doc(
            "Unknown parameter, measure, dimension or choice (lists them)"
        ),
        "409": error_doc("The version is not processed yet"),
        "422": error_doc("Over a limit (names it)"),
        **COMMON_ERRORS,
        **AGENT_ERRORS,
    },
})  # fmt: skip
