"""The alerts API: the contract (paths, fields, statuses), owner scope, backtest."""

from __future__ import annotations

import pytest

from auth.audit import events_for
from tests.alerts_data import VALUES, above_rule, upload_series


@pytest.fixture
def inline_app(make_app):
    return make_app(ingest_mode="inline", alert_schedule_interval_s=0)


@pytest.fixture
def client(inline_app):
    return inline_app.server.test_client()


def test_create_read_update_delete_a_rule(client, new_user):
    user = new_user(client)
    dataset_id = upload_series(client, user)
    created = client.post(
        "/api/alerts", json=above_rule(dataset_id), headers=user["headers"]
    )
    assert created.status_code == 201, created.get_json()
    rule = created.get_json()
    assert rule["datasetId"] == dataset_id and rule["measure"] == "value"
    assert rule["forBuckets"] == 1 and rule["noData"] == "keep"
    assert rule["state"] == "ok"  # the history ends below the threshold
    listed = client.get("/api/alerts", headers=user["headers"]).get_json()
    assert [r["id"] for r in listed["alerts"]] == [rule["id"]]
    assert listed["firing"] == 0
    changed = client.put(
        f"/api/alerts/{rule['id']}", json=above_rule(dataset_id, threshold=50),
        headers=user["headers"],
    )  # fmt: skip
    assert changed.status_code == 200
    assert changed.get_json()["condition"]["threshold"] == 50
    assert changed.get_json()["state"] == "firing"  # the last day is 53
    shown = client.get(f"/api/alerts/{rule['id']}", headers=user["headers"])
    assert shown.get_json()["state"] == "firing"
    assert client.get("/api/alerts", headers=user["headers"]).get_json()["firing"] == 1
    gone = client.delete(f"/api/alerts/{rule['id']}", headers=user["headers"])
    assert gone.status_code == 204
    assert (
        client.get(f"/api/alerts/{rule['id']}", headers=user["headers"]).status_code
        == 404
    )
    services = client.application.extensions["insightboard"]
    audited = [
        (e["action"], e["details"]["ruleId"])
        for e in events_for(services.postgres, user["id"])
        if e["action"].startswith("alert_")
    ]
    assert audited == [
        ("alert_rule_delete", rule["id"]),
        ("alert_rule_update", rule["id"]),
        ("alert_rule_create", rule["id"]),
    ]


def test_backtest_answers_count_and_firings_over_the_whole_history(client, new_user):
    user = new_user(client)
    dataset_id = upload_series(client, user)
    answer = client.post(
        "/api/alerts/backtest", json=above_rule(dataset_id), headers=user["headers"]
    )
    assert answer.status_code == 200, answer.get_json()
    # Oracle: runs of days above 100 in VALUES, each ending on the next day.
    runs, inside = [], False
    for index, value in enumerate(VALUES):
        if value > 100 and not inside:
            runs.append([index, None])
        if value <= 100 and inside:
            runs[-1][1] = index
        inside = value > 100
    expected = [
        {"start": f"2026-01-{s + 1:02d}T00:00:00Z",
         "end": f"2026-01-{e + 1:02d}T00:00:00Z" if e is not None else None}
        for s, e in runs
    ]  # fmt: skip
    assert answer.get_json() == {"count": 3, "firings": expected}


def test_history_is_append_only_and_records_each_change(client, new_user):
    user = new_user(client)
    dataset_id = upload_series(client, user)
    rule = client.post(
        "/api/alerts", json=above_rule(dataset_id), headers=user["headers"]
    ).get_json()
    history = client.get(f"/api/alerts/{rule['id']}/history", headers=user["headers"])
    changes = history.get_json()["history"]
    assert [(c["from"], c["to"], c["bucket"][:10]) for c in reversed(changes)] == [
        ("ok", "firing", "2026-01-04"), ("firing", "ok", "2026-01-07"),
        ("ok", "firing", "2026-01-12"), ("firing", "ok", "2026-01-14"),
        ("ok", "firing", "2026-01-17"), ("firing", "ok", "2026-01-18"),
    ]  # fmt: skip
    services = client.application.extensions["insightboard"]
    with (
        pytest.raises(Exception, match="append-only"),
        services.postgres.transaction() as cursor,
    ):
        cursor.execute("UPDATE alert_history SET reason = 'x'")


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"measure": "nope"}, 400, "measure"),
        ({"granularity": "minute"}, 400, "granularity"),
        ({"condition": {"type": "above"}}, 400, "condition.threshold"),
        ({"forBuckets": "many"}, 400, "forBuckets"),
        ({"datasetId": "f" * 32}, 404, None),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(client, new_user, change, status, field):
    user = new_user(client)
    dataset_id = upload_series(client, user)
    body = {**above_rule(dataset_id), **change}
    for path in ("/api/alerts", "/api/alerts/backtest"):
        answer = client.post(path, json=body, headers=user["headers"])
        assert answer.status_code == status, answer.get_json()
        if field:
            assert answer.get_json()["error"]["field"] == field


def test_rules_are_owner_scoped(client, new_user):
    owner, other = new_user(client), new_user(client)
    dataset_id = upload_series(client, owner)
    rule = client.post(
        "/api/alerts", json=above_rule(dataset_id), headers=owner["headers"]
    ).get_json()
    for method, path in [
        ("get", f"/api/alerts/{rule['id']}"),
        ("get", f"/api/alerts/{rule['id']}/history"),
        ("delete", f"/api/alerts/{rule['id']}"),
    ]:
        answer = getattr(client, method)(path, headers=other["headers"])
        assert answer.status_code == 404
    put = client.put(
        f"/api/alerts/{rule['id']}",
        json=above_rule(dataset_id),
        headers=other["headers"],
    )
    assert put.status_code == 404
    # nor can another user watch (or backtest) the owner's dataset
    stolen = client.post(
        "/api/alerts", json=above_rule(dataset_id), headers=other["headers"]
    )
    assert stolen.status_code == 404
    assert (
        client.get("/api/alerts", headers=other["headers"]).get_json()["alerts"] == []
    )
    assert client.get("/api/alerts").status_code == 401


def test_kpi_measures_can_be_watched_too(client, new_user):
    user = new_user(client)
    dataset_id = upload_series(client, user)
    body = {**above_rule(dataset_id, threshold=100), "measure": "sum_value"}
    answer = client.post("/api/alerts/backtest", json=body, headers=user["headers"])
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["count"] == 3


def test_anomaly_rule_fires_on_the_spike(client, new_user):
    user = new_user(client)
    dataset_id = upload_series(client, user)
    body = {
        **above_rule(dataset_id),
        "condition": {"type": "anomaly", "severity": "high"},
    }
    answer = client.post("/api/alerts/backtest", json=body, headers=user["headers"])
    assert answer.status_code == 200, answer.get_json()
    starts = [f["start"][:10] for f in answer.get_json()["firings"]]
    assert "2026-01-17" in starts


def test_silence_and_acknowledge(client, new_user):
    user = new_user(client)
    dataset_id = upload_series(client, user)
    rule = client.post(
        "/api/alerts",
        json=above_rule(dataset_id, threshold=10),
        headers=user["headers"],
    ).get_json()
    path = f"/api/alerts/{rule['id']}"
    assert (
        client.post(f"{path}/acknowledge", headers=user["headers"]).status_code == 204
    )
    until = "2030-01-01T00:00:00Z"
    silenced = client.post(
        f"{path}/silence", json={"until": until}, headers=user["headers"]
    )
    assert silenced.status_code == 204
    shown = client.get(path, headers=user["headers"]).get_json()
    assert shown["silencedUntil"] == until and shown["acknowledgedAt"]
    bad = client.post(
        f"{path}/silence", json={"until": "soon"}, headers=user["headers"]
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "until"
