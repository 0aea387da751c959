"""The owner's disclosure setting (k for agents) through the API, and the agent
views of the KPI and analytics services reading it."""

from __future__ import annotations

import pytest

from data.kpi.service import get_kpi
from tests.conftest import build_app, register_user
from tests.kpi_data import small_events, upload_events


@pytest.fixture(scope="module")
def events_app(database_url, tmp_path_factory):
    """One app (inline ingest), a user with a processed event log, another user."""
    app = build_app(
        database_url, tmp_path_factory.mktemp("disclosure"), ingest_mode="inline"
    )
    client = app.server.test_client()
    user, stranger = register_user(client), register_user(client)
    dataset_id = upload_events(client, user, small_events(events=900, days=8))
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
