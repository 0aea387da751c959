"""The factory's choice of engine: a configured server gets bounded timeouts (no
server needed, pymongo connects lazily); without one, the in-process engine."""

from __future__ import annotations

import pymongo
import pytest

from app import connect_mongo
from config import load_settings
from data import mongo


@pytest.fixture
def server_database():
    # A closed port: nothing is contacted until the first operation.
    settings = load_settings(
        {
            "app_env": "test",
            "mongo_uri": "mongodb://127.0.0.1:9/?appname=unit",
            "mongo_db": "unit_db",
            "mongo_timeout_ms": 1500,
        }
    )
    database = mongo.connect(settings)
    yield database
    database.client.close()


def test_a_mongodb_uri_gets_a_real_client_with_bounded_timeouts(server_database):
    client = server_database.client
    assert isinstance(client, pymongo.MongoClient)
    assert server_database.name == "unit_db"
    assert client.options.server_selection_timeout == pytest.approx(1.5)
    assert client.options.timeout == pytest.approx(9.0)  # the whole operation
    assert client.options.pool_options.connect_timeout == pytest.approx(1.5)


def test_without_a_uri_the_in_process_engine_is_used():
    settings = load_settings({"app_env": "test", "mongo_uri": None})
    database = connect_mongo(settings)
    assert not isinstance(database.client, pymongo.MongoClient)
    database.things.insert_one({"a": 1})
    assert database.things.count_documents({}) == 1
