"""The JWT decode function itself: HS256 only, even with the right key."""

from __future__ import annotations

import contextlib
import time
import warnings

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from auth.jwt_tokens import decode_access_token, issue_access_token, signing_key

SECRET = "unit-test-secret-key-that-is-long-enough-0123456789"
AUDIENCE = "insightboard-api"


def claims() -> dict:
    now = int(time.time())
    return {
        "sub": "4b8c7f56-0000-4000-8000-000000000001",
        "aud": AUDIENCE,
        "iss": "insightboard",
        "iat": now,
        "exp": now + 600,
        "typ": "access",
        "sv": 3,
    }


@contextlib.contextmanager
def short_key_allowed():
    """Our 32-byte key is short for HS384/HS512 and PyJWT says so; intended here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        yield


def signed(algorithm: str) -> str:
    with short_key_allowed():
        return jwt.encode(claims(), signing_key(SECRET), algorithm=algorithm)


def test_hs256_with_the_key_decodes():
    """Control case: the same claims and key under HS256 are accepted."""
    decoded = decode_access_token(signed("HS256"), SECRET, AUDIENCE)
    assert (decoded.user_id, decoded.session_version) == (claims()["sub"], 3)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_with_the_right_key_are_refused(algorithm):
    token = signed(algorithm)
    # The signature is genuine: PyJWT accepts it when that algorithm is allowed.
    with short_key_allowed():
        assert jwt.decode(
            token, signing_key(SECRET), algorithms=[algorithm], audience=AUDIENCE
        )
    with pytest.raises(jwt.InvalidAlgorithmError):
        decode_access_token(token, SECRET, AUDIENCE)


def test_issued_tokens_carry_hs256_and_every_required_claim():
    token = issue_access_token(SECRET, AUDIENCE, 600, claims()["sub"], 3)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    payload = jwt.decode(token, options={"verify_signature": False})
    assert {"exp", "iat", "sub", "aud", "iss", "typ", "sv"} <= set(payload)
    assert payload["exp"] - payload["iat"] == 600
