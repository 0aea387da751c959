"""Typed shapes of the analysis parameters, derived from the parameter spec.

`AnalysisParams` is the canonical parameter set (what `parse_params` returns, what
views, cache keys and stored results carry); its JSON Schema feeds the OpenAPI
document, so choices, bounds, defaults and descriptions come from `spec` alone.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, create_model

from data.analytics import spec


def _annotation(parameter: spec.Parameter) -> Any:
    """The Python type of one canonical parameter value."""
    if parameter.kind == "choice":
        return Literal[parameter.choices]
    if parameter.kind == "integer":
        return int
    if parameter.kind == "number":
        return float | None if parameter.default is None else float
    if parameter.kind == "filters":
        return dict[str, list[str]]
    if parameter.kind == "date":
        return str | None
    return str


def _field(parameter: spec.Parameter) -> Any:
    """The pydantic field: bounds, default and description from the spec."""
    extra: dict[str, Any] = {}
    if parameter.kind in ("number", "integer"):
        extra = {"ge": parameter.low, "le": parameter.high}
    if parameter.kind == "filters":
        extra = {"default_factory": dict}
    elif parameter.kind != "text":
        extra["default"] = parameter.default
    return (
        _annotation(parameter),
        Field(
            alias=parameter.key,
            title=parameter.short_label,
            description=parameter.help,
            **extra,
        ),
    )


def _python_name(key: str) -> str:
    return {"from": "date_from", "to": "date_to"}.get(key, key)


class _ParamsBase(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)


AnalysisParams = create_model(
    "AnalysisParams",
    __base__=_ParamsBase,
    __doc__="Canonical analysis parameters (threshold: null for iqr and gesd).",
    **{_python_name(p.key): _field(p) for p in spec.PARAMETERS},
)


def canonical(params: dict) -> dict:
    """The params dict checked against the model, with keys as the API spells them."""
    return AnalysisParams.model_validate(params).model_dump(by_alias=True)


# ---- the analysis view (docs/contracts.md), as the API and the page receive it.
# Extra keys are allowed: a client must ignore what it does not know. The OpenAPI
# document's view schema is generated from these models (api/analytics.py).

Moment = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Severity = Literal["low", "medium", "high", "critical"]
Direction = Literal["spike", "drop"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class SeriesPoint(_Shape):
    """One bucket (or raw row) of the series: its start, value and row count."""

    t: Moment
    value: float | None
    count: int | None = None
    suppressed: str | None = Field(
        default=None,
        description="Agent views only: why value and count are hidden.",
    )


class DisclosureBlock(_Shape):
    """Agent views only: the disclosure setting applied and its effect."""

    k: int = Field(description="No cell comes from fewer distinct entities.")
    entity: str = Field(description="The identifier column counted, or rows.")
    suppressed_cells: int = Field(
        alias="suppressedCells", description="Hidden cells (buckets)."
    )


class Anomaly(_Shape):
    """One flagged point of the chosen method, with the methods that agree."""

    t: Moment
    value: float
    expected: float
    deviation: float
    deviation_pct: float | None
    score: float
    direction: Direction
    severity: Severity
    methods: list[str]
    explanation: str


class Episode(_Shape):
    """Flags grouped into one event (close flags together; each change alone)."""

    kind: Literal["spike", "drop", "level_shift", "trend_change"]
    start: Moment
    end: Moment
    peak_t: Moment
    peak_value: float | None
    expected: float | None
    score: float
    severity: Severity
    direction: Direction
    points: int
    before: float | None
    after: float | None
    anomalies: list[Moment]
    explanation: str


class Summary(_Shape):
    """Statistics of the plotted series (null where undefined)."""

    count: float | None = None
    missing: float | None = None
    sum: float | None = None
    mean: float | None = None
    median: float | None = None
    std_pop: float | None = None
    std_sample: float | None = None
    min: float | None = None
    max: float | None = None
    q1: float | None = None
    q3: float | None = None
    iqr: float | None = None


class AnalyticsView(_Shape):
    """The analysis view of one dataset version, metric and parameter set."""

    dataset: dict[str, Any]
    params: AnalysisParams  # type: ignore[valid-type]
    series: list[SeriesPoint]
    rolling: list[dict[str, Any]]
    summary: Summary
    anomalies: list[Anomaly]
    episodes: list[Episode] = Field(
        description="Flags grouped into events, most severe first."
    )
    methods: dict[str, Any]
    histogram: dict[str, Any]
    box: dict[str, Any]
    thresholds: dict[str, Any]
    insights: list[str]
    notes: list[str]
    cached: bool
    disclosure: DisclosureBlock | None = None
