"""REST route: two versions of a dataset compared (series, summary, anomalies)."""

from __future__ import annotations

from flask import jsonify, request

from api.analytics import PARAMETERS
from api.blueprint import api
from api.datasets import version_argument
from api.openapi import add_path
from auth.identity import current_user
from data.analytics import params_from_query
from data.analytics.versions import compare_versions
from data.errors import ValidationFailed
from data.services import get_services


def _required_version(name: str) -> int:
    version = version_argument(request.args.get(name))
    if version is None:
        raise ValidationFailed(
            f"{name} (a version number) is required.", details={"field": name}
        )
    return version


@api.get("/analytics/<dataset_id>/compare")
def compare_versions_api(dataset_id: str):
    """Versions a and b side by side, with the analysis parameters of the query."""
    owner_id = current_user().id
    a, b = _required_version("a"), _required_version("b")
    raw = params_from_query(request.args)
    for name in ("a", "b", "version"):
        raw.pop(name, None)
    return jsonify(compare_versions(get_services(), owner_id, dataset_id, a, b, raw))


add_path(
    "/api/analytics/{datasetId}/compare",
    "get",
    {
        "summary": (
            "Two versions side by side: series overlaid, summary and anomaly "
            "differences"
        ),
        "parameters": [
            {
                "name": "datasetId",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            },
            {
                "name": "a",
                "in": "query",
                "required": True,
                "schema": {"type": "integer"},
            },
            {
                "name": "b",
                "in": "query",
                "required": True,
                "schema": {"type": "integer"},
            },
            *(p for p in PARAMETERS if p["name"] != "version"),
        ],
        "responses": {
            "200": {
                "description": "series [{t, a, b, difference}], summary {stat: {a, b, "
                "difference, differencePct}}, anomalies {both, onlyA, onlyB}"
            },
            "400": {"description": "A missing or equal version, or a bad parameter"},
            "401": {"description": "No valid credential"},
            "404": {"description": "No such dataset or version (or not yours)"},
            "409": {"description": "A version is not processed yet"},
            "422": {"description": "A series too short for the method"},
        },
    },
)
