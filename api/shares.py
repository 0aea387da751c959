"""REST routes for share links: create, list, revoke (issue 15)."""

from __future__ import annotations

from flask import jsonify, request

from api.blueprint import api
from api.openapi import add_path, error_doc, response_doc, uuid_path_parameter
from auth.identity import current_user
from auth.validation import read_json_object
from data import shares
from data.services import get_services


@api.post("/shares")
def create_share_api():
    """Create a read-only link to one view; the URL (with its token) is only here."""
    owner = current_user()
    link, token = shares.create_share(
        get_services(), owner.id, read_json_object(request)
    )
    url = request.host_url + "share/" + token
    return jsonify(
        {"id": link.id, "url": url, "expiresAt": link.public()["expiresAt"]}
    ), 201


@api.get("/shares")
def list_shares_api():
    """The caller's live share links (never their tokens)."""
    links = shares.list_shares(get_services(), current_user().id)
    return jsonify({"shares": [link.public() for link in links]})


@api.delete("/shares/<share_id>")
def revoke_share_api(share_id: str):
    """Revoke one of the caller's links at once (404 for anyone else's)."""
    shares.revoke_share(get_services(), current_user().id, share_id)
    return "", 204


QUERY = {
    "type": "object",
    "description": "The view's URL parameters (as in its query string).",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
}
SHARE = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "page": {"type": "string", "enum": list(shares.PAGES)},
        "datasetId": {"type": "string"},
        "query": {"type": "object"},
        "locked": {"type": "array", "items": {"type": "string"}},
        "created": {"type": "string", "format": "date-time"},
        "expiresAt": {"type": "string", "format": "date-time", "nullable": True},
        "lastUsed": {"type": "string", "format": "date-time", "nullable": True},
        "views": {"type": "integer"},
    },
}
add_path(
    "/api/shares",
    "post",
    {
        "summary": "Create a read-only share link to a view of one of your datasets",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["datasetId", "page"],
                        "properties": {
                            "datasetId": {"type": "string"},
                            "page": {"type": "string", "enum": list(shares.PAGES)},
                            "query": QUERY,
                            "locked": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "Parameters the viewer may not change,"
                                " e.g. metric, filter.region.",
                            },
                            "expiresAt": {"type": "string", "format": "date-time"},
                        },
                    }
                }
            },
        },
        "responses": {
            "201": response_doc(
                {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "url": {"type": "string", "description": "Shown only here."},
                        "expiresAt": {
                            "type": "string",
                            "format": "date-time",
                            "nullable": True,
                        },
                    },
                },
                "Created",
            ),
            "400": error_doc("Invalid field (error.field names it)"),
            "401": error_doc("No valid credential"),
            "404": error_doc("No such dataset of yours"),
            "409": error_doc("Too many links"),
            "413": error_doc("Body too large"),
            "415": error_doc("Not a JSON body"),
        },
    },
)
add_path(
    "/api/shares",
    "get",
    {
        "summary": "List your live share links",
        "responses": {
            "200": response_doc(
                {
                    "type": "object",
                    "properties": {"shares": {"type": "array", "items": SHARE}},
                },
                "Your links, newest first",
            ),
            "401": error_doc("No valid credential"),
        },
    },
)
add_path(
    "/api/shares/{share_id}",
    "delete",
    {
        "summary": "Revoke one of your share links",
        "parameters": [uuid_path_parameter("share_id")],
        "responses": {
            "204": {"description": "Revoked"},
            "401": error_doc("No valid credential"),
            "404": error_doc("No such link of yours"),
            "503": error_doc(
                "The share-link cache could not confirm; nothing was revoked"
            ),
        },
    },
)
