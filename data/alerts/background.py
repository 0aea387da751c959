"""The alert evaluator's background threads, each in the submitter's app context.

Evaluations run on one thread and are coalesced: while a dataset's evaluation
waits to start, more requests for it (a burst of appends) join that one, since it
reads the data as it is when it starts. Deliveries run on their own few threads,
so a slow webhook holds neither the evaluator lock nor the next evaluation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for

from flask import current_app, has_app_context


class Worker:
    """A thread pool that merges a task into the pending one of the same key and
    can wait for everything submitted so far."""

    def __init__(self, name: str, threads: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
        self.lock = threading.Lock()
        self.pending: dict[Hashable, Future] = {}
        self.outstanding: set[Future] = set()

    def submit(self, task: Callable, *args, key: Hashable = None) -> Future:
        """Run `task(*args)` on a pool thread; with a `key` already waiting to
        start, return that task's future instead (the two are one)."""
        server = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
        with self.lock:
            if key is not None and key in self.pending:
                return self.pending[key]
            future = self.executor.submit(self._run, key, server, task, args)
            self.outstanding.add(future)
            if key is not None:
                self.pending[key] = future
        future.add_done_callback(self._finished)
        return future

    def _run(self, key: Hashable, server, task: Callable, args: tuple):
        with self.lock:  # started: a later request needs a later run
            self.pending.pop(key, None)
        if server is None:
            return task(*args)
        with server.app_context():
            return task(*args)

    def _finished(self, future: Future) -> None:
        with self.lock:
            self.outstanding.discard(future)

    def wait(self) -> None:
        """Return once every task submitted so far (and any they submitted to this
        worker) has finished."""
        while True:
            with self.lock:
                running = [f for f in self.outstanding if not f.done()]
            if not running:
                return
            wait_for(running)

    def shutdown(self) -> None:
        """Finish the queued tasks and stop the threads."""
        self.executor.shutdown()
