"""Home: what Insightboard does and where to start."""

import dash
import dash_bootstrap_components as dbc
from dash import html

dash.register_page(
    __name__, path="/", name="Home", title="Insightboard", nav_order=0, public=True
)

FEATURES = [
    (
        "Upload",
        "CSV or JSON files: sales, revenue logs, sensor readings, web KPIs. "
        "Every upload is stored and versioned.",
    ),
    (
        "Analyse",
        "Summary statistics, time series and rolling averages computed by "
        "MongoDB aggregation pipelines, close to the data.",
    ),
    (
        "Detect",
        "Several anomaly detectors, including robust methods that still find "
        "every anomaly when one huge spike hides the rest.",
    ),
    (
        "Share",
        "Interactive charts, an auto-written insight panel and links that "
        "reproduce exactly the view you are looking at.",
    ),
]


def feature_card(title: str, text: str) -> dbc.Col:
    """One card of the feature grid."""
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.H5(title, className="card-title"),
                    html.P(text, className="card-text text-muted"),
                ]
            ),
            className="h-100 shadow-sm border-0",
        ),
        md=6,
        lg=3,
        className="mb-3",
    )


def layout(**_query) -> html.Div:
    """The landing page."""
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Answers from your numbers, today.", className="display-6"),
                    html.P(
                        "Insightboard turns an uploaded dataset into statistics, "
                        "trends "
                        "and explained anomalies in seconds, with no data wrangling.",
                        className="lead text-muted",
                    ),
                ],
                className="py-4",
            ),
            dbc.Row([feature_card(title, text) for title, text in FEATURES]),
        ],
        id="home-page",
    )
