"""Cell values: numbers with currency and thousands separators, dates, booleans.

Everything here is vectorised over pandas Series so that a million-row file costs
a few pandas calls per chunk, not a Python call per cell.

Missing values: empty cells and the tokens in `NULL_TOKENS` (NaN, NA, null, ...)
are *missing*, stored as null. Infinity ("not a finite number") and numbers too
large for a double, above about 1.8e308 ("too large to store as a number"), are
*not* numbers: the row is reported as bad. Numbers are stored as doubles, so
integers above 2**53 keep only about 16 significant digits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

NULL_TOKENS = frozenset(
    {"", "na", "n/a", "nan", "-nan", "null", "none", "nil", "-", "--", "—", "#n/a"}
)
# pandas matches NA strings exactly, so the reader gets every spelling it may meet.
PANDAS_NULLS = sorted(
    {variant for token in NULL_TOKENS for variant in (token, token.upper())}
    | {"NaN", "Null", "None", "N/A", "#N/A", "<NA>", "-NaN", "Nil"}
)
CURRENCY_SYMBOLS = "$€£¥₹₩₽₺₫₦₱฿₴₪"
_CURRENCY = f"[{re.escape(CURRENCY_SYMBOLS)}]"
_SPACE_GROUPS = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+"
_DOT_DECIMAL = rf"(?:\d{{1,3}}(?:,\d{{3}})+|{_SPACE_GROUPS}|\d+)(?:\.\d*)?|\.\d+"
_COMMA_DECIMAL = rf"(?:\d{{1,3}}(?:\.\d{{3}})+|{_SPACE_GROUPS}|\d+)(?:,\d*)?|,\d+"


def _number_pattern(body: str) -> re.Pattern:
    return re.compile(
        rf"^\s*(?P<open>\()?\s*(?P<sign>[+-])?\s*(?P<cur>{_CURRENCY})?\s*"
        rf"(?P<sign2>[+-])?\s*(?P<num>{body})(?P<exp>[eE][+-]?\d+)?\s*"
        rf"(?P<cur2>{_CURRENCY})?\s*(?P<pct>%)?\s*(?P<close>\))?\s*$"
    )


NUMBER_PATTERNS = {
    ".": _number_pattern(_DOT_DECIMAL),
    ",": _number_pattern(_COMMA_DECIMAL),
}
BOOLEAN_TOKENS = frozenset({"true", "false", "yes", "no"})
NOT_FINITE = "not a finite number"
TOO_LARGE = "too large to store as a number"


@dataclass(frozen=True)
class ParsedNumbers:
    """Floats (NaN where missing or bad) with masks of missing and bad cells."""

    values: np.ndarray
    missing: np.ndarray
    bad: np.ndarray
    reasons: np.ndarray  # "not a number" / NOT_FINITE / TOO_LARGE where bad


def missing_mask(values: pd.Series) -> np.ndarray:
    """True where a cell is empty or a null token (case-insensitive)."""
    if values.dtype.kind == "f":
        return values.isna().to_numpy()
    lowered = values.astype(str).str.strip().str.lower()
    return (values.isna() | lowered.isin(NULL_TOKENS)).to_numpy(dtype=bool)


def parse_numbers(values: pd.Series, decimal: str = ".") -> ParsedNumbers:
    """Parse a column of cells as numbers; currency, %, and separators allowed."""
    if values.dtype.kind in "fiub":
        numbers = values.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        missing = np.isnan(numbers)
    else:
        missing = missing_mask(values)
        numbers = _strings_to_float(values, missing, decimal)
    infinite = np.isinf(numbers)
    bad = (np.isnan(numbers) & ~missing) | infinite
    reasons = np.full(len(numbers), "not a number", dtype=object)
    if infinite.any():
        reasons[infinite] = _infinity_reasons(values[infinite])
    numbers = np.where(infinite, np.nan, numbers)
    return ParsedNumbers(numbers, missing, bad, reasons)


def _infinity_reasons(cells: pd.Series) -> np.ndarray:
    """Cells that became ±inf: written as infinity, or digits beyond a double.

    Floats from the CSV parser no longer say which, so they count as infinity."""
    if cells.dtype.kind == "f":
        return np.full(len(cells), NOT_FINITE, dtype=object)
    named = cells.astype(str).str.contains("inf", case=False).to_numpy(dtype=bool)
    return np.where(named, NOT_FINITE, TOO_LARGE)


def _strings_to_float(values: pd.Series, missing: np.ndarray, decimal: str):
    """Plain numbers go through to_numeric; the rest through the number pattern."""
    cells = values.astype("object").where(~missing, None)
    if decimal == ".":
        try:
            parsed = pd.to_numeric(cells, errors="coerce")
        except OverflowError:  # Python ints beyond a double (JSON, or big CSV cells)
            parsed = pd.to_numeric(cells.map(_int_as_float), errors="coerce")
        numbers = parsed.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    else:
        numbers = np.full(len(cells), np.nan)
    retry = np.isnan(numbers) & ~missing
    if retry.any():
        numbers[retry] = _clean_numbers(cells[retry].astype(str), decimal)
    return numbers


def _int_as_float(cell: object) -> object:
    """A Python int as a float, ±inf when it is too large for one."""
    if not isinstance(cell, int) or isinstance(cell, bool):
        return cell
    try:
        return float(cell)
    except OverflowError:
        return math.inf if cell > 0 else -math.inf


def _clean_numbers(cells: pd.Series, decimal: str) -> np.ndarray:
    """Numbers written with currency symbols, separators, %, or (negatives)."""
    parts = cells.str.extract(NUMBER_PATTERNS[decimal])
    balanced = parts["open"].isna() == parts["close"].isna()
    sign_inside_parens = parts["open"].notna() & (
        parts["sign"].notna() | parts["sign2"].notna()
    )
    # A second sign belongs after a currency symbol ("$-5"), never after a sign.
    stray_sign = parts["sign2"].notna() & (parts["cur"].isna() | parts["sign"].notna())
    valid = parts["num"].notna() & balanced & ~sign_inside_parens & ~stray_sign
    digits = parts["num"].fillna("").str.replace(r"[ \u00a0\u202f]", "", regex=True)
    if decimal == ",":
        digits = digits.str.replace(".", "", regex=False).str.replace(",", ".")
    else:
        digits = digits.str.replace(",", "", regex=False)
    negative = (parts["sign"] == "-") | (parts["sign2"] == "-") | parts["open"].notna()
    text = np.where(negative, "-", "") + digits + parts["exp"].fillna("")
    numbers = pd.to_numeric(pd.Series(text, index=cells.index), errors="coerce")
    return np.where(valid, numbers.to_numpy(dtype="float64"), np.nan)


def detect_decimal(samples: list[str], comma_allowed: bool = True) -> str:
    """',' when some values only make sense with a decimal comma and none with '.'.

    In comma-separated files a decimal comma would need quotes around every number,
    so there the dot convention is kept (comma_allowed=False).
    """
    if not comma_allowed:
        return "."
    dot_only = comma_only = 0
    for sample in samples:
        dot = bool(NUMBER_PATTERNS["."].match(sample))
        comma = bool(NUMBER_PATTERNS[","].match(sample))
        dot_only += dot and not comma
        comma_only += comma and not dot
    return "," if comma_only and not dot_only else "."


def detect_unit(samples: list[str]) -> str | None:
    """The currency symbol or % most often written in the values, if any."""
    counts: dict[str, int] = {}
    for sample in samples:
        for symbol in CURRENCY_SYMBOLS + "%":
            if symbol in sample:
                counts[symbol] = counts.get(symbol, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda symbol: counts[symbol])


def is_boolean_column(samples: list[str]) -> bool:
    """True when every sampled value is true/false/yes/no."""
    return bool(samples) and all(s.strip().lower() in BOOLEAN_TOKENS for s in samples)


def quote_cell(value: object, limit: int = 40) -> str:
    """A short, printable rendering of a cell for error messages."""
    text = str(value)
    printable = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    if len(printable) > limit:
        printable = printable[: limit - 1] + "…"
    return f"'{printable}'"
