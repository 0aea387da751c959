"""Layouts of the sign-in, registration and account forms, and their component ids.

Page modules call these builders; callbacks in callbacks/{login,register,account}.py
use the same id constants.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from auth.passwords import MAX_LENGTH, MIN_LENGTH


class LoginIds:
    """Component ids of the sign-in page."""

    EMAIL = "login-email"
    EMAIL_FEEDBACK = "login-email-feedback"
    PASSWORD = "login-password"
    REMEMBER = "login-remember"
    SUBMIT = "login-submit"
    ERROR = "login-error"
    NEXT = "login-next"
    REDIRECT = "login-redirect"


class RegisterIds:
    """Component ids of the registration page."""

    EMAIL = "register-email"
    EMAIL_FEEDBACK = "register-email-feedback"
    PASSWORD = "register-password"
    PASSWORD_FEEDBACK = "register-password-feedback"
    CONFIRM = "register-confirm"
    CONFIRM_FEEDBACK = "register-confirm-feedback"
    SUBMIT = "register-submit"
    ERROR = "register-error"
    NEXT = "register-next"
    REDIRECT = "register-redirect"


class AccountIds:
    """Component ids of the account page."""

    CURRENT = "account-current-password"
    CURRENT_FEEDBACK = "account-current-password-feedback"
    NEW = "account-new-password"
    NEW_FEEDBACK = "account-new-password-feedback"
    CONFIRM = "account-confirm-password"
    CONFIRM_FEEDBACK = "account-confirm-password-feedback"
    CHANGE = "account-change-password"
    PASSWORD_MESSAGE = "account-password-message"
    TOKEN_NAME = "account-token-name"
    TOKEN_NAME_FEEDBACK = "account-token-name-feedback"
    TOKEN_CREATE = "account-token-create"
    TOKEN_SECRET = "account-token-secret"
    TOKEN_LIST = "account-token-list"
    TOKEN_MESSAGE = "account-token-message"
    TOKEN_REVOKE = "account-token-revoke"  # pattern-matching type, index = token id


def with_next(path: str, next_target: str) -> str:
    """`path` carrying the `next` parameter along, when there is one."""
    return f"{path}?{urlencode({'next': next_target})}" if next_target else path


def auth_card(title: str, subtitle: str, body: list, footer: list) -> html.Div:
    """A centred card with the logo, a title and the form: one look for auth pages."""
    header = html.Div(
        [
            html.Img(src=dash.get_asset_url("logo.svg"), height="36", alt=""),
            html.H1(title, className="h4 mt-2 mb-1"),
            html.P(subtitle, className="text-muted mb-0"),
        ],
        className="text-center mb-3",
    )
    return html.Div(
        dbc.Card(
            [
                dbc.CardBody([header, *body], className="px-4 px-md-5 py-4"),
                dbc.CardFooter(footer, className="text-center bg-white py-3"),
            ],
            className="shadow-sm border-0 auth-card mx-auto",
        ),
        className="py-2",
    )


def field(
    label: str,
    input_id: str,
    feedback_id: str | None = None,
    help_text: str | None = None,
    **input_props,
) -> html.Div:
    """A labelled input with an invalid-feedback slot and optional help text."""
    children = [
        dbc.Label(label, html_for=input_id, className="fw-medium"),
        dbc.Input(id=input_id, **input_props),
    ]
    if feedback_id:
        children.append(dbc.FormFeedback(id=feedback_id, type="invalid"))
    if help_text:
        children.append(dbc.FormText(help_text))
    return html.Div(children, className="mb-3")


def error_alert(alert_id: str) -> dbc.Alert:
    """A hidden alert that callbacks open with a message."""
    return dbc.Alert(id=alert_id, color="danger", is_open=False, className="py-2")


def login_form(next_target: str, notice: str | None) -> html.Div:
    """The sign-in card."""
    register_href = with_next("/register", next_target)
    body = [
        dbc.Alert(notice, color="success", className="py-2") if notice else None,
        error_alert(LoginIds.ERROR),
        field(
            "E-mail",
            LoginIds.EMAIL,
            LoginIds.EMAIL_FEEDBACK,
            type="email",
            autocomplete="username",
            placeholder="name@example.com",
            autofocus=True,
        ),
        field(
            "Password",
            LoginIds.PASSWORD,
            type="password",
            autocomplete="current-password",
        ),
        dbc.Checkbox(
            id=LoginIds.REMEMBER,
            label="Keep me signed in on this device",
            value=False,
            className="mb-3",
        ),
        dbc.Button("Sign in", id=LoginIds.SUBMIT, color="primary", className="w-100"),
        dcc.Store(id=LoginIds.NEXT, data=next_target),
        dcc.Location(id=LoginIds.REDIRECT, refresh=True),
    ]
    footer = [
        html.Span("New to Insightboard? ", className="text-muted"),
        dcc.Link("Create an account", href=register_href, id="login-to-register"),
    ]
    return auth_card("Sign in", "Welcome back.", body, footer)


def register_form(next_target: str) -> html.Div:
    """The registration card."""
    login_href = with_next("/login", next_target)
    body = [
        error_alert(RegisterIds.ERROR),
        field(
            "E-mail",
            RegisterIds.EMAIL,
            RegisterIds.EMAIL_FEEDBACK,
            type="email",
            autocomplete="username",
            placeholder="name@example.com",
            autofocus=True,
        ),
        field(
            "Password",
            RegisterIds.PASSWORD,
            RegisterIds.PASSWORD_FEEDBACK,
            f"{MIN_LENGTH}–{MAX_LENGTH} characters; a short sentence works well.",
            type="password",
            autocomplete="new-password",
        ),
        field(
            "Confirm password",
            RegisterIds.CONFIRM,
            RegisterIds.CONFIRM_FEEDBACK,
            type="password",
            autocomplete="new-password",
        ),
        dbc.Button(
            "Create account", id=RegisterIds.SUBMIT, color="primary", className="w-100"
        ),
        dcc.Store(id=RegisterIds.NEXT, data=next_target),
        dcc.Location(id=RegisterIds.REDIRECT, refresh=True),
    ]
    footer = [
        html.Span("Already have an account? ", className="text-muted"),
        dcc.Link("Sign in", href=login_href, id="register-to-login"),
    ]
    return auth_card(
        "Create your account", "Start turning datasets into answers.", body, footer
    )


def profile_card(user) -> dbc.Card:
    """Who is signed in: e-mail, role and dates."""
    joined = user.created_at.strftime("%d %b %Y")
    last = user.last_login.strftime("%d %b %Y, %H:%M UTC") if user.last_login else "—"
    rows = [("E-mail", user.email), ("Member since", joined), ("Last sign-in", last)]
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H2("Profile", className="h5 mb-0"),
                        dbc.Badge(
                            user.role,
                            color="primary",
                            className="ms-2",
                            id="account-role",
                        ),
                    ],
                    className="d-flex align-items-center mb-3",
                ),
                html.Dl(
                    [
                        item
                        for label, value in rows
                        for item in (
                            html.Dt(label, className="col-sm-4 text-muted fw-normal"),
                            html.Dd(value, className="col-sm-8 mb-2"),
                        )
                    ],
                    className="row mb-0",
                    id="account-profile",
                ),
            ]
        ),
        className="shadow-sm border-0 mb-4",
    )


def password_card() -> dbc.Card:
    """The change-password form."""
    ids = AccountIds
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Change password", className="h5 mb-1"),
                html.P(
                    "Changing it signs you out of every other browser and retires "
                    "sign-in JWTs. Personal tokens keep working until revoked.",
                    className="text-muted small mb-3",
                ),
                html.Div(id=ids.PASSWORD_MESSAGE),
                field(
                    "Current password",
                    ids.CURRENT,
                    ids.CURRENT_FEEDBACK,
                    type="password",
                    autocomplete="current-password",
                ),
                field(
                    "New password",
                    ids.NEW,
                    ids.NEW_FEEDBACK,
                    f"{MIN_LENGTH} to {MAX_LENGTH} characters.",
                    type="password",
                    autocomplete="new-password",
                ),
                field(
                    "Confirm new password",
                    ids.CONFIRM,
                    ids.CONFIRM_FEEDBACK,
                    type="password",
                    autocomplete="new-password",
                ),
                dbc.Button("Change password", id=ids.CHANGE, color="primary"),
            ]
        ),
        className="shadow-sm border-0 mb-4",
    )


def token_table(tokens: list) -> html.Div | html.P:
    """The user's live personal API tokens, each with a revoke button."""
    if not tokens:
        return html.P(
            "No tokens yet.", className="text-muted mb-0", id="account-no-tokens"
        )
    header = html.Thead(
        html.Tr(
            [html.Th(text) for text in ("Name", "Token", "Created", "Last used", "")]
        )
    )
    rows = [
        html.Tr(
            [
                html.Td(token.name, className="fw-medium"),
                html.Td(html.Code(f"{token.prefix}…")),
                html.Td(token.created_at.strftime("%d %b %Y")),
                html.Td(
                    token.last_used_at.strftime("%d %b %Y, %H:%M")
                    if token.last_used_at
                    else "Never"
                ),
                html.Td(
                    dbc.Button(
                        "Revoke",
                        id={"type": AccountIds.TOKEN_REVOKE, "index": token.id},
                        color="outline-danger",
                        size="sm",
                    ),
                    className="text-end",
                ),
            ],
            className="account-token-row",
        )
        for token in tokens
    ]
    return dbc.Table(
        [header, html.Tbody(rows)],
        hover=True,
        responsive=True,
        className="align-middle mb-0",
        size="sm",
    )


def new_token_alert(
    name: str,
    secret: str,
    value_id: str = "account-token-value",
    usage: list | None = None,
) -> dbc.Alert:
    """The one-time display of a freshly created token (personal or agent), with
    a copy button and how to use it."""
    return dbc.Alert(
        [
            html.Div(
                [
                    html.I(className="bi bi-key me-2"),
                    html.Strong(f"Token “{name}” created. "),
                    "Copy it now: it will not be shown again.",
                ],
                className="mb-2",
            ),
            html.Div(
                [
                    html.Code(
                        secret,
                        id=value_id,
                        className="user-select-all text-break",
                    ),
                    dcc.Clipboard(
                        target_id=value_id,
                        className="ms-2 d-inline-block",
                        title="Copy",
                    ),
                ],
                className="d-flex align-items-center bg-white rounded px-2 py-1",
            ),
            html.Div(
                usage
                or ["Use it as ", html.Code("Authorization: Bearer <token>"), "."],
                className="small mt-2",
            ),
        ],
        color="success",
        className="mb-3",
    )


def tokens_card(tokens: list) -> dbc.Card:
    """Create, list and revoke personal API tokens."""
    ids = AccountIds
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Personal API tokens", className="h5 mb-1", id="tokens"),
                html.P(
                    "For scripts and integrations: each token acts as you on the "
                    "REST API until you revoke it.",
                    className="text-muted small mb-3",
                ),
                html.Div(id=ids.TOKEN_SECRET),
                html.Div(id=ids.TOKEN_MESSAGE),
                dbc.InputGroup(
                    [
                        dbc.Input(
                            id=ids.TOKEN_NAME,
                            placeholder="Token name, e.g. nightly-report",
                            maxlength=64,
                        ),
                        dbc.Button(
                            "Create token", id=ids.TOKEN_CREATE, color="primary"
                        ),
                    ],
                    className="mb-1",
                ),
                dbc.FormFeedback(
                    id=ids.TOKEN_NAME_FEEDBACK, type="invalid", className="d-block mb-2"
                ),
                html.Div(token_table(tokens), id=ids.TOKEN_LIST, className="mt-3"),
            ]
        ),
        className="shadow-sm border-0 mb-4",
    )
