"""Readiness checks of each dependency, with latency."""

from __future__ import annotations

import time
from collections.abc import Callable

from data import mongo
from data.services import Services


def _timed(check: Callable[[], object]) -> dict:
    started = time.perf_counter()
    try:
        check()
        status, error = "up", None
    except Exception as exc:  # any failure means "down"; the message says why
        status, error = "down", f"{type(exc).__name__}: {exc}"[:300]
    result = {
        "status": status,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if error:
        result["error"] = error
    return result


def _check_postgres(services: Services) -> None:
    with services.postgres.transaction() as cursor:
        cursor.execute("SELECT 1")


def readiness(services: Services) -> tuple[dict, bool]:
    """Each dependency's status; ready is False when a required one is down."""
    settings = services.settings
    checks: dict[str, tuple[bool, Callable[[], object]]] = {
        "postgres": (True, lambda: _check_postgres(services)),
        "mongodb": (True, lambda: mongo.ping(services.mongo)),
        "object_store": (True, services.store.check),
    }
    if services.redis is not None:
        # Redis is optional: without it pages still work (cache misses, inline jobs).
        checks["redis"] = (False, services.redis.ping)
    report, ready = {}, True
    for name, (required, check) in checks.items():
        report[name] = {**_timed(check), "required": required}
        ready = ready and (report[name]["status"] == "up" or not required)
    report["mongodb"]["engine"] = (
        "in-process" if settings.in_process_mongo else "server"
    )
    report["object_store"]["backend"] = "s3" if settings.s3_bucket else "local"
    if services.redis is None:
        report["redis"] = {"status": "not configured", "required": False}
    return report, ready
