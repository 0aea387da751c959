"""The in-process MongoDB engine: mongomock behind the pymongo API, with the
operators it lacks (`patches`) and fast bulk writes (`bulk`).

The app factory installs it explicitly when MONGO_URI is unset. The patches reach
into mongomock's internals, so they refuse any mongomock but the pinned one.
"""

from __future__ import annotations

from typing import Any

import mongomock
import pymongo.database

from data.inprocess import bulk, patches

PINNED_MONGOMOCK = "4.3.0"


class EngineVersionError(RuntimeError):
    """The installed mongomock is not the version the patches were written for."""


def install() -> None:
    """Patch mongomock once per process; refuse an unpinned mongomock version."""
    found = getattr(mongomock, "__version__", None)
    if found != PINNED_MONGOMOCK:
        raise EngineVersionError(
            f"the in-process engine needs mongomock {PINNED_MONGOMOCK} (its patches "
            f"use that version's internals), found {found}"
        )
    patches.install()
    bulk.install()


def connect(database_name: str) -> pymongo.database.Database:
    """A database on a fresh in-process client (install() first)."""
    client: Any = mongomock.MongoClient(tz_aware=True)
    return client[database_name]
