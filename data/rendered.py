"""Rendered responses (a view's encoded JSON), stored under what they depend on.

A view's response is a pure function of what was asked, who asked (their scope:
owner, share link and its locks) and the dataset's versions as they stand (number,
revision, status, name) in the current cache generation. `rendered_key` hashes
exactly those, and is None while a version is in flight (its page changes as it
goes) or the dataset is not the owner's; `get`/`put` read and write the bytes (an
unreachable cache is a miss). Used by the analysis view's callback
(callbacks/render_cache.py) and the analytics API (api/analytics.py).
"""

from __future__ import annotations

import hashlib
import json

from data import datasets as dataset_service
from data.cache import cache_get, cache_set, generation
from data.errors import NotFound
from data.services import Services

TIMEOUT_S = 3600


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
    material = [scope, dataset_id, stamp, generation(dataset_id), asked]
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode())
    return f"rendered:{dataset_id}:{digest.hexdigest()}"


def get(key: str) -> bytes | None:
    """The stored bytes, or None."""
    body = cache_get(key)
    return body if isinstance(body, bytes) else None


def put(key: str, body: bytes) -> None:
    """Store the bytes (entries are immutable: they expire, never change)."""
    cache_set(key, body, timeout=TIMEOUT_S)
