"""Pipeline conformance: every production pipeline, run on the in-process engine
and on a second, independent engine (mingo under Node; a real MongoDB too when
MONGO_URI is set), must give the same result.

Compared: numbers to a relative 1e-9, dates exactly, field sets exactly, and list
order wherever the pipeline defines it. Disagreements are decided against the
MongoDB manual; where mingo deviates from it, the case is in
tests/conformance/known_differences.py (the only expected differences).

**Adding a pipeline** (KPI, alerts, reports, ...): one `register(Pipeline(...))` in
tests/conformance/pipelines.py, naming the builder, its representative parameter
variants and the result paths whose order the manual leaves undefined. It then
runs here on every edge-case world (tests/conformance/fixtures.py: empty, one
document, ties, gaps, a DST change day, negative and huge values, missing and null
fields, several dimensions, ...) and on generated document sets.

Cost: the fixed cases go to mingo in one batch per engine; generated examples
each make one round trip to the same long-lived Node process.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conformance.fixtures import BASE, DIMENSIONS, world_of
from tests.conformance.pipelines import PIPELINES
from tests.conformance.suite import (
    case_run,
    disagreements,
    fixed_cases,
    for_engine,
    report,
)

pytestmark = pytest.mark.conformance
CASES = fixed_cases()


@pytest.fixture(scope="module")
def second_answers(second_engine) -> dict:
    """Every fixed case's answer from the second engine, in one batch."""
    runs = {case.id: for_engine(case.run(), second_engine.name) for case in CASES}
    outcomes = second_engine.run_many(list(runs.values()))
    return dict(zip(runs, outcomes, strict=True))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_fixed_case_agrees(case, in_process, second_engine, second_answers):
    run = case.run()
    ours = in_process.run(run)
    theirs = second_answers[case.id]
    found = disagreements(case.pipeline, run, ours, theirs, second_engine.name)
    assert not found, report(case.id, found, second_engine.name)


values = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.integers(-3, 3).map(float),
    st.sampled_from([1e300, -1e300, 0.0, -0.0, 5e-324]),
    st.none(),
)
rows = st.lists(
    st.tuples(
        st.integers(0, 24 * 21).map(lambda hour: BASE + dt.timedelta(hours=hour)),
        values,
        st.sampled_from(["N", "S"]),
        st.sampled_from(["web", "shop"]),
    ),
    max_size=25,
)
GENERATED = [name for name, pipeline in PIPELINES.items() if pipeline.generated]


@pytest.mark.parametrize("name", GENERATED)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), generated=rows)
def test_generated_documents_agree(name, data, generated, in_process, second_engine):
    pipeline = PIPELINES[name]
    variant = data.draw(st.sampled_from(sorted(pipeline.variants)), label="variant")
    world = world_of("generated", generated, DIMENSIONS)
    run = case_run(pipeline, pipeline.variants[variant], world)
    ours = in_process.run(run)
    (theirs,) = second_engine.run_many([for_engine(run, second_engine.name)])
    found = disagreements(pipeline, run, ours, theirs, second_engine.name)
    assert not found, report(f"{name}/{variant}/generated", found, second_engine.name)
