"""The navigation shell: brand, links to the pages that exist, the signed-in user."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import html

from components.widgets import aria


def nav_pages() -> list[dict]:
    """Registered pages that asked to be in the navbar (`nav_order`), in order."""
    pages = [page for page in dash.page_registry.values() if "nav_order" in page]
    return sorted(pages, key=lambda page: page["nav_order"])


ALERTS_COUNT = "navbar-alerts-count"


def alerts_count(badge: list) -> list:
    """The alerts link's count, in the container its live callback refills."""
    return [html.Span(badge, id=ALERTS_COUNT)]


def count_badge(count: int | None, words: str) -> list:
    """A page link's count (e.g. alerts firing now), spoken with its meaning."""
    if not count:
        return []
    return [
        dbc.Badge(str(count), color="danger", pill=True, class_name="ms-1",
                  id="navbar-alerts-badge"),
        html.Span(f" {words}", className="visually-hidden"),
    ]  # fmt: skip


def navbar(
    user_label: str | None = None,
    account_links: list | None = None,
    badges: dict[str, list] | None = None,
) -> dbc.Navbar:
    """The top bar; `account_links` are the right-hand items (sign in / sign out),
    `badges` extra content of page links by path (the alerts firing now)."""
    extra = badges or {}
    links = [
        dbc.NavItem(
            dbc.NavLink(
                [page["name"], *extra.get(page["path"], [])],
                href=page["relative_path"],
                active="exact",
            )
        )
        for page in nav_pages()
    ]
    right = list(account_links or [])
    if user_label:
        right.insert(
            0,
            dbc.NavItem(
                html.Span(user_label, className="navbar-text me-3", id="navbar-user")
            ),
        )
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [
                        html.Img(
                            src=dash.get_asset_url("logo.svg"),
                            height="28",
                            className="me-2",
                            alt="",
                        ),
                        "Insightboard",
                    ],
                    href="/",
                ),
                # A plain button: dbc.NavbarToggler cannot carry aria-expanded.
                html.Button(
                    html.Span(className="navbar-toggler-icon"),
                    id="navbar-toggler",
                    type="button",
                    className="navbar-toggler",
                    **aria(controls="navbar-collapse", expanded="false", label="Menu"),
                ),
                dbc.Collapse(
                    [
                        dbc.Nav(links, navbar=True, className="me-auto"),
                        dbc.Nav(right, navbar=True),
                    ],
                    id="navbar-collapse",
                    navbar=True,
                ),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        # Collapsed below 992 px: on a tablet the links and account menu fold away.
        expand="lg",
        className="mb-4 shadow-sm",
        id="navbar",
    )


def memory_notice() -> dbc.Alert:
    """A discreet notice shown when datasets live in the in-process engine."""
    return dbc.Alert(
        "Demo mode: datasets are kept in memory and rebuilt from stored files on "
        "restart. Set MONGO_URI to use a MongoDB server.",
        color="light",
        className="small text-muted py-1 px-3 mb-3 border",
        id="memory-notice",
    )
