"""Live push: a WebSocket per open page, one room per dataset, revision events only.

Flask-SocketIO in threading mode (DESIGN.md §9), WebSocket transport only (no
long-polling, so no sticky sessions and no HTTP requests while idle: the socket's
ping/pong keep-alive travels inside the WebSocket). With `REDIS_URL` its Redis
message queue relays every event to every app process, so an append handled by
one process reaches pages connected to another.

- **Handshake**: the request guard's socket checks (`auth.guard.guard_socket`:
  Origin, then the session, a bearer token, or the share link of the page's path)
  and the datasets the page shows (`auth.datasets`), which must be the caller's
  (owner-scoped, like every read), or the share link's own dataset.
- **Events**: `revision` with `{datasetId, version, revision, status}` (ids, the
  revision and the lifecycle status, never data);
  the page compares the revision with the one it shows and refreshes through its
  normal, cached callback, so N viewers cost one computation.
- **Alerts**: a signed-in page's shell socket (`{"alerts": true, "shown": N}`,
  the navbar's count) joins its user's room; when a rule of theirs starts or
  stops firing, the evaluator (in whichever process) sends `alerts` to that
  room (no data: a fresh marker only), and the badge refetches its count
  through its callback. On connecting, `alerts` comes at once only if the count
  is no longer N. Share links never join it.
- **Rate**: at most one event per dataset per second (`RevisionPublisher`, gated
  across processes by a Redis key), the last revision winning; nothing is sent
  while nothing changes.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

import redis
from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room

from auth.guard import guard_socket
from data import datasets
from data.alerts.service import firing_count, set_firing_listener
from data.errors import DomainError, NotFound
from data.ingest.changes import set_change_listener
from data.services import Services, get_services

log = logging.getLogger(__name__)
EVENT = "revision"
ALERTS_EVENT = "alerts"
SOCKET_PATH = "socket.io"
MIN_INTERVAL_S = 1.0
GATE_KEY = "live:gate:{}"
MAX_ROOMS = 200


def room(dataset_id: str) -> str:
    """The room of one dataset's viewers."""
    return f"dataset:{dataset_id}"


def user_room(owner_id: str) -> str:
    """The room of one user's signed-in pages (their alerts' firing count)."""
    return f"user:{owner_id}"


def init_live(server: Flask, services: Services) -> SocketIO:
    """Bind a Socket.IO server to this app and wire appends to its rooms."""
    settings = services.settings
    socketio = SocketIO(
        server,
        async_mode="threading",
        message_queue=settings.redis_url or None,
        channel="insightboard-live",
        path=SOCKET_PATH,
        transports=["websocket"],
        # The Origin is checked by the request guard in the handshake below.
        cors_allowed_origins="*",
        manage_session=False,
        ping_interval=25,
        ping_timeout=20,
    )
    socketio.on_event("connect", on_connect)
    publisher = RevisionPublisher(socketio, services.redis)
    set_change_listener(services, publisher.changed)
    set_firing_listener(services, lambda owner: alerts_changed(socketio, owner))
    services.closers.append(publisher.stop)
    return socketio


def alerts_event() -> dict:
    """An `alerts` event: a fresh marker and nothing else (Dash passes a prop on
    only when its value changes, so two changes must not look the same)."""
    return {"change": uuid.uuid4().hex}


def alerts_changed(socketio: SocketIO, owner_id: str) -> None:
    """Tell the owner's pages (through the message queue: in every process) that
    their firing count changed; no data."""
    socketio.emit(ALERTS_EVENT, alerts_event(), to=user_room(owner_id))


def on_connect(auth=None) -> None:
    """Admit a page's socket to its datasets' rooms (and a signed-in page's shell
    socket to its user's room), or refuse the handshake; then tell it where each
    stands (a reconnecting page catches up)."""
    auth = auth if isinstance(auth, dict) else {}
    try:
        owner_id, only = guard_socket(auth.get("pathname"))
    except DomainError as error:
        raise ConnectionRefusedError(error.message) from None
    if auth.get("alerts") is True:
        _join_user_room(owner_id, only, auth.get("shown"))
        return
    wanted = auth.get("datasets")
    if not isinstance(wanted, list) or not 0 < len(wanted) <= MAX_ROOMS:
        raise ConnectionRefusedError(f"Name 1 to {MAX_ROOMS} datasets to watch.")
    current = []
    for dataset_id in dict.fromkeys(str(item) for item in wanted):
        current.append(event_of(_watchable(owner_id, only, dataset_id)))
    for event in current:
        join_room(room(event["datasetId"]))
        emit(EVENT, event, to=request.sid)  # type: ignore[attr-defined]


def _join_user_room(owner_id: str, only: str | None, shown: object) -> None:
    """The signed-in user's room (never a share link's: it shows one dataset and
    nothing of its owner's account); `alerts` at once if the count differs from
    the one the page shows (it changed before this connection)."""
    if only is not None:
        raise ConnectionRefusedError("A share link has no alerts to watch.")
    join_room(user_room(owner_id))
    if shown != firing_count(get_services(), owner_id):
        emit(ALERTS_EVENT, alerts_event(), to=request.sid)  # type: ignore[attr-defined]


def _watchable(owner_id: str, only: str | None, dataset_id: str) -> dict:
    """The owner's dataset (the share link's own, under a link), else refused."""
    if only is not None and dataset_id != only:
        raise ConnectionRefusedError("No such dataset.")
    try:
        return datasets.find_version_document(get_services(), owner_id, dataset_id)
    except NotFound:
        raise ConnectionRefusedError("No such dataset.") from None


def event_of(document: dict) -> dict:
    """What an event says about a version: ids, revision, lifecycle status."""
    return {
        "datasetId": document["datasetId"],
        "version": document["version"],
        "revision": document.get("revision", 0),
        "status": document["status"],
    }


class RevisionPublisher:
    """At most one event per dataset per MIN_INTERVAL_S, the latest revision
    winning: the first change is sent at once, later ones within the interval
    are folded into one trailing event when the interval ends."""

    def __init__(self, socketio: SocketIO, client: redis.Redis | None) -> None:
        self.socketio = socketio
        self.redis = client
        self.lock = threading.Lock()
        self.pending: dict[str, dict] = {}
        self.timers: dict[str, threading.Timer] = {}
        self.last_sent: dict[str, float] = {}

    def changed(
        self, dataset_id: str, version: int, revision: int, status: str
    ) -> None:
        """A committed change of one dataset (called by appends and processing)."""
        event = {
            "datasetId": dataset_id,
            "version": version,
            "revision": revision,
            "status": status,
        }
        with self.lock:
            self.pending[dataset_id] = event  # the latest change wins
            if dataset_id in self.timers:
                return
        self._attempt(dataset_id)

    def _attempt(self, dataset_id: str) -> None:
        wait = self._wait(dataset_id)
        with self.lock:
            self.timers.pop(dataset_id, None)
            if wait > 0:
                timer = threading.Timer(wait, self._attempt, args=(dataset_id,))
                timer.daemon = True
                self.timers[dataset_id] = timer
                timer.start()
                return
            event = self.pending.pop(dataset_id, None)
        if event is not None:
            self.socketio.emit(EVENT, event, to=room(dataset_id))

    def _wait(self, dataset_id: str) -> float:
        """0 when this process may send now (it took the gate), else seconds."""
        if self.redis is not None:
            try:
                return self._redis_wait(dataset_id)
            except redis.exceptions.RedisError:
                log.warning("live gate: Redis unavailable; gating in process")
        now = time.monotonic()
        last = self.last_sent.get(dataset_id)
        if last is not None and now - last < MIN_INTERVAL_S:
            return MIN_INTERVAL_S - (now - last)
        self.last_sent[dataset_id] = now
        return 0.0

    def _redis_wait(self, dataset_id: str) -> float:
        client = self.redis
        assert client is not None
        key = GATE_KEY.format(dataset_id)
        interval_ms = int(MIN_INTERVAL_S * 1000)
        if client.set(key, "1", nx=True, px=interval_ms):
            return 0.0
        remaining = int(client.pttl(key))
        return max(remaining, 10) / 1000 if remaining and remaining > 0 else 0.01

    def stop(self) -> None:
        """Cancel trailing events (the app is closing)."""
        with self.lock:
            for timer in self.timers.values():
                timer.cancel()
            self.timers.clear()
