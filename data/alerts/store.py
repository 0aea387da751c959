"""PostgreSQL repository of alert rules, their state, history and notifications."""

from __future__ import annotations

import datetime as dt
import re

from psycopg2.extras import Json

from data.errors import NotFound
from data.postgres import Postgres

UUID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
RULE_COLUMNS = (
    "id, user_id, dataset_id, definition, created_at, updated_at, state, "
    "state_since, state_detail, state_version, last_error, acknowledged_at, "
    "silenced_until"
)
HISTORY_LIMIT = 500


def _row(cursor, row) -> dict:
    names = [column.name for column in cursor.description]
    return dict(zip(names, row, strict=True))


def check_id(rule_id: str) -> str:
    """A rule id as stored (lower-case UUID); anything else is a 404."""
    if not isinstance(rule_id, str) or not UUID_PATTERN.match(rule_id.lower()):
        raise NotFound("No such alert rule.")
    return rule_id.lower()


def create_rule(db: Postgres, owner_id: str, definition: dict) -> dict:
    """Store a new rule (state ok, nothing evaluated yet)."""
    with db.transaction() as cursor:
        cursor.execute(
            f"INSERT INTO alert_rules (user_id, dataset_id, definition) "
            f"VALUES (%s, %s, %s) RETURNING {RULE_COLUMNS}",
            (owner_id, definition["datasetId"], Json(definition)),
        )
        return _row(cursor, cursor.fetchone())


def list_rules(db: Postgres, owner_id: str) -> list[dict]:
    """The owner's rules, oldest first."""
    with db.transaction() as cursor:
        cursor.execute(
            f"SELECT {RULE_COLUMNS} FROM alert_rules WHERE user_id = %s "
            "ORDER BY created_at, id",
            (owner_id,),
        )
        return [_row(cursor, row) for row in cursor.fetchall()]


def get_rule(db: Postgres, owner_id: str, rule_id: str) -> dict:
    """One of the owner's rules; another user's is NotFound like a missing one."""
    with db.transaction() as cursor:
        cursor.execute(
            f"SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = %s AND user_id = %s",
            (check_id(rule_id), owner_id),
        )
        row = cursor.fetchone()
        if row is None:
            raise NotFound("No such alert rule.")
        return _row(cursor, row)


def replace_rule(db: Postgres, owner_id: str, rule_id: str, definition: dict) -> dict:
    """Replace a rule's definition; its evaluation starts over (state ok)."""
    with db.transaction() as cursor:
        cursor.execute(
            "UPDATE alert_rules SET definition = %s, dataset_id = %s, "
            "updated_at = now(), state = 'ok', state_since = now(), "
            "state_detail = '{}', state_version = state_version + 1, "
            "last_error = NULL WHERE id = %s AND user_id = %s "
            f"RETURNING {RULE_COLUMNS}",
            (Json(definition), definition["datasetId"], check_id(rule_id), owner_id),
        )
        row = cursor.fetchone()
        if row is None:
            raise NotFound("No such alert rule.")
        return _row(cursor, row)


def delete_rule(db: Postgres, owner_id: str, rule_id: str) -> dict:
    """Delete a rule with its history and notifications; returns its definition
    and the state it was in."""
    with db.transaction() as cursor:
        cursor.execute(
            "DELETE FROM alert_rules WHERE id = %s AND user_id = %s"
            " RETURNING definition, state",
            (check_id(rule_id), owner_id),
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such alert rule.")
    return {"definition": row[0], "state": row[1]}


def history(db: Postgres, rule_id: str, limit: int = HISTORY_LIMIT) -> list[dict]:
    """A rule's state changes, newest first."""
    with db.transaction() as cursor:
        cursor.execute(
            "SELECT bucket, from_state, to_state, value, reason, recorded_at "
            "FROM alert_history WHERE rule_id = %s ORDER BY id DESC LIMIT %s",
            (rule_id, limit),
        )
        return [_row(cursor, row) for row in cursor.fetchall()]


def recent_history(db: Postgres, owner_id: str, limit: int = 50) -> list[dict]:
    """The owner's latest state changes across rules, with each rule's name."""
    with db.transaction() as cursor:
        cursor.execute(
            "SELECT h.bucket, h.from_state, h.to_state, h.value, h.reason, "
            "h.recorded_at, r.definition->>'name' AS name FROM alert_history h "
            "JOIN alert_rules r ON r.id = h.rule_id WHERE r.user_id = %s "
            "ORDER BY h.id DESC LIMIT %s",
            (owner_id, limit),
        )
        return [_row(cursor, row) for row in cursor.fetchall()]


def rules_of_dataset(db: Postgres, owner_id: str, dataset_id: str) -> list[dict]:
    """The owner's rules on one dataset."""
    with db.transaction() as cursor:
        cursor.execute(
            f"SELECT {RULE_COLUMNS} FROM alert_rules "
            "WHERE user_id = %s AND dataset_id = %s ORDER BY created_at, id",
            (owner_id, dataset_id),
        )
        return [_row(cursor, row) for row in cursor.fetchall()]


def every_rule(db: Postgres) -> list[dict]:
    """Every rule (the scheduled evaluation)."""
    with db.transaction() as cursor:
        cursor.execute(f"SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY id")
        return [_row(cursor, row) for row in cursor.fetchall()]


def save_evaluation(db: Postgres, row: dict, outcome: dict) -> list[dict] | None:
    """Commit one evaluation: state, history rows and notification rows, only if
    nobody evaluated the rule meanwhile (state_version). Returns the notification
    rows this call inserted (the ones it must deliver), or None if it lost."""
    with db.transaction() as cursor:
        cursor.execute(
            "UPDATE alert_rules SET state = %s, state_detail = %s, last_error = %s, "
            "state_version = state_version + 1, "
            "state_since = CASE WHEN state = %s THEN state_since ELSE now() END "
            "WHERE id = %s AND state_version = %s",
            (outcome["state"], Json(outcome["detail"]), outcome.get("error"),
             outcome["state"], row["id"], row["state_version"]),
        )  # fmt: skip
        if cursor.rowcount == 0:
            return None
        for event in outcome["history"]:
            cursor.execute(
                "INSERT INTO alert_history (rule_id, bucket, from_state, to_state, "
                "value, reason) VALUES (%s, %s, %s, %s, %s, %s)",
                (row["id"], event["t"], event["previous"], event["state"],
                 event["value"], event["reason"]),
            )  # fmt: skip
        return _insert_notifications(cursor, row["id"], outcome["notifications"])


def _insert_notifications(cursor, rule_id, notifications: list[dict]) -> list[dict]:
    inserted = []
    for item in notifications:
        cursor.execute(
            "INSERT INTO alert_notifications (rule_id, event, bucket, channel, "
            "channel_type, status, payload) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (rule_id, event, bucket, channel) DO NOTHING RETURNING id",
            (rule_id, item["event"], item["t"], item["channel"], item["type"],
             item["status"], Json(item["payload"])),
        )  # fmt: skip
        found = cursor.fetchone()
        if found is not None:
            inserted.append({**item, "id": found[0]})
    return inserted


def mark_notification(
    db: Postgres, notification_id: int, status: str, attempts: int, error: str | None
) -> None:
    """Record a delivery outcome (delivered, or dead after the last try)."""
    with db.transaction() as cursor:
        cursor.execute(
            "UPDATE alert_notifications SET status = %s, attempts = %s, "
            "last_error = %s, delivered_at = CASE WHEN %s = 'delivered' THEN now() "
            "END WHERE id = %s",
            (status, attempts, error, status, notification_id),
        )


def claim_stale_pending(db: Postgres, before: dt.datetime) -> list[dict]:
    """Claim notifications still pending on a claim older than `before` (their
    sender died between committing and delivering): each is claimed by one
    caller, and claimed again only once this claim is stale in turn."""
    with db.transaction() as cursor:
        cursor.execute(
            "UPDATE alert_notifications SET claimed_at = now() WHERE id IN ("
            "SELECT id FROM alert_notifications WHERE status = 'pending' "
            "AND claimed_at < %s ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED) "
            "RETURNING id, event, bucket, channel, channel_type, payload, rule_id",
            (before,),
        )
        return sorted((_row(cursor, row) for row in cursor.fetchall()),
                      key=lambda item: item["id"])  # fmt: skip


def rule_by_id(db: Postgres, rule_id) -> dict | None:
    """A rule whoever owns it (the evaluator's own reads)."""
    with db.transaction() as cursor:
        cursor.execute(
            f"SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = %s", (rule_id,)
        )
        row = cursor.fetchone()
        return _row(cursor, row) if row else None


def notifications(db: Postgres, rule_id: str) -> list[dict]:
    """A rule's notifications, newest first."""
    with db.transaction() as cursor:
        cursor.execute(
            "SELECT id, event, bucket, channel, channel_type, status, attempts, "
            "last_error, created_at, delivered_at FROM alert_notifications "
            "WHERE rule_id = %s ORDER BY id DESC LIMIT %s",
            (rule_id, HISTORY_LIMIT),
        )
        return [_row(cursor, row) for row in cursor.fetchall()]


def firing_count(db: Postgres, owner_id: str) -> int:
    """How many of the owner's rules fire now (the navbar badge)."""
    with db.transaction() as cursor:
        cursor.execute(
            "SELECT count(*) FROM alert_rules WHERE user_id = %s "
            "AND state IN ('firing', 'recovering')",
            (owner_id,),
        )
        return int(cursor.fetchone()[0])


def acknowledge(db: Postgres, owner_id: str, rule_id: str) -> None:
    """Mark the current firing as seen."""
    _set(db, owner_id, rule_id, "acknowledged_at = now()")


def silence(
    db: Postgres, owner_id: str, rule_id: str, until: dt.datetime | None
) -> None:
    """Silence a rule's notifications until a moment (None lifts the silence)."""
    _set(db, owner_id, rule_id, "silenced_until = %s", (until,))


def _set(db: Postgres, owner_id: str, rule_id: str, assignment: str, values=()):
    with db.transaction() as cursor:
        cursor.execute(
            f"UPDATE alert_rules SET {assignment} WHERE id = %s AND user_id = %s",
            (*values, check_id(rule_id), owner_id),
        )
        if cursor.rowcount == 0:
            raise NotFound("No such alert rule.")
