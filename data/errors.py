"""Domain errors raised by services; web handlers map them to HTTP in one place."""

from __future__ import annotations

from collections.abc import Mapping

import pymongo.errors

# Driver errors that mean a dependency cannot be reached right now: answered 503
# like ServiceUnavailable (PostgreSQL's are translated in data/postgres.py).
UNREACHABLE_ERRORS: tuple[type[Exception], ...] = (pymongo.errors.ConnectionFailure,)


def error_body(code: str, message: str, details: Mapping | None = None) -> dict:
    """The JSON body of every error response: {"error": {"code", "message", ...}};
    extra `details` never replace the code or the message."""
    return {"error": {**(details or {}), "code": code, "message": message}}


class DomainError(Exception):
    """Base class: a problem the caller can fix, with a stable code and a message."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(DomainError):
    """Input is malformed; details name the fields."""

    status = 400
    code = "validation_failed"


class Unauthorized(DomainError):
    """Missing or invalid credentials."""

    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    """The caller is known but their role does not allow this (never used to hide
    another user's resource: that is NotFound)."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """The resource does not exist or is not the caller's (never say which)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with existing state."""

    status = 409
    code = "conflict"


class TooLarge(DomainError):
    """The payload exceeds a configured limit."""

    status = 413
    code = "too_large"


class UnsupportedMedia(DomainError):
    """The content type or file format is not accepted."""

    status = 415
    code = "unsupported_media_type"


class Unprocessable(DomainError):
    """Well-formed but cannot be processed (e.g. a series too short for a method)."""

    status = 422
    code = "unprocessable"


class RateLimited(DomainError):
    """Too many requests."""

    status = 429
    code = "rate_limited"


class ServiceUnavailable(DomainError):
    """A dependency (object storage, queue) failed; retrying later may work."""

    status = 503
    code = "service_unavailable"


class Gone(DomainError):
    """The resource existed but is no longer available (a revoked or expired link)."""

    status = 410
    code = "gone"
