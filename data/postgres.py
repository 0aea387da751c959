"""PostgreSQL: connection pool, database creation and versioned SQL migrations."""

from __future__ import annotations

import contextlib
import logging
import select
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.pool
from psycopg2 import sql

from data.errors import ServiceUnavailable

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 727274  # advisory lock key held while migrations run


UNAVAILABLE = "The database is unavailable right now; try again shortly."
BUSY = "The database is busy right now; try again shortly."
WAIT_S = 5.0  # how long a request waits for a free pooled connection


def was_cut(connection: psycopg2.extensions.connection) -> bool:
    """True when an idle pooled connection was closed by the server (a restart, an
    idle timeout): its socket then has the goodbye or end of stream to read, while
    a live idle connection has nothing. One non-blocking select, no round trip."""
    if connection.closed:
        return True
    readable, _, _ = select.select([connection], [], [], 0)
    return bool(readable)


class KeepingConnectionPool(psycopg2.pool.ThreadedConnectionPool):
    """psycopg2's pool closes every returned connection beyond `minconn`, so under
    concurrent requests it reconnects all the time; this one opens connections on
    demand (one at start) and keeps up to `maxconn` of them for reuse."""

    def __init__(self, maxconn: int, *args, **kwargs) -> None:
        super().__init__(1, maxconn, *args, **kwargs)
        self.minconn = self.maxconn  # what _putconn keeps instead of closing


class Postgres:
    """A thread-safe connection pool with a transaction helper."""

    def __init__(
        self, dsn: str, max_connections: int = 10, wait_s: float = WAIT_S
    ) -> None:
        self.dsn = dsn
        self.pool = KeepingConnectionPool(max_connections, dsn, connect_timeout=5)
        # More request threads than connections wait for one (psycopg2's pool
        # raises PoolError at once, which was a 500 under load).
        self.slots = threading.BoundedSemaphore(max_connections)
        self.wait_s = wait_s

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg2.extensions.cursor]:
        """Yield a cursor in a transaction: commit on success, roll back on error.

        A server that cannot be reached (down, restarting, connection lost) is a
        ServiceUnavailable (503); the next transaction connects again."""
        if not self.slots.acquire(timeout=self.wait_s):
            raise ServiceUnavailable(BUSY)
        try:
            connection = self._live_connection()
        except BaseException:
            self.slots.release()
            raise
        try:
            with connection, connection.cursor() as cursor:
                yield cursor
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            if connection.closed:  # lost mid-transaction (and the rollback failed)
                raise ServiceUnavailable(UNAVAILABLE) from error
            raise
        finally:
            # A connection broken by a server restart is dropped, not reused.
            self.pool.putconn(connection, close=bool(connection.closed))
            self.slots.release()

    def _live_connection(self) -> psycopg2.extensions.connection:
        """A pooled connection that still reaches the server: connections that a
        server restart cut are dropped here instead of failing one request each."""
        for _ in range(self.pool.maxconn + 1):
            try:
                connection = self.pool.getconn()
            except psycopg2.OperationalError as error:
                raise ServiceUnavailable(UNAVAILABLE) from error
            if not was_cut(connection):
                return connection
            self.pool.putconn(connection, close=True)
        raise ServiceUnavailable(UNAVAILABLE)

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.closeall()


def ensure_database(dsn: str) -> bool:
    """Create the database named in the DSN when missing; True when it was created."""
    params = psycopg2.extensions.parse_dsn(dsn)
    name = params.get("dbname", "postgres")
    admin = psycopg2.connect(**{**params, "dbname": "postgres"}, connect_timeout=5)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone():
                return False
            try:
                cursor.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                )
            except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                # Another process (worker, replica) created it first; a race shows
                # up as a unique violation in pg_database rather than a duplicate.
                return False
            log.info("created database", extra={"database": name})
            return True
    finally:
        admin.close()


def drop_database(dsn: str) -> None:
    """Drop the database named in the DSN (used by test fixtures)."""
    params = psycopg2.extensions.parse_dsn(dsn)
    admin = psycopg2.connect(**{**params, "dbname": "postgres"}, connect_timeout=5)
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(params["dbname"])
                )
            )
    finally:
        admin.close()


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    """The versioned migration files, ordered: `0001_name.sql` has version 1."""
    files: dict[int, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        if version in files:
            # Two branches picked the same number: refuse rather than skip one.
            raise RuntimeError(
                f"duplicate migration version {version}: "
                f"{files[version].name} and {path.name}"
            )
        files[version] = path
    return sorted(files.items())


def apply_migrations(database: Postgres, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations in order, each in its own transaction; return them."""
    with database.transaction() as cursor:
        # Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog, so
        # app replicas and the worker starting together queue on the same lock.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
    applied = []
    for version, path in migration_files(directory):
        with database.transaction() as cursor:
            # The advisory lock makes concurrent starts apply each migration once.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cursor.execute(
                "SELECT 1 FROM schema_migrations WHERE version = %s", (version,)
            )
            if cursor.fetchone():
                continue
            cursor.execute(path.read_text(encoding="utf-8"))
            cursor.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (version, path.name),
            )
            applied.append(version)
    return applied
