"""Account widgets shared by the shell and the auth pages: navbar items, prompts."""

from __future__ import annotations

from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import html
from flask import has_request_context

from auth.identity import current_user_or_none


def sign_out_form(button_class: str = "btn btn-outline-light btn-sm") -> html.Form:
    """A POST form to /logout (a GET link could be triggered by another site)."""
    return html.Form(
        html.Button(
            [html.I(className="bi bi-box-arrow-right me-1"), "Sign out"],
            type="submit",
            className=button_class,
            id="navbar-sign-out",
        ),
        action="/logout",
        method="POST",
        className="d-flex align-items-center mb-0",
    )


def signed_in_links() -> list:
    """Navbar items for a signed-in user: the account page and sign-out."""
    return [
        dbc.NavItem(
            dbc.NavLink(
                [html.I(className="bi bi-person-circle me-1"), "Account"],
                href="/account",
                active="exact",
                id="navbar-account",
            ),
            className="me-2",
        ),
        dbc.NavItem(sign_out_form()),
    ]


def anonymous_links() -> list:
    """Navbar items for a visitor: sign in and create an account."""
    return [
        dbc.NavItem(dbc.NavLink("Sign in", href="/login", id="navbar-sign-in")),
        dbc.NavItem(
            dbc.Button(
                "Create account",
                href="/register",
                color="primary",
                size="sm",
                className="ms-2",
                id="navbar-register",
            ),
            className="d-flex align-items-center",
        ),
    ]


def sign_in_prompt(next_target: str) -> html.Div:
    """What a visitor sees on a protected page: a short reason and a way in that
    comes back to `next_target`."""
    query = "?" + urlencode({"next": next_target}) if next_target != "/" else ""
    return html.Div(
        dbc.Card(
            dbc.CardBody(
                [
                    html.I(className="bi bi-lock fs-2 text-primary"),
                    html.H4("Sign in to continue", className="mt-2"),
                    html.P(
                        "This page shows your own data, so we need to know who "
                        "you are.",
                        className="text-muted",
                    ),
                    dbc.Button(
                        "Sign in",
                        href="/login" + query,
                        color="primary",
                        external_link=True,
                        className="me-2",
                    ),
                    dbc.Button(
                        "Create an account",
                        href="/register" + query,
                        color="link",
                        external_link=True,
                    ),
                ],
                className="text-center p-4",
            ),
            className="shadow-sm border-0 mx-auto auth-card",
        ),
        id="sign-in-required",
        className="py-4",
    )


def account_nav() -> tuple[str | None, list]:
    """The signed-in user's label and the navbar's right-hand links."""
    user = current_user_or_none() if has_request_context() else None
    if user is None:
        return None, anonymous_links()
    return user.email, signed_in_links()
