"""The REST API blueprint, mounted at /api (route modules attach to it)."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api")
