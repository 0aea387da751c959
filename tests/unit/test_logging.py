"""Structured logging: JSON lines, request ids, and secrets that never reach a log."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime

import pytest
from flask import Flask

from api.observability import JsonFormatter, install_request_logging

HEX_ID = re.compile(r"[0-9a-f]{32}")


class CollectingHandler(logging.Handler):
    """Keeps each formatted line, as a log shipper would receive it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def entries(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def captured():
    """Collect JSON lines from the insightboard.* loggers at INFO and above."""
    logger = logging.getLogger("insightboard")
    handler = CollectingHandler()
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


@pytest.fixture
def web():
    """A bare Flask app with the request logging hooks and one logging route."""
    server = Flask(__name__)
    install_request_logging(server)

    @server.get("/work")
    def work():
        logging.getLogger("insightboard.test").info("working", extra={"step": 1})
        return "done"

    return server.test_client()


def test_each_record_is_one_json_object_with_utc_time(captured):
    logging.getLogger("insightboard.test").warning("disk %s", "low", extra={"pct": 93})
    assert len(captured.lines) == 1 and "\n" not in captured.lines[0]
    entry = captured.entries()[0]
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "insightboard.test"
    assert entry["message"] == "disk low"
    assert entry["pct"] == 93
    assert datetime.fromisoformat(entry["time"]).utcoffset().total_seconds() == 0


def test_supplied_request_id_is_kept_in_logs_and_response(web, captured):
    response = web.get("/work", headers={"X-Request-ID": "edge-42.a_b"})
    assert response.headers["X-Request-ID"] == "edge-42.a_b"
    ids = {entry["request_id"] for entry in captured.entries()}
    assert ids == {"edge-42.a_b"}
    assert [e["message"] for e in captured.entries()] == ["working", "request"]


def test_missing_request_id_is_generated_and_differs_per_request(web, captured):
    first = web.get("/work").headers["X-Request-ID"]
    second = web.get("/work").headers["X-Request-ID"]
    assert HEX_ID.fullmatch(first) and HEX_ID.fullmatch(second)
    assert first != second
    logged = [entry["request_id"] for entry in captured.entries()]
    assert logged == [first, first, second, second]


@pytest.mark.parametrize(
    "supplied", ["has spaces", "x" * 65, "semi;colon", 'quote"d', "ünïcode"]
)
def test_unsafe_request_ids_are_replaced(web, captured, supplied):
    response = web.get("/work", headers={"X-Request-ID": supplied})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])
    assert supplied not in "".join(captured.lines)


def test_access_line_has_method_path_status_and_duration_but_no_query(web, captured):
    web.get("/work?token=query-secret-value", headers={"X-Request-ID": "r1"})
    access = captured.entries()[-1]
    assert access["logger"] == "insightboard.access"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/work", 200)
    assert access["duration_ms"] >= 0
    assert "query-secret-value" not in "".join(captured.lines)


def test_secret_looking_fields_are_redacted_at_any_depth(captured):
    logging.getLogger("insightboard.test").info(
        "login",
        extra={
            "password": "hunter2",
            "api_token": "tok-abc",
            "Authorization": "Bearer jwt-xyz",
            "request_headers": {"Cookie": "session=cookie-val", "Accept": "text/html"},
            "attempts": [{"client_secret": "cs-1", "user": "ana"}],
            "email": "ana@example.com",
        },
    )
    line = captured.lines[0]
    for secret in ("hunter2", "tok-abc", "jwt-xyz", "cookie-val", "cs-1"):
        assert secret not in line
    entry = captured.entries()[0]
    assert entry["password"] == "[redacted]"
    assert entry["request_headers"]["Accept"] == "text/html"
    assert entry["attempts"][0]["user"] == "ana"
    assert entry["email"] == "ana@example.com"


def test_passwords_inside_urls_are_hidden_in_messages_fields_and_objects(captured):
    class Connection:
        def __str__(self) -> str:
            return "Connection(redis://:obj-pass@redis:6379/0)"

    logging.getLogger("insightboard.test").info(
        "connecting to %s",
        "postgresql://app:msg-pass@db:5432/insightboard",
        extra={"target": "mongodb://root:field-pass@mongo:27017", "conn": Connection()},
    )
    line = captured.lines[0]
    for secret in ("msg-pass", "field-pass", "obj-pass"):
        assert secret not in line
    entry = captured.entries()[0]
    assert entry["message"] == (
        "connecting to postgresql://app:[redacted]@db:5432/insightboard"
    )
    assert entry["target"] == "mongodb://root:[redacted]@mongo:27017"


def test_exception_text_is_logged_with_url_passwords_hidden(captured):
    try:
        raise ConnectionError("cannot reach redis://:exc-pass@cache:6379")
    except ConnectionError:
        logging.getLogger("insightboard.test").exception("cache down")
    entry = captured.entries()[0]
    assert "ConnectionError" in entry["exception"]
    assert "exc-pass" not in captured.lines[0]
