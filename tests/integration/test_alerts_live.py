"""Live evaluation: after each processed version, through the real hook; the same
firings as the backtest; webhooks signed and retried; e-mail over SMTP; two
evaluators never notify twice."""

from __future__ import annotations

import base64
import email
import json
import threading

import pytest
from standardwebhooks import Webhook

from auth.audit import events_for
from data.alerts import service, store
from data.errors import DATASET_NOT_FOUND
from tests.alerts_data import VALUES, above_rule, upload_series
from tests.receivers import SmtpServer, WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def live_app(make_app, **overrides):
    """An inline-ingest app with no schedule, quick retries, and the local test
    receivers allowed (they listen on 127.0.0.1)."""
    defaults = {
        "ingest_mode": "inline",
        "alert_schedule_interval_s": 0,
        "alert_webhook_backoff_s": 0.01,
        "alert_webhook_allow_private": True,
    }
    return make_app(**{**defaults, **overrides})


def hook(url: str, **fields) -> dict:
    return {"type": "webhook", "url": url, "secret": SECRET, **fields}


def firings_from_history(changes: list[dict]) -> list[dict]:
    """Firing intervals rebuilt from the stored history (oldest first)."""
    intervals = []
    for change in reversed(changes):
        if change["to"] == "firing" and change["from"] != "recovering":
            intervals.append({"start": change["bucket"], "end": None})
        elif change["to"] == "ok" and change["from"] in ("firing", "recovering"):
            intervals[-1]["end"] = change["bucket"]
    return intervals


def test_replaying_versions_through_the_live_path_equals_the_backtest(
    make_app, new_user
):
    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_series(client, user, VALUES[:5])
    body = above_rule(
        dataset_id, condition={"type": "above", "threshold": 100, "recovery": 55},
        forBuckets=2, keepFiringForBuckets=1,
    )  # fmt: skip
    rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
    for end in (9, 13, 16, len(VALUES)):
        upload_series(client, user, VALUES[:end])  # a new version: the hook evaluates
    history = client.get(f"/api/alerts/{rule['id']}/history", headers=user["headers"])
    backtest = client.post("/api/alerts/backtest", json=body, headers=user["headers"])
    live = firings_from_history(history.get_json()["history"])
    assert backtest.get_json()["count"] == 2
    assert live == backtest.get_json()["firings"]


def test_new_data_sends_a_signed_webhook_once(make_app, new_user):
    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    with WebhookReceiver() as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        body = above_rule(dataset_id, channels=[hook(receiver.url)])
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        assert receiver.requests == []  # nothing fires in the first three days
        upload_series(client, user, VALUES[:4])  # day 4 breaches
        upload_series(client, user, VALUES[:4])  # the same bytes: no new version
        services = app.server.extensions["insightboard"]
        service.evaluate_dataset(services, user["id"], dataset_id)  # nothing new
    assert len(receiver.requests) == 1
    sent = receiver.requests[0]
    payload = Webhook(SECRET).verify(sent["body"], sent["headers"])
    assert payload["type"] == "alert.firing"
    assert payload["data"]["ruleId"] == rule["id"]
    assert payload["data"]["bucket"] == "2026-01-04T00:00:00Z"
    assert payload["data"]["value"] == 120
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(
            sent["body"], sent["headers"]
        )


def test_webhook_retries_then_succeeds_with_the_same_id(make_app, new_user):
    app = live_app(make_app, alert_webhook_retries=4)
    client = app.server.test_client()
    user = new_user(client)
    with WebhookReceiver(fail_first=2) as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        body = above_rule(dataset_id, channels=[hook(receiver.url, format="slack")])
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        upload_series(client, user, VALUES[:4])
    assert len(receiver.requests) == 3
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1
    slack = Webhook(SECRET).verify(
        receiver.requests[-1]["body"], receiver.requests[-1]["headers"]
    )
    assert "Value too high is firing" in slack["text"] and slack["blocks"]
    sent = client.get(f"/api/alerts/{rule['id']}/history", headers=user["headers"])
    [notification] = sent.get_json()["notifications"]
    assert notification["status"] == "delivered" and notification["attempts"] == 3


def test_webhook_failing_every_try_is_a_dead_letter(make_app, new_user):
    app = live_app(make_app, alert_webhook_retries=3)
    client = app.server.test_client()
    user = new_user(client)
    with WebhookReceiver(fail_first=100) as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        body = above_rule(dataset_id, channels=[hook(receiver.url)])
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        upload_series(client, user, VALUES[:4])
    assert len(receiver.requests) == 3
    sent = client.get(f"/api/alerts/{rule['id']}/history", headers=user["headers"])
    [notification] = sent.get_json()["notifications"]
    assert notification["status"] == "dead" and notification["attempts"] == 3
    assert "500" in notification["lastError"]
    services = app.server.extensions["insightboard"]
    [audited] = [
        e for e in events_for(services.postgres, user["id"])
        if e["action"] == "alert_notification"
    ]  # fmt: skip
    assert audited["outcome"] == "failure" and audited["details"]["status"] == "dead"


def test_email_is_delivered_over_smtp_as_html_and_text(make_app, new_user):
    with SmtpServer() as smtp:
        app = live_app(
            make_app, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none"
        )
        client = app.server.test_client()
        user = new_user(client)
        dataset_id = upload_series(client, user, VALUES[:3])
        channel = {"type": "email", "to": ["oncall@example.com"]}
        body = above_rule(dataset_id, channels=[channel])
        client.post("/api/alerts", json=body, headers=user["headers"])
        upload_series(client, user, VALUES[:4])
    [message] = smtp.sink.messages
    assert message["to"] == ["oncall@example.com"]
    parsed = email.message_from_bytes(message["content"])
    assert "Value too high is firing" in parsed["Subject"]
    kinds = {part.get_content_type(): part for part in parsed.walk()}
    assert "2026-01-04" in kinds["text/plain"].get_payload(decode=True).decode()
    assert "<table>" in kinds["text/html"].get_payload(decode=True).decode()


def test_mute_timing_records_but_does_not_send(make_app, new_user):
    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    with WebhookReceiver() as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        always = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}]
        body = above_rule(dataset_id, channels=[hook(receiver.url)], muteTimings=always)
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        upload_series(client, user, VALUES[:4])
    assert receiver.requests == []
    sent = client.get(f"/api/alerts/{rule['id']}/history", headers=user["headers"])
    assert [n["status"] for n in sent.get_json()["notifications"]] == ["muted"]
    assert sent.get_json()["state"] == "firing"


@pytest.mark.parametrize("with_redis", [True, False])
def test_two_evaluators_never_notify_twice(
    make_app, new_user, redis_server, with_redis
):
    """Two app instances (two processes' worth of services) sharing PostgreSQL,
    MongoDB (the first's engine) and Redis evaluate at the same moment."""
    redis_url = redis_server.url if with_redis else None
    first = live_app(make_app, redis_url=redis_url)
    second = live_app(make_app, redis_url=redis_url)
    client = first.server.test_client()
    user = new_user(client)
    services = [app.server.extensions["insightboard"] for app in (first, second)]
    services[1].mongo = services[0].mongo  # one database, as with a MongoDB server
    with WebhookReceiver() as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        body = above_rule(dataset_id, channels=[hook(receiver.url)])
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        # Day 4 arrives in the shared database without running the hook.
        services[0].extensions.pop("ingest.after_processing")
        upload_series(client, user, VALUES[:4])
        barrier = threading.Barrier(2)

        def evaluate(index: int) -> None:
            app = (first, second)[index]
            with app.server.app_context():
                barrier.wait()
                service.evaluate_dataset(services[index], user["id"], dataset_id)

        threads = [threading.Thread(target=evaluate, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for each in services:  # deliveries run after the evaluation, on their pool
            service.wait_for_background(each)
    assert len(receiver.requests) == 1
    changes = store.history(services[0].postgres, rule["id"])
    assert [(c["from_state"], c["to_state"]) for c in changes] == [("ok", "firing")]
    assert json.loads(receiver.requests[0]["body"])["data"]["event"] == "firing"


def test_the_schedule_applies_the_no_data_policy_to_missing_buckets(make_app, new_user):
    import datetime as dt

    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_series(client, user, VALUES[:3])
    quiet = above_rule(dataset_id, noData="alerting", forBuckets=2)
    kept = above_rule(dataset_id, noData="keep")
    rules = [
        client.post("/api/alerts", json=b, headers=user["headers"]).get_json()
        for b in (quiet, kept)
    ]
    services = app.server.extensions["insightboard"]
    # Data ends on Jan 3; on Jan 5 at noon Jan 4 is missing (one bucket: pending),
    # on Jan 6 Jan 5 is missing too (the second: firing).
    noon = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    with app.server.app_context():
        service.evaluate_all(services, now=noon)
        states = [
            store.get_rule(services.postgres, user["id"], r["id"])["state"]
            for r in rules
        ]
        assert states == ["pending", "ok"]
        service.evaluate_all(services, now=noon + dt.timedelta(days=1))
        states = [
            store.get_rule(services.postgres, user["id"], r["id"])["state"]
            for r in rules
        ]
    assert states == ["firing", "ok"]


def test_a_rule_whose_series_cannot_be_read_is_in_error(make_app, new_user):
    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_series(client, user, VALUES[:3])
    rule = client.post(
        "/api/alerts", json=above_rule(dataset_id), headers=user["headers"]
    ).get_json()
    assert (
        client.delete(
            f"/api/datasets/{dataset_id}", headers=user["headers"]
        ).status_code
        == 204
    )
    services = app.server.extensions["insightboard"]
    with app.server.app_context():
        service.evaluate_all(services)
    shown = client.get(f"/api/alerts/{rule['id']}", headers=user["headers"]).get_json()
    assert shown["state"] == "error" and DATASET_NOT_FOUND in shown["lastError"]


def test_an_append_evaluates_the_rules_in_the_background(make_app, new_user):
    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    with WebhookReceiver() as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        body = above_rule(dataset_id, channels=[hook(receiver.url)])
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        appended = client.post(
            f"/api/datasets/{dataset_id}/records",
            json={
                "batchId": "day-4",
                "records": [{"date": "2026-01-04", "value": 120}],
            },
            headers=user["headers"],
        )
        assert appended.status_code == 201, appended.get_json()
        services = app.server.extensions["insightboard"]
        service.wait_for_background(services)
    shown = client.get(f"/api/alerts/{rule['id']}", headers=user["headers"]).get_json()
    assert shown["state"] == "firing"
    [sent] = receiver.requests
    assert Webhook(SECRET).verify(sent["body"], sent["headers"])["data"]["value"] == 120


def test_a_notification_left_pending_by_a_crash_is_delivered_later(
    make_app, new_user, monkeypatch
):
    import datetime as dt

    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    services = app.server.extensions["insightboard"]
    with WebhookReceiver() as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        body = above_rule(dataset_id, channels=[hook(receiver.url)])
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        with monkeypatch.context() as patched:  # the evaluator dies after committing
            patched.setattr(service, "deliver", lambda *args: None)
            upload_series(client, user, VALUES[:4])
        assert receiver.requests == []
        later = service.now_utc() + dt.timedelta(minutes=1)
        assert service.redeliver_stale(services, later) == 1
        assert service.redeliver_stale(services, later) == 0
    [sent] = receiver.requests
    assert sent["headers"]["webhook-id"].startswith(f"alert_{rule['id']}_firing_")
    assert Webhook(SECRET).verify(sent["body"], sent["headers"])["data"]["value"] == 120


def test_webhooks_to_internal_addresses_are_refused_by_default(make_app, new_user):
    app = live_app(make_app, alert_webhook_allow_private=False, alert_webhook_retries=1)
    client = app.server.test_client()
    user = new_user(client)
    with WebhookReceiver() as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        body = above_rule(dataset_id, channels=[hook(receiver.url)])
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        upload_series(client, user, VALUES[:4])
    assert receiver.requests == []
    sent = client.get(f"/api/alerts/{rule['id']}/history", headers=user["headers"])
    [notification] = sent.get_json()["notifications"]
    assert notification["status"] == "dead"
    assert "127.0.0.1, an internal address" in notification["lastError"]


def test_webhook_secrets_are_masked_on_read_and_kept_on_replace(make_app, new_user):
    app = live_app(make_app)
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_series(client, user, VALUES[:3])
    body = above_rule(dataset_id, channels=[hook("https://hooks.example.com/x")])
    rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
    assert rule["channels"][0]["secret"] == service.SECRET_MASK
    shown = client.get(f"/api/alerts/{rule['id']}", headers=user["headers"]).get_json()
    assert SECRET not in json.dumps(shown)
    shown["name"] = "Renamed"
    kept = {k: shown[k] for k in body if k in shown} | {"name": "Renamed"}
    answer = client.put(f"/api/alerts/{rule['id']}", json=kept, headers=user["headers"])
    assert answer.status_code == 200, answer.get_json()
    services = app.server.extensions["insightboard"]
    stored = store.get_rule(services.postgres, user["id"], rule["id"])["definition"]
    assert stored["channels"][0]["secret"] == SECRET and stored["name"] == "Renamed"
