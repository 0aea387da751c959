"""The per-app bundle of connections that services and handlers use."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pymongo.database
import redis
from flask import current_app

from config import Settings
from data.postgres import Postgres
from data.storage import ObjectStore

log = logging.getLogger(__name__)
# Services.extensions key of the audit trail's writer (set by the app factory).
AUDIT_RECORDER = "audit.recorder"


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

    def audit(
        self,
        action: str,
        *,
        user_id: str | None,
        resource: str | None = None,
        details: dict | None = None,
        outcome: str = "success",
        **actor: str | None,
    ) -> None:
        """Write one event to the audit trail through the recorder the factory
        wired (auth/audit_requests.py adds who asked, from where); the data layer
        names what happened and never imports the auth layer. `actor` may give
        actor_type and actor_id (a share link's view)."""
        recorder = self.extensions.get(AUDIT_RECORDER)
        if recorder is None:
            log.warning("no audit recorder wired", extra={"action": action})
            return
        recorder(action, outcome, user_id=user_id, resource=resource,
                 details=details, **actor)  # fmt: skip

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
