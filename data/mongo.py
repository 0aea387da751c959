"""MongoDB connection to a real server through MONGO_URI (the in-process engine
without one lives in data.inprocess)."""

from __future__ import annotations

import pymongo
import pymongo.database

INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict]]] = {}


def register_indexes(
    collection: str, *specs: tuple[list[tuple[str, int]], dict]
) -> None:
    """Declare indexes for a collection; they are created at start-up."""
    INDEXES.setdefault(collection, []).extend(specs)


def connect(settings) -> pymongo.database.Database:
    """Return the app's database on the server at MONGO_URI, with bounded timeouts."""
    client = pymongo.MongoClient(
        settings.mongo_uri,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        timeoutMS=settings.mongo_timeout_ms * 6,
        connectTimeoutMS=settings.mongo_timeout_ms,
        tz_aware=True,
    )
    return client[settings.mongo_db]


def ensure_indexes(database: pymongo.database.Database) -> None:
    """Create every declared index (idempotent)."""
    for collection, specs in INDEXES.items():
        for keys, options in specs:
            database[collection].create_index(keys, **options)


def ping(database: pymongo.database.Database) -> None:
    """Raise when the server cannot be reached."""
    database.command("ping")
