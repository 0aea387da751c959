"""The OpenAPI 3 document, served at /api/openapi.json."""

from __future__ import annotations

from flask import jsonify

from api.blueprint import api

SPEC: dict = {
    "openapi": "3.0.3",
    "info": {
        "title": "Insightboard API",
        "version": "1.0.0",
        "description": "Datasets, analytics, anomaly detection and insights.",
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    }
                },
            }
        },
    },
    "security": [{"bearerAuth": []}],
    "paths": {},
}


def add_path(path: str, method: str, operation: dict) -> None:
    """Route modules describe their operations here, beside the code serving them."""
    SPEC["paths"].setdefault(path, {})[method.lower()] = operation


@api.get("/openapi.json")
def openapi_document():
    """The API description."""
    return jsonify(SPEC)


def json_content(schema: dict, description: str) -> dict:
    """An operation's JSON response with this schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def error_content(description: str) -> dict:
    """An operation's error response (the shared Error schema)."""
    return json_content({"$ref": "#/components/schemas/Error"}, description)
