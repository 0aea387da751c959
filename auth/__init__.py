"""Authentication: users, passwords, sessions, tokens and the request guard."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask

from auth.audit_requests import install_token_call_audit
from auth.guard import guard_request, reject_malformed_callback, set_sign_in_layout
from auth.identity import load_bearer_user, load_session_user
from auth.limits import init_limits
from auth.login import HttpsAwareSessionInterface, login_manager, logout_routes


def init_app(server: Flask) -> None:
    """Bind Flask-Login, the rate limiter and the single before_request guard."""
    settings = server.config["INSIGHTBOARD_SETTINGS"]
    server.config.setdefault(
        "REMEMBER_COOKIE_DURATION", timedelta(days=settings.remember_me_days)
    )
    # The session cookie is Secure on HTTPS requests, not only when forced.
    server.session_interface = HttpsAwareSessionInterface()
    login_manager.init_app(server)
    login_manager.user_loader(load_session_user)
    login_manager.request_loader(load_bearer_user)
    server.before_request(guard_request)
    install_token_call_audit(server, server.extensions["insightboard"].postgres)
    init_limits(server, settings)
    server.register_blueprint(logout_routes)


def init_dash(app, sign_in_layout: Callable[[str], object]) -> None:
    """After Dash has bound its hooks: refuse malformed callback requests; the UI
    hands over the layout that asks anonymous visitors to sign in."""
    app.server.extensions["insightboard_dash"] = app
    set_sign_in_layout(app.server, sign_in_layout)
    app.server.before_request(reject_malformed_callback)
