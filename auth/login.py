"""Browser sessions through Flask-Login: sign in, sign out, the /logout route."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, login_user, logout_user
from flask_login.config import COOKIE_NAME

from auth import service
from auth.identity import SESSION_USER_ID, current_user_or_none
from auth.users import User
from data.services import get_services


def cookie_secure(forced: bool) -> bool:
    """Cookies are Secure on HTTPS requests; the setting forces it everywhere.

    `request.is_secure` reads the scheme, which behind a trusted proxy (ProxyFix,
    TRUSTED_PROXY_COUNT) comes from X-Forwarded-Proto.
    """
    return bool(forced) or request.is_secure


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, Secure whenever the request is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure(app.config["SESSION_COOKIE_SECURE"])


def _mark_secure(response: Response, name: str) -> None:
    """Add the Secure attribute to the Set-Cookie header of cookie `name`."""
    cookies = response.headers.getlist("Set-Cookie")
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        if cookie.startswith(f"{name}=") and "; Secure" not in cookie:
            cookie += "; Secure"
        response.headers.add("Set-Cookie", cookie)


class HttpsAwareLoginManager(LoginManager):
    """Flask-Login, with the remember-me cookie Secure on HTTPS requests too."""

    def _set_cookie(self, response: Response) -> None:
        super()._set_cookie(response)
        config = current_app.config
        if cookie_secure(config.get("REMEMBER_COOKIE_SECURE", False)):
            _mark_secure(response, config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME))


login_manager = HttpsAwareLoginManager()
# The guard decides what is protected; Flask-Login only loads the user.
login_manager.session_protection = "basic"
logout_routes = Blueprint("auth_pages", __name__)


def client_ip() -> str | None:
    """The address the request came from (ProxyFix, when deployed, sets it)."""
    return request.remote_addr


def sign_in_browser(user: User, remember: bool = False) -> User:
    """Start a fresh server-side session for the user and set the cookie."""
    # A new session on every sign-in: nothing from before survives into it.
    session.clear()
    signed_in = service.open_session(
        get_services(),
        user,
        remember=remember,
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent"),
    )
    login_user(signed_in, remember=remember)
    session[SESSION_USER_ID] = signed_in.id
    return signed_in


def sign_out_browser() -> None:
    """End the current session server-side and clear both cookies."""
    user = current_user_or_none()
    if user is not None and user.auth_method == "session":
        service.close_session(get_services(), user, client_ip())
    session.clear()
    # After clear(): logout_user() leaves the flag that deletes the remember-me cookie.
    logout_user()


@logout_routes.post("/logout")
def logout():
    """Sign out, then go to the sign-in page."""
    sign_out_browser()
    return redirect("/login?signed_out=1", code=303)
