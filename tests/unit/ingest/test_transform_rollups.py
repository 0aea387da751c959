"""Chunk validation, record documents and roll-ups against pandas oracles."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data.ingest.dates import ISO
from data.ingest.readers import ERROR_COLUMN, EXTRA_COLUMN
from data.ingest.rollups import GRANULARITIES, RollupAccumulator, bucket_starts
from data.ingest.transform import (
    MAX_REPORTED_ERRORS,
    ConvertPlan,
    convert_chunk,
    record_documents,
)

PLAN = ConvertPlan(
    time=("date", "c0"),
    time_format=ISO,
    metrics=[("revenue", "c1", "."), ("cost", "c2", ",")],
    dimensions=[("region", "c3")],
    width=4,
)


def frame(rows: list[list], start: int = 0, **extra) -> pd.DataFrame:
    index = pd.RangeIndex(start, start + len(rows))
    data = pd.DataFrame(
        rows, columns=["c0", "c1", "c2", "c3"], dtype="object", index=index
    )
    for name, values in extra.items():
        data[name] = values
    return data


def test_bad_rows_are_skipped_and_reported_where_and_what():
    chunk = frame(
        [
            ["2024-01-01", "10", "1,5", "north"],
            ["2024-01-02", "abc", "2", "south"],
            ["", "3", "", "east"],
            ["2024-13-45", "4", "", "west"],
            ["2024-01-05", "Infinity", "x", "=cmd()"],
            ["2024-01-06", "NaN", "", None],
        ],
        start=16,
    )
    converted = convert_chunk(chunk, PLAN)
    assert converted.total == 6 and converted.bad == 4
    assert converted.rows.tolist() == [17, 22]
    assert [e["message"] for e in converted.errors] == [
        "row 18, column revenue: 'abc' is not a number",
        "row 19, column date: the time is missing",
        "row 20, column date: '2024-13-45' is not a date in the format ISO 8601 "
        "(YYYY-MM-DD)",
        "row 21, column revenue: 'Infinity' is not a finite number",
    ]
    assert converted.errors[0] == {
        "row": 18,
        "column": "revenue",
        "message": "row 18, column revenue: 'abc' is not a number",
    }
    assert converted.metrics["c2"][0] == 1.5
    assert np.isnan(converted.metrics["c1"][1])
    assert converted.dimensions["c3"].tolist() == ["north", ""]


def test_json_record_errors_and_extra_fields_are_rows_too():
    rows = [["2024-01-01", 1, None, "a"], [None] * 4, ["2024-01-03", 3, 1, "b"]]
    reasons = [None, "expected an object of column values, got int", None]
    chunk = frame(rows, **{ERROR_COLUMN: reasons, EXTRA_COLUMN: ["", None, "oops"]})
    converted = convert_chunk(chunk, PLAN)
    assert converted.rows.tolist() == [1]
    assert converted.errors[0]["message"] == (
        "row 2: expected an object of column values, got int"
    )
    assert converted.errors[1]["message"].startswith(
        "row 3: it has more fields than the header (4)"
    )


def test_only_the_first_errors_are_described():
    rows = [["2024-01-01", "bad", "", "x"]] * 500
    converted = convert_chunk(frame(rows), PLAN)
    assert converted.bad == 500
    assert len(converted.errors) == MAX_REPORTED_ERRORS
    assert [e["row"] for e in converted.errors] == list(range(1, 21))


def test_record_documents_follow_the_contract():
    converted = convert_chunk(
        frame([["2024-01-01T10:00:00+02:00", "1.5", "", "north"]]), PLAN
    )
    (record,) = record_documents("d" * 32, 3, 2, converted)
    assert record == {
        "datasetId": "d" * 32,
        "version": 3,
        "r": 2,
        "row": 1,
        "t": dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC),
        "m": {"c1": 1.5, "c2": None},
        "d": {"c3": "north"},
    }


def test_bucket_starts():
    times = np.array(
        ["2024-01-03T13:45:10", "2023-12-31T23:59:59", "1969-12-29T05:00:00"],
        dtype="datetime64[us]",
    )
    expected = {
        "hour": ["2024-01-03T13", "2023-12-31T23", "1969-12-29T05"],
        "day": ["2024-01-03", "2023-12-31", "1969-12-29"],
        "week": ["2024-01-01", "2023-12-25", "1969-12-29"],  # Mondays
        "month": ["2024-01", "2023-12", "1969-12"],
    }
    for granularity, starts in expected.items():
        got = bucket_starts(times, granularity)
        assert got.tolist() == np.array(starts, dtype="datetime64[us]").tolist()


def random_frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2023-12-20T00:00:00")
    offsets = rng.integers(0, 60 * 24 * 80, n).astype("timedelta64[m]")
    revenue = rng.normal(1000, 500, n)
    revenue[rng.random(n) < 0.1] = np.nan
    revenue[rng.random(n) < 0.01] = 1e15
    cost = np.where(rng.random(n) < 0.5, -3.25, np.nan)  # constant or missing
    return pd.DataFrame(
        {
            "t": (start + offsets).astype("datetime64[us]"),
            "c1": revenue,
            "c2": cost,
            "c3": rng.choice(["north", "south", "east"], n),
            "c4": rng.choice(["web", "store"], n),
        }
    )


def oracle(data: pd.DataFrame, granularity: str) -> dict:
    """Roll-ups computed directly by pandas over the whole data."""
    # Periods ending on Sunday start on Monday.
    period = {"hour": "h", "day": "D", "week": "W-SUN", "month": "M"}[granularity]
    buckets = data["t"].dt.to_period(period).dt.start_time
    grouped = data.assign(b=buckets).groupby(["b", "c3", "c4"])
    result = {}
    for (bucket, c3, c4), group in grouped:
        key = (bucket.to_pydatetime().replace(tzinfo=dt.UTC), c3, c4)
        result[key] = {
            "rows": len(group),
            **{
                m: (
                    int(group[m].count()),
                    float(group[m].sum()),
                    float((group[m] ** 2).sum()),
                    group[m].min(),
                    group[m].max(),
                )
                for m in ("c1", "c2")
            },
        }
    return result


@pytest.mark.parametrize(
    ("seed", "n", "chunk"), [(1, 3000, 170), (2, 1, 1), (3, 500, 500)]
)
def test_rollups_match_a_whole_data_pandas_oracle(seed, n, chunk):
    """Chunked, merged roll-ups equal the roll-ups of all rows at once."""
    data = random_frame(seed, n)
    accumulator = RollupAccumulator(["c1", "c2"], ["c3", "c4"])
    for start in range(0, n, chunk):
        part = data.iloc[start : start + chunk]
        converted = type("C", (), {})()
        converted.rows = np.arange(len(part))
        converted.times = part["t"].dt.tz_localize("UTC").reset_index(drop=True)
        converted.metrics = {m: part[m].to_numpy() for m in ("c1", "c2")}
        converted.dimensions = {d: part[d].to_numpy(dtype=object) for d in ("c3", "c4")}
        accumulator.add(converted)
    batches = list(accumulator.batches("x" * 32, 1, 1, size=7))
    assert all(len(batch) <= 7 for batch in batches)
    documents = [d for batch in batches for d in batch]
    for granularity in GRANULARITIES:
        expected = oracle(data, granularity)
        got = {
            (d["b"], d["d"]["c3"], d["d"]["c4"]): d
            for d in documents
            if d["g"] == granularity
        }
        assert set(got) == set(expected)
        for key, want in expected.items():
            document = got[key]
            assert document["rows"] == want["rows"]
            for m in ("c1", "c2"):
                count, total, squares, low, high = want[m]
                assert document["n"][m] == count
                assert document["s"][m] == pytest.approx(total, rel=1e-9, abs=1e-6)
                assert document["q"][m] == pytest.approx(squares, rel=1e-9, abs=1e-6)
                if count:
                    assert (document["lo"][m], document["hi"][m]) == (low, high)
                else:
                    assert document["lo"][m] is None and document["hi"][m] is None
