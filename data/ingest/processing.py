"""Process one stored version into records and roll-ups (the background job).

Atomic visibility: a run first *claims* the version (status uploaded -> processing,
revision + 1), deletes whatever earlier runs left for that version, writes records
chunk by chunk while the status stays `processing`, writes the roll-ups batch by
batch, removes any leftovers of older revisions, and only then sets `processed`.
Readers only read processed/cached versions, so a run killed half-way leaves
nothing visible: the version stays `processing` until its heartbeat goes stale
(Settings.ingest_stale_after_s), after which a reprocess (or the recovery sweep)
claims it again, cleans up and completes. Running a job twice is harmless: the
second claim finds the version already processed and does nothing.

Before each chunk or roll-up batch is written, and again right before the final
cleanup, the run checks that it still owns the version (same revision, still
processing, not deleted); a superseded run stops and removes only what it wrote
itself. The cleanup removes only *older* revisions, so a presumed-dead run that
wakes up late can never remove a newer run's documents.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from data.errors import DomainError, TooLarge, Unprocessable
from data.ingest import repository
from data.ingest.changes import announce
from data.ingest.readers import ReadPlan, SourceStream, batch_frame, read_chunks
from data.ingest.repository import KPI_ROLLUPS, RECORDS, ROLLUPS
from data.ingest.rollups import RollupAccumulator
from data.ingest.transform import (
    MAX_REPORTED_ERRORS,
    Converted,
    ConvertPlan,
    convert_chunk,
    record_documents,
)
from data.kpi.identity import dataset_secret
from data.kpi.measures import usable_columns
from data.kpi.rollups import KpiRollupAccumulator, measure_inputs
from data.services import Services

log = logging.getLogger(__name__)
INTERNAL_ERROR = "Processing failed because of an internal error; try reprocessing."


class Superseded(Exception):
    """Another run (a reprocess) or a delete took the version over."""


def stale_before(settings) -> dt.datetime:
    """Heartbeats older than this belong to runs that died."""
    return repository.now() - dt.timedelta(seconds=settings.ingest_stale_after_s)


@dataclass
class RunTotals:
    """Counts kept while a run reads the file."""

    rows: int = 0
    accepted: int = 0
    bad: int = 0
    errors: list[dict] = field(default_factory=list)

    def add(self, converted: Converted) -> None:
        """Count a chunk; keep the first reported errors."""
        self.rows += converted.total
        self.accepted += len(converted.rows)
        self.bad += converted.bad
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors.extend(converted.errors[: max(room, 0)])

    def summary(self) -> dict:
        """The counts as dataset document fields."""
        return {
            "rowCount": self.accepted,
            "skippedRows": self.bad,
            "rowErrors": self.errors,
        }


def process_version(
    services: Services, owner_id: str, dataset_id: str, version: int
) -> str:
    """Claim and process one version; returns processed/failed/skipped/superseded."""
    db = services.mongo
    doc_id = repository.version_id(dataset_id, version)
    document = repository.claim(db, owner_id, doc_id, stale_before(services.settings))
    if document is None:
        return "skipped"
    revision = document["revision"]
    announce(services, dataset_id, version, revision, "processing")
    repository.delete_older_revisions(db, dataset_id, version, revision)
    # An append that died before its commit may have used this revision number.
    repository.delete_version_data(db, dataset_id, version, revision)
    totals = RunTotals()
    try:
        final = ingest(services, document, totals)
    except Superseded:
        repository.delete_version_data(db, dataset_id, version, revision)
        return "superseded"
    except DomainError as error:
        return _fail(services, document, error.message, totals)
    except Exception:
        log.exception("ingest failed", extra={"dataset": doc_id, "revision": revision})
        return _fail(services, document, INTERNAL_ERROR, totals)
    if not repository.finish(db, doc_id, revision, final):
        repository.delete_version_data(db, dataset_id, version, revision)
        return "superseded"
    announce(services, dataset_id, version, revision, "processed")
    after_processing(services, owner_id, dataset_id, version)
    if repository.find_version(db, owner_id, dataset_id, version, "cached"):
        announce(services, dataset_id, version, revision, "cached")
    return "processed"


def _ids(document: dict) -> tuple[str, int, int]:
    return document["datasetId"], document["version"], document["revision"]


def _fail(services: Services, document: dict, message: str, totals: RunTotals) -> str:
    db = services.mongo
    dataset_id, version = document["datasetId"], document["version"]
    repository.delete_version_data(db, dataset_id, version, document["revision"])
    fields = {**totals.summary(), "rowCount": 0}
    repository.fail(db, document["_id"], document["revision"], message, fields)
    announce(services, *_ids(document), "failed")
    return "failed"


def ingest(services: Services, document: dict, totals: RunTotals) -> dict:
    """Read the stored file, write records and roll-ups; return the final fields."""
    settings, db = services.settings, services.mongo
    read_plan, convert_plan = plans(document, settings)
    ids = _ids(document)
    sink = VersionSink(db, document, lambda: announce(services, *ids, "processing"))
    kpi = kpi_accumulator(document, convert_plan)
    appended = appended_batches(services, document, read_plan, convert_plan)
    with contextlib.closing(services.store.open(document["objectKey"])) as raw:
        stream = _source_stream(raw, document, settings)
        write_version(
            stream, read_plan, convert_plan, sink, totals, settings, kpi, appended
        )
    sink.progress(totals, document["sizeBytes"])  # still ours, right before cleanup
    dataset_id, version = document["datasetId"], document["version"]
    repository.delete_older_revisions(db, dataset_id, version, document["revision"])
    progress = {"rowsDone": totals.rows, "rowsTotal": totals.rows}
    return {**totals.summary(), "progress": progress, "timeRange": kpi.time_range()}


class Sink(Protocol):
    """Where write_version puts documents (VersionSink; the bench writes nowhere)."""

    ids: tuple[str, int, int]

    def progress(self, totals: RunTotals, bytes_read: int) -> None:
        """Report progress (and check the run still owns the version)."""

    def insert(self, collection: str, documents: list[dict]) -> None:
        """Store one batch."""


class VersionSink:
    """Where a run's documents go: MongoDB, with an ownership check (heartbeat)
    before every write. The benchmark passes a sink that writes nowhere."""

    def __init__(self, db, document: dict, on_progress=None) -> None:
        self.db = db
        self.document = document
        self.ids: tuple[str, int, int] = (
            document["datasetId"],
            document["version"],
            document["revision"],
        )
        self.on_progress = on_progress

    def progress(self, totals: RunTotals, bytes_read: int) -> None:
        """Heartbeat; raises Superseded when another run or a delete took over."""
        _heartbeat(self.db, self.document, totals, bytes_read)
        if self.on_progress is not None:
            self.on_progress()

    def insert(self, collection: str, documents: list[dict]) -> None:
        """Bulk-insert one batch."""
        repository.insert_many(self.db, collection, documents)


def write_version(
    stream: SourceStream,
    read_plan: ReadPlan,
    convert_plan: ConvertPlan,
    sink: Sink,
    totals: RunTotals,
    settings,
    kpi: KpiRollupAccumulator | None = None,
    appended: Iterable[tuple[Converted, int]] = (),
) -> None:
    """Parse the stream in chunks into record documents, then the appended batches
    (converted, seq) in order, then roll-ups and KPI roll-ups in batches (never all
    at once: 1M rows by the minute make 200,000 hourly roll-ups)."""
    rollups = rollup_accumulator(convert_plan)
    source = (
        (convert_chunk(frame, convert_plan), None)
        for frame in read_chunks(stream, read_plan)
    )
    for converted, seq in itertools.chain(source, appended):
        totals.add(converted)
        _check_row_limit(totals, settings.max_rows)
        sink.progress(totals, stream.bytes_read)
        documents = record_documents(*sink.ids, converted, append_seq=seq)
        sink.insert(RECORDS, documents)
        rollups.add(converted)
        if kpi is not None:
            kpi.add(converted)
    _check_bad_rows(totals, settings.max_bad_row_fraction)
    flush_rollups(sink, rollups, kpi, lambda: sink.progress(totals, stream.bytes_read))


def rollup_accumulator(plan: ConvertPlan) -> RollupAccumulator:
    """The analysis roll-ups of the plan's metrics and dimensions."""
    return RollupAccumulator(
        [key for _, key, _ in plan.metrics], [key for _, key in plan.dimensions]
    )


def flush_rollups(sink, rollups, kpi, beat: Callable[[], None]) -> None:
    """Write both kinds of roll-ups in batches, checking ownership before each."""
    for collection, source in ((ROLLUPS, rollups), (KPI_ROLLUPS, kpi)):
        for batch in source.batches(*sink.ids) if source is not None else ():
            beat()
            sink.insert(collection, batch)


def appended_batches(
    services: Services, document: dict, read_plan: ReadPlan, plan: ConvertPlan
) -> Iterator[tuple[Converted, int]]:
    """The version's committed appended batches, converted, in order (read from
    the object store one at a time)."""
    entries = repository.committed_appends(
        services.mongo,
        document["datasetId"],
        document["version"],
        document.get("appendCount", 0),
    )
    for entry in entries:
        payload = json.loads(services.store.get(entry["objectKey"]))
        frame = batch_frame(payload["records"], read_plan)
        yield convert_chunk(frame, plan), entry["seq"]


def kpi_accumulator(document: dict, plan: ConvertPlan) -> KpiRollupAccumulator:
    """The KPI roll-ups of the version's stored measures."""
    columns = usable_columns(
        document["columns"], document["metricColumns"], document["dimensionColumns"]
    )
    inputs = measure_inputs(document.get("measures") or [], columns)
    return KpiRollupAccumulator(inputs, [key for _, key in plan.dimensions])


def _source_stream(raw, document: dict, settings) -> SourceStream:
    line_limit = None if document["format"] == "json" else settings.max_line_kb * 1024
    return SourceStream(raw, document["parse"]["encoding"], line_limit)


def plans(document: dict, settings) -> tuple[ReadPlan, ConvertPlan]:
    """How to read and convert a version, from its stored schema."""
    columns = {column["name"]: column for column in document["columns"]}
    decimals = document["parse"].get("decimals", {})

    def key(name: str) -> str:
        return columns[name]["key"]

    metrics = [
        (n, key(n), decimals.get(key(n), ".")) for n in document["metricColumns"]
    ]
    dims = [(name, key(name)) for name in document["dimensionColumns"]]
    ids = [
        (c["name"], c["key"]) for c in document["columns"] if c["role"] == "identifier"
    ]
    time = (document["timeColumn"], key(document["timeColumn"]))
    keep = [time[1], *(k for _, k, _ in metrics), *(k for _, k in dims)]
    keep += [k for _, k in ids]
    read_plan = ReadPlan(
        kind=document["format"],
        delimiter=document["parse"].get("delimiter"),
        names=document["parse"]["fields"],
        keys=[column["key"] for column in document["columns"]],
        keep=keep,
        numeric_keys=[k for _, k, decimal in metrics if decimal == "."],
        category_keys=tuple(k for _, k in dims),
        date_key=time[1],
        date_format=document["parse"]["timeFormat"],
        chunk_rows=settings.ingest_chunk_rows,
        max_value_bytes=settings.max_line_kb * 1024,
    )
    convert_plan = ConvertPlan(
        time,
        document["parse"]["timeFormat"],
        metrics,
        dims,
        len(document["columns"]),
        identifiers=ids,
        identifier_secret=dataset_secret(settings.secret_key, document["datasetId"]),
    )
    return read_plan, convert_plan


def _check_row_limit(totals: RunTotals, max_rows: int) -> None:
    if totals.rows > max_rows:
        raise TooLarge(f"The file has more than {max_rows:,} rows, the limit.")


def _check_bad_rows(totals: RunTotals, max_fraction: float) -> None:
    if totals.rows and totals.bad > max_fraction * totals.rows:
        share = 100 * totals.bad / totals.rows
        first = "; ".join(error["message"] for error in totals.errors[:3])
        raise Unprocessable(
            f"{totals.bad:,} of {totals.rows:,} rows ({share:.1f}%) have errors, "
            f"more than the {100 * max_fraction:g}% allowed. First: {first}."
        )
    if not totals.accepted:
        raise Unprocessable("The file has no data rows.")


def _heartbeat(db, document: dict, totals: RunTotals, bytes_read: int) -> None:
    size = max(document["sizeBytes"], 1)
    done = min(bytes_read, size)
    estimate = round(totals.rows * size / done) if done else None
    progress = {
        "rowsDone": totals.rows,
        "rowsTotal": max(estimate or 0, totals.rows),
        "bytesDone": done,
        "bytesTotal": size,
    }
    if not repository.heartbeat(db, document["_id"], document["revision"], progress):
        raise Superseded(document["_id"])


AFTER_PROCESSING = "ingest.after_processing"
AfterProcessing = Callable[[Services, str, str, int], object]


def set_after_processing(services: Services, *hooks: AfterProcessing) -> None:
    """Wire the steps that follow processing, run in order (the factory: warm the
    default view, then evaluate the dataset's alert rules)."""
    services.extensions[AFTER_PROCESSING] = hooks


def after_processing(services: Services, owner_id: str, dataset_id: str, version: int):
    """Run the wired after-processing steps, each on its own; never fail ingest."""
    for hook in services.extensions.get(AFTER_PROCESSING, ()):
        try:
            hook(services, owner_id, dataset_id, version)
        except Exception:
            log.exception(
                "an after-processing step failed",
                extra={"dataset": dataset_id, "step": getattr(hook, "__name__", "")},
            )
