"""The measures and KPI REST API: the whole path from upload, errors, isolation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import build_app, register_user
from tests.kpi_data import close, oracle_value, small_events, upload_events


@pytest.fixture(scope="module")
def events_app(database_url, tmp_path_factory):
    """One app (inline ingest), a user with a processed event log, another user."""
    app = build_app(database_url, tmp_path_factory.mktemp("kpi"), ingest_mode="inline")
    client = app.server.test_client()
    user, stranger = register_user(client), register_user(client)
    frame = small_events()
    dataset_id = upload_events(client, user, frame)
    yield client, user, stranger, frame, dataset_id
    app.server.extensions["insightboard"].close()


def kpi(client, user, dataset_id, query: str):
    return client.get(f"/api/kpi/{dataset_id}?{query}", headers=user["headers"])


def test_uploaded_events_give_the_pandas_values(events_app):
    client, user, _, frame, dataset_id = events_app
    names = "dau,sessions,bounce_rate,revenue,page_views,bounced_sessions"
    query = f"measures={names}&from=2026-11-20&to=2026-11-26&compare=wow"
    response = kpi(client, user, dataset_id, query)
    assert response.status_code == 200, response.get_json()
    view = response.get_json()
    assert view["cached"] is False and view["comparisonPeriod"]["from"] == "2026-11-13"
    days = frame[(frame.timestamp >= "2026-11-20") & (frame.timestamp < "2026-11-27")]
    for measure in view["measures"]:
        error = 1e-9 + measure["relativeError"]
        assert close(measure["value"], oracle_value(days, measure["name"]), error)
        for point in measure["series"]:
            day = dt.datetime.fromisoformat(point["t"])
            rows = days[
                (days.timestamp >= day) & (days.timestamp < day + dt.timedelta(days=1))
            ]
            assert close(point["value"], oracle_value(rows, measure["name"]), error)
    assert kpi(client, user, dataset_id, query).get_json()["cached"] is True


def test_records_keep_identifiers_only_as_hashes(events_app):
    client, _user, _, frame, dataset_id = events_app
    services = client.application.extensions["insightboard"]
    record = services.mongo.records.find_one({"datasetId": dataset_id})
    stored = str(record)
    assert len(record["i"]) == 2
    assert not any(value in stored for value in frame["user_id"].head(50))
    assert not any(value in stored for value in frame["session_id"].head(50))


def test_measures_are_read_and_replaced(events_app):
    client, user, _, _, dataset_id = events_app
    url = f"/api/datasets/{dataset_id}/measures"
    stored = client.get(url, headers=user["headers"]).get_json()["measures"]
    assert [m["name"] for m in stored][:3] == ["dau", "sessions", "mau"]
    bad = client.put(
        url,
        json={"measures": [{"name": "x", "kind": "median"}]},
        headers=user["headers"],
    )
    assert bad.status_code == 400
    error = bad.get_json()["error"]
    assert error["field"] == "measures[0].kind" and "distinct" in error["allowed"]
    assert "allowed kinds" in error["message"]
    unchanged = client.get(url, headers=user["headers"]).get_json()["measures"]
    assert unchanged == stored


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("granularity=minute", 400, "granularity"),
        ("compare=lastweek", 400, "compare"),
        ("measures=dau,profit", 400, "measures"),
        ("tz=Mars/Olympus", 400, "tz"),
        ("hours=9to5", 400, "hours"),
        ("days=monday-fri", 400, "days"),
        ("top=0", 400, "top"),
        ("colour=red", 400, "colour"),
        ("from=2026-13-01", 400, "from"),
        ("from=2026-11-20T10:00", 400, "from"),
        ("from=2026-11-20&to=2026-11-10", 400, "to"),
        ("breakdown=region", 400, "breakdown"),
        ("filter.region=x", 400, "filter.region"),
        ("filter.campaign=none&breakdown=traffic_source", 422, "filter"),
        ("granularity=hour&from=2020-01-01&to=2026-11-30", 422, "granularity"),
    ],
)
def test_errors_name_the_problem(events_app, query, status, field):
    client, user, _, _, dataset_id = events_app
    response = kpi(client, user, dataset_id, query)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"]
    if status == 422:
        assert error["limit"] in (1, 5000)
    if field in ("granularity", "compare") and status == 400:
        assert error["choices"]


def test_another_users_dataset_is_not_found(events_app):
    client, _, stranger, _, dataset_id = events_app
    for path in (f"/api/kpi/{dataset_id}", f"/api/datasets/{dataset_id}/measures"):
        assert client.get(path, headers=stranger["headers"]).status_code == 404
    put = client.put(
        f"/api/datasets/{dataset_id}/measures",
        json={"measures": [{"name": "a", "kind": "count"}]},
        headers=stranger["headers"],
    )
    assert put.status_code == 404
    assert (
        client.get("/api/kpi/" + "0" * 32, headers=stranger["headers"]).status_code
        == 404
    )
    assert client.get(f"/api/kpi/{dataset_id}").status_code == 401


def test_openapi_describes_the_kpi_routes(events_app):
    client, *_ = events_app
    paths = client.get("/api/openapi.json").get_json()["paths"]
    operation = paths["/api/kpi/{datasetId}"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {
        "measures",
        "granularity",
        "compare",
        "tz",
        "hours",
        "days",
        "breakdown",
        "top",
        "filter.<dimension>",
    } <= names
    compare = next(p for p in operation["parameters"] if p["name"] == "compare")
    assert compare["schema"]["enum"] == [
        "none",
        "previous_period",
        "previous_day",
        "wow",
        "mom",
        "yoy",
    ]
    assert {"get", "put"} <= set(paths["/api/datasets/{datasetId}/measures"])
