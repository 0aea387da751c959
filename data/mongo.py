"""MongoDB connection to a real server through MONGO_URI (the in-process engine
without one lives in data.inprocess)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pymongo
import pymongo.database

# {collection: [(keys, options), ...]}: each repository declares its own.
IndexDefinitions = Mapping[str, list[tuple[list[tuple[str, int]], dict]]]


def connect(settings) -> pymongo.database.Database:
    """Return the app's database on the server at MONGO_URI, with bounded timeouts."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        settings.mongo_uri,
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        timeoutMS=settings.mongo_timeout_ms * 6,
        connectTimeoutMS=settings.mongo_timeout_ms,
        tz_aware=True,
    )
    return client[settings.mongo_db]


def ensure_indexes(
    database: pymongo.database.Database, *definitions: IndexDefinitions
) -> None:
    """Create the given indexes (idempotent; the factory calls it once)."""
    for definition in definitions:
        for collection, specs in definition.items():
            for keys, options in specs:
                database[collection].create_index(keys, **options)


def ping(database: pymongo.database.Database) -> None:
    """Raise when the server cannot be reached."""
    database.command("ping")
