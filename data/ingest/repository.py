"""MongoDB access for datasets, records and roll-ups (shapes in docs/contracts.md).

Every dataset read and write filters by `userId`. Records and roll-ups carry the
`revision` that wrote them (`r`), so a superseded or crashed run's leftovers can be
told apart and removed. A version is only readable once its status is
processed/cached; appended batches (data/ingest/append.py) then add documents of
the next revision before that revision is committed, so readers keep only
documents of committed revisions (`committed_filter`).
"""

from __future__ import annotations

import datetime as dt

import pymongo
import pymongo.database
from pymongo import ReturnDocument

from data.mongo import IndexDefinitions

DATASETS, RECORDS, ROLLUPS, ANALYTICS = "datasets", "records", "rollups", "analytics"
KPI_ROLLUPS = "kpi_rollups"  # data/kpi/rollups.py
APPENDS = "appends"  # one document per appended batch (data/ingest/append.py)
DERIVED = (RECORDS, ROLLUPS, KPI_ROLLUPS)
READABLE = ("processed", "cached")
REPROCESSABLE = ("uploaded", "processed", "cached", "failed")

# Created once at start-up by the app factory (data.mongo.ensure_indexes).
INDEXES: IndexDefinitions = {
    DATASETS: [
        ([("userId", 1), ("nameKey", 1), ("version", 1)], {"unique": True}),
        (
            [("userId", 1), ("nameKey", 1), ("uploadKey", 1)],
            {
                "unique": True,
                "partialFilterExpression": {"uploadKey": {"$exists": True}},
            },
        ),
        ([("userId", 1), ("datasetId", 1), ("version", -1)], {}),
        ([("status", 1), ("heartbeatAt", 1)], {}),
    ],
    RECORDS: [([("datasetId", 1), ("version", 1), ("t", 1)], {})],
    ROLLUPS: [([("datasetId", 1), ("version", 1), ("g", 1), ("b", 1)], {})],
    KPI_ROLLUPS: [
        ([("datasetId", 1), ("version", 1), ("g", 1), ("k", 1), ("v", 1), ("b", 1)], {})
    ],
    APPENDS: [([("datasetId", 1), ("version", 1), ("seq", 1)], {})],
}

Database = pymongo.database.Database


def committed_filter(revision: int | None) -> dict:
    """The condition keeping documents of committed revisions (r <= revision);
    documents written without `r` count as committed. None: no condition."""
    if revision is None:
        return {}
    return {"r": {"$not": {"$gt": revision}}}


def now() -> dt.datetime:
    """The current time, timezone-aware UTC, at MongoDB's millisecond precision."""
    moment = dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def version_id(dataset_id: str, version: int) -> str:
    """The `_id` of one version's document."""
    return f"{dataset_id}-v{version}"


def history(status: str, at: dt.datetime, message: str | None = None) -> dict:
    """One statusHistory entry."""
    return {"status": status, "at": at, "message": message}


def insert_version(db: Database, document: dict) -> None:
    """Insert a new version (raises DuplicateKeyError when the slot is taken)."""
    db[DATASETS].insert_one(document)


def versions_by_name(db: Database, owner_id: str, name_key: str) -> list[dict]:
    """All versions of the owner's dataset with this name, oldest first."""
    query = {"userId": owner_id, "nameKey": name_key}
    return list(db[DATASETS].find(query).sort("version", 1))


def dataset_versions(db: Database, owner_id: str, dataset_id: str) -> list[dict]:
    """All versions of one of the owner's datasets, oldest first."""
    query = {"userId": owner_id, "datasetId": dataset_id}
    return list(db[DATASETS].find(query).sort("version", 1))


def owner_versions(db: Database, owner_id: str) -> list[dict]:
    """Every version of every dataset of the owner."""
    return list(db[DATASETS].find({"userId": owner_id}).sort("version", 1))


def find_version(
    db: Database, owner_id: str, dataset_id: str, version: int, status=None
) -> dict | None:
    """One version of the owner's dataset (in that status, when given), or None."""
    query = {"_id": version_id(dataset_id, version), "userId": owner_id}
    if status is not None:
        query["status"] = status
    return db[DATASETS].find_one(query)


def claim(db: Database, owner_id: str, doc_id: str, stale_before: dt.datetime):
    """Take a version for processing: bump its revision; None when not claimable."""
    moment = now()
    query = {
        "_id": doc_id,
        "userId": owner_id,
        "$or": [
            {"status": "uploaded"},
            {"status": "processing", "heartbeatAt": {"$lt": stale_before}},
        ],
        # Never while an append holds the version (its lease is live).
        "$nor": [{"appendLease.at": {"$gte": stale_before}}],
    }
    update = {
        "$set": {
            "status": "processing",
            "heartbeatAt": moment,
            "updatedAt": moment,
            "error": None,
            "progress": {"rowsDone": 0, "rowsTotal": None},
        },
        "$inc": {"revision": 1},
        "$push": {"statusHistory": history("processing", moment)},
    }
    return db[DATASETS].find_one_and_update(
        query, update, return_document=ReturnDocument.AFTER
    )


def heartbeat(db: Database, doc_id: str, revision: int, progress: dict) -> bool:
    """Record progress; False when this run no longer owns the version."""
    moment = now()
    result = db[DATASETS].update_one(
        {"_id": doc_id, "revision": revision, "status": "processing"},
        {"$set": {"progress": progress, "heartbeatAt": moment, "updatedAt": moment}},
    )
    return result.matched_count == 1


def finish(db: Database, doc_id: str, revision: int, fields: dict) -> bool:
    """processing -> processed, only for the run that owns the version."""
    return _transition(db, doc_id, revision, "processed", fields, None)


def fail(
    db: Database, doc_id: str, revision: int, message: str, fields: dict | None = None
) -> bool:
    """processing -> failed with a message, only for the run that owns it."""
    fields = {**(fields or {}), "error": message}
    return _transition(db, doc_id, revision, "failed", fields, message)


def _transition(db, doc_id, revision, status, fields, message) -> bool:
    moment = now()
    result = db[DATASETS].update_one(
        {"_id": doc_id, "revision": revision, "status": "processing"},
        {
            "$set": {**fields, "status": status, "updatedAt": moment},
            "$push": {"statusHistory": history(status, moment, message)},
        },
    )
    return result.matched_count == 1


def request_reprocess(
    db: Database, owner_id: str, doc_id: str, stale_before: dt.datetime, reason: str
) -> bool:
    """Put a version back to `uploaded` unless a live run is processing it."""
    query = {
        "_id": doc_id,
        "userId": owner_id,
        "$or": [
            {"status": {"$in": list(REPROCESSABLE)}},
            {"status": "processing", "heartbeatAt": {"$lt": stale_before}},
        ],
    }
    return _back_to_uploaded(db, query, reason)


def retry_failed(db: Database, owner_id: str, doc_id: str, reason: str) -> bool:
    """failed -> uploaded; False when the version is not (or no longer) failed."""
    query = {"_id": doc_id, "userId": owner_id, "status": "failed"}
    return _back_to_uploaded(db, query, reason)


def _back_to_uploaded(db: Database, query: dict, reason: str) -> bool:
    moment = now()
    update = {
        "$set": {"status": "uploaded", "updatedAt": moment},
        "$push": {"statusHistory": history("uploaded", moment, reason)},
    }
    return db[DATASETS].update_one(query, update).matched_count == 1


def mark_cached(
    db: Database, owner_id: str, dataset_id: str, version: int, revision: int
) -> bool:
    """processed -> cached (set by analytics once the default view is cached)."""
    moment = now()
    result = db[DATASETS].update_one(
        {
            "_id": version_id(dataset_id, version),
            "userId": owner_id,
            "revision": revision,
            "status": "processed",
        },
        {
            "$set": {"status": "cached", "updatedAt": moment},
            "$push": {"statusHistory": history("cached", moment)},
        },
    )
    return result.matched_count == 1


def pending(
    db: Database, stale_before: dt.datetime, *, stale_only: bool = False
) -> list[dict]:
    """Versions waiting for a run: processing with a stale heartbeat (a dead run)
    and, unless stale_only, uploaded ones (queued, or a lost job)."""
    stale = {"status": "processing", "heartbeatAt": {"$lt": stale_before}}
    query = stale if stale_only else {"$or": [{"status": "uploaded"}, stale]}
    fields = {"userId": 1, "datasetId": 1, "version": 1, "status": 1}
    return list(db[DATASETS].find(query, fields))


def insert_many(db: Database, collection: str, documents: list[dict]) -> None:
    """Bulk insert (unordered: the server may write in parallel)."""
    if documents:
        db[collection].insert_many(documents, ordered=False)


def delete_version_data(
    db: Database, dataset_id: str, version: int, revision: int | None = None
) -> int:
    """Remove a version's records and roll-ups: all, or one revision's."""
    query: dict = {"datasetId": dataset_id, "version": version}
    if revision is not None:
        query["r"] = revision
    return _delete_derived(db, query)


def delete_older_revisions(
    db: Database, dataset_id: str, version: int, revision: int
) -> int:
    """Remove records and roll-ups written by revisions before this one (never a
    newer run's: a late, superseded run must not touch its successor's data)."""
    query = {"datasetId": dataset_id, "version": version, "r": {"$lt": revision}}
    return _delete_derived(db, query)


def _delete_derived(db: Database, query: dict) -> int:
    return sum(delete_where(db[collection], query) for collection in DERIVED)


def delete_dataset(db: Database, owner_id: str, dataset_id: str) -> int:
    """Remove the owner's version documents, then every derived document."""
    removed = db[DATASETS].delete_many({"userId": owner_id, "datasetId": dataset_id})
    query = {"datasetId": dataset_id}
    for collection in (*DERIVED, ANALYTICS, APPENDS):
        delete_where(db[collection], query)
    return removed.deleted_count


def delete_where(collection, query: dict) -> int:
    """delete_many, returning how many documents it removed."""
    return collection.delete_many(query).deleted_count


def acquire_append_lease(
    db: Database, owner_id: str, doc_id: str, token: str, stale_before: dt.datetime
):
    """Hold a readable version for one append (no other append or processing run
    meanwhile); the version document, or None when it is busy or not readable.
    `deadLease` in the answer says a killed append held it before (its leftovers
    must go)."""
    moment = now()
    query = {
        "_id": doc_id,
        "userId": owner_id,
        "status": {"$in": list(READABLE)},
        "$or": [
            {"appendLease": None},
            {"appendLease.at": {"$lt": stale_before}},
        ],
    }
    update = {"$set": {"appendLease": {"token": token, "at": moment}}}
    before = db[DATASETS].find_one_and_update(
        query, update, return_document=ReturnDocument.BEFORE
    )
    if before is None:
        return None
    dead = before.get("appendLease") is not None
    return {**before, "appendLease": update["$set"]["appendLease"], "deadLease": dead}


def renew_append_lease(db: Database, doc_id: str, token: str) -> bool:
    """Refresh the lease before a write; False when this append lost it."""
    result = db[DATASETS].update_one(
        {"_id": doc_id, "appendLease.token": token},
        {"$set": {"appendLease.at": now()}},
    )
    return result.matched_count == 1


def release_append_lease(db: Database, doc_id: str, token: str) -> None:
    """Give the lease back without committing (a refused or failed append)."""
    db[DATASETS].update_one(
        {"_id": doc_id, "appendLease.token": token}, {"$unset": {"appendLease": ""}}
    )


def commit_append(
    db: Database, doc_id: str, token: str, revision: int, fields: dict, counts: dict
) -> bool:
    """The commit point of an append: revision -> revision + 1 in one document
    update, only for the lease holder; False when the lease was lost."""
    moment = now()
    result = db[DATASETS].update_one(
        {"_id": doc_id, "revision": revision, "appendLease.token": token},
        {
            "$set": {**fields, "revision": revision + 1, "updatedAt": moment},
            "$inc": counts,
            "$unset": {"appendLease": ""},
        },
    )
    return result.matched_count == 1


def delete_uncommitted(db: Database, document: dict) -> int:
    """Remove what appends that died before their commit left: documents of later
    revisions and batches past the committed count (only the lease holder calls
    this, so no live append is writing them)."""
    ids = {"datasetId": document["datasetId"], "version": document["version"]}
    count = document.get("appendCount", 0)
    db[APPENDS].delete_many({**ids, "seq": {"$gt": count}})
    return _delete_derived(db, {**ids, "r": {"$gt": document["revision"]}})


def find_append(db: Database, doc_id: str, batch_id: str) -> dict | None:
    """The stored batch with this id for one version, committed or not."""
    return db[APPENDS].find_one({"_id": f"{doc_id}:{batch_id}"})


def save_append(db: Database, document: dict) -> None:
    """Record a batch about to be written (replacing a dead attempt's entry)."""
    db[APPENDS].replace_one({"_id": document["_id"]}, document, upsert=True)


def committed_appends(db: Database, dataset_id: str, version: int, count: int):
    """The version's committed batches (seq 1..count), in order."""
    query = {"datasetId": dataset_id, "version": version, "seq": {"$lte": count}}
    return list(db[APPENDS].find(query).sort("seq", 1))
