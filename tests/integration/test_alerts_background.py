"""The evaluator's background work: a burst of requests for one dataset is one
evaluation, and a slow webhook holds neither the evaluator lock nor another
dataset's evaluation (deliveries run on their own threads, after the commit)."""

from __future__ import annotations

import threading

from data.alerts import service, store
from tests.alerts_data import VALUES, above_rule, upload_series
from tests.integration.test_alerts_live import hook, live_app
from tests.receivers import WebhookReceiver

SAFETY_TIMEOUT_S = 60  # only so that a regression fails instead of hanging


def append_day_4(client, user, dataset_id: str) -> None:
    """Day 4 (120, above the threshold) through the append API."""
    appended = client.post(
        f"/api/datasets/{dataset_id}/records",
        json={"batchId": "day-4", "records": [{"date": "2026-01-04", "value": 120}]},
        headers=user["headers"],
    )
    assert appended.status_code == 201, appended.get_json()


def wait_until_started(future) -> None:
    """Until the evaluation thread has taken the request off its queue."""
    started = threading.Event()
    while not (future.running() or future.done()):
        started.wait(0.01)


def test_a_burst_of_requests_for_a_dataset_is_one_evaluation(make_app, new_user):
    """While an evaluation runs (here: waiting for the evaluator lock), five more
    requests for its dataset become one further evaluation; another dataset's
    request is its own."""
    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    services = app.server.extensions["insightboard"]
    first = upload_series(client, user, VALUES[:3])
    second = upload_series(client, user, VALUES[:3], name="Other")
    rules = [
        client.post("/api/alerts", json=above_rule(d), headers=user["headers"])
        for d in (first, second)
    ]
    rule_ids = [r.get_json()["id"] for r in rules]
    before = [_state_version(services, user, r) for r in rule_ids]
    with service.evaluator_lock(services):
        running = service.evaluate_dataset_soon(services, user["id"], first)
        wait_until_started(running)
        burst = [
            service.evaluate_dataset_soon(services, user["id"], first) for _ in range(5)
        ]
        other = service.evaluate_dataset_soon(services, user["id"], second)
    assert len({id(f) for f in burst}) == 1 and burst[0] is not running
    assert other is not burst[0]
    for future in (running, burst[0], other):
        assert future.result(timeout=SAFETY_TIMEOUT_S) == 1
    after = [_state_version(services, user, r) for r in rule_ids]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1]


def _state_version(services, user, rule_id: str) -> int:
    return store.get_rule(services.postgres, user["id"], rule_id)["state_version"]


def test_a_slow_webhook_does_not_delay_another_datasets_evaluation(make_app, new_user):
    """Dataset A's firing webhook is held by its receiver; dataset B's evaluation
    still runs to the end, and A's notification is delivered once released."""
    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    services = app.server.extensions["insightboard"]
    release = threading.Event()
    with WebhookReceiver(hold=release) as receiver:
        try:
            slow = upload_series(client, user, VALUES[:3])
            other = upload_series(client, user, VALUES[:3], name="Other")
            body = above_rule(slow, channels=[hook(receiver.url)])
            slow_rule = client.post("/api/alerts", json=body, headers=user["headers"])
            other_rule = client.post(
                "/api/alerts", json=above_rule(other), headers=user["headers"]
            )
            append_day_4(client, user, slow)
            assert receiver.arrived.wait(SAFETY_TIMEOUT_S)  # A's webhook is held
            append_day_4(client, user, other)
            evaluated = service.evaluate_dataset_soon(services, user["id"], other)
            assert evaluated.result(timeout=SAFETY_TIMEOUT_S) == 1
            assert _state(client, user, other_rule) == "firing"
            assert _notification_status(client, user, slow_rule) == "pending"
        finally:
            release.set()
        service.wait_for_background(services)
    assert _notification_status(client, user, slow_rule) == "delivered"
    assert len(receiver.requests) == 1


def _state(client, user, created) -> str:
    rule_id = created.get_json()["id"]
    shown = client.get(f"/api/alerts/{rule_id}", headers=user["headers"])
    return shown.get_json()["state"]


def _notification_status(client, user, created) -> str:
    rule_id = created.get_json()["id"]
    sent = client.get(f"/api/alerts/{rule_id}/history", headers=user["headers"])
    [notification] = sent.get_json()["notifications"]
    return notification["status"]
