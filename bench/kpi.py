"""KPI benchmark: a 1,000,000-event web-analytics log on the in-process engine.

    nice -n 10 python -m bench.kpi [--events 1000000] [--repeat 20]

Generates the demo event log (data/demo_events.py, fixed seed) with a 50-value
`store` column, uploads it through the dataset service with the demo measures
(inline ingest: parse, records, roll-ups and KPI roll-ups), then times:

- ingest: upload → processed;
- the KPI page's main callback (`callbacks.kpi.render_view`: four measures, daily,
  90 days, one filter, plus Dash's JSON encoding), cold (cache cleared before
  each call) and cached;
- a breakdown by the 50-value dimension (cold, `get_kpi`).

Also counts the KPI roll-up documents per grain (hour, day), so the cost can be
extrapolated to a server. Prints a Markdown section for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import statistics
import time
import uuid

import numpy as np
from plotly.io.json import to_json_plotly

from tests.services import RedisServer

POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"
)
PAGE = (
    "?measures=dau,sessions,bounce_rate,revenue&period=custom&from=2026-09-02"
    "&to=2026-11-30&granularity=day&filter.traffic_source=email"
)
BREAKDOWN = {
    "measures": "dau,sessions,bounce_rate,revenue",
    "from": "2026-09-02",
    "to": "2026-11-30",
    "breakdown": "store",
    "top": "10",
}


def events_csv(events: int) -> bytes:
    """The demo generator's log plus a 50-value `store` column."""
    from data.demo_events import generate_events, to_csv

    frame = generate_events(events=events, days=90)
    rng = np.random.default_rng(50)
    frame["store"] = np.array([f"store-{i:02d}" for i in range(50)])[
        rng.integers(0, 50, len(frame))
    ]
    return to_csv(frame)


def timed(function, repeat: int) -> list[float]:
    """Wall-clock milliseconds of each call."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run(events: int, repeat: int) -> str:
    """Set up, measure, tear down; the Markdown section."""
    from app import create_app
    from callbacks.kpi import render_view
    from data import datasets, postgres
    from data.cache import cache
    from data.demo_events import DEMO_DIMENSIONS, DEMO_MEASURES
    from data.ingest.schema import Choice
    from data.kpi.service import get_kpi

    database_url = f"{POSTGRES_SERVER}/ib_bench_{uuid.uuid4().hex[:10]}"
    redis_server = RedisServer().start()
    app = None
    try:
        app = create_app(
            {
                "app_env": "test",
                "database_url": database_url,
                "redis_url": redis_server.url,
                "ingest_mode": "inline",
                "max_dimension_columns": 6,
                "local_store_dir": f"/tmp/ib-bench-{uuid.uuid4().hex[:8]}",
                "secret_key": "bench-secret-key-that-is-long-enough-0123456789",
                "log_level": "WARNING",
            }
        )
        services = app.server.extensions["insightboard"]
        owner = str(uuid.uuid4())
        data = events_csv(events)
        choice = Choice("timestamp", ("revenue",), (*DEMO_DIMENSIONS, "store"))
        started = time.perf_counter()
        with app.server.app_context():
            result = datasets.upload_dataset(
                services,
                owner,
                io.BytesIO(data),
                dataset_name="Bench events",
                choice=choice,
                measures=DEMO_MEASURES,
            )
        ingest_s = time.perf_counter() - started
        dataset_id = result["id"]
        rollups = services.mongo["kpi_rollups"]
        counts = {
            g: rollups.count_documents({"datasetId": dataset_id, "g": g})
            for g in ("hour", "day")
        }

        def page():
            outputs = render_view(services, owner, dataset_id, PAGE)
            assert outputs["status"] is None, outputs["status"]
            return to_json_plotly(outputs)

        def cold_page():
            cache.clear()
            page()

        def cold_breakdown():
            cache.clear()
            get_kpi(services, owner, dataset_id, BREAKDOWN)

        with app.server.app_context():
            cold = timed(cold_page, max(3, repeat // 4))
            page()
            cached = timed(page, repeat)
            breakdown = timed(cold_breakdown, max(3, repeat // 4))
        return report(
            events,
            result["rowCount"],
            len(data),
            ingest_s,
            counts,
            cold,
            cached,
            breakdown,
        )
    finally:
        if app is not None:
            app.server.extensions["insightboard"].close()
        redis_server.stop()
        postgres.drop_database(database_url)


def report(events, rows, size, ingest_s, counts, cold, cached, breakdown) -> str:
    """The BENCHMARKS.md section."""
    median = statistics.median
    load = os.getloadavg()
    return "\n".join(
        [
            "## KPI portal",
            "",
            f"`nice -n 10 python -m bench.kpi --events {events}` — {rows:,} events "
            f"({size / 1e6:.1f} MB CSV), 90 days, in-process engine, Redis cache.",
            "",
            f"Machine: {platform.platform()}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPUs shared (load average {load[0]:.1f} at the end). "
            f"Date: {dt.date.today().isoformat()}.",
            "",
            "| measure | value |",
            "|---|---|",
            "| ingest (upload → processed: records, roll-ups, KPI roll-ups) | "
            f"{ingest_s:.1f} s |",
            f"| KPI roll-up documents, hour grain | {counts['hour']:,} |",
            f"| KPI roll-up documents, day grain | {counts['day']:,} |",
            "| KPI page main callback, cold (4 measures, daily, 90 days, 1 filter; "
            f"median of {len(cold)}) | {median(cold):,.0f} ms "
            f"(max {max(cold):,.0f}) |",
            f"| same, cached (median of {len(cached)}) | {median(cached):.1f} ms "
            f"(p95 {sorted(cached)[int(0.95 * (len(cached) - 1))]:.1f}) |",
            f"| cached / cold | 1/{median(cold) / median(cached):.0f} |",
            f"| breakdown by a 50-value dimension, cold (median of {len(breakdown)}) | "
            f"{median(breakdown):,.0f} ms |",
            "",
        ]
    )


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    print(run(arguments.events, arguments.repeat))


if __name__ == "__main__":
    main()
