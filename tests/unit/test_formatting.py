"""Human number formatting against Python's own formatting of the same numbers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import formatting as fmt


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (36685.714, "₹", "₹36,686"),
        (1234.6, "$", "$1,235"),
        (-1234.4, "$", "−$1,234"),
        (999.5, "$", "$999.50"),
        (12.5, "%", "12.50%"),
        (0.001234, None, "0.00123"),
        (0, None, "0"),
        (7, None, "7"),
        (None, "$", "—"),
        (math.nan, None, "—"),
        (math.inf, None, "—"),
    ],
)
def test_format_number_examples(value, unit, expected):
    assert fmt.format_number(value, unit) == expected


@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15)
)
def test_format_number_reads_back_as_the_same_number(value):
    text = fmt.format_number(value).replace(",", "").replace("−", "-")
    places = fmt.sensible_decimals(value)
    assert float(text) == pytest.approx(round(value, places), abs=10**-places)


def test_compact_form_for_millions_and_full_form_below():
    assert fmt.format_compact(1_234_567, "₹") == "₹1.23M"
    assert fmt.format_compact(2_000_000_000) == "2B"
    assert fmt.format_compact(-5_500_000) == "−5.5M"
    assert fmt.format_compact(999_999) == "999,999"
    assert fmt.format_compact(123.25) == "123.25"


def test_counts_percentages_and_axis_affixes():
    assert fmt.format_count(1234567) == "1,234,567"
    assert fmt.format_count(None) == "—"
    assert fmt.format_percent(262.857) == "+262.9%"
    assert fmt.format_percent(-67.35) == "−67.3%"
    assert fmt.format_percent(0) == "0.0%"
    assert fmt.axis_affixes("₹") == {"tickprefix": "₹"}
    assert fmt.axis_affixes("%") == {"ticksuffix": "%"}
    assert fmt.axis_affixes(None) == {}


def test_timestamps_follow_the_granularity():
    moment = "2024-01-03T14:00:00+00:00"
    assert fmt.format_timestamp(moment) == "2024-01-03"
    assert fmt.format_timestamp(moment, "hour") == "2024-01-03 14:00"
    assert fmt.format_timestamp(moment, "month") == "Jan 2024"
    assert fmt.format_timestamp("not a date") == "not a date"
    assert fmt.format_timestamp(None) == "—"
