"""Agent tokens: bearer credentials for AI agents, bound to one user and a scope.

A token names its datasets, optionally its measures and dimensions (None: all of
the datasets'), the longest time window it may read and an expiry. Like personal
tokens (auth/api_tokens.py) it is random, shown once and stored hashed; the
request guard (auth/agent_guard.py) holds every call to the scope, and the agent
data reads (api/agent_access.py) apply it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from auth import bearer_values
from auth.sessions import token_digest
from data.errors import Forbidden
from data.postgres import Postgres

PREFIX = "iba_"
TOKEN_PATTERN = bearer_values.value_pattern(PREFIX)
MAX_TOKENS_PER_USER = 50
MAX_DATASETS = 20
MAX_EXPIRY_DAYS = 90
DEFAULT_MAX_WINDOW_DAYS = 90
MAX_WINDOW_DAYS = 366


def looks_like_agent_token(value: str | None) -> bool:
    """True when a bearer value has the agent-token shape."""
    return bool(value) and bool(TOKEN_PATTERN.fullmatch(value or ""))


@dataclass(frozen=True)
class AgentToken:
    """A token's description and scope (the secret itself is never stored)."""

    id: str
    user_id: str
    name: str
    prefix: str
    datasets: tuple[str, ...]
    measures: tuple[str, ...] | None
    dimensions: tuple[str, ...] | None
    max_window_days: int
    expires_at: dt.datetime
    created_at: dt.datetime
    last_used_at: dt.datetime | None

    def public(self) -> dict:
        """The JSON shape of a token in API responses (never its value)."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "datasets": list(self.datasets),
            "measures": list(self.measures) if self.measures is not None else None,
            "dimensions": (
                list(self.dimensions) if self.dimensions is not None else None
            ),
            "maxWindowDays": self.max_window_days,
            "expiresAt": self.expires_at.isoformat(),
            "createdAt": self.created_at.isoformat(),
            "lastUsedAt": bearer_values.iso_or_none(self.last_used_at),
        }

    def require_dataset(self, dataset_id: object) -> str:
        """The dataset id when this token names it; Forbidden otherwise."""
        if not isinstance(dataset_id, str) or dataset_id not in self.datasets:
            raise Forbidden(
                "This agent token does not cover that dataset.",
                details={"field": "datasetId"},
            )
        return dataset_id

    def require_measures(self, names: list[str]) -> None:
        """Forbidden naming the first measure outside the token's measures."""
        for name in names:
            if self.measures is not None and name not in self.measures:
                raise Forbidden(
                    f"This agent token does not cover the measure {name[:40]!r}; "
                    f"it covers: {', '.join(self.measures)}.",
                    details={"field": "measures", "choices": list(self.measures)},
                )

    def require_dimensions(self, names: list[str], field: str) -> None:
        """Forbidden naming the first dimension outside the token's dimensions."""
        for name in names:
            if self.dimensions is not None and name not in self.dimensions:
                allowed = ", ".join(self.dimensions) or "(none)"
                raise Forbidden(
                    f"This agent token does not cover the dimension {name[:40]!r}; "
                    f"it covers: {allowed}.",
                    details={"field": field, "choices": list(self.dimensions)},
                )

    def require_window(self, days: int) -> None:
        """Forbidden when a time window is longer than the token allows."""
        if days > self.max_window_days:
            raise Forbidden(
                f"This agent token reads windows of at most {self.max_window_days} "
                f"days; this request spans {days}.",
                details={"field": "from", "maxWindowDays": self.max_window_days},
            )


TOKEN_COLUMNS = (
    "id::text, user_id::text, name, token_prefix, datasets, measures, dimensions,"
    " max_window_days, expires_at, created_at, last_used_at"
)


def _token(row) -> AgentToken:
    values = list(row)
    for index in (4, 5, 6):
        values[index] = tuple(values[index]) if values[index] is not None else None
    return AgentToken(*values)


@dataclass(frozen=True)
class NewAgentToken:
    """A validated request for a token (see auth.agent_token_service)."""

    name: str
    datasets: tuple[str, ...]
    measures: tuple[str, ...] | None
    dimensions: tuple[str, ...] | None
    max_window_days: int
    expires_at: dt.datetime


class AgentTokenRepository:
    """Reads and writes agent_tokens; every owner query is scoped to the owner."""

    def __init__(self, database: Postgres) -> None:
        self.database = database

    def create(self, owner_id: str, new: NewAgentToken) -> tuple[AgentToken, str]:
        """Store a new token for the owner; return it with its one-time secret."""
        value = bearer_values.new_value(PREFIX)
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO agent_tokens (user_id, name, token_hash, token_prefix,"
                " datasets, measures, dimensions, max_window_days, expires_at)"
                " VALUES (%s::uuid, %s, %s, %s, %s, %s, %s, %s, %s)"
                f" RETURNING {TOKEN_COLUMNS}",
                (owner_id, new.name, token_digest(value),
                 value[: bearer_values.SHOWN_PREFIX_LENGTH], list(new.datasets),
                 _array(new.measures), _array(new.dimensions), new.max_window_days,
                 new.expires_at),
            )  # fmt: skip
            return _token(cursor.fetchone()), value

    def list(self, owner_id: str) -> list[AgentToken]:
        """The owner's live tokens (not revoked, not expired), newest first."""
        with self.database.transaction() as cursor:
            cursor.execute(
                f"SELECT {TOKEN_COLUMNS} FROM agent_tokens"
                " WHERE user_id = %s::uuid AND revoked_at IS NULL"
                " AND expires_at > now() ORDER BY created_at DESC",
                (owner_id,),
            )
            return [_token(row) for row in cursor.fetchall()]

    def revoke(self, owner_id: str, token_id: str) -> AgentToken:
        """Revoke one of the owner's tokens; NotFound for anyone else's or unknown."""
        row = bearer_values.revoke_owned(
            self.database, "agent_tokens", TOKEN_COLUMNS, owner_id, token_id
        )
        return _token(row)

    def live_token(self, value: str) -> AgentToken | None:
        """The live token with this value whose owner is active (its last use
        stamped), or None for an unknown, revoked or expired one."""
        columns = ", ".join(f"t.{c.strip()}" for c in TOKEN_COLUMNS.split(","))
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE agent_tokens t SET last_used_at = now() FROM users u"
                " WHERE u.id = t.user_id AND t.token_hash = %s"
                " AND t.revoked_at IS NULL AND t.expires_at > now() AND u.is_active"
                f" RETURNING {columns}",
                (token_digest(value),),
            )
            row = cursor.fetchone()
        return _token(row) if row else None


def _array(values: tuple[str, ...] | None) -> list[str] | None:
    return list(values) if values is not None else None
