"""The engines a conformance case runs on: ours (in process), mingo, a real server.

Documents and pipelines cross to Node as MongoDB Extended JSON (canonical, through
bson.json_util) and results come back the same way, so dates keep their exact
milliseconds and doubles their exact bits (NaN and infinities included).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pymongo
from bson import json_util
from bson.codec_options import CodecOptions

from data import inprocess

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("mingo_runner.mjs")
MINGO_MAJOR = 7
CANONICAL = json_util.JSONOptions(
    json_mode=json_util.JSONMode.CANONICAL, tz_aware=True, tzinfo=json_util.utc
)
READ = json_util.JSONOptions(tz_aware=True, tzinfo=json_util.utc)


@dataclass(frozen=True)
class Run:
    """One pipeline over one set of collections: the first collection is the one
    aggregated; any others are there for stages that read them."""

    collections: dict[str, list[dict]]
    collection: str
    pipeline: list[dict]
    # How our engine answers when production code does not aggregate (for example
    # a fast delete path): a function of (database, collection, pipeline).
    ours: Callable | None = None


@dataclass(frozen=True)
class Outcome:
    """An engine's answer: the result documents, or the error it raised."""

    documents: list[dict] | None = None
    error: str | None = None


def to_extended_json(value) -> str:
    """Canonical Extended JSON on one line."""
    return json_util.dumps(value, json_options=CANONICAL)


def from_extended_json(text: str):
    """Python values (aware UTC datetimes) from Extended JSON."""
    return json_util.loads(text, json_options=READ)


def missing_node_reason() -> str | None:
    """Why mingo cannot run here (one line), or None when it can."""
    if shutil.which("node") is None:
        return (
            "conformance suite: Node.js ('node') is not on PATH; install it "
            "(deploy/install-system-deps.sh) and run `npm ci` in the repository root"
        )
    manifest = ROOT / "node_modules" / "mingo" / "package.json"
    if not manifest.exists():
        return "conformance suite: mingo is not installed; run `npm ci` in " + str(ROOT)
    version = json.loads(manifest.read_text())["version"]
    if int(version.split(".")[0]) != MINGO_MAJOR:
        return (
            f"conformance suite: mingo {version} is installed, the suite needs "
            f"{MINGO_MAJOR}.x (package-lock.json); run `npm ci`"
        )
    return None


class MingoEngine:
    """One long-lived `node tests/conformance/mingo_runner.mjs` for the whole run:
    each call sends a batch of pipelines on one line and reads one line back."""

    name = "mingo"

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["node", str(RUNNER)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.calls = 0

    def _ask(self, request: dict) -> dict:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(to_extended_json(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        self.calls += 1
        if not line:
            raise RuntimeError(f"mingo runner died: {self._stderr()}")
        answer = from_extended_json(line)
        if "fatal" in answer:
            raise RuntimeError(answer["fatal"])
        return answer

    def operators(self) -> dict[str, set[str]]:
        """The operator names mingo implements, by kind (expression, pipeline, ...)."""
        answer = self._ask({"operators": True})["operators"]
        return {kind: set(names) for kind, names in answer.items()}

    def run_many(self, runs: Sequence[Run]) -> list[Outcome]:
        """Every run in one round trip, answers in the same order."""
        cases = [
            {"documents": run.collections[run.collection], "pipeline": run.pipeline}
            for run in runs
        ]
        answer = self._ask({"cases": cases})
        return [
            Outcome(documents=item.get("ok"), error=item.get("error"))
            for item in answer["results"]
        ]

    def _stderr(self) -> str:
        self.process.kill()
        self.process.wait()
        return (self.process.stderr.read() if self.process.stderr else "").strip()

    def close(self) -> None:
        """Close stdin (the runner exits) and wait for it."""
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()


class InProcessEngine:
    """The app's in-process engine (data.inprocess, installed as the factory
    installs it), a fresh client and database per run."""

    name = "in-process"

    def __init__(self) -> None:
        inprocess.install()

    def database(self, collections: dict[str, list[dict]]):
        """A fresh database holding these collections."""
        database = inprocess.connect(f"conformance_{uuid.uuid4().hex[:10]}")
        for name, documents in collections.items():
            if documents:
                database[name].insert_many([dict(doc) for doc in documents])
        return database

    def run_many(self, runs: Sequence[Run]) -> list[Outcome]:
        """Each run on its own fresh database."""
        return [self.run(run) for run in runs]

    def run(self, run: Run) -> Outcome:
        """One aggregate call; an engine error becomes the outcome's error."""
        database = self.database(run.collections)
        try:
            if run.ours is not None:
                return Outcome(
                    documents=run.ours(database, run.collection, run.pipeline)
                )
            return Outcome(
                documents=list(database[run.collection].aggregate(run.pipeline))
            )
        except Exception as error:  # the engine's refusal is part of its answer
            return Outcome(error=f"{type(error).__name__}: {error}")

    def close(self) -> None:
        """Nothing to stop."""


class ServerEngine:
    """A real MongoDB at MONGO_URI (throwaway databases, dropped after each run)."""

    name = "server"

    def __init__(self, uri: str) -> None:
        self.client: pymongo.MongoClient[dict] = pymongo.MongoClient(uri, tz_aware=True)
        self.options: CodecOptions[dict] = CodecOptions(
            tz_aware=True, tzinfo=json_util.utc
        )

    def run_many(self, runs: Sequence[Run]) -> list[Outcome]:
        """Each run on its own database."""
        return [self.run(run) for run in runs]

    def run(self, run: Run) -> Outcome:
        """One aggregate call on a fresh database."""
        name = f"ib_conformance_{uuid.uuid4().hex[:10]}"
        database = self.client.get_database(name, codec_options=self.options)
        try:
            for collection, documents in run.collections.items():
                if documents:
                    database[collection].insert_many([dict(d) for d in documents])
            return Outcome(
                documents=list(database[run.collection].aggregate(run.pipeline))
            )
        except pymongo.errors.OperationFailure as error:
            return Outcome(error=f"OperationFailure: {error}")
        finally:
            self.client.drop_database(name)

    def close(self) -> None:
        """Close the client."""
        self.client.close()


def second_engine_names() -> list[str]:
    """mingo always; a real server as well when MONGO_URI is set."""
    return ["mingo"] + (["server"] if os.environ.get("MONGO_URI") else [])
