"""Engines for the conformance suite: ours, mingo (one Node process per run) and,
with MONGO_URI, a real server. Without Node or mingo the run stops with one line."""

from __future__ import annotations

import os

import pytest

from tests.conformance.engines import (
    InProcessEngine,
    MingoEngine,
    ServerEngine,
    missing_node_reason,
    second_engine_names,
)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse to run conformance cases without Node and mingo (never skip them)."""
    selected = any(item.get_closest_marker("conformance") for item in session.items)
    reason = missing_node_reason() if selected else None
    if reason:
        pytest.exit(reason, returncode=pytest.ExitCode.TESTS_FAILED)


@pytest.fixture(scope="session")
def in_process() -> InProcessEngine:
    """The app's in-process engine."""
    return InProcessEngine()


@pytest.fixture(scope="session")
def mingo():
    """One long-lived mingo runner for the whole run."""
    engine = MingoEngine()
    yield engine
    engine.close()


@pytest.fixture(scope="session", params=second_engine_names())
def second_engine(request, mingo):
    """mingo, and a real MongoDB when MONGO_URI is set."""
    if request.param == "mingo":
        yield mingo
        return
    engine = ServerEngine(os.environ["MONGO_URI"])
    yield engine
    engine.close()
