"""The showcase dataset "Sales 2024 by region": a year of daily sales in three
regions with a trend, a weekend rhythm and three genuine incidents (a -75% day
and two surges), shared by the browser showcase and the detection tests."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np

INCIDENTS = {"2024-03-14": 0.25, "2024-07-04": 2.6, "2024-11-29": 3.1}
REGIONS = (("North", 4200), ("South", 3100), ("West", 2600))


def sales_rows() -> list[tuple[dt.date, str, float]]:
    """(day, region, revenue) for every day of 2024 and region, in file order."""
    rng = np.random.default_rng(2024)
    rows = []
    for offset in range(366):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=offset)
        weekend = 1.18 if day.weekday() >= 5 else 1.0
        for region, base in REGIONS:
            level = base * (1 + offset / 900) * weekend
            value = level * INCIDENTS.get(day.isoformat(), 1.0)
            value += rng.normal(0, base * 0.06)
            rows.append((day, region, float(value)))
    return rows


def write_year_of_sales(path) -> None:
    """The dataset as its CSV, revenue written as dollars (so the unit is found)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "region", "revenue", "orders"])
        for day, region, value in sales_rows():
            writer.writerow([day, region, f"${value:,.2f}", max(1, int(value / 38))])
