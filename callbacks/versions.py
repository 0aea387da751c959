"""The version comparison page: /compare/<id>?a=1&b=2&metric=revenue.

Two versions side by side: their series overlaid, the summary and the anomalies
that differ. The view comes from data.analytics.versions.compare_versions, the
service behind GET /api/analytics/{id}/compare.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from callbacks import gateway
from components.figures import figure_spec, plot_time, scatter
from components.formatting import format_number, format_percent
from components.widgets import aria, card, empty_state, message_alert
from data.analytics.versions import SUMMARY_FIELDS, compare_versions
from data.errors import DomainError, NotFound
from data.services import Services, get_services

PREFIX = "compare"
URL, DATASET, A, B, METRIC = (
    f"{PREFIX}-{n}" for n in ("url", "dataset", "a", "b", "metric")
)
STATUS, CHART, SUMMARY, ANOMALIES = (
    f"{PREFIX}-{n}" for n in ("status", "chart", "summary", "anomalies")
)
STAT_LABELS = {
    "count": "Points",
    "sum": "Sum",
    "mean": "Mean",
    "median": "Median",
    "std_pop": "Std. deviation",
    "min": "Minimum",
    "max": "Maximum",
}


def parse_compare_query(query: dict, versions: list[int], metrics: list[str]) -> dict:
    """a, b and metric from an untrusted query (defaults: the two latest versions)."""

    def pick(name, choices, default):
        value = query.get(name)
        value = value[-1] if isinstance(value, list) else value
        return next((c for c in choices if str(c) == str(value)), default)

    latest = sorted(versions)
    a = pick("a", latest, latest[-2] if len(latest) > 1 else latest[0])
    b = pick("b", latest, latest[-1])
    return {
        "a": a,
        "b": b,
        "metric": pick("metric", metrics, metrics[0] if metrics else None),
    }


def page_layout(dataset_id: str | None, query: dict):
    """The comparison page, or not-found."""
    user = gateway.user_or_none()
    if user is None or not dataset_id:
        return _not_found()
    try:
        meta = gateway.dataset_meta(get_services(), user.id, dataset_id)
    except NotFound:
        return _not_found()
    versions = [entry["version"] for entry in meta["versions"]]
    state = parse_compare_query(query, versions, meta["metrics"])
    options = [{"label": f"v{v}", "value": str(v)} for v in versions]
    controls = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Version A", html_for=A, className="small"),
                    dbc.Select(id=A, options=options, value=str(state["a"]), size="sm"),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("Version B", html_for=B, className="small"),
                    dbc.Select(id=B, options=options, value=str(state["b"]), size="sm"),
                ],
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("Metric", html_for=METRIC, className="small"),
                    dbc.Select(
                        id=METRIC,
                        value=state["metric"],
                        size="sm",
                        options=[{"label": m, "value": m} for m in meta["metrics"]],
                    ),
                ],
                md=3,
            ),
        ],
        className="g-2",
    )
    return html.Div(
        [
            dcc.Location(id=URL, refresh=False),
            dcc.Store(id=DATASET, data=dataset_id),
            html.Nav(
                [
                    dcc.Link("Datasets", href="/datasets"),
                    html.Span(" / "),
                    dcc.Link(meta["name"], href=f"/datasets/{dataset_id}"),
                    html.Span(" / "),
                ],
                className="small text-muted",
                **aria(label="Breadcrumb"),
            ),
            html.H1(
                f"{meta['name']} · compare versions", className="h3 mb-3 ib-page-title"
            ),
            card(controls, class_name="mb-3"),
            html.Div(id=STATUS),
            card(
                [
                    html.H2("Series, overlaid", className="h6"),
                    dcc.Graph(
                        id=CHART,
                        style={"height": "340px"},
                        config={"displaylogo": False, "responsive": True},
                    ),
                ],
                class_name="mb-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        card(
                            [html.H2("Summary", className="h6"), html.Div(id=SUMMARY)]
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        card(
                            [
                                html.H2("Anomalies", className="h6"),
                                html.Div(id=ANOMALIES),
                            ]
                        ),
                        lg=6,
                    ),
                ]
            ),
        ],
        id=f"{PREFIX}-page",
    )


def _not_found():
    return html.Div(
        empty_state(
            "search",
            "Dataset not found",
            "The link may be old, or the dataset was deleted.",
            dcc.Link(
                "Back to your datasets", href="/datasets", className="btn btn-primary"
            ),
        ),
        id=f"{PREFIX}-page",
    )


def render(services: Services, owner_id: str, dataset_id: str, search: str) -> tuple:
    """Chart, summary table and anomaly lists (or a message)."""
    query = dict(parse_qs((search or "").lstrip("?")).items())
    try:
        meta = gateway.dataset_meta(services, owner_id, dataset_id)
        state = parse_compare_query(
            query, [e["version"] for e in meta["versions"]], meta["metrics"]
        )
        view = compare_versions(
            services,
            owner_id,
            dataset_id,
            state["a"],
            state["b"],
            {"metric": state["metric"]},
        )
    except DomainError as error:
        return (
            message_alert("These versions cannot be compared", error.message),
            {},
            None,
            None,
        )
    unit = meta["units"].get(state["metric"])
    return None, overlay_spec(view), summary_table(view, unit), anomaly_list(view, unit)


def overlay_spec(view: dict) -> dict:
    """Both versions' series on one chart."""
    a, b = view["versions"]
    x = [plot_time(row["t"]) for row in view["series"]]
    traces = [
        scatter(
            x=x,
            y=[row["a"] for row in view["series"]],
            name=f"v{a}",
            mode="lines",
            line={"width": 2, "dash": "dot"},
        ),
        scatter(
            x=x,
            y=[row["b"] for row in view["series"]],
            name=f"v{b}",
            mode="lines",
            line={"width": 2},
        ),
    ]
    return figure_spec(
        traces,
        {
            "height": 320,
            "margin": {"l": 56, "r": 16, "t": 16, "b": 40},
            "hovermode": "x unified",
            "legend": {"orientation": "h"},
        },
    )


def summary_table(view: dict, unit: str | None):
    """Each statistic for A and B, and the difference."""
    a, b = view["versions"]
    rows = [
        html.Tr(
            [
                html.Td(STAT_LABELS[name]),
                html.Td(
                    format_number(view["summary"][name]["a"], unit),
                    className="text-end",
                ),
                html.Td(
                    format_number(view["summary"][name]["b"], unit),
                    className="text-end",
                ),
                html.Td(
                    format_percent(view["summary"][name]["differencePct"]),
                    className="text-end",
                ),
            ]
        )
        for name in SUMMARY_FIELDS
    ]
    head = html.Thead(
        html.Tr(
            [
                html.Th(""),
                html.Th(f"v{a}", className="text-end"),
                html.Th(f"v{b}", className="text-end"),
                html.Th("change", className="text-end"),
            ]
        )
    )
    return html.Table([head, html.Tbody(rows)], className="table table-sm")


def anomaly_list(view: dict, unit: str | None):
    """Anomalies flagged in both versions, only in A, only in B."""
    a, b = view["versions"]
    found = view["anomalies"]
    sections = [
        ("In both", found["both"]),
        (f"Only in v{a}", found["onlyA"]),
        (f"Only in v{b}", found["onlyB"]),
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.Strong(f"{title}: "),
                    ", ".join(item["t"][:10] for item in items) or "none",
                ],
                className="mb-1",
            )
            for title, items in sections
        ],
        id=f"{PREFIX}-anomaly-lists",
    )


def sync(a, b, metric, search):
    """Controls → URL (a history entry per change)."""
    wanted = "?" + urlencode({"a": a, "b": b, "metric": metric})
    return no_update if wanted == search else wanted


def register(app: dash.Dash) -> None:
    """Register the comparison page's callbacks on this app."""
    app.callback(
        Output(URL, "search"),
        Input(A, "value"),
        Input(B, "value"),
        Input(METRIC, "value"),
        State(URL, "search"),
    )(sync)
    app.callback(
        Output(STATUS, "children"),
        Output(CHART, "figure"),
        Output(SUMMARY, "children"),
        Output(ANOMALIES, "children"),
        Input(URL, "search"),
        State(DATASET, "data"),
    )(_view)


def _view(search, dataset_id):
    user = gateway.user_or_none()
    if user is None:
        return message_alert("Sign in", "Sign in to compare versions."), {}, None, None
    return render(get_services(), user.id, dataset_id, search)
