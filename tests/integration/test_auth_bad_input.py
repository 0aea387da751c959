"""Hostile and malformed input to the auth API: a clear 4xx and no change."""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from data.services import Services


def user_count(app) -> int:
    services: Services = app.server.extensions["insightboard"]
    with services.postgres.transaction() as cursor:
        cursor.execute("SELECT count(*) FROM users")
        return cursor.fetchone()[0]


def email() -> str:
    return f"bad-{uuid.uuid4().hex[:10]}@example.com"


NON_STRINGS = [{"$ne": ""}, {"$gt": ""}, ["a@example.com"], 12345678, True, 1.5]


@pytest.mark.parametrize("value", NON_STRINGS, ids=repr)
@pytest.mark.parametrize("field", ["email", "password"])
@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login"])
def test_non_string_fields_get_400_and_change_nothing(app, client, path, field, value):
    """Operator objects, arrays, numbers and booleans are not credentials."""
    body = {"email": email(), "password": "long enough pw", field: value}
    before = user_count(app)
    response = client.post(path, json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["fields"][field] == "Must be a string."
    assert user_count(app) == before


def test_operator_object_cannot_sign_in_as_an_existing_user(client, new_user):
    """{"password": {"$ne": ""}} against a real account is a 400, never a token."""
    user = new_user(client)
    response = client.post(
        "/api/auth/login", json={"email": user["email"], "password": {"$ne": ""}}
    )
    assert response.status_code == 400
    assert "access_token" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "content_type", "status", "fragment"),
    [
        ("", "application/json", 400, "empty"),
        ("{not json", "application/json", 400, "not valid JSON"),
        ("[]", "application/json", 400, "JSON object"),
        ('"a string"', "application/json", 400, "JSON object"),
        ("null", "application/json", 400, "not valid JSON"),
        (
            "email=a%40b.com&password=x",
            "application/x-www-form-urlencoded",
            415,
            "JSON",
        ),
        ('{"email": "a@b.com"}', "text/plain", 415, "JSON"),
        ('{"email": "a@b.com"}', None, 415, "JSON"),
    ],
)
@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login"])
def test_malformed_bodies_get_a_clear_error(
    app, client, path, data, content_type, status, fragment
):
    """Empty, broken, non-object and non-JSON bodies are explained."""
    before = user_count(app)
    response = client.post(path, data=data, content_type=content_type)
    assert response.status_code == status
    assert fragment in response.get_json()["error"]["message"]
    assert user_count(app) == before


def test_missing_fields_are_all_named(client):
    """An empty object names both required fields."""
    response = client.post("/api/auth/register", json={})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"email", "password"}


def test_a_one_megabyte_email_gets_413_without_touching_the_database(app, client):
    """Oversized bodies are refused before they are parsed."""
    before = user_count(app)
    body = {"email": "a" * (1024 * 1024) + "@example.com", "password": "long enough"}
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert user_count(app) == before


def test_a_300_character_email_gets_400(client):
    """Long but small-body e-mails are refused by the length rule."""
    response = client.post(
        "/api/auth/register",
        json={"email": "a" * 300 + "@example.com", "password": "long enough"},
    )
    assert response.status_code == 400
    assert "at most 254" in response.get_json()["error"]["fields"]["email"]


@pytest.mark.parametrize(
    "address",
    [
        "victim@example.com\r\nBcc: all@example.com",
        "victim@example.com\n",
        "victim\x00@example.com",
        "vіctim@example.com",  # Cyrillic і
        "victim@exаmple.com",  # Cyrillic а
        "ｖictim@example.com",  # full-width v
    ],
    ids=["crlf", "trailing-newline", "nul", "cyrillic-i", "cyrillic-a", "fullwidth"],
)
def test_control_characters_and_homoglyphs_are_refused(app, client, address):
    """Header injection and look-alike addresses never become accounts."""
    before = user_count(app)
    response = client.post(
        "/api/auth/register", json={"email": address, "password": "long enough"}
    )
    assert response.status_code == 400
    assert "email" in response.get_json()["error"]["fields"]
    assert user_count(app) == before


SQL = "'; DROP TABLE users; --"


def test_sql_metacharacters_are_data_not_code(app, client):
    """Quotes and semicolons in every field are stored and compared literally."""
    address = f"o'brien+{uuid.uuid4().hex[:6]}@example.com"
    password = SQL + " and more"
    created = client.post(
        "/api/auth/register", json={"email": address, "password": password}
    )
    assert created.status_code == 201
    assert created.get_json()["email"] == address
    token = client.post(
        "/api/auth/login", json={"email": address, "password": password}
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    named = client.post("/api/auth/tokens", json={"name": SQL}, headers=headers)
    assert named.status_code == 201 and named.get_json()["name"] == SQL
    listed = client.get("/api/auth/tokens", headers=headers).get_json()["tokens"]
    assert [item["name"] for item in listed] == [SQL]
    assert client.delete(f"/api/auth/tokens/{SQL}", headers=headers).status_code == 404
    wrong = client.post(
        "/api/auth/login", json={"email": address, "password": "' OR '1'='1"}
    )
    assert wrong.status_code == 401
    assert user_count(app) >= 1


@pytest.mark.parametrize(
    "address",
    ["' OR 1=1 --@example.com", "a@example.com'; --", "admin'--@example.com;"],
)
def test_sql_shaped_emails_are_refused_as_invalid(app, client, address):
    """Characters outside the address grammar get a 400, not a query."""
    for path in ("/api/auth/register", "/api/auth/login"):
        response = client.post(path, json={"email": address, "password": SQL})
        assert response.status_code == 400


def test_duplicate_registration_racing_itself_creates_exactly_one_account(app, client):
    """Ten simultaneous registrations of one address: one 201, nine 409."""
    address = email()
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def attempt() -> None:
        own_client = app.server.test_client()
        barrier.wait()
        response = own_client.post(
            "/api/auth/register",
            json={"email": address, "password": "long enough pw"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201] + [409] * 9
    services = app.server.extensions["insightboard"]
    with services.postgres.transaction() as cursor:
        cursor.execute("SELECT count(*) FROM users WHERE email = %s", (address,))
        assert cursor.fetchone()[0] == 1


def test_token_name_must_be_a_short_printable_string(client, new_user):
    """Token names get the same treatment as any other field."""
    user = new_user(client)
    for name in ({"$ne": ""}, "", "x" * 65, "bad\nname"):
        response = client.post(
            "/api/auth/tokens", json={"name": name}, headers=user["headers"]
        )
        assert response.status_code == 400, name
    tokens = client.get("/api/auth/tokens", headers=user["headers"]).get_json()
    assert tokens["tokens"] == []


def test_long_passwords_are_refused_with_a_message_not_a_500(client):
    """A 10,000-character password is a 400 that names the limit."""
    response = client.post(
        "/api/auth/register",
        data=json.dumps({"email": email(), "password": "p" * 10_000}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "at most 128" in response.get_json()["error"]["fields"]["password"]


def test_a_73_to_128_byte_password_registers_and_signs_in(client):
    """Passwords past bcrypt's 72-byte limit work in full (pre-hash)."""
    address, password = email(), "ü" * 100  # 200 bytes
    assert (
        client.post(
            "/api/auth/register", json={"email": address, "password": password}
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/auth/login", json={"email": address, "password": password}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/auth/login", json={"email": address, "password": "ü" * 99 + "u"}
        ).status_code
        == 401
    )
