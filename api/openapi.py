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


def schema_ref(name: str) -> dict:
    """A reference to one of the document's named schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def response_doc(schema: dict, description: str) -> dict:
    """A documented JSON response."""
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def error_doc(description: str) -> dict:
    """A documented error response: the API's one error shape."""
    return response_doc(schema_ref("Error"), description)


def add_path(path: str, method: str, operation: dict) -> None:
    """Route modules describe their operations here, beside the code serving them."""
    SPEC["paths"].setdefault(path, {})[method.lower()] = operation


@api.get("/openapi.json")
def openapi_document():
    """The API description."""
    return jsonify(SPEC)
