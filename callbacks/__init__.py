"""Callbacks, registered on each app by `register(app)` (tests build several apps)."""

from __future__ import annotations

import dash

from callbacks import (
    account,
    alerts,
    analysis,
    audit,
    datasets,
    kpi,
    login,
    navbar,
    registration,
    render_cache,
    reports,
    share_links,
    shared_view,
    versions,
)
from components.analysis_layout import ids as analysis_ids


def register(app: dash.Dash) -> None:
    """Register every callback module on this app."""
    analysis.register(app)
    alerts.register(app)
    audit.register(app)
    kpi.register(app)
    versions.register(app)
    datasets.register(app)
    login.register(app)
    registration.register(app)
    account.register(app)
    navbar.register(app)
    share_links.register(app)
    shared_view.register()
    # The analysis view's main callback is served from its rendered responses.
    render_cache.register(
        app, f"{analysis_ids.STATUS}.children", f"{analysis_ids.DATASET}.data"
    )
    reports.register(app)
