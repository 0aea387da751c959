"""The users table: the User model and its repository."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

import psycopg2.errors

from data.errors import Conflict
from data.postgres import Postgres

ROLES = ("admin", "analyst", "viewer")
USER_COLUMNS = (
    "id::text, email::text, role, is_active, session_version, created_at, last_login"
)
# Serialises registrations so "the first user becomes admin" holds under races.
REGISTRATION_LOCK = 727_275


def is_uuid(value: object) -> bool:
    """True for a canonical UUID string (checked before it reaches SQL casts)."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@dataclass(frozen=True)
class User:
    """A signed-in (or stored) user; Flask-Login reads `is_active` and `get_id`."""

    id: str
    email: str
    role: str
    is_active: bool
    session_version: int
    created_at: datetime
    last_login: datetime | None
    # How this request proved who it is: "session", "jwt" or "api_token".
    auth_method: str | None = None
    # The browser session's token (the Flask-Login id); None for bearer requests.
    session_token: str | None = field(default=None, repr=False)
    # The id of the personal API token this request came with (audit trail).
    credential_id: str | None = None

    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        """Flask-Login stores the session token, never the user id, in the cookie."""
        return self.session_token

    def with_auth(
        self,
        method: str,
        session_token: str | None = None,
        credential_id: str | None = None,
    ) -> User:
        """A copy that records how the current request authenticated."""
        return replace(
            self,
            auth_method=method,
            session_token=session_token,
            credential_id=credential_id,
        )

    def public(self) -> dict:
        """The JSON shape of a user in API responses."""
        return {
            "id": self.id,
            "email": self.email,
            "role": self.role,
            "is_active": self.is_active,
            "created_at": self.created_at.isoformat(),
            "last_login": self.last_login.isoformat() if self.last_login else None,
        }


def user_from_row(row: tuple) -> User:
    """Build a User from a row selected with USER_COLUMNS."""
    return User(*row)


class UserRepository:
    """Reads and writes the users table."""

    def __init__(self, database: Postgres) -> None:
        self.database = database

    def create(self, email: str, password_hash: str) -> User:
        """Insert a user (the first becomes admin); Conflict if the e-mail exists."""
        try:
            with self.database.transaction() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (REGISTRATION_LOCK,))
                cursor.execute(
                    "INSERT INTO users (email, password_hash, role) VALUES (%s, %s,"
                    " CASE WHEN EXISTS (SELECT 1 FROM users) THEN 'analyst'"
                    " ELSE 'admin' END)"
                    f" RETURNING {USER_COLUMNS}",
                    (email, password_hash),
                )
                return user_from_row(cursor.fetchone())
        except psycopg2.errors.UniqueViolation as error:
            raise Conflict("An account with this e-mail already exists.") from error

    def by_id(self, user_id: str) -> User | None:
        """The user with this id, or None."""
        if not is_uuid(user_id):
            return None
        with self.database.transaction() as cursor:
            cursor.execute(
                f"SELECT {USER_COLUMNS} FROM users WHERE id = %s::uuid", (user_id,)
            )
            row = cursor.fetchone()
        return user_from_row(row) if row else None

    def credentials(self, email: str) -> tuple[User, str] | None:
        """The user with this e-mail (case-insensitive) and their password hash."""
        with self.database.transaction() as cursor:
            cursor.execute(
                f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = %s",
                (email,),
            )
            row = cursor.fetchone()
        return (user_from_row(row[:-1]), row[-1]) if row else None

    def password_hash(self, user_id: str) -> str | None:
        """The stored hash for a user id."""
        with self.database.transaction() as cursor:
            cursor.execute(
                "SELECT password_hash FROM users WHERE id = %s::uuid", (user_id,)
            )
            row = cursor.fetchone()
        return row[0] if row else None

    def record_login(self, user_id: str) -> None:
        """Stamp last_login."""
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE users SET last_login = now() WHERE id = %s::uuid", (user_id,)
            )

    def change_password(self, user_id: str, password_hash: str) -> int:
        """Store a new hash, bump the session version; return the new version."""
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE users SET password_hash = %s,"
                " session_version = session_version + 1"
                " WHERE id = %s::uuid RETURNING session_version",
                (password_hash, user_id),
            )
            return cursor.fetchone()[0]

    def set_active(self, user_id: str, active: bool) -> User | None:
        """Activate or deactivate an account; the updated user, or None."""
        return self._update(user_id, "is_active = %s", active)

    def set_role(self, user_id: str, role: str) -> User | None:
        """Give an account one of ROLES; the updated user, or None."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        return self._update(user_id, "role = %s", role)

    def _update(self, user_id: str, assignment: str, value) -> User | None:
        if not is_uuid(user_id):
            return None
        with self.database.transaction() as cursor:
            cursor.execute(
                f"UPDATE users SET {assignment} WHERE id = %s::uuid"
                f" RETURNING {USER_COLUMNS}",
                (value, user_id),
            )
            row = cursor.fetchone()
        return user_from_row(row) if row else None

    def list_users(self) -> list[User]:
        """Every user, oldest first (for admins; no user data beyond the account)."""
        with self.database.transaction() as cursor:
            cursor.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY created_at")
            return [user_from_row(row) for row in cursor.fetchall()]
