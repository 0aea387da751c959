"""KPI views against pandas on random event logs: every measure kind, every
granularity, business hours across DST changes and over midnight, filters,
breakdowns, comparisons at month ends and leap days, empty periods.

The roll-ups are written by the ingest accumulator into the in-process engine; the
view is computed by the production service. The oracle uses only pandas and the
frame's own local times.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from data.demo_events import generate_events
from data.kpi import service
from data.kpi.params import parse_kpi_query
from data.kpi.service import compute_kpi
from tests.kpi_data import ALL_KINDS, oracle, ratio_oracle, rollup_database

BY_NAME = {m["name"]: m for m in ALL_KINDS}
WEEKDAY = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@pytest.fixture(scope="module")
def leap_quarter():
    """Q1 2028 (a leap year; DST starts on 12 March in New York, 26 March in
    Berlin), 6,000 events."""
    frame = generate_events(events=6000, days=91, seed=7, end=dt.date(2028, 3, 31))
    services, dataset = rollup_database(frame)
    return frame, services, dataset


@pytest.fixture(params=["records", "sketches"])
def distinct_path(request, monkeypatch):
    """Distinct counts exact from records (small data), or from the sketches."""
    if request.param == "sketches":
        monkeypatch.setattr(service, "EXACT_MAX_ROWS", 0)
    return request.param


def assert_path(result: dict, path: str) -> None:
    for measure in result["measures"]:
        if BY_NAME[measure["name"]]["kind"] == "distinct":
            assert measure["approximate"] is (path == "sketches"), measure["name"]
            assert (measure["relativeError"] > 0) is (path == "sketches")


def view(services, dataset, **query):
    return compute_kpi(services, dataset, parse_kpi_query(query))


def business_mask(local: pd.Series, hours: str | None, days: str | None) -> np.ndarray:
    mask = np.ones(len(local), dtype=bool)
    if hours:
        start, end = (int(p) for p in hours.split("-"))
        hour = local.dt.hour
        mask &= (
            ((hour >= start) & (hour < end))
            if start < end
            else ((hour >= start) | (hour < end))
        )
    if days:
        first, last = (WEEKDAY[d] for d in days.split("-"))
        mask &= local.dt.day_of_week.between(first, last).to_numpy()
    return mask


def bucket_key(local: pd.Series, granularity: str) -> pd.Series:
    day = local.dt.date
    if granularity == "week":
        return pd.Series(
            [d - dt.timedelta(days=d.weekday()) for d in day], index=local.index
        )
    if granularity == "month":
        return pd.Series([d.replace(day=1) for d in day], index=local.index)
    if granularity == "hour":
        return local.dt.tz_convert("UTC").dt.floor("h")
    return day


def api_key(t: str, granularity: str, tz: str):
    moment = pd.Timestamp(t)
    return moment if granularity == "hour" else moment.tz_convert(tz).date()


def expected_value(rows: pd.DataFrame, measure: dict, lookback=None):
    if measure["kind"] == "ratio":
        return ratio_oracle(rows, measure, BY_NAME)
    return oracle(rows, measure, lookback)


def check_close(actual, expected, relative, label):
    if expected is None:
        assert actual is None, label
    else:
        assert actual == pytest.approx(expected, rel=relative + 1e-9, abs=1e-9), label


def check_view(frame, services, dataset, **query):
    """Every measure's period value and series against pandas."""
    tz = query.get("tz", "UTC")
    granularity = query.get("granularity", "day")
    result = view(services, dataset, **query)
    local = frame["timestamp"].dt.tz_convert(tz)
    first, last = (
        dt.date.fromisoformat(query["from"]),
        dt.date.fromisoformat(query["to"]),
    )
    mask = business_mask(local, query.get("hours"), query.get("days"))
    for name, values in (
        (k[7:], v) for k, v in query.items() if k.startswith("filter.")
    ):
        mask &= frame[name].isin(values.split(",")).to_numpy()
    in_period = (
        mask & (local.dt.date >= first).to_numpy() & (local.dt.date <= last).to_numpy()
    )
    rows = frame[in_period]
    keys = bucket_key(local[in_period], granularity)
    for measure in result["measures"]:
        spec, error = BY_NAME[measure["name"]], measure["relativeError"]
        if spec["kind"] == "rolling_distinct":
            check_rolling(frame, local, mask, spec, measure, tz, last)
            continue
        check_close(
            measure["value"], expected_value(rows, spec), error, measure["name"]
        )
        for point in measure["series"]:
            bucket = rows[(keys == api_key(point["t"], granularity, tz)).to_numpy()]
            check_close(
                point["value"],
                expected_value(bucket, spec),
                error,
                f"{measure['name']} {point['t']}",
            )
    return result


def check_rolling(frame, local, mask, spec, measure, tz, last):
    window = spec["windowDays"]
    dates = local.dt.date.to_numpy()
    series = measure["series"]
    for index, point in enumerate(series):
        # The window ends with the bucket's last day (or the period's).
        following = series[index + 1]["t"] if index + 1 < len(series) else None
        day = (
            pd.Timestamp(following).tz_convert(tz).date() - dt.timedelta(days=1)
            if following
            else last
        )
        seen = mask & (dates > day - dt.timedelta(days=window)) & (dates <= day)
        expected = frame.loc[seen, spec["column"]].nunique()
        check_close(point["value"], expected, measure["relativeError"], point["t"])
    assert measure["value"] == measure["series"][-1]["value"]


ADDITIVE = [m["name"] for m in ALL_KINDS if m["kind"] != "rolling_distinct"]
GROUPS = [ADDITIVE[:8], ADDITIVE[8:]]


@pytest.mark.parametrize("granularity", ["day", "week", "month", "hour"])
def test_every_kind_by_granularity_in_utc(leap_quarter, granularity, distinct_path):
    frame, services, dataset = leap_quarter
    first, last = (
        ("2028-02-28", "2028-03-01")
        if granularity == "hour"
        else ("2028-01-10", "2028-03-05")
    )
    for names in GROUPS:
        result = check_view(
            frame,
            services,
            dataset,
            measures=",".join(names),
            granularity=granularity,
            **{"from": first, "to": last},
        )
        assert_path(result, distinct_path)


@pytest.mark.parametrize(
    ("tz", "change"),
    [
        ("Europe/Berlin", "2028-03-26"),
        ("America/New_York", "2028-03-12"),
        ("UTC", "2028-03-26"),
    ],
)
@pytest.mark.parametrize("granularity", ["day", "week", "hour"])
def test_business_hours_across_dst(leap_quarter, tz, change, granularity):
    """Weekday business hours in a span holding the zone's DST change."""
    frame, services, dataset = leap_quarter
    day = dt.date.fromisoformat(change)
    days = 1 if granularity == "hour" else 8
    first, last = (
        (day - dt.timedelta(days=days)).isoformat(),
        (day + dt.timedelta(days=days)).isoformat(),
    )
    for names in GROUPS:
        check_view(
            frame, services, dataset, measures=",".join(names), tz=tz,
            granularity=granularity, hours="9-17", days="mon-fri",
            **{"from": first, "to": last},
        )  # fmt: skip


def test_hours_over_midnight_and_a_23_hour_day(leap_quarter):
    frame, services, dataset = leap_quarter
    check_view(
        frame,
        services,
        dataset,
        measures=",".join(GROUPS[0]),
        tz="Europe/Berlin",
        hours="22-6",
        **{"from": "2028-03-24", "to": "2028-03-28"},
    )
    hourly = view(
        services,
        dataset,
        measures="page_views",
        tz="Europe/Berlin",
        granularity="hour",
        **{"from": "2028-03-26", "to": "2028-03-26"},
    )
    assert len(hourly["measures"][0]["series"]) == 23


def test_rolling_distinct_users(leap_quarter):
    frame, services, dataset = leap_quarter
    for tz in ("UTC", "America/New_York"):
        check_view(
            frame,
            services,
            dataset,
            measures="mau,wau",
            tz=tz,
            **{"from": "2028-02-20", "to": "2028-03-15"},
        )
    check_view(
        frame,
        services,
        dataset,
        measures="mau",
        granularity="week",
        **{"from": "2028-02-20", "to": "2028-03-15"},
    )


def test_filters_on_one_dimension(leap_quarter, distinct_path):
    frame, services, dataset = leap_quarter
    for names in GROUPS:
        check_view(
            frame,
            services,
            dataset,
            measures=",".join(names),
            **{
                "filter.traffic_source": "email,social",
                "from": "2028-02-01",
                "to": "2028-02-29",
            },
        )
    result = check_view(
        frame,
        services,
        dataset,
        measures="dau,bounce_rate,mau",
        tz="Europe/Berlin",
        hours="9-17",
        **{"filter.campaign": "newsletter", "from": "2028-03-01", "to": "2028-03-31"},
    )
    assert_path(result, distinct_path)


def period_rows(frame, first: str, last: str, tz="UTC", end=None):
    local = frame["timestamp"].dt.tz_convert(tz).dt.date
    mask = (local >= dt.date.fromisoformat(first)) & (
        local <= dt.date.fromisoformat(last)
    )
    if end is not None:
        mask &= frame["timestamp"] < end
    return frame[mask]


def test_breakdown_top_values_and_a_counted_other(leap_quarter):
    frame, services, dataset = leap_quarter
    result = view(
        services,
        dataset,
        measures="dau,revenue,bounce_rate",
        breakdown="product_category",
        top=3,
        **{"from": "2028-02-01", "to": "2028-02-29"},
    )
    rows = period_rows(frame, "2028-02-01", "2028-02-29")
    ranked = sorted(
        (
            (-g["user_id"].nunique(), value)
            for value, g in rows.groupby("product_category")
        )
    )
    top = [value for _, value in ranked[:3]]
    assert [row["value"] for row in result["breakdown"]["rows"]] == top
    for row in result["breakdown"]["rows"]:
        subset = rows[rows["product_category"] == row["value"]]
        for name in ("dau", "revenue", "bounce_rate"):
            error = next(
                m["relativeError"] for m in result["measures"] if m["name"] == name
            )
            check_close(
                row["measures"][name],
                expected_value(subset, BY_NAME[name]),
                error,
                name,
            )
    other = rows[~rows["product_category"].isin(top)]
    assert result["breakdown"]["other"]["values"] == len(ranked) - 3
    # Counted: a user seen in two "other" categories counts once.
    check_close(
        result["breakdown"]["other"]["measures"]["dau"],
        other["user_id"].nunique(),
        result["measures"][0]["relativeError"],
        "other",
    )
    summed = sum(g["user_id"].nunique() for _, g in other.groupby("product_category"))
    assert other["user_id"].nunique() < summed


def test_month_over_month_compares_february_with_january(leap_quarter):
    frame, services, dataset = leap_quarter
    result = view(
        services,
        dataset,
        measures="page_views,dau",
        compare="mom",
        **{"from": "2028-02-01", "to": "2028-02-29"},
    )
    assert result["comparisonPeriod"] == {"from": "2028-01-01", "to": "2028-01-31"}
    pages = result["measures"][0]
    february = period_rows(frame, "2028-02-01", "2028-02-29")
    january = period_rows(frame, "2028-01-01", "2028-01-31")
    assert pages["value"] == len(february) and pages["comparisonValue"] == len(january)
    assert pages["change"] == len(february) - len(january)
    assert pages["changePct"] == pytest.approx(100 * (len(february) / len(january) - 1))
    assert len(pages["comparisonSeries"]) == 29
    assert pages["comparisonSeries"][28]["t"].startswith("2028-01-29")
    users = result["measures"][1]
    assert users["approximate"] is False  # 6,000 rows: counted from records
    check_close(
        users["comparisonValue"],
        january["user_id"].nunique(),
        users["relativeError"],
        "dau",
    )


@pytest.mark.parametrize(
    ("compare", "first", "last", "expected"),
    [
        ("mom", "2028-03-31", "2028-03-31", ("2028-02-29", "2028-02-29")),  # leap day
        ("mom", "2028-03-30", "2028-03-31", ("2028-02-29", "2028-02-29")),
        ("previous_day", "2028-03-01", "2028-03-01", ("2028-02-29", "2028-02-29")),
        ("wow", "2028-03-01", "2028-03-07", ("2028-02-23", "2028-02-29")),
        ("previous_period", "2028-03-01", "2028-03-14", ("2028-02-16", "2028-02-29")),
        ("yoy", "2028-02-01", "2028-02-29", ("2027-02-01", "2027-02-28")),
    ],
)
def test_comparison_periods_at_month_ends(leap_quarter, compare, first, last, expected):
    frame, services, dataset = leap_quarter
    result = view(
        services,
        dataset,
        measures="page_views",
        compare=compare,
        **{"from": first, "to": last},
    )
    assert result["comparisonPeriod"] == {"from": expected[0], "to": expected[1]}
    rows = period_rows(frame, *expected)
    assert result["measures"][0]["comparisonValue"] == len(rows)


def test_empty_period_has_zero_counts_and_no_ratio(leap_quarter):
    _frame, services, dataset = leap_quarter
    result = view(
        services,
        dataset,
        measures="page_views,dau,bounce_rate,mean_revenue",
        **{"from": "2027-06-01", "to": "2027-06-03"},
    )
    values = {m["name"]: m["value"] for m in result["measures"]}
    assert values == {
        "page_views": 0,
        "dau": 0,
        "bounce_rate": None,
        "mean_revenue": None,
    }
    assert [p["value"] for p in result["measures"][0]["series"]] == [0, 0, 0]


def test_partial_period_is_compared_like_for_like():
    frame = generate_events(events=2000, days=10, seed=3, end=dt.date(2028, 3, 31))
    cut = pd.Timestamp("2028-03-31T12:00:00Z")
    frame = frame[frame["timestamp"] < cut].reset_index(drop=True)
    services, dataset = rollup_database(frame)
    result = view(
        services,
        dataset,
        measures="page_views",
        compare="previous_day",
        granularity="hour",
        **{"from": "2028-03-31", "to": "2028-03-31"},
    )
    assert result["partial"] is True
    pages = result["measures"][0]
    same_time = (frame["timestamp"] >= "2028-03-30") & (
        frame["timestamp"] < "2028-03-30T12:00Z"
    )
    assert pages["value"] == len(frame[frame["timestamp"] >= "2028-03-31"])
    assert pages["comparisonValue"] == int(same_time.sum())
    assert len(pages["series"]) == 12


def test_one_user_all_bounced_and_tied_values():
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(
                [
                    "2028-01-02T10:00Z",
                    "2028-01-02T11:00Z",
                    "2028-01-03T09:00Z",
                    "2028-01-03T09:30Z",
                ]
            ),
            "user_id": ["u1"] * 4,
            "session_id": ["s1", "s2", "s3", "s4"],
            "page_type": ["home"] * 4,
            "traffic_source": ["b", "a", "b", "a"],
            "campaign": ["none"] * 4,
            "product_category": ["x"] * 4,
            "bounced": ["true"] * 4,
            "revenue": [5.0, 5.0, 5.0, 5.0],
        }
    )
    services, dataset = rollup_database(frame)
    result = view(
        services,
        dataset,
        measures="dau,sessions,bounce_rate,max_revenue",
        breakdown="traffic_source",
        top=1,
        **{"from": "2028-01-02", "to": "2028-01-03"},
    )
    values = {m["name"]: m["value"] for m in result["measures"]}
    assert values == {"dau": 1, "sessions": 4, "bounce_rate": 1.0, "max_revenue": 5.0}
    assert [p["value"] for p in result["measures"][0]["series"]] == [1, 1]
    breakdown = result["breakdown"]
    # A tie on the first measure is broken by the value, in order.
    assert [r["value"] for r in breakdown["rows"]] == ["a"]
    assert (
        breakdown["other"]["measures"]["dau"] == 1 and breakdown["other"]["values"] == 1
    )
