"""The KPI view as an agent sees it: small cells hidden (data/disclosure.py).

Cells of a KPI view: each series point (current and comparison period), each
breakdown row and `other`, and each headline value. Their groups (cells adding up
to a published total): a period's series points against its headline values, and
the breakdown rows plus `other` against the current headline values. A view with
filters or business hours also publishes a difference with the unfiltered view
the agent can ask for, so a cell whose left-out part (the rows the selection
leaves out, in the same cell) has 1 to k-1 entities is hidden as well.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field

from data.disclosure import (
    ADDITIVE_KINDS,
    REASON_COMPLEMENTARY,
    REASON_TOTAL,
    Cell,
    is_small,
    reasons,
    small_reason,
    suppress_group,
)

REASON_UNCOUNTED = "hidden: the entities of its window are not counted"


@dataclass(frozen=True)
class EntityCounts:
    """Distinct entities per cell of one period's view (series keyed by instant)."""

    series: dict[dt.datetime, float] = field(default_factory=dict)
    total: float = 0
    rows: dict[str, float] = field(default_factory=dict)
    other: float = 0


@dataclass(frozen=True)
class PeriodCounts:
    """A period's cells' entities, and those its selection leaves out (None:
    the view selects nothing)."""

    own: EntityCounts
    left_out: EntityCounts | None = None


@dataclass(frozen=True)
class Disclosure:
    """The setting applied to one view: k and what an entity is."""

    k: int
    entity: str  # the identifier column's name, or "rows"
    # Measures whose value is itself a count of entities (distinct or rolling
    # distinct counts of the entity column): a value from 1 to k-1 is hidden.
    counts_entities: frozenset[str] = frozenset()

    @property
    def small(self) -> str:
        """The reason of a cell hidden for having too few entities."""
        noun = "rows" if self.entity == "rows" else f"distinct {self.entity} values"
        return small_reason(self.k, noun)


def counts_from_result(result: dict) -> EntityCounts:
    """EntityCounts from one entity-count aggregate (kpi.pipeline)."""
    return EntityCounts(
        series={_utc(row["_id"]): row["n"] for row in result.get("series", [])},
        total=(result.get("total") or [{"n": 0}])[0]["n"],
        rows={row["_id"]: row["n"] for row in result.get("rows", [])},
        other=(result.get("other") or [{"n": 0}])[0]["n"],
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def left_out_rows(whole: EntityCounts, chosen: EntityCounts) -> EntityCounts:
    """Rows the selection leaves out, per cell (rows add up; entities do not)."""
    return EntityCounts(
        series={t: n - chosen.series.get(t, 0) for t, n in whole.series.items()},
        total=whole.total - chosen.total,
        rows={v: n - chosen.rows.get(v, 0) for v, n in whole.rows.items()},
        other=whole.other - chosen.other,
    )


def left_out_bound(
    whole_low: EntityCounts, chosen_high: EntityCounts, rows: EntityCounts
) -> EntityCounts:
    """The fewest entities the selection can leave out, per cell, from sketch
    bounds (a sketch cannot be subtracted): none when it leaves out no rows,
    else at least one and at least the whole's lower bound minus the selection's
    upper bound."""

    def bound(low: float, high: float, left: float) -> float:
        return 0 if left <= 0 else max(1.0, low - high)

    return EntityCounts(
        series={
            t: bound(whole_low.series.get(t, 0), chosen_high.series.get(t, 0), n)
            for t, n in rows.series.items()
        },
        total=bound(whole_low.total, chosen_high.total, rows.total),
        rows={
            v: bound(whole_low.rows.get(v, 0), chosen_high.rows.get(v, 0), n)
            for v, n in rows.rows.items()
        },
        other=bound(whole_low.other, chosen_high.other, rows.other),
    )


def effective(own: float, left_out: float | None, k: int) -> float:
    """A cell's entities for the primary rule: its own, or its left-out part's
    when that part is small (the unfiltered view minus this one reveals it)."""
    if left_out is not None and is_small(left_out, k):
        return left_out
    return own


def _point_entities(point: dict, counts: PeriodCounts, k: int) -> float:
    if point["t"] is None:  # a comparison series shorter than the period's
        return 0
    moment = dt.datetime.fromisoformat(point["t"])
    gone = counts.left_out.series.get(moment, 0) if counts.left_out else None
    return effective(counts.own.series.get(moment, 0), gone, k)


def _series_cells(
    measures: list[dict], key: str, counts: PeriodCounts, k: int
) -> list[Cell]:
    points = measures[0][key] if measures else []
    return [
        Cell(
            _point_entities(point, counts, k),
            {m["name"]: m[key][position]["value"] for m in measures},
        )
        for position, point in enumerate(points)
    ]


def _additive(measures: list[dict]) -> list[str]:
    return [m["name"] for m in measures if m["kind"] in ADDITIVE_KINDS]


def _hide_point(point: dict, reason: str) -> int:
    point.update(value=None, suppressed=reason)
    return 1


def _hide_headline(measure: dict, key: str, reason: str) -> int:
    """Hide one headline value (the first reason stays); 1 if newly hidden."""
    reasons = measure.setdefault("suppressed", {})
    if key in reasons:
        return 0
    measure[key] = None
    reasons[key] = reason
    return 1


def suppress_series(
    measures: list[dict], series: str, headline: str, counts: PeriodCounts, rule
) -> int:
    """Hide a period's small series points (and their complements, or the
    headline values they would reveal); the number of values hidden."""
    cells = _series_cells(measures, series, counts, rule.k)
    verdict = suppress_group(cells, rule.k, _additive(measures))
    hidden = 0
    for position, reason in reasons(verdict, rule.small).items():
        for measure in measures:
            hidden += _hide_point(measure[series][position], reason)
    for measure in measures:
        if measure["name"] in verdict.hidden_totals:
            hidden += _hide_headline(measure, headline, REASON_TOTAL)
    return hidden


def suppress_headlines(
    measures: list[dict], key: str, counts: PeriodCounts, rule: Disclosure
) -> int:
    """Hide a period's headline values when the period has too few entities."""
    gone = counts.left_out.total if counts.left_out else None
    if not is_small(effective(counts.own.total, gone, rule.k), rule.k):
        return 0
    return sum(_hide_headline(measure, key, rule.small) for measure in measures)


def _breakdown_cells(block: dict, counts: PeriodCounts, k: int) -> list[Cell]:
    own, gone = counts.own, counts.left_out
    cells = [
        Cell(
            effective(own.rows.get(row["value"], 0),
                      gone.rows.get(row["value"], 0) if gone else None, k),
            row["measures"],
        )
        for row in block["rows"]
    ]  # fmt: skip
    if block.get("other") is not None:
        left = gone.other if gone else None
        cells.append(Cell(effective(own.other, left, k), block["other"]["measures"]))
    return cells


def suppress_breakdown(view: dict, counts: PeriodCounts, rule: Disclosure) -> int:
    """Hide small breakdown rows (`other` included) and their complements, or
    the headline values they would reveal."""
    block = view["breakdown"]
    rows = [*block["rows"], *([block["other"]] if block.get("other") else [])]
    shown = [m for m in view["measures"] if m["name"] in block["measures"]]
    verdict = suppress_group(
        _breakdown_cells(block, counts, rule.k), rule.k, _additive(shown)
    )
    hidden = 0
    for position, reason in reasons(verdict, rule.small).items():
        hidden += sum(
            _hide_row_value(rows[position], n, reason) for n in block["measures"]
        )
    for row in rows:
        for name in rule.counts_entities & set(row["measures"]):
            if _small_value(row["measures"][name], rule.k):
                hidden += _hide_row_value(row, name, rule.small)
    for measure in shown:
        if measure["name"] in verdict.hidden_totals:
            hidden += _hide_headline(measure, "value", REASON_TOTAL)
    return hidden


def _hide_row_value(row: dict, name: str, reason: str) -> int:
    """Hide one measure of a breakdown row (`suppressed`: measure -> why)."""
    reasons = row.setdefault("suppressed", {})
    if name in reasons:
        return 0
    row["measures"][name] = None
    reasons[name] = reason
    return 1


def _small_value(value: float | None, k: int) -> bool:
    return value is not None and 0 < value < k


def suppress_entity_values(
    measures: list[dict], series: str, headline: str, counts: PeriodCounts, rule
) -> int:
    """Measure by measure: an entity count under k, a rolling window's point at
    an empty bucket (its window's entities are not counted, only the bucket's),
    and a rolling headline whose last point is hidden (the two are equal)."""
    hidden = 0
    for measure in measures:
        counted = measure["name"] in rule.counts_entities
        rolling = measure["kind"] == "rolling_distinct"
        for point in measure[series]:
            if "suppressed" in point:
                continue
            if counted and _small_value(point["value"], rule.k):
                hidden += _hide_point(point, rule.small)
            elif rolling and not counted and not _point_entities(point, counts, 1):
                hidden += _hide_point(point, REASON_UNCOUNTED)
        if counted and _small_value(measure[headline], rule.k):
            hidden += _hide_headline(measure, headline, rule.small)
        last = measure[series][-1] if measure[series] else {}
        if rolling and "suppressed" in last:
            hidden += _hide_headline(measure, headline, REASON_COMPLEMENTARY)
    return hidden


def _hide_changes(measures: list[dict]) -> None:
    """A change next to one visible value would reveal the hidden other."""
    for measure in measures:
        if measure["value"] is None or measure["comparisonValue"] is None:
            measure.update(change=None, changePct=None)


def apply_disclosure(
    view: dict,
    current: PeriodCounts,
    compared: PeriodCounts | None,
    rule: Disclosure,
) -> dict:
    """A copy of the view with small cells (and their complements) hidden, and
    its `disclosure` block: k, the entity and how many values carry a
    `suppressed` reason (a headline, a point or a breakdown row's measure)."""
    agent = copy.deepcopy(view)
    measures = agent["measures"]
    hidden = 0
    periods = [("series", "value", current)]
    if compared is not None:
        periods.append(("comparisonSeries", "comparisonValue", compared))
    for series, headline, counts in periods:
        hidden += suppress_headlines(measures, headline, counts, rule)
        hidden += suppress_series(measures, series, headline, counts, rule)
        hidden += suppress_entity_values(measures, series, headline, counts, rule)
    if agent.get("breakdown"):
        hidden += suppress_breakdown(agent, current, rule)
    _hide_changes(measures)
    agent["disclosure"] = {
        "k": rule.k, "entity": rule.entity, "suppressedCells": hidden,
    }  # fmt: skip
    return agent
