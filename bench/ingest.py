"""Ingest benchmark: parse throughput beside plain pandas, end-to-end uploads.

Run from the repository root: `python -m bench.ingest` (needs the local
PostgreSQL; creates and drops its own database). Generates CSVs of 10k, 100k and
1M rows (ISO time, 1 metric, 2 dimensions) and measures, each case in a fresh
process so that its peak memory (peak RSS minus the RSS before the work) is its
own:

- `pandas.read_csv`: plain `pd.read_csv(path)`, the baseline;
- `analysis`: what the upload request does before answering 202: sniff the first
  megabyte, read the header and first 1,000 rows, infer and resolve the schema;
- `parse`: the background job's streaming parse of the whole file (chunked
  C-parser read, time and metric validation, bad-row detection), analysis
  excluded, no documents built;
- `pipeline`: the background job's own `processing.write_version` (parse,
  record documents, roll-ups emitted batch by batch) with a sink that writes
  nowhere (what ingest costs apart from the database);
- `end-to-end`: `data.datasets.upload_dataset` on the in-process MongoDB engine,
  from the upload call to `processed` (statusHistory timestamps), including
  hashing, storing the file, writing records and roll-ups. Its peak memory
  includes the in-process database itself, which keeps every record in memory.

Prints a Markdown section for BENCHMARKS.md. `--sizes 10000,100000` limits sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

SIZES = (10_000, 100_000, 1_000_000)
REPEATS = {10_000: 3, 100_000: 3, 1_000_000: 2}
PARSE_CASES = (
    "pandas.read_csv",
    "pandas.read_csv+dates",
    "analysis",
    "parse",
    "pipeline",
)
INTRO = """## Ingest

`python -m bench.ingest`: CSVs with an ISO time (one row per minute), one metric
and two dimensions. Each measurement runs in a fresh process; the median of the
repeats is shown. Peak memory is the process's peak RSS minus its RSS before the
work. CPU seconds stand beside wall seconds because the machine is shared (wall
time stretches with the load, CPU time much less); ratios use CPU time.
`pandas.read_csv` is the plain baseline, `+dates` the same with
`parse_dates=[time]` (typed times, as our parser produces).
"""
E2E_INTRO = """End to end on the in-process engine: `upload_dataset` (inline mode)
from the call to `processed` (statusHistory timestamps), and the whole call, which
also hashes and stores the file and then runs the analytics hook (default view,
then `cached`). Peak memory includes the in-process database, which holds every
record.
"""
SERVER = "postgresql://postgres@127.0.0.1:5432"


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    """time (ISO, one row per minute), revenue (2 decimals), region, channel."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2024-01-01", periods=rows, freq="min").strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
            "revenue": rng.normal(1000, 250, rows).round(2),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "channel": rng.choice(["web", "store", "phone"], rows),
        }
    )
    frame.to_csv(path, index=False)


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def rss_mb() -> float:
    """Current resident set size of this process in MB."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak resident set size of this process (VmHWM: unlike ru_maxrss it is not
    inherited from the parent across exec)."""
    return _status_mb("VmHWM")


def settings():
    """Bench settings: room for a million rows."""
    from config import load_settings

    return load_settings({"app_env": "test", "max_rows": 10_000_000})


def plans_for(path: Path):
    """Read and convert plans, from the same analysis an upload runs."""
    from data.ingest import analysis
    from data.ingest.processing import plans
    from data.ingest.schema import Choice

    config = settings()
    with path.open("rb") as source:
        sample = source.read(analysis.sample_size(config))
    result = analysis.analyse(sample, False, Choice(), config)
    schema, file_format = result.schema, result.format
    document = {
        "format": file_format.kind,
        "columns": [column.document() for column in schema.columns],
        "timeColumn": schema.time_column,
        "metricColumns": schema.metric_columns,
        "dimensionColumns": schema.dimension_columns,
        "parse": {
            "encoding": file_format.encoding,
            "delimiter": file_format.delimiter,
            "fields": result.fields,
            "timeFormat": schema.time_format,
        },
    }
    return file_format, *plans(document, config)


class DiscardingSink:
    """processing.write_version's sink for the bench: documents are built, then
    dropped (no database, no heartbeat)."""

    ids: tuple[str, int, int] = ("b" * 32, 1, 1)

    def progress(self, totals, bytes_read: int) -> None:
        """No ownership to check."""

    def insert(self, collection: str, documents: list[dict]) -> None:
        """Written nowhere."""


def run_parse(path: Path, plans: tuple) -> int:
    """Our parser over the whole file: chunks read and validated, nothing built."""
    from data.ingest.readers import SourceStream, read_chunks
    from data.ingest.transform import convert_chunk

    file_format, read_plan, convert_plan = plans
    rows = 0
    with path.open("rb") as raw:
        stream = SourceStream(raw, file_format.encoding, 1024 * 1024)
        for frame in read_chunks(stream, read_plan):
            rows += len(convert_chunk(frame, convert_plan).rows)
    return rows


def run_pipeline(path: Path, plans: tuple, config) -> int:
    """The production job's processing.write_version, with a discarding sink."""
    from data.ingest.processing import RunTotals, write_version
    from data.ingest.readers import SourceStream

    file_format, read_plan, convert_plan = plans
    totals = RunTotals()
    with path.open("rb") as raw:
        stream = SourceStream(raw, file_format.encoding, 1024 * 1024)
        write_version(stream, read_plan, convert_plan, DiscardingSink(), totals, config)
    return totals.accepted


def run_end_to_end(path: Path, database_url: str) -> dict:
    """Upload through the service on the in-process engine; time to processed."""
    from app import create_app
    from data import datasets

    with tempfile.TemporaryDirectory() as store:
        app = create_app(
            {
                "app_env": "test",
                "database_url": database_url,
                "local_store_dir": store,
                "ingest_mode": "inline",
                "log_level": "WARNING",
                "max_rows": 10_000_000,
            }
        )
        services = app.server.extensions["insightboard"]
        try:
            with app.server.app_context(), path.open("rb") as upload:
                wall, cpu = time.perf_counter(), time.process_time()
                view = datasets.upload_dataset(
                    services, "bench-user", upload, dataset_name="bench"
                )
                call = (time.perf_counter() - wall, time.process_time() - cpu)
        finally:
            services.close()
    at = {entry["status"]: entry["at"] for entry in view["statusHistory"]}
    seconds = (
        dt.datetime.fromisoformat(at["processed"])
        - dt.datetime.fromisoformat(at["uploaded"])
    ).total_seconds()
    return {
        "rows": view["rowCount"],
        "status": view["status"],
        "to_processed_s": seconds,
        "call_wall_s": call[0],
        "call_cpu_s": call[1],
    }


def warm_up(case: str) -> None:
    """Import what the case uses, so import time and memory are not measured."""
    if case.startswith("pandas"):
        return
    import data.ingest.analysis
    import data.ingest.processing
    import data.ingest.rollups

    if case == "end-to-end":
        import app  # noqa: F401
        import data.datasets  # noqa: F401


def run_case(case: str, path: Path, database_url: str | None) -> dict:
    """One measurement in this process: wall and CPU seconds, peak memory delta."""
    warm_up(case)
    # The parse cases start from the plans the upload-time analysis made.
    plans = plans_for(path) if case in ("parse", "pipeline") else None
    config = settings()
    before = rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    extra: dict = {}
    if case == "pandas.read_csv":
        rows = len(pd.read_csv(path))
    elif case == "pandas.read_csv+dates":
        rows = len(pd.read_csv(path, parse_dates=["timestamp"], date_format="ISO8601"))
    elif case == "analysis":
        plans_for(path)
        rows = 0  # the first megabyte only
    elif case == "parse":
        rows = run_parse(path, cast(tuple, plans))
    elif case == "pipeline":
        rows = run_pipeline(path, cast(tuple, plans), config)
    else:
        extra = run_end_to_end(path, database_url or "")
        rows = extra["rows"]
    return {
        "rows": rows,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "peak_mb": peak_rss_mb() - before,
        **extra,
    }


def measure(case: str, path: Path, database_url: str | None = None) -> dict:
    """run_case in a fresh interpreter (so peak memory belongs to the case)."""
    command = [
        sys.executable,
        "-m",
        "bench.ingest",
        "--case",
        case,
        "--path",
        str(path),
    ]
    if database_url:
        command += ["--database-url", database_url]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def median_of(results: list[dict], field: str) -> float:
    """The median of one field over repeated measurements."""
    return statistics.median(result[field] for result in results)


def machine() -> str:
    """CPU model, core count, RAM and load, for the report."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), {memory_kb / 1024 / 1024:.0f} GB RAM, "
        f"Python {platform.python_version()}, pandas {pd.__version__}; "
        f"load average at the end {load}"
    )


def report(sizes, files, parse_results, e2e_results) -> str:
    """The BENCHMARKS.md section."""
    lines = [
        INTRO,
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}.",
        "",
        "Parsing (no database):",
        "",
        *parse_table(sizes, files, parse_results),
        "",
        E2E_INTRO,
        *end_to_end_table(files, e2e_results),
    ]
    return "\n".join(lines) + "\n"


def parse_table(sizes, files, parse_results) -> list[str]:
    """Rows per size and case, with CPU ratios to plain pandas."""
    lines = [
        "| rows | file MB | case | wall s | CPU s | rows/s (CPU) | CPU ratio to pandas "
        "| peak MB | peak / file |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        file_mb = files[size].stat().st_size / 1024 / 1024
        base_cpu = median_of(parse_results[size]["pandas.read_csv"], "cpu_s")
        for case in PARSE_CASES:
            results = parse_results[size][case]
            wall, cpu = median_of(results, "wall_s"), median_of(results, "cpu_s")
            peak = median_of(results, "peak_mb")
            speed = "" if case == "analysis" else f"{size / cpu:,.0f}"
            lines.append(
                f"| {size:,} | {file_mb:.1f} | {case} | {wall:.2f} | {cpu:.2f} "
                f"| {speed} | {cpu / base_cpu:.2f} | {peak:.0f} "
                f"| {peak / file_mb:.2f} |"
            )
    return lines


def end_to_end_table(files, e2e_results) -> list[str]:
    """Upload-to-processed time and throughput per size."""
    lines = [
        "| rows | file MB | uploaded→processed s | rows/s | call wall s | call CPU s "
        "| peak MB (incl. in-memory DB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for size, results in e2e_results.items():
        file_mb = files[size].stat().st_size / 1024 / 1024
        seconds = median_of(results, "to_processed_s")
        lines.append(
            f"| {size:,} | {file_mb:.1f} | {seconds:.2f} | {size / seconds:,.0f} "
            f"| {median_of(results, 'call_wall_s'):.2f} "
            f"| {median_of(results, 'call_cpu_s'):.2f} "
            f"| {median_of(results, 'peak_mb'):.0f} |"
        )
    return lines


def main_all(sizes: list[int]) -> None:
    """Generate the files, run every case, print the report."""
    from data import postgres

    database_url = f"{SERVER}/ib_bench_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(database_url)
    try:
        with tempfile.TemporaryDirectory() as directory:
            files = {size: Path(directory) / f"{size}.csv" for size in sizes}
            for size, path in files.items():
                write_csv(path, size)
            parse_results = {
                size: {
                    case: [measure(case, files[size]) for _ in range(REPEATS[size])]
                    for case in PARSE_CASES
                }
                for size in sizes
            }
            e2e_results = {
                size: [
                    measure("end-to-end", files[size], database_url)
                    for _ in range(REPEATS[size])
                ]
                for size in sizes
            }
            print(report(sizes, files, parse_results, e2e_results))
    finally:
        postgres.drop_database(database_url)


def main() -> None:
    """Without --case: the whole benchmark. With --case: one measurement (JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    parser.add_argument("--case")
    parser.add_argument("--path")
    parser.add_argument("--database-url")
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES))
    options = parser.parse_args()
    if options.case:
        result = run_case(options.case, Path(options.path), options.database_url)
        print(json.dumps(result))
        return
    main_all([int(size) for size in options.sizes.split(",")])


if __name__ == "__main__":
    main()
