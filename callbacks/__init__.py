"""Callbacks, registered on each app by `register(app)` (tests build several apps)."""

from __future__ import annotations

import dash


def register(app: dash.Dash) -> None:
    """Register every callback module on this app."""
    from callbacks import account, analysis, datasets, login, navbar, registration

    analysis.register(app)
    datasets.register(app)
    login.register(app)
    registration.register(app)
    account.register(app)
    navbar.register(app)
