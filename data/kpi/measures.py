"""Measures: one pydantic model, one table of kinds, proposals and validation.

A measure is data (DESIGN.md §8): `{name, label, kind, column, where, numerator,
denominator, windowDays, format}`, stored with each dataset version. `KINDS` is the
one table of kinds: which columns each kind may use and which fields it needs.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from data.errors import ValidationFailed

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
MAX_MEASURES = 20
MAX_WINDOW_DAYS = 366
# kind -> the column roles it may read (None: no column) and what it needs.
KINDS: dict[str, dict] = {
    "count": {"roles": None, "label": "Rows"},
    "sum": {"roles": ("metric",), "label": "Sum of"},
    "mean": {"roles": ("metric",), "label": "Mean of"},
    "min": {"roles": ("metric",), "label": "Minimum of"},
    "max": {"roles": ("metric",), "label": "Maximum of"},
    "distinct": {"roles": ("identifier", "dimension"), "label": "Distinct"},
    "rolling_distinct": {"roles": ("identifier", "dimension"), "label": "Distinct"},
    "ratio": {"roles": None, "label": "Ratio"},
}
FORMATS = ("number", "integer", "percent", "currency")
DISTINCT_KINDS = ("distinct", "rolling_distinct")
WHERE_ROLES = ("dimension", "metric")


class Where(BaseModel):
    """Restrict a measure to rows whose column equals one value."""

    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1, max_length=200)
    value: str | float | int | bool


class Measure(BaseModel):
    """One measure, as stored with a version and shown by the API."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(pattern=NAME_PATTERN)
    label: str = Field(default="", max_length=80)
    kind: Literal[
        "count", "sum", "mean", "min", "max", "distinct", "rolling_distinct", "ratio"
    ]
    column: str | None = Field(default=None, max_length=200)
    where: Where | None = None
    numerator: str | None = None
    denominator: str | None = None
    window_days: int | None = Field(
        default=None, alias="windowDays", ge=1, le=MAX_WINDOW_DAYS
    )
    format: Literal["number", "integer", "percent", "currency"] = "number"
    higher_is_better: bool = Field(default=True, alias="higherIsBetter")

    def document(self) -> dict:
        """The API / storage shape (camelCase, nulls kept)."""
        return self.model_dump(by_alias=True)


def usable_columns(columns: list[dict], metrics: list, dimensions: list) -> list[dict]:
    """The columns a version's records and roll-ups hold: its chosen metrics and
    dimensions, and every identifier (kept as hashes); never personal columns."""
    kept = []
    for column in columns:
        role, name = column["role"], column["name"]
        if (
            role == "identifier"
            or (role == "metric" and name in metrics)
            or (role == "dimension" and name in dimensions)
        ):
            kept.append(column)
    return kept


def _fail(field: str, message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


def parse_measures(raw: object, columns: list[dict]) -> list[Measure]:
    """Validate a `measures` list against the version's columns (400 naming the
    field and the allowed values)."""
    if not isinstance(raw, list) or not raw:
        raise _fail("measures", "measures must be a non-empty list.")
    if len(raw) > MAX_MEASURES:
        raise _fail("measures", f"At most {MAX_MEASURES} measures are allowed.")
    measures = [_parse_one(index, item) for index, item in enumerate(raw)]
    _check_names(measures)
    by_name = {measure.name: measure for measure in measures}
    for index, measure in enumerate(measures):
        _check_fields(f"measures[{index}]", measure, columns, by_name)
    return measures


def _parse_one(index: int, item: object) -> Measure:
    if not isinstance(item, dict):
        raise _fail(f"measures[{index}]", f"measures[{index}] must be an object.")
    try:
        return Measure.model_validate(item)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        field = f"measures[{index}].{where}"
        raise _fail(field, f"{field}: {_explain(first)}", **_allowed(first)) from None


def _explain(error: ErrorDetails) -> str:
    loc = error["loc"]
    if loc and loc[0] == "kind":
        return f"unknown kind; allowed kinds: {', '.join(KINDS)}."
    if loc and loc[0] == "format":
        return f"unknown format; allowed formats: {', '.join(FORMATS)}."
    if loc and loc[0] == "name":
        return "a name is 1 to 40 characters a-z, 0-9 and _, starting with a letter."
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(
            Measure.model_fields[f].alias or f for f in Measure.model_fields
        )
        return f"unknown field; allowed fields: {allowed}."
    return error["msg"] + "."


def _allowed(error: ErrorDetails) -> dict:
    loc = error["loc"]
    if loc and loc[0] == "kind":
        return {"allowed": list(KINDS)}
    if loc and loc[0] == "format":
        return {"allowed": list(FORMATS)}
    if loc and loc[0] == "name":
        return {"pattern": NAME_PATTERN}
    return {}


def _check_names(measures: list[Measure]) -> None:
    seen: set[str] = set()
    for index, measure in enumerate(measures):
        if measure.name in seen:
            raise _fail(
                f"measures[{index}].name", f"Duplicate measure name {measure.name!r}."
            )
        seen.add(measure.name)


def _check_fields(
    field: str, measure: Measure, columns: list[dict], by_name: dict[str, Measure]
) -> None:
    roles = KINDS[measure.kind]["roles"]
    if measure.kind == "ratio":
        _check_ratio(field, measure, by_name)
    elif roles is None:
        _refuse(field, measure, "column")
    else:
        _check_column(f"{field}.column", measure.column, columns, roles)
    if measure.kind == "rolling_distinct" and measure.window_days is None:
        raise _fail(f"{field}.windowDays", f"{field}.windowDays is required.")
    if measure.kind != "rolling_distinct" and measure.window_days is not None:
        raise _fail(
            f"{field}.windowDays", f"{field}.windowDays: only for rolling_distinct."
        )
    if measure.where is not None:
        if measure.kind == "ratio":
            raise _fail(f"{field}.where", f"{field}.where: a ratio takes no where.")
        _check_column(
            f"{field}.where.column", measure.where.column, columns, WHERE_ROLES
        )


def _refuse(field: str, measure: Measure, name: str) -> None:
    if getattr(measure, name) is not None:
        raise _fail(
            f"{field}.{name}", f"{field}.{name}: kind {measure.kind} takes none."
        )


def _check_column(field: str, name: str | None, columns: list[dict], roles) -> None:
    allowed = [c["name"] for c in columns if c["role"] in roles]
    if name not in allowed:
        raise _fail(
            field,
            f"{field}: {str(name)[:40]!r} is not usable here; allowed columns: "
            f"{', '.join(allowed) or 'none'}.",
            allowed=allowed,
        )


def _check_ratio(field: str, measure: Measure, by_name: dict[str, Measure]) -> None:
    parts = [
        m.name for m in by_name.values() if m.kind not in ("ratio", "rolling_distinct")
    ]
    for side in ("numerator", "denominator"):
        if getattr(measure, side) not in parts:
            raise _fail(
                f"{field}.{side}",
                f"{field}.{side}: must name another measure (not a ratio or rolling "
                f"measure); allowed: {', '.join(parts) or 'none'}.",
                allowed=parts,
            )
    _refuse(field, measure, "column")


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return (slug if slug[:1].isalpha() else f"c_{slug}")[:30] or "column"


def propose_measures(columns: list[dict]) -> list[dict]:
    """Measures a new version starts with, from its inferred schema: rows, one sum
    per metric, one distinct count per identifier, and a ratio when a 0/1 or
    true/false flag and an identifier exist."""
    proposed = [Measure(name="rows", label="Rows", kind="count", format="integer")]
    for column in columns:
        slug = _slug(column["name"])
        if column["role"] == "metric":
            currency = column.get("unit") not in (None, "%")
            proposed.append(Measure(
                name=f"sum_{slug}", label=f"Sum of {column['name']}", kind="sum",
                column=column["name"], format="currency" if currency else "number",
            ))  # fmt: skip
        elif column["role"] == "identifier":
            proposed.append(Measure(
                name=f"distinct_{slug}", label=f"Distinct {column['name']}",
                kind="distinct", column=column["name"], format="integer",
            ))  # fmt: skip
    proposed.extend(_flag_ratios(columns, proposed))
    return [measure.document() for measure in _unique(proposed)[:MAX_MEASURES]]


def _flag_ratios(columns: list[dict], proposed: list[Measure]) -> list[Measure]:
    distinct = next((m for m in proposed if m.kind == "distinct"), None)
    flags = [c for c in columns if c["type"] == "boolean" and c["role"] == "dimension"]
    if distinct is None or not flags:
        return []
    flag = flags[0]
    slug = _slug(flag["name"])
    flagged = Measure(
        name=f"{distinct.name}_{slug}"[:40],
        label=f"{distinct.label} where {flag['name']}",
        kind="distinct", column=distinct.column, format="integer",
        where=Where(column=flag["name"], value="true"),
    )  # fmt: skip
    ratio = Measure(
        name=f"{slug}_rate"[:40], label=f"{flag['name']} rate", kind="ratio",
        numerator=flagged.name, denominator=distinct.name, format="percent",
        higherIsBetter=False,
    )  # fmt: skip
    return [flagged, ratio]


def _unique(measures: list[Measure]) -> list[Measure]:
    by_name: dict[str, Measure] = {}
    for measure in measures:
        by_name.setdefault(measure.name, measure)
    return list(by_name.values())
