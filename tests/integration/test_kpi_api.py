"""The KPI API against pandas oracles on random event logs."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.kpi_data import close, oracle_value, small_events, upload_events


@pytest.fixture
def events_app(make_app, new_user):
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    frame = small_events()
    dataset_id = upload_events(client, user, frame)
    return client, user, frame, dataset_id


def kpi(client, user, dataset_id, query: str):
    return client.get(f"/api/kpi/{dataset_id}?{query}", headers=user["headers"])


def test_daily_values_match_pandas(events_app):
    client, user, frame, dataset_id = events_app
    names = "dau,sessions,bounce_rate,revenue,page_views,bounced_sessions"
    response = kpi(
        client, user, dataset_id, f"measures={names}&from=2026-11-20&to=2026-11-26"
    )
    assert response.status_code == 200, response.get_json()
    view = response.get_json()
    days = frame[(frame.timestamp >= "2026-11-20") & (frame.timestamp < "2026-11-27")]
    for measure in view["measures"]:
        expected = oracle_value(days, measure["name"])
        assert close(measure["value"], expected, 1e-9 + measure["relativeError"]), (
            measure["name"]
        )
        for point in measure["series"]:
            day = dt.datetime.fromisoformat(point["t"])
            rows = days[
                (days.timestamp >= day) & (days.timestamp < day + dt.timedelta(days=1))
            ]
            assert close(
                point["value"],
                oracle_value(rows, measure["name"]),
                1e-9 + measure["relativeError"],
            )
