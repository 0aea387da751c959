"""KPI views as an agent sees them (disclosure control) against pandas: cells from
fewer than k distinct identifiers (or rows, without an identifier) are hidden,
complements keep them from being worked out by subtraction, and the owner's view
is unchanged. Identifiers are counted from records or from the roll-ups' sketches.

The roll-ups and records are written by the ingest accumulator into the in-process
engine (tests/kpi_data.py); the views are computed by the production service.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data.kpi import service
from data.kpi.params import parse_kpi_query
from data.kpi.service import agent_kpi, compute_kpi, disclosure_rule
from tests.kpi_data import ALL_KINDS, rollup_database, small_events

ADDITIVE = ("page_views", "revenue")
MEASURES = "dau,page_views,revenue,bounce_rate"


@pytest.fixture(scope="module")
def sparse_events():
    """A thin event log (few users per hour): many small cells."""
    frame = small_events(events=700, days=6, seed=5)
    services, dataset = rollup_database(frame)
    return frame, services, dataset


@pytest.fixture(autouse=True, params=["records", "sketches"])
def entity_path(request, monkeypatch):
    """Identifiers counted exactly from records (small data), or from the
    sketches of the dau measure (distinct user_id), by their lower bound."""
    if request.param == "sketches":
        monkeypatch.setattr(service, "EXACT_MAX_ROWS", 0)
    return request.param


def without_identifiers(dataset: dict) -> dict:
    """The same roll-ups read as a dataset without identifier columns (its
    entities are rows); only measures that need no identifier."""
    columns = [
        {**c, "role": "personal"} if c["role"] == "identifier" else c
        for c in dataset["columns"]
    ]
    measures = [m for m in dataset["measures"] if m["name"] in ADDITIVE]
    return {**dataset, "columns": columns, "measures": measures}


def views(services, dataset, k=10, **raw):
    query = parse_kpi_query(raw)
    rule = disclosure_rule({**dataset, "disclosure": {"minEntities": k}})
    owner = compute_kpi(services, dataset, query)
    return owner, agent_kpi(services, dataset, query, rule)


def bucket_rows(frame: pd.DataFrame, start: str, hours: int) -> pd.DataFrame:
    moment = pd.Timestamp(start)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment
    end = moment + pd.Timedelta(hours=hours)
    return frame[(frame.timestamp >= moment) & (frame.timestamp < end)]


def hidden_count(agent: dict) -> int:
    found = 0
    for measure in agent["measures"]:
        found += sum(1 for key in ("value", "comparisonValue")
                     if key in measure.get("suppressed", {}))  # fmt: skip
        found += sum(1 for p in measure["series"] if "suppressed" in p)
        found += sum(1 for p in measure["comparisonSeries"] if "suppressed" in p)
    block = agent.get("breakdown") or {"rows": []}
    for row in [*block["rows"], *([block["other"]] if block.get("other") else [])]:
        found += len(row.get("suppressed", {}))
    return found


def assert_not_derivable(owner: dict, agent: dict, series: str = "series") -> None:
    """The differencing attack on each additive measure: its headline minus the
    visible points equals no hidden point's true value."""
    for mine, theirs in zip(owner["measures"], agent["measures"], strict=True):
        if mine["name"] not in ADDITIVE or theirs["value"] is None:
            continue
        truth = np.array([p["value"] for p in mine[series]], dtype=float)
        shown = [p["value"] for p in theirs[series] if "suppressed" not in p]
        derived = theirs["value"] - float(np.sum(shown))
        for point, value in zip(theirs[series], truth, strict=True):
            if "suppressed" in point:
                assert not np.isclose(derived, value, atol=1e-6), mine["name"]


def test_hourly_points_from_few_people_are_hidden(sparse_events, entity_path):
    frame, services, dataset = sparse_events
    sketched = service.entity_sketch(dataset)
    assert (sketched is not None) == (entity_path == "sketches")
    owner, agent = views(
        services, dataset, measures=MEASURES, granularity="hour",
        **{"from": "2026-11-28", "to": "2026-11-28"}, compare="none",
    )  # fmt: skip
    first = agent["measures"][0]
    people = [
        bucket_rows(frame, p["t"], 1)["user_id"].nunique() for p in first["series"]
    ]
    small = [0 < n < 10 for n in people]
    assert any(small) and not all(small)
    for mine, theirs in zip(owner["measures"], agent["measures"], strict=True):
        for n, low, before, after in zip(
            people, small, mine["series"], theirs["series"], strict=True
        ):
            if low:
                assert after["value"] is None
                assert after["suppressed"] == "fewer than 10 distinct user_id values"
            elif "suppressed" not in after:
                assert after["value"] == before["value"]
            else:
                assert after["suppressed"].startswith("hidden so that") and n >= 10
    assert agent["disclosure"] == {
        "k": 10, "entity": "user_id", "suppressedCells": hidden_count(agent),
    }  # fmt: skip
    assert_not_derivable(owner, agent)
    flagged = {a["t"] for m in agent["measures"] for a in m["anomalies"]}
    hidden = {p["t"] for p in first["series"] if "suppressed" in p}
    assert not flagged & hidden


def test_breakdown_rows_from_few_people_are_hidden_with_a_complement(sparse_events):
    frame, services, dataset = sparse_events
    owner, agent = views(
        services, dataset, k=60, measures=MEASURES, breakdown="campaign", top=2,
        **{"from": "2026-11-26", "to": "2026-11-29"},
    )  # fmt: skip
    days = bucket_rows(frame, "2026-11-26", 4 * 24)
    people = days.groupby("campaign")["user_id"].nunique()
    block, mine = agent["breakdown"], owner["breakdown"]
    rows = [*block["rows"], block["other"]]
    truth = [*mine["rows"], mine["other"]]
    top = [row["value"] for row in block["rows"]]
    entities = [*(people[v] for v in top), people.drop(top).sum()]
    for row, n in zip(rows, entities, strict=True):
        if n < 60:
            assert row["measures"] == dict.fromkeys(row["measures"])
            assert set(row["suppressed"].values()) == {
                "fewer than 60 distinct user_id values"
            }
    hidden = [
        i for i, row in enumerate(rows) if "page_views" in row.get("suppressed", {})
    ]
    assert (
        hidden
        and len(hidden) != 1
        and agent["disclosure"]["suppressedCells"] == (hidden_count(agent))
    )
    for name in ADDITIVE:
        total = next(m["value"] for m in agent["measures"] if m["name"] == name)
        if total is None:
            continue
        shown = sum(
            r["measures"][name] for r in rows if r["measures"][name] is not None
        )
        for i in hidden:
            assert not np.isclose(total - shown, truth[i]["measures"][name])


def test_without_an_identifier_rows_are_the_entities(sparse_events):
    frame, services, dataset = sparse_events
    plain = without_identifiers(dataset)
    owner, agent = views(
        services, plain, k=5, measures="page_views,revenue", granularity="hour",
        **{"from": "2026-11-28", "to": "2026-11-28"}, compare="none",
    )  # fmt: skip
    assert agent["disclosure"]["entity"] == "rows"
    for point in agent["measures"][0]["series"]:
        rows = len(bucket_rows(frame, point["t"], 1))
        if 0 < rows < 5:
            assert point["suppressed"] == "fewer than 5 rows"
    assert any("suppressed" in p for p in agent["measures"][0]["series"])
    assert_not_derivable(owner, agent)


def test_a_filtered_value_is_hidden_when_the_rows_it_leaves_out_are_few(
    sparse_events,
):
    frame, services, dataset = sparse_events
    day = bucket_rows(frame, "2026-11-28", 24)
    counts = day.groupby("campaign")["user_id"].nunique().sort_values()
    rare = counts.index[0]
    assert 0 < counts[rare] < 10 < counts.drop(rare).sum()
    others = ",".join(counts.index[1:])
    _owner, agent = views(
        services, dataset, measures=MEASURES, compare="none",
        **{"from": "2026-11-28", "to": "2026-11-28", "filter.campaign": others},
    )  # fmt: skip
    for measure in agent["measures"]:
        assert measure["value"] is None
        assert measure["suppressed"]["value"].startswith("fewer than 10")


def test_a_large_selection_keeps_its_values(sparse_events):
    _frame, services, dataset = sparse_events
    owner, agent = views(
        services, dataset, measures=MEASURES, granularity="week",
        **{"from": "2026-11-23", "to": "2026-11-29"}, compare="none",
    )  # fmt: skip
    assert agent["disclosure"]["suppressedCells"] == 0
    for mine, theirs in zip(owner["measures"], agent["measures"], strict=True):
        assert theirs["value"] == mine["value"] and "suppressed" not in theirs
        assert theirs["series"] == mine["series"]


def test_comparison_period_cells_are_hidden_too(sparse_events):
    _frame, services, dataset = sparse_events
    _owner, agent = views(
        services, dataset, k=1000, measures=MEASURES, granularity="day",
        **{"from": "2026-11-28", "to": "2026-11-29"}, compare="previous_period",
    )  # fmt: skip
    for measure in agent["measures"]:
        assert measure["comparisonValue"] is None and measure["change"] is None
        assert all(p["value"] is None for p in measure["comparisonSeries"])


def test_the_owner_view_is_unchanged(sparse_events):
    _frame, services, dataset = sparse_events
    query = {"measures": MEASURES, "breakdown": "campaign", "top": 2,
             "from": "2026-11-26", "to": "2026-11-29"}  # fmt: skip
    owner, agent = views(services, dataset, **query)
    again = compute_kpi(services, dataset, parse_kpi_query(query))
    assert "disclosure" not in owner and again == owner
    assert dt.date.fromisoformat(agent["period"]["from"]) == dt.date(2026, 11, 26)


def test_entity_counts_and_rolling_windows(entity_path):
    """A distinct count of the identifier is an entity count (hidden under k,
    even in a large bucket); a rolling window of another column shows nowhere
    its bucket is empty, and its headline (its last point) goes with it."""
    frame = small_events(events=700, days=6, seed=5)
    extra = [
        {"name": "weekly_sessions", "kind": "rolling_distinct",
         "column": "session_id", "windowDays": 7},
        {"name": "buyers", "kind": "distinct", "column": "user_id",
         "where": {"column": "page_type", "value": "checkout"}},
    ]  # fmt: skip
    services, dataset = rollup_database(frame, [*ALL_KINDS, *extra])
    span = {"from": "2026-11-25", "to": "2026-11-30", "compare": "none"}
    owner, agent = views(services, dataset, measures="buyers,page_views", **span)
    buyers = [p["value"] for p in owner["measures"][0]["series"]]
    assert any(0 < v < 10 for v in buyers)
    for before, after in zip(buyers, agent["measures"][0]["series"], strict=True):
        assert after["value"] == (None if 0 < before < 10 else before)
    hourly = {**span, "from": "2026-11-28", "to": "2026-11-28", "granularity": "hour"}
    _owner, agent = views(
        services, dataset, k=3, measures="weekly_sessions,page_views", **hourly
    )
    weekly = agent["measures"][0]
    assert any(p["value"] is not None for p in weekly["series"])
    for point in weekly["series"]:
        if bucket_rows(frame, point["t"], 1).empty:
            assert point["value"] is None and "suppressed" in point
    assert (weekly["value"] is None) == ("suppressed" in weekly["series"][-1])
