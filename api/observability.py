"""Structured JSON logs with a request id, and the health endpoints."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Blueprint, Flask, g, has_request_context, jsonify, request

from data.health import readiness
from data.services import get_services

health = Blueprint("health", __name__)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECRET_FIELDS = re.compile(r"(password|secret|token|authorization|cookie)", re.I)
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields whose names look secret are redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = getattr(g, "request_id", None)
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = "[redacted]" if SECRET_FIELDS.search(key) else value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Send JSON lines to stderr (configured once per process)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def install_request_logging(server: Flask) -> None:
    """Give every request an id (kept from X-Request-ID when safe) and log it."""
    access_log = logging.getLogger("insightboard.access")

    @server.before_request
    def _start_request() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @server.after_request
    def _finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None and not request.path.startswith(
            ("/_dash-component", "/assets")
        ):
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return response


@health.get("/healthz")
def healthz():
    """Liveness: the process answers; no dependency is called."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz():
    """Readiness: dependency status and latency; 503 if a required one is down."""
    report, ready = readiness(get_services())
    body = {"status": "ready" if ready else "unavailable", "dependencies": report}
    return jsonify(body), 200 if ready else 503
