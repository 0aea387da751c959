"""Appending records (issue 14): POST /api/datasets/{id}/records validates a batch
like an upload, is idempotent by batchId, makes each batch a new revision, updates
roll-ups incrementally (equal to a full reprocess) and never leaves half a batch."""

from __future__ import annotations

import datetime as dt
import json
import math
import time

import pandas as pd
import pytest

from data.ingest import repository
from tests.integration.ingest.conftest import READABLE, wait_for_status
from tests.kpi_data import close, oracle_value, small_events, upload_events

MEASURES = "dau,sessions,bounce_rate,revenue,page_views,bounced_sessions"
PERIOD = "from=2026-11-20&to=2026-11-30"


@pytest.fixture
def events(make_app, new_user):
    """(client, user, frame, dataset_id, services) on an inline-ingest app with a
    processed event log of 1,500 events over 12 days."""
    app = make_app(ingest_mode="inline", append_max_records=500, append_lease_s=0.5)
    client = app.server.test_client()
    user = new_user(client)
    frame = small_events(events=1500, days=12, seed=4)
    dataset_id = upload_events(client, user, frame)
    return client, user, frame, dataset_id, app.server.extensions["insightboard"]


def as_records(frame: pd.DataFrame) -> list[dict]:
    """Events as JSON records in the upload's own time format (ISO 8601 UTC)."""
    text = frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return frame.assign(timestamp=text).to_dict("records")


def new_events(seed: int, count: int = 60) -> pd.DataFrame:
    """`count` fresh events inside the uploaded period (other users, sessions)."""
    frame = small_events(events=2 * count, days=12, seed=seed)
    frame = frame.sample(n=count, random_state=seed).sort_values("timestamp")
    return frame.reset_index(drop=True).assign(
        user_id="n" + frame["user_id"].astype(str),
        session_id=f"s{seed}-" + frame["session_id"].astype(str),
    )


def post_batch(client, user, dataset_id, batch_id, records, **extra):
    return client.post(
        f"/api/datasets/{dataset_id}/records",
        json={"batchId": batch_id, "records": records},
        headers=user["headers"],
        **extra,
    )


def kpi_view(client, user, dataset_id, extra: str = "") -> dict:
    response = client.get(
        f"/api/kpi/{dataset_id}?measures={MEASURES}&{PERIOD}{extra}",
        headers=user["headers"],
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def values(view: dict) -> dict:
    return {m["name"]: m["value"] for m in view["measures"]}


def assert_oracle(view: dict, frame: pd.DataFrame) -> None:
    start = pd.Timestamp("2026-11-20", tz="UTC")
    rows = frame[
        (frame.timestamp >= start) & (frame.timestamp < start + pd.Timedelta(days=11))
    ]
    for name, value in values(view).items():
        assert close(value, oracle_value(rows, name), 1e-9), name


def test_an_appended_batch_is_a_new_revision_counted_once(events):
    """Each accepted batch bumps the revision and moves the KPI values to what pandas
    computes over upload + batch; sending it again changes nothing."""
    client, user, frame, dataset_id, _ = events
    before = client.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    revision = before.get_json()["revision"]
    batch = new_events(seed=21)
    response = post_batch(client, user, dataset_id, "b-1", as_records(batch))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["revision"] == revision + 1
    assert (body["accepted"], body["skipped"], body["duplicate"]) == (
        len(batch),
        0,
        False,
    )
    combined = pd.concat([frame, batch], ignore_index=True)
    assert_oracle(kpi_view(client, user, dataset_id), combined)

    again = post_batch(client, user, dataset_id, "b-1", as_records(batch))
    assert again.status_code == 200
    assert again.get_json() == {**body, "duplicate": True}
    shown = client.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    assert shown.get_json()["revision"] == revision + 1
    assert shown.get_json()["rowCount"] == len(combined)
    assert_oracle(kpi_view(client, user, dataset_id), combined)


def test_the_same_batch_id_with_other_records_is_a_conflict(events):
    client, user, _, dataset_id, _ = events
    records = as_records(new_events(seed=22, count=5))
    assert post_batch(client, user, dataset_id, "b-2", records).status_code == 201
    changed = [{**records[0], "revenue": 999.0}, *records[1:]]
    response = post_batch(client, user, dataset_id, "b-2", changed)
    assert response.status_code == 409
    assert "b-2" in response.get_json()["error"]["message"]


def test_bad_records_are_named_and_too_many_refuse_the_batch(events):
    """Bad rows name row, column and problem; over 10% bad rows nothing is added."""
    client, user, frame, dataset_id, _ = events
    records = as_records(new_events(seed=23, count=20))
    records[2]["revenue"] = "abc"
    records[4]["timestamp"] = "yesterday"
    records[6] = {**records[6], "colour": "red"}
    refused = post_batch(client, user, dataset_id, "bad-1", records)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    messages = [e["message"] for e in error["rowErrors"]]
    assert "row 3, column revenue: 'abc' is not a number" in messages
    assert any(m.startswith("row 5, column timestamp: 'yesterday'") for m in messages)
    assert "row 7: 'colour' is not a column of this version" in messages
    assert error["badRows"] == 3
    assert_oracle(kpi_view(client, user, dataset_id), frame)

    records = as_records(new_events(seed=24, count=20))
    records[9]["revenue"] = "n/a?"
    accepted = post_batch(client, user, dataset_id, "bad-2", records)
    assert accepted.status_code == 201
    body = accepted.get_json()
    assert (body["accepted"], body["skipped"]) == (19, 1)
    assert body["rowErrors"][0]["row"] == 10
    assert body["rowErrors"][0]["column"] == "revenue"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"records": [{"revenue": 1}]}, "batchId"),
        ({"batchId": "../x", "records": [{"revenue": 1}]}, "batchId"),
        ({"batchId": "ok"}, "records"),
        ({"batchId": "ok", "records": []}, "records"),
        ({"batchId": "ok", "records": {"a": 1}}, "records"),
        (["not", "an", "object"], "body"),
    ],
)
def test_malformed_batches_are_400_naming_the_field(events, body, field):
    client, user, _, dataset_id, _ = events
    response = client.post(
        f"/api/datasets/{dataset_id}/records", json=body, headers=user["headers"]
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_limits_media_types_and_ndjson(events):
    """Over the batch size is 413 naming the limit; NDJSON needs Idempotency-Key."""
    client, user, _, dataset_id, _ = events
    url = f"/api/datasets/{dataset_id}/records"
    records = as_records(new_events(seed=25, count=501))
    too_many = post_batch(client, user, dataset_id, "big", records)
    assert too_many.status_code == 413
    assert "500" in too_many.get_json()["error"]["message"]
    text = client.post(
        url, data="x", content_type="text/plain", headers=user["headers"]
    )
    assert text.status_code == 415
    lines = "\n".join(json.dumps(r) for r in records[:3]) + "\n{broken\n"
    no_key = client.post(
        url, data=lines, content_type="application/x-ndjson", headers=user["headers"]
    )
    assert no_key.status_code == 400
    assert no_key.get_json()["error"]["field"] == "Idempotency-Key"
    lines = "\n".join(json.dumps(r) for r in records[:20]) + "\n{broken\n"
    headers = {**user["headers"], "Idempotency-Key": "nd-1"}
    sent = client.post(
        url, data=lines, content_type="application/x-ndjson", headers=headers
    )
    assert sent.status_code == 201, sent.get_json()
    assert (sent.get_json()["accepted"], sent.get_json()["skipped"]) == (20, 1)
    assert sent.get_json()["rowErrors"][0]["row"] == 21


def test_appends_are_owner_scoped_and_work_with_personal_tokens(events, new_user):
    client, user, _, dataset_id, _ = events
    records = as_records(new_events(seed=26, count=3))
    stranger = new_user(client)
    assert post_batch(client, stranger, dataset_id, "s-1", records).status_code == 404
    created = client.post(
        "/api/auth/tokens", json={"name": "feeder"}, headers=user["headers"]
    )
    assert created.status_code == 201, created.get_json()
    token = created.get_json()["token"]
    program = {"headers": {"Authorization": f"Bearer {token}"}}
    assert post_batch(client, program, dataset_id, "t-1", records).status_code == 201
    assert post_batch(client, user, "f" * 32, "t-2", records).status_code == 404


def test_no_append_while_the_version_is_processing(events):
    client, user, _, dataset_id, services = events
    services.mongo.datasets.update_one(
        {"datasetId": dataset_id}, {"$set": {"status": "processing"}}
    )
    records = as_records(new_events(seed=27, count=3))
    response = post_batch(client, user, dataset_id, "p-1", records)
    assert response.status_code == 409
    assert "processing" in response.get_json()["error"]["message"]


def merged_rollups(services, dataset_id: str) -> dict:
    """Analysis and KPI roll-ups merged per bucket and slice (deltas summed)."""
    merged: dict = {}
    for document in services.mongo.rollups.find({"datasetId": dataset_id}):
        key: tuple = (
            "a",
            document["g"],
            document["b"],
            json.dumps(document["d"], sort_keys=True),
        )
        _merge(merged, key, {"rows": document["rows"], **{
            f"{f}.{m}": v for f in ("n", "s", "q") for m, v in document[f].items()
        }}, {f"lo.{m}": v for m, v in document["lo"].items()},
            {f"hi.{m}": v for m, v in document["hi"].items()})  # fmt: skip
    for document in services.mongo.kpi_rollups.find({"datasetId": dataset_id}):
        key = ("k", document["g"], document["b"], document["k"], document["v"])
        sums = {"rows": document["rows"]}
        lows, highs = {}, {}
        for name, partial in document["p"].items():
            for field in ("n", "s"):
                if partial.get(field) is not None:
                    sums[f"{name}.{field}"] = partial[field]
            if partial.get("lo") is not None:
                lows[name], highs[name] = partial["lo"], partial["hi"]
        _merge(merged, key, sums, lows, highs)
    return merged


def _merge(merged: dict, key, sums: dict, lows: dict, highs: dict) -> None:
    entry = merged.setdefault(key, {})
    for name, value in sums.items():
        entry[name] = (entry.get(name) or 0) + (value or 0)
    for name, value in lows.items():
        if value is not None:
            entry[f"lo:{name}"] = min(entry.get(f"lo:{name}", math.inf), value)
    for name, value in highs.items():
        if value is not None:
            entry[f"hi:{name}"] = max(entry.get(f"hi:{name}", -math.inf), value)


def stored_records(services, dataset_id: str) -> list:
    fields = {"_id": 0, "r": 0}
    found = services.mongo.records.find({"datasetId": dataset_id}, fields)
    return sorted(json.dumps(r, default=str, sort_keys=True) for r in found)


def analysis_view(client, user, dataset_id: str) -> dict:
    response = client.get(
        f"/api/analytics/{dataset_id}?metric=revenue&granularity=hour",
        headers=user["headers"],
    )
    assert response.status_code == 200, response.get_json()
    view = response.get_json()
    return {"series": view["series"], "summary": view["summary"]}


def test_incremental_updates_equal_a_full_reprocess(events):
    """Three appended batches, updated incrementally, give the same records,
    roll-ups (merged per bucket), KPI and analysis views as reprocessing the
    version from its file plus the batches."""
    client, user, frame, dataset_id, services = events
    batches = [new_events(seed=30 + i, count=40 + 10 * i) for i in range(3)]
    for index, batch in enumerate(batches):
        response = post_batch(client, user, dataset_id, f"i-{index}", as_records(batch))
        assert response.status_code == 201, response.get_json()
    incremental = (
        merged_rollups(services, dataset_id),
        stored_records(services, dataset_id),
        kpi_view(client, user, dataset_id, "&breakdown=traffic_source"),
        analysis_view(client, user, dataset_id),
    )
    reprocess = client.post(
        f"/api/datasets/{dataset_id}/reprocess", headers=user["headers"]
    )
    assert reprocess.status_code == 202
    wait_for_status(
        lambda: client.get(
            f"/api/datasets/{dataset_id}", headers=user["headers"]
        ).get_json(),
        READABLE,
    )
    full = (
        merged_rollups(services, dataset_id),
        stored_records(services, dataset_id),
        kpi_view(client, user, dataset_id, "&breakdown=traffic_source"),
        analysis_view(client, user, dataset_id),
    )
    assert full[0].keys() == incremental[0].keys()
    for key, entry in full[0].items():
        assert entry == pytest.approx(incremental[0][key], rel=1e-12), key
    assert full[1] == incremental[1]
    for view in (2, 3):
        for part in ("cached", "revision"):
            incremental[view].pop(part, None), full[view].pop(part, None)
    assert same(full[2]["measures"], incremental[2]["measures"])
    assert same(full[2]["breakdown"], incremental[2]["breakdown"])
    assert same(full[3], incremental[3])
    assert_oracle(incremental[2], pd.concat([frame, *batches], ignore_index=True))


def same(left, right) -> bool:
    """Equal structures; floats equal to 1e-12 (sums added in another order)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            same(left[k], right[k]) for k in left
        )
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same, left, right))
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12)
    return left == right


class Killed(BaseException):
    """Stands for SIGKILL: no `except Exception` handler runs."""


def test_a_process_killed_mid_append_leaves_the_revision_absent(events, monkeypatch):
    """The batch's records are written, then the process dies while writing its
    roll-ups: the views and the revision stay as before; once the dead append's
    lease is stale, sending the batch again appends it exactly once."""
    client, user, frame, dataset_id, services = events
    before = kpi_view(client, user, dataset_id)
    revision = client.get(
        f"/api/datasets/{dataset_id}", headers=user["headers"]
    ).get_json()["revision"]
    real = repository.insert_many

    def dying_insert(db, collection, documents):
        real(db, collection, documents)
        if collection == repository.ROLLUPS:
            raise Killed

    monkeypatch.setattr(repository, "insert_many", dying_insert)
    batch = new_events(seed=40)
    with pytest.raises(Killed):
        post_batch(client, user, dataset_id, "k-1", as_records(batch))
    monkeypatch.setattr(repository, "insert_many", real)

    assert services.mongo.records.count_documents({"r": revision + 1}) == len(batch)
    assert values(kpi_view(client, user, dataset_id)) == values(before)
    shown = client.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    assert shown.get_json()["revision"] == revision
    wait_for_lease_to_go_stale(services, dataset_id)
    retried = post_batch(client, user, dataset_id, "k-1", as_records(batch))
    assert retried.status_code == 201, retried.get_json()
    assert retried.get_json()["revision"] == revision + 1
    assert_oracle(
        kpi_view(client, user, dataset_id), pd.concat([frame, batch], ignore_index=True)
    )


def wait_for_lease_to_go_stale(services, dataset_id: str) -> None:
    """Sleep until the dead append's lease (append_lease_s = 0.5) is older than that."""
    document = services.mongo.datasets.find_one({"datasetId": dataset_id})
    held = document["appendLease"]["at"]
    held = held if held.tzinfo else held.replace(tzinfo=dt.UTC)
    while repository.now() - held <= dt.timedelta(seconds=0.6):
        time.sleep(0.1)


def test_a_rebuild_from_the_object_store_replays_the_committed_batches(
    make_app, new_user, tmp_path, monkeypatch
):
    """The in-process engine forgets everything on restart: the next start rebuilds
    the version from its file plus its committed batches (not a dead attempt's),
    and a batch id already appended is still answered as a duplicate."""
    store = str(tmp_path / "shared-store")
    first = make_app(ingest_mode="inline", local_store_dir=store, append_lease_s=0.5)
    client = first.server.test_client()
    user = new_user(client)
    frame = small_events(events=800, days=12, seed=6)
    dataset_id = upload_events(client, user, frame)
    batches = [new_events(seed=50 + i, count=30) for i in range(2)]
    for index, batch in enumerate(batches):
        sent = post_batch(client, user, dataset_id, f"r-{index}", as_records(batch))
        assert sent.status_code == 201, sent.get_json()
    expected = values(kpi_view(client, user, dataset_id))
    real = repository.insert_many

    def dying_insert(db, collection, documents):
        real(db, collection, documents)
        raise Killed

    monkeypatch.setattr(repository, "insert_many", dying_insert)
    with pytest.raises(Killed):  # its batch file is stored, never committed
        post_batch(client, user, dataset_id, "dead", as_records(new_events(59, 9)))
    monkeypatch.setattr(repository, "insert_many", real)

    second = make_app(ingest_mode="inline", local_store_dir=store)
    again = second.server.test_client()
    wait_for_status(
        lambda: again.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
        .get_json(),
        READABLE,
    )  # fmt: skip
    assert same(values(kpi_view(again, user, dataset_id)), expected)
    assert_oracle(
        kpi_view(again, user, dataset_id),
        pd.concat([frame, *batches], ignore_index=True),
    )
    replay = post_batch(again, user, dataset_id, "r-1", as_records(batches[1]))
    assert replay.status_code == 200 and replay.get_json()["duplicate"] is True
