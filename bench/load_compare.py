"""Two builds under the same load, interleaved: which one costs less per request.

    python -m bench.load_compare BEFORE_TREE AFTER_TREE [--rounds 8]
                                 [--only "default (day) view"] [--rows 100000]

Each tree is a checkout of this project (`git worktree add ../before <commit>`).
Both are served at once, each by `gunicorn --config deploy/gunicorn.conf.py
app:server` from its own tree (`bench.load.served`: own PostgreSQL database and
object store; one private Redis with a database each), prepared as `bench.load`
prepares one; then wrk runs 3 seconds per scenario, alternating between the two
servers and swapping their order every round. On a machine whose speed drifts
from minute to minute, the medians of such rounds compare the builds; two
separate `bench.load` runs do not.

Prints a Markdown table of medians for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from pathlib import Path

from bench import load
from tests.services import RedisServer

SECONDS_PER_RUN = 3


def compare(options: argparse.Namespace) -> str:
    """Serve both trees, alternate wrk between them, return the medians' table."""
    redis_server = RedisServer().start()
    results: dict[str, dict[str, list[load.Result]]] = {}
    try:
        with contextlib.ExitStack() as stack:
            servers = []
            for index, tree in enumerate(options.trees):
                directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
                redis_url = redis_server.url.rsplit("/", 1)[0] + f"/{index + 1}"
                base, pid = stack.enter_context(load.served(tree, redis_url, directory))
                context = load.prepare(base, options.rows)
                scenarios = load.chosen(load.scenarios(context), options.only)
                servers.append((tree, base, pid, scenarios, directory))
                results[tree] = {}
            for round_number in range(options.rounds):
                order = servers if round_number % 2 == 0 else servers[::-1]
                for tree, base, pid, scenarios, directory in order:
                    for scenario in scenarios:
                        result = load.run_wrk(
                            base, scenario, 16, SECONDS_PER_RUN, directory,
                            load.worker_pid(pid),
                        )  # fmt: skip
                        load.settle(base)
                        results[tree].setdefault(scenario.name, []).append(result)
    finally:
        redis_server.stop()
    return report(results, options.rounds)


def report(results: dict[str, dict[str, list[load.Result]]], rounds: int) -> str:
    """One row per tree and scenario: medians over the rounds, every p99."""
    lines = [
        f"Interleaved, {rounds} rounds of {SECONDS_PER_RUN} s per scenario, 16 "
        "connections, medians:",
        "",
        "| tree | request | req/s | p50 | p99 | worker CPU per request | errors "
        "| every p99 (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tree, by_scenario in results.items():
        for name, runs in by_scenario.items():
            rate = statistics.median(run.requests_per_s for run in runs)
            p50 = statistics.median(run.p50_ms for run in runs)
            p99 = statistics.median(run.p99_ms for run in runs)
            cpu = statistics.median(run.cpu_ms for run in runs)
            every = ", ".join(f"{run.p99_ms:.0f}" for run in sorted(runs, key=_p99))
            errors = sum(run.errors for run in runs)
            lines.append(
                f"| {tree} | {name} | {rate:,.0f} | {p50:.1f} ms | {p99:.1f} ms "
                f"| {cpu:.2f} ms | {errors} | {every} |"
            )
    return "\n".join(lines) + "\n"


def _p99(run: load.Result) -> float:
    return run.p99_ms


def main() -> None:
    """Parse arguments and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, help="two checkouts: before, after")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", nargs="+", default=["default (day) view"])
    print(compare(parser.parse_args()))


if __name__ == "__main__":
    main()
