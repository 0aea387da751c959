"""Background processing: RQ on a real Redis (in-process worker thread, or the
worker process's code path), the thread runner, and Redis outages."""

from __future__ import annotations

import io

import redis
from rq import Queue, SimpleWorker

from data import datasets
from data.ingest import jobs, lifecycle
from tests.integration.ingest.conftest import READABLE, wait_for_status
from tests.services import free_port

OWNER = "owner-a"


def upload(services, data: bytes, name="Sales"):
    return datasets.upload_dataset(services, OWNER, io.BytesIO(data), dataset_name=name)


def reader(services, dataset_id):
    return lambda: datasets.get_dataset(services, OWNER, dataset_id)


def test_without_redis_a_background_thread_processes_uploads(
    app, services_of, sample_bytes
):
    services = services_of(app)
    assert lifecycle.runner_of(services).mode == "thread"
    view = upload(services, sample_bytes)
    assert view["status"] in ("uploaded", "processing", *READABLE)
    done = wait_for_status(reader(services, view["id"]))
    assert done["status"] in READABLE and done["rowCount"] == 7


def test_rq_local_mode_runs_jobs_from_a_private_redis_queue(
    make_app, services_of, redis_server, sample_bytes
):
    app = make_app(redis_url=redis_server.url)
    services = services_of(app)
    runner = lifecycle.runner_of(services)
    assert runner.mode == "rq-local" and runner.queue.name.startswith("ingest-local-")
    view = upload(services, sample_bytes)
    done = wait_for_status(reader(services, view["id"]))
    assert done["status"] in READABLE and done["rowCount"] == 7
    registry = runner.queue.finished_job_registry
    wait_for_status(
        lambda: {"status": "done" if registry.count else "running"}, ("done",)
    )
    keys = [runner.queue.key, registry.key]
    runner.stop()  # what closing the app does
    connection = redis.Redis.from_url(redis_server.url)
    assert not connection.exists(*keys)
    assert runner.queue.key.encode() not in connection.smembers("rq:queues")


def test_rq_mode_queues_jobs_for_the_worker_process(
    make_app, services_of, redis_server, sample_bytes
):
    """The web app only enqueues; data.worker's code path runs the job."""
    app = make_app(
        redis_url=redis_server.url, ingest_mode="rq", ingest_queue="ingest-t"
    )
    services = services_of(app)
    view = upload(services, sample_bytes)
    assert view["status"] == "uploaded"
    connection = jobs.rq_connection(redis_server.url)
    queue = Queue("ingest-t", connection=connection)
    assert queue.count == 1
    jobs.register_worker_context(services, app.server)
    SimpleWorker([queue], connection=connection).work(burst=True)
    done = datasets.get_dataset(services, OWNER, view["id"])
    assert done["status"] in READABLE and done["rowCount"] == 7
    assert queue.count == 0


def test_a_redis_outage_falls_back_to_in_process_processing(
    make_app, services_of, sample_bytes
):
    app = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0", ingest_mode="rq")
    services = services_of(app)
    view = upload(services, sample_bytes)
    done = wait_for_status(reader(services, view["id"]))
    assert done["status"] in READABLE
