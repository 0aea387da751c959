"""Disclosure control for agent views: small-cell and complementary suppression.

Pure functions, no I/O: the KPI and analytics services count each cell's distinct
entities and call `suppress_group` once per group of cells that add up to a
published total; `data.kpi.disclosure_view` and `data.analytics.disclosure_view`
apply the verdicts to their views. This module sits at the bottom layer because
both services use it (data.kpi is above data.analytics).

Rules (README "Disclosure control"):
- *Primary*: a cell computed from 1 to k-1 distinct entities is hidden. An
  unknown count (None, NaN) is hidden too, rather than guessed; an empty cell
  (no rows, 0 entities) is shown: it describes nobody.
- *Complementary*: in a group whose total is published, a hidden cell must not be
  recoverable as total minus the visible cells. For an additive measure that
  amount is the hidden cells' sum, so each hidden cell (a complement too: knowing
  it would give the small cells' sum) needs the other hidden cells to sum to
  something other than 0 (one hidden cell alone always fails).
  Otherwise the next smallest visible cell (fewest entities) whose value is not 0
  is hidden too; when no such cell is left, the group's total is hidden instead.
  Any group with a hidden cell hides at least two cells (or its total), which also
  covers the extremes: with one hidden cell, a total max above every visible
  max would be that cell's max.
- Additive measures (`ADDITIVE_KINDS`): count and sum, whose cells add up to the
  total exactly. Distinct counts, rolling distinct counts, means, ratios, minima
  and maxima do not: a total distinct count is not the sum of its cells' (people
  appear in several), and a mean or ratio needs the cells' hidden weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ADDITIVE_KINDS = ("count", "sum")
REASON_COMPLEMENTARY = "hidden so that another hidden value cannot be worked out"
REASON_TOTAL = "hidden so that a hidden part of it cannot be worked out"


@dataclass(frozen=True)
class Cell:
    """One published cell: its distinct entities and its measure values."""

    entities: float | None
    values: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """Which cells of a group are hidden, and which measures' totals."""

    primary: frozenset[int] = frozenset()
    complementary: frozenset[int] = frozenset()
    hidden_totals: frozenset[str] = frozenset()

    @property
    def hidden(self) -> frozenset[int]:
        """Every hidden cell (primary and complementary)."""
        return self.primary | self.complementary


def small_reason(k: int, entity: str) -> str:
    """Why a cell computed from too few entities is hidden."""
    return f"fewer than {k} {entity}"


def known_entities(entities: float | None) -> float:
    """An entity count, with unknown (None, NaN) as 0."""
    if entities is None or not math.isfinite(entities):
        return 0.0
    return float(entities)


def is_small(entities: float | None, k: int) -> bool:
    """Whether a cell has some but fewer than k entities; an unknown count is
    small, an empty cell (0: no rows) is not: it describes nobody."""
    if entities is None or not math.isfinite(entities):
        return True
    return 0 < entities < k


def primary_cells(cells: Sequence[Cell], k: int) -> frozenset[int]:
    """The cells computed from fewer than k entities."""
    return frozenset(i for i, cell in enumerate(cells) if is_small(cell.entities, k))


def amount(value: float | None) -> float:
    """A cell value as a term of a sum (None and NaN add nothing)."""
    if value is None or not math.isfinite(value):
        return 0.0
    return float(value)


def _is_zero(total: float, scale: float) -> bool:
    return abs(total) <= 1e-9 * max(1.0, scale)


def exposed_measure(
    cells: Sequence[Cell], hidden: set[int], additive: Sequence[str]
) -> str | None:
    """An additive measure for which some hidden cell equals the hidden sum (the
    other hidden cells add up to 0), or None when no hidden cell is exposed."""
    for name in additive:
        values = {i: amount(cells[i].values.get(name)) for i in hidden}
        hidden_sum = sum(values.values())
        scale = sum(abs(v) for v in values.values())
        if any(_is_zero(hidden_sum - value, scale) for value in values.values()):
            return name
    return None


def next_smallest(
    cells: Sequence[Cell], hidden: set[int], name: str | None
) -> int | None:
    """The visible cell with the fewest entities (then the first) whose value of
    `name` is not 0; any visible cell with rows when `name` is None (hiding an
    empty cell hides nothing)."""
    candidates = [
        i
        for i in range(len(cells))
        if i not in hidden
        and known_entities(cells[i].entities) > 0
        and (name is None or amount(cells[i].values.get(name)) != 0.0)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda i: (known_entities(cells[i].entities), i))


def suppress_group(
    cells: Sequence[Cell],
    k: int,
    additive: Sequence[str] = (),
    total_published: bool = True,
) -> Verdict:
    """Primary and complementary suppression of one group of cells whose values
    add up to a published total (`additive`: the measures that add up)."""
    primary = primary_cells(cells, k)
    if not primary or not total_published:
        return Verdict(primary=primary)
    hidden = set(primary)
    hidden_totals: set[str] = set()
    if len(hidden) == 1:
        extra = next_smallest(cells, hidden, None)
        if extra is None:
            return Verdict(primary, frozenset(), frozenset(_all_names(cells)))
        hidden.add(extra)
    unprotected = [name for name in additive if name not in hidden_totals]
    while (name := exposed_measure(cells, hidden, unprotected)) is not None:
        extra = next_smallest(cells, hidden, name)
        if extra is None:
            hidden_totals.add(name)
            unprotected.remove(name)
        else:
            hidden.add(extra)
    return Verdict(primary, frozenset(hidden - primary), frozenset(hidden_totals))


def _all_names(cells: Sequence[Cell]) -> set[str]:
    return {name for cell in cells for name in cell.values}


def reasons(verdict: Verdict, small: str) -> dict[int, str]:
    """Each hidden cell's reason: too few entities, or protecting another."""
    found = dict.fromkeys(verdict.complementary, REASON_COMPLEMENTARY)
    return {**found, **dict.fromkeys(verdict.primary, small)}
