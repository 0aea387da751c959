"""Access tokens for the REST API: HS256 JWTs with a pinned algorithm."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
ISSUER = "insightboard"
TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss", "typ", "sv"]


def signing_key(secret_key: str) -> bytes:
    """A 32-byte key derived from SECRET_KEY, separate from the cookie-signing use."""
    return hmac.new(secret_key.encode("utf-8"), b"insightboard-jwt", "sha256").digest()


@dataclass(frozen=True)
class AccessClaims:
    """The verified claims the app uses."""

    user_id: str
    session_version: int


def issue_access_token(
    secret_key: str, audience: str, ttl_s: int, user_id: str, session_version: int
) -> str:
    """A signed access token for the user, valid for `ttl_s` seconds."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "aud": audience,
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl_s,
        "typ": TOKEN_TYPE,
        "sv": session_version,
        "jti": secrets.token_hex(16),
    }
    return jwt.encode(claims, signing_key(secret_key), algorithm=ALGORITHM)


def decode_access_token(token: str, secret_key: str, audience: str) -> AccessClaims:
    """Verified claims of a token; raises jwt.InvalidTokenError for any defect."""
    # `algorithms` pins HS256: "none" and every other algorithm are refused.
    claims = jwt.decode(
        token,
        signing_key(secret_key),
        algorithms=[ALGORITHM],
        audience=audience,
        issuer=ISSUER,
        options={"require": REQUIRED_CLAIMS},
    )
    if claims["typ"] != TOKEN_TYPE:
        raise jwt.InvalidTokenError("not an access token")
    if not isinstance(claims["sub"], str) or not isinstance(claims["sv"], int):
        raise jwt.InvalidTokenError("malformed claims")
    return AccessClaims(user_id=claims["sub"], session_version=claims["sv"])
