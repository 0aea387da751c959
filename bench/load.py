"""Load benchmark: wrk against gunicorn, the way the Dockerfile serves the app.

    python -m bench.load [--rows 100000] [--duration 5] [--connections 16 64]
                         [--profile "cached analysis view"] [--only cached]

Starts a private redis-server, a throwaway PostgreSQL database (dropped at the
end) and `gunicorn --config deploy/gunicorn.conf.py app:server` on free ports of
127.0.0.1 with the in-process MongoDB engine; registers an account, uploads a
generated hourly dataset (bench.ui's) through the API and waits until it is
processed and its default view cached; then runs Debian's `wrk` (bounded: a few
seconds per run, 127.0.0.1 only) against each scenario at each connection count.
The /healthz floor runs first and last, so the ratios hold on a shared machine.
`--only TEXT...` runs the scenarios whose names hold one of the texts (and the
floor, always). `--profile NAME` records that scenario's run with py-spy (on
PATH) and prints the top functions of the worker by share of samples (`pip
install py-spy`; BENCH_PROFILE_RAW=path keeps the collapsed stacks).

Prints a Markdown section for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from bench.ui import sample_csv
from tests.services import RedisServer, free_port, stop_process, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"
)
PASSWORD = "bench password long enough"
FLOOR = "/healthz (floor)"


@dataclass
class Scenario:
    """One request that wrk repeats: method, path, headers and body."""

    name: str
    path: str
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    body: str | None = None
    # Text that marks a failed answer that still came back 200 (a page's alert).
    refuse: str = "\x00never"


@dataclass
class Result:
    """What one wrk run measured."""

    scenario: str
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    response_bytes: int = 0
    cpu_ms: float = 0.0


class DashCallbacks:
    """Callback request bodies built from the served /_dash-dependencies."""

    def __init__(self, dependencies: list[dict]) -> None:
        self.by_first_output = {
            _first_output(item["output"]): item
            for item in dependencies
            if not item.get("clientside_function")
        }

    def body(self, first_output: str, values: dict, triggered: str) -> dict:
        """The JSON body the browser would send for this callback."""
        spec = self.by_first_output[first_output]
        key = spec["output"]
        parts = key[2:-2].split("...") if key.startswith("..") else [key]
        outputs = []
        for part in parts:
            component, prop = part.rsplit(".", 1)
            pattern = component.startswith("{")
            outputs.append([] if pattern else {"id": component, "property": prop})
        return {
            "output": key,
            "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": [_slot(item, values) for item in spec["inputs"]],
            "state": [_slot(item, values) for item in spec["state"]],
            "changedPropIds": [triggered],
        }


def _first_output(key: str) -> str:
    part = key[2:-2].split("...")[0] if key.startswith("..") else key
    return part.split("@")[0]


def _slot(item: dict, values: dict):
    name = f"{item['id']}.{item['property']}"
    if str(item["id"]).startswith("{"):
        return values.get(name) or []
    return {"id": item["id"], "property": item["property"], "value": values.get(name)}


def prepare(base: str, rows: int) -> dict:
    """Account, JWT, browser session cookie, processed dataset; returns them."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    credentials = {"email": email, "password": PASSWORD}
    requests.post(f"{base}/api/auth/register", json=credentials).raise_for_status()
    login = requests.post(f"{base}/api/auth/login", json=credentials)
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    callbacks = DashCallbacks(requests.get(f"{base}/_dash-dependencies").json())
    browser = requests.Session()
    sign_in = callbacks.body(
        "login-redirect.href",
        {
            "login-submit.n_clicks": 1,
            "login-email.value": email,
            "login-password.value": PASSWORD,
            "login-remember.value": False,
            "login-next.data": "",
        },
        "login-submit.n_clicks",
    )
    browser.post(f"{base}/_dash-update-component", json=sign_in).raise_for_status()
    dataset_id = upload_and_wait(base, bearer, rows)
    events_id = upload_events(base, bearer)
    share = requests.post(
        f"{base}/api/shares",
        headers=bearer,
        json={"datasetId": dataset_id, "page": "analysis", "query": {}},
    )
    share.raise_for_status()
    return {
        "bearer": bearer,
        "cookie": f"session={browser.cookies['session']}",
        # The browser's own User-Agent: Flask-Login's session protection ties a
        # session to it, and a browser does not change it between requests.
        "user_agent": browser.headers["User-Agent"],
        "callbacks": callbacks,
        "dataset_id": dataset_id,
        "events_id": events_id,
        "share_path": "/share/" + share.json()["url"].rsplit("/share/", 1)[1],
        "base": base,
    }


def upload_events(base: str, bearer: dict, events: int = 20_000) -> str:
    """The demo's web-analytics generator (fixed seed) with its KPI measures."""
    from data.demo_events import DEMO_DIMENSIONS, DEMO_MEASURES, generate_events
    from data.demo_events import to_csv as events_csv

    files = {"file": ("events.csv", events_csv(generate_events(events=events)))}
    form = {
        "datasetName": "Bench events",
        "timeColumn": "timestamp",
        "metricColumn": "revenue",
        "dimensionColumn": ",".join(DEMO_DIMENSIONS),
    }
    upload = requests.post(
        f"{base}/api/datasets/upload", headers=bearer, files=files, data=form
    )
    upload.raise_for_status()
    events_id = upload.json()["id"]
    wait_until_ready(base, bearer, events_id)
    requests.put(
        f"{base}/api/datasets/{events_id}/measures",
        headers=bearer,
        json={"measures": DEMO_MEASURES},
    ).raise_for_status()  # new measures reprocess the version: wait again
    wait_until_ready(base, bearer, events_id)
    return events_id


def upload_and_wait(base: str, bearer: dict, rows: int, timeout_s=1800) -> str:
    """Upload the generated CSV; poll until its default view is cached."""
    files = {"file": ("bench.csv", sample_csv(rows), "text/csv")}
    form = {"datasetName": "Bench hourly", "timeColumn": "date"}
    upload = requests.post(
        f"{base}/api/datasets/upload", headers=bearer, files=files, data=form
    )
    upload.raise_for_status()
    dataset_id = upload.json()["id"]
    wait_until_ready(base, bearer, dataset_id, timeout_s)
    return dataset_id


def wait_until_ready(base: str, bearer: dict, dataset_id: str, timeout_s=1800):
    """Poll until the dataset's default view is cached."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = requests.get(f"{base}/api/datasets/{dataset_id}", headers=bearer)
        if status.json()["status"] in ("cached", "failed"):
            break
        time.sleep(2)
    if status.json()["status"] != "cached":
        raise RuntimeError(f"dataset not cached: {status.json()}")


def scenarios(context: dict) -> list[Scenario]:
    """Every measured request."""
    callbacks, dataset_id = context["callbacks"], context["dataset_id"]
    cookie = {
        "Cookie": context["cookie"],
        "User-Agent": context["user_agent"],
        "Content-Type": "application/json",
    }
    toggles = callbacks.body(
        "analysis-threshold.disabled",
        {"analysis-method.value": "zscore"},
        "analysis-method.value",
    )
    view = callbacks.body(
        "analysis-status.children",
        {
            "analysis-state.data": "?granularity=day",
            "analysis-dataset.data": dataset_id,
        },
        "analysis-state.data",
    )
    kpi = callbacks.body(
        "kpi-status.children",
        {
            "kpi-url.search": "?period=weeks&compare=wow",
            "kpi-dataset.data": context["events_id"],
        },
        "kpi-url.search",
    )
    shared = {
        "Content-Type": "application/json",
        "Referer": context["base"] + context["share_path"],
    }
    callback_path = "/_dash-update-component"
    return [
        Scenario(FLOOR, "/healthz"),
        Scenario(
            "trivial authenticated callback (method toggles)",
            callback_path,
            "POST",
            cookie,
            json.dumps(toggles),
        ),
        Scenario(
            "cached analysis view, 100k-row dataset, default (day) view",
            callback_path,
            "POST",
            cookie,
            json.dumps(view),
        ),
        Scenario(
            "cached analytics API, same view (bearer JWT)",
            f"/api/analytics/{dataset_id}?granularity=day",
            headers=context["bearer"],
        ),
        Scenario(
            "KPI page main callback, 20k events, weeks vs last week (cached)",
            callback_path,
            "POST",
            cookie,
            json.dumps(kpi),
            refuse="cannot be shown",
        ),
        Scenario(
            "share page (the HTML shell of /share/<token>)", context["share_path"]
        ),
        Scenario(
            "cached analysis view under the share link (no account)",
            callback_path,
            "POST",
            shared,
            json.dumps(view),
        ),
    ]


def check(base: str, scenario: Scenario) -> int:
    """One request of the scenario must succeed before wrk repeats it; its size."""
    response = requests.request(
        scenario.method,
        base + scenario.path,
        headers=scenario.headers,
        data=scenario.body,
    )
    problem = b'"error"' in response.content[:200] or scenario.refuse in response.text
    if response.status_code != 200 or problem:
        raise RuntimeError(f"{scenario.name}: {response.status_code} {response.text}")
    return len(response.content)


def wrk_script(scenario: Scenario, directory: Path) -> Path:
    """A wrk Lua script sending the scenario's method, headers and body."""
    lines = [f'wrk.method = "{scenario.method}"']
    for name, value in scenario.headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if scenario.body is not None:
        body = directory / f"body-{uuid.uuid4().hex[:6]}.json"
        body.write_text(scenario.body)
        lines.append(f'local f = io.open("{body}", "rb"); wrk.body = f:read("*a")')
        lines.append("f:close()")
    script = directory / f"script-{uuid.uuid4().hex[:6]}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def settle(base: str, timeout_s: float = 60) -> None:
    """Wait until the server has worked off what wrk left queued (requests it
    accepted but had not answered when wrk stopped), so runs do not overlap."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        started = time.perf_counter()
        with contextlib.suppress(requests.RequestException):
            requests.get(f"{base}/healthz", timeout=10)
            if time.perf_counter() - started < 0.05:
                return
        time.sleep(0.5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(base, scenario, connections, duration_s, directory, pid) -> Result:
    """`wrk` for duration_s seconds (each request times out after 2 s), with the
    worker's CPU time per request (which other load on the machine hardly moves)."""
    command = [
        "nice", "-n", "10", "wrk", "-t", "2", "-c", str(connections),
        "-d", f"{duration_s}s", "--timeout", "2s", "--latency",
        "-s", str(wrk_script(scenario, directory)), base + scenario.path,
    ]  # fmt: skip
    started = cpu_seconds(pid)
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration_s + 30
    ).stdout
    result = parse_wrk(scenario.name, connections, output)
    result.cpu_ms = 1000 * (cpu_seconds(pid) - started) / max(1, result.requests)
    return result


def parse_wrk(name: str, connections: int, output: str) -> Result:
    """Requests per second, p50, p99 and errors from wrk's --latency report."""
    rate = float(_found(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(value) for value in sockets.groups()) if sockets else 0
    total = int(_found(r"(\d+) requests in", output).group(1))
    return Result(
        name,
        connections,
        rate,
        percentile(output, 50),
        percentile(output, 99),
        errors,
        requests=total,
    )


def _found(pattern: str, output: str, flags: int = 0) -> re.Match[str]:
    """The match of a line wrk always prints (an error naming it if absent)."""
    match = re.search(pattern, output, flags)
    if match is None:
        raise ValueError(f"wrk's output has no line matching {pattern!r}")
    return match


def percentile(output: str, p: int) -> float:
    """A latency percentile of wrk's distribution, in milliseconds."""
    value, unit = _found(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _frame_name(frame: str) -> str:
    """`function (path/to/file.py:line)` → `function (file path relative)`."""
    return re.sub(r":\d+\)$", ")", frame.replace(str(ROOT) + "/", ""))


def worker_pid(master_pid: int) -> int:
    """The gunicorn worker (one child of the master with the in-process engine)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text()
    return int(children.split()[0])


def report(results: list[Result], rows: int, duration_s: int, top) -> str:
    """The Markdown section."""
    floors: dict[int, list[float]] = {}
    for result in results:
        if result.scenario == FLOOR:
            floors.setdefault(result.connections, []).append(result.requests_per_s)
    lines = [
        "## Load: wrk against gunicorn",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: "
        f"{platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[1]:.1f} over the "
        "last 5 minutes at the end (other work on the machine moves absolute "
        "numbers: compare ratios within one run).",
        f"- `python -m bench.load --rows {rows} --duration {duration_s}`: gunicorn "
        "with deploy/gunicorn.conf.py (one gthread worker with "
        f"{os.environ.get('GUNICORN_THREADS', 'the default')} threads: the "
        "in-process engine), private Redis, wrk and the server on the same "
        f"{os.cpu_count()} cores, {duration_s} s per run, floor first and last "
        "(ratios use their mean).",
        "",
        "| request | response | connections | req/s | p50 | p99 | errors "
        "| req/s ÷ floor | worker CPU per request | req/s per core |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        floor = sum(floors[r.connections]) / len(floors[r.connections])
        lines.append(
            f"| {r.scenario} | {r.response_bytes / 1024:,.1f} kB | {r.connections} | "
            f"{r.requests_per_s:,.0f} | "
            f"{r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms | {r.errors} | "
            f"{r.requests_per_s / floor:.2f} | {r.cpu_ms:.2f} ms | "
            f"{1000 / r.cpu_ms if r.cpu_ms else 0:,.0f} |"
        )
    if top:
        name, entries = top
        lines += ["", f"py-spy, {name}, 16 connections: share of samples (inclusive)"]
        lines += ["", "| function | % |", "|---|---|"]
        lines += [f"| `{frame}` | {share:.0f} |" for frame, share in entries]
    return "\n".join(lines) + "\n"


def server_environment(port: int, database_url: str, redis_url: str, store: str):
    """gunicorn's environment: production settings on private services."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MONGO_", "S3_", "REDIS_", "DATABASE_"))
    }
    environment.update(
        APP_ENV="production",
        SECRET_KEY="bench-secret-key-that-is-long-enough-0123456789",
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        LOCAL_STORE_DIR=store,
        # One link is requested thousands of times a second here; a real link's
        # 300/minute would make the share scenarios measure 429s.
        SHARE_RATE_LIMIT="10000000/minute",
    )
    return environment


def start_gunicorn(tree: Path | str, environment: dict, log: Path) -> subprocess.Popen:
    """`gunicorn --config deploy/gunicorn.conf.py app:server` from the checkout
    `tree`, as the Dockerfile runs it; its stderr goes to `log`."""
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
         "app:server"],
        cwd=tree, env=environment, stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )  # fmt: skip


def cached_view_sizes(url: str) -> str:
    """The size of each cached analytics view (what a cached request reads)."""
    client = redis.Redis.from_url(url)
    sizes = [client.strlen(key) for key in client.scan_iter("insightboard:analytics:*")]
    return ", ".join(f"{size / 1024:,.0f} kB" for size in sorted(sizes)) or "none"


@contextlib.contextmanager
def served(tree: Path | str, redis_url: str, directory: Path):
    """gunicorn from the checkout `tree` on a free port, with a throwaway database
    and its objects and log in `directory`; yields its base URL and master pid."""
    from data import postgres

    database_url = f"{POSTGRES_SERVER}/ib_load_{uuid.uuid4().hex[:10]}"
    port = free_port()
    environment = server_environment(
        port, database_url, redis_url, str(directory / "objects")
    )
    server = start_gunicorn(tree, environment, directory / "server.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz", server, timeout=120)
        yield base, server.pid
    finally:
        stop_process(server)
        postgres.drop_database(database_url)


def run(options: argparse.Namespace) -> str:
    """Set up, measure, tear down."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench.load needs wrk: apt-get install wrk")
    redis_server = RedisServer().start()
    directory = Path(tempfile.mkdtemp(prefix="ib-load-"))
    try:
        with served(ROOT, redis_server.url, directory) as (base, pid):
            context = prepare(base, options.rows)
            results, top = measure_all(base, context, options, pid, directory)
            entries = cached_view_sizes(redis_server.url)
        restarts = (directory / "server.log").read_text().count("Booting worker")
        return report(results, options.rows, options.duration, top) + (
            f"\nAnalytics cache entries in Redis after the run: {entries}. "
            f"Worker processes booted during the run: {restarts}.\n"
        )
    finally:
        if keep := os.environ.get("BENCH_SERVER_LOG"):
            shutil.copy(directory / "server.log", keep)
        redis_server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def chosen(every: list[Scenario], only: list[str] | None) -> list[Scenario]:
    """The floor and the scenarios whose names hold one of `only` (all without)."""
    return [
        scenario
        for scenario in every
        if scenario.name == FLOOR or not only or any(t in scenario.name for t in only)
    ]


def measure_all(base, context, options, pid, directory):
    """Every chosen scenario at every connection count, the floor again at the end;
    the profiled scenario's first run is recorded by py-spy while wrk runs."""
    connections, duration_s = options.connections, options.duration
    profiled = options.profile
    every = chosen(scenarios(context), options.only)
    sizes = {scenario.name: check(base, scenario) for scenario in every}
    results, top = [], None
    for scenario in [*every, every[0]]:
        for count in connections:
            spy = None
            if scenario.name == profiled and top is None:
                spy = _start_profile(worker_pid(pid), duration_s, directory)
            results.append(
                run_wrk(base, scenario, count, duration_s, directory, worker_pid(pid))
            )
            settle(base)
            if spy is not None:
                top = (scenario.name, _finish_profile(spy, directory))
    for result in results:
        result.response_bytes = sizes[result.scenario]
    return results, top


def _start_profile(pid: int, duration_s: int, directory: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--duration", str(duration_s),
         "--rate", "200", "--format", "raw", "--nonblocking",
         "--output", str(directory / "profile.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _finish_profile(spy: subprocess.Popen, directory: Path) -> list:
    spy.wait(timeout=120)
    if keep := os.environ.get("BENCH_PROFILE_RAW"):  # the stacks, for a closer look
        shutil.copy(directory / "profile.txt", keep)
    inclusive: Counter[str] = Counter()
    total = 0
    for line in (directory / "profile.txt").read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = {_frame_name(f.strip()) for f in stack.split(";") if f.strip()}
        total += int(count)
        for frame in frames:
            inclusive[frame] += int(count)
    return [(name, 100 * n / total) for name, n in inclusive.most_common(25)]


def main() -> None:
    """Parse arguments and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--profile", default=None, help="scenario name to profile")
    parser.add_argument("--only", nargs="+", default=None, help="scenario name texts")
    print(run(parser.parse_args()))


if __name__ == "__main__":
    main()
