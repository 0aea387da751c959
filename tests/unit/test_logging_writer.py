"""The process's log writer: JSON lines on stderr, written by a thread of their own,
with the request id read in the request's thread, and nothing lost at exit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# stderr is replaced by a stream whose writes wait until the script lets them go:
# a request thread that wrote the line itself would wait there too.
SCRIPT = textwrap.dedent(
    """
    import io, logging, sys, threading, time

    released = threading.Event()

    class HeldStream(io.StringIO):
        def write(self, text):
            released.wait()
            return sys.__stderr__.write(text)

        def flush(self):
            sys.__stderr__.flush()

    sys.stderr = HeldStream()
    from flask import Flask
    from api.observability import configure_logging, install_request_logging

    configure_logging("INFO")
    configure_logging("INFO")  # a second app in the same process: still one writer
    server = Flask(__name__)
    install_request_logging(server)

    @server.get("/work")
    def work():
        logging.getLogger("insightboard.test").info("working", extra={"step": 1})
        return "done"

    started = time.monotonic()
    answer = server.test_client().get("/work", headers={"X-Request-ID": "req-42"})
    waited = time.monotonic() - started
    print(answer.status_code, "answered while held" if waited < 5 else "blocked")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("insightboard.test").exception("failed")
    released.set()
    """
)


def run_script() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_request_threads_do_not_wait_for_the_stream_and_exit_writes_every_line():
    finished = run_script()
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "200 answered while held"
    entries = [json.loads(line) for line in finished.stderr.splitlines()]
    # The route's record and the access line (in that order), then the exception:
    # all queued while the stream was held, all written before the process ended.
    assert [e["message"] for e in entries] == ["working", "request", "failed"]
    working, access, failed = entries
    assert working["request_id"] == access["request_id"] == "req-42"
    assert working["step"] == 1
    assert access["path"] == "/work" and access["status"] == 200
    assert "request_id" not in failed  # logged outside any request
    assert "ValueError: boom" in failed["exception"]
