"""A generated web-analytics event log (fixed seed) for the demo and the benchmark.

Page-view events over `days` days ending at `end`: timestamp (UTC, ISO 8601),
user_id, session_id, page_type, traffic_source, campaign, product_category,
bounced (true when the session has one page view) and revenue (a purchase on some
checkout pages). It has a weekly rhythm (weekends quieter), a daily rhythm, a
campaign spike (five days of extra e-mail sessions for "spring_sale") and an
outage (six hours with almost no events on day 70).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

COLUMNS = (
    "timestamp", "user_id", "session_id", "page_type", "traffic_source", "campaign",
    "product_category", "bounced", "revenue",
)  # fmt: skip
PAGE_TYPES = ("home", "category", "product", "search", "cart", "checkout")
SOURCES = ("organic", "paid_search", "social", "email", "direct", "referral")
CAMPAIGNS = ("none", "spring_sale", "retargeting", "newsletter")
CATEGORIES = (
    "electronics", "fashion", "home", "beauty", "sports", "books", "toys", "grocery",
)  # fmt: skip
WEEKDAY_WEIGHT = np.array([1.1, 1.15, 1.1, 1.05, 1.0, 0.7, 0.65])
HOUR_WEIGHT = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 7, 7, 7, 8, 9, 9, 8, 6, 4, 3], float
)
SPIKE_DAYS = range(50, 55)
OUTAGE = (70, 10, 16)  # day, first hour, hour after the last
DEFAULT_END = dt.date(2026, 11, 30)


def _sessions_per_day(days: int, sessions: int, end: dt.date, rng) -> np.ndarray:
    first = end.toordinal() - days + 1
    weekdays = (np.arange(days) + first - 1) % 7  # ordinal 1 was a Monday
    weights = WEEKDAY_WEIGHT[weekdays] * rng.uniform(0.9, 1.1, days)
    weights[list(SPIKE_DAYS)[: max(0, days - 50)]] *= 1.8
    return rng.multinomial(sessions, weights / weights.sum())


def generate_events(
    events: int = 200_000, days: int = 90, seed: int = 13, end: dt.date = DEFAULT_END
) -> pd.DataFrame:
    """About `events` page views over `days` days ending on `end` (UTC)."""
    rng = np.random.default_rng(seed)
    sessions = max(1, round(events / 2.5))
    per_day = _sessions_per_day(days, sessions, end, rng)
    day_index = np.repeat(np.arange(days), per_day)
    first_day = pd.Timestamp(end - dt.timedelta(days=days - 1), tz="UTC")
    seconds = rng.choice(24, sessions, p=HOUR_WEIGHT / HOUR_WEIGHT.sum()) * 3600
    seconds = seconds + rng.integers(0, 3600, sessions)
    starts = first_day + pd.to_timedelta(day_index * 86400 + seconds, unit="s")
    users = max(10, sessions // 4)
    user = (rng.zipf(1.3, sessions) + rng.integers(0, users, sessions)) % users
    spike = np.isin(day_index, list(SPIKE_DAYS)) & (rng.random(sessions) < 0.45)
    source = np.where(spike, SOURCES.index("email"), rng.choice(len(SOURCES), sessions,
                      p=[0.32, 0.2, 0.16, 0.08, 0.16, 0.08]))  # fmt: skip
    campaign = np.where(
        spike, 1, rng.choice(len(CAMPAIGNS), sessions, p=[0.7, 0.05, 0.15, 0.1])
    )
    pages = np.minimum(rng.geometric(0.4, sessions), 12)
    frame = _expand(rng, starts, user, source, campaign, pages)
    return _without_outage(frame, first_day)


def _expand(rng, starts, user, source, campaign, pages) -> pd.DataFrame:
    session = np.repeat(np.arange(len(starts)), pages)
    offsets = rng.integers(0, 1800, len(session)) * (np.arange(len(session)) > 0)
    category = rng.choice(len(CATEGORIES), len(starts))[session]
    page = rng.choice(
        len(PAGE_TYPES), len(session), p=[0.25, 0.2, 0.3, 0.12, 0.08, 0.05]
    )
    purchase = (page == PAGE_TYPES.index("checkout")) & (rng.random(len(session)) < 0.6)
    revenue = np.where(
        purchase, np.round(rng.lognormal(3.8, 0.7, len(session)), 2), 0.0
    )
    frame = pd.DataFrame({
        "timestamp": starts[session] + pd.to_timedelta(offsets, unit="s"),
        "user_id": [f"u{u:06d}" for u in user[session]],
        "session_id": [f"s{s:07d}" for s in session],
        "page_type": np.array(PAGE_TYPES)[page],
        "traffic_source": np.array(SOURCES)[source[session]],
        "campaign": np.array(CAMPAIGNS)[campaign[session]],
        "product_category": np.array(CATEGORIES)[category],
        "bounced": np.where(pages[session] == 1, "true", "false"),
        "revenue": revenue,
    })  # fmt: skip
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _without_outage(frame: pd.DataFrame, first_day: pd.Timestamp) -> pd.DataFrame:
    day, start, stop = OUTAGE
    low = first_day + pd.Timedelta(days=day, hours=start)
    high = first_day + pd.Timedelta(days=day, hours=stop)
    inside = (frame["timestamp"] >= low) & (frame["timestamp"] < high)
    keep = ~inside | (np.arange(len(frame)) % 50 == 0)
    return frame[keep].reset_index(drop=True)


def to_csv(frame: pd.DataFrame) -> bytes:
    """The events as CSV bytes with ISO 8601 UTC timestamps."""
    seconds = frame["timestamp"].dt.tz_convert(None).to_numpy().astype("datetime64[s]")
    out = frame.assign(timestamp=np.char.add(np.datetime_as_string(seconds), "Z"))
    return out.to_csv(index=False).encode()


DEMO_MEASURES: list[dict] = [
    {"name": "dau", "label": "Daily active users", "kind": "distinct",
     "column": "user_id", "format": "integer"},
    {"name": "sessions", "label": "Sessions", "kind": "distinct",
     "column": "session_id", "format": "integer"},
    {"name": "mau", "label": "Monthly active users", "kind": "rolling_distinct",
     "column": "user_id", "windowDays": 30, "format": "integer"},
    {"name": "bounce_rate", "label": "Bounce rate", "kind": "ratio",
     "numerator": "bounced_sessions", "denominator": "sessions", "format": "percent",
     "higherIsBetter": False},
    {"name": "revenue", "label": "Revenue", "kind": "sum", "column": "revenue",
     "format": "currency"},
    {"name": "page_views", "label": "Page views", "kind": "count", "format": "integer"},
    {"name": "bounced_sessions", "label": "Bounced sessions", "kind": "distinct",
     "column": "session_id", "where": {"column": "bounced", "value": "true"},
     "format": "integer", "higherIsBetter": False},
]  # fmt: skip
DEMO_DIMENSIONS = (
    "page_type",
    "traffic_source",
    "campaign",
    "product_category",
    "bounced",
)
