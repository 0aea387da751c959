"""The services the pages call, behind one seam: who is asking, dataset metadata
and the analysis view. Pages and callbacks never query a database themselves."""

from __future__ import annotations

from auth.identity import current_user_or_none
from data.errors import NotFound, Unprocessable
from data.services import Services

# Until the dataset service is wired in, actions answer with a readable message.
UNAVAILABLE = Unprocessable("Uploads are not available yet on this server.")

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
    raise NotFound("Dataset not found.")  # wired to the dataset service next


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


def list_datasets(services: Services, owner_id: str) -> list[dict]:
    """The owner's datasets with every version's status and progress."""
    return []


def preview_upload(
    services: Services, owner_id: str, filename: str, content: bytes
) -> dict:
    """First rows and inferred schema: {"format", "columns", "rows", "timeColumn",
    "metricColumns", "dimensionColumns"}; raises a DomainError for a bad file."""
    raise UNAVAILABLE


def upload(
    services: Services,
    owner_id: str,
    filename: str,
    content: bytes,
    *,
    time_column: str | None,
    metrics: list[str] | None,
    dimensions: list[str] | None,
    target: str,
    name: str | None,
    existing: str | None,
) -> dict:
    """Store the file as a new dataset or a new version; returns {"id", "name",
    "version"}. Processing continues in the background."""
    raise UNAVAILABLE


def reprocess(services: Services, owner_id: str, dataset_id: str, version: int) -> None:
    """Process a stored version again."""
    raise UNAVAILABLE


def delete(services: Services, owner_id: str, dataset_id: str) -> str:
    """Delete a dataset with all its versions; returns its name."""
    raise UNAVAILABLE
