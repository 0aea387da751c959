"""Account services: registration, sign-in, sessions, tokens, password change.

Every function takes `services` and, where it acts for someone, that user's id;
the page callbacks and the REST handlers call the same functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import jwt

from auth import api_tokens, bearer_values, jwt_tokens, limits
from auth.api_tokens import ApiToken, ApiTokenRepository
from auth.audit import record_event
from auth.passwords import (
    burn_verification_time,
    hash_password,
    password_problem,
    verify_password,
)
from auth.session_cache import session_cache_of
from auth.sessions import SessionRepository, token_digest
from auth.users import ROLES, User, UserRepository
from data.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from data.services import Services

INVALID_CREDENTIALS = "Incorrect e-mail or password."
T = TypeVar("T")


def register_account(
    services: Services, email: str, password: str, ip: str | None
) -> User:
    """Create an account from validated input; Conflict when the e-mail is taken."""
    limits.enforce("register", ip, email)
    repository = UserRepository(services.postgres)
    try:
        user = repository.create(
            email, hash_password(password, services.settings.password_hash_rounds)
        )
    except Conflict:
        record_event(
            services.postgres,
            "register",
            "failure",
            email=email,
            ip=ip,
            details={"reason": "email_taken"},
        )
        raise
    record_event(
        services.postgres,
        "register",
        "success",
        user_id=user.id,
        email=email,
        ip=ip,
        details={"role": user.role},
    )
    return user


def authenticate(
    services: Services, email: str, password: str, ip: str | None, via: str
) -> User:
    """The account for these credentials; one Unauthorized for every failure.

    `via` ("api" or "browser") is recorded in the audit trail.
    """
    limits.enforce("login", ip, email)
    found = UserRepository(services.postgres).credentials(email)
    if found is None:
        # The same cost as a wrong password.
        burn_verification_time(password, services.settings.password_hash_rounds)
        user, accepted = None, False
    else:
        user, password_hash = found
        accepted = verify_password(password, password_hash) and user.is_active
    if not accepted or user is None:
        record_event(
            services.postgres,
            "login",
            "failure",
            user_id=user.id if user else None,
            email=email,
            ip=ip,
            details={"via": via},
        )
        raise Unauthorized(INVALID_CREDENTIALS)
    record_sign_in(services, user, ip, via)
    return user


def record_sign_in(services: Services, user: User, ip: str | None, via: str) -> None:
    """Stamp last_login and audit a successful sign-in."""
    UserRepository(services.postgres).record_login(user.id)
    with contextlib.suppress(ServiceUnavailable):  # only last_login is stale
        session_cache_of(services).forget(user_id=user.id)
    record_event(
        services.postgres,
        "login",
        "success",
        user_id=user.id,
        email=user.email,
        ip=ip,
        details={"via": via},
    )


def list_users(services: Services, requester: User) -> list[User]:
    """Every account (admins only): account facts, never anyone's data."""
    if requester.role != "admin":
        raise Forbidden("Only administrators can list users.")
    return UserRepository(services.postgres).list_users()


def set_user_active(
    services: Services, requester: User, user_id: str, active: bool, ip: str | None
) -> User:
    """Activate or deactivate an account (admins only); a deactivated account is
    refused on its very next request, whatever credential it brings."""
    if requester.role != "admin":
        raise Forbidden("Only administrators can change accounts.")
    user = revoking(
        services,
        lambda: UserRepository(services.postgres).set_active(user_id, active),
        user_id=user_id,
    )
    return _audited_account_change(services, requester, user, ip, active=active)


def set_user_role(
    services: Services, requester: User, user_id: str, role: str, ip: str | None
) -> User:
    """Give an account another role (admins only), effective on its next request."""
    if requester.role != "admin":
        raise Forbidden("Only administrators can change accounts.")
    if role not in ROLES:
        problem = f"role must be one of {', '.join(ROLES)}."
        raise ValidationFailed(problem, details={"field": "role"})
    user = revoking(
        services,
        lambda: UserRepository(services.postgres).set_role(user_id, role),
        user_id=user_id,
    )
    return _audited_account_change(services, requester, user, ip, role=role)


def _audited_account_change(services, requester, user, ip, **change) -> User:
    if user is None:
        raise NotFound("No such account.")
    record_event(
        services.postgres,
        "account_change",
        "success",
        user_id=requester.id,
        email=requester.email,
        ip=ip,
        details={"target": user.id, **change},
    )
    return user


def access_token_response(services: Services, user: User) -> dict:
    """The OAuth2-style body carrying a fresh JWT for the user."""
    settings = services.settings
    token = jwt_tokens.issue_access_token(
        settings.secret_key,
        settings.jwt_audience,
        settings.jwt_ttl_s,
        user.id,
        user.session_version,
    )
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": settings.jwt_ttl_s,
    }


def user_for_bearer(services: Services, value: str) -> User | None:
    """The active user behind a bearer value (JWT or personal token), or None."""
    if api_tokens.looks_like_api_token(value):
        return ApiTokenRepository(services.postgres).user_for(value)
    settings = services.settings
    try:
        claims = jwt_tokens.decode_access_token(
            value, settings.secret_key, settings.jwt_audience
        )
    except jwt.InvalidTokenError:
        return None
    user = cached_user(services, claims.user_id)
    # A password change bumps the version and so retires every older JWT.
    if user is None or not user.is_active:
        return None
    if user.session_version != claims.session_version:
        return None
    return user.with_auth("jwt")


def user_for_session(
    services: Services, token: str, user_id: str | None = None
) -> User | None:
    """The active user of a live browser session token, or None (from the session
    cache when it holds the session, else PostgreSQL, which then fills it).
    `user_id`, the account the signed session cookie names, lets the cache read
    the session and its account in one round trip (it decides nothing)."""
    cache = session_cache_of(services)
    digest = token_digest(token).hex()
    user = cache.session_user(digest, user_id)
    if user is None:
        found = SessionRepository(services.postgres).user_for(token)
        if found is None:
            return None
        user, expires_at = found
        cache.remember_session(digest, user, expires_at)
    return user.with_auth("session", token)


def cached_user(services: Services, user_id: str) -> User | None:
    """The account with this id, from the session cache or PostgreSQL."""
    cache = session_cache_of(services)
    user = cache.user(user_id)
    if user is None:
        user = UserRepository(services.postgres).by_id(user_id)
        if user is not None:
            cache.remember_user(user)
    return user


def revoking(
    services: Services,
    change: Callable[[], T],
    *,
    digests: tuple[str, ...] = (),
    user_id: str | None = None,
) -> T:
    """Run a change that ends or narrows access with its cache entries deleted
    before (ServiceUnavailable, nothing changed, when that fails) and after it
    (a request racing the change may have cached the old state)."""
    cache = session_cache_of(services)
    cache.forget(digests=digests, user_id=user_id)
    result = change()
    with contextlib.suppress(ServiceUnavailable):
        cache.forget(digests=digests, user_id=user_id)
    return result


def open_session(
    services: Services,
    user: User,
    *,
    remember: bool,
    ip: str | None,
    user_agent: str | None,
) -> User:
    """Record a new browser session; the returned user carries its token."""
    settings = services.settings
    lifetime = (
        timedelta(days=settings.remember_me_days)
        if remember
        else timedelta(seconds=settings.session_ttl_s)
    )
    token = SessionRepository(services.postgres).open(
        user.id, lifetime, remember=remember, ip=ip, user_agent=user_agent
    )
    return user.with_auth("session", token)


def close_session(services: Services, user: User, ip: str | None) -> None:
    """End the user's current browser session server-side."""
    if user.session_token:
        token = user.session_token
        revoking(
            services,
            lambda: SessionRepository(services.postgres).revoke(token),
            digests=(token_digest(token).hex(),),
        )
    record_event(
        services.postgres, "logout", "success", user_id=user.id, email=user.email, ip=ip
    )


def change_password(
    services: Services, user: User, current: str, new: str, ip: str | None
) -> None:
    """Replace the password; every session and JWT of the user stops working."""
    users = UserRepository(services.postgres)
    stored = users.password_hash(user.id)
    if stored is None or not verify_password(current, stored):
        record_event(
            services.postgres,
            "password_change",
            "failure",
            user_id=user.id,
            email=user.email,
            ip=ip,
            details={"reason": "wrong_current_password"},
        )
        raise ValidationFailed(
            "Your current password is not correct.",
            details={
                "fields": {"current_password": "Your current password is not correct."}
            },
        )
    if problem := password_problem(new):
        raise ValidationFailed(problem, details={"fields": {"new_password": problem}})
    new_hash = hash_password(new, services.settings.password_hash_rounds)

    def change() -> None:
        users.change_password(user.id, new_hash)
        SessionRepository(services.postgres).revoke_all(user.id)

    # The new session version retires every cached session entry of the account.
    revoking(services, change, user_id=user.id)
    record_event(
        services.postgres,
        "password_change",
        "success",
        user_id=user.id,
        email=user.email,
        ip=ip,
    )


def create_api_token(
    services: Services, owner_id: str, name: str, ip: str | None
) -> tuple[ApiToken, str]:
    """A new personal token for the owner; the secret is returned only here."""
    if problem := bearer_values.name_problem(name):
        raise ValidationFailed(problem, details={"fields": {"name": problem}})
    name = name.strip()
    repository = ApiTokenRepository(services.postgres)
    if repository.count(owner_id) >= api_tokens.MAX_TOKENS_PER_USER:
        raise Conflict(
            f"You already have {api_tokens.MAX_TOKENS_PER_USER} tokens; revoke one "
            "first."
        )
    token, secret = repository.create(owner_id, name)
    record_event(
        services.postgres,
        "token_create",
        "success",
        user_id=owner_id,
        ip=ip,
        details={"token_id": token.id, "name": name},
    )
    return token, secret


def list_api_tokens(services: Services, owner_id: str) -> list[ApiToken]:
    """The owner's live personal tokens."""
    return ApiTokenRepository(services.postgres).list(owner_id)


def revoke_api_token(
    services: Services, owner_id: str, token_id: str, ip: str | None
) -> ApiToken:
    """Revoke one of the owner's tokens (NotFound for anyone else's)."""
    token = ApiTokenRepository(services.postgres).revoke(owner_id, token_id)
    record_event(
        services.postgres,
        "token_revoke",
        "success",
        user_id=owner_id,
        ip=ip,
        details={"token_id": token.id, "name": token.name},
    )
    return token
