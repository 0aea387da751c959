"""Who is asking: the browser session (Flask-Login) or a bearer token."""

from __future__ import annotations

import flask_login
from flask import Request, request, session

from auth import service
from auth.agent_tokens import looks_like_agent_token
from auth.users import User
from data.errors import Unauthorized
from data.services import get_services


def current_user() -> User:
    """The signed-in user of this request; raises Unauthorized when there is none."""
    user = current_user_or_none()
    if user is None:
        raise Unauthorized("Sign in, or send a bearer token, to use this.")
    return user


def current_user_or_none() -> User | None:
    """The signed-in user of this request, or None for an anonymous request."""
    user = flask_login.current_user
    if user is None or not user.is_authenticated:
        return None
    return user._get_current_object()


def bearer_value(req: Request) -> str | None:
    """The credential of an `Authorization: Bearer <value>` header, or None."""
    header = req.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# The signed session cookie also names its account, so that the session cache
# reads the session and the account together (auth/session_cache.py).
SESSION_USER_ID = "uid"


def load_session_user(session_token: str) -> User | None:
    """Flask-Login's user_loader: the session cookie's token → user."""
    # A request that presents a credential is judged on it alone, never the cookie.
    if "Authorization" in request.headers or not isinstance(session_token, str):
        return None
    named = session.get(SESSION_USER_ID)
    user = service.user_for_session(
        get_services(), session_token, named if isinstance(named, str) else None
    )
    if user is not None and named != user.id:
        session[SESSION_USER_ID] = user.id  # e.g. a session restored from remember-me
    return user


def load_bearer_user(req: Request) -> User | None:
    """Flask-Login's request_loader: `Authorization: Bearer` → user."""
    value = bearer_value(req)
    # An agent token is never a user: the guard holds it to its scope.
    if value is None or len(value) > 4096 or looks_like_agent_token(value):
        return None
    return service.user_for_bearer(get_services(), value)
