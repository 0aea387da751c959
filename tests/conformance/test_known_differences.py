"""The known differences stay true, and mingo implements what our pipelines use.

For each entry of tests/conformance/known_differences.py, on its proof (the
manual's own example where the manual has one):
- our engine gives the manual's result;
- mingo, sent the pipeline as is, still deviates (when mingo is fixed this fails:
  remove the entry);
- the entry's rewrite or tolerance closes exactly that gap.
"""

from __future__ import annotations

import pytest

from tests.conformance.compare import differences
from tests.conformance.engines import Run
from tests.conformance.known_differences import (
    KNOWN_DIFFERENCES,
    for_mingo,
    mingo_tolerance,
)
from tests.conformance.suite import fixed_cases

pytestmark = pytest.mark.conformance

# Operators our pipelines use that mingo lacks, each with the test of our engine
# on the manual's own examples. None today: mingo 7.2.7 implements every operator
# name the registered pipelines use (two only partly: `{ $trunc: <number> }` and
# `$densify` with explicit bounds, both known differences above; our engine is
# tested on the manual's examples for them here and in
# tests/unit/test_inprocess_engine.py::test_densify_time_series_with_explicit_bounds).
# A pipeline using an operator listed here cannot be compared on mingo: it is
# compared on a real server (make test-mongo) and by the listed test.
MINGO_LACKS: dict[str, str] = {}


def operators_in(node, found: set[str]) -> set[str]:
    """Every `$name` key (stage, expression, accumulator, query operator)."""
    if isinstance(node, list):
        for item in node:
            operators_in(item, found)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("$"):
                found.add(key)
            operators_in(value, found)
    return found


def test_mingo_implements_every_operator_our_pipelines_use(mingo):
    used: set[str] = set()
    for case in fixed_cases():
        operators_in(case.run().pipeline, used)
    implemented = set().union(*mingo.operators().values())
    assert "$setWindowFields" in used and "$densify" in used  # the walk works
    assert used - implemented == set(MINGO_LACKS)


def proof(difference) -> Run:
    """The entry's proof pipeline over its documents."""
    return Run(
        {"proof": difference.proof_documents}, "proof", difference.proof_pipeline
    )


KEYS = [difference.key for difference in KNOWN_DIFFERENCES]


@pytest.mark.parametrize("difference", KNOWN_DIFFERENCES, ids=KEYS)
def test_our_engine_follows_the_manual(difference, in_process):
    outcome = in_process.run(proof(difference))
    assert outcome.error is None, outcome.error
    assert not differences(outcome.documents, difference.expected)


@pytest.mark.parametrize("difference", KNOWN_DIFFERENCES, ids=KEYS)
def test_mingo_still_deviates_from_the_manual(difference, mingo):
    (outcome,) = mingo.run_many([proof(difference)])
    assert outcome.error is not None or differences(
        difference.expected, outcome.documents
    ), f"mingo now follows the manual here: remove {difference.key!r}"


@pytest.mark.parametrize("difference", KNOWN_DIFFERENCES, ids=KEYS)
def test_the_entry_closes_exactly_its_gap(difference, mingo):
    run = proof(difference)
    (outcome,) = mingo.run_many(
        [Run(run.collections, run.collection, for_mingo(run.pipeline))]
    )
    assert outcome.error is None, outcome.error
    tolerate = mingo_tolerance(run.pipeline)
    assert not differences(difference.expected, outcome.documents, (), tolerate)
    assert difference.manual.startswith("https://www.mongodb.com/docs/")
