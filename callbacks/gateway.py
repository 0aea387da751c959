"""The services the pages call, behind one seam: who is asking, dataset metadata
and the analysis view. Pages and callbacks never query a database themselves."""

from __future__ import annotations

from auth.identity import current_user_or_none
from data.services import Services

IN_FLIGHT = ("uploaded", "processing")
READY = ("processed", "cached")


def user_or_none():
    """The signed-in user, or None (the guard already refuses anonymous callbacks)."""
    return current_user_or_none()


def dataset_meta(services: Services, owner_id: str, dataset_id: str) -> dict:
    """Metadata the analysis controls need; raises NotFound for others' datasets.

    {"id", "name", "versions": [{"version", "status", "rowCount", "uploadedAt",
    "error", "progress"}], "metrics", "dimensions", "units", "timeColumn"}
    """
    raise NotImplementedError("wired to the dataset service once it lands")


def analysis_view(
    services: Services,
    owner_id: str,
    dataset_id: str,
    params: dict,
    version: int | None = None,
) -> dict:
    """The analysis view of docs/contracts.md, from the analytics service."""
    from data.analytics import get_view

    return get_view(services, owner_id, dataset_id, params, version=version)
