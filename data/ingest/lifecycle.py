"""Start-up of ingest: indexes, the job runner, rebuild and recovery.

Rebuild: the object store is the source of truth for uploads. Each version is stored
as `datasets/<userId>/<datasetId>/v<n>/source.<ext>` plus `meta.json` beside it,
holding the version document as first written. When the `datasets` collection is
empty but the store holds versions (the in-process engine after a restart, or a
lost database), every version document is recreated from its meta.json with status
`uploaded` and processed again in the background.

Recovery: versions left `uploaded` (their job was lost) or `processing` with a stale
heartbeat (their worker died) are queued again; claiming makes this idempotent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import re

import pymongo.errors

from data.ingest import jobs, repository
from data.ingest.processing import stale_before
from data.services import Services
from data.storage import ObjectNotFound

log = logging.getLogger(__name__)
RUNNER = "ingest.runner"
META_KEY = re.compile(
    r"^datasets/(?P<user>[A-Za-z0-9_-]+)/(?P<dataset>[0-9a-f]{32})/v(?P<version>\d+)"
    r"/meta\.json$"
)
_DATETIME_FIELDS = ("uploadedAt", "updatedAt")


def start(services: Services, server=None, *, recover: bool = True):
    """Create the runner; rebuild from the store; requeue pending work."""
    runner = jobs.create_runner(services, server)
    services.extensions[RUNNER] = runner
    services.closers.append(runner.stop)
    if recover:
        rebuild_from_store(services)
        requeue_pending(services)
    return runner


def runner_of(services: Services):
    """This app's job runner (started on first use when start() was not called)."""
    return services.extensions.get(RUNNER) or start(services, recover=False)


def meta_key(object_key: str) -> str:
    """The meta.json beside a stored source file."""
    return object_key.rsplit("/", 1)[0] + "/meta.json"


def meta_document(document: dict) -> bytes:
    """The version document as stored in meta.json (datetimes as ISO 8601)."""
    kept = {k: v for k, v in document.items() if k not in ("statusHistory",)}
    return json.dumps(kept, default=_iso, sort_keys=True).encode("utf-8")


def batch_key(document: dict, seq: int) -> str:
    """Object-store key of a version's appended batch number `seq`."""
    prefix = key_prefix(document["userId"], document["datasetId"], document["version"])
    return f"{prefix}appends/{seq:08d}.json"


def fingerprint(records: list) -> str:
    """SHA-256 of a batch's records' canonical JSON (key order does not matter)."""
    text = json.dumps(records, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def update_meta(services: Services, document: dict, **fields) -> None:
    """Set fields of a version's meta.json, so a rebuild restores them (raises
    when the object store cannot be read or written)."""
    key = meta_key(document["objectKey"])
    meta = json.loads(services.store.get(key))
    meta.update(fields)
    services.store.put(key, io.BytesIO(json.dumps(meta, sort_keys=True).encode()))


def record_append_count(services: Services, document: dict, count: int) -> None:
    """meta.json learns how many batches are committed, so a rebuild replays
    exactly those (best effort: a failure only costs that batch on a rebuild)."""
    try:
        update_meta(services, document, appendCount=count)
    except Exception:
        key = meta_key(document["objectKey"])
        log.exception("meta.json not updated after an append", extra={"key": key})


def _restore_appends(services: Services, document: dict) -> None:
    """The `appends` entries of a rebuilt version, from its stored batch files."""
    for seq in range(1, document.get("appendCount", 0) + 1):
        key = batch_key(document, seq)
        payload = json.loads(services.store.get(key))
        entry = {
            "_id": f"{document['_id']}:{payload['batchId']}",
            "datasetId": document["datasetId"],
            "version": document["version"],
            "batchId": payload["batchId"],
            "digest": fingerprint(payload["records"]),
            "seq": seq,
            "objectKey": key,
            "result": payload["result"],
            "at": repository.now(),
        }
        repository.save_append(services.mongo, entry)


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in meta.json")


def rebuild_from_store(services: Services) -> int:
    """Recreate version documents from meta.json files when the collection is empty."""
    datasets = services.mongo[repository.DATASETS]
    if datasets.find_one({}, {"_id": 1}) is not None:
        return 0
    try:
        keys = services.store.list("datasets/")
    except Exception as error:  # the app must start; readiness reports the store
        log.warning("rebuild skipped: object store", extra={"error": str(error)})
        return 0
    rebuilt = 0
    for key in keys:
        match = META_KEY.match(key)
        if match and _rebuild_one(services, key, match):
            rebuilt += 1
    if rebuilt:
        log.info("rebuilt datasets from the object store", extra={"versions": rebuilt})
    return rebuilt


def _rebuild_one(services: Services, key: str, match: re.Match) -> bool:
    try:
        document = _restored(json.loads(services.store.get(key)), match)
        if not services.store.exists(document["objectKey"]):
            raise ValueError("source file missing")
        _restore_appends(services, document)
        repository.insert_version(services.mongo, document)
    except pymongo.errors.DuplicateKeyError:
        return False
    except (ValueError, KeyError, TypeError, ObjectNotFound) as error:
        log.warning("cannot rebuild a version", extra={"key": key, "error": str(error)})
        return False
    return True


def _restored(meta: dict, match: re.Match) -> dict:
    """A fresh `uploaded` document from meta.json, checked against its own key."""
    expected = (match["user"], match["dataset"], int(match["version"]))
    if (meta["userId"], meta["datasetId"], meta["version"]) != expected:
        raise ValueError("meta.json does not match its location")
    prefix = key_prefix(meta["userId"], meta["datasetId"], meta["version"])
    if not meta["objectKey"].startswith(prefix):
        raise ValueError("objectKey outside its version folder")
    document = {**meta}
    document.pop("appendLease", None)
    for name in _DATETIME_FIELDS:
        document[name] = dt.datetime.fromisoformat(meta[name])
    moment = repository.now()
    document.update(
        status="uploaded",
        revision=0,
        error=None,
        heartbeatAt=None,
        progress={"rowsDone": 0, "rowsTotal": None},
        statusHistory=[
            repository.history("uploaded", document["uploadedAt"]),
            repository.history("uploaded", moment, "rebuilt from object storage"),
        ],
    )
    return document


def key_prefix(owner_id: str, dataset_id: str, version: int | None = None) -> str:
    """Object-store folder of a dataset, or of one version."""
    base = f"datasets/{owner_id}/{dataset_id}/"
    return base if version is None else f"{base}v{version}/"


def requeue_pending(services: Services, *, stale_only: bool = False) -> int:
    """Queue every version that waits for a run (lost job or dead worker); with
    stale_only, only runs that died (the worker's periodic sweep: uploaded versions
    are normally on the queue already, and re-adding them would grow a backlog)."""
    runner = runner_of(services)
    cutoff = stale_before(services.settings)
    waiting = repository.pending(services.mongo, cutoff, stale_only=stale_only)
    for document in waiting:
        runner.submit(document["userId"], document["datasetId"], document["version"])
    return len(waiting)
