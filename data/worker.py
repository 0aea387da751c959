"""The ingest worker process: `python -m data.worker` (the compose `worker` service).

It runs the jobs that web processes put on the RQ queue INGEST_QUEUE (mode `rq`:
REDIS_URL and MONGO_URI both set). Jobs run one at a time in this process
(rq.SimpleWorker: no fork, so MongoDB and S3 clients are created once). Without
MONGO_URI there is nothing to do here: the in-process database lives inside the web
process, which then runs its own jobs (see data/ingest/jobs.py).
"""

from __future__ import annotations

import argparse
import sys

from rq import Queue, SimpleWorker

from config import load_settings
from data.ingest import jobs


def main(argv: list[str] | None = None) -> int:
    """Start consuming the ingest queue; --burst stops when it is empty."""
    options = _arguments(argv)
    settings = load_settings()
    problem = _configuration_problem(settings)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from app import create_app

    app = create_app()  # services, the app context the analytics hook needs
    services = app.server.extensions["insightboard"]
    jobs.register_worker_context(services, app.server)
    connection = jobs.rq_connection(settings.redis_url)
    queue = Queue(settings.ingest_queue, connection=connection)
    try:
        SimpleWorker([queue], connection=connection).work(
            burst=options.burst, logging_level=settings.log_level
        )
    finally:
        services.close()
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m data.worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when idle")
    return parser.parse_args(argv)


def _configuration_problem(settings) -> str | None:
    if not settings.redis_url:
        return "REDIS_URL is not set: there is no queue to work on."
    if settings.in_process_mongo:
        return (
            "MONGO_URI is not set: the in-process database lives in the web process, "
            "which runs its own ingest jobs. A separate worker needs a MongoDB server."
        )
    return None


if __name__ == "__main__":
    sys.exit(main())
