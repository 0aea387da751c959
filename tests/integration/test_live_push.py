"""The live push (issue 14): a WebSocket per page, admitted by the request guard's
socket checks (session, Origin, own dataset), one room per dataset, an event of
ids + revision per change (at most one per dataset per second), nothing while idle,
and fan-out across two app processes through Redis."""

from __future__ import annotations

import json
import os
import queue
import threading
import time

import pytest
import socketio
import websocket
from werkzeug.serving import make_server

from api.live import RevisionPublisher
from tests.alerts_data import VALUES, above_rule, upload_series
from tests.dash_calls import sign_in_form
from tests.integration.ingest.test_append_records import as_records, new_events
from tests.kpi_data import small_events, upload_events

PASSWORD = "a long enough password"


class Served:
    """An app served over real HTTP by a threaded Werkzeug server."""

    def __init__(self, app) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app.server, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def served(make_app, new_user):
    """(served app, signed-in user with a session cookie, dataset id)."""
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client, password=PASSWORD)
    browser = app.server.test_client()
    sign_in_form(browser, app, user["email"], PASSWORD)
    user["cookie"] = f"session={browser.get_cookie('session').value}"
    dataset_id = upload_events(client, user, small_events(events=600, days=5))
    running = Served(app)
    yield running, user, dataset_id
    running.stop()


class Listener:
    """A Socket.IO client (WebSocket transport, like the page) that queues events
    (`revision`, or the shell socket's `alerts`)."""

    def __init__(self, event: str = "revision") -> None:
        self.client = socketio.Client(reconnection=False)
        self.events: queue.Queue = queue.Queue()
        self.client.on(event, self.events.put)

    def connect(
        self, url: str, datasets: list[str], headers: dict, auth: dict | None = None
    ) -> Listener:
        self.client.connect(
            url,
            headers=headers,
            auth=auth or {"datasets": datasets},
            transports=["websocket"],
            socketio_path="socket.io",
            wait_timeout=10,
        )
        return self

    def next(self, timeout: float = 10.0) -> dict:
        """The next event (waiting up to `timeout` seconds for it)."""
        return self.events.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()


def append(app, user, dataset_id: str, batch_id: str, seed: int) -> dict:
    response = app.server.test_client().post(
        f"/api/datasets/{dataset_id}/records",
        json={"batchId": batch_id, "records": as_records(new_events(seed, 10))},
        headers=user["headers"],
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_page_socket_hears_each_new_revision_and_nothing_else(served):
    """On connecting the page hears where its dataset stands; after an append, the
    new revision (ids, revision and status only); then nothing while idle."""
    running, user, dataset_id = served
    # websocket-client sends the server's own origin, as a page would.
    listener = Listener().connect(running.url, [dataset_id], {"Cookie": user["cookie"]})
    try:
        current = listener.next()
        assert set(current) == {"datasetId", "version", "revision", "status"}
        assert current["datasetId"] == dataset_id
        appended = append(running.app, user, dataset_id, "live-1", seed=3)
        event = listener.next()
        while event["revision"] < appended["revision"]:  # the upload's last steps
            event = listener.next()
        assert event == {
            "datasetId": dataset_id,
            "version": appended["version"],
            "revision": appended["revision"],
            "status": current["status"],
        }
        assert event["revision"] == current["revision"] + 1
        time.sleep(3)  # idle: the keep-alive travels, no event
        assert listener.events.empty()
    finally:
        listener.close()


def handshake(
    url: str,
    origin: str,
    cookie: str | None,
    datasets: list,
    pathname: str = "/",
    **extra,
) -> str:
    """A page's Socket.IO handshake by hand (Engine.IO 4 over a WebSocket): the
    server's answer to the connect packet, '40{...}' admitted, '44{...}' refused."""
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    connection = websocket.create_connection(
        ws_url, origin=origin, cookie=cookie, timeout=10
    )
    try:
        assert str(connection.recv()).startswith("0")  # Engine.IO open
        auth = {"datasets": datasets, "pathname": pathname, **extra}
        connection.send("40" + json.dumps(auth))
        answer = str(connection.recv())
        while not answer.startswith(("40", "44")):  # events sent with the admission
            answer = str(connection.recv())
        return answer
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("no session", "Sign in"),
        ("foreign origin", "Cross-site"),
        ("foreign dataset", "No such dataset"),
        ("no dataset", "datasets to watch"),
    ],
)
def test_a_socket_is_refused(served, problem, message):
    running, user, dataset_id = served
    origin, cookie, datasets = running.url, user["cookie"], [dataset_id]
    assert handshake(running.url, origin, cookie, datasets).startswith("40")
    if problem == "no session":
        cookie = None
    elif problem == "foreign origin":
        origin = "https://evil.example"
    elif problem == "foreign dataset":
        datasets = ["f" * 32]
    else:
        datasets = []
    answer = handshake(running.url, origin, cookie, datasets)
    assert answer.startswith("44") and message in answer


def test_a_page_opened_through_a_share_link_may_watch_its_dataset(served, new_user):
    """No session: the share link of the page's path admits the socket to the
    link's dataset only, and not once the link is revoked."""
    running, user, dataset_id = served
    client = running.app.server.test_client()
    created = client.post(
        "/api/shares",
        json={"datasetId": dataset_id, "page": "kpi", "query": {}},
        headers=user["headers"],
    )
    assert created.status_code == 201, created.get_json()
    path = "/share/" + created.get_json()["url"].rsplit("/share/", 1)[1]
    own = running.url
    assert handshake(own, own, None, [dataset_id], path).startswith("40")
    other = upload_events(client, user, small_events(events=200, days=2), "Other")
    refused = handshake(own, own, None, [other], path)
    assert refused.startswith("44") and "No such dataset" in refused
    revoked = client.delete(
        f"/api/shares/{created.get_json()['id']}", headers=user["headers"]
    )
    assert revoked.status_code == 204
    assert handshake(own, own, None, [dataset_id], path).startswith("44")


def alerts_listener(running, headers: dict, shown: int = 0) -> Listener:
    """The signed-in shell's socket, on a page built with `shown` firing."""
    auth = {"alerts": True, "shown": shown}
    return Listener("alerts").connect(running.url, [], headers, auth)


def share_path(client, user, dataset_id: str) -> str:
    """The path of a new share link to the dataset's KPI page."""
    created = client.post(
        "/api/shares",
        json={"datasetId": dataset_id, "page": "kpi", "query": {}},
        headers=user["headers"],
    )
    assert created.status_code == 201, created.get_json()
    return "/share/" + created.get_json()["url"].rsplit("/share/", 1)[1]


def watched_rule(client, user) -> str:
    """A rule (not firing) on a fresh daily series; the series' dataset id."""
    dataset_id = upload_series(client, user, VALUES[:3], name="Sensor")
    created = client.post(
        "/api/alerts", json=above_rule(dataset_id), headers=user["headers"]
    )
    assert created.status_code == 201 and created.get_json()["state"] == "ok"
    return dataset_id


def fire(client, user, dataset_id: str) -> None:
    """Append day 4 (120, above the threshold): the rule starts firing."""
    appended = client.post(
        f"/api/datasets/{dataset_id}/records",
        json={"batchId": "day-4", "records": [{"date": "2026-01-04", "value": 120}]},
        headers=user["headers"],
    )
    assert appended.status_code == 201, appended.get_json()


def test_a_rule_starting_to_fire_reaches_its_owners_sockets_only(served, new_user):
    """The owner's shell socket hears `alerts` (a marker, no data) when a rule of theirs
    starts firing; neither a share link's socket on that dataset nor another
    user's shell socket does: the other hears only their own rule's change
    (events on a socket arrive in order, so a leak would have come first)."""
    running, user, _ = served
    client = running.app.server.test_client()
    other = new_user(client)
    dataset_id = watched_rule(client, user)
    link_auth = {
        "datasets": [dataset_id],
        "pathname": share_path(client, user, dataset_id),
    }
    sockets = [
        alerts_listener(running, {"Cookie": user["cookie"]}),
        alerts_listener(running, other["headers"]),
        Listener("alerts").connect(running.url, [], {}, link_auth),
    ]
    owner_socket, other_socket, link_socket = sockets
    try:
        fire(client, user, dataset_id)
        assert set(owner_socket.next()) == {"change"}
        fire(client, other, watched_rule(client, other))
        assert set(other_socket.next()) == {"change"}
        assert other_socket.events.empty() and owner_socket.events.empty()
        assert link_socket.events.empty()
        # A page built before the change (0 firing) hears of it on connecting.
        late = alerts_listener(running, {"Cookie": user["cookie"]}, shown=0)
        sockets.append(late)
        assert set(late.next()) == {"change"}
    finally:
        for socket in sockets:
            socket.close()


def test_a_share_link_socket_may_not_watch_alerts(served):
    """A page opened through a share link shows one dataset, nothing of its
    owner's account: its socket is refused the owner's alerts."""
    running, user, dataset_id = served
    path = share_path(running.app.server.test_client(), user, dataset_id)
    own = running.url
    refused = handshake(own, own, None, [dataset_id], path, alerts=True)
    assert refused.startswith("44") and "no alerts" in refused
    admitted = handshake(own, own, user["cookie"], [], alerts=True)
    assert admitted.startswith("40")


def test_a_bearer_token_may_watch_too(served):
    """Programs watch with the same credential they append with."""
    running, user, dataset_id = served
    listener = Listener().connect(running.url, [dataset_id], user["headers"])
    try:
        assert listener.next()["datasetId"] == dataset_id
    finally:
        listener.close()


class RecordingSocket:
    """Stands for the Socket.IO server: records what would be emitted."""

    def __init__(self) -> None:
        self.emitted: list[tuple] = []

    def emit(self, event, data, to=None):
        self.emitted.append((event, data, to))


def test_changes_are_folded_into_at_most_one_event_per_second():
    """Five changes in a burst: the first is sent at once, the other four become
    one trailing event carrying the last revision; another dataset is separate."""
    sink = RecordingSocket()
    publisher = RevisionPublisher(sink, None)
    for revision in range(1, 6):
        publisher.changed("a" * 32, 1, revision, "processed")
    publisher.changed("b" * 32, 2, 7, "cached")
    assert [data["revision"] for _, data, _ in sink.emitted] == [1, 7]
    for timer in list(publisher.timers.values()):
        timer.join(5)
    revisions = [(to, data["revision"]) for _, data, to in sink.emitted]
    assert revisions == [
        (f"dataset:{'a' * 32}", 1),
        (f"dataset:{'b' * 32}", 7),
        (f"dataset:{'a' * 32}", 5),
    ]


def test_an_append_on_one_process_reaches_a_page_on_another(
    database_url, redis_server, tmp_path, new_user
):
    """Two app processes share Redis, PostgreSQL and the object store (the second
    rebuilds the dataset from it): a socket on B hears an append made through A."""
    from tests.integration.ingest.test_killed_process import call
    from tests.services import free_port, start_app_process, stop_process

    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "MONGO_URI", "S3_BUCKET", "APP_ENV")
    }
    environment.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_server.url,
        LOCAL_STORE_DIR=str(tmp_path / "objects"),
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        INGEST_MODE="inline",
        LOG_LEVEL="WARNING",
        REGISTER_RATE_LIMIT="1000/minute",
        LOGIN_RATE_LIMIT="1000/minute",
    )
    ports = [free_port(), free_port()]
    first = start_app_process({**environment, "PORT": str(ports[0])}, ports[0])
    processes = [first]
    listener = Listener()
    try:
        base_a = f"http://127.0.0.1:{ports[0]}"
        user = register_over_http(call, base_a)
        dataset_id = upload_over_http(base_a, user)
        second = start_app_process({**environment, "PORT": str(ports[1])}, ports[1])
        processes.append(second)
        base_b = f"http://127.0.0.1:{ports[1]}"
        wait_until_readable(call, base_b, user, dataset_id)
        listener.connect(base_b, [dataset_id], user["headers"])
        assert listener.next()["datasetId"] == dataset_id  # where it stands
        status, body = call(
            base_a,
            "POST",
            f"/api/datasets/{dataset_id}/records",
            json_bytes({"batchId": "fan-1", "records": as_records(new_events(5, 10))}),
            user["token"],
            {"Content-Type": "application/json"},
        )
        assert status == 201, body
        event = listener.next(timeout=20)
        while event["revision"] != body["revision"]:  # B's own processing steps
            event = listener.next(timeout=20)
        assert event["datasetId"] == dataset_id
    finally:
        listener.close() if listener.client.connected else None
        for process in processes:
            stop_process(process)


def json_bytes(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def register_over_http(call, base: str) -> dict:
    import uuid

    credentials = {
        "email": f"fan-{uuid.uuid4().hex[:8]}@example.com",
        "password": PASSWORD,
    }
    status, body = call(
        base, "POST", "/api/auth/register", json_bytes(credentials), None,
        {"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 201, body
    status, body = call(
        base, "POST", "/api/auth/login", json_bytes(credentials), None,
        {"Content-Type": "application/json"},
    )  # fmt: skip
    assert status == 200, body
    token = body["access_token"]
    return {"token": token, "headers": {"Authorization": f"Bearer {token}"}}


def upload_over_http(base: str, user: dict) -> str:
    import io

    import requests

    from data.demo_events import to_csv

    response = requests.post(
        f"{base}/api/datasets/upload",
        headers=user["headers"],
        data={"datasetName": "Events", "timeColumn": "timestamp",
              "metricColumn": "revenue", "dimensionColumn": "traffic_source"},
        files={"file": ("events.csv", io.BytesIO(to_csv(small_events(400, 5))))},
        timeout=60,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    return response.json()["id"]


def wait_until_readable(call, base: str, user: dict, dataset_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, body = call(
            base, "GET", f"/api/datasets/{dataset_id}", None, user["token"]
        )
        if status == 200 and body["status"] in ("processed", "cached"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{dataset_id} not readable on {base}: {status} {body}")
