"""Password policy and hashing (bcrypt with the documented pre-hash)."""

from __future__ import annotations

import bcrypt
import pytest

from auth.passwords import (
    MAX_LENGTH,
    hash_password,
    password_problem,
    verify_password,
)

FAST = 4  # bcrypt's minimum cost keeps these tests quick; production uses 12


def test_hash_uses_cost_12_by_default_and_verifies():
    """The default cost is 12 and the right password verifies."""
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$2b$12$")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("correct horse batterY", hashed)


def test_passwords_longer_than_72_bytes_differ_in_their_tail():
    """bcrypt alone ignores bytes after 72; the pre-hash makes them count."""
    base = "é" * 60  # 120 bytes of UTF-8
    hashed = hash_password(base + "a", rounds=FAST)
    assert verify_password(base + "a", hashed)
    assert not verify_password(base + "b", hashed)


def test_a_128_character_multibyte_password_hashes_without_error():
    """The longest allowed password (512 bytes in UTF-8) never makes bcrypt raise."""
    password = "😀" * MAX_LENGTH
    assert password_problem(password) is None
    assert verify_password(password, hash_password(password, rounds=FAST))


def test_nul_bytes_do_not_truncate_the_password():
    """bcrypt stops at NUL; the pre-hash does not."""
    hashed = hash_password("abcdefgh\x00one", rounds=FAST)
    assert not verify_password("abcdefgh\x00two", hashed)


def test_plain_bcrypt_of_the_raw_password_does_not_verify():
    """The stored hash follows the pre-hash scheme, not raw bcrypt."""
    raw = bcrypt.hashpw(b"password-123", bcrypt.gensalt(FAST)).decode()
    assert not verify_password("password-123", raw)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", "at least 8"),
        ("1234567", "at least 8"),
        ("x" * 129, "at most 128"),
    ],
)
def test_policy_rejects_with_a_specific_message(password, problem):
    """Too short and too long passwords are named as such."""
    assert problem in password_problem(password)


@pytest.mark.parametrize("password", ["12345678", "x" * 128])
def test_policy_accepts_the_boundaries(password):
    """8 and 128 characters are both allowed."""
    assert password_problem(password) is None


def test_malformed_stored_hash_never_matches():
    """A corrupted hash is a failed check, not an exception."""
    assert not verify_password("whatever-123", "not-a-bcrypt-hash")
