"""The warm chart exporter survives its server thread dying (a browser test's
server stop can end threads of the process): the next export starts a new server
instead of waiting forever."""

from __future__ import annotations

import threading

from kaleido._sync_server import GlobalKaleidoServer

from components.report import images

SPEC = {"data": [{"type": "scatter", "x": [1, 2, 3], "y": [2, 1, 3]}], "layout": {}}


def test_an_export_after_the_server_thread_died_starts_a_new_server():
    first = images.png(SPEC, height=200)
    assert first.startswith(b"\x89PNG")
    server = GlobalKaleidoServer()
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    server._thread = dead  # as if something had ended kaleido's thread
    again = images.png(SPEC, height=200)
    assert again.startswith(b"\x89PNG")
    assert server._thread is not dead and server._thread.is_alive()
