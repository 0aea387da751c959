"""Datasets service: upload, preview, list, show, progress, reprocess and delete.

The same functions serve the REST API (api/datasets.py) and the pages. Each takes
the services and the owner's id; another user's dataset is NotFound, exactly like a
missing one. An upload is analysed while the caller waits (format, header, schema:
clear 4xx errors), stored, and processed in the background (data/ingest/jobs.py).
Uploading the same bytes with the same column choice again under the same name
returns the existing version instead of creating a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO, cast

import pymongo.errors
import redis

from data import report_records, shares
from data.cache import bump_generation
from data.dataset_models import (
    DEFAULT_MIN_ENTITIES,
    MIN_ENTITIES_HIGH,
    MIN_ENTITIES_LOW,
)
from data.errors import (
    DATASET_NOT_FOUND,
    Conflict,
    NotFound,
    ServiceUnavailable,
    TooLarge,
    ValidationFailed,
)
from data.ingest import append, lifecycle, repository
from data.ingest.analysis import Analysis, analyse, sample_size
from data.ingest.measures import parse_measures, propose_measures, usable_columns
from data.ingest.processing import stale_before
from data.ingest.schema import Choice
from data.services import Services

log = logging.getLogger(__name__)
# The one dataset read path (every service reads versions through
# _versions_or_404): one id rule, one set of readable states, one 404 message.
DATASET_ID = re.compile(r"^[0-9a-f]{32}$")
READABLE = repository.READABLE
MAX_NAME = 120
COPY_BLOCK = 1024 * 1024
__all__ = [
    "Choice",
    "append_records",
    "delete_dataset",
    "find_version_document",
    "get_dataset",
    "get_progress",
    "list_datasets",
    "mark_cached",
    "preview_upload",
    "readable_version",
    "reprocess_dataset",
    "upload_dataset",
]


@dataclass
class _Upload:
    """A spooled copy of the uploaded bytes with their size and checksum."""

    file: BinaryIO
    size: int
    checksum: str


def upload_dataset(
    services: Services,
    owner_id: str,
    stream: BinaryIO,
    *,
    dataset_name: str,
    filename: str | None = None,
    choice: Choice | None = None,
    measures: list[dict] | None = None,
) -> dict:
    """Store an upload as a new version and queue it; returns the version view
    plus `created`: False when the same file (same column choice) was already
    uploaded, and that version is returned as it is. When that version `failed`,
    the upload counts as a retry: it is processed again and `created` is True.
    `measures` replace the ones proposed from the schema (validated against it)."""
    name = clean_dataset_name(dataset_name)
    choice = choice or Choice()
    settings = services.settings
    with _spooled(stream, settings.max_upload_bytes, settings.max_upload_mb) as upload:
        analysis = _analyse_upload(upload, choice, settings)
        chosen = _measures(analysis, measures)
        created, document = _reserve_version(
            services, owner_id, name, upload, analysis, choice, filename, chosen
        )
        if created:
            _store_source(services, document, upload.file)
    if not created and document["status"] == "failed":
        created = repository.retry_failed(
            services.mongo, owner_id, document["_id"], "uploaded again after failing"
        )
    if created:
        lifecycle.runner_of(services).submit(
            owner_id, document["datasetId"], document["version"]
        )
    view = get_dataset(services, owner_id, document["datasetId"], document["version"])
    services.audit(
        "dataset_upload", user_id=owner_id, resource=f"dataset:{view['id']}",
        details={"name": name, "version": view["version"], "created": created,
                 "bytes": document.get("sizeBytes")},
    )  # fmt: skip
    return {**view, "created": created}


def preview_upload(
    services: Services,
    owner_id: str,
    stream: BinaryIO,
    *,
    filename: str | None = None,
    choice: Choice | None = None,
) -> dict:
    """The inferred schema and first rows of a file, without storing anything."""
    limit = sample_size(services.settings)
    sample = stream.read(limit + 1)
    complete = len(sample) <= limit
    analysis = analyse(sample[:limit], complete, choice or Choice(), services.settings)
    return {
        "fileName": safe_filename(filename),
        **_analysis_view(analysis),
        "rows": analysis.preview,
        "sampledRows": analysis.sampled_rows,
        "complete": complete,
    }


def list_datasets(services: Services, owner_id: str) -> list[dict]:
    """The owner's datasets, most recently changed first, with their versions."""
    grouped: dict[str, list[dict]] = {}
    for document in repository.owner_versions(services.mongo, owner_id):
        grouped.setdefault(document["datasetId"], []).append(document)
    summaries = [_dataset_summary(versions) for versions in grouped.values()]
    return sorted(summaries, key=lambda item: item["updatedAt"], reverse=True)


def get_dataset(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """One version (the latest by default) with columns, status and errors."""
    versions = _versions_or_404(services, owner_id, dataset_id)
    document = _pick_version(versions, version)
    return _version_view(document, versions, services.settings)


def get_progress(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """Status and rows done / total of one version, for polling."""
    versions = _versions_or_404(services, owner_id, dataset_id)
    document = _pick_version(versions, version)
    return {
        "id": dataset_id,
        "version": document["version"],
        "status": document["status"],
        "error": document.get("error"),
        **_progress(document, services.settings),
    }


def find_version_document(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """The stored document of one version (latest by default), any status."""
    versions = _versions_or_404(services, owner_id, dataset_id)
    return _pick_version(versions, version)


def readable_version(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """The stored document of a readable version (the latest readable one when
    version is None); one still processing (or failed) is a Conflict naming its
    status."""
    versions = _versions_or_404(services, owner_id, dataset_id)
    if version is not None:
        versions = [_pick_version(versions, version)]
    for document in reversed(versions):
        if document.get("status") in READABLE:
            return document
    latest = versions[-1]
    raise Conflict(
        f"Version {latest['version']} is not ready for analysis (status "
        f"{latest.get('status')}).",
        details={"status": latest.get("status")},
    )


def reprocess_dataset(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """Process a version again from its stored file (409 while a run is live)."""
    document = find_version_document(services, owner_id, dataset_id, version)
    settings = services.settings
    if not repository.request_reprocess(
        services.mongo,
        owner_id,
        document["_id"],
        stale_before(settings),
        "reprocessing requested",
    ):
        progress = _progress(document, settings)
        raise Conflict(
            f"Version {document['version']} is being processed right now "
            f"({progress['rowsDone']:,} rows done); reprocess it when it finishes.",
            details={"status": document["status"]},
        )
    lifecycle.runner_of(services).submit(owner_id, dataset_id, document["version"])
    services.audit(
        "dataset_reprocess", user_id=owner_id, resource=f"dataset:{dataset_id}",
        details={"name": document["datasetName"], "version": document["version"]},
    )  # fmt: skip
    return get_dataset(services, owner_id, dataset_id, document["version"])


def append_records(
    services: Services,
    owner_id: str,
    dataset_id: str,
    batch_id: object,
    records: object,
) -> tuple[dict, bool]:
    """Append a batch of records to the owner's latest version (a new revision);
    (result, created): created is False when the batch was already appended."""
    check_dataset_id(dataset_id)
    batch = append.make_batch(batch_id, records, services.settings.append_max_records)
    result, created = append.append_records(services, owner_id, dataset_id, batch)
    if created:
        after_append(services, owner_id, dataset_id)
        services.audit(
            "dataset_append", user_id=owner_id, resource=f"dataset:{dataset_id}",
            details={"batchId": batch.batch_id, "records": len(batch.records)},
        )  # fmt: skip
    return result, created


AFTER_APPEND = "datasets.after_append"


def set_after_append(services: Services, hook) -> None:
    """Wire what follows a committed append (the factory: evaluate the dataset's
    alert rules in the background)."""
    services.extensions[AFTER_APPEND] = hook


def after_append(services: Services, owner_id: str, dataset_id: str) -> None:
    """Run the wired after-append step, if any; never fail the append."""
    hook = services.extensions.get(AFTER_APPEND)
    if hook is None:
        return
    try:
        hook(services, owner_id, dataset_id)
    except Exception:
        log.exception("the after-append step failed", extra={"dataset": dataset_id})


def delete_dataset(services: Services, owner_id: str, dataset_id: str) -> None:
    """Remove every version: files, records, roll-ups, analytics and cache entries."""
    versions = _versions_or_404(services, owner_id, dataset_id)
    # Its share links die first: no link may outlive what it shows.
    links = shares.revoke_dataset_links(services, owner_id, dataset_id)
    # Its reports and report schedules go first: none may outlive its data.
    report_records.forget_dataset(services, owner_id, dataset_id)
    try:
        # meta.json first: a rebuild can then never bring the dataset back.
        for document in versions:
            services.store.delete(lifecycle.meta_key(document["objectKey"]))
    except Exception as error:
        log.exception("object store delete failed", extra={"dataset": dataset_id})
        raise ServiceUnavailable("File storage is unavailable; try again.") from error
    repository.delete_dataset(services.mongo, owner_id, dataset_id)
    prefix = lifecycle.key_prefix(owner_id, dataset_id)
    try:
        services.store.delete_prefix(prefix)
    except Exception:
        log.exception("source files left behind", extra={"prefix": prefix})
    forget_cached(services, dataset_id)
    services.audit(
        "dataset_delete", user_id=owner_id, resource=f"dataset:{dataset_id}",
        details={"name": versions[-1]["datasetName"], "versions": len(versions),
                 "shareLinksRevoked": links},
    )  # fmt: skip


def mark_cached(
    services: Services, owner_id: str, dataset_id: str, version: int, revision: int
) -> bool:
    """processed -> cached; False when the version changed (or is not processed)."""
    return repository.mark_cached(
        services.mongo, owner_id, dataset_id, version, revision
    )


def forget_cached(services: Services, dataset_id: str) -> int:
    """Make the dataset's cache entries unreachable (a new generation in their
    keys); on Redis also delete them, returning how many went."""
    bump_generation(dataset_id)
    if services.redis is None:
        return 0  # the in-process cache drops old generations as it fills
    try:
        # Its id is random hex, so only its own keys (and generation) match.
        keys = list(services.redis.scan_iter(match=f"*{dataset_id}*", count=1000))
        return services.redis.delete(*keys) if keys else 0
    except redis.exceptions.RedisError as error:
        log.warning("cache cleanup failed", extra={"error": str(error)})
        return 0


def clean_dataset_name(name: str | None) -> str:
    """A dataset name: 1 to 120 printable characters, surrounding spaces removed."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise ValidationFailed(
            "datasetName is required.", details={"field": "datasetName"}
        )
    if len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise ValidationFailed(
            f"datasetName must be at most {MAX_NAME} printable characters.",
            details={"field": "datasetName"},
        )
    return cleaned


def safe_filename(filename: str | None) -> str:
    """The last path part of a client file name, for display only (never a key)."""
    base = PurePosixPath((filename or "").replace("\\", "/")).name
    printable = "".join(ch for ch in base if ch.isprintable()).strip()
    return printable[:200] or "upload"


@contextlib.contextmanager
def _spooled(stream: BinaryIO, limit: int, limit_mb: int) -> Iterator[_Upload]:
    """Copy the upload aside (memory up to 8 MB, then disk), hashing it."""
    digest = hashlib.sha256()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        for block in iter(lambda: stream.read(COPY_BLOCK), b""):
            size += len(block)
            if size > limit:
                raise TooLarge(
                    f"The file is larger than the {limit_mb} MB upload limit."
                )
            digest.update(block)
            spool.write(block)
        spool.seek(0)
        yield _Upload(cast(BinaryIO, spool), size, digest.hexdigest())


def _analyse_upload(upload: _Upload, choice: Choice, settings) -> Analysis:
    limit = sample_size(settings)
    sample = upload.file.read(limit)
    upload.file.seek(0)
    return analyse(sample, upload.size <= limit, choice, settings)


def _upload_key(checksum: str, choice: Choice) -> str:
    """Same bytes and same column choice: the same version."""
    chosen = json.dumps(choice.document(), sort_keys=True)
    return hashlib.sha256(f"{checksum}\n{chosen}".encode()).hexdigest()


def _measures(analysis: Analysis, measures: list[dict] | None) -> list[dict]:
    """The version's measures: proposed from the schema, or the caller's, checked."""
    schema = analysis.schema
    columns = usable_columns(
        [column.document() for column in schema.columns],
        schema.metric_columns,
        schema.dimension_columns,
    )
    if measures is None:
        return propose_measures(columns)
    return [measure.document() for measure in parse_measures(measures, columns)]


def _reserve_version(
    services, owner_id, name, upload, analysis, choice, filename, measures
):
    """Insert the next version's document, or find the identical earlier upload.

    Unique indexes on (owner, name, version) and (owner, name, uploadKey) settle
    races between concurrent uploads: the loser re-reads and tries again.
    """
    upload_key = _upload_key(upload.checksum, choice)
    for _attempt in range(8):
        existing = repository.versions_by_name(
            services.mongo, owner_id, name.casefold()
        )
        same = [d for d in existing if d.get("uploadKey") == upload_key]
        if same:
            return False, same[0]
        dataset_id = existing[0]["datasetId"] if existing else uuid.uuid4().hex
        version = existing[-1]["version"] + 1 if existing else 1
        document = _new_version(owner_id, name, dataset_id, version, upload, analysis)
        document.update(
            uploadKey=upload_key, choice=choice.document(), measures=measures
        )
        if existing and existing[-1].get("disclosure"):
            document["disclosure"] = existing[-1]["disclosure"]
        document["originalName"] = safe_filename(filename)
        try:
            repository.insert_version(services.mongo, document)
        except pymongo.errors.DuplicateKeyError:
            continue
        return True, document
    raise Conflict("Another upload of this dataset is in progress; try again.")


def _new_version(owner_id, name, dataset_id, version, upload, analysis) -> dict:
    moment = repository.now()
    schema, file_format = analysis.schema, analysis.format
    prefix = lifecycle.key_prefix(owner_id, dataset_id, version)
    decimals = {c.key: c.decimal for c in schema.columns if c.decimal != "."}
    return {
        "_id": repository.version_id(dataset_id, version),
        "datasetId": dataset_id,
        "userId": owner_id,
        "datasetName": name,
        "nameKey": name.casefold(),
        "version": version,
        "revision": 0,
        "objectKey": f"{prefix}source.{file_format.extension}",
        "format": file_format.kind,
        "checksum": upload.checksum,
        "sizeBytes": upload.size,
        "uploadedAt": moment,
        "updatedAt": moment,
        "columns": [column.document() for column in schema.columns],
        "timeColumn": schema.time_column,
        "metricColumns": schema.metric_columns,
        "dimensionColumns": schema.dimension_columns,
        "parse": {
            "encoding": file_format.encoding,
            "delimiter": file_format.delimiter,
            "fields": analysis.fields,
            "timeFormat": schema.time_format,
            "decimals": decimals,
        },
        "status": "uploaded",
        "statusHistory": [repository.history("uploaded", moment)],
        "error": None,
        "rowCount": 0,
        "skippedRows": 0,
        "rowErrors": [],
        "progress": {"rowsDone": 0, "rowsTotal": None},
        "heartbeatAt": None,
    }


def _store_source(services: Services, document: dict, file: BinaryIO) -> None:
    """Source file, then meta.json (its presence marks a complete upload)."""
    try:
        services.store.put(document["objectKey"], file)
        meta = lifecycle.meta_document(document)
        services.store.put(lifecycle.meta_key(document["objectKey"]), io.BytesIO(meta))
    except Exception as error:
        log.exception("storing an upload failed", extra={"dataset": document["_id"]})
        services.mongo[repository.DATASETS].delete_one({"_id": document["_id"]})
        with contextlib.suppress(Exception):
            services.store.delete(document["objectKey"])
        raise ServiceUnavailable("File storage is unavailable; try again.") from error


AT_REST = ("processed", "cached", "failed")


def version_stamp(services: Services, owner_id: str, dataset_id: str) -> list | None:
    """What a rendering of the dataset depends on: each version's number, revision
    and status (and the name), or None while a version is in flight. NotFound for
    a missing dataset or someone else's."""
    versions = _versions_or_404(services, owner_id, dataset_id)
    if any(document.get("status") not in AT_REST for document in versions):
        return None
    return [
        [d["version"], d.get("revision", 1), d["status"], d.get("datasetName")]
        for d in versions
    ]


def check_dataset_id(dataset_id: object) -> None:
    """NotFound unless the id is one this service could have made."""
    if not isinstance(dataset_id, str) or not DATASET_ID.match(dataset_id):
        raise NotFound(DATASET_NOT_FOUND)


def _versions_or_404(services: Services, owner_id: str, dataset_id: str) -> list[dict]:
    """Every version of the owner's dataset, oldest first; another user's dataset
    is NotFound like a missing one."""
    check_dataset_id(dataset_id)
    versions = repository.dataset_versions(services.mongo, owner_id, dataset_id)
    if not versions:
        raise NotFound(DATASET_NOT_FOUND)
    return versions


def _pick_version(versions: list[dict], version: int | None) -> dict:
    if version is None:
        return versions[-1]
    for document in versions:
        if document["version"] == version:
            return document
    raise NotFound(f"Version {version} of this dataset does not exist.")


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _progress(document: dict, settings) -> dict:
    progress = document.get("progress") or {}
    done = progress.get("rowsDone") or 0
    total = progress.get("rowsTotal")
    if document["status"] in repository.READABLE:
        done = total = document.get("rowCount", 0) + document.get("skippedRows", 0)
    percent = 100.0 if document["status"] in repository.READABLE else None
    if percent is None and total:
        percent = round(min(99.0, 100.0 * done / total), 1)
    heartbeat = document.get("heartbeatAt")
    stalled = document["status"] == "processing" and (
        heartbeat is None or heartbeat < stale_before(settings)
    )
    return {
        "rowsDone": done,
        "rowsTotal": total,
        "percent": percent,
        "stalled": stalled,
    }


def _version_summary(document: dict) -> dict:
    return {
        "version": document["version"],
        "status": document["status"],
        "rowCount": document.get("rowCount", 0),
        "uploadedAt": _iso(document["uploadedAt"]),
        "originalName": document.get("originalName"),
    }


def _dataset_summary(versions: list[dict]) -> dict:
    latest = versions[-1]
    return {
        "id": latest["datasetId"],
        "name": latest["datasetName"],
        "latestVersion": latest["version"],
        "status": latest["status"],
        "rowCount": latest.get("rowCount", 0),
        "uploadedAt": _iso(latest["uploadedAt"]),
        "updatedAt": _iso(max(d["updatedAt"] for d in versions)),
        "versions": [_version_summary(d) for d in versions],
    }


def _analysis_view(analysis: Analysis) -> dict:
    schema, file_format = analysis.schema, analysis.format
    return {
        "format": file_format.kind,
        "encoding": file_format.encoding,
        "delimiter": file_format.delimiter,
        "columns": [column.document() for column in schema.columns],
        "timeColumn": schema.time_column,
        "metricColumns": schema.metric_columns,
        "dimensionColumns": schema.dimension_columns,
    }


def _version_view(document: dict, versions: list[dict], settings) -> dict:
    return {
        "id": document["datasetId"],
        "name": document["datasetName"],
        "version": document["version"],
        "latestVersion": versions[-1]["version"],
        "revision": document["revision"],
        "status": document["status"],
        "error": document.get("error"),
        "format": document["format"],
        "originalName": document.get("originalName"),
        "sizeBytes": document["sizeBytes"],
        "checksum": document["checksum"],
        "uploadedAt": _iso(document["uploadedAt"]),
        "updatedAt": _iso(document["updatedAt"]),
        "columns": document["columns"],
        "timeColumn": document["timeColumn"],
        "metricColumns": document["metricColumns"],
        "dimensionColumns": document["dimensionColumns"],
        "rowCount": document.get("rowCount", 0),
        "skippedRows": document.get("skippedRows", 0),
        "rowErrors": document.get("rowErrors", []),
        "statusHistory": [
            {**entry, "at": _iso(entry["at"])} for entry in document["statusHistory"]
        ],
        "progress": _progress(document, settings),
        "versions": [_version_summary(d) for d in versions],
    }


def entity_column(document: dict) -> dict | None:
    """The column whose distinct values are a version's entities for disclosure
    control (its first identifier), or None: then every row is an entity."""
    columns = document.get("columns") or []
    return next((c for c in columns if c["role"] == "identifier"), None)


def entity_name(document: dict) -> str:
    """The entity column's name, or "rows"."""
    column = entity_column(document)
    return column["name"] if column else "rows"


def min_entities(document: dict) -> int:
    """k: agents see no cell computed from fewer distinct entities."""
    setting = document.get("disclosure") or {}
    return int(setting.get("minEntities") or DEFAULT_MIN_ENTITIES)


def _disclosure_view(document: dict) -> dict:
    return {
        "datasetId": document["datasetId"],
        "minEntities": min_entities(document),
        "entity": entity_name(document),
    }


def get_disclosure(services: Services, owner_id: str, dataset_id: str) -> dict:
    """The dataset's disclosure setting (k for agents, and the entity counted)."""
    versions = _versions_or_404(services, owner_id, dataset_id)
    return _disclosure_view(versions[-1])


def parse_min_entities(body: dict) -> int:
    """`minEntities` of a request body: a whole number within the bounds (400
    naming the field otherwise)."""
    unknown = sorted(set(body) - {"minEntities"})
    if unknown:
        raise ValidationFailed(
            f"Unknown field {unknown[0][:40]!r}; the only field is minEntities.",
            details={"field": unknown[0][:40], "choices": ["minEntities"]},
        )
    value = body.get("minEntities")
    low, high = MIN_ENTITIES_LOW, MIN_ENTITIES_HIGH
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not (low <= value <= high)
    ):
        raise ValidationFailed(
            f"minEntities must be a whole number from {low} to {high}.",
            details={"field": "minEntities", "minimum": low, "maximum": high},
        )
    return value


def set_disclosure(
    services: Services, owner_id: str, dataset_id: str, body: dict
) -> dict:
    """Store k with every version of the dataset (new versions inherit it), in
    its meta.json first so that a rebuild keeps it (never a silent return to the
    default): a store failure is a 503 and changes nothing."""
    min_entities = parse_min_entities(body)
    versions = _versions_or_404(services, owner_id, dataset_id)
    setting = {"minEntities": min_entities}
    try:
        for version in versions:
            lifecycle.update_meta(services, version, disclosure=setting)
    except Exception as error:
        log.exception("disclosure not stored", extra={"dataset": dataset_id})
        raise ServiceUnavailable("File storage is unavailable; try again.") from error
    services.mongo[repository.DATASETS].update_many(
        {"userId": owner_id, "datasetId": dataset_id},
        {"$set": {"disclosure": setting}},
    )
    services.audit(
        "disclosure_update", user_id=owner_id, resource=f"dataset:{dataset_id}",
        details={"minEntities": min_entities},
    )  # fmt: skip
    return get_disclosure(services, owner_id, dataset_id)
