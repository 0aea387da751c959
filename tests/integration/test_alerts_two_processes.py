"""Two evaluator processes, not two app objects in one: separate Python processes
(each with its own in-process MongoDB engine, rebuilt from the shared object
store) share PostgreSQL and a private Redis, and evaluate the same rule at the same
moment. The new bucket fires the rule once: one state change, one webhook."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from data.alerts import store
from tests.alerts_data import VALUES, above_rule, upload_series
from tests.integration.test_alerts_live import hook, live_app
from tests.receivers import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
EVALUATOR = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from data.alerts import service
    from tests.conftest import build_app

    database_url, store_dir, redis_url, owner, dataset, go = sys.argv[1:7]
    while not Path(go).exists():  # start together
        time.sleep(0.01)
    app = build_app(
        database_url, Path(store_dir), redis_url=redis_url, ingest_mode="inline",
        alert_schedule_interval_s=0, alert_webhook_allow_private=True,
        alert_webhook_backoff_s=0.01,
    )
    services = app.server.extensions["insightboard"]
    service.wait_for_background(services)  # the rebuild's own evaluation
    with app.server.app_context():
        evaluated = service.evaluate_dataset(services, owner, dataset)
    service.wait_for_background(services)  # its deliveries, if it sent any
    services.close()
    print(json.dumps({"evaluated": evaluated}))
    """
)


def test_two_evaluator_processes_notify_once(
    make_app, new_user, redis_server, database_url, tmp_path
):
    objects = tmp_path / "shared-objects"
    app = live_app(make_app, redis_url=redis_server.url, local_store_dir=str(objects))
    client = app.server.test_client()
    user = new_user(client)
    services = app.server.extensions["insightboard"]
    with WebhookReceiver() as receiver:
        dataset_id = upload_series(client, user, VALUES[:3])
        body = above_rule(dataset_id, channels=[hook(receiver.url)])
        rule = client.post("/api/alerts", json=body, headers=user["headers"]).get_json()
        # Day 4 (120, above 100) is stored without this process evaluating it.
        services.extensions.pop("ingest.after_processing")
        upload_series(client, user, VALUES[:4])
        go = tmp_path / "go"
        arguments = [str(database_url), str(objects), redis_server.url, user["id"],
                     dataset_id, str(go)]  # fmt: skip
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", EVALUATOR, *arguments],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        go.touch()
        outputs = [process.communicate(timeout=180) for process in processes]
        for process, (_, error) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, error
        time.sleep(0.5)  # a duplicate delivery would arrive by now
        requests = list(receiver.requests)
    assert [json.loads(out)["evaluated"] >= 0 for out, _ in outputs] == [True, True]
    assert len(requests) == 1
    assert json.loads(requests[0]["body"])["data"]["event"] == "firing"
    changes = store.history(services.postgres, rule["id"])
    assert [(c["from_state"], c["to_state"]) for c in changes] == [("ok", "firing")]
