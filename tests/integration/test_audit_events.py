"""Every kind of action writes its audit event (issue 17), through the REST API and
through the Dash callbacks alike: uploads, reprocessing, measure edits, deletes,
share links (creation, views as the link, revocation), token changes and every
API call made with a personal token. No event holds a secret, and a failed audit
write leaves an ordinary action standing (logged with the whole event)."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from urllib.parse import urlsplit

import psycopg2
import pytest

from auth import audit
from data.errors import ServiceUnavailable
from tests.api_calls import post_file
from tests.conftest import build_app, register_user
from tests.dash_calls import post_callback, response_values, sign_in_form

# A value only the uploaded file holds: it must never reach the trail.
CSV = (
    "date,revenue,region\n"
    "2024-01-01,8313131,North\n"
    "2024-01-02,8424242,South\n"
    "2024-01-03,8535353,North\n"
)
FILE_VALUE = "8424242"


@pytest.fixture(scope="module")
def audited(database_url, tmp_path_factory):
    """One app for the module (inline ingest: uploads are processed on return)."""
    app = build_app(
        database_url, tmp_path_factory.mktemp("audit-events"), ingest_mode="inline"
    )
    yield app
    app.server.extensions["insightboard"].close()


@pytest.fixture
def api(audited):
    return audited.server.test_client()


def events(app, user_id: str) -> list[dict]:
    """The user's events, oldest first."""
    database = app.server.extensions["insightboard"].postgres
    return list(reversed(audit.find_events(database, user_id, limit=500)))


def of_action(app, user_id: str, action: str) -> list[dict]:
    return [event for event in events(app, user_id) if event["action"] == action]


def upload(api, user, name="Ledger") -> str:
    response = post_file(
        api, user, CSV.encode(), filename="ledger.csv", datasetName=name,
        timeColumn="date", metricColumn="revenue", dimensionColumn="region",
    )  # fmt: skip
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def create_share(api, user, dataset_id: str) -> dict:
    created = api.post(
        "/api/shares",
        headers=user["headers"],
        json={"datasetId": dataset_id, "page": "analysis",
              "query": {"metric": "revenue"}, "locked": ["metric"]},
    )  # fmt: skip
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def test_dataset_actions_through_the_api_write_their_events(audited, api):
    user = register_user(api)
    dataset_id = upload(api, user)
    again = api.post(f"/api/datasets/{dataset_id}/reprocess", headers=user["headers"])
    assert again.status_code in (200, 202), again.get_json()
    path = f"/api/datasets/{dataset_id}/measures"
    measures = api.get(path, headers=user["headers"]).get_json()["measures"]
    changed = api.put(path, headers=user["headers"], json={"measures": measures})
    assert changed.status_code == 200, changed.get_json()
    assert (
        api.delete(f"/api/datasets/{dataset_id}", headers=user["headers"]).status_code
        == 204
    )
    trail = [e for e in events(audited, user["id"]) if e["action"].startswith(
        ("dataset_", "measures_"))]  # fmt: skip
    assert [e["action"] for e in trail] == [
        "dataset_upload", "dataset_reprocess", "measures_update", "dataset_delete"
    ]  # fmt: skip
    for event in trail:
        assert event["resource"] == f"dataset:{dataset_id}"
        assert event["outcome"] == "success" and event["actor_type"] == "user"
        assert event["email"] == user["email"] and event["ip"] == "127.0.0.1"
        assert event["details"]["via"] == "api" and event["request_id"]
    assert trail[0]["details"]["name"] == "Ledger"
    assert trail[0]["details"]["created"] is True
    assert trail[2]["details"]["measures"] == [m["name"] for m in measures]
    assert trail[3]["details"]["versions"] == 1


def test_share_links_write_creation_views_as_the_link_and_revocation(audited, api):
    owner = register_user(api)
    dataset_id = upload(api, owner)
    link = create_share(api, owner, dataset_id)
    token_path = urlsplit(link["url"]).path
    assert audited.server.test_client().get(token_path).status_code == 200
    revoked = api.delete(f"/api/shares/{link['id']}", headers=owner["headers"])
    assert revoked.status_code == 204
    trail = [e for e in events(audited, owner["id"]) if e["action"].startswith("share")]
    assert [e["action"] for e in trail] == [
        "share_create",
        "share_view",
        "share_revoke",
    ]
    resource = f"dataset:{dataset_id}/share:{link['id']}"
    assert {e["resource"] for e in trail} == {resource}
    created, viewed, _revoked = trail
    assert created["details"]["locked"] == ["metric", "version"]
    assert (viewed["actor_type"], viewed["actor_id"]) == ("share", link["id"])
    assert viewed["email"] is None and "via" not in viewed["details"]
    assert viewed["ip"] == "127.0.0.1"


def test_every_call_with_a_personal_token_is_written_with_its_status(audited, api):
    user = register_user(api)
    created = api.post(
        "/api/auth/tokens", headers=user["headers"], json={"name": "CI export"}
    )
    assert created.status_code == 201
    token = created.get_json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert api.get("/api/datasets", headers=bearer).status_code == 200
    missing = "/api/datasets/" + "0" * 32
    assert api.get(missing, headers=bearer).status_code == 404
    dataset_id = upload(api, {"headers": bearer})
    calls = of_action(audited, user["id"], "api_call")
    assert [(c["details"]["method"], c["details"]["path"], c["details"]["status"],
             c["outcome"]) for c in calls] == [
        ("GET", "/api/datasets", 200, "success"),
        ("GET", missing, 404, "failure"),
        ("POST", "/api/datasets/upload", 202, "success"),
    ]  # fmt: skip
    for call in calls:
        assert call["details"]["via"] == "token"
        assert call["details"]["tokenId"] == token["id"]
        assert call["actor_type"] == "user" and call["email"] == user["email"]
    # The upload made with the token says so too; JWT calls are not api_calls.
    [uploaded] = of_action(audited, user["id"], "dataset_upload")
    assert uploaded["details"]["via"] == "token"
    assert uploaded["resource"] == f"dataset:{dataset_id}"
    [made] = of_action(audited, user["id"], "token_create")
    assert made["details"]["token_id"] == token["id"]


def test_a_wrong_password_is_a_sign_in_failure_in_the_trail(audited, api):
    user = register_user(api)
    refused = api.post(
        "/api/auth/login", json={"email": user["email"], "password": "not it at all"}
    )
    assert refused.status_code == 401
    failures = [e for e in of_action(audited, user["id"], "login")
                if e["outcome"] == "failure"]  # fmt: skip
    assert len(failures) == 1 and failures[0]["details"] == {"via": "api"}


# ------------------------------------------------------------- Dash callbacks


def browser_of(app, user) -> object:
    browser = app.server.test_client()
    assert (
        sign_in_form(browser, app, user["email"], user["password"]).status_code == 200
    )
    return browser


def upload_through_the_page(app, browser, name: str):
    content = base64.b64encode(CSV.encode()).decode()
    return post_callback(
        browser,
        app,
        "datasets-feedback.children",
        {
            "datasets-submit.n_clicks": 1,
            "datasets-upload.contents": f"data:text/csv;base64,{content}",
            "datasets-upload.filename": "ledger.csv",
            "datasets-time-column.value": "date",
            "datasets-metrics.value": ["revenue"],
            "datasets-dimensions.value": ["region"],
            "datasets-target.value": "new",
            "datasets-name.value": name,
            "datasets-existing.value": None,
            "datasets-refresh.data": 0,
        },
        triggered="datasets-submit.n_clicks",
    )


def share_through_the_dialog(app, browser, dataset_id: str):
    refresh = {"scope": "all", "type": "share-refresh"}
    return post_callback(
        browser,
        app,
        "share-result.children",
        {
            "share-create.n_clicks": 1,
            "share-locks.value": [],
            "share-expiry.value": None,
            "share-location.search": "?metric=revenue",
            "share-context.data": {"page": "analysis", "datasetId": dataset_id},
            '{"scope":["ALL"],"type":"share-refresh"}.data': [
                {"id": refresh, "property": "data", "value": 0}
            ],
            '{"scope":["ALL"],"type":"share-refresh"}.data@outputs': [refresh],
        },
        triggered="share-create.n_clicks",
    )


def delete_through_the_dialog(app, browser, dataset_id: str):
    return post_callback(
        browser,
        app,
        "datasets-delete-modal.is_open",
        {
            "datasets-delete-confirm.n_clicks": 1,
            "datasets-pending-delete.data": dataset_id,
            "datasets-refresh.data": 1,
            "datasets-chosen-versions.data": {},
        },
        triggered="datasets-delete-confirm.n_clicks",
    )


def test_the_same_actions_through_the_pages_write_the_same_events(audited, api):
    user = register_user(api, password="a long enough password")
    browser = browser_of(audited, user)
    name = f"Page ledger {uuid.uuid4().hex[:6]}"
    uploaded = upload_through_the_page(audited, browser, name)
    assert uploaded.status_code == 200, uploaded.data
    [upload_event] = of_action(audited, user["id"], "dataset_upload")
    dataset_id = upload_event["resource"].removeprefix("dataset:")
    assert upload_event["details"]["name"] == name
    shared = share_through_the_dialog(audited, browser, dataset_id)
    assert "/share/ibs_" in json.dumps(response_values(shared))
    deleted = delete_through_the_dialog(audited, browser, dataset_id)
    assert deleted.status_code == 200, deleted.data
    actions = [(e["action"], e["resource"].split("/")[0]) for e in events(
        audited, user["id"]) if e["resource"]]  # fmt: skip
    assert actions == [
        ("dataset_upload", f"dataset:{dataset_id}"),
        ("share_create", f"dataset:{dataset_id}"),
        ("dataset_delete", f"dataset:{dataset_id}"),
    ]
    for event in of_action(audited, user["id"], "dataset_delete"):
        assert event["details"]["via"] == "browser"
        assert event["details"]["shareLinksRevoked"] == 1


# ------------------------------------------------------------------ secrets


def test_no_event_holds_a_secret(audited, api):
    """Passwords, JWTs, personal and share tokens, webhook secrets and file
    contents never reach the trail, whatever the action."""
    password = f"pw-{uuid.uuid4().hex}"
    user = register_user(api, password=password)
    api.post("/api/auth/login", json={"email": user["email"], "password": "wrong!"})
    secret = api.post(
        "/api/auth/tokens", headers=user["headers"], json={"name": "export"}
    ).get_json()
    bearer = {"Authorization": f"Bearer {secret['token']}"}
    dataset_id = upload(api, {"headers": bearer})
    link = create_share(api, user, dataset_id)
    audited.server.test_client().get(urlsplit(link["url"]).path)
    hook_secret = "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode()
    rule = api.post(
        "/api/alerts",
        headers=user["headers"],
        json={"name": "High revenue", "datasetId": dataset_id, "measure": "revenue",
              "condition": {"type": "above", "threshold": 1},
              "channels": [
                {
                    "type": "webhook",
                    "url": "https://hooks.example.com/insightboard",
                    "secret": hook_secret,
                }
            ]},
    )  # fmt: skip
    assert rule.status_code == 201, rule.get_json()
    api.delete(f"/api/auth/tokens/{secret['id']}", headers=user["headers"])
    written = json.dumps(events(audited, user["id"]), default=str)
    jwt = user["headers"]["Authorization"].removeprefix("Bearer ")
    share_token = urlsplit(link["url"]).path.rsplit("/", 1)[1]
    for value in (password, jwt, secret["token"], share_token, hook_secret, FILE_VALUE):
        assert value not in written
    written_actions = {event["action"] for event in events(audited, user["id"])}
    assert {"token_create", "api_call", "share_view", "alert_rule_create",
            "token_revoke"} <= written_actions  # fmt: skip


# ------------------------------------------------------------------ failure


@pytest.mark.parametrize(
    "failure",
    [
        psycopg2.OperationalError("audit_events is not writable"),
        ServiceUnavailable("The database is unavailable; try again shortly."),
    ],
    ids=["write-refused", "database-unreachable"],
)
def test_a_failed_audit_write_leaves_the_upload_standing_and_logs_it(
    audited, api, monkeypatch, caplog, failure
):
    """Ordinary actions log and continue: the action has happened by then."""
    user = register_user(api)

    def unwritable(*_args, **_kwargs):
        raise failure

    monkeypatch.setattr(audit, "append_event", unwritable)
    with caplog.at_level(logging.ERROR, logger="auth.audit"):
        dataset_id = upload(api, user, name="Still uploaded")
    monkeypatch.undo()
    shown = api.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    assert shown.status_code == 200
    [failure] = [r for r in caplog.records if r.getMessage() == "audit write failed"]
    assert failure.event["action"] == "dataset_upload"
    assert failure.event["resource"] == f"dataset:{dataset_id}"
    assert of_action(audited, user["id"], "dataset_upload") == []
