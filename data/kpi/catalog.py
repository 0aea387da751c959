"""Measures of a dataset version: read them, replace them (the owner only).

Replacing measures re-runs processing of that version from its stored file, so the
KPI roll-ups hold the new measures' partials (a where-condition or a new distinct
count needs the rows). meta.json keeps the measures, so a rebuild restores them.
"""

from __future__ import annotations

import io

from data.datasets import find_version_document
from data.errors import Conflict
from data.ingest import lifecycle, repository
from data.ingest.measures import parse_measures, usable_columns
from data.ingest.processing import stale_before
from data.services import Services


def get_measures(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """`{"measures": [...]}` of one version (latest by default)."""
    document = find_version_document(services, owner_id, dataset_id, version)
    return _view(document)


def _view(document: dict) -> dict:
    return {
        "datasetId": document["datasetId"],
        "version": document["version"],
        "status": document["status"],
        "measures": document.get("measures") or [],
    }


def set_measures(
    services: Services,
    owner_id: str,
    dataset_id: str,
    raw: object,
    version: int | None = None,
) -> dict:
    """Validate and store a version's measures, then reprocess it (409 while a
    run is live)."""
    document = find_version_document(services, owner_id, dataset_id, version)
    columns = usable_columns(
        document["columns"], document["metricColumns"], document["dimensionColumns"]
    )
    measures = [m.document() for m in parse_measures(raw, columns)]
    db = services.mongo
    if not repository.request_reprocess(
        db, owner_id, document["_id"], stale_before(services.settings),
        "measures changed",
    ):  # fmt: skip
        raise Conflict(
            f"Version {document['version']} is being processed right now; change "
            "its measures when it finishes.",
            details={"status": document["status"]},
        )
    db[repository.DATASETS].update_one(
        {"_id": document["_id"], "userId": owner_id}, {"$set": {"measures": measures}}
    )
    document = {**document, "measures": measures}
    meta = lifecycle.meta_document(document)
    services.store.put(lifecycle.meta_key(document["objectKey"]), io.BytesIO(meta))
    lifecycle.runner_of(services).submit(owner_id, dataset_id, document["version"])
    services.audit(
        "measures_update", user_id=owner_id, resource=f"dataset:{dataset_id}",
        details={"version": document["version"],
                 "measures": [measure["name"] for measure in measures]},
    )  # fmt: skip
    return _view(find_version_document(services, owner_id, dataset_id, version))
