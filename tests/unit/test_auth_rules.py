"""Pure auth rules: e-mail validation and the guard's callback-key parsing."""

from __future__ import annotations

import pytest

from auth.guard import callback_output_ids, login_url
from auth.redirects import safe_next
from auth.validation import email_problem, normalise_email


@pytest.mark.parametrize(
    "email",
    ["a@example.com", "first.last+tag@sub.example.co.uk", "X_Y-z@example.io"],
)
def test_valid_emails_pass(email):
    """Ordinary addresses are accepted."""
    assert email_problem(email) is None


@pytest.mark.parametrize(
    ("email", "fragment"),
    [
        ("", "Enter"),
        ("a@example.com\r\nBcc: x@evil.example", "line breaks"),
        ("a@example.com\n", "line breaks"),
        ("a@exаmple.com", "ASCII"),  # Cyrillic а
        ("аdmin@example.com", "ASCII"),
        ("a" * 250 + "@example.com", "at most 254"),
        ("a@b", "valid"),
        ("a..b@example.com", "valid"),
        (".a@example.com", "valid"),
        ("a@-example.com", "valid"),
        ("' OR 1=1 --@example.com", "valid"),
        ("a" * 65 + "@example.com", "valid"),
    ],
)
def test_invalid_emails_get_a_specific_reason(email, fragment):
    """Each kind of bad address gets its own message."""
    assert fragment in email_problem(email)


def test_normalise_trims_spaces_and_lowercases():
    """The stored form is trimmed and lower case."""
    assert normalise_email("  Alice@Example.COM ") == "alice@example.com"


def test_callback_output_ids_of_single_and_multi_output_keys():
    """Dash's callback keys are split into their component ids."""
    assert callback_output_ids("login-message.children") == {"login-message"}
    assert callback_output_ids("..a.children...b.value..") == {"a", "b"}
    pattern = '{"index":["MATCH"],"type":"row"}.children'
    assert "login-message" not in callback_output_ids(pattern)


def test_login_url_carries_next_only_when_useful():
    """/login?next=... is encoded; the home page needs no next."""
    assert login_url("/") == "/login"
    assert login_url("/datasets?a=1&b=2") == "/login?next=%2Fdatasets%3Fa%3D1%26b%3D2"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "http://evil.example/datasets",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/\n/evil.example",
        "evil.example",
        "",
        None,
        ["/datasets"],
        "/login",
        "/" + "a" * 3000,
    ],
)
def test_unsafe_next_targets_fall_back_to_home(target):
    """Open-redirect attempts and non-strings never become the redirect target."""
    assert safe_next(target) == "/"


@pytest.mark.parametrize(
    "target", ["/datasets", "/analysis?metric=revenue&g=day", "/account#tokens"]
)
def test_local_next_targets_are_followed(target):
    """Local paths with query strings survive unchanged."""
    assert safe_next(target) == target
