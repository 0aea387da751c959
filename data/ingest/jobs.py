"""Run ingest jobs: on a Redis (RQ) queue, or in this process.

Settings.ingest_mode (`auto` chooses from REDIS_URL and MONGO_URI):

- `rq`: Redis and a MongoDB server. Jobs go to the RQ queue `INGEST_QUEUE`; the
  compose `worker` service (`python -m data.worker`) runs them, so uploads never
  compete with page requests for the web process's CPU.
- `rq-local`: Redis with the in-process MongoDB engine. A worker process could not
  see this process's in-memory database, so the queue is private to this process
  (`<queue>-local-<token>`) and an RQ SimpleWorker thread here consumes it.
- `thread`: no Redis. One background thread runs the jobs in submission order.
- `inline`: the job runs inside the submitting call (scripts and tests).

Every mode runs the same function, processing.process_version, inside the Flask
app context (the analytics hook uses the app's cache). Other background work
(reports) registers a named task (register_task) and is submitted with
`runner.submit_task(name, *args)`, on the same queue and worker. When Redis cannot
take a job, it runs on the in-process thread instead, so an outage never loses an
upload.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import redis
from rq import Queue, SimpleWorker
from rq.timeouts import TimerDeathPenalty

from data.ingest.processing import process_version
from data.services import Services

log = logging.getLogger(__name__)
JOB_TIMEOUT_S = 2 * 3600
_REGISTRY: dict[str, tuple[Services, object]] = {}
_WORKER_CONTEXT: dict[str, tuple[Services, object]] = {}
# Named background tasks other than ingest: name -> function(services, *args).
TASKS: dict[str, Callable[..., object]] = {}


def register_task(name: str, function: Callable[..., object]) -> None:
    """Make `function(services, *args)` runnable as a queued task called `name`."""
    TASKS[name] = function


def register_worker_context(services: Services, server) -> None:
    """Used by `python -m data.worker`: the services that queued jobs run with."""
    _WORKER_CONTEXT["default"] = (services, server)


def run_job(owner_id: str, dataset_id: str, version: int, token: str | None = None):
    """The RQ job function: find this process's services and process the version."""
    context = _REGISTRY.get(token) if token else _WORKER_CONTEXT.get("default")
    if context is None:
        raise RuntimeError("no ingest context in this process (start data.worker)")
    services, server = context
    return run_in_context(services, server, owner_id, dataset_id, version)


def run_in_context(services: Services, server, owner_id, dataset_id, version) -> str:
    """process_version inside the app context when there is an app."""
    scope = server.app_context() if server is not None else contextlib.nullcontext()
    with scope:
        return process_version(services, owner_id, dataset_id, int(version))


def run_task(name: str, args: tuple, token: str | None = None):
    """The RQ job function of a named task: this process's services, then the task."""
    context = _REGISTRY.get(token) if token else _WORKER_CONTEXT.get("default")
    if context is None:
        raise RuntimeError("no job context in this process (start data.worker)")
    return run_task_in_context(*context, name, args)


def run_task_in_context(services: Services, server, name: str, args: tuple):
    """A named task inside the app context when there is an app."""
    scope = server.app_context() if server is not None else contextlib.nullcontext()
    with scope:
        return TASKS[name](services, *args)


class InlineRunner:
    """Runs each job inside submit()."""

    mode = "inline"

    def __init__(self, services: Services, server=None) -> None:
        self.services, self.server = services, server

    def submit(self, owner_id: str, dataset_id: str, version: int) -> None:
        """Process now."""
        run_in_context(self.services, self.server, owner_id, dataset_id, version)

    def submit_task(self, name: str, *args) -> None:
        """Run a named task now."""
        run_task_in_context(self.services, self.server, name, args)

    def stop(self) -> None:
        """Nothing runs in the background."""


class ThreadRunner(InlineRunner):
    """One background thread; jobs run in submission order."""

    mode = "thread"

    def __init__(self, services: Services, server=None) -> None:
        super().__init__(services, server)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    def submit(self, owner_id: str, dataset_id: str, version: int) -> None:
        """Queue the job on the thread."""
        self.executor.submit(self._run, owner_id, dataset_id, version)

    def _run(self, owner_id: str, dataset_id: str, version: int) -> None:
        try:
            run_in_context(self.services, self.server, owner_id, dataset_id, version)
        except Exception:
            log.exception("ingest job crashed", extra={"dataset": dataset_id})

    def submit_task(self, name: str, *args) -> None:
        """Queue a named task on the thread (after the jobs already queued)."""
        self.executor.submit(self._run_task, name, args)

    def _run_task(self, name: str, args: tuple) -> None:
        try:
            run_task_in_context(self.services, self.server, name, args)
        except Exception:
            log.exception("background task crashed", extra={"task": name})

    def stop(self) -> None:
        """Finish the running job, drop queued ones (start-up recovery requeues)."""
        self.executor.shutdown(wait=True, cancel_futures=True)


def rq_connection(url: str | None) -> redis.Redis:
    """A Redis client for RQ: short connect timeout, no read timeout (BLPOP)."""
    if not url:
        raise ValueError("RQ needs REDIS_URL")
    return redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)


class RqRunner:
    """Enqueues jobs on an RQ queue; a worker (process or thread) runs them."""

    mode = "rq"

    def __init__(self, services: Services, server=None, queue_name=None) -> None:
        self.services, self.server = services, server
        self.connection = rq_connection(services.settings.redis_url)
        self.queue = Queue(
            queue_name or services.settings.ingest_queue, connection=self.connection
        )
        self.token: str | None = None
        self.timeout = JOB_TIMEOUT_S
        self.fallback: ThreadRunner | None = None

    def submit(self, owner_id: str, dataset_id: str, version: int) -> None:
        """Enqueue; when Redis fails, run on an in-process thread instead."""
        try:
            self.queue.enqueue(
                run_job,
                args=(owner_id, dataset_id, version, self.token),
                job_timeout=self.timeout,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                description=f"ingest {dataset_id} v{version}",
            )
        except redis.exceptions.RedisError as error:
            log.warning(
                "enqueue failed; running in process", extra={"error": str(error)}
            )
            self._fallback().submit(owner_id, dataset_id, version)
        self.wake()

    def submit_task(self, name: str, *args) -> None:
        """Enqueue a named task; when Redis fails, run it on a thread instead."""
        try:
            self.queue.enqueue(
                run_task,
                args=(name, args, self.token),
                job_timeout=self.timeout,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                description=f"{name} {args[0] if args else ''}",
            )
        except redis.exceptions.RedisError as error:
            log.warning(
                "enqueue failed; running in process", extra={"error": str(error)}
            )
            self._fallback().submit_task(name, *args)
        self.wake()

    def _fallback(self) -> ThreadRunner:
        if self.fallback is None:
            self.fallback = ThreadRunner(self.services, self.server)
        return self.fallback

    def wake(self) -> None:
        """Nothing to wake: a worker process listens on the queue."""

    def stop(self) -> None:
        """Stop the fallback thread and drop the Redis connection."""
        if self.fallback is not None:
            self.fallback.stop()
        self.connection.close()


class _ThreadWorker(SimpleWorker):
    """An RQ worker that can run in a non-main thread (no signals, no pub/sub)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass

    def subscribe(self) -> None:
        """No remote-command channel (it would need a thread per burst)."""

    def unsubscribe(self) -> None:
        """Nothing was subscribed."""


class LocalRqRunner(RqRunner):
    """A private RQ queue consumed by a SimpleWorker thread in this process."""

    mode = "rq-local"

    def __init__(self, services: Services, server=None) -> None:
        token = uuid.uuid4().hex
        name = f"{services.settings.ingest_queue}-local-{token}"
        super().__init__(services, server, name)
        self.token = self.local_token = token
        self.timeout = -1  # no SIGALRM in threads; the heartbeat detects hung runs
        _REGISTRY[token] = (services, server)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.thread = threading.Thread(
            target=self._loop, name=f"ingest-rq-{token[:8]}", daemon=True
        )
        self.thread.start()

    def wake(self) -> None:
        """Tell the worker thread that a job is waiting."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=2.0)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                if self.queue.count:
                    self._burst()
            except redis.exceptions.RedisError as error:
                log.warning("ingest queue unreachable", extra={"error": str(error)})

    def _burst(self) -> None:
        worker = _ThreadWorker(
            [self.queue],
            connection=self.connection,
            name=f"insightboard-{self.local_token[:8]}-{uuid.uuid4().hex[:8]}",
        )
        worker.work(burst=True, logging_level="WARNING", with_scheduler=False)

    def stop(self) -> None:
        """Finish the running job, stop the thread, remove the private queue."""
        self._stop.set()
        self._wake.set()
        self.thread.join(timeout=600)
        _REGISTRY.pop(self.local_token, None)
        with contextlib.suppress(redis.exceptions.RedisError):
            self.queue.delete(delete_jobs=True)
            self.connection.delete(*(registry.key for registry in self._registries()))
        super().stop()

    def _registries(self) -> list:
        """The private queue's job registries (RQ keeps them after the queue)."""
        queue = self.queue
        return [
            queue.started_job_registry,
            queue.finished_job_registry,
            queue.failed_job_registry,
            queue.deferred_job_registry,
            queue.scheduled_job_registry,
            queue.canceled_job_registry,
        ]


RUNNERS = {
    "inline": InlineRunner,
    "thread": ThreadRunner,
    "rq": RqRunner,
    "rq-local": LocalRqRunner,
}


def create_runner(services: Services, server=None):
    """The runner for the configured mode."""
    return RUNNERS[services.settings.resolved_ingest_mode](services, server)
