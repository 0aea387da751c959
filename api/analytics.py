"""REST routes: analytics (see DESIGN.md §4): run a view, read a view."""

from __future__ import annotations

from flask import Response, jsonify, request

from api import agent_access
from api.blueprint import api
from api.openapi import (
    AGENT_ERRORS,
    add_path,
    error_doc,
    model_schema,
    response_doc,
)
from auth.agent_guard import current_agent
from auth.identity import current_user
from auth.validation import read_json_object
from data import rendered
from data.analytics import (
    AGGREGATIONS,
    GRANULARITIES,
    METHODS,
    get_view,
    params_from_query,
    run_analytics,
)
from data.analytics.models import AnalyticsView
from data.errors import ValidationFailed
from data.services import get_services

CONTROL_FIELDS = ("datasetId", "force", "version")


def _version(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(
            "version must be a whole number.", details={"field": "version"}
        )
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            "version must be a whole number.", details={"field": "version"}
        ) from None
    if number < 1 or str(number) != str(value).strip():
        raise ValidationFailed(
            "version must be 1 or more.", details={"field": "version"}
        )
    return number


def _run_input(body: dict) -> tuple[str, bool, int | None, dict]:
    dataset_id = body.get("datasetId")
    if not isinstance(dataset_id, str) or not dataset_id:
        raise ValidationFailed("datasetId is required.", details={"field": "datasetId"})
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ValidationFailed(
            "force must be true or false.", details={"field": "force"}
        )
    params = {key: value for key, value in body.items() if key not in CONTROL_FIELDS}
    return dataset_id, force, _version(body.get("version")), params


@api.post("/analytics/run")
def run_analytics_api():
    """Compute (force: recompute), store and cache one analysis view."""
    user = current_user()
    dataset_id, force, version, params = _run_input(read_json_object(request))
    view = run_analytics(get_services(), user.id, dataset_id, params, force, version)
    return jsonify(view)


@api.get("/analytics/<dataset_id>")
def analytics_view_api(dataset_id: str):
    """The analysis view, from the cache when present; a repeated request of a
    cached view gets its encoded JSON back (data/rendered.py)."""
    agent = current_agent()
    if agent is not None:
        return jsonify(
            agent_access.analytics_view(get_services(), agent, dataset_id, request.args)
        )
    user, services = current_user(), get_services()
    asked = sorted(request.args.items(multi=True))
    key = rendered.rendered_key(services, {"owner": user.id}, dataset_id, asked)
    body = rendered.get(key) if key else None
    if body is not None:
        return Response(body, mimetype="application/json")
    raw = params_from_query(request.args)
    version = _version(raw.pop("version", None))
    view = get_view(services, user.id, dataset_id, raw, version)
    response = jsonify(view)
    if key and view.get("cached"):
        # Only a view read from the cache: its "cached": true stays true.
        rendered.put(key, response.get_data())
    return response


# The view's shape is the analytics service's model (data/analytics/models.py).
VIEW_SCHEMA = model_schema(AnalyticsView)
ERRORS = {
    "400": error_doc("Unknown metric/method/granularity (lists choices)"),
    "401": error_doc("No valid credential"),
    "404": error_doc("No such dataset (or not yours)"),
    "409": error_doc("The dataset version is not processed yet"),
    "422": error_doc("Series too short for the method (names the minimum)"),
}


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


PARAMETERS = [
    _query("metric", {"type": "string"}, "Metric column (default: the first)"),
    _query("granularity", {"type": "string", "enum": list(GRANULARITIES)}, "Buckets"),
    _query("aggregation", {"type": "string", "enum": list(AGGREGATIONS)}, "Per bucket"),
    _query("method", {"type": "string", "enum": list(METHODS)}, "Detector (auto)"),
    _query("threshold", {"type": "number"}, "Score threshold of the chosen method"),
    _query("k", {"type": "number"}, "Tukey fence multiplier (1.5)"),
    _query("alpha", {"type": "number"}, "Generalized ESD significance (0.05)"),
    _query("max_outliers", {"type": "integer"}, "Generalized ESD upper bound (10)"),
    _query("window", {"type": "integer"}, "Rolling window in buckets (7)"),
    _query("from", {"type": "string", "format": "date"}, "First date (inclusive)"),
    _query("to", {"type": "string", "format": "date"}, "Last date (inclusive)"),
    _query("version", {"type": "integer"}, "Dataset version (latest processed)"),
    _query("filter.<dimension>", {"type": "string"}, "Dimension value (repeatable)"),
]

add_path(
    "/api/analytics/run",
    "post",
    {
        "summary": "Compute, store and cache an analysis view (force: recompute)",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["datasetId"],
                        "properties": {
                            "datasetId": {"type": "string"},
                            "metric": {"type": "string"},
                            "method": {"type": "string", "enum": list(METHODS)},
                            "granularity": {
                                "type": "string",
                                "enum": list(GRANULARITIES),
                            },
                            "aggregation": {
                                "type": "string",
                                "enum": list(AGGREGATIONS),
                            },
                            "threshold": {"type": "number"},
                            "k": {"type": "number"},
                            "alpha": {"type": "number"},
                            "max_outliers": {"type": "integer"},
                            "window": {"type": "integer"},
                            "from": {"type": "string", "format": "date"},
                            "to": {"type": "string", "format": "date"},
                            "filters": {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                },
                            },
                            "version": {"type": "integer"},
                            "force": {"type": "boolean"},
                        },
                    }
                }
            },
        },
        "responses": {
            "200": response_doc(VIEW_SCHEMA, "The analysis view"),
            **ERRORS,
            "413": error_doc("The JSON body is too large"),
            "415": error_doc("No JSON body (Content-Type application/json)"),
        },
    },
)
add_path(
    "/api/analytics/{datasetId}",
    "get",
    {
        "summary": "Read an analysis view (served from the cache when present)",
        "parameters": [
            {
                "name": "datasetId",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            },
            *PARAMETERS,
        ],
        "responses": {
            "200": response_doc(VIEW_SCHEMA, "The analysis view"),
            **ERRORS,
            **AGENT_ERRORS,
        },
    },
)
