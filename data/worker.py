"""The ingest worker process: `python -m data.worker` (the compose `worker` service).

It runs the jobs that web processes put on the RQ queue INGEST_QUEUE (mode `rq`:
REDIS_URL and MONGO_URI both set). Jobs run one at a time in this process
(rq.SimpleWorker: no fork, so MongoDB and S3 clients are created once). Without
MONGO_URI there is nothing to do here: the in-process database lives inside the web
process, which then runs its own jobs (see data/ingest/jobs.py).

A sweeper thread requeues, every INGEST_STALE_AFTER_S seconds, versions whose run
died (status processing, heartbeat stale), so they complete without waiting for a
web process to restart. Requeueing twice is harmless: only one run can claim.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from rq import Queue, SimpleWorker

from app import create_app
from config import load_settings
from data.ingest import jobs, lifecycle

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    """Start consuming the ingest queue; --burst stops when it is empty."""
    options = _arguments(argv)
    settings = load_settings()
    problem = _configuration_problem(settings)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    app = create_app()  # services, the app context the analytics hook needs
    services = app.server.extensions["insightboard"]
    jobs.register_worker_context(services, app.server)
    connection = jobs.rq_connection(settings.redis_url)
    queue = Queue(settings.ingest_queue, connection=connection)
    sweeper = StaleSweeper(services, settings.ingest_stale_after_s)
    sweeper.start()
    try:
        SimpleWorker([queue], connection=connection).work(
            burst=options.burst, logging_level=settings.log_level
        )
    finally:
        sweeper.stop()
        services.close()
    return 0


class StaleSweeper(threading.Thread):
    """Requeues dead runs every `interval` seconds until stopped."""

    def __init__(self, services, interval: float) -> None:
        super().__init__(name="ingest-sweeper", daemon=True)
        self.services, self.interval = services, interval
        self.stopped = threading.Event()
        self.sweeps = 0

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                lifecycle.requeue_pending(self.services, stale_only=True)
            except Exception:  # a database hiccup must not end the sweeps
                log.exception("requeueing stale ingest runs failed")
            self.sweeps += 1

    def stop(self) -> None:
        """End the loop (the current sweep finishes first)."""
        self.stopped.set()
        self.join(timeout=self.interval + 5)


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
