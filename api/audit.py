"""REST routes for the audit trail: read it (your own events; admins everyone's)
and verify its hash chain (admins)."""

from __future__ import annotations

import datetime as dt

from flask import jsonify, request

from api.blueprint import api
from api.openapi import add_path, error_doc, response_doc
from auth import audit
from auth.identity import current_user
from data.errors import Forbidden, ValidationFailed
from data.services import get_services

FILTERS = ("actor", "action", "resource", "from", "to", "limit", "offset", "all")


@api.get("/audit")
def list_audit_api():
    """Audit events, newest first, filtered by the query."""
    user = current_user()
    query = request.args
    unknown = sorted(set(query) - set(FILTERS))
    if unknown:
        raise ValidationFailed(
            f"Unknown parameter {unknown[0][:40]!r}; use {', '.join(FILTERS)}.",
            details={"field": unknown[0][:40]},
        )
    everyone = query.get("all") in ("1", "true")
    if everyone and user.role != "admin":
        raise Forbidden("Only admins see everyone's events.")
    events = audit.find_events(
        get_services().postgres,
        None if everyone else user.id,
        actor=_choice(query.get("actor")),
        action=(query.get("action") or "")[:60] or None,
        resource=(query.get("resource") or "")[:200] or None,
        since=_moment(query, "from"),
        until=_moment(query, "to"),
        limit=_count(query, "limit", 100, 1, audit.MAX_PAGE),
        offset=_count(query, "offset", 0, 0, 10**9),
    )
    return jsonify({"events": [audit.public_event(row) for row in events]})


@api.get("/audit/verify")
def verify_audit_api():
    """Walk the hash chain (admins): {"ok", "checked", "firstBroken"}."""
    if current_user().role != "admin":
        raise Forbidden("Only admins verify the audit trail.")
    return jsonify(audit.verify(get_services().postgres))


def _choice(value: str | None) -> str | None:
    if value and value not in audit.ACTOR_TYPES:
        raise ValidationFailed(
            f"actor must be one of {', '.join(audit.ACTOR_TYPES)}.",
            details={"field": "actor", "allowed": list(audit.ACTOR_TYPES)},
        )
    return value or None


def _moment(query, name: str) -> dt.datetime | None:
    text = query.get(name)
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
        # As UTC: PostgreSQL refuses some offsets Python accepts (e.g. -19:19).
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(
            dt.UTC
        )
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"{name} must be an ISO date or date-time.", details={"field": name}
        ) from None


def _count(query, name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationFailed(
            f"{name} must be a whole number from {low} to {high}.",
            details={"field": name},
        )
    return int(text)


EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "at": {"type": "string", "format": "date-time"},
        "actor": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": list(audit.ACTOR_TYPES)},
                "id": {"type": "string", "nullable": True},
            },
        },
        "action": {"type": "string"},
        "resource": {"type": "string", "nullable": True},
        "outcome": {"type": "string", "enum": ["success", "failure"]},
        "ip": {"type": "string", "nullable": True},
        "requestId": {"type": "string", "nullable": True},
        "details": {"type": "object"},
    },
}


def _parameter(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


add_path(
    "/api/audit",
    "get",
    {
        "summary": "Audit events, newest first (yours; with all=1 everyone's, admins)",
        "parameters": [
            _parameter(
                "actor",
                {"type": "string", "enum": list(audit.ACTOR_TYPES)},
                "Who acted",
            ),
            _parameter("action", {"type": "string"}, "e.g. login, share_create"),
            _parameter("resource", {"type": "string"}, "Part of the resource name"),
            _parameter("from", {"type": "string", "format": "date-time"}, "Since"),
            _parameter("to", {"type": "string", "format": "date-time"}, "Before"),
            _parameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": audit.MAX_PAGE},
                "Page size",
            ),
            _parameter("offset", {"type": "integer", "minimum": 0}, "Events to skip"),
            _parameter(
                "all",
                {"type": "string", "enum": ["1", "true"]},
                "Everyone's events (admins)",
            ),
        ],
        "responses": {
            "200": response_doc(
                {
                    "type": "object",
                    "properties": {"events": {"type": "array", "items": EVENT}},
                },
                "The events",
            ),
            "400": error_doc("Invalid parameter (error.field names it)"),
            "401": error_doc("No valid credential"),
            "403": error_doc("all=1 without the admin role"),
        },
    },
)
add_path(
    "/api/audit/verify",
    "get",
    {
        "summary": "Verify the audit trail's hash chain (admins)",
        "responses": {
            "200": response_doc(
                {
                    "type": "object",
                    "properties": {
                        "ok": {"type": "boolean"},
                        "checked": {"type": "integer"},
                        "firstBroken": {"type": "integer", "nullable": True},
                    },
                },
                "The chain's state",
            ),
            "401": error_doc("No valid credential"),
            "403": error_doc("Not an admin"),
        },
    },
)
