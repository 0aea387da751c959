"""REST routes for the audit trail: read it (your own events; admins everyone's)
and verify its hash chain (admins)."""

from __future__ import annotations

from flask import Response, jsonify, request

from api.blueprint import api
from api.openapi import add_path, error_doc, response_doc
from auth import audit, audit_view
from auth.identity import current_user
from data.errors import Forbidden
from data.services import get_services


@api.get("/audit")
def list_audit_api():
    """Audit events, newest first, filtered by the query (format=csv: every
    matching event as a spreadsheet-safe CSV download)."""
    user, database = current_user(), get_services().postgres
    filters = audit_view.parse_filters(request.args)
    if filters.format == "csv":
        rows = audit_view.export_events(database, user, filters)
        return Response(
            audit_view.events_csv(rows),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
        )
    rows = audit_view.visible_events(database, user, filters)
    return jsonify({"events": [audit.public_event(row) for row in rows]})


@api.get("/audit/verify")
def verify_audit_api():
    """Walk the hash chain (admins): {"ok", "checked", "firstBroken"}."""
    if current_user().role != "admin":
        raise Forbidden("Only admins verify the audit trail.")
    return jsonify(audit.verify(get_services().postgres))


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


def _with_csv(doc: dict) -> dict:
    """A JSON response that format=csv turns into a CSV file."""
    csv_file = {"schema": {"type": "string", "format": "binary"}}
    return {**doc, "content": {**doc["content"], "text/csv": csv_file}}


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
            _parameter(
                "format",
                {"type": "string", "enum": list(audit_view.FORMATS)},
                "csv: every matching event (up to 10,000) as a CSV download, cells"
                " a spreadsheet would run as formulas prefixed with an apostrophe",
            ),
        ],
        "responses": {
            "200": _with_csv(
                response_doc(
                    {
                        "type": "object",
                        "properties": {"events": {"type": "array", "items": EVENT}},
                    },
                    "The events (format=csv: a CSV file of them)",
                )
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
