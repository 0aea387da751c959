"""Date and time columns: detect one format per column, then parse it fast.

A time column must use one format. ISO 8601 (with or without time and offset) is
preferred; common day-first and month-first formats are recognised too. When the
sample fits both day-first and month-first (every day is 12 or less), the format is
ambiguous and the caller must say which one (`dayFirst`): guessing would silently
swap days and months. Times without an offset are taken as UTC.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import pandas as pd

from data.errors import Unprocessable
from data.ingest.values import quote_cell

ISO = "ISO8601"
# Something date-shaped: 2024-01-31, 31/01/24, 31.1.2024, Jan 31 2024, 31 January.
DATE_HINT = re.compile(
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{4}-\d{2}|[A-Za-z]{3,9}\.? \d{1,2}"
    r"|\d{1,2}[ -][A-Za-z]{3,9}"
)
_DATES: list[tuple[str, str, str | None]] = [
    ("%Y-%m-%d", "YYYY-MM-DD", None),
    ("%Y/%m/%d", "YYYY/MM/DD", None),
    ("%d/%m/%Y", "DD/MM/YYYY", "day"),
    ("%m/%d/%Y", "MM/DD/YYYY", "month"),
    ("%d-%m-%Y", "DD-MM-YYYY", "day"),
    ("%m-%d-%Y", "MM-DD-YYYY", "month"),
    ("%d.%m.%Y", "DD.MM.YYYY", "day"),
    ("%m.%d.%Y", "MM.DD.YYYY", "month"),
    ("%d/%m/%y", "DD/MM/YY", "day"),
    ("%m/%d/%y", "MM/DD/YY", "month"),
    ("%d %b %Y", "DD Mon YYYY", None),
    ("%d-%b-%Y", "DD-Mon-YYYY", None),
    ("%b %d %Y", "Mon DD YYYY", None),
    ("%b %d, %Y", "Mon DD, YYYY", None),
    ("%d %B %Y", "DD Month YYYY", None),
    ("%B %d, %Y", "Month DD, YYYY", None),
    ("%B %d %Y", "Month DD YYYY", None),
]
_TIMES = [
    ("", ""),
    (" %H:%M", " hh:mm"),
    (" %H:%M:%S", " hh:mm:ss"),
    (" %I:%M %p", " hh:mm AM"),
    (" %I:%M:%S %p", " hh:mm:ss AM"),
]


@dataclass(frozen=True)
class DateFormat:
    """A strptime format (or ISO8601), its human label and its day/month order."""

    pattern: str
    label: str
    order: str | None = None


CANDIDATES: list[DateFormat] = [DateFormat(ISO, "ISO 8601 (YYYY-MM-DD)")] + [
    DateFormat(date + time, label + time_label, order)
    for date, label, order in _DATES
    for time, time_label in _TIMES
]
_BY_PATTERN = {candidate.pattern: candidate for candidate in CANDIDATES}


def format_by_pattern(pattern: str) -> DateFormat:
    """The candidate with this pattern (stored in dataset documents)."""
    return _BY_PATTERN[pattern]


def parse_dates(values: pd.Series, pattern: str) -> pd.Series:
    """Parse with one format into UTC timestamps; NaT where a cell does not fit."""
    if values.dtype == object:
        values = values.where(values.notna(), None)
    with warnings.catch_warnings():
        # Out-of-range dates become NaT (reported per row); no warning needed.
        warnings.simplefilter("ignore")
        return pd.to_datetime(values, format=pattern, utc=True, errors="coerce")


def coverage(samples: list[str]) -> dict[str, int]:
    """How many of the samples each candidate format parses (0 for most).

    When ISO 8601 reads every sample it is the answer, and the other candidates
    are not tried (the common case, and the expensive part of an upload's analysis).
    """
    series = pd.Series(samples, dtype="object")
    counts = dict.fromkeys(_BY_PATTERN, 0)
    iso = int(parse_dates(series, ISO).notna().sum()) if samples else 0
    if samples and iso == len(samples):
        counts[ISO] = iso
        return counts
    for candidate in _plausible(samples):
        counts[candidate.pattern] = int(
            parse_dates(series, candidate.pattern).notna().sum()
        )
    return counts


def _plausible(samples: list[str]) -> list[DateFormat]:
    """Candidates that read at least one of a few probe values (cheap pre-filter)."""
    probe = [s for s in samples if DATE_HINT.search(s)][:5]
    if not probe:
        return []
    series = pd.Series(probe, dtype="object")
    return [c for c in CANDIDATES if parse_dates(series, c.pattern).notna().any()]


def looks_like_dates(samples: list[str], share: float = 0.9) -> bool:
    """True when one format parses at least `share` of the samples."""
    hinted = sum(1 for sample in samples[:50] if DATE_HINT.search(sample))
    if not samples or hinted < share * min(len(samples), 50):
        return False
    if _all_plain_numbers(samples):
        return False
    counts = coverage(samples)
    return max(counts.values()) >= share * len(samples)


def _all_plain_numbers(samples: list[str]) -> bool:
    numbers = pd.to_numeric(pd.Series(samples, dtype="object"), errors="coerce")
    return bool(numbers.notna().all())


def choose_format(
    column: str, samples: list[str], day_first: bool | None
) -> DateFormat:
    """The single format of a time column, or a clear error (ambiguous, mixed, none)."""
    if not samples:
        raise Unprocessable(f"Time column '{column}' has no values in the first rows.")
    counts = coverage(samples)
    complete = [c for c in CANDIDATES if counts[c.pattern] == len(samples)]
    if complete:
        return _pick_complete(column, samples, complete, day_first)
    best = max(CANDIDATES, key=lambda candidate: counts[candidate.pattern])
    if counts[best.pattern] == 0:
        raise Unprocessable(
            f"Time column '{column}': {quote_cell(samples[0])} is not a date or time "
            "in a recognised format (use ISO 8601, e.g. 2024-01-31)."
        )
    _raise_if_mixed(column, samples, best, day_first)
    return best


def _pick_complete(
    column: str, samples: list[str], complete: list[DateFormat], day_first: bool | None
) -> DateFormat:
    """Prefer ISO; among day/month twins use dayFirst, or refuse to guess."""
    if complete[0].pattern == ISO:
        return complete[0]
    orders = {candidate.order for candidate in complete}
    if {"day", "month"} <= orders:
        if day_first is None:
            raise Unprocessable(
                f"Time column '{column}' is ambiguous: {quote_cell(samples[0])} could "
                "be day-first or month-first. Choose one with dayFirst=true or false.",
                details={"column": column, "field": "dayFirst"},
            )
        wanted = "day" if day_first else "month"
        complete = [c for c in complete if c.order in (wanted, None)]
    return complete[0]


def _raise_if_mixed(
    column: str, samples: list[str], best: DateFormat, day_first: bool | None
) -> None:
    """Values the best format misses but another format reads: mixed formats."""
    parsed = parse_dates(pd.Series(samples, dtype="object"), best.pattern)
    misfits = [s for s, ok in zip(samples, parsed.notna(), strict=True) if not ok]
    for misfit in misfits:
        other = _format_of(misfit)
        if other is not None:
            example = next(
                s for s, ok in zip(samples, parsed.notna(), strict=True) if ok
            )
            raise Unprocessable(
                f"Time column '{column}' mixes date formats: {quote_cell(example)} "
                f"({best.label}) and {quote_cell(misfit)} ({other.label}). "
                "Use one format for the whole column.",
                details={"column": column},
            )


def _format_of(sample: str) -> DateFormat | None:
    counts = coverage([sample])
    return next((c for c in CANDIDATES if counts[c.pattern]), None)
