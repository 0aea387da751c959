"""The analysis parameters, declared once: key, type, choices, default, bounds,
label, short label and help text of each.

Everything else derives from this table: the service's validation
(`data.analytics.params`), the URL state (`components.url_state`), the page's
controls (`components.analysis_layout`) and the OpenAPI document (through the
`AnalysisParams` model in `data.analytics.models`). Change a bound here and the API,
the link parser and the page control all follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["choice", "number", "integer", "text", "date", "filters"]


@dataclass(frozen=True)
class Option:
    """One value of a choice: its control label and the words used around it."""

    value: str
    label: str  # in the page's select ("Modified z-score (median/MAD)")
    short_label: str  # in chart titles and tables ("modified z")
    phrase: str = ""  # in explanations ("modified z-score"); short_label when empty

    @property
    def words(self) -> str:
        """How explanations name this option."""
        return self.phrase or self.short_label


@dataclass(frozen=True)
class Parameter:
    """One analysis parameter; numbers are valid within [low, high] (inclusive)."""

    key: str
    kind: Kind
    label: str  # in notices and the API description ("maximum outliers")
    short_label: str  # the control's label ("Max outliers")
    help: str
    options: tuple[Option, ...] = ()
    default: Any = None  # str for choices, a number or None for numbers
    low: float | None = None
    high: float | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        """The valid values of a choice, in display order."""
        return tuple(option.value for option in self.options)

    def option(self, value: str) -> Option:
        """The option with this value (KeyError when there is none)."""
        for option in self.options:
            if option.value == value:
                return option
        raise KeyError(value)


METHOD_OPTIONS = (
    Option("auto", "Auto (chosen per series)", "auto", "auto"),
    Option("zscore", "Z-score", "z-score"),
    Option("iqr", "IQR fences", "IQR", "IQR fences"),
    Option(
        "modified_zscore",
        "Modified z-score (median/MAD)",
        "modified z",
        "modified z-score",
    ),
    Option("gesd", "Generalized ESD (Rosner)", "ESD", "generalized ESD"),
    Option("rolling_zscore", "Rolling z-score", "rolling z", "rolling z-score"),
    Option(
        "seasonal_esd",
        "Seasonal-hybrid ESD (STL residuals)",
        "seasonal ESD",
        "seasonal-hybrid ESD",
    ),
    Option(
        "changepoint",
        "Change points (level shifts, trends)",
        "change point",
        "change points",
    ),
)
# A granularity's phrase is the noun of one bucket ("day"; plural with an s).
GRANULARITY_OPTIONS = (
    Option("raw", "Raw rows", "Row-level", "row"),
    Option("hour", "Hourly", "Hourly", "hour"),
    Option("day", "Daily", "Daily", "day"),
    Option("week", "Weekly", "Weekly", "week"),
    Option("month", "Monthly", "Monthly", "month"),
)
AGGREGATION_OPTIONS = (
    Option("sum", "Sum", "sum"),
    Option("mean", "Average", "average"),
    Option("count", "Count", "count"),
    Option("min", "Minimum", "minimum"),
    Option("max", "Maximum", "maximum"),
)

METRIC = Parameter(
    "metric", "text", "metric", "Metric", "Metric column (default: the first one)"
)
GRANULARITY = Parameter(
    "granularity",
    "choice",
    "granularity",
    "Granularity",
    "Time buckets of the series",
    GRANULARITY_OPTIONS,
    "day",
)
AGGREGATION = Parameter(
    "aggregation",
    "choice",
    "aggregation",
    "Aggregation",
    "How the rows of one bucket combine",
    AGGREGATION_OPTIONS,
    "sum",
)
METHOD = Parameter(
    "method",
    "choice",
    "detection method",
    "Detection method",
    "Anomaly detector (auto: robust consensus)",
    METHOD_OPTIONS,
    "auto",
)
THRESHOLD = Parameter(
    "threshold",
    "number",
    "threshold",
    "Threshold",
    "score cut-off; empty = the method's default",
    low=0.1,
    high=100.0,
)
K = Parameter(
    "k", "number", "k (IQR multiplier)", "k", "IQR fence multiplier", (), 1.5, 0.1, 10
)
ALPHA = Parameter(
    "alpha", "number", "alpha", "Alpha", "ESD significance level", (), 0.05, 0.001, 0.2
)
MAX_OUTLIERS = Parameter(
    "max_outliers",
    "integer",
    "maximum outliers",
    "Max outliers",
    "ESD upper bound",
    (),
    10,
    1,
    100,
)
WINDOW = Parameter(
    "window",
    "integer",
    "rolling window",
    "Rolling window",
    "buckets in the rolling mean and rolling z-score",
    (),
    7,
    2,
    365,
)
DATE_FROM = Parameter(
    "from", "date", "start", "Start", "ISO date or datetime (inclusive)"
)
DATE_TO = Parameter(
    "to", "date", "end", "End", "ISO date (whole day included) or datetime"
)
FILTERS = Parameter(
    "filters",
    "filters",
    "filters",
    "Filters",
    "Dimension values to keep: filter.<dimension>=value (repeatable)",
    high=100,  # values per dimension
)

PARAMETERS = (
    METRIC,
    GRANULARITY,
    AGGREGATION,
    METHOD,
    THRESHOLD,
    K,
    ALPHA,
    MAX_OUTLIERS,
    WINDOW,
    DATE_FROM,
    DATE_TO,
    FILTERS,
)
# Read through get()/of_kind() at call time: a test that replaces one entry here
# sees every consumer follow.
BY_KEY = {parameter.key: parameter for parameter in PARAMETERS}


def get(key: str) -> Parameter:
    """The parameter with this key."""
    return BY_KEY[key]


def keys() -> tuple[str, ...]:
    """Every parameter key, in the table's order."""
    return tuple(BY_KEY)


def of_kind(*kinds: Kind) -> tuple[Parameter, ...]:
    """The parameters of these kinds, in the table's order."""
    return tuple(p for p in BY_KEY.values() if p.kind in kinds)


# The score threshold each method uses unless the request sets one. `auto` applies
# its threshold to the modified z-score, its primary robust score; iqr uses k and
# gesd uses alpha instead.
DEFAULT_THRESHOLDS = {
    "auto": 3.5,
    "zscore": 3.0,
    "modified_zscore": 3.5,
    "rolling_zscore": 3.0,
}
# Which detection parameters each method reads (the page disables the others).
METHOD_PARAMETERS = {
    "auto": ("threshold", "k", "alpha", "max_outliers"),
    "zscore": ("threshold",),
    "modified_zscore": ("threshold",),
    "iqr": ("k",),
    "gesd": ("alpha", "max_outliers"),
    "rolling_zscore": ("threshold",),
    "seasonal_esd": ("alpha",),
    "changepoint": (),
}
MAX_VALUE_LENGTH = 200  # characters of one filter value or metric name in a link


def short_label(key: str, value: str) -> str:
    """How titles and tables name a choice's value (the value itself if unknown)."""
    try:
        return get(key).option(value).short_label
    except KeyError:
        return value
