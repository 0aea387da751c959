"""Account rules against a real PostgreSQL: no account enumeration, personal-token
secrets never stored or listed, and deactivated accounts locked out everywhere."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

import bcrypt
import pytest

from auth.service import INVALID_CREDENTIALS, set_user_active
from auth.users import UserRepository
from tests.dash_calls import response_values, sign_in_form

PASSWORD = "a long enough password"
TOKEN_FORMAT = re.compile(r"ibt_[A-Za-z0-9_-]{43,}")


def rows(app, query: str, *params) -> list[tuple]:
    with app.server.extensions["insightboard"].postgres.transaction() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def bcrypt_calls(monkeypatch):
    """Counts of bcrypt.checkpw and bcrypt.hashpw calls (the real functions run)."""
    calls = {"checkpw": 0, "hashpw": 0}
    for name in calls:
        real = getattr(bcrypt, name)

        def spy(*args, _real=real, _name=name):
            calls[_name] += 1
            return _real(*args)

        monkeypatch.setattr(bcrypt, name, spy)
    return calls


@pytest.mark.parametrize("case", ["unknown-email", "wrong-password"])
def test_unknown_email_and_wrong_password_cost_one_bcrypt_check_each(
    client, new_user, bcrypt_calls, case
):
    """Both failures do exactly the work of one password check and answer alike,
    so neither the body nor the time tells whether the account exists."""
    user = new_user(client, password=PASSWORD)
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    if case == "wrong-password":
        email = user["email"]
    bcrypt_calls.update(checkpw=0, hashpw=0)
    response = client.post(
        "/api/auth/login", json={"email": email, "password": "not the password"}
    )
    assert response.status_code == 401
    assert response.get_json() == {
        "error": {"code": "unauthorized", "message": INVALID_CREDENTIALS}
    }
    assert bcrypt_calls == {"checkpw": 1, "hashpw": 0}


def test_a_successful_sign_in_also_costs_one_bcrypt_check(
    client, new_user, bcrypt_calls
):
    """Control: the spy sees the real check, so the counts above mean something."""
    user = new_user(client, password=PASSWORD)
    bcrypt_calls.update(checkpw=0, hashpw=0)
    response = client.post(
        "/api/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    assert response.status_code == 200
    assert bcrypt_calls == {"checkpw": 1, "hashpw": 0}


def test_personal_token_secret_is_shown_once_and_stored_only_hashed(
    app, client, new_user
):
    """The secret has 256 random bits; the database and the list keep a hash and
    an 8-character prefix, never the secret."""
    user = new_user(client)
    created = client.post(
        "/api/auth/tokens", json={"name": "ci"}, headers=user["headers"]
    )
    assert created.status_code == 201
    secret = created.get_json()["token"]
    assert TOKEN_FORMAT.fullmatch(secret)
    random_part = base64.urlsafe_b64decode(secret[4:] + "=" * (-len(secret[4:]) % 4))
    assert len(random_part) * 8 >= 256

    stored = rows(app, "SELECT * FROM api_tokens WHERE user_id = %s::uuid", user["id"])
    assert len(stored) == 1
    for value in stored[0]:
        text = bytes(value) if isinstance(value, memoryview) else str(value).encode()
        assert secret.encode() not in text
        assert secret[8:].encode() not in text
    (token_hash, prefix), *_ = rows(
        app,
        "SELECT token_hash, token_prefix FROM api_tokens WHERE user_id = %s::uuid",
        user["id"],
    )
    assert bytes(token_hash) == hashlib.sha256(secret.encode()).digest()
    assert prefix == secret[:8]

    listed = client.get("/api/auth/tokens", headers=user["headers"])
    assert listed.status_code == 200
    assert secret[8:] not in listed.get_data(as_text=True)
    (item,) = listed.get_json()["tokens"]
    assert item["prefix"] == secret[:8] and "token" not in item
    audit = rows(
        app,
        "SELECT details::text FROM audit_events WHERE user_id = %s::uuid",
        user["id"],
    )
    assert all(secret[8:] not in details for (details,) in audit)
    # The secret itself works as a bearer credential.
    assert client.get("/api/auth/me", headers=bearer(secret)).status_code == 200


def test_two_personal_tokens_never_repeat(client, new_user):
    user = new_user(client)
    secrets = {
        client.post(
            "/api/auth/tokens", json={"name": f"t{n}"}, headers=user["headers"]
        ).get_json()["token"]
        for n in range(5)
    }
    assert len(secrets) == 5


@pytest.fixture
def credentials_of_an_account(app, new_user):
    """A user with every kind of credential: JWT, personal token, browser session."""
    api = app.server.test_client()
    user = new_user(api, password=PASSWORD)
    token = api.post(
        "/api/auth/tokens", json={"name": "ci"}, headers=user["headers"]
    ).get_json()["token"]
    browser = app.server.test_client()
    form = response_values(sign_in_form(browser, app, user["email"], PASSWORD))
    assert form["login-redirect"]["href"] == "/"
    return user, token, browser


def test_deactivated_account_is_refused_with_every_credential(
    app, client, credentials_of_an_account, new_user
):
    """Setting is_active = false ends API sign-in, the existing browser session,
    existing JWTs and personal tokens at once."""
    user, token, browser = credentials_of_an_account
    # Control: everything works while the account is active.
    assert browser.get("/api/auth/me").status_code == 200
    assert browser.get("/account").status_code == 200
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200

    # Through the service an administrator uses: it also retires cached sessions.
    admin_id = new_user(app.server.test_client())["id"]
    rows(
        app,
        "UPDATE users SET role = 'admin' WHERE id = %s::uuid RETURNING id",
        admin_id,
    )
    services = app.server.extensions["insightboard"]
    admin = UserRepository(services.postgres).by_id(admin_id)
    set_user_active(services, admin, user["id"], False, None)

    login = client.post(
        "/api/auth/login", json={"email": user["email"], "password": PASSWORD}
    )
    wrong = client.post(
        "/api/auth/login", json={"email": user["email"], "password": "wrong password"}
    )
    assert login.status_code == wrong.status_code == 401
    assert login.get_json() == wrong.get_json()
    assert browser.get("/api/auth/me").status_code == 401
    page = browser.get("/account")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?next=%2Faccount"
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    assert client.get("/api/datasets", headers=bearer(token)).status_code == 401
    form = response_values(
        sign_in_form(app.server.test_client(), app, user["email"], PASSWORD)
    )
    assert form["login-error"] == {"children": INVALID_CREDENTIALS, "is_open": True}
