"""Append a batch of records to the latest version (POST /api/datasets/{id}/records).

**Validation** is the upload's: the batch becomes the same pandas frame a JSON
upload's chunk becomes (`readers.batch_frame`) and goes through the same
`transform.convert_chunk` with the version's stored schema, so a bad row gets the
upload's message ("row 3, column revenue: 'abc' is not a number", rows counted
from 1 in the batch) and the bad-row policy (`MAX_BAD_ROW_FRACTION`) refuses the
whole batch above it. Fields that are not columns of the version make the row bad.

**Idempotency**: a batch is stored under its client-chosen `batchId` with the
SHA-256 of its records; the same id with the same records answers the first
answer again (counted once), with other records a 409.

**Atomicity**: an append holds the version's lease (one append or processing run
at a time), writes the batch's records and *delta* roll-ups (hour/day/week/month
and KPI partials of this batch alone, merged by the readers' `$group` like any
two documents of one bucket) tagged with revision n + 1, and then commits by
moving the version document from revision n to n + 1 in one update. Readers keep
only documents of committed revisions (`repository.committed_filter`), so a
process killed before the commit leaves nothing visible, and the next append
removes its leftovers. The batch file is kept in the object store
(`.../v{n}/appends/{seq}.json`), so a reprocess rebuilds the version from the
uploaded file plus the committed batches in order (the "full reprocess" that the
incremental result is tested against).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass

from data.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    TooLarge,
    Unprocessable,
    ValidationFailed,
)
from data.ingest import lifecycle, repository
from data.ingest.changes import announce
from data.ingest.processing import (
    VersionSink,
    flush_rollups,
    kpi_accumulator,
    plans,
    rollup_accumulator,
)
from data.ingest.readers import batch_frame
from data.ingest.repository import RECORDS
from data.ingest.transform import Converted, convert_chunk, record_documents
from data.services import Services

log = logging.getLogger(__name__)
BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
LEASE_WAIT_S = 5.0


@dataclass(frozen=True)
class Batch:
    """A client's batch: its id, its records and their fingerprint."""

    batch_id: str
    records: list
    digest: str


class LeaseLost(Exception):
    """The append's lease went stale and another writer took the version."""


def make_batch(batch_id: object, records: object, max_records: int) -> Batch:
    """Check the batch's shape and size; 400 or 413 naming the problem."""
    if not isinstance(batch_id, str) or not BATCH_ID.match(batch_id):
        raise ValidationFailed(
            "batchId must be 1 to 128 letters, digits or . _ : - (starting with a "
            "letter or digit).",
            details={"field": "batchId"},
        )
    if not isinstance(records, list) or not records:
        raise ValidationFailed(
            "records must be a non-empty list of objects.", details={"field": "records"}
        )
    if len(records) > max_records:
        raise TooLarge(
            f"The batch has {len(records):,} records; the limit is {max_records:,} "
            "per batch (APPEND_MAX_RECORDS).",
            details={"limit": max_records},
        )
    return Batch(batch_id, records, lifecycle.fingerprint(records))


def append_records(
    services: Services, owner_id: str, dataset_id: str, batch: Batch
) -> tuple[dict, bool]:
    """Append one batch to the owner's latest version; (result, created)."""
    latest = _latest(services, owner_id, dataset_id)
    replay = _replay(services, latest, batch)
    if replay is not None:
        return replay, False
    converted = validate(latest, batch.records, services.settings)
    _check_row_limit(latest, converted, services.settings.max_rows)
    token = uuid.uuid4().hex
    document = _lease(services, owner_id, latest, token)
    try:
        replay = _replay(services, document, batch)
        if replay is not None:
            repository.release_append_lease(services.mongo, document["_id"], token)
            return replay, False
        result = _write(services, document, token, batch, converted)
    except Exception:
        _abandon(services, document, token)
        raise
    announce(
        services,
        dataset_id,
        document["version"],
        result["revision"],
        document["status"],
    )
    return result, True


def validate(document: dict, records: list, settings) -> Converted:
    """The batch converted with the version's schema; 422 over the bad-row policy."""
    read_plan, convert_plan = plans(document, settings)
    converted = convert_chunk(batch_frame(records, read_plan), convert_plan)
    limit = settings.max_bad_row_fraction
    if converted.bad > limit * converted.total or not len(converted.rows):
        first = "; ".join(error["message"] for error in converted.errors[:3])
        raise Unprocessable(
            f"{converted.bad:,} of {converted.total:,} records have errors, more "
            f"than the {100 * limit:g}% allowed; nothing was appended. First: {first}.",
            details={"badRows": converted.bad, "rowErrors": converted.errors},
        )
    return converted


def _latest(services: Services, owner_id: str, dataset_id: str) -> dict:
    versions = repository.dataset_versions(services.mongo, owner_id, dataset_id)
    if not versions:
        raise NotFound("No such dataset.")
    return versions[-1]


def _replay(services: Services, document: dict, batch: Batch) -> dict | None:
    """The first answer to this batch id, if it was committed; 409 on new content."""
    entry = repository.find_append(services.mongo, document["_id"], batch.batch_id)
    if entry is None or entry["seq"] > document.get("appendCount", 0):
        return None
    if entry["digest"] != batch.digest:
        raise Conflict(
            f"Batch {batch.batch_id!r} was already appended with other records; "
            "use a new batchId for new records.",
            details={"batchId": batch.batch_id},
        )
    return {**entry["result"], "duplicate": True}


def _lease(services: Services, owner_id: str, latest: dict, token: str) -> dict:
    """Take the version's lease, waiting briefly while another append holds it."""
    db, settings = services.mongo, services.settings
    deadline = time.monotonic() + LEASE_WAIT_S
    while True:
        stale = repository.now() - dt.timedelta(seconds=settings.append_lease_s)
        document = repository.acquire_append_lease(
            db, owner_id, latest["_id"], token, stale
        )
        if document is not None:
            return document
        current = repository.find_version(
            db, owner_id, latest["datasetId"], latest["version"]
        )
        if current is None:
            raise NotFound("No such dataset.")
        if current["status"] not in repository.READABLE or time.monotonic() > deadline:
            raise _busy(current)
        time.sleep(0.05)


def _busy(document: dict) -> Conflict:
    status = document["status"]
    if status in repository.READABLE:
        message = "Another batch is being appended to this version; retry."
    elif status == "failed":
        message = f"Version {document['version']} failed; upload a new version."
    else:
        message = (
            f"Version {document['version']} is {status}; append when it is processed."
        )
    return Conflict(message, details={"status": status})


def _check_row_limit(document: dict, converted: Converted, max_rows: int) -> None:
    if (document.get("rowCount") or 0) + len(converted.rows) > max_rows:
        raise TooLarge(
            f"The version would have more than {max_rows:,} rows, the limit "
            "(MAX_ROWS).",
            details={"limit": max_rows},
        )


def _write(
    services: Services, document: dict, token: str, batch: Batch, converted: Converted
) -> dict:
    db = services.mongo
    if document["deadLease"]:  # scanning for leftovers costs, so only after a kill
        repository.delete_uncommitted(db, document)
    seq = document.get("appendCount", 0) + 1
    revision = document["revision"] + 1
    result = {
        "datasetId": document["datasetId"],
        "version": document["version"],
        "revision": revision,
        "batchId": batch.batch_id,
        "accepted": len(converted.rows),
        "skipped": converted.bad,
        "rowErrors": converted.errors,
        "duplicate": False,
    }
    key = lifecycle.batch_key(document, seq)
    payload = {"batchId": batch.batch_id, "records": batch.records, "result": result}
    try:
        services.store.put(key, io.BytesIO(json.dumps(payload, default=str).encode()))
    except Exception as error:
        log.exception("storing an appended batch failed", extra={"key": key})
        raise ServiceUnavailable("File storage is unavailable; try again.") from error
    repository.save_append(db, _entry(document, batch, seq, key, result))
    sink = AppendSink(db, {**document, "revision": revision}, token)
    write_batch(sink, document, converted, seq, services.settings)
    fields, counts = _commit(document, seq, converted)
    revision_now = document["revision"]
    if not repository.commit_append(
        db, document["_id"], token, revision_now, fields, counts
    ):
        raise LeaseLost(document["_id"])
    lifecycle.record_append_count(services, document, seq)
    return result


def _entry(document: dict, batch: Batch, seq: int, key: str, result: dict) -> dict:
    return {
        "_id": f"{document['_id']}:{batch.batch_id}",
        "datasetId": document["datasetId"],
        "version": document["version"],
        "batchId": batch.batch_id,
        "digest": batch.digest,
        "seq": seq,
        "objectKey": key,
        "result": result,
        "at": repository.now(),
    }


class AppendSink(VersionSink):
    """Writes of one append: the lease is renewed before each write."""

    def __init__(self, db, document: dict, token: str) -> None:
        super().__init__(db, document)
        self.token = token

    def beat(self) -> None:
        """Raise LeaseLost when another writer took the version."""
        if not repository.renew_append_lease(self.db, self.document["_id"], self.token):
            raise LeaseLost(self.document["_id"])


def write_batch(
    sink: AppendSink, document: dict, converted: Converted, seq: int, settings
) -> None:
    """The batch's records and its delta roll-ups, under the next revision."""
    _read_plan, convert_plan = plans(document, settings)
    rollups = rollup_accumulator(convert_plan)
    kpi = kpi_accumulator(document, convert_plan)
    rollups.add(converted)
    kpi.add(converted)
    sink.beat()
    sink.insert(RECORDS, record_documents(*sink.ids, converted, append_seq=seq))
    flush_rollups(sink, rollups, kpi, sink.beat)


def _commit(document: dict, seq: int, converted: Converted) -> tuple[dict, dict]:
    """The version's new fields and counters at the commit."""
    fields = {"appendCount": seq, "timeRange": _time_range(document, converted)}
    counts = {"rowCount": len(converted.rows), "skippedRows": converted.bad}
    return fields, counts


def _time_range(document: dict, converted: Converted) -> dict | None:
    hours = converted.times.dt.tz_convert("UTC").dt.floor("h")
    moments = [hours.min().to_pydatetime(), hours.max().to_pydatetime()]
    span = document.get("timeRange") or {}
    for name in ("first", "last"):
        if span.get(name) is not None:
            moments.append(_aware(span[name]))
    return {"first": min(moments), "last": max(moments)}


def _aware(moment) -> dt.datetime:
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _abandon(services: Services, document: dict, token: str) -> None:
    """An append that failed (not died) removes what it wrote and frees the lease."""
    try:
        if repository.renew_append_lease(services.mongo, document["_id"], token):
            repository.delete_uncommitted(services.mongo, document)
            repository.release_append_lease(services.mongo, document["_id"], token)
    except Exception:
        log.exception("cleaning up a failed append", extra={"id": document["_id"]})
