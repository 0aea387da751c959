"""The per-app bundle of connections that services and handlers use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pymongo.database
import redis
from flask import current_app

from config import Settings
from data.postgres import Postgres
from data.storage import ObjectStore


@dataclass
class Services:
    """Connections owned by one app instance (two apps never share them)."""

    settings: Settings
    postgres: Postgres
    mongo: pymongo.database.Database
    store: ObjectStore
    redis: redis.Redis | None
    # Per-app helpers (e.g. the ingest job runner) and what stops them on close.
    extensions: dict = field(default_factory=dict)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Stop background helpers, then release pooled connections."""
        while self.closers:
            self.closers.pop()()
        self.postgres.close()
        self.mongo.client.close()
        if self.redis is not None:
            self.redis.close()


def get_services() -> Services:
    """The current app's services (inside an app or request context)."""
    return current_app.extensions["insightboard"]
