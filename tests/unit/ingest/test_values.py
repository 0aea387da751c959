"""Cell parsing: numbers with currency/separators, missing values, formula safety."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.ingest.values import (
    detect_decimal,
    detect_unit,
    is_boolean_column,
    parse_numbers,
    quote_cell,
)


def parse(cells, decimal="."):
    return parse_numbers(pd.Series(cells, dtype="object"), decimal)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12", 12.0),
        (" 12.5 ", 12.5),
        ("-3", -3.0),
        ("+4", 4.0),
        ("1e3", 1000.0),
        ("$1,234.50", 1234.5),
        ("₹89,000", 89000.0),
        ("1,234,567", 1234567.0),
        ("1 234", 1234.0),
        ("12%", 12.0),
        ("(1,200)", -1200.0),
        ("-$5", -5.0),
        ("$-5", -5.0),
        ("5 €", 5.0),
        (".5", 0.5),
        ("18446744073709551617", 18446744073709551617.0),
    ],
)
def test_numbers_in_common_spellings_parse(cell, expected):
    result = parse([cell])
    assert not result.bad[0] and not result.missing[0]
    assert result.values[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    "cell", ["abc", "1,23", "12..5", "(-5)", "1,2345", "$", "1 2", "--5", "=1+1"]
)
def test_text_that_is_not_a_number_is_bad(cell):
    result = parse([cell])
    assert result.bad[0] and not result.missing[0]
    assert np.isnan(result.values[0])
    assert result.reasons[0] == "not a number"


@pytest.mark.parametrize(
    "cell", ["", "  ", "NaN", "nan", "NULL", "None", "N/A", "-", None]
)
def test_empty_and_null_tokens_are_missing_not_bad(cell):
    result = parse([cell])
    assert result.missing[0] and not result.bad[0]
    assert np.isnan(result.values[0])


@pytest.mark.parametrize("cell", ["Infinity", "-inf", "inf"])
def test_infinite_values_are_bad_with_their_own_reason(cell):
    result = parse([cell])
    assert result.bad[0]
    assert result.reasons[0] == "not a finite number"
    assert np.isnan(result.values[0])


HUGE = 10**400  # what json and pandas' CSV reader hand over for 401 digits


@pytest.mark.parametrize("cell", [HUGE, -HUGE, str(HUGE), "-" + str(HUGE), "1e400"])
def test_numbers_too_large_for_a_double_are_bad_not_a_crash(cell):
    result = parse([cell, 5, "7", None])
    assert list(result.bad) == [True, False, False, False]
    assert result.reasons[0] == "too large to store as a number"
    assert np.isnan(result.values[0])
    assert list(result.values[1:3]) == [5.0, 7.0] and result.missing[3]


def test_integers_beyond_2_to_the_53_are_kept_as_the_nearest_double():
    result = parse([2**53 + 1, str(2**64 + 1)])
    assert not result.bad.any()
    assert list(result.values) == [float(2**53 + 1), float(2**64 + 1)]
    assert result.values[0] == 2**53  # the documented loss of precision


def test_float_columns_from_the_csv_parser_keep_nan_missing_and_inf_bad():
    result = parse_numbers(pd.Series([1.5, np.nan, np.inf, -np.inf]))
    assert result.values[0] == 1.5
    assert list(result.missing) == [False, True, False, False]
    assert list(result.bad) == [False, False, True, True]


def test_decimal_comma_columns():
    result = parse(["1.234,5", "7,25", "-0,5", "1 000,75"], decimal=",")
    assert list(result.values) == pytest.approx([1234.5, 7.25, -0.5, 1000.75])
    assert not result.bad.any()


@pytest.mark.parametrize(
    ("samples", "decimal"),
    [
        (["1.234,5", "7,25"], ","),
        (["12,5", "3"], ","),
        (["1,234.5", "7.25"], "."),
        (["1,234", "7"], "."),  # ambiguous: the dot convention wins
        (["12,5", "7.25"], "."),  # contradictory: the dot convention wins
    ],
)
def test_detect_decimal(samples, decimal):
    assert detect_decimal(samples) == decimal


def test_detect_unit_takes_the_most_common_symbol():
    assert detect_unit(["$1", "$2", "€3"]) == "$"
    assert detect_unit(["₹89,000"]) == "₹"
    assert detect_unit(["12%", "3%"]) == "%"
    assert detect_unit(["12", "3"]) is None


@settings(deadline=None)
@given(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).map(
        lambda value: round(value, 2)
    )
)
def test_formatted_numbers_round_trip(value):
    """A number written with $, thousands separators and parentheses reads back."""
    text = f"${abs(value):,.2f}"
    text = f"({text})" if value < 0 else text
    result = parse([text])
    assert not result.bad[0]
    assert math.isclose(result.values[0], value, rel_tol=1e-12, abs_tol=1e-9)


def test_boolean_columns():
    assert is_boolean_column(["true", "False", "YES", "no"])
    assert not is_boolean_column(["true", "maybe"])
    assert not is_boolean_column([])


def test_quote_cell_is_short_and_printable():
    assert quote_cell("abc") == "'abc'"
    assert quote_cell("a\x01b") == "'a\\x01b'"
    long = quote_cell("x" * 100)
    assert len(long) == 42 and long.endswith("…'")
