"""Session → user without a PostgreSQL round trip per request, and revocation that
stays immediate: sign-out, password change, deactivation and role change each end
(or change) access on the very next request, with Redis and in process."""

from __future__ import annotations

import contextlib

import pytest
import redis as redis_client

from auth import service
from auth.session_cache import session_cache_of
from auth.sessions import token_digest
from auth.users import UserRepository
from data.errors import Forbidden, ServiceUnavailable
from tests.dash_calls import change_password, response_values, sign_in_form
from tests.services import RedisServer

PASSWORD = "a long enough password"


@pytest.fixture(params=["redis", "in-process"])
def cached_app(request, make_app, redis_server):
    """An app whose session cache is the private Redis, or in process."""
    if request.param == "redis":
        return make_app(redis_url=redis_server.url)
    return make_app()


@contextlib.contextmanager
def counted_transactions(app):
    """Count PostgreSQL transactions opened inside the with-block."""
    database = app.server.extensions["insightboard"].postgres
    real, calls = database.transaction, []

    def counting():
        calls.append(1)
        return real()

    database.transaction = counting
    try:
        yield calls
    finally:
        database.transaction = real


def signed_in_browser(app, new_user, email=None):
    """(user, browser client signed in through the form)."""
    user = new_user(app.server.test_client(), email=email, password=PASSWORD)
    browser = app.server.test_client()
    response = sign_in_form(browser, app, user["email"], PASSWORD)
    assert response_values(response)["login-redirect"]["href"] == "/"
    return user, browser


def copy_of(app, browser):
    """A second client carrying a copy of the browser's session cookie."""
    other = app.server.test_client()
    other.set_cookie("session", browser.get_cookie("session").value)
    return other


def services_of(app):
    return app.server.extensions["insightboard"]


def test_a_signed_in_request_asks_postgresql_nothing(cached_app, new_user):
    _, browser = signed_in_browser(cached_app, new_user)
    assert browser.get("/api/auth/me").status_code == 200  # warms the cache
    with counted_transactions(cached_app) as calls:
        for _ in range(5):
            assert browser.get("/api/auth/me").status_code == 200
    assert calls == []


def test_a_jwt_request_asks_postgresql_nothing_once_cached(cached_app, new_user):
    user = new_user(cached_app.server.test_client())
    client = cached_app.server.test_client()
    assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200
    with counted_transactions(cached_app) as calls:
        assert client.get("/api/auth/me", headers=user["headers"]).status_code == 200
    assert calls == []


@contextlib.contextmanager
def session_cache_reads(monkeypatch):
    """The keys of each session-cache read (one list per Redis round trip)."""
    reads: list[list[str]] = []
    real = redis_client.Redis.execute_command

    def recording(self, *args, **options):
        if args[0] == "MGET" and all(":auth:" in key for key in args[1:]):
            reads.append([key.split(":auth:")[1].split(":")[0] for key in args[1:]])
        return real(self, *args, **options)

    monkeypatch.setattr(redis_client.Redis, "execute_command", recording)
    yield reads


def test_a_signed_in_request_reads_session_and_account_in_one_round_trip(
    make_app, redis_server, new_user, monkeypatch
):
    app = make_app(redis_url=redis_server.url)
    _, browser = signed_in_browser(app, new_user)
    assert browser.get("/api/auth/me").status_code == 200  # warms the cache
    with session_cache_reads(monkeypatch) as reads:
        assert browser.get("/api/auth/me").status_code == 200
    assert reads == [["session", "user"]]


def test_a_session_naming_another_account_still_gets_its_own(cached_app, new_user):
    """The account id in the signed session only says what to read with the
    session entry: the entry's own account is the one signed in."""
    user, browser = signed_in_browser(cached_app, new_user)
    other = new_user(cached_app.server.test_client())
    assert browser.get("/api/auth/me").get_json()["email"] == user["email"]
    with browser.session_transaction() as session:
        session["uid"] = other["id"]
    for _ in range(2):  # a cache miss, then a hit
        assert browser.get("/api/auth/me").get_json()["email"] == user["email"]


def test_without_a_cache_every_request_asks_postgresql(cached_app, new_user):
    """Control for the two tests above: the counter does see session look-ups."""
    _, browser = signed_in_browser(cached_app, new_user)
    services_of(cached_app).extensions["session_cache"].store = None
    with counted_transactions(cached_app) as calls:
        assert browser.get("/api/auth/me").status_code == 200
    assert len(calls) == 1


def test_sign_out_ends_a_cached_session_at_once(cached_app, new_user):
    _, browser = signed_in_browser(cached_app, new_user)
    copied = copy_of(cached_app, browser)
    assert copied.get("/api/auth/me").status_code == 200  # cached now
    assert browser.post("/logout").status_code == 303
    assert copied.get("/api/auth/me").status_code == 401


def test_password_change_ends_every_cached_session_and_jwt(cached_app, new_user):
    user, browser = signed_in_browser(cached_app, new_user)
    other_user, other = user, cached_app.server.test_client()
    assert sign_in_form(other, cached_app, other_user["email"], PASSWORD)
    for client in (browser, other):
        assert client.get("/api/auth/me").status_code == 200
    jwt = cached_app.server.test_client()
    assert jwt.get("/api/auth/me", headers=user["headers"]).status_code == 200
    change_password(browser, cached_app, PASSWORD, "another long password")
    assert other.get("/api/auth/me").status_code == 401
    assert jwt.get("/api/auth/me", headers=user["headers"]).status_code == 401


def test_deactivation_ends_cached_sessions_and_jwts_at_once(cached_app, new_user):
    user, browser = signed_in_browser(cached_app, new_user)
    api = cached_app.server.test_client()
    assert browser.get("/api/auth/me").status_code == 200
    assert api.get("/api/auth/me", headers=user["headers"]).status_code == 200
    admin = an_admin(cached_app, new_user)
    service.set_user_active(services_of(cached_app), admin, user["id"], False, None)
    assert browser.get("/api/auth/me").status_code == 401
    assert api.get("/api/auth/me", headers=user["headers"]).status_code == 401
    service.set_user_active(services_of(cached_app), admin, user["id"], True, None)
    assert api.get("/api/auth/me", headers=user["headers"]).status_code == 200


def test_role_change_is_seen_by_the_next_cached_request(cached_app, new_user):
    user, browser = signed_in_browser(cached_app, new_user)
    assert browser.get("/api/auth/me").get_json()["role"] == "analyst"
    admin = an_admin(cached_app, new_user)
    service.set_user_role(services_of(cached_app), admin, user["id"], "viewer", None)
    assert browser.get("/api/auth/me").get_json()["role"] == "viewer"


def test_only_admins_change_roles_or_deactivate(cached_app, new_user):
    user, _ = signed_in_browser(cached_app, new_user)
    analyst = stored_user(cached_app, user["id"])
    services = services_of(cached_app)
    with pytest.raises(Forbidden, match="administrators"):
        service.set_user_role(services, analyst, user["id"], "admin", None)
    with pytest.raises(Forbidden, match="administrators"):
        service.set_user_active(services, analyst, user["id"], False, None)
    assert stored_user(cached_app, user["id"]).role == "analyst"


def stored_user(app, user_id: str):
    """The account as PostgreSQL holds it."""
    return UserRepository(services_of(app).postgres).by_id(user_id)


def an_admin(app, new_user):
    """A new account promoted to admin directly in the database."""
    account = new_user(app.server.test_client())
    with services_of(app).postgres.transaction() as cursor:
        cursor.execute(
            "UPDATE users SET role = 'admin' WHERE id = %s::uuid", (account["id"],)
        )
    return stored_user(app, account["id"])


def test_revocation_is_refused_when_redis_cannot_confirm_it(make_app, new_user):
    """With Redis down, a sign-out cannot delete the cached entry: it is refused
    (503) and changes nothing, rather than leaving a revoked session cached."""
    redis = RedisServer().start()
    try:
        app = make_app(redis_url=redis.url)
        _, browser = signed_in_browser(app, new_user)
        assert browser.get("/api/auth/me").status_code == 200
        redis.stop()
        services = services_of(app)
        token = next(iter_session_tokens(app, browser))
        with pytest.raises(ServiceUnavailable):
            session_cache_of(services).forget(digests=(token_digest(token).hex(),))
        # Reads during the outage miss the cache and ask PostgreSQL: still signed in.
        assert browser.get("/api/auth/me").status_code == 200
    finally:
        redis.stop()


def iter_session_tokens(app, browser):
    """The session token behind the browser's cookie (from Flask's signed session)."""
    with app.server.test_request_context():
        interface = app.server.session_interface
        serializer = interface.get_signing_serializer(app.server)
        yield serializer.loads(browser.get_cookie("session").value)["_user_id"]
