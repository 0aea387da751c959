"""The PostgreSQL pool keeps the connections it opened (psycopg2's own closes every
returned connection beyond its minimum, so concurrent requests kept reconnecting)."""

from __future__ import annotations

import threading
import time

import pytest

from data.postgres import Postgres


def backend_pids_of_concurrent_transactions(database: Postgres, count: int) -> set:
    """Run `count` transactions at once; the server process id each one used."""
    barrier, pids, lock = threading.Barrier(count), set(), threading.Lock()

    def work():
        with database.transaction() as cursor:
            barrier.wait(timeout=30)  # all hold a connection at the same time
            cursor.execute("SELECT pg_backend_pid()")
            with lock:
                pids.add(cursor.fetchone()[0])

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return pids


def test_concurrent_transactions_reuse_the_same_connections(database_url):
    database = Postgres(database_url, max_connections=4)
    try:
        first = backend_pids_of_concurrent_transactions(database, 4)
        second = backend_pids_of_concurrent_transactions(database, 4)
        assert len(first) == 4
        assert second == first  # no connection was closed and reopened
    finally:
        database.close()


def test_a_connection_cut_by_the_server_is_replaced_not_failed(database_url):
    database = Postgres(database_url, max_connections=2)
    try:
        with database.transaction() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (victim,) = cursor.fetchone()
        with database.transaction() as cursor:  # another connection ends it
            cursor.execute("SELECT pg_backend_pid()")
        other = Postgres(database_url, max_connections=1)
        with other.transaction() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", (victim,))
        # The signal is sent, not yet obeyed: wait until the backend has gone (on
        # a loaded machine it may still answer the next query otherwise).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with other.transaction() as cursor:
                cursor.execute(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = %s", (victim,)
                )
                if cursor.fetchone() is None:
                    break
            time.sleep(0.05)
        other.close()
        with database.transaction() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != victim
    finally:
        database.close()


def test_more_threads_than_connections_wait_for_one(database_url):
    """Six concurrent transactions on a pool of two all succeed (they wait for a
    connection: psycopg2's pool raised PoolError, a 500, as soon as it ran out);
    a wait longer than the pool's limit is a 503."""
    from data.errors import ServiceUnavailable

    database = Postgres(database_url, max_connections=2)
    outcomes, lock = [], threading.Lock()

    def work():
        try:
            with database.transaction() as cursor:
                cursor.execute("SELECT pg_sleep(0.2)")
            outcome = "ok"
        except Exception as error:
            outcome = type(error).__name__
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok"] * 6
    impatient = Postgres(database_url, max_connections=1, wait_s=0.05)
    try:
        with impatient.transaction() as cursor:
            cursor.execute("SELECT 1")
            with (
                pytest.raises(ServiceUnavailable, match="busy"),
                impatient.transaction(),
            ):
                pass
    finally:
        impatient.close()
        database.close()
