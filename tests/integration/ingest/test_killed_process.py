"""A real SIGKILL, not a simulated one: the app process (in-process MongoDB engine,
local object store) is killed while a version is being written, or while batches
are being appended; started again, the version comes back complete from the object
store with no row missing or counted twice, and every batch whole or absent."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid

from tests.services import free_port, start_app_process, stop_process

ROWS = 200_000
PASSWORD = "a long enough password"


def big_csv() -> bytes:
    """One row per minute from 2024-01-01 with a region (two roll-up groups)."""
    lines = ["time,revenue,region"]
    for minute in range(ROWS):
        day, rest = divmod(minute, 1440)
        hour, mins = divmod(rest, 60)
        region = "north" if minute % 2 else "south"
        lines.append(
            f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T{hour:02d}:{mins:02d}:00,"
            f"{minute % 97},{region}"
        )
    return ("\n".join(lines) + "\n").encode()


def call(base: str, method: str, path: str, body=None, token=None, headers=None):
    """(status, JSON) of one API request."""
    request = urllib.request.Request(base + path, data=body, method=method)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def post_json(base: str, path: str, payload: dict):
    return call(
        base,
        "POST",
        path,
        json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )


def sign_in(base: str, email: str) -> str:
    status, body = post_json(
        base, "/api/auth/login", {"email": email, "password": PASSWORD}
    )
    assert status == 200, body
    return body["access_token"]


def upload(base: str, token: str, data: bytes) -> dict:
    boundary = uuid.uuid4().hex
    fields = {"datasetName": "Minutes", "timeColumn": "time", "metricColumn": "revenue"}
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n".encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="minutes.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, body = call(
        base,
        "POST",
        "/api/datasets/upload",
        b"".join(parts),
        token,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 202, body
    return body


def wait_for(read, done, timeout: float = 120.0, every: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if done(value):
            return value
        time.sleep(every)
    raise TimeoutError(f"last seen: {value}")


def app_environment(database_url: str, tmp_path, port: int, **extra: str) -> dict:
    """The environment of `python app.py` for these tests: the in-process engine,
    a local object store under tmp_path, a background ingest thread, no Redis."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "MONGO_URI", "S3_BUCKET", "APP_ENV")
    }
    environment.update(
        DATABASE_URL=database_url, LOCAL_STORE_DIR=str(tmp_path / "objects"),
        SECRET_KEY="kill-test-" + uuid.uuid4().hex, INGEST_MODE="thread",
        HOST="127.0.0.1", PORT=str(port), LOG_LEVEL="WARNING", **extra,
    )  # fmt: skip
    return environment


def test_a_killed_app_process_comes_back_with_the_whole_version(database_url, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = app_environment(
        database_url, tmp_path, port, INGEST_CHUNK_ROWS="5000"
    )
    email = f"kill-{uuid.uuid4().hex[:8]}@example.com"
    process = start_app_process(environment, port)
    try:
        status, body = post_json(
            base, "/api/auth/register", {"email": email, "password": PASSWORD}
        )
        assert status == 201, body
        token = sign_in(base, email)
        dataset_id = upload(base, token, big_csv())["id"]

        def progress():
            return call(base, "GET", f"/api/datasets/{dataset_id}", token=token)[1]

        seen = wait_for(
            progress,
            lambda d: d["status"] == "processing" and d["progress"]["rowsDone"],
        )
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert 0 < seen["progress"]["rowsDone"] < ROWS, seen["progress"]

        process = start_app_process(environment, port)
        token = sign_in(base, email)
        done = wait_for(progress, lambda d: d["status"] in ("processed", "cached"))
        assert done["rowCount"] == ROWS and done["version"] == 1
        for aggregation, expected in (
            ("count", ROWS),
            ("sum", sum(minute % 97 for minute in range(ROWS))),
        ):
            status, view = call(
                base,
                "GET",
                f"/api/analytics/{dataset_id}?metric=revenue&granularity=day"
                f"&aggregation={aggregation}",
                token=token,
            )
            assert status == 200, view
            assert sum(point["value"] or 0 for point in view["series"]) == expected
    finally:
        stop_process(process)


BASE_DAYS = 3
BATCH_RECORDS = 2_000


def day_batch(day: int) -> list[dict]:
    """One batch: BATCH_RECORDS records, all on 2024-03-<day>, revenue 1 each."""
    return [
        {"time": f"2024-03-{day:02d}T{i % 24:02d}:{i % 60:02d}:00", "revenue": 1,
         "region": "north"}
        for i in range(BATCH_RECORDS)
    ]  # fmt: skip


def keep_appending(base: str, token: str, dataset_id: str, sent: list) -> None:
    """Send one batch after another (days 1, 2, …) until the server goes away."""
    for day in range(1, 29):
        sent.append(day)
        try:
            status, body = call(
                base, "POST", f"/api/datasets/{dataset_id}/records",
                json.dumps({"batchId": f"day-{day}", "records": day_batch(day)}
                           ).encode(),
                token, {"Content-Type": "application/json"},
            )  # fmt: skip
        except OSError:
            return  # killed mid-request
        assert status == 201, body


def daily_counts(base: str, token: str, dataset_id: str) -> dict[str, float]:
    status, view = call(
        base, "GET",
        f"/api/analytics/{dataset_id}?metric=revenue&granularity=day"
        "&aggregation=count", token=token,
    )  # fmt: skip
    assert status == 200, view
    return {p["t"][:10]: p["value"] for p in view["series"] if p["value"]}


def test_an_app_process_killed_mid_append_comes_back_with_whole_batches_only(
    database_url, tmp_path
):
    """SIGKILL while batches are being appended back to back: after a restart
    every batch is there whole or not at all (the first k, in order), and sending
    every batch again appends each missing one once (a revision each) and the
    others not again. (A rebuilt version is written again as one revision.)"""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = app_environment(database_url, tmp_path, port)
    email = f"kill-append-{uuid.uuid4().hex[:8]}@example.com"
    rows = "\n".join(
        f"2024-02-{1 + i // 24:02d}T{i % 24:02d}:00:00,5,south"
        for i in range(24 * BASE_DAYS)
    )
    process = start_app_process(environment, port)
    try:
        status, body = post_json(
            base, "/api/auth/register", {"email": email, "password": PASSWORD}
        )
        assert status == 201, body
        token = sign_in(base, email)
        csv = f"time,revenue,region\n{rows}\n".encode()
        dataset_id = upload(base, token, csv)["id"]

        def meta():
            return call(base, "GET", f"/api/datasets/{dataset_id}", token=token)[1]

        wait_for(meta, lambda d: d["status"] in ("processed", "cached"))
        sent: list[int] = []
        sender = threading.Thread(
            target=keep_appending, args=(base, token, dataset_id, sent)
        )
        sender.start()
        wait_for(lambda: len(sent), lambda n: n >= 4, every=0.01)
        time.sleep(random.uniform(0, 0.3))  # somewhere inside an append
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        sender.join(timeout=60)

        process = start_app_process(environment, port)
        token = sign_in(base, email)
        after = wait_for(meta, lambda d: d["status"] in ("processed", "cached"))
        counts = daily_counts(base, token, dataset_id)
        appended = sorted(day for day in counts if day.startswith("2024-03"))
        whole = [f"2024-03-{day:02d}" for day in range(1, len(appended) + 1)]
        assert appended == whole  # the first k batches, in order, none torn
        assert all(counts[day] == BATCH_RECORDS for day in appended)
        assert 0 < len(sent) - len(appended) <= 1 or len(appended) == len(sent)

        for day in range(1, max(sent) + 1):  # the client retries everything
            status, body = call(
                base, "POST", f"/api/datasets/{dataset_id}/records",
                json.dumps({"batchId": f"day-{day}", "records": day_batch(day)}
                           ).encode(),
                token, {"Content-Type": "application/json"},
            )  # fmt: skip
            assert status in (200, 201), body
        counts = daily_counts(base, token, dataset_id)
        assert [
            counts.get(f"2024-03-{day:02d}") for day in range(1, max(sent) + 1)
        ] == [BATCH_RECORDS] * max(sent)
        # Batches already there were answered as duplicates: no new revision.
        assert meta()["revision"] - after["revision"] == max(sent) - len(appended)
    finally:
        stop_process(process)
