"""Small-cell and complementary suppression (data/disclosure.py) on crafted and
random groups; the differencing attack (a total minus the visible cells) is run
against every verdict with numpy as the oracle."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from data.disclosure import (
    REASON_COMPLEMENTARY,
    Cell,
    Verdict,
    is_small,
    reasons,
    suppress_group,
)
from data.kpi.disclosure_view import EntityCounts, left_out_bound

K = 10


def cells(entities: list, values: list | None = None, name="n") -> list[Cell]:
    values = values if values is not None else entities
    return [Cell(e, {name: v}) for e, v in zip(entities, values, strict=True)]


def attack(group: list[Cell], verdict: Verdict, name: str) -> list[float]:
    """What subtracting the visible cells from the published total leaves, minus
    each hidden cell's value (when the total is published): never 0."""
    if name in verdict.hidden_totals:
        return []
    values = np.array([_number(c.values.get(name)) for c in group], dtype=float)
    visible = [i for i in range(len(group)) if i not in verdict.hidden]
    derived = float(np.nansum(values) - np.nansum(values[visible]))
    # A hidden cell without a value (None, NaN) has nothing to recover.
    return [derived - values[i] for i in verdict.hidden if not np.isnan(values[i])]


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def test_a_single_small_cell_hides_it_and_the_next_smallest():
    group = cells([50, 3, 12, 40])
    verdict = suppress_group(group, K, ["n"])
    assert verdict.primary == {1}
    assert verdict.complementary == {2}
    found = reasons(verdict, "fewer than 10 people")
    assert found == {1: "fewer than 10 people", 2: REASON_COMPLEMENTARY}


def test_two_small_cells_protect_each_other():
    verdict = suppress_group(cells([50, 3, 4, 40]), K, ["n"])
    assert verdict.hidden == {1, 2} and verdict.complementary == set()


def test_a_zero_valued_complement_does_not_count():
    # Cell 2 is next smallest but adds 0 to the hidden sum: cell 3 goes instead.
    group = cells([50, 3, 12, 40], [500.0, 7.0, 0.0, 80.0], "revenue")
    verdict = suppress_group(group, K, ["revenue"])
    assert verdict.hidden == {1, 2, 3}
    assert all(abs(gap) > 1e-9 for gap in attack(group, verdict, "revenue"))


def test_two_small_cells_one_of_them_zero_still_need_a_third():
    group = cells([50, 3, 4, 40], [500.0, 7.0, 0.0, 80.0], "revenue")
    verdict = suppress_group(group, K, ["revenue"])
    assert verdict.complementary == {3}


def test_without_a_published_total_only_small_cells_are_hidden():
    verdict = suppress_group(cells([50, 3, 12]), K, ["n"], total_published=False)
    assert verdict.hidden == {1}


def test_edge_cases():
    assert suppress_group([], K, ["n"]) == Verdict()
    assert suppress_group(cells([50, 40]), K, ["n"]) == Verdict()
    # One cell in its group: the cell is the total, so the total is hidden.
    alone = suppress_group(cells([3]), K, ["n"])
    assert alone.hidden == {0} and alone.hidden_totals == {"n"}
    # All small: every cell hidden, no complement needed.
    every = suppress_group(cells([1, 2, 3]), K, ["n"])
    assert every.hidden == {0, 1, 2} and every.hidden_totals == set()
    # k above everything, one cell carrying the whole amount: hide the total.
    group = cells([5, 6, 7], [9.0, 0.0, 0.0])
    assert suppress_group(group, 1000, ["n"]).hidden_totals == {"n"}
    # Ties: the first of the equally small visible cells is the complement.
    assert suppress_group(cells([50, 3, 20, 20]), K, ["n"]).complementary == {2}


def test_unknown_counts_are_small_and_empty_cells_are_not():
    assert is_small(None, K) and is_small(float("nan"), K)
    assert not is_small(0, K) and is_small(1, K) and not is_small(K, K)
    verdict = suppress_group(cells([None, 0, 30, 40], [4, 0, 30, 40]), K, ["n"])
    assert verdict.primary == {0} and verdict.complementary == {2}


def test_none_and_nan_values_are_never_the_complement():
    group = cells([3, 12, 20, 40], [5.0, None, float("nan"), 40.0])
    verdict = suppress_group(group, K, ["n"])
    assert verdict.hidden == {0, 1, 3}
    assert all(abs(gap) > 1e-9 for gap in attack(group, verdict, "n"))


def test_non_additive_measures_still_hide_two_cells():
    group = cells([50, 3, 12], [9.5, 120.0, 7.0], "max_price")
    verdict = suppress_group(group, K, [])
    assert verdict.hidden == {1, 2}


def _random_group(rng: np.random.Generator) -> tuple[list[Cell], list[str]]:
    size = int(rng.integers(0, 12))
    entities = rng.integers(0, 40, size).astype(float)
    counts = np.where(entities > 0, entities * rng.integers(1, 4, size), 0)
    revenue = np.round(rng.exponential(50, size) * (rng.random(size) > 0.3), 2)
    delta = np.round(rng.normal(0, 20, size), 1) * (rng.random(size) > 0.4)
    mean = np.where(counts > 0, revenue / np.maximum(counts, 1), np.nan)
    group = [
        Cell(
            None if rng.random() < 0.05 else entities[i],
            {"count": counts[i], "revenue": revenue[i], "delta": delta[i],
             "mean": None if math.isnan(mean[i]) else mean[i]},
        )
        for i in range(size)
    ]  # fmt: skip
    return group, ["count", "revenue", "delta"]


@pytest.mark.parametrize("seed", range(300))
def test_no_hidden_cell_is_total_minus_visible_cells(seed):
    rng = np.random.default_rng(seed)
    group, additive = _random_group(rng)
    k = int(rng.choice([2, 5, 10, 25]))
    verdict = suppress_group(group, k, additive)
    small = {i for i, cell in enumerate(group) if is_small(cell.entities, k)}
    assert verdict.primary == small
    assert not any(is_small(group[i].entities, k) for i in verdict.complementary)
    if verdict.hidden and not verdict.hidden_totals:
        assert len(verdict.hidden) >= 2
    for name in additive:
        assert all(abs(gap) > 1e-6 for gap in attack(group, verdict, name)), name


def test_the_left_out_part_of_a_sketched_selection_is_bounded_from_below():
    t = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    whole = EntityCounts({t: 40.0}, 40.0, {"a": 12.0}, 3.0)
    chosen = EntityCounts({t: 25.0}, 38.0, {"a": 12.0}, 3.0)
    rows = EntityCounts({t: 30.0}, 5.0, {"a": 0.0}, 4.0)
    bound = left_out_bound(whole, chosen, rows)
    # 40 - 25 = at least 15 people left out; no rows left out: nobody; rows
    # left out but the bounds overlap: at least one (small, so it hides).
    assert bound == EntityCounts({t: 15.0}, 2.0, {"a": 0}, 1.0)
    assert [is_small(n, K) for n in (15.0, 2.0, 0, 1.0)] == [False, True, False, True]
