"""The analysis page's messages and words: what it says when a view cannot be
shown (processing, failed, gone, no metric, refused settings), the table's count,
the chart's subtitle and the methods' short names. Pure: data in, text or
components out."""

from __future__ import annotations

from dash import html

from components import figures, widgets
from data.analytics import spec
from data.errors import DomainError, Unprocessable


def no_metric():
    """The dataset has no numeric column to analyse."""
    return widgets.message_alert(
        "No numeric column to analyse",
        "This dataset has no metric column. Upload a version with at "
        "least one numeric column (such as revenue or orders).",
        "warning",
        "123",
    )


def processing_message(version: dict):
    """'Still processing' with the rows done so far; the page polls until ready."""
    progress = version.get("progress") or {}
    done, total = progress.get("rowsDone") or 0, progress.get("rowsTotal") or 0
    percent = round(100 * done / total) if total else 0
    counted = f"{done:,} of {total:,} rows so far" if total else f"{done:,} rows so far"
    return html.Div(
        [
            widgets.message_alert(
                "This dataset is still being processed",
                f"Version {version['version']}: {counted}. The analysis appears "
                "here as soon as it is ready.",
                "info",
                "hourglass-split",
            ),
            html.Div(
                widgets.progress_bar(percent, "Rows processed", "1.25rem"),
                className="mb-3",
            ),
        ]
    )


def failed_message(version: dict):
    """Processing failed, with the reason the service recorded."""
    return widgets.message_alert(
        "Processing this dataset failed",
        f"{version.get('error') or 'The file could not be processed.'} "
        "Fix the file and upload it as a new version, or reprocess it from the "
        "Datasets page.",
        "danger",
        "exclamation-octagon",
    )


def dataset_gone():
    """The dataset no longer exists (or never belonged to this user)."""
    return widgets.message_alert(
        "Dataset not found",
        "It may have been deleted. Go back to your datasets to pick another one.",
        "secondary",
        "search",
    )


def analysis_problem(error: DomainError):
    """Specific advice for a view the service could not compute."""
    if isinstance(error, Unprocessable) and "limit" in error.details:
        return widgets.message_alert(
            "Too many points for this view",
            error.message,
            "warning",
            "exclamation-triangle",
        )
    if isinstance(error, Unprocessable):
        return widgets.message_alert(
            "Not enough data for this analysis",
            f"{error.message} Try a finer granularity, a wider date range, fewer "
            "filters or another detection method.",
            "warning",
            "exclamation-triangle",
        )
    return widgets.message_alert(
        "These settings cannot be used",
        f"{error.message} Adjust the highlighted setting or reset the view.",
        "warning",
        "sliders",
    )


def count_text(found: int, flagged: int) -> str:
    """'3 found' (episodes), '2 found (14 points)' when episodes group points."""
    if not found:
        return "none found"
    return f"{found} found" + (f" ({flagged} points)" if flagged != found else "")


def methods_text(methods: list[str]) -> str:
    """The agreeing methods in the table's short words."""
    return ", ".join(spec.short_label("method", m) for m in methods)


def chart_subtitle(view: dict) -> str:
    """What the chart shows, in words: 'Daily sum of revenue · 27 points · …'."""
    params = view["params"]
    band = figures.band_k(view)
    return (
        f"{figures.plotted_quantity(view)} · "
        f"{len(view.get('series') or []):,} points · rolling mean of "
        f"{params['window']} with a ±{band:g}σ band · click a marker for details"
    )
