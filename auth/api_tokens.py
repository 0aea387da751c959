"""Personal API tokens: random, shown once, stored hashed, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auth import bearer_values
from auth.sessions import token_digest
from auth.users import USER_COLUMNS, User, user_from_row
from data.postgres import Postgres

PREFIX = "ibt_"
TOKEN_PATTERN = bearer_values.value_pattern(PREFIX)
MAX_TOKENS_PER_USER = 50


def new_token_value() -> str:
    """A fresh personal token (see auth.bearer_values)."""
    return bearer_values.new_value(PREFIX)


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
            "last_used_at": bearer_values.iso_or_none(self.last_used_at),
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
                (
                    owner_id,
                    name,
                    token_digest(value),
                    value[: bearer_values.SHOWN_PREFIX_LENGTH],
                ),
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
        row = bearer_values.revoke_owned(
            self.database, "api_tokens", TOKEN_COLUMNS, owner_id, token_id
        )
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
