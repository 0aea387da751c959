"""Password policy and bcrypt hashing.

Scheme: bcrypt (cost 12) over a pre-hash, `base64(HMAC-SHA256(key, NFC(password)))`
with the fixed key `PREHASH_KEY`. bcrypt only reads 72 bytes (bcrypt 5 raises
beyond that) and stops at a NUL byte; the 44-byte base64 digest has neither
problem, so every character of a 128-character password counts. The HMAC key
is a constant domain separator (not a secret): it keeps a leaked unsalted
SHA-256 of the same password elsewhere from being tested against our hashes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import unicodedata

import bcrypt

from config import PRODUCTION_HASH_ROUNDS

# The cost of new hashes unless the caller passes the setting (PASSWORD_HASH_ROUNDS).
BCRYPT_ROUNDS = PRODUCTION_HASH_ROUNDS
MIN_LENGTH = 8
MAX_LENGTH = 128
PREHASH_KEY = b"insightboard-password-v1"


def password_problem(password: str) -> str | None:
    """Why the password breaks the policy, or None when it is acceptable."""
    length = len(unicodedata.normalize("NFC", password))
    if length < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters."
    if length > MAX_LENGTH:
        return f"Password must be at most {MAX_LENGTH} characters."
    return None


def _prehash(password: str) -> bytes:
    normalised = unicodedata.normalize("NFC", password).encode("utf-8")
    digest = hmac.new(PREHASH_KEY, normalised, hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """The bcrypt hash (as text) of a password that passed the policy."""
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """True when the password matches the stored hash; malformed hashes never match."""
    try:
        return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))
    except ValueError:
        return False


@functools.cache
def dummy_hash(rounds: int) -> str:
    """Checked against when the e-mail is unknown, so a miss costs the same bcrypt
    work as a wrong password and timing does not reveal which accounts exist."""
    return hash_password("timing-equaliser-not-a-real-password", rounds)


def burn_verification_time(password: str, rounds: int = BCRYPT_ROUNDS) -> None:
    """Spend one bcrypt verification at the cost of new hashes, as a real check
    would."""
    verify_password(password, dummy_hash(rounds))
