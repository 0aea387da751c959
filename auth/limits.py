"""Rate limits on sign-in and registration (per IP address and per account), on
share links (per link) and on agent tokens (per token).

Flask-Limiter's `Limiter` is bound to each app (tests build many apps, each with
its own counters) and supplies the storage: Redis at REDIS_URL, else process
memory. The sign-in and registration paths (REST API and the Dash forms alike)
check their limits explicitly through it, so both share one counter per IP and
one per account.

When Redis is down, the limits keep working from an in-process fallback (per
process, so a deployment with N workers allows up to N times the limit) and Redis
is retried after a short pause; sign-in is never left unlimited.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from flask import Flask, current_app
from flask_limiter import Limiter
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from data.cache import redis_options
from data.errors import RateLimited

log = logging.getLogger(__name__)
RETRY_STORAGE_AFTER_S = 5.0


class AuthRateLimits:
    """One app's sign-in/registration limits with an in-memory fallback."""

    def __init__(self, limiter: Limiter, settings) -> None:
        self.limiter = limiter
        self.fallback: RateLimiter = MovingWindowRateLimiter(MemoryStorage())
        self.items = {
            "login": parse(settings.login_rate_limit),
            "register": parse(settings.register_rate_limit),
            "share": parse(settings.share_rate_limit),
            "agent": parse(settings.agent_rate_limit),
        }
        self._storage_down_until = 0.0
        self._lock = threading.Lock()

    def enforce(self, action: str, ip: str | None, account: str | None) -> None:
        """Count one attempt; RateLimited (with retry_after) when over a limit."""
        item = self.items[action]
        for kind, value in (("ip", ip), ("account", account)):
            if value and not self._hit(item, "insightboard", action, kind, value):
                retry_after = self._retry_after(
                    item, "insightboard", action, kind, value
                )
                log.warning("rate limit hit", extra={"action": action, "by": kind})
                raise RateLimited(
                    f"Too many attempts. Try again in {retry_after} seconds.",
                    details={"retry_after": retry_after},
                )

    def enforce_share(self, link_id: str) -> None:
        """Count one request under a share link; RateLimited when over its limit."""
        self._enforce_one(
            "share", link_id, "This shared view is receiving too many requests."
        )

    def enforce_agent(self, token_id: str) -> None:
        """Count one call of an agent token; RateLimited when over its limit."""
        self._enforce_one("agent", token_id, "This agent token made too many calls.")

    def _enforce_one(self, action: str, key: str, message: str) -> None:
        item = self.items[action]
        if not self._hit(item, "insightboard", action, key):
            retry_after = self._retry_after(item, "insightboard", action, key)
            log.warning("rate limit hit", extra={"action": action, "by": action})
            raise RateLimited(
                f"{message} Try again in {retry_after} seconds.",
                details={"retry_after": retry_after},
            )

    def _strategy(self) -> RateLimiter:
        if time.monotonic() < self._storage_down_until:
            return self.fallback
        return self.limiter.limiter

    def _hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        strategy = self._strategy()
        try:
            return strategy.hit(item, *identifiers)
        except StorageError as error:
            with self._lock:
                self._storage_down_until = time.monotonic() + RETRY_STORAGE_AFTER_S
            log.error(
                "rate-limit storage unreachable; using in-process limits",
                extra={"error": str(error.storage_error)},
            )
            return self.fallback.hit(item, *identifiers)

    def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        try:
            stats = self._strategy().get_window_stats(item, *identifiers)
        except StorageError:
            stats = self.fallback.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))


def init_limits(server: Flask, settings) -> AuthRateLimits:
    """Bind a Limiter with its own storage to this app."""
    options: dict[str, Any] = {"wrap_exceptions": True}
    if settings.redis_url:
        options.update(redis_options(settings.redis_timeout_s))
    limiter = Limiter(
        key_func=lambda: "",
        storage_uri=settings.redis_url or "memory://",
        storage_options=options,
        strategy="moving-window",
    )
    limiter.init_app(server)
    limits = AuthRateLimits(limiter, settings)
    server.extensions["insightboard_auth_limits"] = limits
    return limits


def enforce(action: str, ip: str | None, account: str | None) -> None:
    """Count an attempt against the current app's limits (see AuthRateLimits)."""
    current_app.extensions["insightboard_auth_limits"].enforce(action, ip, account)


def enforce_share(link_id: str) -> None:
    """Count a request under a share link against the current app's limit."""
    current_app.extensions["insightboard_auth_limits"].enforce_share(link_id)


def enforce_agent(token_id: str) -> None:
    """Count a call of an agent token against the current app's limit."""
    current_app.extensions["insightboard_auth_limits"].enforce_agent(token_id)
