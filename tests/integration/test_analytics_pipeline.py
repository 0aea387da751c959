"""Every number of an analysis view matches an independent numpy/pandas/scipy oracle.

Marked `mongo`: the in-process engine always runs; when MONGO_URI points at a
MongoDB >= 7.0 server the same tests also run there (see README)."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import mongomock
import numpy as np
import pandas as pd
import pymongo
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from data import inprocess
from data.analytics.assemble import assemble_view
from data.analytics.params import METHODS, parse_params
from data.analytics.service import build_query
from data.errors import Unprocessable
from tests import oracle
from tests.analytics_data import insert_dataset, sample_frame
from tests.conftest import SAMPLE_CSV

pytestmark = pytest.mark.mongo
ENGINES = ["in-process"] + (["server"] if os.environ.get("MONGO_URI") else [])
BASE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module", params=ENGINES)
def database(request):
    """The in-process engine, and a real MongoDB when MONGO_URI is set."""
    name = f"ib_test_analytics_{uuid.uuid4().hex[:8]}"
    if request.param == "in-process":
        inprocess.install()
        yield mongomock.MongoClient(tz_aware=True)[name]
        return
    client = pymongo.MongoClient(os.environ["MONGO_URI"], tz_aware=True)
    yield client[name]
    client.drop_database(name)
    client.close()


def compute(database, dataset: dict, raw_params: dict) -> dict:
    """One view through the production pipeline and assembly."""
    params = parse_params(raw_params, dataset)
    collection, stages = build_query(dataset, params)
    return assemble_view(
        dataset, params, next(iter(database[collection].aggregate(stages)))
    )


def close(got, want, scale: float) -> bool:
    """Equal up to floating rounding relative to the data's magnitude; where the
    oracle overflows (inf) or is undefined (NaN) the view says null."""
    if want is None or not np.isfinite(want):
        return got is None
    return got is not None and abs(got - want) <= 1e-9 * max(scale, 1.0) + 1e-9 * abs(
        want
    )


values_strategy = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.integers(-3, 3).map(float),
    st.sampled_from([1e12, -1e12, 0.0]),
    st.none(),
)
regions = st.sampled_from(["N", "S"])
# Sparse rows over two months, or dense rows around a level with spikes and drops.
frames = st.one_of(
    st.lists(st.tuples(st.integers(0, 24 * 60), values_strategy, regions), max_size=30),
    st.lists(
        st.tuples(
            st.integers(0, 72),
            st.one_of(st.floats(95, 105), st.sampled_from([400.0, -200.0, 100.0])),
            regions,
        ),
        min_size=5,
        max_size=40,
    ),
)


# Always-run cases for the property tests: (hour, value, region) rows.
EDGE_ROWS = {
    "empty": [],
    "one": [(5, 42.0, "N")],
    "two": [(0, 5.0, "N"), (30, -2.0, "S")],
    "constant": [(24 * d, 7.0, "NS"[d % 2]) for d in range(10)],
    "ties": [(24 * d, float(d % 3), "N") for d in range(12)] + [(300, 40.0, "S")],
    "missing": [(0, None, "N"), (24, 3.0, "S"), (48, None, "N"), (72, 4.0, "N"),
                (96, 5.0, "S"), (150, None, "S"), (200, 90.0, "N")],
    "huge": [(24 * d, v, "N") for d, v in
             enumerate([1e300, -1e300, 2e300, 1e300, 1e300, -3e300, 1e300, 1e300])],
    "negative": [(24 * d, -float(d * d) - 1.0, "NS"[d % 2]) for d in range(10)]
    + [(240, -500.0, "N")],
}  # fmt: skip


def with_edge_rows(**others):
    """One @example per EDGE_ROWS case; each other argument is a value or a
    function of the case's name."""

    def apply(test):
        for name, rows in EDGE_ROWS.items():
            extra = {k: v(name) if callable(v) else v for k, v in others.items()}
            test = example(rows=rows, **extra)(test)
        return test

    return apply


EDGE_METHODS = dict(
    zip(EDGE_ROWS, ["auto", "gesd", "modified_zscore", "iqr", "gesd",
                    "rolling_zscore", "zscore", "auto"], strict=True)
)  # fmt: skip
EDGE_AGGREGATIONS = dict(
    zip(EDGE_ROWS, ["sum", "mean", "count", "min", "max", "sum", "mean", "sum"],
        strict=True)
)  # fmt: skip


def frame_of(rows) -> pd.DataFrame:
    """Rows spread over two months of hours, with a region dimension."""
    return pd.DataFrame(
        {
            "t": pd.to_datetime(
                [BASE + dt.timedelta(hours=hour) for hour, _, _ in rows], utc=True
            ),
            "sales": [np.nan if value is None else value for _, value, _ in rows],
            "region": [region for _, _, region in rows],
        }
    )


def check_series(view, frame, params):
    expected, counts = oracle.bucketed(
        frame, "sales", params["granularity"], params["aggregation"]
    )
    scale = float(np.nansum(np.abs(frame["sales"]))) if len(frame) else 1.0
    assert [point["t"] for point in view["series"]] == [
        moment.isoformat() for moment in expected.index
    ]
    for point, want, count in zip(view["series"], expected, counts, strict=True):
        assert close(point["value"], want, scale), (point, want)
        assert point["count"] == count
    return expected, scale


def check_summary(view, expected: pd.Series, scale: float):
    values = expected.dropna().to_numpy()
    want = oracle.summary(values, int(expected.isna().sum()))
    for name, value in want.items():
        assert close(view["summary"][name], value, scale), (name, view["summary"], want)
    if values.size == 0:
        assert view["histogram"]["counts"] == [] and view["box"]["outliers"] == []
        return
    edges, counts = oracle.histogram(values)
    assert np.allclose(
        view["histogram"]["edges"], edges, rtol=1e-12, atol=1e-12 * scale
    )
    assert sum(view["histogram"]["counts"]) == (values.size if len(edges) else 0)
    # Bucket sums may differ from the oracle's in the last bit; a value that sits
    # on a bin edge may then fall either side of it.
    on_edge = np.isclose(
        values[:, None], edges[None, :], rtol=1e-12, atol=1e-12 * scale
    )
    if not on_edge.any():
        assert view["histogram"]["counts"] == counts.tolist()
    box = oracle.box(values, 1.5)
    if not near_fences(values, box["fences"], scale):
        assert len(view["box"]["outliers"]) == len(box["outliers"])
        for got, want in zip(view["box"]["outliers"], box["outliers"], strict=True):
            assert close(got, want, scale)
    for name in ("lower_whisker", "upper_whisker"):
        assert close(view["box"][name], box[name], scale)
    for got, want in zip(view["thresholds"]["iqr"], box["fences"], strict=True):
        assert close(got, want, scale)


def near_fences(values: np.ndarray, fences, scale: float) -> bool:
    """A value within rounding distance of a Tukey fence (either side is right)."""
    return bool(
        np.isclose(
            values[:, None], np.array(fences)[None, :], rtol=1e-12, atol=1e-12 * scale
        ).any()
    )


def check_rolling(view, expected: pd.Series, window: int, scale: float):
    means = expected.rolling(window, min_periods=1).mean()
    stds = expected.rolling(window, min_periods=2).std()
    for point, mean, std in zip(view["rolling"], means, stds, strict=True):
        assert close(point["mean"], mean, scale)
        assert close(point["std"], std, scale * 10)


def oracle_flags(expected: pd.Series, params: dict) -> dict[str, set | None]:
    """Flagged bucket times per method by the oracle; None where a score sits on a
    threshold (rounding decides those) or the method does not apply."""
    values = expected.dropna().to_numpy()
    times = [moment.isoformat() for moment in expected.dropna().index]
    n, window = values.size, params["window"]

    def by_score(score, threshold, minimum):
        if n < minimum:
            return None
        scores = score(values)
        if scores is None:
            return set()
        if np.any(np.abs(np.abs(scores) - threshold) <= 1e-9 * threshold):
            return None
        return {times[i] for i in np.flatnonzero(np.abs(scores) >= threshold)}

    flags: dict[str, set | None] = {
        "zscore": by_score(
            lambda v: oracle.zscore_scores(v) if v.std() > 0 else None, 3.0, 3
        ),
        "modified_zscore": by_score(oracle.modified_zscore_scores, 3.5, 3),
        "iqr": None,
        "gesd": None,
        "rolling_zscore": None,
    }
    if n >= 4:
        fences = oracle.box(values, params["k"])["fences"]
        scale = float(np.abs(values).sum())
        if not near_fences(values, fences, scale):
            flags["iqr"] = {times[i] for i in oracle.iqr_flags(values, params["k"])}
    if n >= 3:
        found, table = oracle.gesd(values, params["alpha"], params["max_outliers"])
        if all(abs(r - lam) > 1e-9 for r, lam in table):
            flags["gesd"] = {times[i] for i in found}
    if n >= window + 1:
        full_times = [moment.isoformat() for moment in expected.index]
        rolling = oracle.rolling_flags(expected, window, 3.0)
        if rolling is not None:
            flags["rolling_zscore"] = {full_times[i] for i in rolling}
    return flags


def auto_flags(flags: dict, n: int, window: int) -> set | None:
    """Auto mode from the oracle's per-method flags: two applicable methods agree."""
    minimums = {"modified_zscore": 3, "iqr": 4, "gesd": 3, "rolling_zscore": window + 1}
    voters = [name for name, least in minimums.items() if n >= least]
    if any(flags[name] is None for name in voters):
        return None
    votes: dict[str, int] = {}
    for name in voters:
        for moment in flags[name]:
            votes[moment] = votes.get(moment, 0) + 1
    return {moment for moment, count in votes.items() if count >= min(2, len(voters))}


def check_detectors(view, expected: pd.Series, params):
    flags = oracle_flags(expected, params)
    n = int(expected.notna().sum())
    flags["auto"] = auto_flags(flags, n, params["window"])
    for name, info in view["methods"].items():
        found = flags.get(name)
        if found is not None:
            assert info["flagged"] == len(found), (name, info, found)
    chosen = flags.get(params["method"])  # no oracle for seasonal_esd here
    if chosen is not None:
        assert {anomaly["t"] for anomaly in view["anomalies"]} == chosen
    for anomaly in view["anomalies"]:
        assert params["method"] in anomaly["methods"] or params["method"] == "auto"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=frames,
    granularity=st.sampled_from(["hour", "day", "week", "month"]),
    aggregation=st.sampled_from(["sum", "mean", "min", "max", "count"]),
    window=st.integers(2, 5),
    method=st.sampled_from(METHODS),
)
@with_edge_rows(
    granularity="day",
    aggregation=EDGE_AGGREGATIONS.get,
    window=3,
    method=EDGE_METHODS.get,
)
def test_bucketed_views_match_the_oracle(
    database, rows, granularity, aggregation, window, method
):
    frame = frame_of(rows)
    dataset = insert_dataset(database, "owner", frame, "t", ["sales"], ["region"])
    raw = {
        "granularity": granularity,
        "aggregation": aggregation,
        "window": window,
        "method": method,
    }
    try:
        view = compute(database, dataset, raw)
    except Unprocessable as error:
        expected, _ = oracle.bucketed(frame, "sales", granularity, aggregation)
        assert error.details["points"] == int(expected.notna().sum())
        assert error.details["points"] < error.details["minimum"]
        return
    params = view["params"]
    # numpy overflows where the view reports null (squares of 1e300 values).
    with np.errstate(over="ignore", invalid="ignore"):
        expected, scale = check_series(view, frame, params)
        check_summary(view, expected, scale)
        check_rolling(view, expected, window, scale)
        check_detectors(view, expected, params)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=frames, region=st.sampled_from(["N", "S"]), days=st.integers(0, 40))
@with_edge_rows(region="N", days=12)
def test_filters_and_date_range_match_the_oracle(database, rows, region, days):
    frame = frame_of(rows)
    dataset = insert_dataset(database, "owner", frame, "t", ["sales"], ["region"])
    start = (BASE + dt.timedelta(days=days // 2)).date()
    end = (BASE + dt.timedelta(days=days)).date()
    raw = {
        "filters": {"region": [region]},
        "from": start.isoformat(),
        "to": end.isoformat(),
    }
    view = compute(database, dataset, raw)
    chosen = frame[frame["region"] == region]
    chosen = chosen[(chosen["t"].dt.date >= start) & (chosen["t"].dt.date <= end)]
    expected, _ = oracle.bucketed(chosen, "sales", "day", "sum")
    full = pd.date_range(
        pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"), freq="D"
    )
    expected = expected.reindex(full)
    assert [p["t"] for p in view["series"]] == [m.isoformat() for m in full]
    scale = float(np.nansum(np.abs(frame["sales"]))) or 1.0
    for point, want in zip(view["series"], expected, strict=True):
        assert close(point["value"], want, scale)
    with np.errstate(over="ignore", invalid="ignore"):  # as in the bucketed test
        check_summary(view, expected, scale)
    assert set(view["dataset"]["dimensions"]["region"]) == set(frame["region"])


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=frames)
@with_edge_rows()
def test_raw_views_match_the_oracle(database, rows):
    frame = frame_of(rows)
    dataset = insert_dataset(database, "owner", frame, "t", ["sales"], ["region"])
    view = compute(database, dataset, {"granularity": "raw", "window": 3})
    ordered = frame.assign(row=range(1, len(frame) + 1)).sort_values(["t", "row"])
    expected = pd.Series(ordered["sales"].to_numpy(), dtype=float)
    scale = float(np.nansum(np.abs(frame["sales"]))) or 1.0
    assert len(view["series"]) == len(frame)
    for point, want in zip(view["series"], expected, strict=True):
        assert close(point["value"], want, scale)
    with np.errstate(over="ignore", invalid="ignore"):  # as in the bucketed test
        check_summary(view, expected, scale)
        check_rolling(view, expected, 3, scale)


def test_sample_default_view_flags_the_three_intended_days(database):
    dataset = insert_dataset(
        database, "owner", sample_frame(SAMPLE_CSV), "date", ["revenue", "orders"]
    )
    view = compute(database, dataset, {})
    assert [a["t"][:10] for a in view["anomalies"]] == [
        "2024-01-03",
        "2024-01-15",
        "2024-01-27",
    ]
    assert view["anomalies"][0]["explanation"] == (
        "Revenue on 2024-01-03 was 89,000, 3.6× the median of 24,500."
    )
    assert [a["direction"] for a in view["anomalies"]] == ["spike", "spike", "drop"]
    assert view["summary"]["mean"] == pytest.approx(36685.714285714, rel=1e-12)
    assert view["summary"]["median"] == 24500
    assert view["summary"]["std_pop"] == pytest.approx(26189.0069, rel=1e-8)
    assert view["methods"]["zscore"]["flagged"] == 0
    assert "cannot exceed 2.27" in view["methods"]["zscore"]["note"]
    assert any("z-score misses 3" in line for line in view["insights"])


def test_sample_zscore_view_says_it_finds_nothing_and_why(database):
    dataset = insert_dataset(
        database, "owner", sample_frame(SAMPLE_CSV), "date", ["revenue"]
    )
    view = compute(database, dataset, {"method": "zscore"})
    assert view["anomalies"] == []
    assert view["methods"]["zscore"]["flagged"] == 0
    assert any("the z-score misses 3" in line for line in view["insights"])
