"""The in-process engine package: pinned mongomock only, and bulk-write shortcuts
that store and remove exactly what mongomock's own methods do."""

from __future__ import annotations

import datetime as dt
import random
import re
import tomllib
from pathlib import Path

import mongomock
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data import inprocess
from data.inprocess import bulk

ROOT = Path(__file__).resolve().parents[2]


def fresh_database():
    """A new in-process database with the engine installed."""
    inprocess.install()
    return inprocess.connect(f"bulk_{random.getrandbits(32)}")


@pytest.fixture
def database():
    return fresh_database()


def test_the_engine_refuses_a_mongomock_other_than_the_pinned_one(monkeypatch):
    monkeypatch.setattr(mongomock, "__version__", "4.2.0")
    with pytest.raises(inprocess.EngineVersionError, match=r"4\.3\.0.*found 4\.2\.0"):
        inprocess.install()


def test_the_pinned_version_is_the_one_pyproject_installs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for d in project["project"]["dependencies"] if d.startswith("mongomock")]
    assert pins == [f"mongomock=={inprocess.PINNED_MONGOMOCK}"]
    assert mongomock.__version__ == inprocess.PINNED_MONGOMOCK


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
)
_keys = st.sampled_from(["a", "b", "$x", "c.d", "r"])
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3)
    ),
    max_leaves=6,
)
_documents = st.lists(st.dictionaries(_keys, _values, max_size=4), max_size=6)


def _stored(collection) -> list:
    return sorted(
        (repr(sorted(doc.items())) for doc in collection.find({}, {"_id": 0})),
    )


def _outcome(call):
    try:
        return call()
    except Exception as error:  # the same error class either way
        return type(error)


@settings(max_examples=150, deadline=None)
@given(docs=_documents)
def test_bulk_insert_stores_what_mongomock_stores(docs):
    database = fresh_database()
    ours, theirs = database.ours, database.theirs
    fast = _outcome(lambda: ours.insert_many([dict(d) for d in docs], ordered=False))
    slow = _outcome(
        lambda: bulk.MONGOMOCK_METHODS["insert_many"](
            theirs, [dict(d) for d in docs], ordered=False
        )
    )
    assert isinstance(fast, type) == isinstance(slow, type)
    if isinstance(fast, type):
        assert fast is slow
    assert _stored(ours) == _stored(theirs)


def test_bulk_insert_sets_ids_on_the_callers_documents(database):
    docs = [{"a": 1}, {"a": 2}]
    result = database.items.insert_many(docs)
    assert result.inserted_ids == [doc["_id"] for doc in docs]
    assert database.items.count_documents({"a": {"$gt": 0}}) == 2


def test_bulk_insert_keeps_the_unique_index_check(database):
    database.items.create_index([("a", 1)], unique=True)
    database.items.insert_many([{"a": 1}])
    with pytest.raises(mongomock.BulkWriteError):
        database.items.insert_many([{"a": 1}])


_storable = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC])),
)
_conditions = st.one_of(
    _storable,
    st.fixed_dictionaries({"$ne": _storable}),
    st.fixed_dictionaries({"$lt": _storable}),
    st.fixed_dictionaries({"$gte": _storable}),
)
_flat = st.dictionaries(st.sampled_from(["a", "b", "r"]), _storable, max_size=3)


@settings(max_examples=150, deadline=None)
@given(
    docs=st.lists(
        _flat | st.fixed_dictionaries({"a": st.lists(_storable)}), max_size=8
    ),
    query=st.dictionaries(st.sampled_from(["a", "b", "r"]), _conditions, max_size=3),
)
def test_bulk_delete_removes_what_mongomock_removes(docs, query):
    database = fresh_database()
    ours, theirs = database.ours, database.theirs
    if docs:
        bulk.MONGOMOCK_METHODS["insert_many"](ours, [dict(d) for d in docs])
        bulk.MONGOMOCK_METHODS["insert_many"](theirs, [dict(d) for d in docs])
    fast = _outcome(lambda: ours.delete_many(query).deleted_count)
    slow = _outcome(
        lambda: bulk.MONGOMOCK_METHODS["delete_many"](theirs, query).deleted_count
    )
    assert fast == slow
    assert _stored(ours) == _stored(theirs)


def test_repositories_use_only_the_public_pymongo_api():
    """No project module outside data/inprocess names mongomock or its internals."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv", "tests/", "bench/", "data/inprocess/")):
            continue
        if re.search(r"mongomock|\._store\b|mongo_compat", path.read_text()):
            offenders.append(relative)
    assert offenders == []
