"""The app survives its dependencies failing: Redis killed and restarted under
load, PostgreSQL restarted, the object store down, MongoDB unreachable. Each
failure is a clean 503 (or nothing at all, where a cache can answer) and the app
recovers without a restart. Only this test run's own servers are stopped."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import redis as redis_client
from moto.server import ThreadedMotoServer

from data import mongo
from tests.api_calls import post_file, upload_sample
from tests.services import RedisServer, ThrowawayPostgres, free_port

CREDENTIALS = {"email": "faults@example.com", "password": "a long enough password"}


def services_of(app):
    return app.server.extensions["insightboard"]


def assert_unavailable(response) -> None:
    """A clean 503 with the JSON error shape (never a 500 or a stack trace)."""
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "service_unavailable"


@pytest.fixture(scope="module")
def throwaway_postgres():
    """A private cluster this module may stop and start."""
    server = ThrowawayPostgres().create()
    yield server
    server.destroy()


def test_postgresql_restart_is_503_for_the_gap_then_recovers(
    make_app, throwaway_postgres, new_user
):
    app = make_app(database_url=f"{throwaway_postgres.url}/ib_fault")
    client = app.server.test_client()
    user = new_user(client)
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200
    throwaway_postgres.stop()
    try:
        assert_unavailable(client.post("/api/auth/login", json=CREDENTIALS))
        assert_unavailable(client.post("/api/auth/register", json=CREDENTIALS))
        # A signed-in caller's identity comes from the session cache meanwhile.
        assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200
        assert client.get("/readyz").status_code == 503
    finally:
        throwaway_postgres.start()
    # The same app, no restart: the pool drops the cut connections and reconnects.
    assert client.post("/api/auth/register", json=CREDENTIALS).status_code == 201
    assert client.post("/api/auth/login", json=CREDENTIALS).status_code == 200
    assert client.get("/readyz").status_code == 200


def read_views_until(stop: threading.Event, app, headers, path) -> list[int]:
    """GET path in a loop until told to stop; the statuses seen."""
    client, statuses = app.server.test_client(), []
    while not stop.is_set():
        statuses.append(client.get(path, headers=headers).status_code)
    return statuses


def test_redis_killed_and_restarted_under_load_loses_no_request(make_app, new_user):
    redis = RedisServer().start()
    try:
        app = make_app(redis_url=redis.url, ingest_mode="inline")
        client = app.server.test_client()
        user = new_user(client)
        dataset_id = upload_sample(client, user)
        path = f"/api/analytics/{dataset_id}"
        stop = threading.Event()
        with ThreadPoolExecutor(4) as pool:
            readers = [
                pool.submit(read_views_until, stop, app, user["headers"], path)
                for _ in range(4)
            ]
            time.sleep(0.5)
            redis.stop()  # killed: every cache read is now a miss, computed instead
            time.sleep(1.5)
            redis = RedisServer(port=redis.port).start()  # empty, same address
            time.sleep(1.0)
            stop.set()
            statuses = [status for reader in readers for status in reader.result()]
        assert statuses and set(statuses) == {200}, set(statuses)
        # Caching resumes without a restart: the next view is written to Redis
        # (another one: this process keeps the bodies it served lately itself).
        weekly = f"{path}?granularity=week"
        assert client.get(weekly, headers=user["headers"]).status_code == 200
        keys = redis_client.Redis.from_url(redis.url).keys("insightboard:analytics:*")
        assert keys
    finally:
        redis.stop()


@pytest.fixture
def own_s3():
    """A moto S3 server of this test alone (so stopping it harms no one)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket="faults")
    state = {"endpoint": endpoint, "server": server, "running": True}
    yield state
    if state["running"]:
        server.stop()


def test_object_store_down_refuses_uploads_and_still_serves_cached_views(
    make_app, own_s3, new_user, monkeypatch
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    app = make_app(
        s3_bucket="faults", s3_endpoint_url=own_s3["endpoint"], ingest_mode="inline"
    )
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    view = client.get(f"/api/analytics/{dataset_id}", headers=user["headers"])
    assert view.status_code == 200
    datasets = services_of(app).mongo.datasets
    before = list(datasets.find({}, {"_id": 1, "status": 1}))
    own_s3["server"].stop()
    own_s3["running"] = False
    data = b"date,revenue\n2024-02-01,5\n2024-02-02,6\n2024-02-03,7\n"
    assert_unavailable(post_file(client, user, data, datasetName="Second"))
    assert_unavailable(post_file(client, user, data, datasetName="Sales"))
    # Nothing half-written: no new dataset or version document.
    assert list(datasets.find({}, {"_id": 1, "status": 1})) == before
    again = client.get(f"/api/analytics/{dataset_id}", headers=user["headers"])
    assert again.status_code == 200 and again.get_json() == view.get_json()


def test_mongodb_unreachable_is_503_within_the_timeout_and_recovers(make_app, new_user):
    """MONGO_URI at a closed port: the driver gives up after the configured
    timeout and the answer is a 503. (No MongoDB server runs here, so the engine is
    swapped for a real client of the closed port and back: what a server coming
    back looks like to pymongo, which reconnects by itself, is not tested.)"""
    app = make_app()
    client = app.server.test_client()
    user = new_user(client)
    services = services_of(app)
    in_process = services.mongo
    settings = services.settings.model_copy(
        update={
            "mongo_uri": f"mongodb://127.0.0.1:{free_port()}",
            "mongo_timeout_ms": 300,
        }
    )
    services.mongo = mongo.connect(settings)
    try:
        assert_unavailable(client.get("/api/datasets", headers=user["headers"]))
        assert client.get("/readyz").status_code == 503
    finally:
        services.mongo.client.close()
        services.mongo = in_process
    assert client.get("/api/datasets", headers=user["headers"]).status_code == 200
