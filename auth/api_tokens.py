"""Personal API tokens: random, shown once, stored hashed, revocable."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from auth.sessions import token_digest
from auth.users import USER_COLUMNS, User, is_uuid, user_from_row
from data.errors import NotFound
from data.postgres import Postgres

PREFIX = "ibt_"
# 32 random bytes = 256 bits, URL-safe base64 (43 characters).
TOKEN_PATTERN = re.compile(r"ibt_[A-Za-z0-9_-]{43}")
MAX_TOKENS_PER_USER = 50


def new_token_value() -> str:
    """A fresh token: the prefix makes leaked tokens easy to recognise and grep."""
    return PREFIX + secrets.token_urlsafe(32)


def looks_like_api_token(value: str) -> bool:
    """True when the bearer value has the personal-token shape (not a JWT)."""
    return bool(TOKEN_PATTERN.fullmatch(value))


@dataclass(frozen=True)
class ApiToken:
    """A token's public description (the secret itself is never stored)."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None

    def public(self) -> dict:
        """The JSON shape of a token in API responses."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat()
            if self.last_used_at
            else None,
        }


TOKEN_COLUMNS = "id::text, name, token_prefix, created_at, last_used_at"


class ApiTokenRepository:
    """Reads and writes api_tokens; every query is scoped to the owner."""

    def __init__(self, database: Postgres) -> None:
        self.database = database

    def create(self, owner_id: str, name: str) -> tuple[ApiToken, str]:
        """Store a new token for the owner; return it with its one-time secret."""
        value = new_token_value()
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash, token_prefix)"
                " VALUES (%s::uuid, %s, %s, %s)"
                f" RETURNING {TOKEN_COLUMNS}",
                (owner_id, name, token_digest(value), value[:8]),
            )
            return ApiToken(*cursor.fetchone()), value

    def list(self, owner_id: str) -> list[ApiToken]:
        """The owner's live tokens, newest first."""
        with self.database.transaction() as cursor:
            cursor.execute(
                f"SELECT {TOKEN_COLUMNS} FROM api_tokens"
                " WHERE user_id = %s::uuid AND revoked_at IS NULL"
                " ORDER BY created_at DESC",
                (owner_id,),
            )
            return [ApiToken(*row) for row in cursor.fetchall()]

    def count(self, owner_id: str) -> int:
        """How many live tokens the owner has."""
        return len(self.list(owner_id))

    def revoke(self, owner_id: str, token_id: str) -> ApiToken:
        """Revoke one of the owner's tokens; NotFound for anyone else's or unknown."""
        if not is_uuid(token_id):
            raise NotFound("No such token.")
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE api_tokens SET revoked_at = now()"
                " WHERE id = %s::uuid AND user_id = %s::uuid AND revoked_at IS NULL"
                f" RETURNING {TOKEN_COLUMNS}",
                (token_id, owner_id),
            )
            row = cursor.fetchone()
        if row is None:
            raise NotFound("No such token.")
        return ApiToken(*row)

    def user_for(self, value: str) -> User | None:
        """The active owner of a live token, marked as coming with that token
        (and stamp its last use)."""
        columns = ", ".join(f"u.{c.strip()}" for c in USER_COLUMNS.split(","))
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE api_tokens t SET last_used_at = now() FROM users u"
                " WHERE u.id = t.user_id AND t.token_hash = %s"
                f" AND t.revoked_at IS NULL AND u.is_active RETURNING {columns}, t.id",
                (token_digest(value),),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        user = user_from_row(row[:-1])
        return user.with_auth("api_token", credential_id=str(row[-1]))
