"""Rate limits on sign-in and registration: per IP, per account, Redis, Redis down."""

from __future__ import annotations

import uuid

import redis

import auth.limits
from tests.dash_calls import response_values, sign_in_form
from tests.services import RedisServer


def email() -> str:
    return f"rl-{uuid.uuid4().hex[:10]}@example.com"


def login(client, address: str, ip: str = "10.0.0.1", password: str = "wrong-pass"):
    return client.post(
        "/api/auth/login",
        json={"email": address, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def register(client, address: str, ip: str = "10.0.0.1"):
    return client.post(
        "/api/auth/register",
        json={"email": address, "password": "long enough pw"},
        environ_base={"REMOTE_ADDR": ip},
    )


def assert_limited(response) -> None:
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.get_json()["error"]["retry_after"] == retry_after


def test_login_is_limited_per_ip_across_accounts(make_app):
    """The fourth attempt from one address within a minute gets 429."""
    client = make_app(login_rate_limit="3/minute").server.test_client()
    statuses = [login(client, email()).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert_limited(login(client, email()))
    # Another address is not affected.
    assert login(client, email(), ip="10.0.0.2").status_code == 401


def test_login_is_limited_per_account_across_addresses(make_app):
    """Spreading guesses over many addresses does not help against one account."""
    client = make_app(login_rate_limit="3/minute").server.test_client()
    target = email()
    for number in range(3):
        assert login(client, target, ip=f"10.1.0.{number}").status_code == 401
    assert_limited(login(client, target, ip="10.1.0.99"))


def test_even_the_right_password_is_refused_once_limited(make_app, new_user):
    """The limit applies before the password is checked."""
    app = make_app(login_rate_limit="2/minute")
    user = new_user(app.server.test_client())  # uses 127.0.0.1
    client = app.server.test_client()
    for _ in range(2):
        login(client, user["email"], ip="10.2.0.1")
    assert_limited(
        login(client, user["email"], ip="10.2.0.1", password=user["password"])
    )


def test_registration_is_limited_per_ip(make_app):
    """Mass account creation from one address is stopped."""
    client = make_app(register_rate_limit="2/minute").server.test_client()
    assert [register(client, email()).status_code for _ in range(2)] == [201, 201]
    limited = register(client, email())
    assert_limited(limited)


def test_registration_is_limited_per_account_across_addresses(make_app):
    """The same e-mail tried from many addresses is stopped too (in any case:
    the counter is kept on the normalised address)."""
    client = make_app(register_rate_limit="2/minute").server.test_client()
    target = email()
    assert register(client, target, ip="10.5.0.1").status_code == 201
    assert register(client, target.upper(), ip="10.5.0.2").status_code == 409
    assert_limited(register(client, target, ip="10.5.0.3"))
    # A different e-mail from a fresh address is unaffected.
    assert register(client, email(), ip="10.5.0.4").status_code == 201


def test_the_sign_in_form_shares_the_api_counters(make_app):
    """Attempts through the API and through the Dash form count together."""
    app = make_app(login_rate_limit="2/minute")
    client = app.server.test_client()
    target = email()
    for _ in range(2):
        login(client, target, ip="127.0.0.1")
    response = sign_in_form(client, app, target, "wrong-pass")
    message = response_values(response)["login-error"]["children"]
    assert message.startswith("Too many attempts. Try again in")


def test_limits_are_kept_in_redis_when_configured(make_app, redis_server):
    """With REDIS_URL the counters live in Redis (shared by every worker)."""
    client = make_app(
        login_rate_limit="2/minute", redis_url=redis_server.url
    ).server.test_client()
    target = email()
    login(client, target, ip="10.3.0.1")
    keys = redis.Redis.from_url(redis_server.url).keys("LIMITS*")
    assert any(target.encode() in key for key in keys)
    login(client, target, ip="10.3.0.1")
    assert_limited(login(client, target, ip="10.3.0.1"))


def test_sign_in_stays_limited_while_redis_is_down_and_recovers(make_app, monkeypatch):
    """An outage switches to in-process limits; Redis is used again when back."""
    # Retry Redis on every attempt instead of after the production pause.
    monkeypatch.setattr(auth.limits, "RETRY_STORAGE_AFTER_S", 0.0)
    server = RedisServer().start()
    try:
        app = make_app(login_rate_limit="2/minute", redis_url=server.url)
        client = app.server.test_client()
        server.stop()
        target = email()
        assert login(client, target, ip="10.4.0.1").status_code == 401
        assert login(client, target, ip="10.4.0.1").status_code == 401
        assert_limited(login(client, target, ip="10.4.0.1"))

        server = RedisServer(port=server.port).start()
        recovered = email()
        assert login(client, recovered, ip="10.4.0.2").status_code == 401
        keys = redis.Redis.from_url(server.url).keys("LIMITS*")
        assert any(recovered.encode() in key for key in keys)
    finally:
        server.stop()
