"""The analysis view and the KPI page under a share link: how each one's query is
shared, and the page of /share/<token>.

`ANALYSIS_SHARE` and `KPI_SHARE` tell data.shares (and the guard) how each view's
query is read and which of its callbacks a share may run; `shared_page` builds the
page of /share/<token> for the link the guard resolved.
"""

from __future__ import annotations

from dataclasses import replace

from auth.share_guard import current_share
from callbacks import gateway
from components import kpi_state, url_state
from components.analysis_layout import PREFIX, analysis_page
from components.analysis_layout import ids as analysis_ids
from components.kpi_layout import PREFIX as KPI_PREFIX
from components.kpi_layout import ids as kpi_ids
from components.kpi_layout import kpi_lockable_keys, kpi_page
from components.widgets import empty_state
from data import shares as share_service
from data.errors import Conflict, NotFound, ValidationFailed
from data.kpi.service import kpi_meta
from data.services import Services, get_services

# Keys the analysis view reads from its URL (anything else in a share is refused).
KNOWN_KEYS = frozenset({*url_state.KEY_ORDER, "from", "to", "embed"})
# The same for the KPI page.
KPI_KNOWN_KEYS = frozenset({*kpi_state.KEY_ORDER, "embed"})


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
    refuse_unknown_keys(query, KNOWN_KEYS)
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


def refuse_unknown_keys(query: share_service.Query, known: frozenset[str]) -> None:
    """A 400 naming the first parameter the view does not read."""
    unknown = sorted(
        key
        for key in query
        if key not in known and not key.startswith(url_state.FILTER_PREFIX)
    )
    if unknown:
        raise ValidationFailed(
            f"Unknown view parameter {unknown[0][:40]!r}.", details={"field": "query"}
        )


def normalise_kpi_query(query: share_service.Query) -> share_service.Query:
    """The canonical form of a KPI page query, without looking at the dataset."""
    state, _ = kpi_state.parse_page_query(query)
    return as_query(kpi_state.to_query(state))


def canonical_kpi_query(
    services: Services, owner_id: str, dataset_id: str, query: share_service.Query
) -> tuple[share_service.Query, frozenset[str]]:
    """A KPI share's query checked against the owner's dataset (a 400 naming each
    value the page would drop); with what may be locked."""
    refuse_unknown_keys(query, KPI_KNOWN_KEYS)
    state, notices = kpi_state.parse_page_query(
        {key: values for key, values in query.items() if key != "embed"}
    )
    if notices:
        raise ValidationFailed(notices[0], details={"field": "query"})
    try:
        meta = kpi_meta(services, owner_id, dataset_id, state.version)
    except Conflict as error:
        raise ValidationFailed(error.message, details={"field": "datasetId"}) from None
    refuse_unknown_names(state, meta)
    lockable = frozenset([*kpi_lockable_keys(meta["dimensions"]), "version"])
    return as_query(kpi_state.to_query(state)), lockable


def refuse_unknown_names(state: kpi_state.KpiPageState, meta: dict) -> None:
    """A 400 for a measure or a filtered dimension the dataset does not have."""
    measures = {measure["name"] for measure in meta["measures"]}
    for name in state.measures:
        if name not in measures:
            raise ValidationFailed(
                f"Unknown measure {name[:40]!r}.", details={"field": "query"}
            )
    for name in state.filters:
        if name not in meta["dimensions"]:
            raise ValidationFailed(
                f"Unknown dimension {name[:40]!r}.", details={"field": "query"}
            )


KPI_SHARE = share_service.SharePage(
    name="kpi",
    canonical=canonical_kpi_query,
    normalise=normalise_kpi_query,
    output_prefix=f"{KPI_PREFIX}-",
    dataset_fields=(f"{kpi_ids.DATASET}.data",),
    search_fields=(f"{kpi_ids.URL}.search",),
    always_locked=("version",),
)


def register() -> None:
    """Make the analysis view and the KPI page shareable."""
    share_service.register_share_page(ANALYSIS_SHARE)
    share_service.register_share_page(KPI_SHARE)


def shared_page(query: dict):
    """The page of /share/<token>: the link's view with its locked values applied."""
    link = current_share()
    if link is None or link.page not in SHARED_PAGES:
        return unavailable_page()
    raw = {
        key: value if isinstance(value, list) else [value]
        for key, value in query.items()
    }
    try:
        return SHARED_PAGES[link.page](link, share_service.lock_query(raw, link.locked))
    except (NotFound, Conflict):
        return unavailable_page()


def shared_analysis_page(link: share_service.ShareLink, query: share_service.Query):
    """The analysis view of a link, read-only with its locked controls off."""
    state, notices = url_state.parse_query(query)
    meta = gateway.dataset_meta(
        get_services(), link.owner_id, link.dataset_id, state.version
    )
    versions = [entry["version"] for entry in meta["versions"]]
    state, stale = url_state.reconcile(state, meta, versions)
    return analysis_page(
        link.dataset_id, meta, state, notices + stale, frozenset(link.locked)
    )


def shared_kpi_page(link: share_service.ShareLink, query: share_service.Query):
    """The KPI page of a link, read-only with its locked controls off."""
    state, notices = kpi_state.parse_page_query(
        {key: values for key, values in query.items() if key != "embed"}
    )
    meta = kpi_meta(get_services(), link.owner_id, link.dataset_id, state.version)
    return kpi_page(
        link.dataset_id,
        meta,
        state,
        notices,
        locked=frozenset(link.locked),
        embed=(query.get("embed") or [""])[-1] in ("1", "true"),
    )


SHARED_PAGES = {"analysis": shared_analysis_page, "kpi": shared_kpi_page}


def unavailable_page():
    """Shown when the link stopped working between the page load and its content."""
    return empty_state(
        "slash-circle",
        "This share link is no longer available",
        "Ask the person who shared it for a new link.",
    )
