"""The audit trail's hash chain (auth/audit.py): it verifies while events are
appended, names the first edited or the row after a deleted one, survives
retention through its checkpoint, and the API shows users their own events only.

Tampering needs the table's append-only trigger off, as a database superuser can
do: these tests own their database, so no other test sees a broken chain."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from auth import audit
from data import postgres
from tests.conftest import POSTGRES_SERVER, build_app, register_user


@pytest.fixture(scope="module")
def audit_app(tmp_path_factory):
    """An app on a database of its own (building one costs seconds)."""
    url = f"{POSTGRES_SERVER}/ib_audit_{uuid.uuid4().hex[:12]}"
    postgres.ensure_database(url)
    app = build_app(url, tmp_path_factory.mktemp("audit-objects"))
    yield {"app": app, "db": app.server.extensions["insightboard"].postgres, "url": url}
    app.server.extensions["insightboard"].close()
    postgres.drop_database(url)


@pytest.fixture
def trail(audit_app):
    """The module's app with an empty trail (each test starts a chain)."""
    tamper(audit_app["db"], "DELETE FROM audit_events")
    return audit_app


def tamper(db, sql: str, *values) -> None:
    """Change the table behind the trigger's back (a superuser's power)."""
    with db.transaction() as cursor:
        cursor.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
        cursor.execute(sql, values)
        cursor.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")


def event_ids(db) -> list[int]:
    with db.transaction() as cursor:
        cursor.execute("SELECT id FROM audit_events ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def some_events(db, count: int) -> list[int]:
    for index in range(count):
        audit.append_event(
            db,
            "share_view",
            "success",
            actor_type="share",
            actor_id=f"link-{index}",
            resource=f"dataset:{index % 3}",
            details={"n": index, "when": dt.date(2026, 12, 1)},
        )
    return event_ids(db)


def test_the_chain_holds_and_the_trigger_refuses_changes(trail):
    db = trail["db"]
    ids = some_events(db, 12)
    assert audit.verify(db) == {"ok": True, "checked": len(ids), "firstBroken": None}
    with pytest.raises(Exception, match="append-only"), db.transaction() as cursor:
        cursor.execute("UPDATE audit_events SET outcome = 'failure'")


def test_an_edited_row_is_named(trail):
    db = trail["db"]
    ids = some_events(db, 10)
    tamper(db, "UPDATE audit_events SET outcome = 'failure' WHERE id = %s", ids[4])
    assert audit.verify(db) == {"ok": False, "checked": 4, "firstBroken": ids[4]}


def test_an_edited_content_with_its_hash_breaks_the_next_link(trail):
    """Rewriting a row consistently (columns, content and hash) still breaks the
    link of the row after it."""
    db = trail["db"]
    ids = some_events(db, 6)
    with db.transaction() as cursor:
        cursor.execute(
            "SELECT content, prev_hash FROM audit_events WHERE id = %s", (ids[2],)
        )
        content, prev = cursor.fetchone()
    forged = content.replace('"success"', '"failure"')
    tamper(
        db,
        "UPDATE audit_events SET outcome = 'failure', content = %s, row_hash = %s"
        " WHERE id = %s",
        forged,
        audit.chain_hash(prev, forged),
        ids[2],
    )
    assert audit.verify(db)["firstBroken"] == ids[3]


def test_a_deleted_row_is_named_by_the_next(trail):
    db = trail["db"]
    ids = some_events(db, 8)
    tamper(db, "DELETE FROM audit_events WHERE id = %s", ids[5])
    assert audit.verify(db) == {"ok": False, "checked": 5, "firstBroken": ids[6]}


def test_retention_removes_old_rows_through_a_chained_checkpoint(trail):
    db = trail["db"]
    ids = some_events(db, 9)
    cutoff = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    tamper(
        db,
        "UPDATE audit_events SET occurred_at = occurred_at - interval '400 days',"
        " content = NULL WHERE id <= %s",
        ids[-1],
    )
    # Those rows' content no longer matches (so verify would name them): the
    # retention removes them, and the chain must hold from its checkpoint on.
    removed = audit.apply_retention(db, cutoff - dt.timedelta(days=365))
    assert removed == {"removed": len(ids), "removedThrough": ids[-1]}
    remaining = event_ids(db)
    assert min(remaining) > ids[-1] and len(remaining) == 1  # the checkpoint
    audit.append_event(db, "login", "success")
    assert audit.verify(db) == {"ok": True, "checked": 2, "firstBroken": None}
    with db.transaction() as cursor:
        cursor.execute(
            "SELECT details FROM audit_events WHERE action = %s",
            (audit.RETENTION_ACTION,),
        )
        (details,) = cursor.fetchone()
    assert details["removedCount"] == len(ids)


def test_the_command_verifies_and_names_the_broken_row(trail, monkeypatch, capsys):
    """`python -m auth.audit verify` (its main, in process: a new interpreter
    costs seconds) exits 0 on a whole chain, 1 naming the edited event."""
    ids = some_events(trail["db"], 3)
    monkeypatch.setenv("DATABASE_URL", trail["url"])
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
    assert audit.main(["verify"]) == 0
    assert "holds: 3 events checked" in capsys.readouterr().out
    tamper(trail["db"], "UPDATE audit_events SET ip = '6.6.6.6' WHERE id = %s", ids[1])
    assert audit.main(["verify"]) == 1
    assert f"broken at event {ids[1]}" in capsys.readouterr().out
    assert audit.main([]) == 2


def test_the_api_shows_users_their_own_events_and_admins_verify(trail):
    client = trail["app"].server.test_client()
    alice, bob = register_user(client), register_user(client)
    own = client.get("/api/audit?action=login", headers=alice["headers"])
    assert own.status_code == 200
    events = own.get_json()["events"]
    assert events and all(e["action"] == "login" for e in events)
    assert {e["actor"]["id"] for e in events} == {alice["id"]}
    assert client.get("/api/audit?all=1", headers=bob["headers"]).status_code == 403
    assert client.get("/api/audit/verify", headers=bob["headers"]).status_code == 403
    bad = client.get("/api/audit?limit=0", headers=bob["headers"])
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "limit"
    bad = client.get("/api/audit?actor=robot", headers=bob["headers"])
    assert bad.status_code == 400 and "user" in bad.get_json()["error"]["message"]
    with trail["db"].transaction() as cursor:
        cursor.execute("UPDATE users SET role = 'admin' WHERE id = %s", (bob["id"],))
    bob = {**bob, **register_login(client, bob)}
    verified = client.get("/api/audit/verify", headers=bob["headers"])
    assert verified.status_code == 200 and verified.get_json()["ok"] is True
    everyone = client.get("/api/audit?all=1&action=register", headers=bob["headers"])
    ids = {e["actor"]["id"] for e in everyone.get_json()["events"]}
    assert {alice["id"], bob["id"]} <= ids


def register_login(client, user: dict) -> dict:
    """A fresh bearer token (the role is read at sign-in)."""
    response = client.post(
        "/api/auth/login", json={"email": user["email"], "password": user["password"]}
    )
    assert response.status_code == 200
    return {
        "headers": {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    }


def test_odd_but_valid_times_are_read_as_utc(trail):
    client = trail["app"].server.test_client()
    user = register_user(client)
    odd = "/api/audit?from=2235-02-14T11%3A56%3A29.415-19%3A19&to=9999-12-31T23:59:59"
    response = client.get(odd, headers=user["headers"])
    assert response.status_code == 200, response.get_json()
    bad = client.get("/api/audit?from=yesterday", headers=user["headers"])
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "from"
