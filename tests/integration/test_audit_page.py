"""The /audit page and its CSV (issue 17): a user sees their own events only, on
the page's callback, in its CSV download and through GET /api/audit (JSON and
format=csv); an administrator sees everyone's; the filters narrow all three."""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest

from auth import audit
from tests.api_calls import post_file
from tests.conftest import SAMPLE_CSV, build_app, register_user
from tests.dash_calls import post_callback, response_values, router_body, sign_in_form

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    """Alice and Bob with a dataset each; Carol is an administrator."""
    app = build_app(
        database_url, tmp_path_factory.mktemp("audit-page"), ingest_mode="inline"
    )
    api = app.server.test_client()
    people = {
        name: register_user(api, f"{name}-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
        for name in ("alice", "bob", "carol")
    }
    # Before any token is used (users are cached); the first account of a fresh
    # database is an administrator.
    with app.server.extensions["insightboard"].postgres.transaction() as cursor:
        for name, role in (
            ("alice", "analyst"),
            ("bob", "analyst"),
            ("carol", "admin"),
        ):
            cursor.execute(
                "UPDATE users SET role = %s WHERE id = %s", (role, people[name]["id"])
            )
    for name, person in people.items():
        person["dataset_name"] = f"{name.title()} ledger {uuid.uuid4().hex[:6]}"
        uploaded = post_file(
            api, person, SAMPLE_CSV.read_bytes(), filename="sales.csv",
            datasetName=person["dataset_name"], timeColumn="date",
            metricColumn="revenue",
        )  # fmt: skip
        assert uploaded.status_code == 202, uploaded.get_json()
        person["dataset"] = uploaded.get_json()["id"]
    yield {"app": app, "api": api, **people}
    app.server.extensions["insightboard"].close()


def browser_of(world, name: str):
    browser = world["app"].server.test_client()
    person = world[name]
    assert (
        sign_in_form(browser, world["app"], person["email"], PASSWORD).status_code
        == 200
    )
    return browser


def filter_values(**chosen) -> dict:
    """The filter controls as the page starts (any one, no dates) and as chosen."""
    start = {"actor": "any", "action": "any", "dataset": "any", "since": None,
             "until": None}  # fmt: skip
    return {f"audit-{name}.value": value for name, value in {**start, **chosen}.items()}


def table_text(world, browser, page: int = 0, **chosen) -> str:
    response = post_callback(
        browser, world["app"], "audit-table.children",
        {"audit-page-number.data": page, **filter_values(**chosen)},
        triggered="audit-page-number.data",
    )  # fmt: skip
    assert response.status_code == 200, response.data
    return json.dumps(response_values(response))


def downloaded_rows(world, browser, **chosen) -> list[dict]:
    response = post_callback(
        browser, world["app"], "audit-download.data",
        {"audit-download-button.n_clicks": 1, **filter_values(**chosen)},
        triggered="audit-download-button.n_clicks",
    )  # fmt: skip
    assert response.status_code == 200, response.data
    download = response_values(response)["audit-download"]["data"]
    assert download["filename"] == "audit-events.csv"
    return list(csv.DictReader(io.StringIO(download["content"])))


def test_the_page_shows_a_user_their_own_events_only(world):
    browser = browser_of(world, "alice")
    routed = browser.post("/_dash-update-component", json=router_body("/audit"))
    assert routed.status_code == 200
    assert world["alice"]["dataset_name"] in routed.get_data(as_text=True)
    text = table_text(world, browser)
    assert "Dataset uploaded" in text and world["alice"]["dataset_name"] in text
    assert "Sign-in" in text and world["alice"]["email"] in text
    for other in ("bob", "carol"):
        assert world[other]["email"] not in text
        assert world[other]["dataset"] not in text


def test_the_filters_narrow_the_page(world):
    browser = browser_of(world, "alice")
    uploads = table_text(world, browser, action="dataset_upload")
    assert "Dataset uploaded" in uploads and "Sign-in" not in uploads
    dataset = table_text(world, browser, dataset=world["alice"]["dataset"])
    assert "Dataset uploaded" in dataset and "Account registered" not in dataset
    assert "No events" in table_text(world, browser, actor="agent")
    assert "No events" in table_text(world, browser, until="2000-01-01")
    today = table_text(world, browser, since="2000-01-01", until="2999-12-31")
    assert "Dataset uploaded" in today
    assert "Check the filters" in table_text(world, browser, since="not a date")


def test_an_administrator_sees_everyones_events(world):
    browser = browser_of(world, "carol")
    routed = browser.post("/_dash-update-component", json=router_body("/audit"))
    assert "everyone" in routed.get_data(as_text=True)
    text = table_text(world, browser, action="dataset_upload")
    for name in ("alice", "bob", "carol"):
        assert world[name]["email"] in text, name


def test_the_download_holds_the_filtered_events_of_the_user(world):
    rows = downloaded_rows(world, browser_of(world, "bob"))
    assert rows and {row["user_id"] for row in rows} == {world["bob"]["id"]}
    assert {"register", "login", "dataset_upload"} <= {row["action"] for row in rows}
    assert list(rows[0]) == ["id", "at", "actor_type", "actor_id", "user_id",
                             "email", "action", "resource", "outcome", "ip",
                             "request_id", "details"]  # fmt: skip
    [upload] = downloaded_rows(world, browser_of(world, "bob"), action="dataset_upload")
    assert json.loads(upload["details"])["name"] == world["bob"]["dataset_name"]
    assert upload["resource"] == f"dataset:{world['bob']['dataset']}"


def test_the_api_serves_the_same_events_as_json_and_csv(world):
    api, bob = world["api"], world["bob"]
    query = f"action=dataset_upload&resource={bob['dataset']}"
    shown = api.get(f"/api/audit?{query}", headers=bob["headers"])
    [event] = shown.get_json()["events"]
    assert {"at", "actor", "action", "resource", "outcome"} <= set(event)
    assert event["resource"] == f"dataset:{bob['dataset']}"
    exported = api.get(f"/api/audit?{query}&format=csv", headers=bob["headers"])
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert int(row["id"]) == event["id"] and row["action"] == "dataset_upload"
    everyone = api.get("/api/audit?all=1&format=csv", headers=bob["headers"])
    assert everyone.status_code == 403
    bad = api.get("/api/audit?format=xlsx", headers=bob["headers"])
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "format"
    admin = api.get(
        "/api/audit?all=1&format=csv&action=dataset_upload",
        headers=world["carol"]["headers"],
    )
    owners = {
        row["user_id"]
        for row in csv.DictReader(io.StringIO(admin.get_data(as_text=True)))
    }
    assert {world[name]["id"] for name in ("alice", "bob", "carol")} <= owners


def test_a_users_agents_calls_are_on_their_page_and_no_one_elses(world):
    """Agent calls (written by the MCP server) carry the token's owner as user."""
    database = world["app"].server.extensions["insightboard"].postgres
    agent_id = str(uuid.uuid4())
    audit.append_event(
        database, "agent_call", "success", actor_type="agent", actor_id=agent_id,
        user_id=world["alice"]["id"], resource=f"dataset:{world['alice']['dataset']}",
        details={"tool": "kpis"},
    )  # fmt: skip
    mine = table_text(world, browser_of(world, "alice"), actor="agent")
    assert f"AI agent {agent_id[:8]}" in mine and "tool: kpis" in mine
    assert world["alice"]["dataset_name"] in mine
    assert agent_id[:8] not in table_text(world, browser_of(world, "bob"))
