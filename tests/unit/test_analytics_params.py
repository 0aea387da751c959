"""Analysis parameters: defaults, validation with valid choices, canonical form."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from data.analytics.params import (
    default_params,
    params_from_query,
    params_hash,
    parse_params,
)
from data.errors import ValidationFailed

DATASET = {
    "metricColumns": ["revenue", "orders"],
    "dimensionColumns": ["region"],
}


def test_defaults_follow_the_dataset():
    assert default_params(DATASET) == {
        "metric": "revenue",
        "granularity": "day",
        "aggregation": "sum",
        "method": "auto",
        "threshold": 3.5,
        "k": 1.5,
        "alpha": 0.05,
        "max_outliers": 10,
        "window": 7,
        "from": None,
        "to": None,
        "filters": {},
    }


@pytest.mark.parametrize(
    ("method", "threshold"),
    [("zscore", 3.0), ("modified_zscore", 3.5), ("rolling_zscore", 3.0), ("iqr", None)],
)
def test_each_method_gets_its_own_default_threshold(method, threshold):
    assert parse_params({"method": method}, DATASET)["threshold"] == threshold


def test_query_strings_and_json_give_the_same_params_and_hash():
    from_query = parse_params(
        params_from_query(
            MultiDict(
                [
                    ("threshold", "3.5"),
                    ("window", "7"),
                    ("filter.region", "South"),
                    ("filter.region", "North"),
                ]
            )
        ),
        DATASET,
    )
    from_json = parse_params(
        {"threshold": 3.5, "window": 7, "filters": {"region": ["North", "South"]}},
        DATASET,
    )
    assert from_query == from_json
    assert params_hash(from_query) == params_hash(from_json)
    assert params_hash(from_query) != params_hash(default_params(DATASET))


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        ({"metric": "profit"}, "metric", "Valid choices: revenue, orders"),
        ({"method": "magic"}, "method", "Valid choices: auto, zscore, iqr"),
        ({"granularity": "year"}, "granularity", "raw, hour, day, week, month"),
        ({"aggregation": "median"}, "aggregation", "sum, mean, count, min, max"),
        ({"threshold": "-1"}, "threshold", "between 0.1 and 100"),
        ({"threshold": "nan"}, "threshold", "between 0.1 and 100"),
        ({"window": "1"}, "window", "between 2 and 365"),
        ({"window": "2.5"}, "window", "whole number"),
        ({"max_outliers": True}, "max_outliers", "whole number"),
        ({"from": "yesterday"}, "from", "ISO date"),
        ({"from": "2024-02-01", "to": "2024-01-01"}, "to", "not be before"),
        ({"filters": {"colour": ["red"]}}, "filters", "Valid choices: region"),
        ({"filters": {"region": []}}, "filters", "list of values"),
        ({"filters": "{"}, "filters", "JSON object"),
        ({"limit": "5"}, "limit", "Valid parameters"),
    ],
)
def test_invalid_input_names_the_field(raw, field, fragment):
    with pytest.raises(ValidationFailed) as caught:
        parse_params(raw, DATASET)
    assert caught.value.details["field"] == field
    assert fragment in caught.value.message


def test_dates_are_canonical():
    params = parse_params(
        {"from": "2024-01-02", "to": "2024-01-05T10:00:00+02:00"}, DATASET
    )
    assert (params["from"], params["to"]) == ("2024-01-02", "2024-01-05T08:00:00+00:00")


def test_dataset_without_metrics_is_refused():
    with pytest.raises(ValidationFailed, match="no numeric metric"):
        default_params({"metricColumns": []})
