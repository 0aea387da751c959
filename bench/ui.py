"""UI benchmark: the analysis view's main callback on a cached 100k-row dataset.

    python -m bench.ui [--rows 100000] [--repeat 30]

Builds an app on a throwaway PostgreSQL database (dropped at the end) with the
in-process MongoDB engine, uploads a generated hourly dataset through the dataset
service, waits until it is processed, then times `callbacks.analysis.render_view`
(what the main callback runs) plus the JSON encoding Dash applies to its output:

- cached: the view is in the cache (the state after the first visit);
- uncached: the cache is cleared before each call (the service recomputes);
- no downsampling: the cached view drawn with every point (the baseline for the
  display downsampling of components/figures.py).

Prints a Markdown section for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable

import numpy as np
from plotly.io.json import to_json_plotly

from tests.services import RedisServer

POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"
)
# Hourly views are capped at data.analytics.service.MAX_BUCKETS (50,000) buckets:
# the largest whole-day range under it from the first row is 2,083 days.
VIEWS = {
    "day (default view)": "?granularity=day",
    "hour, 2013-01-01..2018-09-14 (49,992 points)": (
        "?granularity=hour&from=2013-01-01&to=2018-09-14"
    ),
}


def sample_csv(rows: int, seed: int = 11) -> bytes:
    """Hourly revenue with a weekly rhythm, noise, a region column and spikes."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2013, 1, 1)
    hours = np.arange(rows)
    revenue = (
        1000 + 200 * np.sin(2 * np.pi * hours / (24 * 7)) + rng.normal(0, 40, rows)
    )
    spikes = rng.choice(rows, size=max(3, rows // 20_000), replace=False)
    revenue[spikes] *= rng.choice([0.2, 3.5], size=spikes.size)
    regions = rng.choice(["North", "South", "East", "West"], size=rows)
    lines = ["date,revenue,region"]
    for hour, value, region in zip(hours, revenue, regions, strict=True):
        moment = start + dt.timedelta(hours=int(hour))
        lines.append(f"{moment:%Y-%m-%d %H:%M:%S},{value:.2f},{region}")
    return ("\n".join(lines) + "\n").encode()


def wait_until_ready(services, owner_id: str, dataset_id: str, timeout_s: float):
    """Poll the dataset service until the version is processed (or fails)."""
    from data import datasets

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        view = datasets.get_dataset(services, owner_id, dataset_id)
        if view["status"] in ("processed", "cached", "failed"):
            return view
        progress = view.get("progress") or {}
        print(f"  {view['status']}: {progress.get('rowsDone')} rows", file=sys.stderr)
        time.sleep(5)
    raise TimeoutError("the dataset was not processed in time")


def timed(function: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Wall-clock milliseconds of each call, and the last result."""
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


def callback_work(services, owner_id: str, dataset_id: str, search: str) -> str:
    """What one main-callback request costs on the server: outputs + JSON."""
    from callbacks.analysis import render_view

    outputs = render_view(services, owner_id, dataset_id, search)
    if outputs["status"] is not None:
        raise RuntimeError(f"the view could not be built: {outputs['status']}")
    return to_json_plotly(outputs)


def measure(services, owner_id, dataset_id, search, repeat) -> dict:
    """Cached, uncached and no-downsampling timings for one view."""
    from callbacks import gateway
    from components import figures, url_state
    from data.cache import cache

    work = lambda: callback_work(services, owner_id, dataset_id, search)  # noqa: E731
    work()  # compute and cache once
    cached, payload = timed(work, repeat)
    params = url_state.to_params(
        url_state.reconcile(
            url_state.parse_search(search)[0], {"metrics": ["revenue"]}
        )[0]
    )
    service, _ = timed(
        lambda: gateway.analysis_view(services, owner_id, dataset_id, params), repeat
    )

    def uncached_work():
        cache.clear()
        return work()

    uncached, _ = timed(uncached_work, max(3, repeat // 10))
    work()
    original = figures.DISPLAY_MAX_POINTS
    figures.DISPLAY_MAX_POINTS = 10**9
    try:
        full, full_payload = timed(work, max(5, repeat // 3))
    finally:
        figures.DISPLAY_MAX_POINTS = original
    return {
        "cached": cached,
        "service": service,
        "uncached": uncached,
        "full": full,
        "bytes": len(str(payload).encode()),
        "full_bytes": len(str(full_payload).encode()),
    }


def report(rows: int, results: dict[str, dict]) -> str:
    """The Markdown section."""
    median = statistics.median
    lines = [
        "## UI: analysis view main callback",
        "",
        f"- Date: {dt.date.today().isoformat()}; machine: {platform.platform()}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs (shared).",
        f"- Dataset: {rows:,} hourly rows (revenue, region), processed and cached "
        "through the dataset service; in-process MongoDB engine, Redis cache.",
        "- Timed: `callbacks.analysis.render_view` + Dash's JSON encoding of the "
        "outputs (KPIs, 3 figures, table rows, insights), server side.",
        "",
        "| view | cached median (p95) | of which `get_view` (cache hit) | uncached "
        "median | JSON | JSON without downsampling | time without downsampling |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        cached = sorted(result["cached"])
        p95 = cached[int(0.95 * (len(cached) - 1))]
        lines.append(
            f"| {name} | {median(cached):.1f} ms ({p95:.1f} ms) | "
            f"{median(result['service']):.1f} ms | "
            f"{median(result['uncached']):.0f} ms "
            f"({median(result['uncached']) / median(cached):.0f}× slower) | "
            f"{result['bytes'] / 1024:,.0f} kB | "
            f"{result['full_bytes'] / 1024:,.0f} kB "
            f"({result['full_bytes'] / result['bytes']:.1f}×) | "
            f"{median(result['full']):.1f} ms |"
        )
    return "\n".join(lines) + "\n"


def run(rows: int, repeat: int) -> str:
    """Set up, measure every view, tear down."""
    from app import create_app
    from data import datasets, postgres

    database_url = f"{POSTGRES_SERVER}/ib_bench_{uuid.uuid4().hex[:10]}"
    redis_server = RedisServer().start()
    app = None
    try:
        app = create_app(
            {
                "app_env": "test",
                "database_url": database_url,
                "redis_url": redis_server.url,
                # Ingest in a thread of this process: the benchmark is about the page.
                "ingest_mode": "thread",
                "local_store_dir": f"/tmp/ib-bench-{uuid.uuid4().hex[:8]}",
                "secret_key": "bench-secret-key-that-is-long-enough-0123456789",
                "log_level": "WARNING",
            }
        )
        services = app.server.extensions["insightboard"]
        owner_id = str(uuid.uuid4())
        with app.server.app_context():
            uploaded = datasets.upload_dataset(
                services, owner_id, io.BytesIO(sample_csv(rows)),
                dataset_name="Bench hourly", filename="bench.csv",
            )  # fmt: skip
            ready = wait_until_ready(services, owner_id, uploaded["id"], 1800)
            if ready["status"] == "failed":
                raise RuntimeError(ready["error"])
            results = {
                name: measure(services, owner_id, uploaded["id"], search, repeat)
                for name, search in VIEWS.items()
            }
        return report(rows, results)
    finally:
        if app is not None:
            app.server.extensions["insightboard"].close()
        redis_server.stop()
        postgres.drop_database(database_url)


def main() -> None:
    """Parse arguments and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    arguments = parser.parse_args()
    print(run(arguments.rows, arguments.repeat))


if __name__ == "__main__":
    main()
