"""Fixtures for ingest tests: apps with inline processing, files, polling."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time

import pytest

from tests.conftest import SAMPLE_CSV

# Readable versions: `processed`, or `cached` once the analytics hook has run.
READABLE = ("processed", "cached")


@pytest.fixture
def inline_app(make_app):
    """An app whose ingest jobs run inside the request (deterministic tests)."""
    return make_app(ingest_mode="inline")


@pytest.fixture
def services_of():
    """services_of(app) -> the app's Services."""
    return lambda app: app.server.extensions["insightboard"]


@pytest.fixture
def sample_bytes() -> bytes:
    """The demo sales CSV (7 rows: date, revenue, orders)."""
    return SAMPLE_CSV.read_bytes()


def wait_for_status(read, wanted=("processed", "cached", "failed"), timeout=60.0):
    """Poll read() -> view until its status is one of `wanted`; return the view."""
    deadline = time.monotonic() + timeout
    view = read()
    while view["status"] not in wanted:
        assert time.monotonic() < deadline, f"still {view['status']}: {view}"
        time.sleep(0.05)
        view = read()
    return view


def meet_before_reserving(monkeypatch, parties: int) -> threading.Barrier:
    """Hold each of the first `parties` version inserts until all have arrived, so
    that every upload has read the (empty) version list before any inserts."""
    from data.ingest import repository

    barrier = threading.Barrier(parties, timeout=30)
    real, arrivals = repository.insert_version, itertools.count()

    def insert_version(db, document):
        if next(arrivals) < parties:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        real(db, document)

    monkeypatch.setattr(repository, "insert_version", insert_version)
    return barrier


def fail_first_run(monkeypatch) -> None:
    """The first processing run hits an internal error (a transient fault)."""
    from data.ingest import processing

    real = processing.convert_chunk
    runs: list = []

    def convert_chunk(frame, plan):
        if not runs:
            runs.append(1)
            raise RuntimeError("transient fault")
        return real(frame, plan)

    monkeypatch.setattr(processing, "convert_chunk", convert_chunk)
