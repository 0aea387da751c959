"""Cases (registered pipeline × variant × world) and the verdict on two answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tests.conformance.compare import differences
from tests.conformance.engines import Outcome, Run
from tests.conformance.fixtures import World, edge_worlds
from tests.conformance.known_differences import for_mingo, mingo_tolerance
from tests.conformance.pipelines import PIPELINES, Pipeline

EDGE_WORLDS = {world.name: world for world in edge_worlds()}


@dataclass(frozen=True)
class Case:
    """One registered pipeline with one variant on one world."""

    pipeline: Pipeline
    variant: str
    world: World

    @property
    def id(self) -> str:
        """pipeline/variant/world, the test id."""
        return f"{self.pipeline.name}/{self.variant}/{self.world.name}"

    def run(self) -> Run:
        """The Run our engine executes (the production pipeline, unchanged)."""
        return case_run(self.pipeline, self.pipeline.variants[self.variant], self.world)


def case_run(pipeline: Pipeline, variant: Mapping, world: World) -> Run:
    """Build the pipeline for this variant and world."""
    collection, stages = pipeline.build(world, variant)
    return Run(world.collections, collection, stages, ours=pipeline.ours)


def fixed_cases() -> list[Case]:
    """Every registered pipeline × variant × its edge-case worlds."""
    cases: list[Case] = []
    for pipeline in PIPELINES.values():
        names = pipeline.worlds or tuple(EDGE_WORLDS)
        for variant in pipeline.variants:
            cases.extend(Case(pipeline, variant, EDGE_WORLDS[name]) for name in names)
    return cases


def for_engine(run: Run, engine_name: str) -> Run:
    """The run as sent to the second engine (mingo gets its known rewrites)."""
    if engine_name != "mingo":
        return run
    return Run(run.collections, run.collection, for_mingo(run.pipeline))


def disagreements(
    pipeline: Pipeline, run: Run, ours: Outcome, theirs: Outcome, engine_name: str
) -> list[str]:
    """What the two engines disagree on (empty when they agree).

    Both refusing the pipeline counts as agreement (error texts differ by engine);
    mingo's known differences from the manual are tolerated, nothing else."""
    if ours.error is not None or theirs.error is not None:
        if ours.error is not None and theirs.error is not None:
            return []
        return [f"ours: {ours.error or 'ok'}; {engine_name}: {theirs.error or 'ok'}"]
    tolerate = mingo_tolerance(run.pipeline) if engine_name == "mingo" else None
    return differences(ours.documents, theirs.documents, pipeline.unordered, tolerate)


def report(case_id: str, found: list[str], engine_name: str) -> str:
    """A readable failure: the case and its first disagreements."""
    shown = "\n  ".join(found[:12])
    more = f"\n  ... and {len(found) - 12} more" if len(found) > 12 else ""
    return f"{case_id}: in-process engine and {engine_name} disagree:\n  {shown}{more}"
