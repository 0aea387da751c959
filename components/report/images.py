"""Static chart images for reports: kaleido with Debian's Chromium, kept warm.

One Chromium (a `kaleido.Kaleido`) stays open for the process, so an export costs
about 0.15 s instead of about 3 s (DESIGN.md §7). It runs on its own event loop in
a daemon thread; exports are handed to that loop and serialised by a lock (the
browser is one tab). kaleido's own sync server is not used: it blocks its loop on
a queue and, when its thread dies, leaves callers waiting forever.

An export that takes longer than EXPORT_TIMEOUT_S, or whose loop thread has died
(dash.testing's server stop raises SystemExit in every thread started while its
server ran), fails the report instead of hanging the request; that browser is
killed and the next export opens a new one. Waiting happens on daemon threads
only, so a stuck export never holds up the process's exit.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import copy
import os
import signal
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import kaleido

WIDTH = 1000
SCALE = 2  # crisp when printed: 2 pixels per CSS pixel
EXPORT_TIMEOUT_S = 60
OPEN_TIMEOUT_S = 60
CLOSE_TIMEOUT_S = 10
POLL_S = 0.25


class ExportFailed(RuntimeError):
    """A chart could not be exported (the report says so)."""


class Exporter:
    """One warm Chromium driven from its own event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self._serve, name="chart-export", daemon=True
        )
        self.thread.start()
        self.browser: Any = None
        try:
            self.browser = self.run(self._open, OPEN_TIMEOUT_S)
        except ExportFailed:
            self.discard()
            raise

    def _serve(self) -> None:
        """The loop's thread; ended from outside, it just stops (alive() says so)."""
        with contextlib.suppress(SystemExit):
            self.loop.run_forever()

    @staticmethod
    async def _open() -> kaleido.Kaleido:
        browser = kaleido.Kaleido(n=1, timeout=EXPORT_TIMEOUT_S)
        await browser.open()
        return browser

    def alive(self) -> bool:
        """The loop thread runs and the browser process has not exited."""
        process = getattr(self.browser, "subprocess", None)
        return self.thread.is_alive() and (process is None or process.poll() is None)

    def run(self, make: Callable[[], Coroutine], timeout: float) -> Any:
        """Run `make()`'s coroutine on the loop; give up when it takes too long or
        the loop's thread dies under it. The coroutine is made on the loop, when
        it starts, so one that never starts leaves nothing un-awaited behind."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        tasks: list[asyncio.Task] = []

        def start() -> None:
            if future.set_running_or_notify_cancel():
                task = self.loop.create_task(make())
                task.add_done_callback(lambda done: _settle(future, done))
                tasks.append(task)

        self.loop.call_soon_threadsafe(start)
        deadline = time.monotonic() + timeout
        while True:
            try:
                return future.result(timeout=POLL_S)
            except concurrent.futures.TimeoutError:
                if not self.thread.is_alive():
                    future.cancel()
                    raise ExportFailed("The chart exporter stopped.") from None
                if time.monotonic() > deadline:
                    future.cancel()
                    for task in tasks:
                        self.loop.call_soon_threadsafe(task.cancel)
                    raise ExportFailed(
                        f"The chart export took longer than {timeout:g} s."
                    ) from None

    def png(self, static: dict, options: dict) -> bytes:
        return self.run(
            lambda: self.browser.calc_fig(static, opts=options), EXPORT_TIMEOUT_S
        )

    def close(self) -> None:
        """Close the browser politely if the loop still runs, then discard."""
        if self.thread.is_alive() and self.browser is not None:
            with contextlib.suppress(Exception):
                self.run(self.browser.close, CLOSE_TIMEOUT_S)
        self.discard()

    def discard(self) -> None:
        """Kill the browser, stop the loop and release it (stuck or dead)."""
        self.kill()
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=CLOSE_TIMEOUT_S)
        if not self.thread.is_alive() and not self.loop.is_running():
            self.loop.close()

    def kill(self) -> None:
        """End the browser's process group (its wrapper starts a new session)."""
        process = getattr(self.browser, "subprocess", None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            process.wait(timeout=CLOSE_TIMEOUT_S)


def _settle(future: concurrent.futures.Future, task: asyncio.Task) -> None:
    """Hand a finished task's outcome to the waiting thread's future."""
    if future.cancelled():
        return
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


_LOCK = threading.Lock()
_EXPORTER: Exporter | None = None


def _exporter() -> Exporter:
    """The warm exporter, opened again when the last one died (call under _LOCK)."""
    global _EXPORTER
    if _EXPORTER is not None and not _EXPORTER.alive():
        _EXPORTER.discard()
        _EXPORTER = None
    if _EXPORTER is None:
        _EXPORTER = Exporter()
    return _EXPORTER


def warm() -> None:
    """Open the browser now (a report's first export then costs no start-up)."""
    with _LOCK:
        _exporter()


def stop_server() -> None:
    """Close the warm Chromium (at exit; harmless when it never started)."""
    global _EXPORTER
    with _LOCK:
        if _EXPORTER is not None:
            _EXPORTER.close()
            _EXPORTER = None


atexit.register(stop_server)


def static_spec(spec: dict, height: int | None = None) -> dict:
    """A figure spec for paper: no range slider or buttons, fixed size."""
    static = copy.deepcopy(spec)
    layout = static.setdefault("layout", {})
    xaxis = layout.get("xaxis") or {}
    xaxis.pop("rangeselector", None)
    if "rangeslider" in xaxis:
        xaxis["rangeslider"] = {"visible": False}
    layout["xaxis"] = xaxis
    layout.pop("uirevision", None)
    layout["height"] = height or layout.get("height") or 360
    layout["width"] = WIDTH
    return static


def png(spec: dict, height: int | None = None) -> bytes:
    """The PNG of a figure spec (plain data, as the page's builders make it)."""
    global _EXPORTER
    static = static_spec(spec, height)
    options = {"format": "png", "width": WIDTH, "height": static["layout"]["height"],
               "scale": SCALE}  # fmt: skip
    with _LOCK:
        exporter = _exporter()
        try:
            return exporter.png(static, options)
        except ExportFailed:
            exporter.discard()  # stuck or dead: the next export opens a new browser
            _EXPORTER = None
            raise
