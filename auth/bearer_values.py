"""Bearer token values shared by personal and agent tokens: a recognisable prefix
and 256 random bits, shown once and stored only as their SHA-256 (auth.sessions)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

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
