"""Turn a view into report files: chart images (kaleido), HTML, PDF (WeasyPrint).

WeasyPrint rather than Chromium's printing: it lays out the same HTML with CSS
paged media (page size, margins, "Page n of m" footers, no table row cut in
half) in this process, without a second browser tab to drive and keep healthy,
and its PDF keeps the text as text (pdftotext reads it back in the tests).
Chromium is still used, kept warm, for the chart images (components.report.images).
"""

from __future__ import annotations

import time

import weasyprint

from components.figures import box_spec, histogram_spec, timeseries_spec
from components.kpi_figures import breakdown_spec, trend_spec
from components.report import document, images

TIMESERIES_POINTS = 1000  # one per 1 px of the printed chart is plenty


def analysis_charts(view: dict) -> dict[str, bytes]:
    """The analysis view's charts as PNGs, built by the page's own builders."""
    return {
        "timeseries": images.png(timeseries_spec(view, None, TIMESERIES_POINTS), 420),
        "histogram": images.png(histogram_spec(view), 340),
        "box": images.png(box_spec(view), 340),
    }


def kpi_charts(view: dict) -> dict[str, bytes]:
    """The KPI view's trend (and breakdown, when the view has one) as PNGs."""
    trend = trend_spec(view)
    # On paper the legend sits well below the dates (the page's sits closer).
    trend["layout"]["legend"] = {"orientation": "h", "y": -0.3}
    trend["layout"]["margin"] = {**trend["layout"]["margin"], "b": 110}
    charts = {"trend": images.png(trend, 440)}
    breakdown = view.get("breakdown")
    if breakdown and breakdown.get("rows") and view["measures"]:
        charts["breakdown"] = images.png(
            breakdown_spec(breakdown, view["measures"][0]), 340
        )
    return charts


def html_document(page: str, view: dict, context: dict) -> str:
    """The self-contained HTML of a report."""
    started = context.get("started") or time.perf_counter()
    if page == "kpi":
        charts = kpi_charts(view)
        return document.kpi_document(
            view, charts, context, time.perf_counter() - started
        )
    charts = analysis_charts(view)
    return document.analysis_document(
        view, charts, context, time.perf_counter() - started
    )


def pdf_bytes(html: str) -> bytes:
    """The PDF of a report's HTML."""
    return weasyprint.HTML(string=html).write_pdf()


def render_report(
    page: str, view: dict, formats: tuple[str, ...], context: dict
) -> dict[str, bytes]:
    """The renderer the factory wires into data.reports: {format: bytes}."""
    html = html_document(page, view, context)
    files: dict[str, bytes] = {}
    if "pdf" in formats:
        files["pdf"] = pdf_bytes(html)
    if "html" in formats:
        files["html"] = html.encode("utf-8")
    return files
