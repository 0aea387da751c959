"""REST routes: agent tokens (create, list, revoke). Only a signed-in user manages
them (session, JWT or personal token); the guard refuses agent tokens here."""

from __future__ import annotations

from flask import jsonify, request

from api.blueprint import api
from api.openapi import add_path, error_doc, response_doc, uuid_path_parameter
from auth import agent_token_service
from auth.agent_tokens import (
    DEFAULT_MAX_WINDOW_DAYS,
    MAX_DATASETS,
    MAX_EXPIRY_DAYS,
    MAX_WINDOW_DAYS,
)
from auth.identity import current_user
from auth.login import client_ip
from auth.validation import read_json_object
from data.services import get_services


@api.post("/agent-tokens")
def create_agent_token_api():
    """Create an agent token; its value is in this response only."""
    owner = current_user()
    token, secret = agent_token_service.create_agent_token(
        get_services(), owner.id, read_json_object(request), client_ip()
    )
    return jsonify({"id": token.id, "token": secret}), 201


@api.get("/agent-tokens")
def list_agent_tokens_api():
    """The caller's live agent tokens with their scopes (never their values)."""
    tokens = agent_token_service.list_agent_tokens(get_services(), current_user().id)
    return jsonify({"tokens": [token.public() for token in tokens]})


@api.delete("/agent-tokens/<token_id>")
def revoke_agent_token_api(token_id: str):
    """Revoke one of the caller's agent tokens (404 for anyone else's)."""
    owner = current_user()
    agent_token_service.revoke_agent_token(
        get_services(), owner.id, token_id, client_ip()
    )
    return "", 204


NAMES = {"type": "array", "items": {"type": "string"}, "minItems": 1}
NULLABLE_NAMES = {**NAMES, "nullable": True}
AGENT_TOKEN_INFO = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "prefix": {"type": "string"},
        "datasets": NAMES,
        "measures": {**NULLABLE_NAMES, "description": "null: every measure"},
        "dimensions": {**NULLABLE_NAMES, "description": "null: every dimension"},
        "maxWindowDays": {"type": "integer"},
        "expiresAt": {"type": "string", "format": "date-time"},
        "createdAt": {"type": "string", "format": "date-time"},
        "lastUsedAt": {"type": "string", "format": "date-time", "nullable": True},
    },
}
NEW_AGENT_TOKEN = {
    "type": "object",
    "required": ["name", "datasets", "expiresAt"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "maxLength": 64},
        "datasets": {**NAMES, "maxItems": MAX_DATASETS,
                     "description": "Ids of your own datasets"},
        "measures": {**NAMES, "description": "Measure names (absent: all)"},
        "dimensions": {**NAMES, "description": "Breakdown/filter dimensions "
                       "(absent: all)"},
        "expiresAt": {"type": "string", "format": "date-time",
                      "description": f"At most {MAX_EXPIRY_DAYS} days ahead"},
        "maxWindowDays": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_DAYS,
                          "default": DEFAULT_MAX_WINDOW_DAYS},
    },
}  # fmt: skip
add_path("/api/agent-tokens", "post", {
    "summary": "Create an agent token (read aggregates only; the value is shown once)",
    "requestBody": {"required": True,
                    "content": {"application/json": {"schema": NEW_AGENT_TOKEN}}},
    "responses": {
        "201": response_doc(
            {"type": "object", "required": ["id", "token"],
             "properties": {"id": {"type": "string", "format": "uuid"},
                            "token": {"type": "string"}}},
            "Created; `token` is the secret",
        ),
        "400": error_doc("A bad field, named"),
        "401": error_doc("No valid credential"),
        "403": error_doc("An agent token cannot manage agent tokens"),
        "409": error_doc("Too many agent tokens"),
        "413": error_doc("The JSON body is too large"),
        "415": error_doc("Not JSON"),
    },
})  # fmt: skip
add_path("/api/agent-tokens", "get", {
    "summary": "List your live agent tokens and their scopes",
    "responses": {
        "200": response_doc(
            {"type": "object",
             "properties": {"tokens": {"type": "array", "items": AGENT_TOKEN_INFO}}},
            "Your live agent tokens",
        ),
        "401": error_doc("No valid credential"),
        "403": error_doc("An agent token cannot manage agent tokens"),
    },
})  # fmt: skip
add_path("/api/agent-tokens/{token_id}", "delete", {
    "summary": "Revoke one of your agent tokens",
    "parameters": [uuid_path_parameter("token_id")],
    "responses": {
        "204": {"description": "Revoked"},
        "401": error_doc("No valid credential"),
        "403": error_doc("An agent token cannot manage agent tokens"),
        "404": error_doc("No such token of yours"),
    },
})  # fmt: skip
