"""The append-only audit trail of account events (read by a later audit page)."""

from __future__ import annotations

import logging

import psycopg2
from psycopg2.extras import Json

from data.postgres import Postgres

log = logging.getLogger(__name__)

ACTIONS = (
    "register",
    "login",
    "logout",
    "password_change",
    "token_create",
    "token_revoke",
    # Alerts (data/alerts): rule changes and every notification's outcome.
    "alert_rule_create",
    "alert_rule_update",
    "alert_rule_delete",
    "alert_notification",
)


def record_event(
    database: Postgres,
    action: str,
    outcome: str,
    *,
    user_id: str | None = None,
    email: str | None = None,
    ip: str | None = None,
    details: dict | None = None,
) -> None:
    """Append one event; a failing write is logged, never shown to the user."""
    try:
        with database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO audit_events"
                " (action, outcome, user_id, email, ip, details)"
                " VALUES (%s, %s, %s::uuid, %s, %s, %s)",
                (
                    action,
                    outcome,
                    user_id,
                    (email or None) and email[:254],
                    ip,
                    Json(details or {}),
                ),
            )
    except psycopg2.Error as error:
        log.error("audit write failed", extra={"action": action, "error": str(error)})


def events_for(database: Postgres, user_id: str, limit: int = 100) -> list[dict]:
    """The newest events about one user."""
    with database.transaction() as cursor:
        cursor.execute(
            "SELECT occurred_at, action, outcome, email, ip, details FROM audit_events"
            " WHERE user_id = %s::uuid ORDER BY id DESC LIMIT %s",
            (user_id, limit),
        )
        names = ("occurred_at", "action", "outcome", "email", "ip", "details")
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
