"""Health endpoints against real dependencies, and what an outage looks like."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import psycopg2
import pytest

from data import postgres
from data.cache import cache_get, cache_set
from tests.conftest import POSTGRES_SERVER
from tests.services import RedisServer, free_port

PAGE_ROUTER = {
    "output": ".._pages_content.children..._pages_store.data..",
    "outputs": [
        {"id": "_pages_content", "property": "children"},
        {"id": "_pages_store", "property": "data"},
    ],
    "changedPropIds": ["_pages_location.pathname"],
    "state": [],
}


def render_page(client, path: str):
    """Ask Dash's page router for a page, as the browser does after loading /."""
    assert client.get("/").status_code == 200  # the router registers on first load
    body = {
        **PAGE_ROUTER,
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
    }
    return client.post("/_dash-update-component", json=body)


def readiness(client) -> tuple[int, dict]:
    """Status code and JSON body of /readyz."""
    response = client.get("/readyz")
    return response.status_code, response.get_json()


def test_readyz_reports_real_postgres_and_redis_up_with_latency(make_app, redis_server):
    client = make_app(redis_url=redis_server.url).server.test_client()
    status, body = readiness(client)
    assert status == 200 and body["status"] == "ready"
    dependencies = body["dependencies"]
    for name in ("postgres", "redis", "mongodb", "object_store"):
        assert dependencies[name]["status"] == "up", dependencies[name]
        assert isinstance(dependencies[name]["latency_ms"], int | float)
        assert dependencies[name]["latency_ms"] >= 0
    assert dependencies["postgres"]["required"] is True
    assert dependencies["redis"]["required"] is False
    assert dependencies["mongodb"]["engine"] == "in-process"
    assert dependencies["object_store"]["backend"] == "local"


def test_redis_not_configured_is_reported_and_ready(client):
    status, body = readiness(client)
    assert status == 200
    assert body["dependencies"]["redis"] == {
        "status": "not configured",
        "required": False,
    }


def test_redis_on_a_closed_port_is_down_but_pages_still_render(make_app):
    app = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = app.server.test_client()
    status, body = readiness(client)
    redis_report = body["dependencies"]["redis"]
    assert redis_report["status"] == "down"
    assert "ConnectionError" in redis_report["error"]
    # Redis is optional: the app stays ready and every page still answers.
    assert status == 200 and body["status"] == "ready"
    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    page = render_page(client, "/")
    assert page.status_code == 200
    assert "home-page" in page.get_data(as_text=True)


def test_cache_reads_and_writes_degrade_when_redis_is_down(make_app):
    app = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with app.server.app_context():
        assert cache_set("analytics:a:1:1:revenue:h", {"mean": 1.0}) is False
        assert cache_get("analytics:a:1:1:revenue:h") is None


def test_cache_resumes_when_redis_comes_back_without_a_restart(make_app):
    redis_server = RedisServer().start()
    try:
        app = make_app(redis_url=redis_server.url)
        with app.server.app_context():
            assert cache_set("analytics:b:1:1:revenue:h", [1, 2]) is True
            redis_server.stop()
            assert cache_get("analytics:b:1:1:revenue:h") is None
            redis_server = RedisServer(port=redis_server.port).start()
            assert cache_set("analytics:b:1:1:revenue:h", [3]) is True
            assert cache_get("analytics:b:1:1:revenue:h") == [3]
    finally:
        redis_server.stop()


@pytest.fixture
def bucket(s3_endpoint):
    """A fresh bucket on the moto S3 server."""
    name = f"ib-health-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=name
    )
    return name


def test_object_store_on_s3_is_reported_up(make_app, s3_endpoint, bucket):
    client = make_app(s3_bucket=bucket, s3_endpoint_url=s3_endpoint).server
    status, body = readiness(client.test_client())
    assert status == 200
    assert body["dependencies"]["object_store"]["status"] == "up"
    assert body["dependencies"]["object_store"]["backend"] == "s3"


def test_missing_bucket_makes_the_app_unready_but_alive(make_app, s3_endpoint):
    missing = f"ib-missing-{uuid.uuid4().hex[:10]}"
    client = make_app(s3_bucket=missing, s3_endpoint_url=s3_endpoint).server
    client = client.test_client()
    status, body = readiness(client)
    assert status == 503 and body["status"] == "unavailable"
    store = body["dependencies"]["object_store"]
    assert store["status"] == "down" and store["required"] is True
    assert "404" in store["error"] or "NoSuchBucket" in store["error"]
    assert body["dependencies"]["postgres"]["status"] == "up"
    # Liveness never consults dependencies, so the orchestrator does not restart us.
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def own_database_url():
    """A database of its own, so that cutting its connections touches nobody else."""
    url = f"{POSTGRES_SERVER}/ib_health_{uuid.uuid4().hex[:12]}"
    postgres.ensure_database(url)
    yield url
    postgres.drop_database(url)


def _terminate_connections(database_url: str) -> int:
    name = psycopg2.extensions.parse_dsn(database_url)["dbname"]
    admin = psycopg2.connect(f"{POSTGRES_SERVER}/postgres")
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(
                "SELECT array_agg(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            victims = cursor.fetchone()[0] or []
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid",
                (victims,),
            )
            # The signal is sent, not yet obeyed: wait until those backends have
            # gone (on a loaded machine one may still answer the next query).
            deadline = time.monotonic() + 10
            while victims and time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)",
                    (victims,),
                )
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
            return len(victims)
    finally:
        admin.close()


def test_postgres_connection_loss_costs_no_failed_request(make_app, own_database_url):
    """Pooled connections the server cut are dropped at checkout and replaced, so
    the next request succeeds (a server that is down: tests/integration/
    test_faults.py, 503 for the gap)."""
    client = make_app(database_url=own_database_url).server.test_client()
    assert readiness(client)[0] == 200
    assert _terminate_connections(own_database_url) >= 1
    for _ in range(2):
        status, body = readiness(client)
        assert status == 200, json.dumps(body)
        assert body["dependencies"]["postgres"]["status"] == "up"
