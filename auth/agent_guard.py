"""Agent tokens in the request guard: an agent reads aggregates and nothing else.

A request whose bearer value has the agent-token shape (`iba_...`) is judged on
the token alone (the session cookie and every other credential are ignored): an
unknown, revoked or expired token is 401; every call counts against the token's
rate limit (429 with Retry-After); only the REST aggregate reads and the MCP
endpoint accept it, for the token's datasets only; every other route, every Dash
callback and page answers 403 (the live-update socket refuses it in the guard's
socket check). Measures, dimensions and the time window are applied by the agent
data reads (api/agent_access.py), which every agent path goes through.

Every agent call is written to the audit trail before its answer leaves
(`audit_agent_response`, an after_request hook that also sees the guard's own
refusals); when that write fails the answer is replaced by a 503 (fail closed).
MCP tool calls are audited one by one by the agent data reads.
"""

from __future__ import annotations

import json
import logging

import psycopg2
from flask import Response, g, request
from werkzeug.wrappers import Response as BaseResponse

from auth import limits
from auth.agent_tokens import AgentToken, AgentTokenRepository, looks_like_agent_token
from auth.audit import append_event
from auth.identity import bearer_value
from data.errors import (
    DomainError,
    Forbidden,
    ServiceUnavailable,
    Unauthorized,
    error_body,
)
from data.services import get_services

log = logging.getLogger(__name__)

# The REST aggregate reads an agent token may call (GET), by Flask endpoint.
AGGREGATE_ENDPOINTS = frozenset({"api.kpi_view_api", "api.analytics_view_api"})
MCP_PATH = "/mcp"
MAX_AUDITED_PARAMETERS = 30
AUDIT_REFUSAL = "The audit trail is unavailable, so this agent call was refused."


def current_agent() -> AgentToken | None:
    """The agent token this request runs under (set by the guard), or None."""
    return g.get("agent_token")


def agent_bearer() -> str | None:
    """The request's bearer value when it is an agent token, else None."""
    value = bearer_value(request)
    return value if looks_like_agent_token(value) else None


def authorize_agent(value: str) -> AgentToken:
    """The live token for this value, counted against its rate limit (Unauthorized
    for an unknown, revoked or expired token; RateLimited over the limit)."""
    token = AgentTokenRepository(get_services().postgres).live_token(value)
    if token is None:
        raise Unauthorized("This agent token is unknown, revoked or expired.")
    limits.enforce_agent(token.id)
    return token


def guard_agent(value: str) -> BaseResponse | None:
    """Hold a request carrying an agent token to its scope; None lets it on."""
    try:
        g.agent_token = authorize_agent(value)
        _require_allowed_route(g.agent_token)
    except DomainError as error:
        g.agent_refused = True
        return agent_refusal(error)
    return None


def _require_allowed_route(token: AgentToken) -> None:
    if request.path == MCP_PATH:
        return
    endpoint = request.url_rule.endpoint if request.url_rule else None
    if endpoint not in AGGREGATE_ENDPOINTS or request.method not in ("GET", "HEAD"):
        raise Forbidden(
            "An agent token reads aggregates only: GET /api/kpi/<id>, "
            "GET /api/analytics/<id> and the MCP endpoint /mcp."
        )
    token.require_dataset((request.view_args or {}).get("dataset_id"))


def agent_refusal(error: DomainError) -> Response:
    """A JSON refusal (with Retry-After for a rate limit)."""
    response = Response(
        json.dumps(error_body(error.code, error.message, error.details)),
        status=error.status,
        mimetype="application/json",
    )
    if "retry_after" in error.details:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="insightboard-agents"'
    return response


def audit_agent_response(response: BaseResponse) -> BaseResponse:
    """after_request: write the agent call to the audit trail before it answers;
    a failed write turns the answer into a 503. MCP exchanges are audited per
    tool call (a failed write there is marked on `g`)."""
    token = current_agent()
    if token is None:
        return response
    if g.get("agent_audit_failed"):
        return agent_refusal(ServiceUnavailable(AUDIT_REFUSAL))
    if request.path == MCP_PATH and not g.get("agent_refused"):
        return response
    try:
        record_agent_call(
            token,
            resource=_resource(),
            parameters=_parameters(),
            outcome="success" if response.status_code < 400 else "failure",
            status=response.status_code,
        )
    except ServiceUnavailable as error:
        return agent_refusal(error)
    return response


def record_agent_call(
    token: AgentToken, *, resource: str, parameters: dict, outcome: str, status: int
) -> None:
    """Append one agent call to the audit trail (raises ServiceUnavailable when the
    write fails: the caller must then refuse the call)."""
    try:
        append_event(
            get_services().postgres,
            "agent_call",
            outcome,
            actor_type="agent",
            actor_id=token.id,
            user_id=token.user_id,
            ip=request.remote_addr,
            resource=resource,
            request_id=g.get("request_id"),
            details={
                "parameters": parameters,
                "status": status,
                # Set by the agent data reads: cells disclosure control hid.
                "suppressedCells": g.pop("agent_suppressed_cells", 0),
            },
        )
    except (psycopg2.Error, DomainError) as error:
        log.error("agent audit write failed", extra={"error": str(error)[:300]})
        raise ServiceUnavailable(AUDIT_REFUSAL) from None


def _resource() -> str:
    dataset_id = (request.view_args or {}).get("dataset_id")
    rule = request.url_rule.rule if request.url_rule else request.path
    return f"dataset:{dataset_id}" if dataset_id else f"{request.method} {rule}"[:200]


def _parameters() -> dict:
    """The query parameters (never a credential: those travel in headers)."""
    items = list(request.args.items(multi=True))[:MAX_AUDITED_PARAMETERS]
    return {"method": request.method, "path": request.path[:200],
            "query": [[key[:60], value[:200]] for key, value in items]}  # fmt: skip
