"""Agent tokens through the API: created for the caller's own datasets, measures
and dimensions, listed without their values, revoked; only a signed-in user
manages them."""

from __future__ import annotations

import pytest

from tests.agent_calls import create_agent_token, expiry, upload_people_events
from tests.api_calls import upload_sample


@pytest.fixture
def inline_client(make_app):
    return make_app(ingest_mode="inline").server.test_client()


def test_a_token_is_created_listed_without_its_value_and_revoked(
    inline_client, new_user
):
    """201 {id, token}; the list shows the scope, never the value; DELETE ends it."""
    client = inline_client
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    created = create_agent_token(client, user, [dataset_id], maxWindowDays=14)
    assert created["token"].startswith("iba_")
    listed = client.get("/api/agent-tokens", headers=user["headers"]).get_json()
    (token,) = listed["tokens"]
    assert token["id"] == created["id"]
    assert token["datasets"] == [dataset_id]
    assert token["measures"] is None and token["dimensions"] is None
    assert token["maxWindowDays"] == 14
    assert created["token"] not in str(listed)
    path = f"/api/agent-tokens/{created['id']}"
    assert client.delete(path, headers=user["headers"]).status_code == 204
    assert client.get("/api/agent-tokens", headers=user["headers"]).get_json() == {
        "tokens": []
    }
    assert client.delete(path, headers=user["headers"]).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"datasets": []}, "datasets"),
        ({"datasets": "abc"}, "datasets"),
        ({"measures": ["no_such_measure"]}, "measures"),
        ({"dimensions": ["no_such_dimension"]}, "dimensions"),
        ({"expiresAt": None}, "expiresAt"),
        ({"expiresAt": "tomorrow"}, "expiresAt"),
        ({"expiresAt": expiry(-1)}, "expiresAt"),
        ({"expiresAt": expiry(91)}, "expiresAt"),
        ({"maxWindowDays": 0}, "maxWindowDays"),
        ({"maxWindowDays": "7"}, "maxWindowDays"),
        ({"scope": "all"}, "scope"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(
    inline_client, new_user, change, field
):
    """Each bad field is a 400 whose error names it."""
    client = inline_client
    user = new_user(client)
    dataset_id, _frame = upload_people_events(client, user)
    body = {"name": "a", "datasets": [dataset_id], "expiresAt": expiry(), **change}
    if change.get("expiresAt", "") is None:
        del body["expiresAt"]
    response = client.post("/api/agent-tokens", json=body, headers=user["headers"])
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_only_the_callers_own_datasets_and_their_names_are_accepted(
    inline_client, new_user
):
    """Another user's dataset is refused like an unknown one; known measure and
    dimension names of the caller's dataset are accepted."""
    client = inline_client
    user, other = new_user(client), new_user(client)
    theirs = upload_sample(client, other)
    body = {"name": "a", "datasets": [theirs], "expiresAt": expiry()}
    response = client.post("/api/agent-tokens", json=body, headers=user["headers"])
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "datasets"
    mine, _frame = upload_people_events(client, user)
    created = create_agent_token(
        client, user, [mine], measures=["revenue"], dimensions=["traffic_source"]
    )
    (listed,) = client.get("/api/agent-tokens", headers=user["headers"]).get_json()[
        "tokens"
    ]
    assert listed["id"] == created["id"]
    assert listed["measures"] == ["revenue"]
    assert listed["dimensions"] == ["traffic_source"]


def test_an_agent_token_cannot_manage_agent_tokens(inline_client, new_user):
    """Agent tokens are managed by their user only: an agent gets 403 on all three."""
    client = inline_client
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    agent = create_agent_token(client, user, [dataset_id])
    body = {"name": "b", "datasets": [dataset_id], "expiresAt": expiry()}
    assert client.get("/api/agent-tokens", headers=agent["headers"]).status_code == 403
    posted = client.post("/api/agent-tokens", json=body, headers=agent["headers"])
    assert posted.status_code == 403
    deleted = client.delete(
        f"/api/agent-tokens/{agent['id']}", headers=agent["headers"]
    )
    assert deleted.status_code == 403


def test_a_personal_token_manages_agent_tokens(inline_client, new_user):
    """A personal API token is a signed-in user's credential: it may."""
    client = inline_client
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    personal = client.post(
        "/api/auth/tokens", json={"name": "ci"}, headers=user["headers"]
    ).get_json()["token"]
    as_personal = {**user, "headers": {"Authorization": f"Bearer {personal}"}}
    created = create_agent_token(client, as_personal, [dataset_id])
    assert created["id"]
