"""Who asked, from where: the audit trail's writer for ordinary user actions.

The services name what happened (`Services.audit`: an upload, a share link, a rule
change); the recorder wired here adds the request's side (IP, request id, the
signed-in user's e-mail and how they proved who they are). One after-request hook
writes every API call made with a personal API token.

A failed write of these events is logged (with the whole event, so an operator
can restore it from the logs) and the action stands: by the time it is written
the action has happened, and refusing then would tell the user it had not. Agent
calls are different: their event is written first and the call fails closed.
"""

from __future__ import annotations

from flask import Flask, Response, g, has_request_context, request

from auth.audit import record_event
from auth.identity import current_user_or_none
from data.postgres import Postgres
from data.services import AUDIT_RECORDER, Services

# How the request proved who it is, as the trail's `details.via` says it.
VIA = {"session": "browser", "jwt": "api", "api_token": "token"}
API_CALL = "api_call"


def install_audit_recorder(services: Services) -> None:
    """Wire the services' audit port to the trail (called by the app factory)."""
    database = services.postgres

    def record(action: str, outcome: str, **fields) -> None:
        record_event(database, action, outcome, **with_request_side(fields))

    services.extensions[AUDIT_RECORDER] = record


def with_request_side(fields: dict) -> dict:
    """The event's fields plus the current request's IP and request id, and for
    the signed-in user's own actions their e-mail and `details.via`."""
    if not has_request_context():
        return fields
    added = {**fields, "ip": request.remote_addr, "request_id": g.get("request_id")}
    user = current_user_or_none()
    acting = fields.get("actor_type") in (None, "user")
    if acting and user is not None and user.id == fields.get("user_id"):
        added["email"] = user.email
        via = VIA.get(user.auth_method or "")
        added["details"] = {"via": via, **(fields.get("details") or {})}
    return added


def install_token_call_audit(server: Flask, database: Postgres) -> None:
    """Every API call made with a personal API token goes to the trail: method,
    path (never the query or the body) and the status it got."""

    @server.after_request
    def _audit_token_call(response: Response) -> Response:
        user = current_user_or_none() if request.path.startswith("/api/") else None
        if user is None or user.auth_method != "api_token":
            return response
        record_event(
            database,
            API_CALL,
            "success" if response.status_code < 400 else "failure",
            user_id=user.id,
            email=user.email,
            ip=request.remote_addr,
            request_id=g.get("request_id"),
            resource=request.path[:300],
            details={
                "via": VIA["api_token"],
                "tokenId": user.credential_id,
                "method": request.method,
                "path": request.path[:300],
                "status": response.status_code,
            },
        )
        return response
