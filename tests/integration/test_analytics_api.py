"""The analytics REST API: run and read views, with owner checks and clear errors."""

from __future__ import annotations

import pytest

from data.analytics.params import METHODS
from tests.analytics_data import insert_dataset, sample_frame
from tests.conftest import SAMPLE_CSV


@pytest.fixture
def api(app, client, new_user):
    """(client, user, dataset) with the sample dataset processed for the user."""
    user = new_user(client)
    services = app.server.extensions["insightboard"]
    dataset = insert_dataset(
        services.mongo,
        user["id"],
        sample_frame(SAMPLE_CSV),
        "date",
        ["revenue", "orders"],
        units={"revenue": "₹"},
    )
    return client, user, dataset


def test_get_view_answers_the_sample_as_designed(api):
    client, user, dataset = api
    response = client.get(
        f"/api/analytics/{dataset['datasetId']}?metric=revenue", headers=user["headers"]
    )
    assert response.status_code == 200
    view = response.get_json()
    assert [a["t"][:10] for a in view["anomalies"]] == [
        "2024-01-03",
        "2024-01-15",
        "2024-01-27",
    ]
    assert view["anomalies"][0]["explanation"] == (
        "Revenue on 2024-01-03 was ₹89,000, 3.6× the median of ₹24,500."
    )
    assert view["methods"]["zscore"]["flagged"] == 0
    assert view["cached"] is False
    # New fields only: every field of the contract is still there, episodes beside.
    assert set(view) >= {
        "dataset", "params", "series", "rolling", "summary", "anomalies",
        "methods", "histogram", "box", "thresholds", "insights", "notes", "cached",
        "episodes",
    }  # fmt: skip
    assert set(view["anomalies"][0]) >= {
        "t", "value", "expected", "deviation", "deviation_pct", "score",
        "direction", "severity", "methods", "explanation",
    }  # fmt: skip
    # Three anomalies far apart: three one-point episodes, same order and severity.
    assert [(e["start"], e["end"], e["severity"]) for e in view["episodes"]] == [
        (a["t"], a["t"], a["severity"]) for a in view["anomalies"]
    ]
    assert view["episodes"][0]["explanation"] == view["anomalies"][0]["explanation"]
    again = client.get(
        f"/api/analytics/{dataset['datasetId']}?metric=revenue", headers=user["headers"]
    )
    assert again.get_json()["cached"] is True


def test_run_computes_with_method_and_parameters(api):
    client, user, dataset = api
    body = {
        "datasetId": dataset["datasetId"],
        "metric": "orders",
        "method": "iqr",
        "k": 1.0,
        "granularity": "day",
    }
    response = client.post("/api/analytics/run", json=body, headers=user["headers"])
    assert response.status_code == 200
    view = response.get_json()
    assert view["params"]["metric"] == "orders" and view["params"]["k"] == 1.0
    assert view["params"]["granularity"] == "day"
    forced = client.post(
        "/api/analytics/run", json={**body, "force": True}, headers=user["headers"]
    )
    assert forced.get_json()["cached"] is False


def test_query_filters_and_dates(api):
    client, user, dataset = api
    url = f"/api/analytics/{dataset['datasetId']}?from=2024-01-02&to=2024-01-04"
    view = client.get(url, headers=user["headers"]).get_json()
    assert [point["value"] for point in view["series"]] == [25500, 89000, 23800]


@pytest.mark.parametrize(
    ("query", "field", "choices"),
    [
        ("metric=profit", "metric", ["revenue", "orders"]),
        (
            "method=magic",
            "method",
            list(METHODS),
        ),
        ("granularity=year", "granularity", ["raw", "hour", "day", "week", "month"]),
        ("aggregation=median", "aggregation", ["sum", "mean", "count", "min", "max"]),
    ],
)
def test_unknown_choice_is_400_with_valid_choices(api, query, field, choices):
    client, user, dataset = api
    response = client.get(
        f"/api/analytics/{dataset['datasetId']}?{query}", headers=user["headers"]
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and error["field"] == field
    assert error["choices"] == choices
    assert f"Valid choices: {', '.join(choices)}." in error["message"]


def test_bad_numbers_and_unknown_parameters_are_400(api):
    client, user, dataset = api
    for query in ("threshold=abc", "window=1", "alpha=0.9", "colour=red", "version=x"):
        response = client.get(
            f"/api/analytics/{dataset['datasetId']}?{query}", headers=user["headers"]
        )
        assert response.status_code == 400, query


def test_series_too_short_is_422_with_the_minimum(api):
    client, user, dataset = api
    response = client.post(
        "/api/analytics/run",
        json={"datasetId": dataset["datasetId"], "method": "rolling_zscore"},
        headers=user["headers"],
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["minimum"] == 8 and error["points"] == 7
    assert "at least 8 points" in error["message"]


def test_other_users_dataset_is_404(api, client, new_user):
    _, _, dataset = api
    stranger = new_user(client)
    for response in (
        client.get(
            f"/api/analytics/{dataset['datasetId']}", headers=stranger["headers"]
        ),
        client.post(
            "/api/analytics/run",
            json={"datasetId": dataset["datasetId"]},
            headers=stranger["headers"],
        ),
    ):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_anonymous_requests_are_refused(api):
    client, _, dataset = api
    anonymous = client.application.test_client()
    response = anonymous.get(f"/api/analytics/{dataset['datasetId']}")
    assert response.status_code == 401


def test_run_needs_a_json_body_with_dataset_id(api):
    client, user, _ = api
    missing = client.post(
        "/api/analytics/run", json={"metric": "revenue"}, headers=user["headers"]
    )
    assert missing.status_code == 400
    assert missing.get_json()["error"]["field"] == "datasetId"
    not_json = client.post("/api/analytics/run", data="x", headers=user["headers"])
    assert not_json.status_code == 415


def test_openapi_describes_the_analytics_operations(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/analytics/run"]
    operation = spec["paths"]["/api/analytics/{datasetId}"]["get"]
    assert {"400", "404", "422"} <= set(operation["responses"])
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"metric", "granularity", "method", "window", "from", "to"} <= names
