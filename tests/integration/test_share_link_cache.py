"""Share links from Redis: a shared dashboard's callbacks resolve their link
without PostgreSQL, and revocation, dataset deletion and expiry still refuse the
very next request."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import redis

from data import shares
from tests.api_calls import post_file
from tests.dash_calls import post_callback
from tests.services import RedisServer

CSV = "date,revenue\n2024-01-01,100\n2024-01-02,120\n2024-01-03,90\n"
SEARCH = "?metric=revenue&granularity=day"


def upload(client, user) -> str:
    response = post_file(
        client, user, CSV.encode(), filename="x.csv", datasetName="Shared ledger",
        timeColumn="date", metricColumn="revenue",
    )  # fmt: skip
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def share(client, user, dataset_id: str, **extra) -> dict:
    created = client.post(
        "/api/shares",
        headers=user["headers"],
        json={"datasetId": dataset_id, "page": "analysis", **extra},
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    return {**body, "path": urlsplit(body["url"]).path}


def view(app, link: dict, dataset_id: str):
    """The shared page's main callback, as the page sends it."""
    return post_callback(
        app.server.test_client(),
        app,
        "analysis-status.children",
        {"analysis-state.data": SEARCH, "analysis-dataset.data": dataset_id},
        triggered="analysis-state.data",
        headers={"Referer": "http://localhost" + link["path"]},
    )


@pytest.fixture
def lookups(monkeypatch) -> list[str]:
    """Every PostgreSQL lookup of a link by its token."""
    calls: list[str] = []
    original = shares.ShareRepository.by_token

    def counted(self, token):
        calls.append(token)
        return original(self, token)

    monkeypatch.setattr(shares.ShareRepository, "by_token", counted)
    return calls


def opened_share(make_app, new_user, redis_url: str) -> dict:
    """An app on that Redis, an owner's dataset and a link to it, opened once."""
    app = make_app(ingest_mode="inline", redis_url=redis_url)
    client = app.server.test_client()
    owner = new_user(client)
    dataset_id = upload(client, owner)
    link = share(client, owner, dataset_id)
    assert client.get(link["path"]).status_code == 200
    return {"app": app, "client": client, "owner": owner, "dataset": dataset_id,
            "link": link}  # fmt: skip


@pytest.fixture
def shared(make_app, redis_server, new_user):
    return opened_share(make_app, new_user, redis_server.url)


def test_a_shared_dashboards_callbacks_do_not_look_the_link_up_again(shared, lookups):
    for _ in range(4):
        response = view(shared["app"], shared["link"], shared["dataset"])
        assert response.status_code == 200
        assert '"children":"120","className":"ib-kpi-value"' in response.get_data(
            as_text=True
        )  # the view's highest value: the data came back
    assert lookups == []  # the page's opening cached it
    # Each opening of the page is still recorded.
    assert shared["client"].get(shared["link"]["path"]).status_code == 200
    listed = shared["client"].get("/api/shares", headers=shared["owner"]["headers"])
    assert listed.get_json()["shares"][0]["views"] == 2


def test_revoking_a_cached_link_refuses_the_next_request(shared):
    app, link = shared["app"], shared["link"]
    assert view(app, link, shared["dataset"]).status_code == 200
    revoked = shared["client"].delete(
        f"/api/shares/{link['id']}", headers=shared["owner"]["headers"]
    )
    assert revoked.status_code == 204
    assert view(app, link, shared["dataset"]).status_code == 410
    assert shared["client"].get(link["path"]).status_code == 410


def test_deleting_the_dataset_refuses_its_cached_links_at_once(shared):
    app, link = shared["app"], shared["link"]
    other = share(shared["client"], shared["owner"], shared["dataset"])
    assert shared["client"].get(other["path"]).status_code == 200
    deleted = shared["client"].delete(
        f"/api/datasets/{shared['dataset']}", headers=shared["owner"]["headers"]
    )
    assert deleted.status_code == 204
    for each in (link, other):
        assert view(app, each, shared["dataset"]).status_code == 410
        assert shared["client"].get(each["path"]).status_code == 410


def test_a_cached_link_is_refused_once_it_expires(shared, redis_server):
    """Expiry is checked on every use, also on the cached copy."""
    store = redis.Redis.from_url(redis_server.url)
    digest = shares.token_digest(shared["link"]["path"].rsplit("/", 1)[1])
    key = shares.LinkCache.key(digest)
    record = json.loads(store.get(key))
    assert record["expires_at"] is None
    record["expires_at"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    store.set(key, json.dumps(record), ex=60)
    assert view(shared["app"], shared["link"], shared["dataset"]).status_code == 410


def test_revocation_waits_for_redis_and_a_shared_view_does_not(
    make_app, new_user, lookups
):
    """Redis down: revoking answers 503 and revokes nothing (a cached copy would
    outlive it); the shared view falls back to PostgreSQL. Back up: revoked."""
    server = RedisServer().start()
    try:
        shared = opened_share(make_app, new_user, server.url)
        app, client, owner = shared["app"], shared["client"], shared["owner"]
        link, dataset_id = shared["link"], shared["dataset"]
        server.stop()
        revoke = client.delete(f"/api/shares/{link['id']}", headers=owner["headers"])
        assert revoke.status_code == 503
        assert "try again" in revoke.get_json()["error"]["message"]
        document = client.get("/api/openapi.json").get_json()
        assert (
            "503" in document["paths"]["/api/shares/{share_id}"]["delete"]["responses"]
        )
        before = len(lookups)
        assert view(app, link, dataset_id).status_code == 200
        assert len(lookups) == before + 1  # from PostgreSQL: still live there
        server = RedisServer(port=server.port).start()
        revoke = client.delete(f"/api/shares/{link['id']}", headers=owner["headers"])
        assert revoke.status_code == 204
        assert view(app, link, dataset_id).status_code == 410
    finally:
        server.stop()


def test_the_record_of_a_link_round_trips():
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    link = shares.ShareLink(
        id="5b0c3f7e-0000-4000-8000-000000000001", owner_id="u", dataset_id="d",
        page="kpi", query={"metric": ["revenue"], "filter.region": ["Ø", "a b"]},
        locked={"metric": ["revenue"]}, token_prefix="ibs_abcd", created_at=moment,
        expires_at=moment + timedelta(days=3), revoked_at=None, revoked_reason=None,
        last_used_at=None, view_count=7,
    )  # fmt: skip
    record = json.loads(json.dumps(shares.link_record(link)))
    assert shares.link_from_record(record) == link
