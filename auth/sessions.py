"""Server-side records of browser sessions, so a copied cookie can be revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from auth.users import USER_COLUMNS, User, user_from_row
from data.postgres import Postgres


def token_digest(token: str) -> bytes:
    """SHA-256 of a random token: what the database stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def printable(text: str) -> str:
    """`text` without control characters (PostgreSQL refuses NUL in text)."""
    return "".join(char for char in text if char.isprintable())


class SessionRepository:
    """Reads and writes user_sessions."""

    def __init__(self, database: Postgres) -> None:
        self.database = database

    def open(
        self,
        user_id: str,
        lifetime: timedelta,
        *,
        remember: bool,
        ip: str | None,
        user_agent: str | None,
    ) -> str:
        """Start a session for the user and return its (secret) token."""
        token = secrets.token_urlsafe(32)
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO user_sessions"
                " (user_id, token_hash, remember, expires_at, ip, user_agent)"
                " VALUES (%s::uuid, %s, %s, now() + %s, %s, %s)",
                (
                    user_id,
                    token_digest(token),
                    remember,
                    lifetime,
                    ip,
                    printable(user_agent or "")[:300],
                ),
            )
        return token

    def user_for(self, token: str) -> tuple[User, datetime] | None:
        """The active user owning a live (unrevoked, unexpired) session token, and
        when that session expires."""
        columns = ", ".join(f"u.{c.strip()}" for c in USER_COLUMNS.split(","))
        with self.database.transaction() as cursor:
            cursor.execute(
                f"SELECT {columns}, s.expires_at FROM user_sessions s"
                " JOIN users u ON u.id = s.user_id"
                " WHERE s.token_hash = %s AND s.revoked_at IS NULL"
                " AND s.expires_at > now() AND u.is_active",
                (token_digest(token),),
            )
            row = cursor.fetchone()
        return (user_from_row(row[:-1]), row[-1]) if row else None

    def revoke(self, token: str) -> None:
        """End one session (sign-out)."""
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE user_sessions SET revoked_at = now()"
                " WHERE token_hash = %s AND revoked_at IS NULL",
                (token_digest(token),),
            )

    def revoke_all(self, user_id: str) -> int:
        """End every session of a user (password change); return how many."""
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE user_sessions SET revoked_at = now()"
                " WHERE user_id = %s::uuid AND revoked_at IS NULL",
                (user_id,),
            )
            return cursor.rowcount
