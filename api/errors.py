"""JSON error bodies for the REST API: {"error": {"code", "message", ...}}."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from data.errors import UNREACHABLE_ERRORS, DomainError, ServiceUnavailable, error_body

log = logging.getLogger(__name__)


def error_response(
    status: int, code: str, message: str, details: Mapping | None = None
):
    """A JSON error response with the given status (the body: data.errors.error_body).

    `details` are extra fields of the error object; they are data, never keyword
    arguments (a detail named `status` once collided with the HTTP status), and
    they cannot replace the `code` or the `message`.
    """
    return jsonify(error_body(code, message, details)), status


def _is_api_request() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def install_error_handlers(server: Flask) -> None:
    """Map domain errors and HTTP errors to JSON for API paths; hide stack traces."""

    @server.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        response, status = error_response(
            error.status, error.code, error.message, error.details
        )
        if "retry_after" in error.details:
            response.headers["Retry-After"] = str(error.details["retry_after"])
        return response, status

    def _unreachable(error: Exception):
        log.warning("dependency unreachable", extra={"error": str(error)[:300]})
        return _domain_error(
            ServiceUnavailable("A database is unavailable right now; try again.")
        )

    for unreachable in UNREACHABLE_ERRORS:
        server.register_error_handler(unreachable, _unreachable)

    @server.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not _is_api_request():
            return error
        code = (error.name or "error").lower().replace(" ", "_")
        description = error.description or error.name or "error"
        response, status = error_response(error.code or 500, code, description)
        allowed = getattr(error, "valid_methods", None)
        if error.code == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response, status

    @server.errorhandler(Exception)
    def _unexpected_error(error: Exception):
        log.exception("unhandled error")
        if _is_api_request():
            return error_response(
                500, "internal_error", "Something went wrong on our side."
            )
        return "Something went wrong on our side.", 500
