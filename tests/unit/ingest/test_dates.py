"""Date formats: one per time column, ambiguity and mixtures refused clearly."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from data.errors import Unprocessable
from data.ingest.dates import (
    ISO,
    choose_format,
    format_by_pattern,
    looks_like_dates,
    parse_dates,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("samples", "pattern"),
    [
        (["2024-01-01", "2024-01-31"], ISO),
        (["2024-01-01T10:00:00Z", "2024-01-01 11:30"], ISO),
        (["31/01/2024", "01/02/2024"], "%d/%m/%Y"),
        (["01/31/2024", "02/01/2024"], "%m/%d/%Y"),
        (["31.01.2024"], "%d.%m.%Y"),
        (["Jan 5, 2024", "Feb 10, 2024"], "%b %d, %Y"),
        (["5 January 2024"], "%d %B %Y"),
        (["31/01/2024 14:05"], "%d/%m/%Y %H:%M"),
    ],
)
def test_choose_format(samples, pattern):
    assert choose_format("date", samples, None).pattern == pattern


def test_day_month_ambiguity_needs_a_decision():
    with pytest.raises(Unprocessable, match=r"ambiguous.*dayFirst"):
        choose_format("date", ["01/02/2024", "03/04/2024"], None)
    assert choose_format("date", ["01/02/2024"], True).pattern == "%d/%m/%Y"
    assert choose_format("date", ["01/02/2024"], False).pattern == "%m/%d/%Y"


def test_mixed_formats_are_refused_naming_both():
    with pytest.raises(Unprocessable, match="mixes date formats") as caught:
        choose_format("date", ["2024-01-01", "2024-01-02", "15/01/2024"], None)
    assert "'2024-01-01'" in caught.value.message
    assert "'15/01/2024'" in caught.value.message


def test_values_that_are_not_dates_at_all_are_refused():
    with pytest.raises(Unprocessable, match="'north' is not a date"):
        choose_format("region", ["north", "south"], None)
    with pytest.raises(Unprocessable, match="no values"):
        choose_format("date", [], None)


def test_a_few_non_dates_among_dates_pick_the_dates_format():
    """Typos are bad rows later, not a reason to refuse the whole column."""
    assert (
        choose_format("date", ["2024-01-01", "2024-01-02", "oops"], None).pattern == ISO
    )


def test_parse_dates_converts_offsets_to_utc_and_marks_misfits():
    parsed = parse_dates(
        pd.Series(["2024-01-01T10:00:00+05:30", "2024-01-01", "junk", None, ""]), ISO
    )
    assert parsed[0].to_pydatetime() == dt.datetime(2024, 1, 1, 4, 30, tzinfo=UTC)
    assert parsed[1].to_pydatetime() == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert parsed[2:].isna().all()


def test_looks_like_dates():
    assert looks_like_dates(["2024-01-01", "2024-02-01"])
    assert not looks_like_dates(["2024", "2025"])  # years are numbers
    assert not looks_like_dates(["north", "south"])
    assert not looks_like_dates([])


def test_labels_are_human():
    assert format_by_pattern("%d/%m/%Y").label == "DD/MM/YYYY"
    assert format_by_pattern(ISO).label.startswith("ISO 8601")
