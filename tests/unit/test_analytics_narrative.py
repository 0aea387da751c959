"""Explanations and number formatting read like the product spec."""

from __future__ import annotations

import datetime as dt

import pytest

from data.analytics import narrative

JAN_3 = dt.datetime(2024, 1, 3, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (89000.0, None, "89,000"),
        (36685.714285, None, "36,685.71"),
        (0.012341, None, "0.01234"),
        (-1500.0, "$", "-$1,500"),
        (24500.0, "₹", "₹24,500"),
        (12.5, "%", "12.5%"),
        (None, None, "n/a"),
    ],
)
def test_format_number(value, unit, text):
    assert narrative.format_number(value, unit) == text


@pytest.mark.parametrize(
    ("value", "granularity", "sentence"),
    [
        (
            89000.0,
            "day",
            "Revenue on 2024-01-03 was 89,000, 3.6× the median of 24,500.",
        ),
        (
            8000.0,
            "day",
            "Revenue on 2024-01-03 was 8,000, 67% below the median of 24,500.",
        ),
        (
            30000.0,
            "week",
            "Revenue in the week of 2024-01-03 was 30,000, 22% above the "
            "median of 24,500.",
        ),
        (
            30000.0,
            "month",
            "Revenue in 2024-01 was 30,000, 22% above the median of 24,500.",
        ),
    ],
)
def test_explanation_sentences(value, granularity, sentence):
    text = narrative.explanation(
        "revenue", JAN_3, granularity, value, 24500.0, "median", None
    )
    assert text == sentence


def test_explanation_with_a_zero_or_negative_baseline():
    text = narrative.explanation("profit", JAN_3, "day", 5.0, -2.0, "median", None)
    assert text == "Profit on 2024-01-03 was 5, 7 above the median of -2."


def test_gap_sentences_depend_on_the_aggregation():
    assert narrative.gap_sentence(
        20, 27, {"granularity": "day", "aggregation": "sum"}
    ) == ("20 of 27 days have no data (shown as gaps, not zeros).")
    assert narrative.gap_sentence(
        3, 10, {"granularity": "hour", "aggregation": "count"}
    ) == ("3 of 10 hours have no rows (counted as 0).")
    assert (
        narrative.gap_sentence(0, 10, {"granularity": "day", "aggregation": "sum"})
        is None
    )


def test_recommended_actions_follow_the_episodes_most_severe_first():
    """One action per episode kind (at most three), dated in the view's words."""
    episodes = [
        {"kind": "spike", "severity": "critical", "start": "2024-01-03T00:00:00+00:00"},
        {"kind": "drop", "severity": "high", "start": "2024-01-10T00:00:00+00:00"},
        {"kind": "level_shift", "severity": "medium",
         "start": "2024-01-15T00:00:00+00:00"},
        {"kind": "trend_change", "severity": "low",
         "start": "2024-01-20T00:00:00+00:00"},
    ]  # fmt: skip
    actions = narrative.recommended_actions("revenue", episodes, "day")
    assert len(actions) == 3
    assert actions[0].startswith(
        "Investigate the critical spike in revenue on 2024-01-03"
    )
    assert actions[1].startswith("Check the high drop in revenue on 2024-01-10")
    assert "level shift in revenue on 2024-01-15" in actions[2]
    weekly = narrative.recommended_actions("revenue", episodes[3:], "week")
    assert weekly[0].startswith("Review what changed in the week of 2024-01-20")


def test_no_episodes_means_no_action():
    (action,) = narrative.recommended_actions("revenue", [], "day")
    assert action.startswith("No action needed")
