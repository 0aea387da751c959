"""The app's own security headers on every route (issue 15).

The routes come from the app itself (its url_map and Dash's page registry), so a
route added later by any module is checked without editing this file.
"""

from __future__ import annotations

import base64
import hashlib
import re

import dash
import pytest

from tests.api_calls import upload_sample
from tests.integration.test_guard_coverage import concrete

STRICT = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


INLINE_SCRIPT = r"<script(?![^>]*\bsrc=)(?![^>]*json)[^>]*>(.*?)</script>"


def csp(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    header = response.headers.get("Content-Security-Policy", "")
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_strict(response, where: str) -> None:
    """The full header set, framing refused."""
    for name, value in STRICT.items():
        assert response.headers.get(name) == value, (where, name, response.headers)
    policy = csp(response)
    assert policy["frame-ancestors"] == "'none'", where
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'self'", where
    # Scripts only from the app itself and Dash's own inline scripts, by hash.
    assert re.fullmatch(r"'self'( 'sha256-[A-Za-z0-9+/=]+')*", policy["script-src"])
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"], where
    assert "Strict-Transport-Security" not in response.headers, where  # plain HTTP


def every_route(app) -> list[tuple[str, str]]:
    """(method, path) for every rule in the url_map and every registered page."""
    routes = set()
    for rule in app.server.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.add((method, concrete(rule.rule)))
    for page in dash.page_registry.values():
        routes.add(("GET", concrete(page["path"])))
    return sorted(routes)


def test_every_route_and_page_sends_the_strict_set(app, client, new_user):
    """Anonymous, then signed in: success, redirects, 401s and 404s alike."""
    user = new_user(app.server.test_client())
    routes = every_route(app)
    assert len(routes) > 20
    checked = 0
    for headers in ({}, user["headers"]):
        for method, path in routes:
            response = client.open(path, method=method, json={}, headers=headers)
            assert_strict(response, f"{method} {path} -> {response.status_code}")
            checked += 1
    assert checked > 40


@pytest.mark.parametrize(
    "origins", ["", "http://127.0.0.2:8001", "https://a.example,https://b.example:8443"]
)
def test_only_share_pages_may_be_framed_and_only_by_the_allowed_origins(
    make_app, new_user, origins
):
    app = make_app(ingest_mode="inline", embed_allowed_origins=origins)
    api = app.server.test_client()
    owner = new_user(api)
    dataset = upload_sample(api, owner)
    created = api.post(
        "/api/shares",
        headers=owner["headers"],
        json={"datasetId": dataset, "page": "analysis"},
    )
    path = "/share/" + created.get_json()["url"].rsplit("/share/", 1)[1]
    allowed = " ".join(origin.strip() for origin in origins.split(",") if origin)
    for page in (path, path + "?embed=1", "/share/ibs_unknown"):
        response = api.get(page)
        assert csp(response)["frame-ancestors"] == (allowed or "'none'"), page
        # X-Frame-Options cannot name origins: sent only when nothing may frame.
        assert response.headers.get("X-Frame-Options") == (
            None if allowed else "DENY"
        ), page
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for other in ("/", "/login", f"/datasets/{dataset}", "/_dash-layout"):
        assert_strict(api.get(other), other)


def test_pages_work_under_the_policy_the_page_gets(app, client):
    """The HTML shell's inline scripts are exactly the ones the policy allows."""
    client.get("/")  # Dash registers its page-router script on the first request
    response = client.get("/login")
    # Scripts inside comments (Dash's Internet Explorer notice) never run.
    html = re.sub(r"<!--.*?-->", "", response.get_data(as_text=True), flags=re.S)
    inline = re.findall(INLINE_SCRIPT, html, re.S)
    assert inline, "Dash renders inline scripts"
    allowed = csp(response)["script-src"]
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in allowed, script[:80]


@pytest.mark.parametrize("forwarded", [False, True])
def test_hsts_only_on_https(make_app, forwarded):
    """HSTS goes with HTTPS requests (direct, or through a trusted proxy)."""
    app = make_app(trusted_proxy_count=1)
    client = app.server.test_client()
    if forwarded:
        response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    else:
        response = client.get("/healthz", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31556926; includeSubDomains"
    )
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_talisman_leaves_the_cookie_policy_to_the_app(app, client):
    """Cookies stay HttpOnly and Lax, and are not forced Secure on plain HTTP."""
    assert app.server.config["SESSION_COOKIE_SECURE"] is False
    assert app.server.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert client.get("/healthz").status_code == 200  # no redirect to https
