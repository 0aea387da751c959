"""The analysis view as an agent sees it: small buckets hidden (data/disclosure.py).

The cells are the series' buckets: a bucket computed from fewer than k distinct
entities (identifier values of its records, else its values' count) is hidden,
with complements when the aggregation adds up (count, sum: the period's total is
published by the KPI view). Everything computed from a hidden bucket goes too:
rolling windows holding one, anomalies at one or whose baseline window holds one,
episodes within a window of one. The summary is recomputed from the visible
buckets (numpy, the pipeline's own quantile rule); the histogram, box plot and
threshold bands, which are drawn from every value, are withheld, and so are the
written insights (they quote the hidden values' statistics).
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np

from data.disclosure import (
    ADDITIVE_KINDS,
    REASON_COMPLEMENTARY,
    Cell,
    reasons,
    small_reason,
    suppress_group,
)

WITHHELD = "withheld: it is drawn from hidden buckets"


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def bucket_verdict(
    series: list[dict], entities: dict[dt.datetime, float] | None, k: int, additive
) -> dict[int, str | None]:
    """Hidden bucket positions: None for too few entities, else the complement's
    reason (`entities` None: the buckets' value counts are the entities)."""
    cells = [
        Cell(_entities(point, entities), {"value": point["value"]}) for point in series
    ]
    verdict = suppress_group(cells, k, ["value"] if additive else [])
    found = reasons(verdict, "")
    return {i: (None if text == "" else text) for i, text in found.items()}


def _entities(point: dict, entities: dict[dt.datetime, float] | None) -> float:
    if entities is None:
        return point["count"]
    return entities.get(_moment(point["t"]), 0)


def _touches(position: int, hidden: set[int], before: int, after: int = 0) -> bool:
    return any(position - before <= i <= position + after for i in hidden)


def visible_summary(series: list[dict]) -> dict:
    """The summary statistics of the visible buckets' values (numpy)."""
    values = np.array([p["value"] for p in series if p["value"] is not None], float)
    empty = not len(values)

    def stat(function) -> float | None:
        return None if empty else float(function(values))

    q1, q3 = stat(lambda v: np.quantile(v, 0.25)), stat(lambda v: np.quantile(v, 0.75))
    return {
        "count": len(values),
        "missing": sum(1 for p in series if p["value"] is None),
        "sum": float(values.sum()),
        "mean": stat(np.mean),
        "median": stat(np.median),
        "std_pop": stat(np.std),
        "std_sample": None if len(values) < 2 else float(np.std(values, ddof=1)),
        "min": stat(np.min),
        "max": stat(np.max),
        "q1": q1,
        "q3": q3,
        "iqr": None if q1 is None or q3 is None else q3 - q1,
    }


def _hide_series(view: dict, hidden: dict[int, str | None], small: str) -> None:
    for position, reason in hidden.items():
        point = view["series"][position]
        point.update(value=None, count=None, suppressed=reason or small)


def _hide_rolling(view: dict, hidden: set[int], window: int) -> None:
    for position, point in enumerate(view["rolling"]):
        if _touches(position, hidden, window - 1):
            point.update(mean=None, std=None, suppressed=REASON_COMPLEMENTARY)


def _drop_flags(view: dict, hidden: set[int], window: int) -> None:
    """Anomalies at or just after a hidden bucket (their baseline window holds
    it), episodes within a window of one."""
    where = {point["t"]: i for i, point in enumerate(view["series"])}
    view["anomalies"] = [
        a for a in view["anomalies"] if not _touches(where[a["t"]], hidden, window)
    ]
    view["episodes"] = [
        e
        for e in view["episodes"]
        if not any(
            where[e["start"]] - window <= i <= where[e["end"]] + window for i in hidden
        )
    ]


def _withhold(view: dict) -> None:
    view["histogram"] = {"edges": [], "counts": [], "rule": WITHHELD}
    whiskers = ("q1", "median", "q3", "lower_whisker", "upper_whisker")
    view["box"] = {**dict.fromkeys(whiskers), "outliers": []}
    view["thresholds"] = {"zscore": None, "iqr": None}


def apply_disclosure(
    view: dict,
    entities: dict[dt.datetime, float] | None,
    k: int,
    entity: str,
) -> dict:
    """A copy of the view with small buckets (and what they feed) hidden, and its
    `disclosure` block: k, the entity and how many buckets were hidden."""
    agent = copy.deepcopy(view)
    additive = agent["params"]["aggregation"] in ADDITIVE_KINDS
    hidden = bucket_verdict(agent["series"], entities, k, additive)
    noun = "values" if entity == "rows" else f"distinct {entity} values"
    agent["disclosure"] = {"k": k, "entity": entity, "suppressedCells": len(hidden)}
    if not hidden:
        return agent
    window = agent["params"]["window"]
    _hide_series(agent, hidden, small_reason(k, noun))
    _hide_rolling(agent, set(hidden), window)
    _drop_flags(agent, set(hidden), window)
    agent["summary"] = visible_summary(agent["series"])
    _withhold(agent)
    agent["insights"] = [
        f"{len(hidden)} of {len(agent['series'])} buckets are hidden (computed from "
        f"fewer than {k} {noun}, or hidden so that those cannot be worked out); "
        "the summary describes the visible buckets."
    ]
    return agent
