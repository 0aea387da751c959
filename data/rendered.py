"""Rendered responses (a view's encoded JSON), stored under what they depend on.

A view's response is a pure function of what was asked, who asked (their scope:
owner, share link and its locks) and the dataset's versions as they stand (number,
revision, status, name). `rendered_key` hashes exactly those, and is None while a
version is in flight (its page changes as it goes) or the dataset is not the
owner's; `get`/`put` read and write the bytes (an unreachable cache is a miss).
Used by the analysis view's callback (callbacks/render_cache.py) and the analytics
API (api/analytics.py).

A key names one rendering for good, so each process also keeps the bodies it served
lately (`RecentBodies`: a byte budget, and the same lifetime as in Redis): a
repeated view then costs no Redis round trip for its ~140 kB body, and Redis stays
the place every process shares.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict

from data import datasets as dataset_service
from data.cache import cache_get, cache_set
from data.errors import NotFound
from data.services import Services

TIMEOUT_S = 3600
RECENT_BUDGET_BYTES = 32 * 1024 * 1024  # per process


class RecentBodies:
    """The most recently used bodies of this process, up to a byte budget, each
    for `lifetime_s` after it was stored."""

    def __init__(self, budget_bytes: int, lifetime_s: float = TIMEOUT_S) -> None:
        self.budget_bytes = budget_bytes
        self.lifetime_s = lifetime_s
        self.bodies: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            entry = self.bodies.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                self._drop(key)
                return None
            self.bodies.move_to_end(key)
            return entry[1]

    def put(self, key: str, body: bytes) -> None:
        """Keep body (the least recently used go first when over budget)."""
        if len(body) > self.budget_bytes:
            return
        with self.lock:
            self._drop(key)
            self.bodies[key] = (time.monotonic() + self.lifetime_s, body)
            self.size += len(body)
            while self.size > self.budget_bytes:
                self._drop(next(iter(self.bodies)))

    def _drop(self, key: str) -> None:
        entry = self.bodies.pop(key, None)
        if entry is not None:
            self.size -= len(entry[1])

    def clear(self) -> None:
        with self.lock:
            self.bodies.clear()
            self.size = 0


recent = RecentBodies(RECENT_BUDGET_BYTES)


def rendered_key(
    services: Services, scope: dict, dataset_id: str, asked: object
) -> str | None:
    """The key of one rendering, or None when it must not be stored."""
    owner_id = scope["owner"]
    try:
        stamp = dataset_service.version_stamp(services, owner_id, dataset_id)
    except NotFound:
        return None
    if stamp is None:
        return None
    # No cache generation in it: the one event that starts a new generation, the
    # dataset's deletion, leaves no stamp (NotFound above), and it would cost a
    # Redis round trip per request.
    material = [scope, dataset_id, stamp, asked]
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode())
    return f"rendered:{dataset_id}:{digest.hexdigest()}"


def get(key: str) -> bytes | None:
    """The stored bytes (this process's recent ones first), or None."""
    body = recent.get(key)
    if body is None:
        stored = cache_get(key)
        body = stored if isinstance(stored, bytes) else None
        if body is not None:
            recent.put(key, body)
    return body


def put(key: str, body: bytes) -> None:
    """Store the bytes (entries are immutable: they expire, never change)."""
    recent.put(key, body)
    cache_set(key, body, timeout=TIMEOUT_S)
