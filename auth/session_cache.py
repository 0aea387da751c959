"""Who a session or JWT belongs to, without a PostgreSQL round trip per request.

Two kinds of entries, each with a short lifetime (`SESSION_CACHE_TTL_S`):
`session:{sha256}` holds the session's user id, expiry and the account's session
version when it was read; `user:{id}` holds the account. A session entry counts
only while the account entry carries the same session version, so a password
change (which bumps the version and revokes every session) retires all of them
at once. Every change that revokes access (sign-out, password change,
deactivation, role change) deletes the entries *before* it commits and again
after (a request racing the change may have cached the old state in between);
if the cache cannot be reached for that first delete, the change is refused with
503 rather than leaving a revoked session cached.

Redis holds the entries when REDIS_URL is set (every process sees one cache and
one invalidation); without Redis, a dictionary in the process, but only when the
in-process engine makes it the only server process. Otherwise every request asks
PostgreSQL, as before. A cache that fails to answer a read is a miss.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict
from datetime import datetime

import redis

from auth.users import User
from data.errors import ServiceUnavailable

log = logging.getLogger(__name__)
PREFIX = "insightboard:auth:"
LOCAL_CAPACITY = 10_000
USER_FIELDS = (
    "id",
    "email",
    "role",
    "is_active",
    "session_version",
    "created_at",
    "last_login",
)


class LocalStore:
    """A small in-process key → (expiry, text) map with the Redis calls we use."""

    def __init__(self) -> None:
        self.entries: dict[str, tuple[float, str]] = {}
        self.lock = threading.Lock()

    def mget(self, keys: list[str]) -> list[str | None]:
        """The live values of keys (None for missing or expired)."""
        now = time.monotonic()
        with self.lock:
            found = [self.entries.get(key) for key in keys]
        return [value[1] if value and value[0] > now else None for value in found]

    def set(self, key: str, value: str, ex: int) -> None:
        """Store value for ex seconds (the map is cleared when it is full)."""
        with self.lock:
            if len(self.entries) >= LOCAL_CAPACITY:
                self.entries.clear()
            self.entries[key] = (time.monotonic() + ex, value)

    def delete(self, *keys: str) -> None:
        """Remove keys."""
        with self.lock:
            for key in keys:
                self.entries.pop(key, None)


class SessionCache:
    """Session and account entries in Redis, in process, or nowhere (disabled)."""

    def __init__(self, store, ttl_s: int) -> None:
        self.store = store
        self.ttl_s = ttl_s

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def session_user(self, digest_hex: str, user_id: str | None = None) -> User | None:
        """The cached active user of a live session, or None (a miss).

        `user_id` is the account the (signed) session cookie names: both entries
        then come back in one round trip. It only chooses what to read with the
        session entry; the entry's own user id decides, and another id is read
        on its own."""
        keys = [f"session:{digest_hex}"]
        if user_id is not None:
            keys.append(f"user:{user_id}")
        session, *account = self._read_many(keys)
        if session is None or session["expires_at"] <= time.time():
            return None
        if session["user_id"] != user_id:
            account = [self._read(f"user:{session['user_id']}")]
        user = user_from_record(account[0]) if account[0] else None
        if user is None or user.session_version != session["session_version"]:
            return None
        return user if user.is_active else None

    def user(self, user_id: str) -> User | None:
        """The cached account, or None (a miss)."""
        record = self._read(f"user:{user_id}")
        return user_from_record(record) if record else None

    def remember_session(self, digest_hex: str, user: User, expires_at: datetime):
        """Cache a session that PostgreSQL has just confirmed live, and its user."""
        remaining = int(expires_at.timestamp() - time.time())
        entry = {
            "user_id": user.id,
            "expires_at": expires_at.timestamp(),
            "session_version": user.session_version,
        }
        self._write(f"session:{digest_hex}", entry, min(remaining, self.ttl_s))
        self.remember_user(user)

    def remember_user(self, user: User) -> None:
        """Cache an account as PostgreSQL has just returned it."""
        self._write(f"user:{user.id}", user_record(user), self.ttl_s)

    def forget(self, *, digests: tuple[str, ...] = (), user_id: str | None = None):
        """Delete entries; raise ServiceUnavailable when the cache cannot confirm."""
        if not self.enabled:
            return
        keys = [f"{PREFIX}session:{digest}" for digest in digests]
        if user_id is not None:
            keys.append(f"{PREFIX}user:{user_id}")
        try:
            self.store.delete(*keys)
        except redis.exceptions.RedisError as error:
            log.warning("session cache delete failed", extra={"error": str(error)})
            raise ServiceUnavailable(
                "Sign-in records cannot be updated right now; try again shortly."
            ) from error

    def _read(self, key: str) -> dict | None:
        (value,) = self._read_many([key])
        return value

    def _read_many(self, keys: list[str]) -> list[dict | None]:
        """The entries of keys in one round trip (all misses when unreachable)."""
        if not self.enabled:
            return [None] * len(keys)
        try:
            texts = self.store.mget([PREFIX + key for key in keys])
        except redis.exceptions.RedisError as error:
            log.warning("session cache read failed", extra={"error": str(error)})
            return [None] * len(keys)
        return [json.loads(text) if text else None for text in texts]

    def _write(self, key: str, value: dict, seconds: int) -> None:
        if not self.enabled or seconds <= 0:
            return
        try:
            self.store.set(PREFIX + key, json.dumps(value), ex=seconds)
        except redis.exceptions.RedisError as error:
            log.warning("session cache write failed", extra={"error": str(error)})


def user_record(user: User) -> dict:
    """The JSON form of an account (datetimes as ISO 8601)."""
    fields = asdict(user)
    record = {name: fields[name] for name in USER_FIELDS}
    for name in ("created_at", "last_login"):
        if record[name] is not None:
            record[name] = record[name].isoformat()
    return record


def user_from_record(record: dict) -> User:
    """The account from its JSON form."""
    values = dict(record)
    for name in ("created_at", "last_login"):
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    return User(**values)


def build_session_cache(redis_client, settings) -> SessionCache:
    """Redis when configured; in process only when this is the only server process."""
    if redis_client is not None:
        store = redis_client
    elif settings.in_process_mongo:
        store = LocalStore()
    else:
        store = None
    return SessionCache(store, settings.session_cache_ttl_s)


def session_cache_of(services) -> SessionCache:
    """The app's session cache (built on first use from its Redis and settings)."""
    cache = services.extensions.get("session_cache")
    if cache is None:
        cache = build_session_cache(services.redis, services.settings)
        services.extensions["session_cache"] = cache
    return cache
