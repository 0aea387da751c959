"""The REST API blueprint, mounted at /api."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api")


def register(server) -> None:
    """Import the route modules (they attach to `api`) and mount the blueprint."""
    from api import (  # noqa: F401
        analytics,
        auth,
        datasets,
        kpi,
        openapi,
        reports,
        shares,
        versions,
    )

    server.register_blueprint(api)


@api.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_api_path(_unknown: str):
    """Unknown API paths answer JSON 404 instead of the Dash page shell."""
    from api.errors import error_response

    return error_response(404, "not_found", "No API endpoint at this path.")
