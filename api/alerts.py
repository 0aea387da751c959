"""REST routes of alert rules: CRUD, history, backtest, acknowledge and silence.
Thin: read the request, call data.alerts.service, shape the answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import jsonify, request

from api.blueprint import api
from api.openapi import add_path, error_doc, response_doc
from auth.identity import current_user
from auth.validation import read_json_object
from data.alerts import service, store
from data.alerts.rules import (
    AGGREGATIONS,
    CONDITION_TYPES,
    GRANULARITIES,
    NO_DATA,
    SEVERITIES,
    WEEKDAYS,
)
from data.errors import ValidationFailed
from data.services import get_services


@api.post("/alerts")
def create_alert_api():
    """Create a rule (evaluated over its history at once)."""
    body = read_json_object(request)
    view = service.create_rule(get_services(), current_user().id, body)
    return jsonify(view), 201


@api.get("/alerts")
def list_alerts_api():
    """The caller's rules and how many fire now."""
    services, owner_id = get_services(), current_user().id
    rows = store.list_rules(services.postgres, owner_id)
    firing = service.firing_count(services, owner_id)
    views = [service.rule_view(row) for row in rows]
    return jsonify({"alerts": views, "firing": firing})


@api.get("/alerts/<rule_id>")
def get_alert_api(rule_id: str):
    """One rule with its state."""
    row = store.get_rule(get_services().postgres, current_user().id, rule_id)
    return jsonify(service.rule_view(row))


@api.put("/alerts/<rule_id>")
def put_alert_api(rule_id: str):
    """Replace a rule; its evaluation starts over."""
    body = read_json_object(request)
    view = service.replace_rule(get_services(), current_user().id, rule_id, body)
    return jsonify(view)


@api.delete("/alerts/<rule_id>")
def delete_alert_api(rule_id: str):
    """Delete a rule with its history."""
    service.delete_rule(get_services(), current_user().id, rule_id)
    return "", 204


@api.get("/alerts/<rule_id>/history")
def alert_history_api(rule_id: str):
    """A rule's state changes (append-only, newest first) and notifications."""
    return jsonify(service.history_view(get_services(), current_user().id, rule_id))


@api.post("/alerts/backtest")
def backtest_alert_api():
    """How often a rule (the same body as POST /alerts) would have fired."""
    body = read_json_object(request)
    return jsonify(service.backtest(get_services(), current_user().id, body))


@api.post("/alerts/<rule_id>/acknowledge")
def acknowledge_alert_api(rule_id: str):
    """Mark the rule's current firing as seen."""
    store.acknowledge(get_services().postgres, current_user().id, rule_id)
    return "", 204


@api.post("/alerts/<rule_id>/silence")
def silence_alert_api(rule_id: str):
    """Silence notifications until `until` (an instant with an offset); null lifts."""
    until = _instant(read_json_object(request).get("until"))
    store.silence(get_services().postgres, current_user().id, rule_id, until)
    return "", 204


def _instant(raw) -> dt.datetime | None:
    if raw is None:
        return None
    problem = ValidationFailed(
        "until: an ISO 8601 instant with an offset, e.g. 2026-12-01T18:00:00Z.",
        details={"field": "until"},
    )
    if not isinstance(raw, str):
        raise problem
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise problem from None
    if moment.tzinfo is None:
        raise problem
    return moment


# -- OpenAPI ----------------------------------------------------------------------


NUMBER = {"type": "number", "nullable": True}
TEXT = {"type": "string", "nullable": True}
CONDITION = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": list(CONDITION_TYPES)},
        "threshold": {**NUMBER, "description": "above/below/change_pct (in %)"},
        "recovery": {**NUMBER, "description": "hysteresis; default: threshold"},
        "minVolume": {"type": "number", "minimum": 0, "default": 0},
        "severity": {"type": "string", "enum": list(SEVERITIES), "default": "medium"},
    },
}
MUTE_TIMING = {
    "type": "object",
    "properties": {
        "days": {"type": "array", "items": {"type": "string", "enum": list(WEEKDAYS)}},
        "hours": {"type": "string", "example": "0-7", "default": "0-24"},
        "tz": {"type": "string", "default": "UTC"},
    },
}
CHANNEL = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["email", "webhook"]},
        "to": {"type": "array", "items": {"type": "string"}},
        "url": {"type": "string"},
        "secret": {
            "type": "string",
            "description": "A whsec_... secret; shown as whsec_******** (sending "
            "that back in a PUT keeps the stored one)",
        },
        "format": {"type": "string", "enum": ["json", "slack"]},
    },
}
RULE: dict[str, Any] = {
    "type": "object",
    "required": ["datasetId", "measure", "condition"],
    "properties": {
        "name": {"type": "string", "default": "Alert"},
        "datasetId": {"type": "string"},
        "measure": {"type": "string", "description": "KPI measure or metric column"},
        "aggregation": {"type": "string", "enum": list(AGGREGATIONS)},
        "granularity": {"type": "string", "enum": list(GRANULARITIES)},
        "condition": CONDITION,
        "forBuckets": {"type": "integer", "minimum": 1, "default": 1},
        "keepFiringForBuckets": {"type": "integer", "minimum": 0, "default": 0},
        "noData": {"type": "string", "enum": list(NO_DATA), "default": "keep"},
        "repeatIntervalMinutes": {"type": "integer", "minimum": 0, "default": 240},
        "muteTimings": {"type": "array", "items": MUTE_TIMING},
        "channels": {"type": "array", "items": CHANNEL},
    },
}
RULE_VIEW = {
    "type": "object",
    "properties": {
        **RULE["properties"],
        "id": {"type": "string"},
        "state": {"type": "string", "enum": [
            "ok", "pending", "firing", "recovering", "nodata", "error"]},
        "stateSince": TEXT,
        "lastError": TEXT,
        "acknowledgedAt": TEXT,
        "silencedUntil": TEXT,
        "createdAt": TEXT,
        "updatedAt": TEXT,
    },
}  # fmt: skip
BACKTEST = {
    "type": "object",
    "required": ["count", "firings"],
    "properties": {
        "count": {"type": "integer"},
        "firings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"start": {"type": "string"}, "end": TEXT},
            },
        },
    },
}
HISTORY = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "state": {"type": "string"},
        "history": {"type": "array", "items": {"type": "object"}},
        "notifications": {"type": "array", "items": {"type": "object"}},
    },
}
RULE_ID = {
    "name": "ruleId",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}
BODY = {"required": True, "content": {"application/json": {"schema": RULE}}}
UNAUTHORIZED = {"401": error_doc("No valid credential")}
MISSING = {"404": error_doc("No such rule or dataset (or not yours)")}
BODY_ERRORS = {
    "400": error_doc("A bad field, named in error.field"),
    "409": error_doc("The dataset's version is not processed yet"),
    "413": error_doc("The JSON body is too large"),
    "415": error_doc("No JSON body (Content-Type application/json)"),
    "422": error_doc("The series is over a limit (names it)"),
}

add_path("/api/alerts", "post", {
    "summary": "Create an alert rule",
    "requestBody": BODY,
    "responses": {"201": response_doc(RULE_VIEW, "The stored rule with its state"),
                  **BODY_ERRORS, **UNAUTHORIZED, **MISSING},
})  # fmt: skip
add_path("/api/alerts", "get", {
    "summary": "The caller's alert rules and how many fire now",
    "responses": {
        "200": response_doc({"type": "object", "properties": {
            "alerts": {"type": "array", "items": RULE_VIEW},
            "firing": {"type": "integer"}}}, "The rules"),
        **UNAUTHORIZED,
    },
})  # fmt: skip
add_path("/api/alerts/{ruleId}", "get", {
    "summary": "One alert rule",
    "parameters": [RULE_ID],
    "responses": {
        "200": response_doc(RULE_VIEW, "The rule"), **UNAUTHORIZED, **MISSING,
    },
})  # fmt: skip
add_path("/api/alerts/{ruleId}", "put", {
    "summary": "Replace an alert rule (its evaluation starts over)",
    "parameters": [RULE_ID],
    "requestBody": BODY,
    "responses": {"200": response_doc(RULE_VIEW, "The stored rule"),
                  **BODY_ERRORS, **UNAUTHORIZED, **MISSING},
})  # fmt: skip
add_path("/api/alerts/{ruleId}", "delete", {
    "summary": "Delete an alert rule with its history",
    "parameters": [RULE_ID],
    "responses": {"204": {"description": "Deleted"}, **UNAUTHORIZED, **MISSING},
})  # fmt: skip
add_path("/api/alerts/{ruleId}/history", "get", {
    "summary": "A rule's state history (newest first) and notifications",
    "parameters": [RULE_ID],
    "responses": {
        "200": response_doc(HISTORY, "The history"), **UNAUTHORIZED, **MISSING,
    },
})  # fmt: skip
add_path("/api/alerts/backtest", "post", {
    "summary": "How often a rule would have fired over the dataset's history",
    "requestBody": BODY,
    "responses": {"200": response_doc(BACKTEST, "Firings (end null: still firing)"),
                  **BODY_ERRORS, **UNAUTHORIZED, **MISSING},
})  # fmt: skip
add_path("/api/alerts/{ruleId}/acknowledge", "post", {
    "summary": "Acknowledge a rule's current firing",
    "parameters": [RULE_ID],
    "responses": {"204": {"description": "Acknowledged"}, **UNAUTHORIZED, **MISSING},
})  # fmt: skip
add_path("/api/alerts/{ruleId}/silence", "post", {
    "summary": "Silence a rule's notifications until an instant (null lifts it)",
    "parameters": [RULE_ID],
    "requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"until": TEXT}}}}},
    "responses": {"204": {"description": "Silenced"},
                  "400": error_doc("until is not an instant with an offset"),
                  "413": error_doc("The JSON body is too large"),
                  "415": error_doc("No JSON body (Content-Type application/json)"),
                  **UNAUTHORIZED, **MISSING},
})  # fmt: skip
