"""`python -m demo.live` feeds the demo's web-analytics dataset through the API."""

from __future__ import annotations

import uuid

import demo.live
from data.demo import EVENTS_DATASET
from tests.integration.test_live_push import PASSWORD, Served
from tests.kpi_data import small_events, upload_events


def test_the_live_demo_appends_a_batch_per_tick(make_app, new_user, monkeypatch):
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    email = f"demo-{uuid.uuid4().hex[:8]}@example.com"
    user = new_user(client, email=email, password=PASSWORD)
    dataset_id = upload_events(
        client, user, small_events(events=300, days=3), name=EVENTS_DATASET
    )
    before = client.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    monkeypatch.setattr(demo.live, "DEMO_EMAIL", email)
    monkeypatch.setattr(demo.live, "DEMO_PASSWORD", PASSWORD)
    served = Served(app)
    try:
        demo.live.run(served.url, every_s=0, batches=3)
    finally:
        served.stop()
    after = client.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    assert after.get_json()["revision"] == before.get_json()["revision"] + 3
    assert after.get_json()["rowCount"] >= before.get_json()["rowCount"] + 6
