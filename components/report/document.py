"""The report as one self-contained HTML document (images inline as data URIs).

The same HTML is the `html` format and the source of the `pdf` format, so the two
can never disagree. Numbers are formatted by components.formatting and
components.kpi_cards, exactly as the pages show them.
"""

from __future__ import annotations

import base64
import datetime as dt
from html import escape

from components.figures import chart_summaries, metric_unit, plotted_quantity
from components.formatting import (
    MISSING,
    format_count,
    format_number,
    format_percent,
    format_timestamp,
)
from components.kpi_cards import change_text, format_value

STYLE = """
@page { size: A4; margin: 16mm 14mm 18mm;
  @bottom-left { content: string(report-title); font: 8pt "DejaVu Sans", sans-serif;
    color: #4b5563; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
    font: 8pt "DejaVu Sans", sans-serif; color: #4b5563; } }
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; color: #111827;
  font-size: 10pt; line-height: 1.4; max-width: 1000px; margin: 0 auto; }
h1 { font-size: 18pt; margin: 0 0 2pt; string-set: report-title content(); }
h2 { font-size: 12pt; margin: 16pt 0 6pt; border-bottom: 1px solid #e5e7eb;
  padding-bottom: 2pt; break-after: avoid; }
.subtitle { color: #4b5563; margin: 0 0 10pt; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; }
th, td { text-align: left; padding: 3pt 6pt; border-bottom: 1px solid #e5e7eb;
  vertical-align: top; }
th { color: #374151; background: #f3f4f6; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: flex; flex-wrap: wrap; gap: 6pt; }
.card { border: 1px solid #e5e7eb; border-radius: 4pt; padding: 5pt 8pt;
  min-width: 88pt; flex: 1 1 88pt; }
.card .label { color: #4b5563; font-size: 8pt; }
.card .value { font-size: 13pt; font-weight: bold; }
.card .hint { color: #4b5563; font-size: 8pt; }
.card.accent { border-color: #2563eb; }
figure { margin: 6pt 0; break-inside: avoid; }
figure img { width: 100%; }
figcaption { color: #4b5563; font-size: 8pt; }
.pair { display: flex; gap: 8pt; }
.pair figure { flex: 1 1 0; }
.params td:first-child { width: 30%; color: #374151; }
.good { color: #15803d; } .bad { color: #b91c1c; }
.muted { color: #4b5563; }
footer { margin-top: 14pt; color: #4b5563; font-size: 8pt; }
"""


def data_uri(png: bytes) -> str:
    """An inline PNG (the HTML report carries its images)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def page(title: str, sections: list[str]) -> str:
    """The whole document."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"{''.join(sections)}</body></html>"
    )


def heading(title: str, subtitle: str) -> str:
    """The report's title and the line under it."""
    return f'<h1>{escape(title)}</h1><p class="subtitle">{escape(subtitle)}</p>'


def section(title: str, body: str) -> str:
    """A titled section."""
    return f"<section><h2>{escape(title)}</h2>{body}</section>"


def key_values(rows: list[tuple[str, str]]) -> str:
    """A two-column table of labels and values."""
    cells = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(value)}</td></tr>"
        for label, value in rows
    )
    return f'<table class="params">{cells}</table>'


def table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    """A table; columns in `numeric` are right-aligned."""

    def cell(tag: str, index: int, text: str) -> str:
        css = ' class="number"' if index in numeric else ""
        return f"<{tag}{css}>{escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def card(label: str, value: str, hint: str | None = None, accent=False) -> str:
    """One KPI card."""
    hint_html = f'<div class="hint">{escape(hint)}</div>' if hint else ""
    css = "card accent" if accent else "card"
    return (
        f'<div class="{css}"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div>{hint_html}</div>'
    )


def image(png: bytes, alt: str, caption: str) -> str:
    """A chart with its text alternative and caption."""
    return (
        f'<figure><img src="{data_uri(png)}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def bullet_list(items: list[str]) -> str:
    """A list of sentences (or a dash when there are none)."""
    if not items:
        return f'<p class="muted">{MISSING}</p>'
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def footer(context: dict, generation_s: float) -> str:
    """When, how fast and which report."""
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<footer>Generated {made} in {generation_s:.1f} s (view and charts) · "
        f"report {escape(context.get('reportId', ''))} · Insightboard</footer>"
    )


# --- the analysis view -------------------------------------------------------


def analysis_period(view: dict) -> str:
    """The period the view covers: its from/to, else the series' first and last."""
    params, series = view["params"], view.get("series") or []
    granularity = params["granularity"]
    start = params.get("from") or (series[0]["t"] if series else None)
    end = params.get("to") or (series[-1]["t"] if series else None)
    first = format_timestamp(start, granularity)
    return f"{first} to {format_timestamp(end, granularity)}"


def analysis_parameters(view: dict) -> str:
    """The view's parameters as the report states them."""
    params = view["params"]
    filters = "; ".join(
        f"{name} = {', '.join(values)}" for name, values in params["filters"].items()
    )
    rows = [
        ("Metric", plotted_quantity(view)),
        ("Aggregation per bucket", params["aggregation"]),
        ("Granularity", params["granularity"]),
        ("Period", analysis_period(view)),
        ("Detection method", params["method"]),
        ("Threshold", format_number(params.get("threshold"))),
        ("Rolling window", f"{params['window']} buckets"),
        ("Filters", filters or "none"),
    ]
    return key_values(rows)


def analysis_cards(view: dict) -> str:
    """The KPI summary: the same cards as the page (components.widgets)."""
    summary, anomalies, unit = view["summary"], view["anomalies"], metric_unit(view)
    severities: dict[str, int] = {}
    for anomaly in anomalies:
        severities[anomaly["severity"]] = severities.get(anomaly["severity"], 0) + 1
    hint = " · ".join(f"{n} {name}" for name, n in severities.items()) or "none found"
    missing = summary.get("missing")
    cards = [
        card("Anomalies", format_count(len(anomalies)), hint, accent=True),
        card("Mean", format_number(summary.get("mean"), unit)),
        card("Median", format_number(summary.get("median"), unit)),
        card("Std. deviation", format_number(summary.get("std_pop"), unit)),
        card("Minimum", format_number(summary.get("min"), unit)),
        card("Maximum", format_number(summary.get("max"), unit)),
        card("Data points", format_count(summary.get("count")),
             f"{format_count(missing)} missing" if missing else None),
    ]  # fmt: skip
    return f'<div class="cards">{"".join(cards)}</div>'


def anomaly_rows(view: dict) -> list[list[str]]:
    """One row per anomaly: date, value, expected, deviation, severity, why."""
    unit, granularity = metric_unit(view), view["params"]["granularity"]
    return [
        [
            format_timestamp(a["t"], granularity),
            format_number(a["value"], unit),
            format_number(a.get("expected"), unit),
            format_percent(a.get("deviation_pct")),
            a["severity"],
            ", ".join(a.get("methods") or []),
            a.get("explanation") or "",
        ]
        for a in view["anomalies"]
    ]


def anomalies_table(view: dict) -> str:
    """The anomalies table (or a sentence when there are none)."""
    rows = anomaly_rows(view)
    if not rows:
        return '<p class="muted">No anomalies were found in this view.</p>'
    headers = ["Date", "Value", "Expected", "Deviation", "Severity", "Methods", "Why"]
    return table(headers, rows, numeric={1, 2, 3})


def methods_note(view: dict) -> list[str]:
    """What each detector did, then the view's notes."""
    chosen = view["params"]["method"]
    lines = [
        f"{name}: {info.get('flagged', 0)} flagged"
        + (f" ({info['note']})" if info.get("note") else "")
        for name, info in (view.get("methods") or {}).items()
    ]
    intro = (
        f"Chosen method: {chosen}. Severities follow the detector's score; the "
        "README's Analytics section describes each method."
    )
    return [intro, *lines, *(view.get("notes") or [])]


def analysis_document(view: dict, charts: dict[str, bytes], context: dict,
                      generation_s: float) -> str:  # fmt: skip
    """The analysis report: heading, parameters, KPIs, charts, tables, notes."""
    dataset = view["dataset"]
    title = f"Analysis report: {dataset['name']}"
    subtitle = (
        f"Dataset {dataset['name']} · version {dataset['version']} · "
        f"{plotted_quantity(view)} · {analysis_period(view)}"
    )
    described = chart_summaries(view)
    distribution = (
        '<div class="pair">'
        + image(charts["histogram"], described["histogram"], "Distribution")
        + image(charts["box"], described["box"], "Box plot")
        + "</div>"
    )
    sections = [
        heading(title, subtitle),
        section("Parameters", analysis_parameters(view)),
        section("Summary", analysis_cards(view)),
        section("Time series and anomalies", image(
            charts["timeseries"], described["timeseries"],
            "Markers show the anomalies; their shape gives the severity.")),
        section("Distribution", distribution),
        section("Anomalies", anomalies_table(view)),
        section("Insights", bullet_list(view.get("insights") or [])),
        section("Methods", bullet_list(methods_note(view))),
        footer(context, generation_s),
    ]  # fmt: skip
    return page(title, sections)


# --- the KPI view ------------------------------------------------------------


def kpi_parameters(view: dict) -> str:
    """Period, comparison, grain, zone, filters and breakdown of a KPI view."""
    query, period = view["query"], view["period"]
    compared = view.get("comparisonPeriod")
    filters = "; ".join(
        f"{name} = {', '.join(map(str, values))}"
        for name, values in (query.get("filters") or {}).items()
    )
    rows = [
        ("Period", f"{period['from']} to {period['to']}"),
        ("Compared with", f"{compared['from']} to {compared['to']}" if compared
         else "no comparison"),
        ("Granularity", view.get("granularity") or query.get("granularity") or ""),
        ("Time zone", view.get("tz") or query.get("tz") or "UTC"),
        ("Filters", filters or "none"),
        ("Breakdown", query.get("breakdown") or "none"),
    ]  # fmt: skip
    return key_values(rows)


def kpi_cards(view: dict) -> str:
    """Each measure's value, its comparison and the change, as the page words it."""
    cards = []
    for measure in view["measures"]:
        arrow, words, _colour = change_text(measure)
        compared = format_value(measure.get("comparisonValue"), measure)
        hint = f"{arrow} {words} (was {compared})".strip()
        prefix = "≈ " if measure.get("approximate") else ""
        value = prefix + format_value(measure.get("value"), measure)
        cards.append(card(measure["label"], value, hint))
    return f'<div class="cards">{"".join(cards)}</div>'


def kpi_anomaly_rows(view: dict) -> list[list[str]]:
    """Flagged buckets of every measure."""
    granularity = view.get("granularity") or "day"
    return [
        [
            format_timestamp(anomaly["t"], granularity),
            measure["label"],
            format_value(anomaly["value"], measure),
            f"{anomaly['score']:+.2f}",
            anomaly["direction"],
        ]
        for measure in view["measures"]
        for anomaly in measure.get("anomalies") or []
    ]


def kpi_anomalies_table(view: dict) -> str:
    """The flagged buckets (or a sentence when there are none)."""
    rows = kpi_anomaly_rows(view)
    if not rows:
        return '<p class="muted">No measure has an unusual bucket in this period.</p>'
    headers = ["Bucket", "Measure", "Value", "Robust z", "Direction"]
    return table(headers, rows, numeric={2, 3})


def kpi_insights(view: dict) -> list[str]:
    """One sentence per measure: value, comparison and change."""
    lines = []
    for measure in view["measures"]:
        _arrow, words, _colour = change_text(measure)
        value = format_value(measure.get("value"), measure)
        lines.append(f"{measure['label']}: {value} ({words}).")
    if view.get("partial"):
        lines.append("The period ends with the data: compared like for like.")
    return lines


KPI_METHODS = (
    "Values are read from the KPI roll-ups written at ingest; distinct counts are "
    "exact from records for small datasets and from HLL sketches otherwise (marked "
    "≈). Unusual buckets are flagged by the modified z-score (median and MAD, "
    "threshold 3.5); the last bucket of a partial period is not scored."
)


def kpi_document(view: dict, charts: dict[str, bytes], context: dict,
                 generation_s: float) -> str:  # fmt: skip
    """The KPI report: heading, parameters, KPI cards, trend, breakdown, notes."""
    dataset = view["dataset"]
    title = f"KPI report: {dataset['name']}"
    period = view["period"]
    subtitle = (
        f"Dataset {dataset['name']} · version {dataset['version']} · "
        f"{period['from']} to {period['to']}"
    )
    sections = [
        heading(title, subtitle),
        section("Parameters", kpi_parameters(view)),
        section("Summary", kpi_cards(view)),
        section("Trend", image(charts["trend"], "Every measure over the period",
                               "Dotted lines: the comparison period.")),
    ]  # fmt: skip
    if "breakdown" in charts:
        sections.append(
            section("Breakdown", image(charts["breakdown"], "Breakdown", ""))
        )
    sections += [
        section("Unusual buckets", kpi_anomalies_table(view)),
        section("Insights", bullet_list(kpi_insights(view))),
        section("Methods", bullet_list([KPI_METHODS])),
        footer(context, generation_s),
    ]
    return page(title, sections)
