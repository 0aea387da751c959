"""Analytics view timing on the in-process MongoDB engine: cold vs cached.

Run: `python -m bench.analytics` (starts and stops its own redis-server; creates
and drops its own PostgreSQL database). 10,000- and 100,000-row CSV files spanning
the same two years (hourly timestamps, 4 regions x 3 channels) are uploaded
through the real ingest path (inline); then, at daily granularity:

- cold view: `run_analytics(force=True)`: load the dataset, the one aggregate call,
  detectors, insights, store in `analytics`, write the cache;
- cached view: `get_view` served from Redis (dataset lookup + cache read);
- their ratio, and the number of `aggregate` calls per view (counted by wrapping
  the engine's `aggregate`).

Prints a Markdown section for BENCHMARKS.md.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import platform
import statistics
import subprocess
import tempfile
import time
import uuid

import mongomock
import numpy as np
import pandas as pd

from data import analytics, postgres
from tests.services import RedisServer

SIZES = (10_000, 100_000)
COLD_RUNS = 9
CACHED_RUNS = 50
OWNER = "00000000-0000-4000-8000-00000000beef"
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
SPAN_HOURS = 2 * 365 * 24
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def bench_frame(rows: int, seed: int = 7) -> pd.DataFrame:
    """Sales-like rows: weekly seasonality, noise, and a few spikes and drops."""
    generator = np.random.default_rng(seed)
    hours = np.sort(generator.integers(0, SPAN_HOURS, rows))
    times = pd.to_datetime(START) + pd.to_timedelta(hours, unit="h")
    weekday = times.day_of_week.to_numpy()
    revenue = 1000 + 150 * (weekday < 5) + generator.normal(0, 60, rows)
    spikes = generator.choice(rows, size=max(rows // 2000, 3), replace=False)
    revenue[spikes] *= generator.choice([6.0, 0.1], size=spikes.size)
    return pd.DataFrame(
        {
            "time": times,
            "revenue": revenue.round(2),
            "region": generator.choice(["north", "south", "east", "west"], rows),
            "channel": generator.choice(["web", "store", "phone"], rows),
        }
    )


class CountingAggregate:
    """Counts the engine's aggregate calls while installed."""

    def __init__(self) -> None:
        self.calls = 0
        self._original = mongomock.collection.Collection.aggregate

    def __enter__(self) -> CountingAggregate:
        original = self._original

        def counted(collection, pipeline, *args, **kwargs):
            self.calls += 1
            return original(collection, pipeline, *args, **kwargs)

        setattr(mongomock.collection.Collection, "aggregate", counted)  # noqa: B010
        return self

    def __exit__(self, *exc) -> None:
        setattr(mongomock.collection.Collection, "aggregate", self._original)  # noqa: B010


def timed(call) -> float:
    """Milliseconds of one call."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure(services, dataset: dict) -> dict:
    """Cold and cached timings and aggregate calls for one dataset's default view."""
    dataset_id = dataset["datasetId"]
    with CountingAggregate() as counter:
        analytics.run_analytics(services, OWNER, dataset_id, {}, force=True)
    cold = [
        timed(
            lambda: analytics.run_analytics(services, OWNER, dataset_id, {}, force=True)
        )
        for _ in range(COLD_RUNS)
    ]
    assert analytics.get_view(services, OWNER, dataset_id, {})["cached"]
    cached = [
        timed(lambda: analytics.get_view(services, OWNER, dataset_id, {}))
        for _ in range(CACHED_RUNS)
    ]
    view = analytics.get_view(services, OWNER, dataset_id, {})
    return {
        "cold": statistics.median(cold),
        "cold_max": max(cold),
        "cached": statistics.median(cached),
        "cached_p90": statistics.quantiles(cached, n=10)[-1],
        "calls": counter.calls,
        "buckets": len(view["series"]),
        "anomalies": len(view["anomalies"]),
        "rollups": services.mongo.rollups.count_documents(
            {"datasetId": dataset_id, "g": "day"}
        ),
    }


def machine() -> str:
    """nproc, CPU model, RAM and load, for the record."""
    model = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with open("/proc/meminfo") as info:
        memory_kb = int(info.readline().split()[1])
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    release = subprocess.run(["uname", "-r"], capture_output=True, text=True).stdout
    return (
        f"{os.cpu_count()} cores ({model}), {memory_kb / 1024 / 1024:.0f} GB RAM, "
        f"Linux {release.strip()}, Python {platform.python_version()}, "
        f"load average {load} at the end of the run"
    )


def report(results: dict[int, dict]) -> str:
    """The BENCHMARKS.md section."""
    lines = [
        "| rows | day buckets | day roll-up docs | aggregate calls/view | cold ms "
        "(median, max) | cached ms (median, p90) | cached/cold |",
        "|---|---|---|---|---|---|---|",
    ]
    for rows, r in results.items():
        lines.append(
            f"| {rows:,} | {r['buckets']} | {r['rollups']:,} | {r['calls']} | "
            f"{r['cold']:.0f} ({r['cold_max']:.0f}) | {r['cached']:.2f} "
            f"({r['cached_p90']:.2f}) | 1/{r['cold'] / r['cached']:.0f} |"
        )
    return "\n".join(lines)


def ingest(services, rows: int) -> dict:
    """Upload a generated CSV through the real ingest path (inline); the dataset."""
    from data.datasets import upload_dataset
    from data.ingest.schema import Choice

    frame = bench_frame(rows)
    frame["time"] = frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = io.BytesIO(frame.to_csv(index=False).encode())
    choice = Choice(
        time_column="time",
        metric_columns=("revenue",),
        dimension_columns=("region", "channel"),
    )
    view = upload_dataset(
        services,
        OWNER,
        body,
        dataset_name=f"bench {rows}",
        filename="bench.csv",
        choice=choice,
    )
    return analytics.load_dataset(services, OWNER, view["id"])


def bench_app(redis_url: str, database_url: str, store: str):
    """An app with inline ingest, a throwaway database and the bench's Redis."""
    from app import create_app

    return create_app(
        {
            "app_env": "test",
            "database_url": database_url,
            "redis_url": redis_url,
            "ingest_mode": "inline",
            "local_store_dir": store,
            "secret_key": "bench-secret-key-that-is-long-enough-0123456789",
            "log_level": "ERROR",
        }
    )


def run(services) -> dict[int, dict]:
    """Ingest and measure each size inside the app context."""
    results = {}
    for rows in SIZES:
        started = time.perf_counter()
        dataset = ingest(services, rows)
        took = time.perf_counter() - started
        print(f"{rows:,} rows ingested in {took:.1f} s ({dataset['status']})")
        results[rows] = measure(services, dataset)
    return results


def main() -> None:
    """Ingest both datasets, measure, print the Markdown table."""
    server = RedisServer().start()
    database_url = f"{POSTGRES}/ib_bench_{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory() as store:
            app = bench_app(server.url, database_url, store)
            services = app.server.extensions["insightboard"]
            try:
                with app.server.app_context():
                    results = run(services)
            finally:
                services.close()
        print(report(results))
        print(f"\nMachine: {machine()}. Date: {dt.date.today().isoformat()}.")
    finally:
        postgres.drop_database(database_url)
        server.stop()


if __name__ == "__main__":
    main()
