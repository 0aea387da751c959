"""PostgreSQL rows of reports and report schedules, and their stored files.

Every read and write filters by `owner_id`: another user's report is simply not
found. Files live in the object store under keys the server makes,
`reports/<ownerId>/<datasetId>/<reportId>.<format>`, so deleting a dataset can
remove its reports by prefix (data.datasets.delete_dataset calls forget_dataset).
This module sits below data.datasets: it knows rows and keys, not views.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

from data.errors import ServiceUnavailable
from data.services import Services

log = logging.getLogger(__name__)
REPORT_COLUMNS = (
    "id, owner_id, dataset_id, version, page, params, formats, status, progress, "
    "error, files, size_bytes, title, generation_ms, schedule_id, created_at, "
    "started_at, finished_at"
)
SCHEDULE_COLUMNS = (
    "id, owner_id, dataset_id, version, page, params, frequency, weekday, "
    "time_of_day, timezone, period, recipients, next_run_at, last_run_at, "
    "last_report_id, last_error, created_at"
)
UPDATABLE = {
    "status",
    "progress",
    "error",
    "files",
    "size_bytes",
    "title",
    "generation_ms",
    "started_at",
    "finished_at",
}


def valid_id(value: str) -> str | None:
    """The canonical form of a UUID string, or None when it is not one."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def object_key(owner_id: str, dataset_id: str, report_id: str, fmt: str) -> str:
    """Where one file of a report is stored (chosen by the server, never a client)."""
    return f"reports/{owner_id}/{dataset_id}/{report_id}.{fmt}"


def _rows(cursor) -> list[dict]:
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def insert_report(services: Services, fields: dict) -> dict:
    """Create a queued report row; returns it."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            "INSERT INTO reports (owner_id, dataset_id, version, page, params, "
            "formats, schedule_id) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            f"RETURNING {REPORT_COLUMNS}",
            (
                fields["owner_id"],
                fields["dataset_id"],
                fields.get("version"),
                fields["page"],
                json.dumps(fields["params"]),
                list(fields["formats"]),
                fields.get("schedule_id"),
            ),
        )
        return _rows(cursor)[0]


def update_report(services: Services, report_id: str, **changes) -> None:
    """Set some columns of a report (status, progress, files, ...)."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = [json.dumps(v) if k == "files" else v for k, v in changes.items()]
    assignments = ", ".join(f"{name} = %s" for name in changes)
    with services.postgres.transaction() as cursor:
        cursor.execute(
            f"UPDATE reports SET {assignments} WHERE id = %s", (*values, report_id)
        )


def find_report(services: Services, owner_id: str, report_id: str) -> dict | None:
    """The owner's report, or None (also for a malformed id)."""
    canonical = valid_id(report_id)
    if canonical is None:
        return None
    with services.postgres.transaction() as cursor:
        cursor.execute(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = %s AND owner_id = %s",
            (canonical, owner_id),
        )
        rows = _rows(cursor)
    return rows[0] if rows else None


def report_by_id(services: Services, report_id: str) -> dict | None:
    """A report by id alone: for the background job, which was given the id."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = %s", (report_id,)
        )
        rows = _rows(cursor)
    return rows[0] if rows else None


def owner_reports(services: Services, owner_id: str, limit: int = 200) -> list[dict]:
    """The owner's reports, newest first."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE owner_id = %s "
            "ORDER BY created_at DESC, id LIMIT %s",
            (owner_id, limit),
        )
        return _rows(cursor)


def delete_report(services: Services, report: dict) -> None:
    """Remove a report's files, then its row."""
    for stored in (report.get("files") or {}).values():
        services.store.delete(stored["key"])
    with services.postgres.transaction() as cursor:
        cursor.execute(
            "DELETE FROM reports WHERE id = %s AND owner_id = %s",
            (str(report["id"]), str(report["owner_id"])),
        )


def forget_dataset(services: Services, owner_id: str, dataset_id: str) -> int:
    """Delete a dataset's reports (files and rows) and schedules; returns how many
    reports went. Called when the dataset is deleted."""
    try:
        services.store.delete_prefix(f"reports/{owner_id}/{dataset_id}/")
    except Exception as error:
        log.exception("report files not deleted", extra={"dataset": dataset_id})
        raise ServiceUnavailable("File storage is unavailable; try again.") from error
    if valid_id(owner_id) is None:
        return 0  # owners are account UUIDs: nothing can be stored for another id
    with services.postgres.transaction() as cursor:
        cursor.execute(
            "DELETE FROM report_schedules WHERE owner_id = %s AND dataset_id = %s",
            (owner_id, dataset_id),
        )
        cursor.execute(
            "DELETE FROM reports WHERE owner_id = %s AND dataset_id = %s",
            (owner_id, dataset_id),
        )
        return cursor.rowcount


def insert_schedule(services: Services, fields: dict) -> dict:
    """Create a schedule row; returns it."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            "INSERT INTO report_schedules (owner_id, dataset_id, version, page, "
            "params, frequency, weekday, time_of_day, timezone, period, recipients, "
            "next_run_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            f"RETURNING {SCHEDULE_COLUMNS}",
            (
                fields["owner_id"],
                fields["dataset_id"],
                fields.get("version"),
                fields["page"],
                json.dumps(fields["params"]),
                fields["frequency"],
                fields.get("weekday"),
                fields["time_of_day"],
                fields["timezone"],
                fields["period"],
                list(fields["recipients"]),
                fields["next_run_at"],
            ),
        )
        return _rows(cursor)[0]


def owner_schedules(services: Services, owner_id: str) -> list[dict]:
    """The owner's schedules, oldest first."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            f"SELECT {SCHEDULE_COLUMNS} FROM report_schedules WHERE owner_id = %s "
            "ORDER BY created_at, id",
            (owner_id,),
        )
        return _rows(cursor)


def find_schedule(services: Services, owner_id: str, schedule_id: str) -> dict | None:
    """The owner's schedule, or None (also for a malformed id)."""
    canonical = valid_id(schedule_id)
    if canonical is None:
        return None
    with services.postgres.transaction() as cursor:
        cursor.execute(
            f"SELECT {SCHEDULE_COLUMNS} FROM report_schedules "
            "WHERE id = %s AND owner_id = %s",
            (canonical, owner_id),
        )
        rows = _rows(cursor)
    return rows[0] if rows else None


def schedule_by_id(services: Services, schedule_id: str) -> dict | None:
    """A schedule by id alone: for the delivery task, which was given the id."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            f"SELECT {SCHEDULE_COLUMNS} FROM report_schedules WHERE id = %s",
            (schedule_id,),
        )
        rows = _rows(cursor)
    return rows[0] if rows else None


def delete_schedule(services: Services, owner_id: str, schedule_id: str) -> bool:
    """Remove the owner's schedule; False when there was none."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            "DELETE FROM report_schedules WHERE id = %s AND owner_id = %s",
            (schedule_id, owner_id),
        )
        return cursor.rowcount > 0


def claim_due_schedule(services: Services, now: dt.datetime, next_run) -> dict | None:
    """Take one schedule due at `now` and move its next run on (`next_run(row)`),
    in one transaction: replicas ticking together never deliver twice."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            f"SELECT {SCHEDULE_COLUMNS} FROM report_schedules WHERE next_run_at <= %s "
            "ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED",
            (now,),
        )
        rows = _rows(cursor)
        if not rows:
            return None
        cursor.execute(
            "UPDATE report_schedules SET next_run_at = %s, last_run_at = %s "
            "WHERE id = %s",
            (next_run(rows[0]), now, rows[0]["id"]),
        )
        return rows[0]


def record_delivery(
    services: Services, schedule_id, report_id, error: str | None
) -> None:
    """Remember a schedule's last report and what went wrong, if anything."""
    with services.postgres.transaction() as cursor:
        cursor.execute(
            "UPDATE report_schedules SET last_report_id = %s, last_error = %s "
            "WHERE id = %s",
            (report_id, error, schedule_id),
        )
