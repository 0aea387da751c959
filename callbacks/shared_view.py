"""The analysis view under a share link: how its query is shared, and its page.

`ANALYSIS_SHARE` tells data.shares (and the guard) how the analysis view's query
is read and which of its callbacks a share may run; `shared_page` builds the page
of /share/<token> for the link the guard resolved.
"""

from __future__ import annotations

from dataclasses import replace

from auth.share_guard import current_share
from callbacks import gateway
from components import url_state
from components.analysis_layout import PREFIX, analysis_page
from components.analysis_layout import ids as analysis_ids
from components.widgets import empty_state
from data import shares as share_service
from data.errors import NotFound, ValidationFailed
from data.services import Services, get_services

# Keys the analysis view reads from its URL (anything else in a share is refused).
KNOWN_KEYS = frozenset({*url_state.KEY_ORDER, "from", "to", "embed"})


def normalise_query(query: share_service.Query) -> share_service.Query:
    """The canonical form of an analysis query, without looking at the dataset."""
    state, _ = url_state.parse_query(query)
    return as_query(url_state.to_query(replace(state, embed=False)))


def as_query(pairs: list[tuple[str, str]]) -> share_service.Query:
    """Ordered query pairs as {key: [values]}."""
    query: share_service.Query = {}
    for key, value in pairs:
        query.setdefault(key, []).append(value)
    return query


def canonical_query(
    services: Services, owner_id: str, dataset_id: str, query: share_service.Query
) -> tuple[share_service.Query, frozenset[str]]:
    """A share's query checked against the owner's dataset; with what may be
    locked. Every value the view would ignore is a 400 naming it."""
    unknown = sorted(
        key
        for key in query
        if key not in KNOWN_KEYS and not key.startswith(url_state.FILTER_PREFIX)
    )
    if unknown:
        raise ValidationFailed(
            f"Unknown view parameter {unknown[0][:40]!r}.", details={"field": "query"}
        )
    state, notices = url_state.parse_query(query)
    meta = gateway.dataset_meta(services, owner_id, dataset_id, state.version)
    versions = [entry["version"] for entry in meta["versions"]]
    state, stale = url_state.reconcile(state, meta, versions)
    if notices or stale:
        raise ValidationFailed((notices + stale)[0], details={"field": "query"})
    lockable = frozenset([*url_state.lockable_keys(meta["dimensions"]), "version"])
    return as_query(url_state.to_query(replace(state, embed=False))), lockable


ANALYSIS_SHARE = share_service.SharePage(
    name="analysis",
    canonical=canonical_query,
    normalise=normalise_query,
    output_prefix=f"{PREFIX}-",
    dataset_fields=(f"{analysis_ids.DATASET}.data",),
    search_fields=(f"{analysis_ids.STATE}.data", f"{analysis_ids.URL}.search"),
    # A shared view shows the version it was shared with (or always the latest).
    always_locked=("version",),
)


def register() -> None:
    """Make the analysis view shareable."""
    share_service.register_share_page(ANALYSIS_SHARE)


def shared_page(query: dict):
    """The page of /share/<token>: the link's view with its locked values applied."""
    link = current_share()
    if link is None or link.page != "analysis":
        return unavailable_page()
    raw = {
        key: value if isinstance(value, list) else [value]
        for key, value in query.items()
    }
    state, notices = url_state.parse_query(share_service.lock_query(raw, link.locked))
    services = get_services()
    try:
        meta = gateway.dataset_meta(
            services, link.owner_id, link.dataset_id, state.version
        )
    except NotFound:
        return unavailable_page()
    versions = [entry["version"] for entry in meta["versions"]]
    state, stale = url_state.reconcile(state, meta, versions)
    return analysis_page(
        link.dataset_id, meta, state, notices + stale, frozenset(link.locked)
    )


def unavailable_page():
    """Shown when the link stopped working between the page load and its content."""
    return empty_state(
        "slash-circle",
        "This share link is no longer available",
        "Ask the person who shared it for a new link.",
    )
