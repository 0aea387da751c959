"""The API's error answers found by fuzzing: each is a 4xx with the documented
status and a JSON error naming the problem, never a 500."""

from __future__ import annotations

import pytest

from api.openapi import SPEC
from data.ingest import repository
from tests.api_calls import post_file, upload_sample


@pytest.fixture
def inline_client(make_app):
    """A client of an app whose ingest runs inside the upload request."""
    return make_app(ingest_mode="inline").server.test_client()


def assert_documented(response, path: str, method: str, status: int) -> dict:
    """The response has `status`, the document lists it, and the body is an error."""
    assert response.status_code == status, response.get_json()
    assert str(status) in SPEC["paths"][path][method]["responses"]
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    return error


def mark_processing(client, dataset_id: str) -> None:
    """Make the dataset's version look like a live processing run."""
    services = client.application.extensions["insightboard"]
    services.mongo.datasets.update_one(
        {"datasetId": dataset_id},
        {"$set": {"status": "processing", "heartbeatAt": repository.now()}},
    )


def test_reading_a_view_while_the_version_is_processing_is_409(inline_client, new_user):
    user = new_user(inline_client)
    dataset_id = upload_sample(inline_client, user)
    mark_processing(inline_client, dataset_id)
    response = inline_client.get(
        f"/api/analytics/{dataset_id}", headers=user["headers"]
    )
    error = assert_documented(response, "/api/analytics/{datasetId}", "get", 409)
    assert error["code"] == "conflict" and error["status"] == "processing"
    assert "not ready for analysis" in error["message"]


def test_reprocessing_during_a_live_run_is_409(inline_client, new_user):
    user = new_user(inline_client)
    dataset_id = upload_sample(inline_client, user)
    mark_processing(inline_client, dataset_id)
    response = inline_client.post(
        f"/api/datasets/{dataset_id}/reprocess", headers=user["headers"]
    )
    path = "/api/datasets/{dataset_id}/reprocess"
    error = assert_documented(response, path, "post", 409)
    assert error["status"] == "processing" and "being processed" in error["message"]


@pytest.mark.parametrize(
    "query", ["?version=1&version=2", "?version=null&version=null", "?version=0"]
)
def test_progress_with_a_repeated_or_invalid_version_is_400(
    inline_client, new_user, query
):
    user = new_user(inline_client)
    dataset_id = upload_sample(inline_client, user)
    response = inline_client.get(
        f"/api/datasets/{dataset_id}/progress{query}", headers=user["headers"]
    )
    error = assert_documented(
        response, "/api/datasets/{dataset_id}/progress", "get", 400
    )
    assert error["field"] == "version"


@pytest.mark.parametrize(
    ("query", "body"),
    [("?version=1&version=1", None), ("", {"version": 0}), ("?version=-3", None)],
)
def test_reprocess_with_a_repeated_or_invalid_version_is_400(
    inline_client, new_user, query, body
):
    user = new_user(inline_client)
    dataset_id = upload_sample(inline_client, user)
    response = inline_client.post(
        f"/api/datasets/{dataset_id}/reprocess{query}",
        headers=user["headers"],
        json=body,
    )
    path = "/api/datasets/{dataset_id}/reprocess"
    error = assert_documented(response, path, "post", 400)
    assert error["field"] == "version"


def test_a_repeated_version_names_how_often_it_was_given(inline_client, new_user):
    user = new_user(inline_client)
    dataset_id = upload_sample(inline_client, user)
    response = inline_client.get(
        f"/api/datasets/{dataset_id}?version=1&version=1", headers=user["headers"]
    )
    error = assert_documented(response, "/api/datasets/{dataset_id}", "get", 400)
    assert error["message"] == "version is given 2 times; give it once."


@pytest.mark.parametrize("path", ["/api/analytics/run", "/api/auth/tokens"])
def test_posting_without_a_json_body_is_415(client, new_user, path):
    user = new_user(client)
    response = client.post(path, headers=user["headers"])
    error = assert_documented(response, path, "post", 415)
    assert "application/json" in error["message"]


def test_preview_with_empty_fields_is_400_naming_the_file(client, new_user):
    user = new_user(client)
    response = client.post(
        "/api/datasets/preview",
        headers=user["headers"],
        data={"datasetName": ""},
        content_type="multipart/form-data",
    )
    error = assert_documented(response, "/api/datasets/preview", "post", 400)
    assert error["field"] == "file"


def test_preview_of_an_empty_file_is_a_documented_4xx(client, new_user):
    user = new_user(client)
    response = post_file(client, user, b"", path="preview", datasetName="")
    assert response.status_code in (400, 422), response.get_json()
    assert_documented(response, "/api/datasets/preview", "post", response.status_code)
