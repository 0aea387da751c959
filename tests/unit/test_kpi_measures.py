"""Measures: validation names the bad field and the allowed values; proposals."""

from __future__ import annotations

import pytest

from data.errors import ValidationFailed
from data.ingest.measures import KINDS, parse_measures, propose_measures
from tests.kpi_data import ALL_KINDS, COLUMNS


def refused(measures) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        parse_measures(measures, COLUMNS)
    return {"message": caught.value.message, **caught.value.details}


def test_every_kind_is_accepted_and_round_trips():
    parsed = parse_measures(ALL_KINDS, COLUMNS)
    assert {m.kind for m in parsed} == set(KINDS)
    again = parse_measures([m.document() for m in parsed], COLUMNS)
    assert [m.document() for m in again] == [m.document() for m in parsed]


@pytest.mark.parametrize(
    ("measure", "field", "allowed"),
    [
        ({"name": "x", "kind": "median"}, "measures[0].kind", list(KINDS)),
        (
            {"name": "x", "kind": "count", "format": "money"},
            "measures[0].format",
            ["number", "integer", "percent", "currency"],
        ),
        (
            {"name": "x", "kind": "sum", "column": "user_id"},
            "measures[0].column",
            ["revenue"],
        ),
        (
            {"name": "x", "kind": "distinct", "column": "revenue"},
            "measures[0].column",
            [
                "user_id",
                "session_id",
                "page_type",
                "traffic_source",
                "campaign",
                "product_category",
                "bounced",
            ],
        ),
        (
            {"name": "x", "kind": "ratio", "numerator": "nope", "denominator": "x"},
            "measures[0].numerator",
            [],
        ),
        (
            {"name": "x", "kind": "count", "where": {"column": "user_id", "value": 1}},
            "measures[0].where.column",
            [
                "page_type",
                "traffic_source",
                "campaign",
                "product_category",
                "bounced",
                "revenue",
            ],
        ),
    ],
)
def test_a_bad_field_is_named_with_the_allowed_values(measure, field, allowed):
    error = refused([measure])
    assert error["field"] == field
    assert error["allowed"] == allowed
    assert field in error["message"]


@pytest.mark.parametrize(
    ("measures", "field"),
    [
        ([{"name": "Bad Name", "kind": "count"}], "measures[0].name"),
        ([{"name": "a" * 41, "kind": "count"}], "measures[0].name"),
        ([{"name": "rows", "kind": "count", "colour": "red"}], "measures[0].colour"),
        (
            [{"name": "a", "kind": "count"}, {"name": "a", "kind": "count"}],
            "measures[1].name",
        ),
        (
            [{"name": "m", "kind": "rolling_distinct", "column": "user_id"}],
            "measures[0].windowDays",
        ),
        (
            [
                {
                    "name": "m",
                    "kind": "rolling_distinct",
                    "column": "user_id",
                    "windowDays": 0,
                }
            ],
            "measures[0].windowDays",
        ),
        ([{"name": "m", "kind": "count", "column": "revenue"}], "measures[0].column"),
        ([], "measures"),
        ("rows", "measures"),
        ([7], "measures[0]"),
    ],
)
def test_malformed_measures_are_refused(measures, field):
    assert refused(measures)["field"] == field


def test_a_ratio_may_not_divide_a_ratio():
    measures = [
        {"name": "a", "kind": "count"},
        {"name": "r", "kind": "ratio", "numerator": "a", "denominator": "a"},
        {"name": "rr", "kind": "ratio", "numerator": "r", "denominator": "a"},
    ]
    error = refused(measures)
    assert error["field"] == "measures[2].numerator" and error["allowed"] == ["a"]


def test_proposals_from_an_inferred_schema():
    columns = [
        {**c, "type": "boolean"} if c["name"] == "bounced" else c for c in COLUMNS
    ]
    proposed = propose_measures(columns)
    names = [m["name"] for m in proposed]
    assert names == [
        "rows",
        "distinct_user_id",
        "distinct_session_id",
        "sum_revenue",
        "distinct_user_id_bounced",
        "bounced_rate",
    ]
    rate = proposed[-1]
    assert rate["kind"] == "ratio" and rate["higherIsBetter"] is False
    assert proposed[3]["format"] == "currency"
    assert parse_measures(proposed, columns)  # proposals are valid measures
