"""Authentication: users, passwords, sessions, tokens and the request guard."""

from __future__ import annotations

from flask import Flask


def init_app(server: Flask) -> None:
    """Bind Flask-Login, the rate limiter and the single before_request guard."""


def account_nav() -> tuple[str | None, list]:
    """The signed-in user's label and the navbar's right-hand links."""
    return None, []
