"""The services the pages call, behind one seam: who is asking, datasets (data.datasets,
the same service the REST API uses) and the analysis view (data.analytics).

Pages and callbacks never query a database themselves; these functions only call
services and reshape their answers for the page builders.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from flask import has_request_context

from auth.identity import current_user_or_none
from auth.share_guard import current_share
from data import analytics
from data import datasets as dataset_service
from data import shares as share_service
from data.errors import ValidationFailed
from data.services import Services

IN_FLIGHT = ("uploaded", "processing")
TARGETS = ("new", "version")


def user_or_none():
    """The signed-in user, or None (the guard already refuses anonymous callbacks)."""
    return current_user_or_none()


@dataclass(frozen=True)
class Viewer:
    """Whose data a view callback reads: the signed-in user's own, or what a share
    link allows (its owner's dataset, its locked values applied here, server-side,
    whatever the request said)."""

    owner_id: str
    share: share_service.ShareLink | None = None

    def dataset(self, requested: str | None) -> str | None:
        """The dataset to read: the link's own under a share, else the one asked."""
        return self.share.dataset_id if self.share else requested

    def search(self, search: str | None) -> str:
        """The view's query string with the link's locked values applied."""
        if self.share is None:
            return search or ""
        raw = parse_qs((search or "").lstrip("?"), keep_blank_values=True)
        locked = share_service.lock_query(raw, self.share.locked)
        return "?" + urlencode(locked, doseq=True)

    @property
    def locked(self) -> frozenset[str]:
        """The locked parameter names (none outside a share)."""
        return frozenset(self.share.locked) if self.share else frozenset()


def viewer() -> Viewer | None:
    """The share link this request runs under (it wins: the guard judged the
    request on it alone), else the signed-in user, else None."""
    share = current_share() if has_request_context() else None
    if share is not None:
        return Viewer(share.owner_id, share)
    user = current_user_or_none() if has_request_context() else None
    return Viewer(user.id) if user is not None else None


# ----------------------------------------------------------------- datasets


def _version_entry(summary: dict, detail: dict | None = None) -> dict:
    """A version for the pages: status, rows, time, and progress/error if known."""
    detail = detail or {}
    return {
        "version": summary["version"],
        "status": detail.get("status", summary["status"]),
        "rowCount": summary.get("rowCount"),
        "uploadedAt": summary.get("uploadedAt"),
        "error": detail.get("error"),
        "progress": {
            "rowsDone": detail.get("rowsDone"),
            "rowsTotal": detail.get("rowsTotal"),
        },
    }


def list_datasets(services: Services, owner_id: str) -> list[dict]:
    """The owner's datasets; versions in flight or failed carry progress/errors."""
    result = []
    for summary in dataset_service.list_datasets(services, owner_id):
        versions = []
        for entry in summary["versions"]:
            detail = None
            if entry["status"] in (*IN_FLIGHT, "failed"):
                detail = dataset_service.get_progress(
                    services, owner_id, summary["id"], entry["version"]
                )
            versions.append(_version_entry(entry, detail))
        result.append(
            {"id": summary["id"], "name": summary["name"], "versions": versions}
        )
    return result


def dataset_meta(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """What the analysis controls need for one version (latest when unknown).

    {"id", "name", "version", "revision", "status", "versions": [...], "metrics",
    "dimensions", "units", "timeColumn"}; raises NotFound for a missing dataset or
    someone else's.
    """
    view = dataset_service.get_dataset(services, owner_id, dataset_id)
    known = [entry["version"] for entry in view["versions"]]
    if version is not None and version in known and version != view["version"]:
        view = dataset_service.get_dataset(services, owner_id, dataset_id, version)
    detail = {
        "status": view["status"],
        "error": view.get("error"),
        **(view.get("progress") or {}),
    }
    versions = [
        _version_entry(entry, detail if entry["version"] == view["version"] else None)
        for entry in view["versions"]
    ]
    return {
        "id": view["id"],
        "name": view["name"],
        "version": view["version"],
        "revision": view.get("revision", 0),
        "status": view["status"],
        "versions": versions,
        "metrics": list(view.get("metricColumns") or []),
        "dimensions": list(view.get("dimensionColumns") or []),
        "units": {c["name"]: c.get("unit") for c in view.get("columns") or []},
        "timeColumn": view.get("timeColumn"),
    }


def preview_upload(
    services: Services, owner_id: str, filename: str, content: bytes
) -> dict:
    """First rows and inferred schema: {"format", "columns", "rows", "timeColumn",
    "metricColumns", "dimensionColumns"}; raises a DomainError for a bad file."""
    return dataset_service.preview_upload(
        services, owner_id, io.BytesIO(content), filename=filename
    )


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
    """Store the file as a new dataset or a new version of `existing`; returns
    {"id", "name", "version", "created"}. Processing continues in the background."""
    if target not in TARGETS:
        raise ValidationFailed("Choose a new dataset or an existing one.")
    if target == "version":
        if not existing:
            raise ValidationFailed("Choose the dataset this file is a new version of.")
        # Versions belong to a name: the service adds one under the same name.
        name = dataset_service.get_dataset(services, owner_id, existing)["name"]
    choice = dataset_service.Choice(
        time_column=time_column or None,
        metric_columns=tuple(metrics or ()),
        dimension_columns=tuple(dimensions or ()),
    )
    result = dataset_service.upload_dataset(
        services,
        owner_id,
        io.BytesIO(content),
        dataset_name=name or "",
        filename=filename,
        choice=choice,
    )
    return {
        "id": result["id"],
        "name": result["name"],
        "version": result["version"],
        "created": result["created"],
    }


def reprocess(services: Services, owner_id: str, dataset_id: str, version: int) -> None:
    """Process a stored version again (Conflict while it is being processed)."""
    dataset_service.reprocess_dataset(services, owner_id, dataset_id, version)


def delete(services: Services, owner_id: str, dataset_id: str) -> str:
    """Delete a dataset with all its versions; returns its name."""
    name = dataset_service.get_dataset(services, owner_id, dataset_id)["name"]
    dataset_service.delete_dataset(services, owner_id, dataset_id)
    return name


def disclosure(services: Services, owner_id: str, dataset_id: str) -> dict:
    """The dataset's disclosure setting: {"datasetId", "minEntities", "entity"}."""
    return dataset_service.get_disclosure(services, owner_id, dataset_id)


def set_min_entities(
    services: Services, owner_id: str, dataset_id: str, value: object
) -> dict:
    """Store k through the service PUT /api/datasets/{id}/disclosure uses (its
    checks and messages); returns the stored setting."""
    return dataset_service.set_disclosure(
        services, owner_id, dataset_id, {"minEntities": value}
    )


# ---------------------------------------------------------------- analytics


def analysis_view(
    services: Services,
    owner_id: str,
    dataset_id: str,
    params: dict,
    version: int | None = None,
) -> dict:
    """The analysis view of docs/contracts.md, from the analytics service."""
    return analytics.get_view(services, owner_id, dataset_id, params, version=version)


# ---------------------------------------------------------------- share links


def query_of(search: str | None) -> dict[str, list[str]]:
    """A view's query string as {key: [values]} (what a share link stores)."""
    return parse_qs((search or "").lstrip("?"), keep_blank_values=False)


def create_share(services: Services, owner_id: str, body: dict) -> str:
    """A new share link of the owner's; returns its (one-time) token."""
    _link, token = share_service.create_share(services, owner_id, body)
    return token


def list_shares(
    services: Services, owner_id: str, dataset_id: str | None = None
) -> list[dict]:
    """The owner's live links (of one dataset when given), as the API shows them."""
    return [
        link.public()
        for link in share_service.list_shares(services, owner_id, dataset_id)
    ]


def revoke_share(services: Services, owner_id: str, share_id: str) -> None:
    """Revoke one of the owner's links (NotFound for any other)."""
    share_service.revoke_share(services, owner_id, share_id)


def dataset_names(services: Services, owner_id: str) -> dict[str, str]:
    """{dataset id: name} of the owner's datasets."""
    return {
        summary["id"]: summary["name"]
        for summary in dataset_service.list_datasets(services, owner_id)
    }
