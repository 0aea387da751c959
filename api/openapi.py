"""The OpenAPI 3 document, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import BaseModel

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


def uuid_path_parameter(name: str) -> dict:
    """A required path parameter holding a UUID (a link's, a token's, a rule's id)."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }


def error_doc(description: str) -> dict:
    """A documented error response: the API's one error shape."""
    return response_doc(schema_ref("Error"), description)


# The answers an agent token can get on the aggregate reads it may call.
AGENT_ERRORS = {
    "403": error_doc("An agent token outside its scope (names the limit)"),
    "429": error_doc("An agent token over its rate limit (Retry-After)"),
    "503": error_doc("The audit trail could not record an agent call"),
}


def model_schema(model: type[BaseModel]) -> dict:
    """A reference to the model's schema, which (with the models it uses) joins the
    document's components: pydantic's JSON Schema, in OpenAPI 3.0's dialect."""
    generated = model.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    named = SPEC["components"]["schemas"]
    for name, schema in generated.pop("$defs", {}).items():
        named[name] = openapi_dialect(schema)
    named[model.__name__] = openapi_dialect(generated)
    return schema_ref(model.__name__)


def openapi_dialect(schema: Any) -> Any:
    """JSON Schema 2020-12 as OpenAPI 3.0 writes it: `X or null` is X with
    nullable (a $ref wrapped in allOf, since 3.0 ignores a $ref's siblings), and a
    const is a one-value enum."""
    if isinstance(schema, list):
        return [openapi_dialect(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi_dialect(value) for key, value in schema.items()}
    options = converted.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [option for option in options if option != {"type": "null"}]
        del converted["anyOf"]
        inner = rest[0] if len(rest) == 1 else {"anyOf": rest}
        if "$ref" in inner:
            inner = {"allOf": [inner]}
        converted = {**converted, **inner, "nullable": True}
    if "const" in converted:
        converted["enum"] = [converted.pop("const")]
    return converted


def add_path(path: str, method: str, operation: dict) -> None:
    """Route modules describe their operations here, beside the code serving them."""
    SPEC["paths"].setdefault(path, {})[method.lower()] = operation


@api.get("/openapi.json")
def openapi_document():
    """The API description."""
    return jsonify(SPEC)
