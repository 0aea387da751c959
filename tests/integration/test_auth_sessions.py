"""Browser sessions over HTTP: sign-in through the Dash form, cookies, sign-out,
password change, the callback guard and the next-redirect rules."""

from __future__ import annotations

import uuid

import pytest

from tests.dash_calls import (
    change_password,
    post_callback,
    response_values,
    router_body,
    sign_in_form,
)

PASSWORD = "a long enough password"


@pytest.fixture
def account(app, client, new_user):
    """A registered user, signed in through the form on `client`."""
    user = new_user(app.server.test_client(), password=PASSWORD)
    response = sign_in_form(client, app, user["email"], PASSWORD)
    assert response.status_code == 200
    assert response_values(response)["login-redirect"]["href"] == "/"
    return user


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def replay(app, cookie_name: str, value: str) -> int:
    """/api/auth/me from a fresh client carrying only a copied cookie."""
    other = app.server.test_client()
    other.set_cookie(cookie_name, value)
    return other.get("/api/auth/me").status_code


def test_signing_in_through_the_form_sets_an_httponly_lax_session(app, new_user):
    """The form callback signs in: the cookie is HttpOnly, SameSite=Lax."""
    user = new_user(app.server.test_client(), password=PASSWORD)
    client = app.server.test_client()
    response = sign_in_form(client, app, user["email"], PASSWORD)
    cookie = next(
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("session=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # SESSION_COOKIE_SECURE is off for plain HTTP
    me = client.get("/api/auth/me")
    assert me.status_code == 200 and me.get_json()["id"] == user["id"]
    assert client.get("/account").status_code == 200


def test_secure_flag_is_set_when_configured(make_app, new_user):
    """SESSION_COOKIE_SECURE=true (HTTPS deployments) marks the cookie Secure."""
    app = make_app(session_cookie_secure=True)
    user = new_user(app.server.test_client(), password=PASSWORD)
    response = sign_in_form(app.server.test_client(), app, user["email"], PASSWORD)
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("session=") and "Secure" in c for c in cookies)


def set_cookies(response) -> dict[str, str]:
    """{cookie name: its Set-Cookie header} of a response."""
    return {
        header.split("=", 1)[0]: header
        for header in response.headers.getlist("Set-Cookie")
    }


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [("https://localhost", True), ("http://localhost", False)],
    ids=["https", "http"],
)
def test_cookies_are_secure_when_the_request_is_https(app, new_user, base_url, secure):
    """Without SESSION_COOKIE_SECURE, HTTPS alone makes both cookies Secure."""
    user = new_user(app.server.test_client(), password=PASSWORD)
    client = app.server.test_client()
    response = sign_in_form(
        client, app, user["email"], PASSWORD, remember=True, base_url=base_url
    )
    cookies = set_cookies(response)
    assert response_values(response)["login-redirect"]["href"] == "/"
    assert ("; Secure" in cookies["session"]) is secure
    assert ("; Secure" in cookies["remember_token"]) is secure
    assert "HttpOnly" in cookies["session"] and "HttpOnly" in cookies["remember_token"]


@pytest.mark.parametrize(
    ("proxies", "secure"), [(1, True), (0, False)], ids=["trusted", "untrusted"]
)
def test_forwarded_https_counts_only_behind_a_trusted_proxy(
    make_app, new_user, proxies, secure
):
    """nginx terminates TLS and says so in X-Forwarded-Proto; only a configured
    proxy chain is believed (a client could send the header itself)."""
    app = make_app(trusted_proxy_count=proxies)
    user = new_user(app.server.test_client(), password=PASSWORD)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    response = sign_in_form(
        app.server.test_client(), app, user["email"], PASSWORD, headers=forwarded
    )
    assert ("; Secure" in set_cookies(response)["session"]) is secure


def test_wrong_password_in_the_form_shows_the_generic_message(app, client, new_user):
    """The form gets the same message as the API for any failure."""
    user = new_user(app.server.test_client(), password=PASSWORD)
    response = sign_in_form(client, app, user["email"], "wrong-password")
    values = response_values(response)
    assert values["login-error"] == {
        "children": "Incorrect e-mail or password.",
        "is_open": True,
    }
    assert client.get("/api/auth/me").status_code == 401


def test_each_sign_in_starts_a_new_session(app, client, account):
    """Signing in again issues a different session cookie."""
    first = session_cookie(client)
    sign_in_form(client, app, account["email"], PASSWORD)
    assert session_cookie(client) != first


def test_logout_makes_a_copied_session_cookie_useless(app, client, account):
    """Replaying the cookie captured before sign-out fails."""
    copied = session_cookie(client)
    assert replay(app, "session", copied) == 200
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?signed_out=1"
    assert client.get("/api/auth/me").status_code == 401
    assert replay(app, "session", copied) == 401


def test_remember_me_cookie_is_set_and_cleared_and_dies_with_the_session(app, new_user):
    """The remember-me cookie restores a session until sign-out, never after."""
    user = new_user(app.server.test_client(), password=PASSWORD)
    client = app.server.test_client()
    sign_in_form(client, app, user["email"], PASSWORD, remember=True)
    remembered = client.get_cookie("remember_token").value
    assert replay(app, "remember_token", remembered) == 200
    response = client.post("/logout")
    cleared = [
        c for c in response.headers.getlist("Set-Cookie") if "remember_token=" in c
    ]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]
    assert replay(app, "remember_token", remembered) == 401


def test_password_change_signs_out_other_sessions_and_old_jwts(app, client, account):
    """Other browsers, a copied cookie and older JWTs stop working; this one stays."""
    other_browser = app.server.test_client()
    sign_in_form(other_browser, app, account["email"], PASSWORD)
    copied = session_cookie(client)
    response = change_password(client, app, PASSWORD, "brand new password")
    message = response_values(response)["account-password-message"]["children"]
    assert "Password changed" in str(message)
    assert client.get("/api/auth/me").status_code == 200
    assert other_browser.get("/api/auth/me").status_code == 401
    assert replay(app, "session", copied) == 401
    assert client.get("/api/auth/me", headers=account["headers"]).status_code == 401
    old = client.post(
        "/api/auth/login", json={"email": account["email"], "password": PASSWORD}
    )
    assert old.status_code == 401
    new = client.post(
        "/api/auth/login",
        json={"email": account["email"], "password": "brand new password"},
    )
    assert new.status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "confirm", "fragment"),
    [
        ("wrong password!", "brand new password", None, "current password"),
        (PASSWORD, "short", None, "at least 8"),
        (PASSWORD, "brand new password", "different password", "do not match"),
        ("", "brand new password", None, "current password"),
    ],
)
def test_rejected_password_change_changes_nothing(
    app, client, account, current, new, confirm, fragment
):
    """Each mistake gets its own message and the old password still works."""
    response = change_password(client, app, current, new, confirm)
    message = response_values(response)["account-password-message"]["children"]
    assert fragment in str(message)
    assert client.get("/api/auth/me").status_code == 200
    login = client.post(
        "/api/auth/login", json={"email": account["email"], "password": PASSWORD}
    )
    assert login.status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_redirects_off_site(app, new_user, target):
    """Open-redirect attempts in `next` land on the home page instead."""
    user = new_user(app.server.test_client(), password=PASSWORD)
    response = sign_in_form(
        app.server.test_client(), app, user["email"], PASSWORD, nxt=target
    )
    assert response_values(response)["login-redirect"]["href"] == "/"


def test_sign_in_follows_a_local_next(app, new_user):
    """A local `next` (path and query) is where the user lands."""
    user = new_user(app.server.test_client(), password=PASSWORD)
    response = sign_in_form(
        app.server.test_client(),
        app,
        user["email"],
        PASSWORD,
        nxt="/account?tab=tokens",
    )
    assert response_values(response)["login-redirect"]["href"] == "/account?tab=tokens"


def test_login_page_drops_an_off_site_next_before_it_reaches_the_form(client):
    """The router renders /login?next=//evil.example with an empty next store."""
    client.get("/")  # Dash registers its page router on the first request
    body = router_body("/login", "?next=%2F%2Fevil.example")
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    assert "evil.example" not in response.get_data(as_text=True)


def test_anonymous_callbacks_are_refused_unless_they_serve_a_public_form(app, client):
    """Protected callbacks answer 401; sign-in form callbacks run."""
    refused = post_callback(
        client,
        app,
        "account-token-secret.children",
        {"account-token-create.n_clicks": 1, "account-token-name.value": "x"},
        triggered="account-token-create.n_clicks",
    )
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"
    allowed = post_callback(
        client,
        app,
        "login-email.invalid",
        {"login-email.value": "someone@example.com", "login-email.n_blur": 1},
        triggered="login-email.value",
    )
    assert allowed.status_code == 200


def test_a_forged_outputs_list_cannot_unlock_a_protected_callback(app, client):
    """The guard checks the key Dash dispatches on, not the outputs list."""
    body = {
        "output": "..account-token-secret.children...account-token-list.children"
        "...account-token-name.value...account-token-message.children..",
        "outputs": [{"id": "login-error", "property": "children"}],
        "inputs": [
            {"id": "account-token-create", "property": "n_clicks", "value": 1},
            {"id": "account-token-name", "property": "n_submit", "value": None},
        ],
        "state": [{"id": "account-token-name", "property": "value", "value": "x"}],
        "changedPropIds": ["account-token-create.n_clicks"],
    }
    assert client.post("/_dash-update-component", json=body).status_code == 401


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/plain", '{"output": "login-error.children"}'),
        ("application/x-www-form-urlencoded", "output=login-error.children"),
        ("multipart/form-data; boundary=x", "--x--"),
    ],
)
def test_callbacks_with_a_non_json_content_type_are_refused(
    app, client, account, content_type, data
):
    """Even a signed-in browser's non-JSON callback request gets 415."""
    response = client.post(
        "/_dash-update-component", data=data, content_type=content_type
    )
    assert response.status_code == 415


def test_router_shows_a_sign_in_card_instead_of_a_protected_page(client):
    """Client-side navigation to /account while anonymous renders no account data."""
    client.get("/")
    response = client.post("/_dash-update-component", json=router_body("/account"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "sign-in-required" in text
    assert "next=%2Faccount" in text
    assert "account-page" not in text


def test_router_renders_public_pages_for_anonymous_visitors(client):
    """The sign-in page itself is rendered by the router for anyone."""
    client.get("/")
    response = client.post("/_dash-update-component", json=router_body("/login"))
    assert response.status_code == 200
    assert "login-email" in response.get_data(as_text=True)


def test_cross_site_writes_with_a_session_cookie_are_refused(app, client, account):
    """An Origin from another site cannot use the cookie (CSRF defence in depth)."""
    response = client.post(
        "/api/auth/tokens",
        json={"name": "csrf"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert client.get("/api/auth/tokens").get_json()["tokens"] == []
    same_site = client.post(
        "/api/auth/tokens", json={"name": "ok"}, headers={"Origin": "http://localhost"}
    )
    assert same_site.status_code == 201


def test_navbar_shows_the_signed_in_user_and_a_sign_out_form(client, account):
    """The layout's navbar names the user and posts to /logout."""
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert account["email"] in layout
    assert '"action":"/logout"' in layout.replace("\\u002f", "/")
    anonymous = client.application.test_client().get("/_dash-layout")
    assert account["email"] not in anonymous.get_data(as_text=True)


def test_unknown_session_cookie_is_anonymous(app):
    """A cookie that was never issued by us is simply not a session."""
    assert replay(app, "session", f"forged-{uuid.uuid4().hex}") == 401
