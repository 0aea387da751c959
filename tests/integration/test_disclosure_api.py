"""The owner's disclosure setting (k for agents) through the API, and the agent
views of the KPI and analytics services reading it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openapi_schema_validator import OAS30Validator

from data.analytics import get_view, run_analytics
from data.demo_events import to_csv
from data.kpi.service import get_kpi
from tests.api_calls import post_file
from tests.conftest import build_app, register_user
from tests.kpi_data import DIMENSIONS, small_events, upload_events

FRAME = small_events(events=900, days=8)


@pytest.fixture(scope="module")
def events_app(database_url, tmp_path_factory):
    """One app (inline ingest), a user with a processed event log, another user."""
    app = build_app(
        database_url, tmp_path_factory.mktemp("disclosure"), ingest_mode="inline"
    )
    client = app.server.test_client()
    user, stranger = register_user(client), register_user(client)
    dataset_id = upload_events(client, user, FRAME)
    yield client, user, stranger, dataset_id
    app.server.extensions["insightboard"].close()


def path(dataset_id: str) -> str:
    return f"/api/datasets/{dataset_id}/disclosure"


def test_the_default_is_ten_distinct_identifiers(events_app):
    client, user, _stranger, dataset_id = events_app
    response = client.get(path(dataset_id), headers=user["headers"])
    assert response.status_code == 200
    assert response.get_json() == {
        "datasetId": dataset_id, "minEntities": 10, "entity": "user_id",
    }  # fmt: skip


@pytest.mark.parametrize(
    "body, field",
    [
        ({"minEntities": 1}, "minEntities"),
        ({"minEntities": 1001}, "minEntities"),
        ({"minEntities": "12"}, "minEntities"),
        ({"minEntities": 12.5}, "minEntities"),
        ({"minEntities": True}, "minEntities"),
        ({}, "minEntities"),
        ({"minEntities": 12, "k": 3}, "k"),
    ],
)
def test_a_bad_k_is_a_400_naming_the_field(events_app, body, field):
    client, user, _stranger, dataset_id = events_app
    response = client.put(path(dataset_id), json=body, headers=user["headers"])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and field in error["message"]


def test_another_users_dataset_is_not_found(events_app):
    client, _user, stranger, dataset_id = events_app
    headers = stranger["headers"]
    assert client.get(path(dataset_id), headers=headers).status_code == 404
    put = client.put(path(dataset_id), json={"minEntities": 50}, headers=headers)
    assert put.status_code == 404


def test_the_owner_sets_k_and_agent_views_use_it(events_app):
    client, user, _stranger, dataset_id = events_app
    services = client.application.extensions["insightboard"]
    put = client.put(
        path(dataset_id), json={"minEntities": 1000}, headers=user["headers"]
    )
    assert put.status_code == 200 and put.get_json()["minEntities"] == 1000
    assert client.get(path(dataset_id), headers=user["headers"]).get_json() == (
        put.get_json()
    )
    query = {"measures": "dau,page_views", "compare": "none"}
    agent = get_kpi(services, user["id"], dataset_id, query, for_agent=True)
    assert agent["disclosure"]["k"] == 1000
    assert all(m["value"] is None for m in agent["measures"])
    owner = get_kpi(services, user["id"], dataset_id, query)
    assert "disclosure" not in owner and all(m["value"] for m in owner["measures"])
    client.put(path(dataset_id), json={"minEntities": 10}, headers=user["headers"])
    again = get_kpi(services, user["id"], dataset_id, query, for_agent=True)
    assert again["disclosure"]["k"] == 10 and again["measures"][0]["value"]


def hourly(frame: pd.DataFrame, t: str) -> pd.DataFrame:
    start = pd.Timestamp(t)
    return frame[(frame.timestamp >= start) & (frame.timestamp < start + HOUR)]


HOUR = pd.Timedelta(hours=1)
DAY_QUERY = {"metric": "revenue", "granularity": "hour", "aggregation": "count",
             "from": "2026-11-27", "to": "2026-11-28"}  # fmt: skip


def assert_hidden_buckets_stay_hidden(owner: dict, agent: dict, small) -> None:
    """Small buckets are hidden; the visible total is not the owner's minus any
    hidden bucket (count adds up); nothing computed from a hidden bucket shows."""
    hidden = {p["t"] for p in agent["series"] if "suppressed" in p}
    for before, after in zip(owner["series"], agent["series"], strict=True):
        if small(after["t"]):
            assert after["value"] is None and after["count"] is None
        elif after["t"] not in hidden:
            assert after == before
    assert hidden and agent["disclosure"]["suppressedCells"] == len(hidden)
    truth = {p["t"]: p["value"] for p in owner["series"]}
    derived = owner["summary"]["sum"] - agent["summary"]["sum"]
    assert not any(np.isclose(derived, truth[t]) for t in hidden)
    assert not {a["t"] for a in agent["anomalies"]} & hidden
    assert agent["histogram"]["counts"] == [] and agent["box"]["outliers"] == []


def test_analytics_buckets_from_few_people_are_hidden(events_app):
    client, user, _stranger, dataset_id = events_app
    services = client.application.extensions["insightboard"]
    owner = get_view(services, user["id"], dataset_id, DAY_QUERY)
    agent = get_view(services, user["id"], dataset_id, DAY_QUERY, for_agent=True)
    assert "disclosure" not in owner and agent["disclosure"]["entity"] == "user_id"

    def small(t: str) -> bool:
        return 0 < hourly(FRAME, t)["user_id"].nunique() < 10

    assert_hidden_buckets_stay_hidden(owner, agent, small)
    again = get_view(services, user["id"], dataset_id, DAY_QUERY, for_agent=True)
    assert again["cached"] is True and again["series"] == agent["series"]
    forced = run_analytics(
        services, user["id"], dataset_id, DAY_QUERY, force=True, for_agent=True
    )
    assert forced["series"] == agent["series"] and forced["disclosure"]


def test_analytics_without_an_identifier_counts_rows(events_app):
    client, user, _stranger, _dataset_id = events_app
    services = client.application.extensions["insightboard"]
    plain = FRAME.drop(columns=["user_id", "session_id"])
    response = post_file(
        client, user, to_csv(plain), filename="plain.csv", datasetName="Plain",
        timeColumn="timestamp", metricColumn="revenue", dimensionColumn=DIMENSIONS,
    )  # fmt: skip
    assert response.status_code == 202, response.get_json()
    dataset_id = response.get_json()["id"]
    owner = get_view(services, user["id"], dataset_id, DAY_QUERY)
    agent = get_view(services, user["id"], dataset_id, DAY_QUERY, for_agent=True)
    assert agent["disclosure"] == {**agent["disclosure"], "entity": "rows", "k": 10}

    def small(t: str) -> bool:
        return 0 < len(hourly(plain, t)) < 10

    assert_hidden_buckets_stay_hidden(owner, agent, small)


def test_agent_views_match_the_served_document(events_app):
    client, user, _stranger, dataset_id = events_app
    services = client.application.extensions["insightboard"]
    document = client.get("/api/openapi.json").get_json()
    views = {
        "/api/kpi/{datasetId}": get_kpi(
            services, user["id"], dataset_id,
            {"measures": "dau,page_views", "granularity": "hour",
             "breakdown": "campaign", "from": "2026-11-27", "to": "2026-11-28"},
            for_agent=True,
        ),
        "/api/analytics/{datasetId}": get_view(
            services, user["id"], dataset_id, DAY_QUERY, for_agent=True
        ),
    }  # fmt: skip
    for route, view in views.items():
        assert view["disclosure"]["suppressedCells"] > 0
        content = document["paths"][route]["get"]["responses"]["200"]["content"]
        schema = {**content["application/json"]["schema"],
                  "components": document["components"]}  # fmt: skip
        assert [e.message for e in OAS30Validator(schema).iter_errors(view)] == []


def test_k_survives_a_rebuild_and_its_change_is_audited(make_app, tmp_path):
    """The in-process engine rebuilds from the object store at start-up: a k the
    owner raised must not fall back to the default there."""
    store = str(tmp_path / "shared-store")
    first = make_app(ingest_mode="inline", local_store_dir=store)
    client = first.server.test_client()
    user = register_user(client)
    dataset_id = upload_events(client, user, small_events(events=200, days=3))
    changed = client.put(
        path(dataset_id), json={"minEntities": 25}, headers=user["headers"]
    )
    assert changed.status_code == 200, changed.get_json()
    events = client.get(
        "/api/audit?action=disclosure_update", headers=user["headers"]
    ).get_json()["events"]
    assert [e["resource"] for e in events] == [f"dataset:{dataset_id}"]
    assert events[0]["details"]["minEntities"] == 25

    second = make_app(ingest_mode="inline", local_store_dir=store)
    again = second.server.test_client()
    signed_in = again.post(
        "/api/auth/login", json={"email": user["email"], "password": user["password"]}
    )
    headers = {"Authorization": f"Bearer {signed_in.get_json()['access_token']}"}
    shown = again.get(path(dataset_id), headers=headers)
    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["minEntities"] == 25
