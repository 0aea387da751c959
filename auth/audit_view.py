"""Reading the audit trail: one set of filters for `GET /api/audit` and the /audit
page, whose events a caller may see, and a CSV export safe to open in a
spreadsheet (a cell that a spreadsheet would read as a formula gets a leading
apostrophe)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from auth import audit
from auth.users import User
from data.errors import Forbidden, ValidationFailed
from data.postgres import Postgres

FILTERS = ("actor", "action", "resource", "from", "to", "limit", "offset", "all",
           "format")  # fmt: skip
FORMATS = ("json", "csv")
PAGE_SIZE = 100
EXPORT_MAX = 10_000
# A spreadsheet reads a cell starting with one of these as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilters:
    """What to show: who acted, which action, which resource, when, which page."""

    actor: str | None = None
    action: str | None = None
    resource: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int = PAGE_SIZE
    offset: int = 0
    everyone: bool = False
    format: str = "json"


def parse_filters(query: Mapping[str, str]) -> AuditFilters:
    """The filters of a query string; ValidationFailed names a bad parameter."""
    unknown = sorted(set(query) - set(FILTERS))
    if unknown:
        raise ValidationFailed(
            f"Unknown parameter {unknown[0][:40]!r}; use {', '.join(FILTERS)}.",
            details={"field": unknown[0][:40]},
        )
    return AuditFilters(
        actor=_choice(query, "actor", audit.ACTOR_TYPES),
        action=(query.get("action") or "")[:60] or None,
        resource=(query.get("resource") or "")[:200] or None,
        since=_moment(query, "from"),
        until=_moment(query, "to"),
        limit=_count(query, "limit", PAGE_SIZE, 1, audit.MAX_PAGE),
        offset=_count(query, "offset", 0, 0, 10**9),
        everyone=query.get("all") in ("1", "true"),
        format=_choice(query, "format", FORMATS) or "json",
    )


def visible_events(database: Postgres, user: User, filters: AuditFilters) -> list:
    """The events of one page: the user's own (their agents' and links' too), or
    everyone's for an admin who asks for them."""
    if filters.everyone and user.role != "admin":
        raise Forbidden("Only admins see everyone's events.")
    return audit.find_events(
        database,
        None if filters.everyone else user.id,
        actor=filters.actor,
        action=filters.action,
        resource=filters.resource,
        since=filters.since,
        until=filters.until,
        limit=filters.limit,
        offset=filters.offset,
    )


def export_events(database: Postgres, user: User, filters: AuditFilters) -> list:
    """Every event the filters match (newest first, at most EXPORT_MAX), page by
    page from the filters' offset."""
    events: list = []
    offset = filters.offset
    while len(events) < EXPORT_MAX:
        size = min(audit.MAX_PAGE, EXPORT_MAX - len(events))
        page = visible_events(
            database, user, replace(filters, limit=size, offset=offset)
        )
        events.extend(page)
        if len(page) < size:
            break
        offset += size
    return events


# ---------------------------------------------------------------------- CSV


def _details_text(row: dict) -> str:
    return json.dumps(row["details"] or {}, sort_keys=True, ensure_ascii=False)


# The export's columns, in order: header and how each is read from an event row.
CSV_COLUMNS: tuple[tuple[str, Callable[[dict], object]], ...] = (
    ("id", lambda row: row["id"]),
    ("at", lambda row: row["occurred_at"].astimezone(dt.UTC).isoformat()),
    ("actor_type", lambda row: row["actor_type"]),
    ("actor_id", lambda row: row["actor_id"] or row["user_id"]),
    ("user_id", lambda row: row["user_id"]),
    ("email", lambda row: row["email"]),
    ("action", lambda row: row["action"]),
    ("resource", lambda row: row["resource"]),
    ("outcome", lambda row: row["outcome"]),
    ("ip", lambda row: row["ip"]),
    ("request_id", lambda row: row["request_id"]),
    ("details", _details_text),
)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: formula starts get an apostrophe."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def events_csv(rows: list[dict]) -> str:
    """The events as CSV (a header row, then one row per event)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([name for name, _read in CSV_COLUMNS])
    for row in rows:
        writer.writerow([safe_cell(read(row)) for _name, read in CSV_COLUMNS])
    return buffer.getvalue()


# ------------------------------------------------------------------ parsing


def _choice(query: Mapping[str, str], name: str, allowed: tuple) -> str | None:
    value = query.get(name)
    if value and value not in allowed:
        raise ValidationFailed(
            f"{name} must be one of {', '.join(allowed)}.",
            details={"field": name, "allowed": list(allowed)},
        )
    return value or None


def _moment(query: Mapping[str, str], name: str) -> dt.datetime | None:
    text = query.get(name)
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
        # As UTC: PostgreSQL refuses some offsets Python accepts (e.g. -19:19).
        return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(
            dt.UTC
        )
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"{name} must be an ISO date or date-time.", details={"field": name}
        ) from None


def _count(query: Mapping[str, str], name: str, default: int, low: int, high: int):
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationFailed(
            f"{name} must be a whole number from {low} to {high}.",
            details={"field": name},
        )
    return int(text)
