"""Versioned SQL migrations and database creation on a real PostgreSQL server."""

from __future__ import annotations

import shutil
import threading
import uuid
from pathlib import Path

import psycopg2
import pytest

from data import postgres
from tests.conftest import POSTGRES_SERVER

SCHEMA_QUERIES = {
    "columns": (
        "SELECT table_name, column_name, data_type, is_nullable, column_default"
        " FROM information_schema.columns WHERE table_schema = 'public'"
        " ORDER BY 1, 2"
    ),
    "constraints": (
        "SELECT table_name, constraint_name, constraint_type"
        " FROM information_schema.table_constraints"
        " WHERE table_schema = 'public' ORDER BY 1, 2"
    ),
    "indexes": "SELECT indexname, indexdef FROM pg_indexes"
    " WHERE schemaname = 'public' ORDER BY 1",
    "extensions": "SELECT extname, extversion FROM pg_extension ORDER BY 1",
    "migrations": "SELECT version, name, applied_at FROM schema_migrations ORDER BY 1",
}


@pytest.fixture
def fresh_url():
    """The URL of a database that does not exist yet; dropped after the test."""
    url = f"{POSTGRES_SERVER}/ib_migrate_{uuid.uuid4().hex[:12]}"
    yield url
    postgres.drop_database(url)


@pytest.fixture
def fresh_database(fresh_url):
    """A pool on a new, empty database."""
    postgres.ensure_database(fresh_url)
    database = postgres.Postgres(fresh_url, 4)
    yield database
    database.close()


def snapshot(database: postgres.Postgres) -> dict:
    """Everything the schema is made of, from the catalog."""
    result = {}
    with database.transaction() as cursor:
        for name, query in SCHEMA_QUERIES.items():
            cursor.execute(query)
            result[name] = cursor.fetchall()
    return result


def copy_migrations(target: Path, extra: dict[str, str]) -> Path:
    """The real migrations plus extra files, in a directory of their own."""
    target.mkdir()
    for _version, path in postgres.migration_files():
        shutil.copy(path, target / path.name)
    for name, text in extra.items():
        (target / name).write_text(text)
    return target


def table_exists(database: postgres.Postgres, name: str) -> bool:
    """True when public.<name> exists."""
    with database.transaction() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{name}",))
        return cursor.fetchone()[0]


def test_applying_twice_changes_nothing_the_second_time(fresh_database):
    expected = [version for version, _ in postgres.migration_files()]
    assert expected, "there is at least one migration"
    assert postgres.apply_migrations(fresh_database) == expected
    before = snapshot(fresh_database)
    assert [row[0] for row in before["migrations"]] == expected
    assert postgres.apply_migrations(fresh_database) == []
    assert snapshot(fresh_database) == before


def test_only_new_migrations_are_applied(fresh_database, tmp_path):
    postgres.apply_migrations(fresh_database)
    directory = copy_migrations(
        tmp_path / "migrations",
        {"9001_widgets.sql": "CREATE TABLE widgets (id serial PRIMARY KEY);"},
    )
    assert postgres.apply_migrations(fresh_database, directory) == [9001]
    assert table_exists(fresh_database, "widgets")
    assert postgres.apply_migrations(fresh_database, directory) == []


def test_a_failing_migration_leaves_no_trace_and_can_be_fixed(fresh_database, tmp_path):
    broken = "CREATE TABLE half_done (id int); SELECT 1 / 0;"
    directory = copy_migrations(
        tmp_path / "migrations",
        {"9001_ok.sql": "CREATE TABLE ok_table (id int);", "9002_bad.sql": broken},
    )
    with pytest.raises(psycopg2.errors.DivisionByZero):
        postgres.apply_migrations(fresh_database, directory)
    versions = [row[0] for row in snapshot(fresh_database)["migrations"]]
    assert 9001 in versions and 9002 not in versions
    assert table_exists(fresh_database, "ok_table")
    assert not table_exists(fresh_database, "half_done")
    (directory / "9002_bad.sql").write_text("CREATE TABLE half_done (id int);")
    assert postgres.apply_migrations(fresh_database, directory) == [9002]


def test_duplicate_versions_are_refused_before_anything_runs(fresh_database, tmp_path):
    directory = copy_migrations(
        tmp_path / "migrations",
        {
            "9001_first.sql": "CREATE TABLE first_one (id int);",
            "9001_second.sql": "CREATE TABLE second_one (id int);",
        },
    )
    with pytest.raises(RuntimeError, match="duplicate migration version 9001"):
        postgres.apply_migrations(fresh_database, directory)
    assert not table_exists(fresh_database, "first_one")


def test_concurrent_starts_apply_each_migration_exactly_once(fresh_url):
    postgres.ensure_database(fresh_url)
    pools = [postgres.Postgres(fresh_url, 2) for _ in range(4)]
    barrier = threading.Barrier(len(pools))
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def start(database: postgres.Postgres) -> None:
        barrier.wait()
        try:
            results.append(postgres.apply_migrations(database))
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=start, args=(pool,)) for pool in pools]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for pool in pools:
        pool.close()
    assert errors == []
    applied = sorted(version for result in results for version in result)
    assert applied == [version for version, _ in postgres.migration_files()]


def test_ensure_database_creates_once_even_when_racing(fresh_url):
    barrier = threading.Barrier(3)
    outcomes: list[bool | BaseException] = []

    def create() -> None:
        barrier.wait()
        try:
            outcomes.append(postgres.ensure_database(fresh_url))
        except BaseException as error:  # collected and asserted below
            outcomes.append(error)

    threads = [threading.Thread(target=create) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str) == [False, False, True]
    assert postgres.ensure_database(fresh_url) is False
