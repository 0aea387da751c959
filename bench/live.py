"""Live updates: append-to-visible latency, and what 500 open dashboards cost.

`python -m bench.live` starts gunicorn (deploy/gunicorn.conf.py, enough threads for
the sockets) with the in-process MongoDB engine and a private redis-server (the
Socket.IO message queue), uploads a web-analytics log with the demo measures, and:

1. **Latency**: a Socket.IO client watches the dataset; each round appends a batch
   through the API and times until the event arrives and until the KPI view the
   page then fetches (GET /api/kpi/{id}, the same cached service) has come back:
   append-to-visible, p50 and p95 over the rounds (spaced by 1.2 s: events are at
   most one per dataset per second).
2. **500 idle dashboards, pushed**: 500 WebSocket connections (Engine.IO 4 by hand,
   answering the server's pings) watching the dataset for `--idle` seconds with
   nothing appended; then the same count **polling** the cached KPI view every 5 s
   (what a page without push would do). For each: the gunicorn worker's resident
   memory, CPU seconds per minute, threads and open file descriptors.

The load generator runs on the same machine (its CPU is not counted: only the
worker's /proc figures are).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
import socketio
import websocket

from bench.load import (
    POSTGRES_SERVER,
    ROOT,
    cpu_seconds,
    server_environment,
    start_gunicorn,
    upload_events,
    worker_pid,
)
from tests.services import RedisServer, free_port, stop_process, wait_for_http

PASSWORD = "a long enough password"
POLL_EVERY_S = 5.0


def worker_stats(pid: int) -> dict:
    """Resident memory (MB), threads and open file descriptors of a process."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
        "threads": int(fields["Threads"]),
        "fds": len(list(Path(f"/proc/{pid}/fd").iterdir())),
    }


def account(base: str) -> dict:
    """A fresh account's bearer header."""
    credentials = {"email": f"live-{uuid.uuid4().hex[:8]}@example.com",
                   "password": PASSWORD}  # fmt: skip
    requests.post(f"{base}/api/auth/register", json=credentials).raise_for_status()
    login = requests.post(f"{base}/api/auth/login", json=credentials)
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def batch(index: int) -> dict:
    """Ten page views in the last hour of the generated log."""
    records = [
        {"timestamp": f"2026-11-30T23:{(index + i) % 60:02d}:00Z",
         "user_id": f"b{index}-{i}", "session_id": f"bs{index}-{i}",
         "page_type": "home", "traffic_source": "direct", "campaign": "none",
         "product_category": "", "bounced": "false", "revenue": 0}
        for i in range(10)
    ]  # fmt: skip
    return {"batchId": f"bench-{uuid.uuid4().hex}", "records": records}


def latency(base: str, bearer: dict, dataset_id: str, rounds: int) -> dict:
    """Append-to-event and append-to-visible times (ms) over `rounds` appends."""
    events: list[float] = []
    arrived = threading.Event()
    client = socketio.Client(reconnection=False)

    def heard(_event: dict) -> None:
        events.append(time.perf_counter())
        arrived.set()

    client.on("revision", heard)
    client.connect(base, headers=bearer, auth={"datasets": [dataset_id]},
                   transports=["websocket"], wait_timeout=10)  # fmt: skip
    arrived.wait(10)
    to_event, to_visible = [], []
    url = f"{base}/api/kpi/{dataset_id}?measures=page_views,dau,revenue"
    try:
        for index in range(rounds):
            time.sleep(1.2)
            arrived.clear()
            start = time.perf_counter()
            requests.post(
                f"{base}/api/datasets/{dataset_id}/records",
                json=batch(index),
                headers=bearer,
            ).raise_for_status()
            if not arrived.wait(10):
                raise RuntimeError("no event within 10 s")
            requests.get(url, headers=bearer).raise_for_status()
            to_event.append((events[-1] - start) * 1000)
            to_visible.append((time.perf_counter() - start) * 1000)
    finally:
        client.disconnect()
    return {"event": quantiles(to_event), "visible": quantiles(to_visible)}


def quantiles(values: list[float]) -> dict:
    """p50 and p95 (ms)."""
    cuts = statistics.quantiles(values, n=20, method="inclusive")
    return {"p50": statistics.median(values), "p95": cuts[18], "n": len(values)}


def idle_socket(base: str, bearer: dict, dataset_id: str, stop: threading.Event):
    """One watching page: handshake, then answer pings until told to stop."""
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    header = [f"Authorization: {bearer['Authorization']}"]
    connection = websocket.create_connection(url, header=header, timeout=60)
    connection.recv()
    connection.send("40" + json.dumps({"datasets": [dataset_id]}))
    connection.settimeout(1)
    try:
        while not stop.is_set():
            try:
                frame = connection.recv()
            except websocket.WebSocketTimeoutException:
                continue
            if frame == "2":
                connection.send("3")
    finally:
        connection.close()


POLLS = {"answered": 0, "failed": 0}


def polling_page(base: str, bearer: dict, dataset_id: str, stop: threading.Event):
    """One polling page: the cached KPI view every 5 s (a new connection each time:
    gunicorn closes idle keep-alive connections after 5 s, the poll interval)."""
    url = f"{base}/api/kpi/{dataset_id}?measures=page_views,dau,revenue"
    headers = {**bearer, "Connection": "close"}
    stop.wait(POLL_EVERY_S * (hash(threading.get_ident()) % 1000) / 1000)
    while not stop.is_set():
        try:
            answered = requests.get(url, headers=headers, timeout=60).ok
        except requests.RequestException:
            answered = False
        POLLS["answered" if answered else "failed"] += 1
        stop.wait(POLL_EVERY_S)


def crowd(kind, base, bearer, dataset_id, count, seconds, pid) -> dict:
    """Start `count` pages of one kind, settle, measure the worker for `seconds`."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=kind, args=(base, bearer, dataset_id, stop),
                         daemon=True)
        for _ in range(count)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    time.sleep(10)  # every page connected and past its first request
    before_cpu, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    stats = worker_stats(pid)
    stats["cpu_s_per_min"] = (cpu_seconds(pid) - before_cpu) * 60 / elapsed
    stop.set()
    for thread in threads:
        thread.join(10)
    time.sleep(3)
    return stats


def report(results: dict, args) -> str:
    """The BENCHMARKS.md section."""
    lat = results["latency"]
    lines = [
        f"Append-to-event: p50 {lat['event']['p50']:.0f} ms, "
        f"p95 {lat['event']['p95']:.0f} ms; append-to-visible (event, then the "
        f"page's KPI view fetched): p50 {lat['visible']['p50']:.0f} ms, "
        f"p95 {lat['visible']['p95']:.0f} ms ({lat['event']['n']} appends).",
        "",
        f"| {args.pages} open dashboards, {args.idle} s | worker RSS | CPU s/min "
        "| threads | fds |",
        "|---|---|---|---|---|",
    ]
    for name in ("baseline", "pushed (idle sockets)", "polling every 5 s"):
        r = results[name]
        lines.append(
            f"| {name} | {r['rss_mb']:.0f} MB | {r['cpu_s_per_min']:.2f} | "
            f"{r['threads']} | {r['fds']} |"
        )
    polls = results["polls"]
    lines.append(
        f"\nPolls answered: {polls['answered']:,}, failed: {polls['failed']:,} "
        f"(over the settling and measured time)."
    )
    return "\n".join(lines)


def run(args) -> str:
    """Set up, measure, tear down."""
    from data import postgres

    database_url = f"{POSTGRES_SERVER}/ib_live_{uuid.uuid4().hex[:10]}"
    redis_server = RedisServer().start()
    directory = Path(tempfile.mkdtemp(prefix="ib-live-"))
    port, server = free_port(), None
    try:
        environment = server_environment(
            port, database_url, redis_server.url, str(directory / "objects")
        )
        environment["GUNICORN_THREADS"] = str(args.pages + 64)
        server = start_gunicorn(ROOT, environment, directory / "server.log")
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz", server, timeout=120)
        pid = worker_pid(server.pid)
        bearer = account(base)
        dataset_id = upload_events(base, bearer, events=args.events)
        results = {"latency": latency(base, bearer, dataset_id, args.rounds)}
        results["baseline"] = {**worker_stats(pid), "cpu_s_per_min": 0.0}
        before = cpu_seconds(pid)
        time.sleep(10)
        results["baseline"]["cpu_s_per_min"] = (cpu_seconds(pid) - before) * 6
        results["pushed (idle sockets)"] = crowd(
            idle_socket, base, bearer, dataset_id, args.pages, args.idle, pid
        )
        results["polling every 5 s"] = crowd(
            polling_page, base, bearer, dataset_id, args.pages, args.idle, pid
        )
        results["polls"] = dict(POLLS)
        return report(results, args)
    finally:
        if server is not None:
            stop_process(server)
        redis_server.stop()
        postgres.drop_database(database_url)
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    """Parse arguments and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--idle", type=int, default=60, help="seconds measured")
    print(run(parser.parse_args()))


if __name__ == "__main__":
    main()
