"""The alert state machine and mute timings: pure functions, hand-made series."""

from __future__ import annotations

import datetime as dt

import pytest

from data.alerts import engine
from data.alerts.engine import Bucket, RuleState
from data.alerts.mutes import in_timing, muted
from data.alerts.rules import MuteTiming, parse_rule
from data.errors import ValidationFailed

DATASET = "0" * 32
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def rule(condition: dict, **fields):
    return parse_rule(
        {"datasetId": DATASET, "measure": "revenue", "condition": condition, **fields}
    )


def buckets(values, hours: int = 24) -> list[Bucket]:
    out, previous = [], None
    for index, value in enumerate(values):
        moment = START + dt.timedelta(hours=hours * index)
        out.append(Bucket(moment, value, previous))
        previous = value
    return out


def states(rule_, values, **kw) -> list[str]:
    current, seen = RuleState(), []
    for bucket in buckets(values, **kw):
        current, _events = engine.step(rule_, current, bucket)
        seen.append(current.state)
    return seen


def test_a_value_equal_to_the_threshold_does_not_breach():
    above = rule({"type": "above", "threshold": 10})
    assert states(above, [10, 10.000001, 10]) == ["ok", "firing", "ok"]
    below = rule({"type": "below", "threshold": 10})
    assert states(below, [10, 9.99, 10]) == ["ok", "firing", "ok"]


def test_pending_period_fires_on_the_nth_consecutive_breach():
    pending = rule({"type": "above", "threshold": 5}, forBuckets=3)
    assert states(pending, [6, 6, 1, 6, 6, 6, 6]) == [
        "pending", "pending", "ok", "pending", "pending", "firing", "firing",
    ]  # fmt: skip


def test_hysteresis_keeps_firing_until_the_recovery_value():
    rule_ = rule({"type": "above", "threshold": 100, "recovery": 80})
    assert states(rule_, [101, 90, 85, 80, 90]) == [
        "firing",
        "firing",
        "firing",
        "ok",
        "ok",
    ]


def test_keep_firing_for_buckets_passes_through_recovering():
    rule_ = rule({"type": "above", "threshold": 10}, keepFiringForBuckets=2)
    assert states(rule_, [11, 1, 1, 11, 1, 1, 1]) == [
        "firing", "recovering", "recovering",
        "firing", "recovering", "recovering", "ok",
    ]  # fmt: skip


def test_backtest_counts_firing_intervals_with_their_ends():
    rule_ = rule({"type": "above", "threshold": 10})
    result = engine.backtest(rule_, buckets([11, 12, 1, 1, 13]))
    assert result["count"] == 2
    assert result["firings"] == [
        {"start": "2026-01-01T00:00:00Z", "end": "2026-01-03T00:00:00Z"},
        {"start": "2026-01-05T00:00:00Z", "end": None},
    ]


def test_repeat_interval_is_a_cooldown_between_notifications():
    rule_ = rule({"type": "above", "threshold": 0}, repeatIntervalMinutes=48 * 60)
    events = engine.replay(rule_, buckets([1, 1, 1, 1, 1, 1])).events
    assert [(e.kind, e.t[:10]) for e in events] == [
        ("firing", "2026-01-01"), ("repeat", "2026-01-03"), ("repeat", "2026-01-05"),
    ]  # fmt: skip
    never = rule({"type": "above", "threshold": 0}, repeatIntervalMinutes=0)
    assert [e.kind for e in engine.replay(never, buckets([1] * 6)).events] == ["firing"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("ok", ["firing", "ok", "ok"]),
        ("alerting", ["firing", "firing", "firing"]),
        ("keep", ["firing", "firing", "firing"]),
    ],
)
def test_no_data_policy(policy, expected):
    rule_ = rule({"type": "above", "threshold": 10}, noData=policy)
    assert states(rule_, [11, None, None]) == expected


def test_no_data_alerting_fires_a_quiet_rule_and_keep_does_not():
    alerting = rule({"type": "above", "threshold": 10}, noData="alerting")
    assert states(alerting, [1, None]) == ["ok", "firing"]
    keep = rule({"type": "above", "threshold": 10}, noData="keep", forBuckets=2)
    assert states(keep, [11, None, 11]) == ["pending", "pending", "firing"]


def test_change_pct_with_minimum_volume_guard():
    rise = rule({"type": "change_pct", "threshold": 50, "minVolume": 10})
    # 4 -> 8 is +100% but under the volume guard; 20 -> 40 is +100%; 40 -> 60 is +50%
    assert states(rise, [4, 8, 20, 40, 60]) == ["ok", "ok", "ok", "firing", "ok"]
    drop = rule({"type": "change_pct", "threshold": -20})
    assert states(drop, [100, 79, 79]) == ["ok", "firing", "ok"]


def test_anomaly_condition_uses_the_detectors_severity():
    rule_ = rule({"type": "anomaly", "severity": "high"})
    series = [
        Bucket(START, 1.0, None, None),
        Bucket(START + dt.timedelta(days=1), 9.0, 1.0, "medium"),
        Bucket(START + dt.timedelta(days=2), 30.0, 9.0, "critical"),
        Bucket(START + dt.timedelta(days=3), 1.0, 30.0, None),
    ]
    result = engine.backtest(rule_, series)
    assert result["firings"] == [
        {"start": "2026-01-03T00:00:00Z", "end": "2026-01-04T00:00:00Z"}
    ]


def test_replaying_in_pieces_from_the_stored_state_equals_the_backtest():
    rule_ = rule(
        {"type": "above", "threshold": 5, "recovery": 3},
        forBuckets=2, keepFiringForBuckets=1,
    )  # fmt: skip
    values = [1, 6, 7, 4, 6, 2, 2, 2, 9, 9, None, 9, 1, 1, 8, 8, 8, 0, 0]
    series = buckets(values)
    whole = engine.replay(rule_, series)
    state, events = RuleState(), []
    for end in (3, 4, 9, 15, len(series)):
        # the live path sees the whole history so far each time
        piece = engine.replay(rule_, series[:end], state)
        state, events = piece.state, events + piece.events
    assert events == whole.events
    assert state == whole.state
    assert engine.firings(events) == engine.backtest(rule_, series)["firings"]


def test_mute_timing_is_local_time_across_dst():
    night = MuteTiming(days=["sun"], hours="0-6", tz="Europe/Berlin")
    # 2026-03-29: clocks go from 02:00 CET to 03:00 CEST.
    assert in_timing(night, dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC))  # 01:30
    assert in_timing(night, dt.datetime(2026, 3, 29, 3, 30, tzinfo=dt.UTC))  # 05:30
    # 04:30 UTC is 06:30 CEST: not muted (a fixed +01:00 would say 05:30)
    assert not in_timing(night, dt.datetime(2026, 3, 29, 4, 30, tzinfo=dt.UTC))
    # 2026-10-25: 03:00 CEST becomes 02:00 CET; 05:30 UTC is 06:30 CET
    autumn = MuteTiming(days=["sun"], hours="0-6", tz="Europe/Berlin")
    assert in_timing(autumn, dt.datetime(2026, 10, 25, 4, 30, tzinfo=dt.UTC))  # 05:30
    assert not in_timing(autumn, dt.datetime(2026, 10, 25, 5, 30, tzinfo=dt.UTC))


def test_mute_timing_over_midnight_belongs_to_the_evening_before():
    weeknights = MuteTiming(days=["mon", "tue", "wed", "thu", "fri"], hours="22-6")
    friday_night = dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC)  # Saturday 03:00
    assert muted([weeknights], friday_night)
    sunday_night = dt.datetime(2026, 12, 7, 3, 0, tzinfo=dt.UTC)  # Monday 03:00
    assert not muted([weeknights], sunday_night)
    assert not muted([weeknights], dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"measure": "m", "condition": {"type": "above", "threshold": 1}}, "datasetId"),
        ({"datasetId": DATASET, "condition": {"type": "above"}}, "measure"),
        ({"datasetId": DATASET, "measure": "m"}, "condition"),
        ({"datasetId": DATASET, "measure": "m", "condition": {"type": "over"}},
         "condition.type"),
        ({"datasetId": DATASET, "measure": "m", "condition": {"type": "above"}},
         "condition.threshold"),
        ({"datasetId": DATASET, "measure": "m",
          "condition": {"type": "above", "threshold": 5, "recovery": 6}},
         "condition.recovery"),
        ({"datasetId": DATASET, "measure": "m", "forBuckets": 0,
          "condition": {"type": "anomaly"}}, "forBuckets"),
        ({"datasetId": DATASET, "measure": "m", "noData": "maybe",
          "condition": {"type": "anomaly"}}, "noData"),
        ({"datasetId": DATASET, "measure": "m", "condition": {"type": "anomaly"},
          "muteTimings": [{"tz": "Mars/Olympus"}]}, "muteTimings[0].tz"),
        ({"datasetId": DATASET, "measure": "m", "condition": {"type": "anomaly"},
          "channels": [{"type": "webhook", "url": "http://x", "secret": "abc"}]},
         "channels[0].secret"),
        ({"datasetId": DATASET, "measure": "m", "condition": {"type": "anomaly"},
          "channels": [{"type": "email", "to": ["nobody"]}]}, "channels[0].to[0]"),
        ({"datasetId": DATASET, "measure": "m", "condition": {"type": "anomaly"},
          "channels": [{"type": "sms"}]}, "channels[0].type"),
        ({"datasetId": DATASET, "measure": "m", "condition": {"type": "anomaly"},
          "colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_bad_fields_are_named(body, field):
    with pytest.raises(ValidationFailed) as caught:
        parse_rule(body)
    assert caught.value.details["field"] == field
    assert caught.value.message.startswith(field)


def test_defaults_for_everything_but_dataset_measure_and_condition():
    document = parse_rule(
        {"datasetId": DATASET, "measure": "m", "condition": {"type": "anomaly"}}
    ).model_dump(mode="json", by_alias=True)
    assert document == {
        "name": "Alert", "datasetId": DATASET, "measure": "m", "aggregation": "sum",
        "granularity": "day",
        "condition": {"type": "anomaly", "threshold": None, "recovery": None,
                      "minVolume": 0.0, "severity": "medium"},
        "forBuckets": 1, "keepFiringForBuckets": 0, "noData": "keep",
        "repeatIntervalMinutes": 240, "muteTimings": [], "channels": [],
    }  # fmt: skip
