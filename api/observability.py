"""Structured JSON logs with a request id, and the health endpoints."""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, g, has_request_context, jsonify, request

from data.health import readiness
from data.services import get_services

health = Blueprint("health", __name__)
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
SECRET_FIELDS = re.compile(
    r"(pass(word|wd)?|secret|token|authorization|cookie|api[_-]?key|credential"
    r"|private[_-]?key)",
    re.I,
)
# The password in "scheme://user:password@host" (database, Redis and Mongo URLs).
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@", re.I)
REDACTED = "[redacted]"
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(value: Any, key: str = "") -> Any:
    """Hide values under secret-looking keys and passwords inside URLs, recursively."""
    if key and SECRET_FIELDS.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {name: redact(item, str(name)) for name, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return URL_PASSWORD.sub(rf"\1{REDACTED}@", value)
    return value


def _to_text(value: Any) -> str:
    """JSON fallback for other objects: their text, with URL passwords hidden."""
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields whose names look secret are redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = redact(value, key)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=_to_text)


class RequestQueueHandler(logging.handlers.QueueHandler):
    """Hands each record to the log writer's thread, with its request id. A
    request thread never waits for the stream: with one handler writing to
    stderr under its lock, 16 concurrent requests queued on that lock (27 % of a
    worker's samples at /healthz under load, BENCHMARKS.md Load)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # In process, unpickled: the record goes as it is; only the request id,
        # which the writer's thread cannot see, is read here.
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = g.get("request_id")
        return record


def configure_logging(level: str) -> None:
    """JSON lines to stderr, written by one thread of their own (configured once
    per process; what is queued is written before the process exits)."""
    root = logging.getLogger()
    root.setLevel(level)
    if any(isinstance(h, RequestQueueHandler) for h in root.handlers):
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(JsonFormatter())
    listener = logging.handlers.QueueListener(records, writer)
    listener.start()
    atexit.register(listener.stop)
    root.addHandler(RequestQueueHandler(records))


def logged_path(path: str) -> str:
    """The path as logged: a share link's token is its secret, so it is left out."""
    return "/share/[token]" if path.startswith("/share/") else path


def install_request_logging(server: Flask) -> None:
    """Give every request an id (kept from X-Request-ID when safe) and log it."""
    access_log = logging.getLogger("insightboard.access")

    @server.before_request
    def _start_request() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
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
                    "path": logged_path(request.path),
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
