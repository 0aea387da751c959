"""Reports in the UI: the *Report* button of the analysis and KPI views, and the
/reports page listing the user's reports (status, size, downloads) and schedules."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from components.formatting import format_count, format_timestamp
from components.widgets import aria, empty_state, icon

PREFIX = "reports"
STATUS_COLOURS = {"queued": "secondary", "running": "info", "done": "success",
                  "failed": "danger"}  # fmt: skip
PAGE_WORDS = {"analysis": "Analysis", "kpi": "KPI"}


class ids:  # noqa: N801 - a namespace of component ids, read as ids.LIST
    """Component ids of the report button and the /reports page."""

    BUTTON = f"{PREFIX}-button"  # pattern-matching: {"type": BUTTON, "page": p}
    BUTTON_STATUS = f"{PREFIX}-button-status"  # same keys
    LIST = f"{PREFIX}-list"
    SCHEDULES = f"{PREFIX}-schedules"
    POLL = f"{PREFIX}-poll"
    REFRESH = f"{PREFIX}-refresh"


def report_button(page: str) -> html.Div:
    """*Report* (PDF of exactly this view) with a polite status line beside it."""
    return html.Div(
        [
            html.Button(
                [icon("file-earmark-pdf"), "Report"],
                id={"type": ids.BUTTON, "page": page},
                type="button",
                title="Generate a PDF report of exactly this view",
                className="btn btn-outline-primary btn-sm ib-report-button",
            ),
            html.Span(
                id={"type": ids.BUTTON_STATUS, "page": page},
                role="status",
                className="small ms-2 ib-report-status",
            ),
        ],
        className="d-inline-flex align-items-center",
    )


def queued_message(report: dict) -> list:
    """What the button says once a report is queued (or already done)."""
    word = "ready" if report["status"] == "done" else "being generated"
    return [f"Report {word}: ", dcc.Link("open Reports", href="/reports")]


def reports_page() -> html.Div:
    """The /reports page: the list refreshes itself while a report is in flight."""
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Reports", className="h3 mb-0"),
                    html.Button(
                        [icon("arrow-clockwise"), "Refresh"],
                        id=ids.REFRESH,
                        type="button",
                        className="btn btn-outline-secondary btn-sm",
                    ),
                ],
                className="d-flex justify-content-between align-items-center mb-3",
            ),
            html.P(
                "PDF and HTML reports of your analysis and KPI views. Use Report "
                "on a view to make one; downloads are for your account only.",
                className="text-muted",
            ),
            html.Div(id=ids.LIST, **aria(live="polite")),
            html.H2("Scheduled reports", className="h5 mt-4"),
            html.Div(id=ids.SCHEDULES),
            dcc.Interval(id=ids.POLL, interval=2000, disabled=False),
        ]
    )


def _status_badge(report: dict):
    text = report["status"]
    if report["status"] == "running":
        text = f"running {report['progress']}%"
    return dbc.Badge(text, color=STATUS_COLOURS[report["status"]], className="me-1")


def _size(report: dict) -> str:
    size = report.get("sizeBytes") or 0
    return f"{format_count(max(1, round(size / 1024)))} KB" if size else "—"


def _downloads(report: dict) -> list:
    links: list = []
    for fmt, url in (report.get("downloads") or {}).items():
        links.append(
            html.A(
                [icon("download"), fmt.upper()],
                href=url,
                className="btn btn-link btn-sm p-0 me-2",
                title=f"Download the {fmt.upper()} of {report.get('title') or 'it'}",
            )
        )
    if report["status"] == "failed":
        links.append(
            html.Span(report.get("error") or "", className="small text-danger")
        )
    return links


def report_row(report: dict) -> html.Tr:
    """One report in the list."""
    title = report.get("title") or f"{PAGE_WORDS[report['page']]} report"
    return html.Tr(
        [
            html.Td(title),
            html.Td(PAGE_WORDS[report["page"]]),
            html.Td(format_timestamp(report["createdAt"], "hour")),
            html.Td(_status_badge(report)),
            html.Td(_size(report), className="text-end"),
            html.Td(_downloads(report)),
        ]
    )


def header_row(names: list[str]) -> html.Thead:
    """A table head with column headers."""
    return html.Thead(html.Tr([html.Th(name, scope="col") for name in names]))


def reports_table(reports: list[dict]):
    """The user's reports, newest first (or the first-visit state)."""
    if not reports:
        return empty_state(
            "file-earmark-pdf",
            "No reports yet",
            "Open an analysis or KPI view and choose Report.",
            dcc.Link("Your datasets", href="/datasets", className="btn btn-primary"),
            spacing="py-4",
        )
    head = header_row(
        ["Report", "View", "Requested (UTC)", "Status", "Size", "Download"]
    )
    body = html.Tbody([report_row(report) for report in reports])
    return html.Table(
        [html.Caption("Your reports", className="visually-hidden"), head, body],
        className="table table-sm align-middle",
    )


def schedules_table(schedules: list[dict]):
    """The user's schedules (created through POST /api/reports/schedules)."""
    if not schedules:
        return html.P(
            "No scheduled reports. POST /api/reports/schedules delivers a view "
            "daily or weekly as PDF by e-mail.",
            className="text-muted small",
        )
    rows = [
        html.Tr([
            html.Td(PAGE_WORDS[s["page"]]),
            html.Td(f"{s['frequency']}{' ' + s['weekday'] if s['weekday'] else ''} "
                    f"at {s['time']} {s['timezone']}"),
            html.Td(", ".join(s["recipients"])),
            html.Td(format_timestamp(s["nextRunAt"], "hour")),
            html.Td(s.get("lastError") or "—"),
        ])
        for s in schedules
    ]  # fmt: skip
    head = header_row(["View", "When", "Recipients", "Next (UTC)", "Last problem"])
    return html.Table(
        [html.Caption("Your scheduled reports", className="visually-hidden"), head,
         html.Tbody(rows)],
        className="table table-sm align-middle",
    )  # fmt: skip
