"""Caching: Flask-Caching on Redis with short timeouts, or in process without Redis."""

from __future__ import annotations

import logging

import redis
from flask import has_app_context
from flask_caching import Cache
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)
cache = Cache()


def redis_options(timeout_s: float) -> dict:
    """Connection options that turn a Redis outage into a fast failure, not a hang."""
    return {
        "retry": Retry(NoBackoff(), 1),
        "socket_connect_timeout": timeout_s,
        "socket_timeout": timeout_s,
    }


def cache_config(settings) -> dict:
    """Flask-Caching configuration for the given settings."""
    if settings.redis_url:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": settings.redis_url,
            "CACHE_OPTIONS": redis_options(settings.redis_timeout_s),
            "CACHE_KEY_PREFIX": "insightboard:",
            "CACHE_DEFAULT_TIMEOUT": 24 * 3600,
        }
    return {
        "CACHE_TYPE": "SimpleCache",
        "CACHE_DEFAULT_TIMEOUT": 24 * 3600,
        "CACHE_THRESHOLD": 2000,
    }


def connect_redis(settings) -> redis.Redis | None:
    """A Redis client with short timeouts, or None when REDIS_URL is unset."""
    if not settings.redis_url:
        return None
    return redis.Redis.from_url(
        settings.redis_url, **redis_options(settings.redis_timeout_s)
    )


def cache_get(key: str):
    """Read from the cache; an unreachable cache is a miss, never an error."""
    try:
        return cache.get(key)
    except redis.exceptions.RedisError as error:
        log.warning("cache read failed", extra={"key": key, "error": str(error)})
        return None


def cache_set(key: str, value, timeout: int | None = None) -> bool:
    """Write to the cache; failures are logged and reported as False."""
    try:
        return bool(cache.set(key, value, timeout=timeout))
    except redis.exceptions.RedisError as error:
        log.warning("cache write failed", extra={"key": key, "error": str(error)})
        return False


def cache_delete_many(*keys: str) -> None:
    """Delete keys; failures are logged (entries are versioned, so never stale)."""
    try:
        cache.delete_many(*keys)
    except redis.exceptions.RedisError as error:
        log.warning("cache delete failed", extra={"error": str(error)})


def generation(name: str) -> int:
    """The current generation of a group of cache keys (0 until first bumped, and
    whenever the cache cannot be read)."""
    if not has_app_context():
        return 0
    value = cache_get(f"generation:{name}")
    return value if isinstance(value, int) else 0


def bump_generation(name: str) -> None:
    """Start a new generation: keys built with an older one are never read again
    (they expire on their own)."""
    if has_app_context():
        cache_set(f"generation:{name}", generation(name) + 1, timeout=0)
