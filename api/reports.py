"""REST routes: reports of a view (generate, list, show, download, delete). Thin:
read the request, call data.reports, shape the answer."""

from __future__ import annotations

from flask import Response, jsonify, redirect, request, url_for

from api.blueprint import api
from api.openapi import add_path, error_doc, response_doc
from auth.identity import current_user
from auth.validation import read_json_object
from data.errors import NotFound
from data.reports import schedules
from data.reports import service as reports
from data.services import get_services


def download_link(row: dict, fmt: str) -> str:
    """Where a report file is downloaded: a short-lived presigned S3 URL, or the
    authorised route of this app on the local store."""
    services = get_services()
    stored = row["files"][fmt]
    url = services.store.download_url(
        stored["key"],
        services.settings.report_link_ttl_s,
        filename(row, fmt),
        reports.MEDIA_TYPES[fmt],
    )
    return url or url_for("api.download_report_api", report_id=str(row["id"]), fmt=fmt)


def filename(row: dict, fmt: str) -> str:
    """The saved file's name: page, dataset and date (no client-chosen text)."""
    day = row["created_at"].strftime("%Y-%m-%d")
    return f"insightboard-{row['page']}-{row['dataset_id'][:8]}-{day}.{fmt}"


@api.post("/reports/generate")
def generate_report_api():
    """Queue a report of one view; 202 with its id and status."""
    owner_id = current_user().id
    body = read_json_object(request)
    report = reports.request_report(
        get_services(), owner_id, reports.parse_request(body)
    )
    report["downloads"] = _downloads(owner_id, report["id"])
    return jsonify(report), 202


def _downloads(owner_id: str, report_id: str) -> dict:
    row = reports.get_report_row(get_services(), owner_id, report_id)
    return {fmt: download_link(row, fmt) for fmt in row.get("files") or {}}


@api.get("/reports")
def list_reports_api():
    """The caller's reports, newest first."""
    owner_id = current_user().id
    listed = reports.list_reports(get_services(), owner_id, download_link)
    return jsonify({"reports": listed})


@api.get("/reports/<report_id>")
def show_report_api(report_id: str):
    """One report: status, progress, size, download links."""
    services = get_services()
    row = reports.get_report_row(services, current_user().id, report_id)
    return jsonify(reports.report_view(row, download_link))


@api.delete("/reports/<report_id>")
def delete_report_api(report_id: str):
    """Delete a report and its files."""
    reports.delete_report(get_services(), current_user().id, report_id)
    return Response(status=204)


@api.get("/reports/<report_id>/download/<fmt>")
def download_report_api(report_id: str, fmt: str):
    """The file itself (local store), or a redirect to its presigned URL (S3)."""
    services = get_services()
    row = reports.get_report_row(services, current_user().id, report_id)
    if fmt not in reports.FORMATS:
        raise NotFound(f"Unknown format {fmt[:10]!r}; formats: pdf, html.")
    if fmt in (row.get("files") or {}):
        link = services.store.download_url(
            row["files"][fmt]["key"], services.settings.report_link_ttl_s,
            filename(row, fmt), reports.MEDIA_TYPES[fmt],
        )  # fmt: skip
        if link:
            return redirect(link, code=302)
    content = reports.report_file(services, row, fmt)
    return Response(
        content,
        mimetype=reports.MEDIA_TYPES[fmt].split(";")[0],
        headers={
            "Content-Disposition": f'attachment; filename="{filename(row, fmt)}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


NULLABLE_STRING = {"type": "string", "nullable": True}
NULLABLE_INTEGER = {"type": "integer", "nullable": True}
REPORT_SCHEMA = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "error": NULLABLE_STRING,
        "datasetId": {"type": "string"},
        "version": NULLABLE_INTEGER,
        "page": {"type": "string", "enum": list(reports.PAGES)},
        "params": {"type": "object"},
        "formats": {"type": "array", "items": {"type": "string",
                                              "enum": list(reports.FORMATS)}},
        "title": NULLABLE_STRING,
        "sizeBytes": {"type": "integer"},
        "files": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"sizeBytes": {"type": "integer"}}}},
        "downloads": {"type": "object", "description": "format -> URL (a presigned "
                      "S3 URL that expires, or this API's download route)",
                      "additionalProperties": {"type": "string"}},
        "generationMs": NULLABLE_INTEGER,
        "scheduleId": NULLABLE_STRING,
        "createdAt": {"type": "string", "format": "date-time"},
        "finishedAt": {"type": "string", "format": "date-time", "nullable": True},
    },
}  # fmt: skip
REQUEST_SCHEMA: dict = {
    "type": "object",
    "required": ["datasetId"],
    "properties": {
        "datasetId": {"type": "string"},
        "version": {"type": "integer", "minimum": 1},
        "page": {"type": "string", "enum": list(reports.PAGES), "default": "analysis"},
        "params": {
            "type": "object",
            "description": "The view's parameters, as GET /api/analytics/{datasetId} "
            "(analysis; filters as {dimension: [values]}) or GET /api/kpi/{datasetId} "
            "(kpi) take them",
        },
        "formats": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "enum": list(reports.FORMATS)},
            "default": ["pdf"],
        },
    },
}
REPORT_ID = {
    "name": "reportId",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}
UNAUTHORIZED = {"401": error_doc("No valid credential")}
NO_REPORT = {"404": error_doc("No such report (or not yours)")}
add_path("/api/reports/generate", "post", {
    "summary": "Generate a PDF/HTML report of an analysis or KPI view (background)",
    "requestBody": {"required": True,
                    "content": {"application/json": {"schema": REQUEST_SCHEMA}}},
    "responses": {
        "202": response_doc(REPORT_SCHEMA, "Queued (poll GET /api/reports/{reportId})"),
        "400": error_doc("A bad field or view parameter, named with the valid values"),
        **UNAUTHORIZED,
        "404": error_doc("No such dataset (or not yours), or no such version"),
        "409": error_doc("The dataset version is not processed yet"),
        "413": error_doc("The JSON body is too large"),
        "415": error_doc("No JSON body (Content-Type application/json)"),
        "422": error_doc("The view is over a limit (names it)"),
    },
})  # fmt: skip
add_path("/api/reports", "get", {
    "summary": "The caller's reports, newest first",
    "responses": {
        "200": response_doc({"type": "object", "properties": {
            "reports": {"type": "array", "items": REPORT_SCHEMA}}}, "The reports"),
        **UNAUTHORIZED,
    },
})  # fmt: skip
add_path("/api/reports/{reportId}", "get", {
    "summary": "One report: status, progress, size and download links",
    "parameters": [REPORT_ID],
    "responses": {"200": response_doc(REPORT_SCHEMA, "The report"), **UNAUTHORIZED,
                  **NO_REPORT},
})  # fmt: skip
add_path("/api/reports/{reportId}", "delete", {
    "summary": "Delete a report and its files",
    "parameters": [REPORT_ID],
    "responses": {"204": {"description": "Deleted"}, **UNAUTHORIZED, **NO_REPORT},
})  # fmt: skip
add_path("/api/reports/{reportId}/download/{format}", "get", {
    "summary": "Download a report file (local store; on S3 a redirect to a "
    "presigned URL)",
    "parameters": [REPORT_ID, {"name": "format", "in": "path", "required": True,
                               "schema": {"type": "string",
                                          "enum": list(reports.FORMATS)}}],
    "responses": {
        "200": {"description": "The file", "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string"}}}},
        "302": {"description": "To the presigned S3 URL (expires after "
                "REPORT_LINK_TTL_S seconds)"},
        **UNAUTHORIZED,
        "404": error_doc("No such report or format (or not yours), or not ready"),
    },
})  # fmt: skip


@api.post("/reports/schedules")
def create_schedule_api():
    """Deliver a view daily or weekly as PDF by e-mail."""
    owner_id = current_user().id
    body = read_json_object(request)
    return jsonify(schedules.create_schedule(get_services(), owner_id, body)), 201


@api.get("/reports/schedules")
def list_schedules_api():
    """The caller's report schedules."""
    owner_id = current_user().id
    return jsonify({"schedules": schedules.list_schedules(get_services(), owner_id)})


@api.delete("/reports/schedules/<schedule_id>")
def delete_schedule_api(schedule_id: str):
    """Stop a schedule (its reports stay)."""
    schedules.delete_schedule(get_services(), current_user().id, schedule_id)
    return Response(status=204)


SCHEDULE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "datasetId": {"type": "string"},
        "version": NULLABLE_INTEGER,
        "page": {"type": "string", "enum": list(reports.PAGES)},
        "params": {"type": "object"},
        "frequency": {"type": "string", "enum": list(schedules.FREQUENCIES)},
        "weekday": {"type": "string", "nullable": True,
                    "enum": [*schedules.WEEKDAYS, None]},
        "time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
        "timezone": {"type": "string"},
        "period": {"type": "string", "enum": list(schedules.PERIODS)},
        "recipients": {"type": "array", "items": {"type": "string"}},
        "nextRunAt": {"type": "string", "format": "date-time"},
        "lastRunAt": {"type": "string", "format": "date-time", "nullable": True},
        "lastReportId": NULLABLE_STRING,
        "lastError": NULLABLE_STRING,
    },
}  # fmt: skip
SCHEDULE_REQUEST = {
    "type": "object",
    "required": ["datasetId", "frequency", "recipients"],
    "properties": {
        **{key: REQUEST_SCHEMA["properties"][key]
           for key in ("datasetId", "version", "page", "params")},
        "frequency": {"type": "string", "enum": list(schedules.FREQUENCIES)},
        "weekday": {"type": "string", "enum": list(schedules.WEEKDAYS),
                    "description": "Weekly schedules only"},
        "time": {"type": "string", "default": "08:00",
                 "description": "Local time of day, HH:MM"},
        "timezone": {"type": "string", "default": "UTC",
                     "description": "IANA zone, e.g. Europe/Berlin"},
        "period": {"type": "string", "enum": list(schedules.PERIODS),
                   "description": "view: the params' own dates; else the day or "
                   "week (Monday-Sunday) before each delivery"},
        "recipients": {"type": "array", "minItems": 1,
                       "maxItems": schedules.MAX_RECIPIENTS,
                       "items": {"type": "string", "format": "email"}},
    },
}  # fmt: skip
add_path("/api/reports/schedules", "post", {
    "summary": "Schedule a view's PDF by e-mail, daily or weekly (time-zone aware)",
    "requestBody": {"required": True,
                    "content": {"application/json": {"schema": SCHEDULE_REQUEST}}},
    "responses": {
        "201": response_doc(SCHEDULE_SCHEMA, "The schedule, with its next run"),
        "400": error_doc("A bad field or view parameter, named"),
        **UNAUTHORIZED,
        "404": error_doc("No such dataset (or not yours), or no such version"),
        "409": error_doc("The dataset version is not processed yet"),
        "413": error_doc("The JSON body is too large"),
        "415": error_doc("No JSON body (Content-Type application/json)"),
        "422": error_doc("The view is over a limit (names it)"),
    },
})  # fmt: skip
add_path("/api/reports/schedules", "get", {
    "summary": "The caller's report schedules",
    "responses": {
        "200": response_doc({"type": "object", "properties": {
            "schedules": {"type": "array", "items": SCHEDULE_SCHEMA}}},
            "The schedules"),
        **UNAUTHORIZED,
    },
})  # fmt: skip
add_path("/api/reports/schedules/{scheduleId}", "delete", {
    "summary": "Delete a report schedule (its reports stay)",
    "parameters": [{"name": "scheduleId", "in": "path", "required": True,
                    "schema": {"type": "string"}}],
    "responses": {"204": {"description": "Deleted"}, **UNAUTHORIZED,
                  "404": error_doc("No such schedule (or not yours)")},
})  # fmt: skip
