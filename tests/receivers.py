"""Local receivers for alert notifications: an HTTP webhook endpoint (which can
fail the first requests) and an SMTP server (aiosmtpd), each on a free port."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.services import free_port


class WebhookReceiver:
    """Records every POST (headers, body); answers 500 to the first `fail_first`.
    With `hold`, each request is recorded (`arrived` is set) and answered only
    once `hold` is set (a slow receiver)."""

    def __init__(self, fail_first: int = 0, hold: threading.Event | None = None):
        self.fail_first = fail_first
        self.hold = hold
        self.arrived = threading.Event()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body}
                    )
                    failing = len(receiver.requests) <= receiver.fail_first
                receiver.arrived.set()
                if receiver.hold is not None:
                    receiver.hold.wait()
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailSink:
    """aiosmtpd handler keeping every message's envelope and content."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's)
        self.messages.append(
            {"to": list(envelope.rcpt_tos), "content": envelope.original_content}
        )
        return "250 OK"


class SmtpServer:
    """A local SMTP server (no TLS, no auth) on a free port."""

    def __init__(self) -> None:
        self.sink = MailSink()
        self.port = free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
