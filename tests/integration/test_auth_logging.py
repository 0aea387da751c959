"""Logs of a real account flow at DEBUG: every access line has a request id, and
no password, JWT, personal-token secret or session cookie is written anywhere."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from api.observability import JsonFormatter
from tests.dash_calls import change_password, sign_in_form

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another correct horse staple"


class CollectingHandler(logging.Handler):
    """Every formatted line, as a log shipper would receive it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured():
    """Collect every logger's records at DEBUG (root handler, root level DEBUG)."""
    root = logging.getLogger()
    handler = CollectingHandler()
    previous = root.level
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def run_account_flow(app) -> list[str]:
    """Register, sign in (API and form), tokens, failures; return the secrets used."""
    api = app.server.test_client()
    email = f"log-{uuid.uuid4().hex[:8]}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    assert api.post("/api/auth/register", json=credentials).status_code == 201
    login = api.post("/api/auth/login", json=credentials)
    assert login.status_code == 200
    jwt_value = login.get_json()["access_token"]
    headers = {"Authorization": f"Bearer {jwt_value}"}
    created = api.post("/api/auth/tokens", json={"name": "ci"}, headers=headers)
    token = created.get_json()["token"]
    assert api.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {token}"}
    ).status_code == (200)
    assert api.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {token}x"}
    ).status_code == (401)
    wrong = {"email": email, "password": "wrong " + PASSWORD}
    assert api.post("/api/auth/login", json=wrong).status_code == 401
    unknown = {"email": "nobody-" + email, "password": PASSWORD}
    assert api.post("/api/auth/login", json=unknown).status_code == 401

    browser = app.server.test_client()
    sign_in_form(browser, app, email, "wrong " + PASSWORD, remember=True)
    sign_in_form(browser, app, email, PASSWORD, remember=True)
    cookies = [
        browser.get_cookie("session").value,
        browser.get_cookie("remember_token").value,
    ]
    assert browser.get("/api/auth/me").status_code == 200
    change_password(browser, app, PASSWORD, NEW_PASSWORD)
    browser.post("/logout")
    return [PASSWORD, NEW_PASSWORD, jwt_value, token, token[8:], *cookies]


def test_account_flow_logs_request_ids_and_no_secrets(make_app, captured):
    app = make_app(log_level="DEBUG")
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    secrets = run_account_flow(app)

    entries = [json.loads(line) for line in captured.lines]
    access = [entry for entry in entries if entry["logger"] == "insightboard.access"]
    paths = {entry["path"] for entry in access}
    assert {
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/tokens",
        "/api/auth/me",
        "/_dash-update-component",
        "/logout",
    } <= paths
    assert {entry["status"] for entry in access} >= {200, 201, 401}
    for entry in access:
        assert isinstance(entry.get("request_id"), str) and entry["request_id"], entry
    assert len({entry["request_id"] for entry in access}) == len(access)

    text = "\n".join(captured.lines)
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []
