"""Static chart images for reports: kaleido with Debian's Chromium, kept warm.

kaleido's sync server keeps one Chromium running for the process, so an export
costs about 0.15 s instead of about 3 s (DESIGN.md §7). Exports are serialised by
a lock: the server is one browser tab. The server starts on first use and stops
when the process exits.
"""

from __future__ import annotations

import atexit
import copy
import threading

import kaleido

WIDTH = 1000
SCALE = 2  # crisp when printed: 2 pixels per CSS pixel
_LOCK = threading.Lock()
_STARTED = False


def _ensure_server() -> None:
    global _STARTED
    if not _STARTED:
        kaleido.start_sync_server(silence_warnings=True)
        atexit.register(stop_server)
        _STARTED = True


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
    with _LOCK:
        _ensure_server()
        return kaleido.calc_fig_sync(static, opts=options)
