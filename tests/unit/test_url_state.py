"""URL state: parse and serialise round trip, invalid and stale values fall back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import parse_qs

from hypothesis import given
from hypothesis import strategies as st

from components import url_state
from components.url_state import AnalysisState, parse_search, reconcile, serialise
from data.analytics import spec

DATASET = {
    "metrics": ["revenue", "orders"],
    "dimensions": {"region": ["North", "South", "East"], "Channel & Co": ["Web"]},
}


def test_defaults_when_the_query_is_empty():
    state, notices = parse_search("")
    assert state == AnalysisState()
    assert notices == []


def test_every_control_is_read_from_the_query():
    state, notices = parse_search(
        "?metric=orders&version=2&granularity=week&aggregation=mean&method=zscore"
        "&threshold=2.5&k=3&alpha=0.01&max_outliers=4&window=14"
        "&from=2024-01-02&to=2024-01-20&filter.region=North&filter.region=East&embed=1"
    )
    assert notices == []
    assert state == AnalysisState(
        metric="orders",
        version=2,
        granularity="week",
        aggregation="mean",
        method="zscore",
        threshold=2.5,
        k=3.0,
        alpha=0.01,
        max_outliers=4,
        window=14,
        date_from=date(2024, 1, 2),
        date_to=date(2024, 1, 20),
        filters={"region": ("East", "North")},
        embed=True,
    )


def test_serialise_writes_every_control_in_a_stable_order():
    search = serialise(AnalysisState(metric="revenue", date_from=date(2024, 1, 1)))
    keys = list(parse_qs(search[1:]))
    assert keys[:3] == ["metric", "granularity", "aggregation"]
    for key in ("method", "k", "alpha", "max_outliers", "window", "from"):
        assert key in keys
    # Unset threshold and version mean "the method's default" and "the latest".
    assert not {"threshold", "version", "embed"} & set(keys)
    assert "threshold=4" in serialise(AnalysisState(threshold=4.0))


def test_effective_threshold_follows_the_method_unless_set():
    assert url_state.effective_threshold(AnalysisState(method="auto")) == 3.5
    assert url_state.effective_threshold(AnalysisState(method="zscore")) == 3.0
    assert url_state.effective_threshold(AnalysisState(method="iqr")) is None
    chosen = AnalysisState(method="zscore", threshold=2.5)
    assert url_state.effective_threshold(chosen) == 2.5


def test_round_trip_with_awkward_names_and_values():
    state = AnalysisState(
        metric="Revenue (₹) & tax=18%",
        version=3,
        method="iqr",
        k=2.25,
        filters={"Channel & Co": ("Web",), "region": ("North", "South")},
    )
    parsed, notices = parse_search(serialise(state))
    assert notices == []
    assert parsed == state


@given(
    granularity=st.sampled_from(url_state.GRANULARITY.choices),
    method=st.sampled_from(url_state.METHOD.choices),
    threshold=st.floats(url_state.THRESHOLD.low, url_state.THRESHOLD.high),
    window=st.integers(int(url_state.WINDOW.low or 0), int(url_state.WINDOW.high or 0)),
    metric=st.text(min_size=1, max_size=30),
    values=st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=4),
)
def test_round_trip_property(granularity, method, threshold, window, metric, values):
    state = AnalysisState(
        metric=metric,
        granularity=granularity,
        method=method,
        threshold=threshold,
        window=window,
        filters={"dim": tuple(sorted(set(values)))},
    )
    parsed, notices = parse_search(serialise(state))
    assert notices == []
    assert parsed == state


def test_invalid_values_fall_back_to_defaults_with_one_notice_each():
    state, notices = parse_search(
        "?granularity=fortnight&method=magic&threshold=abc&k=-1&alpha=nan"
        "&window=2.5&max_outliers=1e9&version=zero&from=2024-13-01&to=yesterday"
    )
    assert state == AnalysisState()
    assert len(notices) == 10
    assert any("fortnight" in notice for notice in notices)
    assert any("magic" in notice for notice in notices)


def test_reversed_date_range_is_dropped_with_a_notice():
    state, notices = parse_search("?from=2024-02-01&to=2024-01-01")
    assert (state.date_from, state.date_to) == (None, None)
    assert notices and "after" in notices[0]


def test_compact_dates_and_long_hostile_values_are_refused_politely():
    state, notices = parse_search("?from=20240101&metric=" + "x" * 5000)
    assert state.date_from is None and state.metric is None
    assert len(notices) == 2
    assert all(len(notice) < 200 for notice in notices)


def test_unknown_keys_are_ignored_and_repeated_keys_use_the_first_value():
    state, notices = parse_search("?utm_source=mail&method=iqr&method=zscore&filter.=x")
    assert state.method == "iqr"
    assert state.filters == {}
    assert notices == []


def test_reconcile_replaces_a_stale_metric_and_drops_unknown_filters():
    state = AnalysisState(
        metric="profit",
        version=9,
        filters={"region": ("North", "Atlantis"), "planet": ("Mars",)},
    )
    fixed, notices = reconcile(state, DATASET, versions=[1, 2])
    assert fixed.metric == "revenue"
    assert fixed.version is None
    assert fixed.filters == {"region": ("North",)}
    assert len(notices) == 4


def test_reconcile_picks_the_first_metric_silently_when_none_was_asked():
    fixed, notices = reconcile(AnalysisState(), DATASET, versions=[1])
    assert fixed.metric == "revenue"
    assert notices == []


def test_reconcile_keeps_a_valid_state_unchanged():
    state = AnalysisState(metric="orders", version=2, filters={"region": ("East",)})
    assert reconcile(state, DATASET, versions=[1, 2]) == (state, [])


def test_to_params_has_the_contract_keys():
    state = replace(AnalysisState(metric="revenue"), date_to=date(2024, 1, 31))
    params = url_state.to_params(state)
    assert set(params) == {
        "metric",
        "granularity",
        "aggregation",
        "method",
        "threshold",
        "k",
        "alpha",
        "max_outliers",
        "window",
        "from",
        "to",
        "filters",
    }
    assert params["to"] == "2024-01-31" and params["from"] is None


def test_reconcile_with_dimension_names_only_checks_the_names():
    state = AnalysisState(filters={"region": ("Atlantis",), "planet": ("Mars",)})
    meta = {"metrics": ["revenue"], "dimensions": ["region"]}
    fixed, notices = reconcile(state, meta)
    assert fixed.filters == {"region": ("Atlantis",)}
    assert len(notices) == 1 and "planet" in notices[0]


def test_too_many_filter_values_name_the_dimension_in_the_notice():
    most = int(spec.FILTERS.high or 0)  # the service's limit too
    search = "?" + "&".join(f"filter.region=r{i}" for i in range(most + 1))
    state, notices = parse_search(search)
    assert state.filters == {}
    assert notices == ["Too many values for filter “region”; ignored."]
