"""Every operation of the served OpenAPI document answers, in a real session, what
the document says: one user's whole journey through the API (sign up, tokens,
upload, preview, measures, disclosure, append, reprocess, analytics, comparison,
KPI, shares, alerts, reports, delete) is recorded on the server, and each
response's status and body are checked against the served document (schemas
generated from the models in data/dataset_models.py and data/analytics/models.py).
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from flask import request
from openapi_schema_validator import OAS30Validator

from tests.alerts_data import above_rule, upload_series
from tests.api_calls import post_file, upload_sample
from tests.conftest import SAMPLE_CSV


@pytest.fixture
def recorded(make_app):
    """(app, client, responses): every API response, with the route it matched."""
    app = make_app(ingest_mode="inline", alert_schedule_interval_s=0)
    responses: list[tuple[str, str, int, object]] = []

    @app.server.after_request
    def keep(response):
        rule = request.url_rule.rule if request.url_rule else request.path
        if rule.startswith("/api/"):
            body = response.get_json() if response.is_json else None
            responses.append((request.method, rule, response.status_code, body))
        return response

    return app, app.server.test_client(), responses


def ok(response) -> None:
    """The call succeeded (with the error it answered otherwise)."""
    assert response.status_code < 300, response.get_json()


def journey(client, new_user) -> None:
    """Each operation at least once, as a client program would call them."""
    user, other = new_user(client), new_user(client)
    auth = user["headers"]
    assert client.get("/api/auth/me", headers=auth).status_code == 200
    token = client.post("/api/auth/tokens", json={"name": "ci"}, headers=auth)
    assert token.status_code == 201, token.get_json()
    assert client.get("/api/auth/tokens", headers=auth).status_code == 200
    token_id = token.get_json()["id"]
    client.delete(f"/api/auth/tokens/{token_id}", headers=auth)
    client.get("/api/auth/users", headers=auth)
    ok(client.get("/api/audit", headers=auth))
    client.get("/api/audit/verify", headers=auth)  # 403 unless an admin
    preview = post_file(client, user, SAMPLE_CSV.read_bytes(), path="preview")
    assert preview.status_code == 200, preview.get_json()
    dataset_id = upload_sample(client, user)
    for path in ("", "/progress", "/measures"):
        ok(client.get(f"/api/datasets/{dataset_id}{path}", headers=auth))
    client.get("/api/datasets", headers=auth)
    measures = {
        "measures": [{"name": "orders_total", "kind": "sum", "column": "orders"}]
    }
    client.put(f"/api/datasets/{dataset_id}/measures", json=measures, headers=auth)
    disclosure = f"/api/datasets/{dataset_id}/disclosure"
    ok(client.get(disclosure, headers=auth))
    ok(client.put(disclosure, json={"minEntities": 5}, headers=auth))
    client.put(disclosure, json={"minEntities": 1}, headers=auth)  # 400
    _analyse(client, auth, dataset_id)
    record = {"date": "2024-02-01", "revenue": 1000, "orders": 5}
    appended = client.post(
        f"/api/datasets/{dataset_id}/records",
        json={"batchId": "b1", "records": [record]},
        headers=auth,
    )
    assert appended.status_code in (200, 201), appended.get_json()
    _share(client, auth, dataset_id)
    _agent_tokens(client, auth, dataset_id)
    _alerts(client, user)
    _reports(client, auth, dataset_id)
    again = post_file(
        client, user, SAMPLE_CSV.read_bytes(), filename="sales.csv",
        datasetName="Sales", timeColumn="date", metricColumn="revenue",
    )  # fmt: skip
    assert again.status_code == 200, again.get_json()  # the same file: that version
    ok(client.post(f"/api/datasets/{dataset_id}/reprocess", headers=auth))
    client.get(f"/api/datasets/{dataset_id}", headers=other["headers"])  # 404
    client.get("/api/datasets")  # 401
    assert client.delete(f"/api/datasets/{dataset_id}", headers=auth).status_code == 204


def _analyse(client, auth, dataset_id: str) -> None:
    run = {"datasetId": dataset_id, "metric": "revenue", "method": "modified_zscore"}
    ok(client.post("/api/analytics/run", json=run, headers=auth))
    for query in ("?metric=revenue", "?metric=revenue&method=iqr&window=3"):
        ok(client.get(f"/api/analytics/{dataset_id}{query}", headers=auth))
    client.get(f"/api/analytics/{dataset_id}?method=nope", headers=auth)  # 400
    compare = f"/api/analytics/{dataset_id}/compare?a=1&b=1&metric=revenue"
    client.get(compare, headers=auth)
    client.get(f"/api/kpi/{dataset_id}", headers=auth)


def _share(client, auth, dataset_id: str) -> None:
    created = client.post(
        "/api/shares", json={"datasetId": dataset_id, "page": "analysis"}, headers=auth
    )
    assert created.status_code == 201, created.get_json()
    ok(client.get("/api/shares", headers=auth))
    client.delete(f"/api/shares/{created.get_json()['id']}", headers=auth)


def _agent_tokens(client, auth, dataset_id: str) -> None:
    """An agent token: created, listed, used on the aggregate reads (in and out
    of its window), revoked."""
    body = {"name": "agent", "datasets": [dataset_id], "maxWindowDays": 30,
            "expiresAt": "2099-01-01T00:00:00Z"}  # fmt: skip
    client.post("/api/agent-tokens", json=body, headers=auth)  # 400: too far ahead
    body["expiresAt"] = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).isoformat()
    created = client.post("/api/agent-tokens", json=body, headers=auth)
    assert created.status_code == 201, created.get_json()
    ok(client.get("/api/agent-tokens", headers=auth))
    agent = {"Authorization": f"Bearer {created.get_json()['token']}"}
    ok(client.get(f"/api/kpi/{dataset_id}", headers=agent))
    ok(client.get(f"/api/analytics/{dataset_id}", headers=agent))
    wide = "?from=2024-01-01&to=2024-03-31"
    assert client.get(f"/api/kpi/{dataset_id}{wide}", headers=agent).status_code == 403
    token_path = f"/api/agent-tokens/{created.get_json()['id']}"
    assert client.delete(token_path, headers=auth).status_code == 204


def _alerts(client, user) -> None:
    auth = user["headers"]
    rule = above_rule(upload_series(client, user), threshold=10)
    ok(client.post("/api/alerts/backtest", json=rule, headers=auth))
    created = client.post("/api/alerts", json=rule, headers=auth)
    assert created.status_code == 201, created.get_json()
    path = f"/api/alerts/{created.get_json()['id']}"
    ok(client.get("/api/alerts", headers=auth))
    ok(client.put(path, json={**rule, "name": "Renamed"}, headers=auth))
    for action in ("", "/history"):
        ok(client.get(path + action, headers=auth))
    ok(client.post(f"{path}/acknowledge", headers=auth))
    until = {"until": "2030-01-01T00:00:00Z"}
    ok(client.post(f"{path}/silence", json=until, headers=auth))
    ok(client.delete(path, headers=auth))


def _reports(client, auth, dataset_id: str) -> None:
    body = {"datasetId": dataset_id, "formats": ["html"]}
    queued = client.post("/api/reports/generate", json=body, headers=auth)
    assert queued.status_code == 202, queued.get_json()
    path = f"/api/reports/{queued.get_json()['id']}"
    deadline = time.monotonic() + 120  # bounded wait, not a timing assertion
    report = client.get(path, headers=auth).get_json()
    while report["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        report = client.get(path, headers=auth).get_json()
    client.get(f"{path}/download/html", headers=auth)
    ok(client.get("/api/reports", headers=auth))
    plan = {**body, "frequency": "weekly", "weekday": "monday", "period": "view",
            "recipients": ["a@example.com"]}  # fmt: skip
    created = client.post("/api/reports/schedules", json=plan, headers=auth)
    ok(client.get("/api/reports/schedules", headers=auth))
    schedule_id = (created.get_json() or {}).get("id", "0" * 32)
    client.delete(f"/api/reports/schedules/{schedule_id}", headers=auth)
    client.delete(path, headers=auth)


def _shape(path: str) -> str:
    """A path with its parameters unnamed: a Flask rule's <name> and the
    document's {name} both become {} (the two may name them differently)."""
    return re.sub(r"<[^<>]+>|\{[^{}]+\}", "{}", path)


def _validator(document: dict, schema: dict) -> OAS30Validator:
    """A validator of one response schema; its refs resolve into the document's
    components (rebased beside it)."""
    return OAS30Validator({**schema, "components": document["components"]})


def test_every_operation_answers_as_the_served_document_says(recorded, new_user):
    _app, client, responses = recorded
    journey(client, new_user)
    document = client.get("/api/openapi.json").get_json()
    paths = {_shape(path): path for path in document["paths"]}
    seen: set[tuple[str, str]] = set()
    problems = []
    for method, rule, status, body in responses:
        path = paths.get(_shape(rule), rule)
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue  # not an operation (the document itself)
        seen.add((method.lower(), path))
        documented = operation["responses"].get(str(status))
        if documented is None:
            problems.append(f"{method} {path}: {status} is not documented")
            continue
        content = (documented.get("content") or {}).get("application/json")
        if content is None:  # a 204, or a file download: no JSON body to check
            continue
        schema = content["schema"]
        for error in _validator(document, schema).iter_errors(body):
            where = "/".join(str(part) for part in error.absolute_path)
            problems.append(f"{method} {path} {status} at {where}: {error.message}")
    operations = {
        (method, path)
        for path, methods in document["paths"].items()
        for method in methods
    }
    assert operations - seen == set(), "operations the journey did not call"
    assert problems == []
