"""Static chart images for reports: kaleido with Debian's Chromium, kept warm.

kaleido's sync server keeps one Chromium running for the process, so an export
costs about 0.15 s instead of about 3 s (DESIGN.md §7). Exports are serialised by
a lock: the server is one browser tab. The server starts on first use and stops
when the process exits. Its thread can die under it (kaleido then waits forever
for an answer): a dead server is started again, and an export that takes longer
than EXPORT_TIMEOUT_S fails the report instead of hanging its request.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import copy
import threading

import kaleido
from kaleido._sync_server import GlobalKaleidoServer

WIDTH = 1000
SCALE = 2  # crisp when printed: 2 pixels per CSS pixel
EXPORT_TIMEOUT_S = 60
_LOCK = threading.Lock()
_STARTED = False


def _ensure_server() -> None:
    global _STARTED
    server = GlobalKaleidoServer()
    if _STARTED and not _server_alive(server):
        _forget(server)  # its thread died: kaleido would wait on it forever
        _STARTED = False
    if not _STARTED:
        kaleido.start_sync_server(silence_warnings=True)
        atexit.register(stop_server)
        _STARTED = True


def _server_alive(server: GlobalKaleidoServer) -> bool:
    thread = getattr(server, "_thread", None)
    return bool(server.is_running() and thread is not None and thread.is_alive())


def _forget(server: GlobalKaleidoServer) -> None:
    """Reset kaleido's singleton without joining its (dead or stuck) thread."""
    for name in ("_thread", "_task_queue", "_return_queue"):
        if hasattr(server, name):
            delattr(server, name)
    server._initialized = False


def stop_server() -> None:
    """Stop the warm Chromium (at exit; harmless when it never started)."""
    global _STARTED
    with _LOCK:
        if _STARTED:
            kaleido.stop_sync_server(silence_warnings=True)
            _STARTED = False


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
    static = static_spec(spec, height)
    options = {"format": "png", "width": WIDTH, "height": static["layout"]["height"],
               "scale": SCALE}  # fmt: skip
    global _STARTED
    with _LOCK:
        _ensure_server()
        worker = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            job = worker.submit(kaleido.calc_fig_sync, static, opts=options)
            return job.result(timeout=EXPORT_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            _forget(GlobalKaleidoServer())  # stuck: the next export starts anew
            _STARTED = False
            raise RuntimeError(
                f"The chart export took longer than {EXPORT_TIMEOUT_S} s."
            ) from None
        finally:
            worker.shutdown(wait=False)
