"""The auth REST API against a real PostgreSQL: register, log in, me, JWT attacks."""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from auth.jwt_tokens import signing_key
from data import postgres
from tests.conftest import POSTGRES_SERVER

SECRET = "test-secret-key-that-is-long-enough-0123456789"


def unique_email() -> str:
    return f"u-{uuid.uuid4().hex[:12]}@example.com"


def test_register_returns_201_with_the_normalised_account(client):
    """A new account is created and described without its password hash."""
    email = unique_email()
    response = client.post(
        "/api/auth/register",
        json={"email": f"  {email.upper()}  ", "password": "correct horse"},
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["email"] == email
    assert uuid.UUID(body["id"])
    assert set(body) == {"id", "email", "role", "is_active", "created_at", "last_login"}


def test_registering_an_existing_email_in_any_case_answers_409(client):
    """E-mails are unique case-insensitively."""
    email = unique_email()
    assert (
        client.post(
            "/api/auth/register", json={"email": email, "password": "password-1"}
        ).status_code
        == 201
    )
    again = client.post(
        "/api/auth/register", json={"email": email.upper(), "password": "password-2"}
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"email": "not-an-email", "password": "long enough"}, "email", "valid"),
        ({"email": unique_email(), "password": "short"}, "password", "at least 8"),
        ({"email": unique_email(), "password": "x" * 129}, "password", "at most 128"),
        ({"password": "long enough"}, "email", "required"),
        ({"email": unique_email()}, "password", "required"),
    ],
)
def test_register_names_the_bad_field(client, body, field, fragment):
    """Field errors say which field is wrong and why."""
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert fragment in error["fields"][field]


def test_first_account_of_a_fresh_database_is_admin_and_later_ones_are_not(make_app):
    """The first registered user becomes admin."""
    url = f"{POSTGRES_SERVER}/ib_test_first_{uuid.uuid4().hex[:8]}"
    try:
        client = make_app(database_url=url).server.test_client()
        roles = [
            client.post(
                "/api/auth/register",
                json={"email": unique_email(), "password": "password-123"},
            ).get_json()["role"]
            for _ in range(3)
        ]
        assert roles == ["admin", "analyst", "analyst"]
    finally:
        # FORCE drops the pool's open connections; the fixture then closes the pool.
        postgres.drop_database(url)


def test_login_returns_a_bearer_jwt_that_me_accepts(client, new_user):
    """A successful login answers 200 with a token that identifies the user."""
    user = new_user(client)
    response = client.post(
        "/api/auth/login", json={"email": user["email"], "password": user["password"]}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.get_json()["id"] == user["id"]
    assert me.get_json()["last_login"] is not None


def test_wrong_password_and_unknown_email_get_the_same_401(client, new_user):
    """Accounts cannot be enumerated through the login answer."""
    user = new_user(client)
    wrong = client.post(
        "/api/auth/login", json={"email": user["email"], "password": "wrong-password"}
    )
    unknown = client.post(
        "/api/auth/login", json={"email": unique_email(), "password": "wrong-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["error"]["message"] == "Incorrect e-mail or password."


def test_me_without_credentials_answers_401_json(client):
    """Anonymous API requests get 401 JSON with a WWW-Authenticate challenge."""
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def _claims(user_id: str, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "aud": "insightboard-api",
        "iss": "insightboard",
        "iat": now,
        "exp": now + 600,
        "typ": "access",
        "sv": 1,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _b64(data: dict) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _me_status(client, token: str) -> int:
    return client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {token}"}
    ).status_code


def test_a_correctly_signed_token_is_accepted(client, new_user):
    """Control case for the attacks below: our own signing works."""
    user = new_user(client)
    token = jwt.encode(_claims(user["id"]), signing_key(SECRET), algorithm="HS256")
    assert _me_status(client, token) == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 10},
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"typ": "refresh"},
        {"sv": 2},
        {"exp": None},
        {"aud": None},
        {"typ": None},
        {"sub": str(uuid.uuid4())},
    ],
    ids=[
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "wrong-type",
        "stale-session-version",
        "no-exp",
        "no-aud",
        "no-type",
        "unknown-user",
    ],
)
def test_tokens_with_bad_claims_get_401(client, new_user, changes):
    """Every defective claim is refused."""
    user = new_user(client)
    token = jwt.encode(
        _claims(user["id"], **changes), signing_key(SECRET), algorithm="HS256"
    )
    assert _me_status(client, token) == 401


def test_alg_none_token_gets_401(client, new_user):
    """An unsigned token (alg: none) is refused."""
    user = new_user(client)
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user['id']))}."
    assert _me_status(client, token) == 401


def test_token_signed_with_another_key_or_tampered_gets_401(client, new_user):
    """A forged signature or an edited payload is refused."""
    user = new_user(client)
    forged = jwt.encode(_claims(user["id"]), b"k" * 32, algorithm="HS256")
    assert _me_status(client, forged) == 401
    genuine = user["headers"]["Authorization"].split(" ", 1)[1]
    header, _, signature = genuine.split(".")
    other = new_user(client)
    tampered = f"{header}.{_b64(_claims(other['id']))}.{signature}"
    assert _me_status(client, tampered) == 401


def sign_with_our_key(claims: dict, algorithm: str) -> str:
    """A token signed with the server's own JWT key under another HMAC algorithm.

    PyJWT warns that a 32-byte key is short for HS384/HS512; that is the point
    here (an attacker does not get to choose the key, only the header)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, signing_key(SECRET), algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ["HS512", "HS384"])
def test_token_signed_with_another_hmac_algorithm_is_refused_even_with_our_key(
    client, new_user, algorithm
):
    """Only HS256 is accepted: the algorithm is pinned, so a valid signature
    under the right key and another algorithm still gets 401."""
    user = new_user(client)
    token = sign_with_our_key(_claims(user["id"]), algorithm)
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    assert _me_status(client, token) == 401
    assert _me_status(client, sign_with_our_key(_claims(user["id"]), "HS256")) == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt", "Token abc"],
)
def test_malformed_authorization_headers_get_401(client, header):
    """Garbage credentials are refused, never a 500."""
    response = client.get("/api/auth/me", headers={"Authorization": header})
    assert response.status_code == 401


def test_protected_api_routes_answer_401_and_public_ones_do_not(client):
    """The guard protects the API except the explicit public list."""
    assert client.get("/api/datasets").status_code == 401
    assert client.post("/api/analytics/run", json={}).status_code == 401
    assert client.get("/api/no-such-endpoint").status_code == 401
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_anonymous_page_request_redirects_to_login_with_next(client):
    """A protected page sends a visitor to /login?next=<where they were going>."""
    response = client.get("/datasets?view=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fdatasets%3Fview%3D1"
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 200
