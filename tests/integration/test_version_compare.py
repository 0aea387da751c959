"""Version comparison: two versions' views aligned, with summary and anomaly diffs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.api_calls import post_file
from tests.conftest import SAMPLE_CSV, build_app, register_user


@pytest.fixture(scope="module")
def two_versions(database_url, tmp_path_factory):
    """Two processed versions of the sample (the second shifted and longer)."""
    app = build_app(
        database_url, tmp_path_factory.mktemp("versions"), ingest_mode="inline"
    )
    client = app.server.test_client()
    user = register_user(client)
    sample = SAMPLE_CSV.read_bytes()
    changed = sample.replace(b"2024-01-15", b"2024-01-16", 0) + b"2024-02-10,150000,3\n"
    for data in (sample, changed):
        response = post_file(
            client, user, data, timeColumn="date", metricColumn="revenue"
        )
        assert response.status_code == 202
    yield client, user, response.get_json()["id"], sample, changed
    app.server.extensions["insightboard"].close()


def test_two_versions_side_by_side(two_versions):
    client, user, dataset_id, *_ = two_versions
    url = f"/api/analytics/{dataset_id}/compare?a=1&b=2&metric=revenue"
    response = client.get(url, headers=user["headers"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["versions"] == [1, 2]
    first = client.get(
        f"/api/analytics/{dataset_id}?metric=revenue&version=1", headers=user["headers"]
    ).get_json()
    second = client.get(
        f"/api/analytics/{dataset_id}?metric=revenue&version=2", headers=user["headers"]
    ).get_json()
    a = {p["t"]: p["value"] for p in first["series"]}
    b = {p["t"]: p["value"] for p in second["series"]}
    assert [row["t"] for row in body["series"]] == sorted(set(a) | set(b))
    for row in body["series"]:
        assert row["a"] == a.get(row["t"]) and row["b"] == b.get(row["t"])
    mean = body["summary"]["mean"]
    assert mean["a"] == pytest.approx(first["summary"]["mean"])
    assert mean["difference"] == pytest.approx(second["summary"]["mean"] - mean["a"])
    assert mean["differencePct"] == pytest.approx(100 * (mean["b"] / mean["a"] - 1))
    flagged_a = {x["t"] for x in first["anomalies"]}
    flagged_b = {x["t"] for x in second["anomalies"]}
    anomalies = body["anomalies"]
    assert {x["t"] for x in anomalies["onlyA"]} == flagged_a - flagged_b
    assert {x["t"] for x in anomalies["onlyB"]} == flagged_b - flagged_a
    assert {x["t"] for x in anomalies["both"]} == flagged_a & flagged_b
    assert np.isfinite(mean["b"])


@pytest.mark.parametrize(
    ("query", "status"),
    [("a=1&b=1", 400), ("a=1", 400), ("a=1&b=9", 404), ("a=1&b=2&method=magic", 400)],
)
def test_bad_comparisons_are_refused(two_versions, query, status):
    client, user, dataset_id, *_ = two_versions
    url = f"/api/analytics/{dataset_id}/compare?{query}"
    assert client.get(url, headers=user["headers"]).status_code == status


def test_another_users_versions_are_not_found(two_versions):
    client, _, dataset_id, *_ = two_versions
    stranger = register_user(client)
    url = f"/api/analytics/{dataset_id}/compare?a=1&b=2"
    assert client.get(url, headers=stranger["headers"]).status_code == 404
