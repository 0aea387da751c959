"""One dataset read path: every API that reads a dataset refuses a malformed id,
a missing dataset and another user's dataset alike, with the one 404 message; the
analytics and KPI views read versions through the dataset service's readable
states (a version still processing is a 409 naming its status)."""

from __future__ import annotations

import uuid

import pytest

from data import datasets
from data.analytics import load_dataset
from data.errors import DATASET_NOT_FOUND, Conflict
from tests.analytics_data import insert_dataset, sample_frame
from tests.conftest import SAMPLE_CSV

READS = (
    ("get", "/api/datasets/{id}"),
    ("get", "/api/datasets/{id}/progress"),
    ("get", "/api/datasets/{id}/measures"),
    ("get", "/api/analytics/{id}?metric=revenue"),
    ("get", "/api/kpi/{id}"),
    ("post", "/api/datasets/{id}/reprocess"),
    ("delete", "/api/datasets/{id}"),
)


@pytest.fixture
def owned(app, client, new_user):
    """(services, owner, stranger, dataset id): the owner's processed sample."""
    owner, stranger = new_user(client), new_user(client)
    services = app.server.extensions["insightboard"]
    dataset = insert_dataset(
        services.mongo, owner["id"], sample_frame(SAMPLE_CSV), "date", ["revenue"]
    )
    return services, owner, stranger, dataset["datasetId"]


@pytest.mark.parametrize(("method", "path"), READS)
def test_a_bad_id_a_missing_and_a_strangers_dataset_get_the_same_404(
    client, owned, method, path
):
    _services, owner, stranger, dataset_id = owned
    cases = [
        (owner, "not-a-dataset-id"),
        (owner, uuid.uuid4().hex),
        (stranger, dataset_id),
    ]
    for user, asked in cases:
        call = getattr(client, method)
        response = call(path.format(id=asked), headers=user["headers"])
        assert response.status_code == 404, (path, asked, response.get_json())
        error = response.get_json()["error"]
        assert (error["code"], error["message"]) == ("not_found", DATASET_NOT_FOUND)


def test_the_analytics_read_is_the_dataset_services_readable_version(owned):
    services, owner, _stranger, dataset_id = owned
    read = load_dataset(services, owner["id"], dataset_id)
    assert read == datasets.readable_version(services, owner["id"], dataset_id)
    assert read["status"] in datasets.READABLE
    services.mongo.datasets.update_one(
        {"_id": read["_id"]}, {"$set": {"status": "processing"}}
    )
    with pytest.raises(Conflict) as refused:
        load_dataset(services, owner["id"], dataset_id)
    assert refused.value.details == {"status": "processing"}
