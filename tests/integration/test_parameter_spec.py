"""One parameter spec: changing a bound in data.analytics.spec moves the API's
validation, the link parser and the page's control together."""

from __future__ import annotations

import dataclasses
import json

import pytest

from data.analytics import spec
from tests.analytics_data import insert_dataset, sample_frame
from tests.conftest import SAMPLE_CSV
from tests.dash_calls import router_body, sign_in_form


@pytest.fixture
def signed_in(app, client, new_user):
    """(client, user, dataset id): a browser session and an API token for one user
    who owns the processed sample dataset."""
    user = new_user(client)
    services = app.server.extensions["insightboard"]
    dataset = insert_dataset(
        services.mongo, user["id"], sample_frame(SAMPLE_CSV), "date", ["revenue"]
    )
    assert sign_in_form(client, app, user["email"], user["password"]).status_code == 200
    return client, user, dataset["datasetId"]


def _component(tree, component_id: str) -> dict | None:
    """The serialised Dash component with this id, anywhere in a layout tree."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        children = list(tree.values())
    elif isinstance(tree, list):
        children = tree
    else:
        return None
    for child in children:
        found = _component(child, component_id)
        if found is not None:
            return found
    return None


def _page(client, dataset_id: str, search: str = "") -> dict:
    response = client.post(
        "/_dash-update-component",
        json=router_body(f"/datasets/{dataset_id}", search),
    )
    assert response.status_code == 200
    return json.loads(response.data)["response"]["_pages_content"]["children"]


def _window_status(client, user, dataset_id, window: int) -> int:
    response = client.get(
        f"/api/analytics/{dataset_id}?window={window}", headers=user["headers"]
    )
    return response.status_code


@pytest.mark.parametrize("high", [30, 400])
def test_a_bound_changed_in_the_spec_moves_the_api_and_the_page(
    signed_in, monkeypatch, high
):
    client, user, dataset_id = signed_in
    before = _component(_page(client, dataset_id), "analysis-window")["props"]
    assert before["max"] == spec.WINDOW.high == 365
    monkeypatch.setitem(
        spec.BY_KEY, "window", dataclasses.replace(spec.WINDOW, high=high)
    )
    response = client.get(
        f"/api/analytics/{dataset_id}?window={high + 1}", headers=user["headers"]
    )
    assert response.status_code == 400
    assert f"between 2 and {high}" in response.get_json()["error"]["message"]
    assert _window_status(client, user, dataset_id, high) != 400
    page = _page(client, dataset_id, f"?window={high + 1}")
    assert _component(page, "analysis-window")["props"]["max"] == high
    notices = json.dumps(_component(page, "analysis-link-notices"))
    assert f"between 2 and {high}" in notices
