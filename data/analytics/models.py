"""Typed shapes of the analysis parameters, derived from the parameter spec.

`AnalysisParams` is the canonical parameter set (what `parse_params` returns, what
views, cache keys and stored results carry); its JSON Schema feeds the OpenAPI
document, so choices, bounds, defaults and descriptions come from `spec` alone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

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
