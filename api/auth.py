"""REST routes: register, log in, who am I (see DESIGN.md §4)."""

from __future__ import annotations

from flask import jsonify, request

from api.blueprint import api
from api.openapi import add_path, error_doc, response_doc, uuid_path_parameter
from auth import service
from auth.identity import current_user
from auth.login import client_ip
from auth.validation import (
    login_input,
    raise_for_fields,
    read_json_object,
    registration_input,
    string_fields,
)
from data.services import get_services


@api.post("/auth/register")
def register_api():
    """Create an account."""
    email, password = registration_input(read_json_object(request))
    user = service.register_account(get_services(), email, password, client_ip())
    return jsonify(user.public()), 201


@api.post("/auth/login")
def login_api():
    """Exchange e-mail and password for a bearer JWT."""
    email, password = login_input(read_json_object(request))
    services = get_services()
    user = service.authenticate(services, email, password, client_ip(), via="api")
    return jsonify(service.access_token_response(services, user))


@api.get("/auth/me")
def me_api():
    """The account behind this request's credential."""
    return jsonify(current_user().public())


CREDENTIALS = {
    "type": "object",
    "required": ["email", "password"],
    "properties": {
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "password": {"type": "string", "minLength": 8, "maxLength": 128},
    },
}
USER = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "email": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "analyst", "viewer"]},
        "is_active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
        "last_login": {"type": "string", "format": "date-time", "nullable": True},
    },
}
TOKEN = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["bearer"]},
        "expires_in": {"type": "integer"},
    },
}


add_path(
    "/api/auth/register",
    "post",
    {
        "summary": "Create an account (the first account becomes admin)",
        "security": [],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CREDENTIALS}},
        },
        "responses": {
            "201": response_doc(USER, "Created"),
            "400": error_doc("Invalid fields (error.fields names them)"),
            "409": error_doc("An account with this e-mail exists"),
            "413": error_doc("Body too large"),
            "415": error_doc("Not JSON"),
            "429": error_doc("Too many attempts; see Retry-After"),
        },
    },
)
add_path(
    "/api/auth/login",
    "post",
    {
        "summary": "Sign in and receive a bearer JWT",
        "security": [],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CREDENTIALS}},
        },
        "responses": {
            "200": response_doc(TOKEN, "Signed in"),
            "400": error_doc("Invalid fields"),
            "401": error_doc("Incorrect e-mail or password"),
            "415": error_doc("Not JSON"),
            "429": error_doc("Too many attempts; see Retry-After"),
        },
    },
)
add_path(
    "/api/auth/me",
    "get",
    {
        "summary": "The account behind the bearer token or session",
        "responses": {
            "200": response_doc(USER, "The account"),
            "401": error_doc("No valid credential"),
        },
    },
)


@api.get("/auth/tokens")
def list_tokens_api():
    """The caller's personal API tokens (never their secrets)."""
    owner = current_user()
    tokens = service.list_api_tokens(get_services(), owner.id)
    return jsonify({"tokens": [token.public() for token in tokens]})


@api.post("/auth/tokens")
def create_token_api():
    """Create a personal API token; the secret is in this response only."""
    owner = current_user()
    values, errors = string_fields(read_json_object(request), ("name",))
    raise_for_fields(errors)
    token, secret = service.create_api_token(
        get_services(), owner.id, values["name"], client_ip()
    )
    return jsonify({**token.public(), "token": secret}), 201


@api.delete("/auth/tokens/<token_id>")
def revoke_token_api(token_id: str):
    """Revoke one of the caller's tokens (404 for anyone else's)."""
    owner = current_user()
    service.revoke_api_token(get_services(), owner.id, token_id, client_ip())
    return "", 204


@api.get("/auth/users")
def list_users_api():
    """Every account (administrators only)."""
    users = service.list_users(get_services(), current_user())
    return jsonify({"users": [user.public() for user in users]})


TOKEN_INFO = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "prefix": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}
add_path(
    "/api/auth/tokens",
    "get",
    {
        "summary": "List your personal API tokens",
        "responses": {
            "200": response_doc(
                {
                    "type": "object",
                    "properties": {"tokens": {"type": "array", "items": TOKEN_INFO}},
                },
                "Your live tokens",
            ),
            "401": error_doc("No valid credential"),
        },
    },
)
add_path(
    "/api/auth/tokens",
    "post",
    {
        "summary": "Create a personal API token (the secret is shown once)",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string", "maxLength": 64}},
                    }
                }
            },
        },
        "responses": {
            "201": response_doc(
                {
                    "allOf": [
                        TOKEN_INFO,
                        {"type": "object", "properties": {"token": {"type": "string"}}},
                    ]
                },
                "Created; `token` is the secret",
            ),
            "400": error_doc("Invalid name"),
            "401": error_doc("No valid credential"),
            "409": error_doc("Too many tokens"),
            "413": error_doc("The JSON body is too large"),
            "415": error_doc("Not JSON"),
        },
    },
)
add_path(
    "/api/auth/tokens/{token_id}",
    "delete",
    {
        "summary": "Revoke one of your personal API tokens",
        "parameters": [uuid_path_parameter("token_id")],
        "responses": {
            "204": {"description": "Revoked"},
            "401": error_doc("No valid credential"),
            "404": error_doc("No such token of yours"),
        },
    },
)
add_path(
    "/api/auth/users",
    "get",
    {
        "summary": "List accounts (administrators only; no user data)",
        "responses": {
            "200": response_doc(
                {
                    "type": "object",
                    "properties": {"users": {"type": "array", "items": USER}},
                },
                "Every account",
            ),
            "401": error_doc("No valid credential"),
            "403": error_doc("Not an administrator"),
        },
    },
)
