"""Bearer token values shared by personal and agent tokens: a recognisable prefix
and 256 random bits, shown once and stored only as their SHA-256 (auth.sessions)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from auth.users import is_uuid
from data.errors import NotFound
from data.postgres import Postgres

# 32 random bytes = 256 bits, URL-safe base64 (43 characters).
RANDOM_BYTES = 32
SHOWN_PREFIX_LENGTH = 8
MAX_NAME_LENGTH = 64


def new_value(prefix: str) -> str:
    """A fresh token: the prefix makes leaked tokens easy to recognise and grep."""
    return prefix + secrets.token_urlsafe(RANDOM_BYTES)


def value_pattern(prefix: str) -> re.Pattern[str]:
    """The full shape of a token with this prefix."""
    return re.compile(re.escape(prefix) + r"[A-Za-z0-9_-]{43}")


def name_problem(name: object) -> str | None:
    """Why a token name is refused, or None for a good one."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name.strip()) > MAX_NAME_LENGTH
        or not name.strip().isprintable()
    ):
        return f"Give the token a name of 1 to {MAX_NAME_LENGTH} printable characters."
    return None


def iso_or_none(moment: datetime | None) -> str | None:
    """A timestamp as the API spells it (None stays None)."""
    return moment.isoformat() if moment else None


# The tables of bearer credentials that `revoke_owned` may name (never input).
TOKEN_TABLES = frozenset({"api_tokens", "agent_tokens"})


def revoke_owned(
    database: Postgres, table: str, columns: str, owner_id: str, token_id: str
) -> tuple:
    """Revoke one of the owner's live tokens in `table` and return its row (the
    given columns); NotFound for anyone else's, a revoked or an unknown token."""
    if table not in TOKEN_TABLES or not is_uuid(token_id):
        raise NotFound("No such token.")
    with database.transaction() as cursor:
        cursor.execute(
            f"UPDATE {table} SET revoked_at = now()"
            " WHERE id = %s::uuid AND user_id = %s::uuid AND revoked_at IS NULL"
            f" RETURNING {columns}",
            (token_id, owner_id),
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such token.")
    return row
