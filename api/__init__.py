"""The REST API: the blueprint, mounted at /api, with every route module."""

from __future__ import annotations

from api import (  # noqa: F401  (the route modules attach to the blueprint)
    agent_tokens,
    alerts,
    analytics,
    audit,
    auth,
    datasets,
    kpi,
    mcp_server,
    openapi,
    records,
    reports,
    shares,
    versions,
)
from api.blueprint import api
from api.errors import error_response


def register(server) -> None:
    """Mount the blueprint (the route modules attach to it on import) and the
    MCP endpoint for agents."""
    server.register_blueprint(api)
    mcp_server.register(server)


@api.route("/<path:_unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_api_path(_unknown: str):
    """Unknown API paths answer JSON 404 instead of the Dash page shell."""
    return error_response(404, "not_found", "No API endpoint at this path.")
