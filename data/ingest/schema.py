"""Schema inference: a type and a role for every column, and the user's choice.

Types: datetime, number, boolean, string. Roles: time, metric, dimension, identifier,
personal. Inference looks at the first rows of the file (the sample):

- personal: the header names an e-mail, phone, address or a person's name, or most
  values are e-mail addresses or phone numbers. Personal columns are never stored in
  records, never offered as dimensions, and never shown in previews.
- identifier: an id-like header (id, uuid, ...) or nearly unique text values.
- metric: numeric values (currency symbols, %, thousands separators allowed).
- dimension: other text and booleans (categorical values).
- time: the chosen time column, else the first date/time column.

The user's timeColumn / metricColumns / dimensionColumns win over inference, and are
validated: they must exist, a metric must be numeric, a time column must have one
date format, and personal data can be neither a metric nor a dimension.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from data.errors import TooLarge, Unprocessable, ValidationFailed
from data.ingest import dates
from data.ingest.values import (
    detect_decimal,
    detect_unit,
    is_boolean_column,
    parse_numbers,
    quote_cell,
)

PERSONAL_TOKENS = {
    "email", "mail", "phone", "mobile", "telephone", "tel", "cell", "fax", "ssn",
    "passport", "address", "street", "zip", "postcode", "zipcode", "birthday", "dob",
    "surname", "firstname", "lastname", "fullname", "forename", "username", "iban",
}  # fmt: skip
NAME_QUALIFIERS = {
    "first", "last", "full", "given", "family", "middle", "customer", "client",
    "contact", "user", "employee", "person", "patient", "owner", "buyer", "account",
}  # fmt: skip
ID_TOKENS = {"id", "uuid", "guid"}
TIME_HINTS = {"date", "time", "timestamp", "datetime", "day", "period", "month", "ts"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+?\(?\d[\d\s().-]{5,}\d$")
PERSON_NAME = re.compile(r"^[A-Z][a-z'’-]+(?: [A-Z][a-z'’.-]+){1,3}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}")
MAX_NAME_LENGTH = 200
DEFAULT_DIMENSIONS = 3
DEFAULT_METRICS = 20
MAX_DIMENSION_VALUES = 100


@dataclass(frozen=True)
class Column:
    """One column: its name in the file, safe field key, type, role and unit."""

    name: str
    key: str
    type: str
    role: str
    unit: str | None = None
    decimal: str = "."
    distinct: int = 0

    def document(self) -> dict:
        """The contract's column shape: {name, key, type, role, unit}."""
        return {k: getattr(self, k) for k in ("name", "key", "type", "role", "unit")}


@dataclass(frozen=True)
class Choice:
    """What the user asked for; empty fields are inferred."""

    time_column: str | None = None
    metric_columns: tuple[str, ...] = ()
    dimension_columns: tuple[str, ...] = ()
    day_first: bool | None = None

    def document(self) -> dict:
        """A JSON-ready form, stored with each version."""
        return asdict(self) | {
            "metric_columns": list(self.metric_columns),
            "dimension_columns": list(self.dimension_columns),
        }

    @classmethod
    def from_document(cls, document: dict | None) -> Choice:
        """The inverse of document()."""
        document = document or {}
        return cls(
            time_column=document.get("time_column"),
            metric_columns=tuple(document.get("metric_columns") or ()),
            dimension_columns=tuple(document.get("dimension_columns") or ()),
            day_first=document.get("day_first"),
        )


@dataclass
class Schema:
    """Columns with final roles, and what the records will hold."""

    columns: list[Column]
    time_column: str
    time_format: str
    metric_columns: list[str] = field(default_factory=list)
    dimension_columns: list[str] = field(default_factory=list)

    def column(self, name: str) -> Column:
        """The column with this exact name."""
        return next(column for column in self.columns if column.name == name)

    def key(self, name: str) -> str:
        """The safe field key of a column."""
        return self.column(name).key


def column_names(header: list[str], max_columns: int) -> list[str]:
    """Validate header names: count, length, duplicates; name blank headers."""
    if len(header) > max_columns:
        raise TooLarge(
            f"The file has {len(header)} columns; the limit is {max_columns} columns."
        )
    names = [name or f"column_{index + 1}" for index, name in enumerate(header)]
    too_long = [name for name in names if len(name) > MAX_NAME_LENGTH]
    if too_long:
        raise Unprocessable(
            f"Column name {quote_cell(too_long[0])} is longer than "
            f"{MAX_NAME_LENGTH} characters."
        )
    _refuse_duplicates(names)
    return names


def _refuse_duplicates(names: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise Unprocessable(
                f"Duplicate column name {quote_cell(name)} (columns {seen[name] + 1} "
                f"and {index + 1}). Rename one of them and upload again.",
                details={"column": name},
            )
        seen[name] = index


def header_tokens(name: str) -> list[str]:
    """Lower-case words of a header: 'customerEmail_2' -> ['customer', 'email', '2']."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return re.findall(r"[a-z]+|\d+", spaced.lower())


def infer_column(
    name: str, key: str, samples: list[str], comma_decimals: bool = True
) -> Column:
    """Type and role of one column from its non-empty sample values."""
    if _personal_by_header(name, samples):
        return Column(name, key, "string", "personal")
    decimal = detect_decimal(samples, comma_decimals)
    # A quick look at the first values spares parsing the whole sample of a text column.
    if (
        samples
        and _numeric_share(samples[:20], decimal) >= 0.5
        and (_numeric_share(samples, decimal) >= 0.9)
    ):
        role = "identifier" if set(header_tokens(name)) & ID_TOKENS else "metric"
        return Column(name, key, "number", role, detect_unit(samples), decimal)
    distinct = len(set(samples))
    if dates.looks_like_dates(samples):
        return Column(name, key, "datetime", "dimension", None, decimal, distinct)
    if _personal_by_values(samples):
        return Column(name, key, "string", "personal")
    kind = "boolean" if is_boolean_column(samples) else "string"
    role = "identifier" if _identifier_like(name, samples) else "dimension"
    return Column(name, key, kind, role, None, decimal, distinct)


def _numeric_share(samples: list[str], decimal: str = ".") -> float:
    series = pd.Series(samples, dtype="object")
    parsed = parse_numbers(series, decimal)
    return float(np.mean(~parsed.bad & ~parsed.missing)) if samples else 0.0


def _personal_by_header(name: str, samples: list[str]) -> bool:
    tokens = set(header_tokens(name))
    if tokens & PERSONAL_TOKENS:
        return True
    if "name" in tokens and tokens & NAME_QUALIFIERS:
        return True
    if tokens == {"name"} and samples:
        return _share(samples, PERSON_NAME) >= 0.6
    return False


def _personal_by_values(samples: list[str]) -> bool:
    if not samples:
        return False
    if _share(samples, EMAIL) >= 0.5:
        return True
    phones = [s for s in samples if PHONE.match(s) and 7 <= _digits(s) <= 15]
    return len(phones) >= 0.8 * len(samples)


def _share(samples: list[str], pattern: re.Pattern) -> float:
    return sum(1 for s in samples if pattern.match(s)) / len(samples)


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _identifier_like(name: str, samples: list[str]) -> bool:
    if set(header_tokens(name)) & ID_TOKENS:
        return True
    if samples and _share(samples, UUID) >= 0.9:
        return True
    return len(samples) >= 20 and len(set(samples)) >= 0.9 * len(samples)


def infer_columns(
    names: list[str], samples: dict[str, list[str]], comma_decimals: bool = True
) -> list[Column]:
    """Infer every column; keys are c0, c1, ... in file order (safe in MongoDB)."""
    return [
        infer_column(name, f"c{index}", samples[name], comma_decimals)
        for index, name in enumerate(names)
    ]


def resolve(
    columns: list[Column], samples: dict[str, list[str]], choice: Choice, max_dims: int
) -> Schema:
    """Apply and validate the user's choice; fill in what they left out."""
    time_name = _time_column(columns, choice)
    time_format = dates.choose_format(time_name, samples[time_name], choice.day_first)
    metrics = _metric_columns(columns, samples, choice, time_name)
    dims = _dimension_columns(columns, choice, {time_name, *metrics}, max_dims)
    final = [_final_role(c, time_name, metrics, dims) for c in columns]
    return Schema(final, time_name, time_format.pattern, metrics, dims)


def _final_role(column: Column, time: str, metrics: list[str], dims: list[str]):
    if column.name == time:
        return replace(column, type="datetime", role="time")
    if column.name in metrics:
        return replace(column, type="number", role="metric")
    if column.name in dims:
        return replace(column, role="dimension")
    return column


def find_column(columns: list[Column], wanted: str, field_name: str) -> Column:
    """The column named `wanted` (exact, else the only case-insensitive match)."""
    exact = [c for c in columns if c.name == wanted]
    loose = [c for c in columns if c.name.casefold() == wanted.strip().casefold()]
    if exact or len(loose) == 1:
        return (exact or loose)[0]
    available = ", ".join(quote_cell(c.name) for c in columns[:20])
    raise Unprocessable(
        f"{field_name}: there is no column {quote_cell(wanted)} in the file. "
        f"Its columns are: {available}.",
        details={"field": field_name, "column": wanted},
    )


def expand_names(columns: list[Column], wanted: tuple[str, ...]) -> list[str]:
    """Names as given; 'a,b' is split when no column is called 'a,b' itself."""
    known = {column.name.casefold() for column in columns}
    expanded: list[str] = []
    for name in wanted:
        if "," in name and name.strip().casefold() not in known:
            expanded.extend(part.strip() for part in name.split(",") if part.strip())
        else:
            expanded.append(name)
    return expanded


def _refuse_personal(column: Column, field_name: str, use: str) -> None:
    if column.role == "personal":
        raise Unprocessable(
            f"{field_name}: column {quote_cell(column.name)} holds personal data "
            f"and cannot be used as {use}.",
            details={"field": field_name, "column": column.name},
        )


def _time_column(columns: list[Column], choice: Choice) -> str:
    if choice.time_column:
        column = find_column(columns, choice.time_column, "timeColumn")
        _refuse_personal(column, "timeColumn", "the time column")
        return column.name
    candidates = [c for c in columns if c.type == "datetime"]
    named = [
        c
        for c in columns
        if set(header_tokens(c.name)) & TIME_HINTS and c.role != "personal"
    ]
    hinted = [c for c in candidates if c in named]
    if hinted or candidates:
        return (hinted or candidates)[0].name
    if named:  # a "date" column whose values did not pass: say exactly why
        return named[0].name
    raise Unprocessable(
        "No date or time column was found. Choose one with timeColumn.",
        details={"field": "timeColumn"},
    )


def _metric_columns(
    columns: list[Column], samples: dict, choice: Choice, time_name: str
) -> list[str]:
    if not choice.metric_columns:
        found = [c.name for c in columns if c.role == "metric" and c.name != time_name]
        if not found:
            raise Unprocessable(
                "No numeric column was found. Choose one with metricColumn.",
                details={"field": "metricColumn"},
            )
        return found[:DEFAULT_METRICS]
    chosen: list[str] = []
    for wanted in expand_names(columns, choice.metric_columns):
        column = find_column(columns, wanted, "metricColumn")
        _refuse_personal(column, "metricColumn", "a metric")
        _refuse_same(column.name, time_name, "metricColumn", "the time column")
        _refuse_not_numeric(column, samples[column.name])
        if column.name not in chosen:
            chosen.append(column.name)
    return chosen


def _refuse_same(name: str, other: str, field_name: str, what: str) -> None:
    if name == other:
        raise Unprocessable(
            f"{field_name}: column {quote_cell(name)} is already {what}.",
            details={"field": field_name, "column": name},
        )


def _refuse_not_numeric(column: Column, samples: list[str]) -> None:
    if column.type == "number" or not samples:
        return
    if _numeric_share(samples, column.decimal) < 0.5:
        example = next(s for s in samples if _numeric_share([s], column.decimal) == 0)
        raise Unprocessable(
            f"metricColumn: column {quote_cell(column.name)} is not numeric "
            f"({quote_cell(example)} is not a number).",
            details={"field": "metricColumn", "column": column.name},
        )


def _dimension_columns(
    columns: list[Column], choice: Choice, taken: set[str], max_dims: int
) -> list[str]:
    if not choice.dimension_columns:
        return _default_dimensions(columns, taken, max_dims)
    chosen: list[str] = []
    for wanted in expand_names(columns, choice.dimension_columns):
        column = find_column(columns, wanted, "dimensionColumn")
        _refuse_personal(column, "dimensionColumn", "a dimension")
        if column.name in taken:
            raise Unprocessable(
                f"dimensionColumn: column {quote_cell(column.name)} is already the "
                "time column or a metric.",
                details={"field": "dimensionColumn", "column": column.name},
            )
        if column.name not in chosen:
            chosen.append(column.name)
    if len(chosen) > max_dims:
        raise ValidationFailed(
            f"dimensionColumn: at most {max_dims} dimension columns are allowed.",
            details={"field": "dimensionColumn"},
        )
    return chosen


def _default_dimensions(columns: list[Column], taken: set[str], max_dims: int):
    """Categorical text columns with few distinct values, in file order."""
    found = [
        c.name
        for c in columns
        if c.role == "dimension"
        and c.type in ("string", "boolean")
        and 0 < c.distinct <= MAX_DIMENSION_VALUES
        and c.name not in taken
    ]
    return found[: min(DEFAULT_DIMENSIONS, max_dims)]
