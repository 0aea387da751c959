"""Every route and every Dash callback the app has is covered by the guard.

These tests enumerate what the app registers, so routes and callbacks added later
by any module are checked without editing this file.
"""

from __future__ import annotations

import re

import pytest

from auth.guard import (
    allow_anonymous_callback_outputs,
    callback_output_ids,
    is_public_path,
    public_callback_outputs,
    public_pages,
)
from tests.dash_calls import callback_body, post_callback, response_values, router_body

PUBLIC_API = {"/api/auth/register", "/api/auth/login", "/api/openapi.json"}


def concrete(rule: str) -> str:
    """A URL rule with every converter replaced by a harmless value."""
    return re.sub(r"<[^>]+>", "x", rule)


def api_rules(app) -> list[tuple[str, str]]:
    rules = []
    for rule in app.server.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rules.append((concrete(rule.rule), method))
    return rules


def test_every_api_route_except_the_public_ones_answers_401(app, client):
    """Anonymous requests to any API route and method get 401 JSON."""
    checked = 0
    for path, method in api_rules(app):
        response = client.open(path, method=method, json={})
        if path in PUBLIC_API:
            assert response.status_code != 401, (method, path)
            continue
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.get_json()["error"]["code"] == "unauthorized"
        checked += 1
    assert checked >= 4  # me, tokens (3), users, plus other modules' routes


def test_every_non_public_page_route_redirects_to_login(app, client):
    """Registered pages other than the public ones need an account."""
    import dash

    for page in dash.page_registry.values():
        path = concrete(page["path"])
        response = client.get(path)
        if path.startswith("/share/"):
            # A share page needs a live link instead (tests/integration/test_shares).
            assert response.status_code == 404, path
        elif is_public_path(path):
            assert response.status_code == 200, path
        else:
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/login?next=")


def server_callbacks(app) -> list[str]:
    return [key for key, spec in app.callback_map.items() if spec.get("callback")]


def first_output(key: str) -> str:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return parts[0].split("@")[0]


def test_every_dash_callback_refuses_anonymous_callers_unless_public(app, client):
    """Only sign-in/registration form callbacks run without an account."""
    client.get("/")  # registers the page router
    anonymous_runnable = []
    for key in server_callbacks(app):
        if key.startswith(".._pages_content"):
            continue  # the router: covered by the sign-in card tests
        body = callback_body(app, first_output(key), {}, triggered="x.n_clicks")
        response = client.post("/_dash-update-component", json=body)
        if callback_output_ids(key) <= public_callback_outputs(app.server):
            assert response.status_code != 401, key
            anonymous_runnable.append(key)
        else:
            assert response.status_code == 401, key
    prefixes = {callback_output_ids(key) for key in anonymous_runnable}
    assert all(
        all(i.startswith(("login-", "register-", "navbar-")) for i in ids)
        for ids in prefixes
    )
    assert anonymous_runnable  # the sign-in form itself


@pytest.mark.parametrize(
    "key",
    [
        "login-error.children@0123",
        '{"type":"login-error"}.children',
        "..login-error.children...datasets-feedback.children..",
        "",
        "..",
    ],
)
def test_odd_callback_keys_do_not_open_the_guard(client, key):
    """Keys mixing public and private ids, or malformed ones, are refused."""
    body = {"output": key, "outputs": [], "inputs": [], "state": []}
    response = client.post("/_dash-update-component", json=body)
    if key == "login-error.children@0123":
        # Public id, so the guard lets it on; no such callback exists: 400.
        assert response.status_code == 400
        assert response.get_json()["error"]["message"] == "Unknown callback."
    else:
        assert response.status_code == 401


SIGN_IN_KEY = "..login-redirect.href...login-error.children...login-error.is_open.."


@pytest.mark.parametrize(
    "body",
    [
        {"output": SIGN_IN_KEY},
        {"output": SIGN_IN_KEY, "inputs": [], "outputs": [], "state": []},
        {"output": SIGN_IN_KEY, "inputs": "x", "outputs": [], "state": []},
        {"output": SIGN_IN_KEY, "inputs": [1, 2, 3], "outputs": [], "state": []},
        {"output": 42, "inputs": []},
        [SIGN_IN_KEY],
        "just a string",
        "forged-outputs",
    ],
    ids=[
        "no-parts",
        "empty-parts",
        "string",
        "numbers",
        "numeric-key",
        "array",
        "str",
        "forged-outputs",
    ],
)
def test_malformed_callback_requests_get_400_not_500(app, client, body):
    """Hand-made callback bodies are refused with a message."""
    if body == "forged-outputs":
        body = forged_outputs(callback_body(app, "login-redirect.href", {}, "x"))
    client.get("/")
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def forged_outputs(body: dict) -> dict:
    """A well-formed body whose `outputs` name components the callback lacks."""
    count = len(body["outputs"]) if isinstance(body["outputs"], list) else 1
    return {**body, "outputs": [{"id": "x", "property": "y"}] * count}


def test_malformed_callback_requests_from_a_signed_in_user_get_400(
    app, client, new_user
):
    """The shape check applies to every caller, not only anonymous ones."""
    user = new_user(app.server.test_client())
    post_callback(
        client,
        app,
        "login-redirect.href",
        {
            "login-submit.n_clicks": 1,
            "login-email.value": user["email"],
            "login-password.value": user["password"],
        },
        triggered="login-submit.n_clicks",
    )
    assert client.get("/api/auth/me").status_code == 200
    key = next(k for k in app.callback_map if k.startswith("..account-token-secret"))
    response = client.post(
        "/_dash-update-component", json={"output": key, "inputs": [{}], "state": []}
    )
    assert response.status_code == 400
    forged = forged_outputs(
        callback_body(app, "account-token-secret.children", {}, "x")
    )
    response = client.post("/_dash-update-component", json=forged)
    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "bad_request",
        "message": "Malformed callback outputs.",
    }


@pytest.mark.parametrize(
    "values",
    [
        {"login-email.value": {"$ne": ""}, "login-password.value": "x" * 10},
        {"login-email.value": "a@example.com", "login-password.value": {"$ne": ""}},
        {"login-email.value": ["a@example.com"], "login-password.value": ["x"]},
    ],
)
def test_non_string_form_values_get_a_form_message(app, client, values):
    """Operator objects sent through the sign-in callback are a form error."""
    response = post_callback(
        client,
        app,
        "login-redirect.href",
        {"login-submit.n_clicks": 1, "login-next.data": ["//evil.example"], **values},
        triggered="login-submit.n_clicks",
    )
    assert response.status_code == 200
    error = response_values(response)["login-error"]
    assert error["is_open"] is True
    assert client.get("/api/auth/me").status_code == 401


def test_public_pages_are_the_ones_registered_public(app, client):
    """The guard reads `public=True` from the page registry: no second list."""
    client.get("/")
    assert public_pages() == {"/", "/login", "/register", "/logout"}
    for path in ("/datasets", "/account"):
        page = client.post("/_dash-update-component", json=router_body(path))
        assert "Sign in" in page.get_data(as_text=True), path


def test_each_app_has_its_own_callback_allow_list(make_app):
    """Allowing an output on one app leaves another app in the process alone."""
    first, second = make_app(), make_app()
    allow_anonymous_callback_outputs(first, "only-first")
    assert "only-first" in public_callback_outputs(first.server)
    assert "only-first" not in public_callback_outputs(second.server)
    assert "login-email" in public_callback_outputs(second.server)
