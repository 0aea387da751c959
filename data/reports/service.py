"""Reports of one view: requested, generated in the background, stored, listed.

The numbers come from the same functions the API serves: the analysis view from
data.analytics.get_view, the KPI view from data.kpi.service.get_kpi (cached views
are reused). Rendering (static images, HTML, PDF) belongs to the presentation
layer: the factory wires a renderer with set_renderer, called by the job as
`renderer(page, view, formats, context) -> {format: bytes}`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from collections.abc import Callable, Mapping

from data import report_records as records
from data.analytics import get_view, load_dataset, parse_params
from data.errors import DomainError, NotFound, ValidationFailed
from data.ingest import lifecycle
from data.ingest.jobs import register_task
from data.kpi.params import parse_kpi_query
from data.kpi.service import choose_slice, chosen_measures, get_kpi
from data.services import Services

log = logging.getLogger(__name__)
PAGES = ("analysis", "kpi")
FORMATS = ("pdf", "html")
MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}
RENDERER = "reports.renderer"
TASK = "reports.generate"
REQUEST_FIELDS = ("datasetId", "version", "page", "params", "formats")
Renderer = Callable[[str, dict, tuple[str, ...], dict], dict[str, bytes]]


def set_renderer(services: Services, renderer: Renderer) -> None:
    """Wire the function that turns a view into files (the factory calls this)."""
    services.extensions[RENDERER] = renderer


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field})


def _version(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail("version", "version must be a whole number, 1 or more.")
    return value


def _formats(value) -> tuple[str, ...]:
    if value is None:
        return ("pdf",)
    if not isinstance(value, list) or not value:
        raise _fail("formats", "formats must be a non-empty list of: pdf, html.")
    for item in value:
        if item not in FORMATS:
            raise _fail(
                "formats", f"Unknown format {str(item)[:20]!r}; valid: pdf, html."
            )
    return tuple(dict.fromkeys(value))


def parse_request(body: Mapping) -> dict:
    """The report request's fields, checked (400 naming the field)."""
    unknown = [key for key in body if key not in REQUEST_FIELDS]
    if unknown:
        raise _fail(
            str(unknown[0]),
            f"Unknown field {str(unknown[0])[:40]!r}; valid: "
            f"{', '.join(REQUEST_FIELDS)}.",
        )
    dataset_id = body.get("datasetId")
    if not isinstance(dataset_id, str) or not dataset_id:
        raise _fail("datasetId", "datasetId is required.")
    page = body.get("page", "analysis")
    if page not in PAGES:
        raise _fail("page", f"page must be one of: {', '.join(PAGES)}.")
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise _fail("params", "params must be an object of the view's parameters.")
    return {
        "dataset_id": dataset_id,
        "version": _version(body.get("version")),
        "page": page,
        "params": params,
        "formats": _formats(body.get("formats")),
    }


def check_view(services: Services, owner_id: str, request: dict) -> None:
    """Refuse a view that could not be computed: unknown dataset (404), version not
    ready (409), bad parameters (400), before anything is queued."""
    if request["page"] == "analysis":
        dataset = load_dataset(
            services, owner_id, request["dataset_id"], request["version"]
        )
        parse_params(request["params"], dataset)
        return
    query = parse_kpi_query(_kpi_raw(request))
    dataset = load_dataset(services, owner_id, request["dataset_id"], query.version)
    chosen_measures(dataset, query)
    choose_slice(dataset, query)


def _kpi_raw(request: dict) -> dict:
    raw = {key: value for key, value in request["params"].items() if key != "version"}
    if request["version"] is not None:
        raw["version"] = str(request["version"])
    return raw


def compute_view(services: Services, owner_id: str, request: dict) -> dict:
    """The view the report shows, from the same service functions as the API."""
    if request["page"] == "analysis":
        return get_view(
            services,
            owner_id,
            request["dataset_id"],
            request["params"],
            request["version"],
        )
    return get_kpi(services, owner_id, request["dataset_id"], _kpi_raw(request))


def request_report(
    services: Services, owner_id: str, request: dict, schedule_id=None
) -> dict:
    """Check the view, create the report (queued) and submit its generation."""
    check_view(services, owner_id, request)
    row = records.insert_report(
        services, {**request, "owner_id": owner_id, "schedule_id": schedule_id}
    )
    lifecycle.runner_of(services).submit_task(TASK, str(row["id"]))
    # Read again: an inline runner has already finished it.
    return report_view(records.report_by_id(services, str(row["id"])) or row)


def _request_of(row: dict) -> dict:
    return {
        "dataset_id": row["dataset_id"],
        "version": row["version"],
        "page": row["page"],
        "params": row["params"],
        "formats": tuple(row["formats"]),
    }


def generate(services: Services, report_id: str) -> str:
    """The background job: compute the view, render each format, store the files.
    Returns the final status; a failure is stored with its reason."""
    row = records.report_by_id(services, report_id)
    if row is None or row["status"] not in ("queued", "running"):
        return "gone" if row is None else row["status"]
    started = time.perf_counter()
    records.update_report(
        services, report_id, status="running", progress=5, started_at=_now()
    )
    try:
        files, title = _render_and_store(services, row, started)
    except Exception as error:
        _record_failure(services, report_id, error)
        return "failed"
    records.update_report(
        services,
        report_id,
        status="done",
        progress=100,
        files=files,
        title=title,
        size_bytes=sum(item["size"] for item in files.values()),
        generation_ms=round(1000 * (time.perf_counter() - started)),
        finished_at=_now(),
    )
    return "done"


def _render_and_store(services: Services, row: dict, started: float):
    report_id = str(row["id"])
    request = _request_of(row)
    view = compute_view(services, str(row["owner_id"]), request)
    records.update_report(services, report_id, progress=30)
    context = {"reportId": report_id, "started": started}
    rendered = services.extensions[RENDERER](
        row["page"], view, request["formats"], context
    )
    records.update_report(services, report_id, progress=85)
    _refuse_oversized(services, rendered)
    files = {}
    for fmt, content in rendered.items():
        key = records.object_key(
            str(row["owner_id"]), row["dataset_id"], report_id, fmt
        )
        services.store.put(key, io.BytesIO(content))
        files[fmt] = {"key": key, "size": len(content)}
    return files, _title(row["page"], view)


def _refuse_oversized(services: Services, rendered: dict[str, bytes]) -> None:
    limit_kb = services.settings.report_max_kb
    for fmt, content in rendered.items():
        if len(content) > limit_kb * 1024:
            raise ValidationFailed(
                f"The {fmt.upper()} file ({len(content) // 1024:,} KB) is larger "
                f"than the report limit of {limit_kb:,} KB (REPORT_MAX_KB); narrow "
                "the period or the filters."
            )


def _record_failure(services: Services, report_id: str, error: Exception) -> None:
    if isinstance(error, DomainError):
        message = str(error)
    else:
        log.exception("report generation failed", extra={"report": report_id})
        message = "The report could not be generated (an internal error, logged)."
    records.update_report(
        services, report_id, status="failed", error=message, finished_at=_now()
    )


def _title(page: str, view: dict) -> str:
    name = view["dataset"]["name"]
    return f"{'KPI' if page == 'kpi' else 'Analysis'} report: {name}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def report_view(row: dict, links: Callable | None = None) -> dict:
    """A report as the API shows it; `links(row, fmt)` makes download links."""
    files = row.get("files") or {}
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "progress": row["progress"],
        "error": row["error"],
        "datasetId": row["dataset_id"],
        "version": row["version"],
        "page": row["page"],
        "params": row["params"],
        "formats": list(row["formats"]),
        "title": row["title"],
        "sizeBytes": row["size_bytes"],
        "files": {fmt: {"sizeBytes": item["size"]} for fmt, item in files.items()},
        "downloads": {fmt: links(row, fmt) for fmt in files} if links else {},
        "generationMs": row["generation_ms"],
        "scheduleId": str(row["schedule_id"]) if row["schedule_id"] else None,
        "createdAt": _iso(row["created_at"]),
        "finishedAt": _iso(row["finished_at"]),
    }


def list_reports(services: Services, owner_id: str, links=None) -> list[dict]:
    """The owner's reports, newest first."""
    rows = records.owner_reports(services, owner_id)
    return [report_view(row, links) for row in rows]


def get_report_row(services: Services, owner_id: str, report_id: str) -> dict:
    """The owner's report row (404 for another user's or a missing one)."""
    row = records.find_report(services, owner_id, report_id)
    if row is None:
        raise NotFound("No such report.")
    return row


def report_file(services: Services, row: dict, fmt: str) -> bytes:
    """The stored bytes of one format of a finished report (404 when absent)."""
    stored = (row.get("files") or {}).get(fmt)
    if stored is None:
        raise NotFound(
            f"This report has no {fmt[:10]!r} file (status {row['status']}; "
            f"formats: {', '.join(row.get('files') or {}) or 'none yet'})."
        )
    return services.store.get(stored["key"])


def delete_report(services: Services, owner_id: str, report_id: str) -> None:
    """Delete the owner's report and its files."""
    records.delete_report(services, get_report_row(services, owner_id, report_id))


register_task(TASK, generate)
