"""The generated demo event log: fixed seed, weekly rhythm, campaign spike, outage."""

from __future__ import annotations

import pandas as pd

from data.demo_events import COLUMNS, OUTAGE, SPIKE_DAYS, generate_events, to_csv


def test_the_log_is_reproducible_and_shaped_like_page_views():
    frame = generate_events(events=20_000, days=90)
    assert list(frame.columns) == list(COLUMNS)
    assert 17_000 < len(frame) < 23_000
    assert to_csv(frame) == to_csv(generate_events(events=20_000, days=90))
    assert frame["timestamp"].is_monotonic_increasing
    sessions = frame.groupby("session_id")
    single = sessions.size() == 1
    bounced = sessions["bounced"].first() == "true"
    # bounced = a one-page session (the outage may cut longer ones short)
    assert (~bounced | single).all() and (single & ~bounced).mean() < 0.01
    assert (frame.loc[frame["revenue"] > 0, "page_type"] == "checkout").all()


def test_weekly_rhythm_spike_and_outage():
    frame = generate_events(events=50_000, days=90)
    first = frame["timestamp"].min().normalize()
    day = (frame["timestamp"] - first).dt.days
    per_day = frame.groupby(day).size()
    weekday = pd.Series(
        per_day.index.map(lambda d: (first + pd.Timedelta(days=d)).weekday()),
        index=per_day.index,
    )
    assert per_day[weekday >= 5].mean() < 0.8 * per_day[weekday < 5].mean()
    spike = per_day[list(SPIKE_DAYS)].mean()
    assert spike > 1.4 * per_day.drop(list(SPIKE_DAYS)).mean()
    emails = frame[day.isin(list(SPIKE_DAYS))]["campaign"].eq("spring_sale").mean()
    assert emails > 0.3
    outage_day, start, stop = OUTAGE
    hours = frame["timestamp"].dt.hour
    inside = (day == outage_day) & hours.between(start, stop - 1)
    usual = ((day == outage_day - 7) & hours.between(start, stop - 1)).sum()
    assert inside.sum() < 0.1 * usual
