"""A shared view: /share/<token>, read-only, for anyone holding the link."""

import dash

from callbacks.shared_view import shared_page

dash.register_page(
    __name__,
    path_template="/share/<token>",
    title="Shared view · Insightboard",
)


def layout(token: str | None = None, **query):
    """The link's view (the guard has resolved the token and checked its scope)."""
    return shared_page(query)
