"""The product's append-only, tamper-evident audit trail (PostgreSQL `audit_events`).

Each event is written as the canonical JSON of what it says (`content`), the hash of
the event before it (`prev_hash`) and its own, sha256(prev_hash + "\\n" + content):
writers hold one advisory lock, so the chain has one order. `verify` walks the
chain and names the first row whose content, columns or link do not hold (an edited
row breaks its own hash; a deleted row breaks the next row's link). A database
trigger refuses UPDATE, DELETE and TRUNCATE; `apply_retention` removes old rows
only after writing a chained checkpoint event naming them and the last removed
hash, which the verification starts from.

    python -m auth.audit verify     # exit 0 when the chain holds, 1 naming the row
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sys

import psycopg2
from psycopg2.extras import Json

from config import load_settings
from data.errors import ServiceUnavailable
from data.postgres import Postgres

log = logging.getLogger(__name__)

# Every action the trail records, with the words the /audit page shows for it.
ACTION_LABELS = {
    "register": "Account registered",
    "login": "Sign-in",
    "logout": "Sign-out",
    "password_change": "Password changed",
    "token_create": "API token created",
    "token_revoke": "API token revoked",
    "agent_token_create": "Agent token created",
    "agent_token_revoke": "Agent token revoked",
    "agent_call": "Agent call",
    "api_call": "API call with a token",
    "dataset_upload": "Dataset uploaded",
    "dataset_append": "Records appended",
    "dataset_reprocess": "Dataset reprocessed",
    "dataset_delete": "Dataset deleted",
    "measures_update": "Measures changed",
    "disclosure_update": "Agent privacy (k) changed",
    "share_create": "Share link created",
    "share_revoke": "Share link revoked",
    "share_view": "Share link opened",
    "alert_rule_create": "Alert rule created",
    "alert_rule_update": "Alert rule changed",
    "alert_rule_delete": "Alert rule deleted",
    "alert_notification": "Alert notification sent",
    "audit_retention": "Old events removed (retention)",
}
ACTIONS = tuple(ACTION_LABELS)
ACTOR_TYPES = ("user", "agent", "share", "system")
GENESIS = "0" * 64
CHAIN_LOCK = 727275  # advisory lock key held while an event is chained
RETENTION_ACTION = "audit_retention"
# The columns each event's content describes, in the order they are read back.
FIELDS = (
    "occurred_at",
    "action",
    "outcome",
    "actor_type",
    "actor_id",
    "user_id",
    "email",
    "ip",
    "resource",
    "request_id",
    "details",
)


def canonical(event: dict) -> str:
    """The text an event is hashed from: sorted keys, no spaces, UTC times."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def record_event(
    database: Postgres,
    action: str,
    outcome: str,
    *,
    user_id: str | None = None,
    email: str | None = None,
    ip: str | None = None,
    details: dict | None = None,
    actor_type: str = "user",
    actor_id: str | None = None,
    resource: str | None = None,
    request_id: str | None = None,
) -> None:
    """Append one event; a failing write is logged, never shown to the user (callers
    that must fail closed use `append_event`)."""
    try:
        append_event(
            database,
            action,
            outcome,
            user_id=user_id,
            email=email,
            ip=ip,
            details=details,
            actor_type=actor_type,
            actor_id=actor_id,
            resource=resource,
            request_id=request_id,
        )
    except (psycopg2.Error, ServiceUnavailable) as error:
        # Unreachable or failing: the whole event (never a secret: events hold
        # none) goes to the log so it can be restored.
        event = {
            "action": action,
            "outcome": outcome,
            "user_id": user_id,
            "actor_type": actor_type,
            "actor_id": actor_id,
            "resource": resource,
            "request_id": request_id,
            "details": details,
        }
        log.error("audit write failed", extra={"event": event, "error": str(error)})


def append_event(database: Postgres, action: str, outcome: str, **fields) -> int:
    """Chain and insert one event; returns its id (raises on failure)."""
    event = {
        "occurred_at": dt.datetime.now(dt.UTC).isoformat(),
        "action": action,
        "outcome": outcome,
        "actor_type": fields.get("actor_type") or "user",
        "actor_id": fields.get("actor_id"),
        "user_id": fields.get("user_id"),
        "email": (fields.get("email") or None) and fields["email"][:254],
        "ip": fields.get("ip"),
        "resource": fields.get("resource"),
        "request_id": fields.get("request_id"),
        # As JSON reads it back (a date becomes its text), so content and column agree.
        "details": json.loads(json.dumps(fields.get("details") or {}, default=str)),
    }
    content = canonical(event)
    with database.transaction() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
        cursor.execute(
            "SELECT row_hash FROM audit_events WHERE row_hash IS NOT NULL"
            " ORDER BY id DESC LIMIT 1"
        )
        last = cursor.fetchone()
        prev_hash = last[0] if last else GENESIS
        values = [event[name] for name in FIELDS]
        values[-1] = Json(event["details"])
        cursor.execute(
            f"INSERT INTO audit_events ({', '.join(FIELDS)}, content, prev_hash,"
            " row_hash) VALUES (%s::timestamptz, %s, %s, %s, %s, %s::uuid, %s, %s,"
            " %s, %s, %s, %s, %s, %s) RETURNING id",
            (*values, content, prev_hash, chain_hash(prev_hash, content)),
        )
        return cursor.fetchone()[0]


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


MAX_PAGE = 500


def find_events(
    database: Postgres,
    user_id: str | None,
    *,
    actor: str | None = None,
    action: str | None = None,
    resource: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Events newest first: about `user_id` (their own and their agents' and links'),
    or everyone's when None (admins); each filter narrows (all parameters bound)."""
    conditions: list[str] = []
    values: list[object] = []
    if user_id is not None:
        conditions.append("user_id = %s::uuid")
        values.append(user_id)
    for column, value in (("actor_type", actor), ("action", action)):
        if value:
            conditions.append(f"{column} = %s")
            values.append(value)
    if resource:
        conditions.append("resource LIKE %s")
        values.append(f"%{resource.replace('%', '').replace('_', '')}%")
    if since:
        conditions.append("occurred_at >= %s")
        values.append(since)
    if until:
        conditions.append("occurred_at < %s")
        values.append(until)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    columns = ("id", *FIELDS)
    with database.transaction() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM audit_events{where}"
            " ORDER BY id DESC LIMIT %s OFFSET %s",
            (*values, min(limit, MAX_PAGE), offset),
        )
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def public_event(row: dict) -> dict:
    """An event as the API shows it (never a secret: events never hold one)."""
    return {
        "id": row["id"],
        "at": row["occurred_at"].isoformat(),
        "actor": {"type": row["actor_type"], "id": row["actor_id"] or row["user_id"]},
        "action": row["action"],
        "resource": row["resource"],
        "outcome": row["outcome"],
        "ip": row["ip"],
        "requestId": row["request_id"],
        "details": row["details"],
    }


# ------------------------------------------------------------------- verifying


def verify(database: Postgres, batch: int = 5000) -> dict:
    """{"ok", "checked", "firstBroken"}: the chain from its start (or from the last
    retention checkpoint's removed rows) to the newest event."""
    checked, expected_prev = 0, None
    last_id = 0
    while True:
        rows = _chained_rows(database, last_id, batch)
        if not rows:
            return {"ok": True, "checked": checked, "firstBroken": None}
        for row in rows:
            if expected_prev is None:
                expected_prev = _chain_start(database, row)
            if not _row_holds(row, expected_prev):
                return {"ok": False, "checked": checked, "firstBroken": row["id"]}
            expected_prev = row["row_hash"]
            checked += 1
            last_id = row["id"]


def _chained_rows(database: Postgres, after_id: int, batch: int) -> list[dict]:
    columns = ("id", *FIELDS, "content", "prev_hash", "row_hash")
    with database.transaction() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM audit_events"
            " WHERE id > %s AND row_hash IS NOT NULL ORDER BY id LIMIT %s",
            (after_id, batch),
        )
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _chain_start(database: Postgres, first: dict) -> str:
    """What the first remaining row must link to: the genesis hash, or the last
    hash a retention checkpoint recorded as removed."""
    if first["prev_hash"] == GENESIS:
        return GENESIS
    with database.transaction() as cursor:
        cursor.execute(
            "SELECT 1 FROM audit_events WHERE action = %s AND outcome = 'success'"
            " AND details->>'lastRemovedHash' = %s LIMIT 1",
            (RETENTION_ACTION, first["prev_hash"]),
        )
        found = cursor.fetchone()
    return first["prev_hash"] if found else GENESIS


def _row_holds(row: dict, expected_prev: str) -> bool:
    """The row links to the one before, its hash is of its content, and its
    columns say what its content says."""
    if row["prev_hash"] != expected_prev:
        return False
    if row["row_hash"] != chain_hash(row["prev_hash"], row["content"] or ""):
        return False
    try:
        content = json.loads(row["content"])
    except (TypeError, ValueError):
        return False
    for name in FIELDS:
        stored = row[name]
        if name == "occurred_at":
            same = dt.datetime.fromisoformat(content[name]) == stored
        elif name == "user_id":
            same = content[name] == (str(stored) if stored is not None else None)
        else:
            same = content.get(name) == stored
        if not same:
            return False
    return True


# ------------------------------------------------------------------- retention


def apply_retention(database: Postgres, before: dt.datetime) -> dict:
    """Remove the events older than `before`, after a chained checkpoint event
    that names them ({"removed", "removedThrough"})."""
    with database.transaction() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK + 1,))
        cursor.execute(
            "SELECT max(id), count(*) FROM audit_events WHERE occurred_at < %s",
            (before,),
        )
        through, count = cursor.fetchone()
        if not count:
            return {"removed": 0, "removedThrough": None}
        cursor.execute("SELECT row_hash FROM audit_events WHERE id = %s", (through,))
        last_hash = cursor.fetchone()[0]
    details = {
        "removedThrough": through,
        "removedCount": count,
        "lastRemovedHash": last_hash,
        "before": before.isoformat(),
    }
    append_event(database, RETENTION_ACTION, "success", actor_type="system",
                 details=details)  # fmt: skip
    with database.transaction() as cursor:
        cursor.execute("SET LOCAL insightboard.audit_retention = 'on'")
        cursor.execute("DELETE FROM audit_events WHERE id <= %s", (through,))
    return {"removed": count, "removedThrough": through}


def main(argv: list[str]) -> int:
    """`python -m auth.audit verify`: check the chain of DATABASE_URL's trail."""
    if argv[:1] != ["verify"]:
        print("usage: python -m auth.audit verify", file=sys.stderr)
        return 2
    database = Postgres(load_settings().database_url)
    try:
        result = verify(database)
    finally:
        database.close()
    if result["ok"]:
        print(f"audit chain holds: {result['checked']} events checked")
        return 0
    print(
        f"audit chain broken at event {result['firstBroken']} "
        f"({result['checked']} events before it hold)"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
