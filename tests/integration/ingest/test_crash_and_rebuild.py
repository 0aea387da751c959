"""A worker killed mid-way leaves nothing readable and reprocessing completes; a
superseded run cleans up after itself; datasets come back from the object store."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import boto3
import pandas as pd
import pytest

from data import datasets, worker
from data.errors import Conflict
from data.ingest import lifecycle, processing, repository
from tests.integration.ingest.conftest import READABLE, wait_for_status

OWNER = "owner-a"
ROWS = 1000


class SimulatedKill(BaseException):
    """Like SIGKILL: not an Exception, so no except-clause of ours cleans up."""


def numbered_csv(rows: int = ROWS) -> bytes:
    start = pd.Timestamp("2024-01-01")
    lines = ["time,value,shop"] + [
        f"{(start + pd.Timedelta(hours=i)).isoformat()},{i * 1.5},{'ab'[i % 2]}"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def kill_after(monkeypatch, record_batches: int):
    """Make the run die after writing `record_batches` chunks of records."""
    real = repository.insert_many
    calls = {"records": 0}

    def insert_many(db, collection, documents):
        if collection == repository.RECORDS:
            if calls["records"] == record_batches:
                raise SimulatedKill()
            calls["records"] += 1
        real(db, collection, documents)

    monkeypatch.setattr(repository, "insert_many", insert_many)


def upload_killed_after(services, monkeypatch, record_batches: int) -> str:
    """Upload the numbered CSV with a run that dies after `record_batches` chunks
    of records (the patch is undone afterwards); returns the dataset id."""
    kill_after(monkeypatch, record_batches)
    with pytest.raises(SimulatedKill):
        datasets.upload_dataset(
            services, OWNER, io.BytesIO(numbered_csv()), dataset_name="crash"
        )
    monkeypatch.undo()
    return datasets.list_datasets(services, OWNER)[0]["id"]


def age_heartbeat(services, dataset_id: str, version: int = 1) -> None:
    old = repository.now() - dt.timedelta(hours=1)
    services.mongo.datasets.update_one(
        {"_id": repository.version_id(dataset_id, version)},
        {"$set": {"heartbeatAt": old}},
    )


def assert_complete(services, dataset_id: str, revision: int) -> None:
    """Every row exactly once, from one revision, and roll-ups that add up."""
    stored = list(services.mongo.records.find({"datasetId": dataset_id}))
    assert sorted(r["row"] for r in stored) == list(range(1, ROWS + 1))
    assert {r["r"] for r in stored} == {revision}
    months = services.mongo.rollups.find({"datasetId": dataset_id, "g": "day"})
    assert sum(m["rows"] for m in months) == ROWS
    total = sum(d["s"]["c1"] for d in services.mongo.rollups.find(
        {"datasetId": dataset_id, "g": "month"}
    ))  # fmt: skip
    assert total == pytest.approx(sum(i * 1.5 for i in range(ROWS)))


@pytest.fixture
def small_chunks(make_app, services_of):
    app = make_app(ingest_mode="inline", ingest_chunk_rows=100)
    with app.server.app_context():
        yield services_of(app), app


def test_killed_worker_leaves_nothing_readable_and_reprocess_completes(
    small_chunks, monkeypatch
):
    services, _ = small_chunks
    dataset_id = upload_killed_after(services, monkeypatch, 3)
    view = datasets.get_dataset(services, OWNER, dataset_id)
    assert view["status"] == "processing"  # never processed with partial data
    assert services.mongo.records.count_documents({"datasetId": dataset_id}) == 300
    assert view["progress"]["rowsDone"] == 400 and not view["progress"]["stalled"]
    with pytest.raises(Conflict):
        datasets.reprocess_dataset(services, OWNER, dataset_id)
    age_heartbeat(services, dataset_id)
    assert datasets.get_progress(services, OWNER, dataset_id)["stalled"]
    done = datasets.reprocess_dataset(services, OWNER, dataset_id)
    assert done["status"] in READABLE and done["rowCount"] == ROWS
    assert_complete(services, dataset_id, done["revision"])


def test_start_up_recovery_requeues_stale_and_lost_versions(small_chunks, monkeypatch):
    services, _ = small_chunks
    dataset_id = upload_killed_after(services, monkeypatch, 2)
    assert lifecycle.requeue_pending(services) == 0  # the run still looks alive
    age_heartbeat(services, dataset_id)
    assert lifecycle.requeue_pending(services) == 1
    view = datasets.get_dataset(services, OWNER, dataset_id)
    assert view["status"] in READABLE
    assert_complete(services, dataset_id, view["revision"])


def test_the_workers_sweeper_completes_a_dead_run_without_a_restart(
    small_chunks, monkeypatch
):
    services, _ = small_chunks
    dataset_id = upload_killed_after(services, monkeypatch, 2)
    queued = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv(10)), dataset_name="queued"
    )
    services.mongo.datasets.update_one(  # as if its job were still on the queue
        {"datasetId": queued["id"]}, {"$set": {"status": "uploaded"}}
    )
    assert lifecycle.requeue_pending(services, stale_only=True) == 0  # alive
    age_heartbeat(services, dataset_id)
    sweeper = worker.StaleSweeper(services, interval=0.01)
    sweeper.start()
    try:
        view = wait_for_status(
            lambda: datasets.get_dataset(services, OWNER, dataset_id), READABLE
        )
    finally:
        sweeper.stop()
    assert not sweeper.is_alive() and sweeper.sweeps >= 1
    assert_complete(services, dataset_id, view["revision"])
    # The sweep leaves versions that wait on the queue alone.
    assert datasets.get_dataset(services, OWNER, queued["id"])["status"] == "uploaded"


def test_a_superseded_run_stops_and_removes_only_its_own_writes(
    small_chunks, monkeypatch
):
    """A reprocess that takes over mid-run wins; the old run's rows disappear."""
    services, _ = small_chunks
    real = repository.insert_many
    state = {"batches": 0}

    def insert_many(db, collection, documents):
        real(db, collection, documents)
        if collection == repository.RECORDS:
            state["batches"] += 1
            if state["batches"] == 2:  # a second run claims the version and finishes
                doc_id = repository.version_id(documents[0]["datasetId"], 1)
                db.datasets.update_one(
                    {"_id": doc_id}, {"$set": {"status": "uploaded"}}
                )
                assert (
                    processing.process_version(
                        services, OWNER, documents[0]["datasetId"], 1
                    )
                    == "processed"
                )

    monkeypatch.setattr(repository, "insert_many", insert_many)
    view = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv()), dataset_name="race"
    )
    assert view["status"] in READABLE and view["revision"] == 2
    assert_complete(services, view["id"], 2)


def test_processing_twice_is_a_no_op(small_chunks):
    services, _ = small_chunks
    view = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv()), dataset_name="twice"
    )
    assert processing.process_version(services, OWNER, view["id"], 1) == "skipped"
    assert_complete(services, view["id"], 1)


def upload_three_versions(services) -> str:
    first = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv(20)), dataset_name="Rebuild me"
    )
    for rows in (30, 40):
        datasets.upload_dataset(
            services, OWNER, io.BytesIO(numbered_csv(rows)), dataset_name="Rebuild me"
        )
    doomed = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv(5)), dataset_name="Deleted"
    )
    datasets.delete_dataset(services, OWNER, doomed["id"])
    return first["id"]


def assert_rebuilt(services, dataset_id: str) -> None:
    (listed,) = datasets.list_datasets(services, OWNER)  # the deleted one stays gone
    assert listed["id"] == dataset_id
    versions = listed["versions"]
    assert [(v["version"], v["rowCount"]) for v in versions] == [
        (1, 20),
        (2, 30),
        (3, 40),
    ]
    assert all(v["status"] in READABLE for v in versions)
    view = datasets.get_dataset(services, OWNER, dataset_id, 2)
    assert view["statusHistory"][1]["message"] == "rebuilt from object storage"
    assert services.mongo.records.count_documents({"datasetId": dataset_id}) == 90


def test_rebuild_from_the_local_store_at_start_up(make_app, services_of, tmp_path):
    store = str(tmp_path / "shared-store")
    first = make_app(ingest_mode="inline", local_store_dir=store)
    with first.server.app_context():
        dataset_id = upload_three_versions(services_of(first))
    second = make_app(ingest_mode="inline", local_store_dir=store)
    with second.server.app_context():
        assert_rebuilt(services_of(second), dataset_id)


def test_rebuild_from_s3_at_start_up(make_app, services_of, s3_endpoint):
    bucket = f"ib-ingest-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    settings = {
        "ingest_mode": "inline",
        "s3_bucket": bucket,
        "s3_endpoint_url": s3_endpoint,
    }
    first = make_app(**settings)
    with first.server.app_context():
        dataset_id = upload_three_versions(services_of(first))
    second = make_app(**settings)
    with second.server.app_context():
        assert_rebuilt(services_of(second), dataset_id)


def test_rebuild_ignores_meta_files_that_do_not_match_their_place(
    make_app, services_of, tmp_path
):
    store = str(tmp_path / "store")
    first = make_app(ingest_mode="inline", local_store_dir=store)
    services = services_of(first)
    view = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv(10)), dataset_name="x"
    )
    key = lifecycle.meta_key(
        datasets.find_version_document(services, OWNER, view["id"])["objectKey"]
    )
    meta = json.loads(services.store.get(key))
    meta["userId"] = "intruder"
    services.store.put(key, io.BytesIO(json.dumps(meta).encode()))
    second = make_app(ingest_mode="inline", local_store_dir=store)
    assert datasets.list_datasets(services_of(second), OWNER) == []
    assert datasets.list_datasets(services_of(second), "intruder") == []


def test_a_late_run_never_removes_a_newer_runs_records_or_sets_the_status(
    small_chunks, monkeypatch
):
    """Run 1 is presumed dead just before its final cleanup; run 2 claims the
    version and completes; run 1 then wakes up and finishes its job."""
    services, _ = small_chunks
    real = repository.delete_older_revisions
    calls = {"run 1": 0}
    takeover = {}

    def delete_older_revisions(db, dataset_id, version, revision):
        if revision == 1:
            calls["run 1"] += 1
            if calls["run 1"] == 2:  # run 1's final cleanup: run 2 overtakes it
                age_heartbeat(services, dataset_id, version)
                takeover["status"] = processing.process_version(
                    services, OWNER, dataset_id, version
                )
        return real(db, dataset_id, version, revision)

    monkeypatch.setattr(repository, "delete_older_revisions", delete_older_revisions)
    view = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv()), dataset_name="late"
    )
    assert takeover == {"status": "processed"}
    assert view["revision"] == 2 and view["status"] in READABLE
    assert_complete(services, view["id"], 2)
    history = [entry["status"] for entry in view["statusHistory"]]
    assert history[:4] == ["uploaded", "processing", "processing", "processed"]
    assert history.count("processed") == 1


def test_a_run_superseded_after_its_last_write_leaves_the_new_run_alone(
    small_chunks, monkeypatch
):
    """Run 1 wrote its last roll-up batch, run 2 took over meanwhile; run 1 removes
    only its own documents and sets no status."""
    services, _ = small_chunks
    real = repository.insert_many
    takeover = {}

    def insert_many(db, collection, documents):
        real(db, collection, documents)
        first = documents[0]
        first_run = collection == repository.ROLLUPS and first["r"] == 1
        if first_run and not takeover and first["g"] == "month":
            # run 1's last roll-up batch
            age_heartbeat(services, first["datasetId"])
            takeover["status"] = processing.process_version(
                services, OWNER, first["datasetId"], 1
            )

    monkeypatch.setattr(repository, "insert_many", insert_many)
    view = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv()), dataset_name="late"
    )
    assert takeover == {"status": "processed"}
    assert view["revision"] == 2 and view["status"] in READABLE
    assert_complete(services, view["id"], 2)
    assert [entry["status"] for entry in view["statusHistory"]].count("processed") == 1


def test_rollups_are_written_batch_by_batch_each_after_an_ownership_check(
    small_chunks, monkeypatch
):
    """Never every roll-up in one list (memory): one batch per granularity here,
    each preceded by a heartbeat that would stop a superseded run."""
    services, _ = small_chunks
    calls = []
    real_insert, real_beat = repository.insert_many, repository.heartbeat

    def insert_many(db, collection, documents):
        calls.append((collection, {d.get("g") for d in documents}))
        real_insert(db, collection, documents)

    def heartbeat(*args):
        calls.append(("heartbeat", None))
        return real_beat(*args)

    monkeypatch.setattr(repository, "insert_many", insert_many)
    monkeypatch.setattr(repository, "heartbeat", heartbeat)
    view = datasets.upload_dataset(
        services, OWNER, io.BytesIO(numbered_csv()), dataset_name="batches"
    )
    assert view["status"] in READABLE
    rollup_calls = [i for i, (name, _) in enumerate(calls) if name == "rollups"]
    assert [calls[i][1] for i in rollup_calls] == [
        {"hour"}, {"day"}, {"week"}, {"month"},
    ]  # fmt: skip
    assert all(calls[i - 1][0] == "heartbeat" for i in rollup_calls)
    assert_complete(services, view["id"], 1)
