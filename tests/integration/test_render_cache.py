"""The analysis view's rendered responses (callbacks/render_cache.py): a repeated
request is answered with the same bytes without rendering; the key holds the
viewer, the request and the dataset's versions, so nobody gets someone else's
rendering, a changed dataset is rendered afresh and a version in flight never is
cached."""

from __future__ import annotations

import contextlib

import pytest
import redis

from callbacks import analysis
from data import rendered
from tests.api_calls import post_file, upload_sample
from tests.conftest import SAMPLE_CSV, register_user
from tests.dash_calls import post_callback, sign_in_form

VIEW = "analysis-status.children"
SEARCH = "?metric=revenue&granularity=day"


@pytest.fixture
def world(make_app, redis_server):
    """An app on Redis (as deployed), an owner with the sample dataset, signed in
    through the sign-in form, and a count of the view's renderings."""
    app = make_app(ingest_mode="inline", redis_url=redis_server.url)
    owner = register_user(app.server.test_client())
    dataset_id = upload_sample(app.server.test_client(), owner)
    return {"app": app, "owner": owner, "dataset": dataset_id}


def browser(app, user):
    client = app.server.test_client()
    assert sign_in_form(client, app, user["email"], user["password"]).status_code == 200
    return client


def post_view(world, client, search=SEARCH, dataset_id=None, **headers):
    return post_callback(
        client,
        world["app"],
        VIEW,
        {
            "analysis-state.data": search,
            "analysis-dataset.data": dataset_id or world["dataset"],
            "analysis-link-notices.data": [],
        },
        triggered="analysis-state.data",
        headers=headers,
    )


@pytest.fixture
def renderings(monkeypatch):
    """How many times the view callback really rendered."""
    calls = []
    original = analysis.render_view

    def counting(*args, **kwargs):
        calls.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(analysis, "render_view", counting)
    return calls


def test_a_repeated_request_gets_the_same_bytes_without_rendering(world, renderings):
    client = browser(world["app"], world["owner"])
    first = post_view(world, client)
    second = post_view(world, client)
    assert first.status_code == second.status_code == 200
    assert "89,000" in first.get_data(as_text=True)
    assert second.get_data() == first.get_data()
    assert renderings == [world["dataset"]]  # the second came from the cache
    other = post_view(world, client, search="?metric=revenue&granularity=week")
    assert other.status_code == 200 and other.get_data() != first.get_data()
    assert len(renderings) == 2


@contextlib.contextmanager
def redis_commands(monkeypatch):
    """The Redis commands sent inside the with-block, in order."""
    commands: list[str] = []
    real = redis.Redis.execute_command

    def recording(self, *args, **options):
        commands.append(args[0])
        return real(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", recording)
    yield commands
    monkeypatch.undo()


def test_a_cached_view_costs_one_redis_round_trip_then_none_for_its_body(
    world, monkeypatch
):
    """The session with its account in one round trip, and the body from Redis
    only the first time this process serves it (a cached view's latency is mostly
    waiting for Redis on a busy machine)."""
    client = browser(world["app"], world["owner"])
    first = post_view(world, client)
    rendered.recent.clear()  # as in another process, which has not served it yet
    with redis_commands(monkeypatch) as commands:
        assert post_view(world, client).get_data() == first.get_data()
    assert commands == ["MGET", "GET"]
    with redis_commands(monkeypatch) as commands:
        assert post_view(world, client).get_data() == first.get_data()
    assert commands == ["MGET"]


def test_recent_bodies_keep_the_latest_within_their_budget():
    recent = rendered.RecentBodies(budget_bytes=10)
    recent.put("a", b"1234")
    recent.put("b", b"1234")
    assert recent.get("a") == b"1234"  # now the most recently used
    recent.put("c", b"1234")  # 12 bytes: the least recently used (b) goes
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (
        b"1234",
        None,
        b"1234",
    )
    recent.put("a", b"12345678")  # replacing counts the new size only
    assert (recent.get("a"), recent.get("c"), recent.size) == (b"12345678", None, 8)
    recent.put("huge", b"x" * 11)  # over the whole budget: not kept
    assert recent.get("huge") is None and recent.get("a") == b"12345678"


def test_recent_bodies_expire_like_the_redis_entries():
    assert rendered.RecentBodies(1000).lifetime_s == rendered.TIMEOUT_S
    recent = rendered.RecentBodies(budget_bytes=1000, lifetime_s=0)
    recent.put("a", b"1234")
    assert recent.get("a") is None and recent.size == 0


def test_another_user_never_gets_the_owners_rendering(world, renderings):
    post_view(world, browser(world["app"], world["owner"]))
    stranger = register_user(world["app"].server.test_client())
    response = post_view(world, browser(world["app"], stranger))
    assert "89,000" not in response.get_data(as_text=True)
    assert len(renderings) == 2  # rendered for the stranger: the dataset is gone


def test_a_new_version_is_rendered_afresh(world, renderings):
    client = browser(world["app"], world["owner"])
    before = post_view(world, client, search="?metric=revenue")
    changed = SAMPLE_CSV.read_bytes().replace(b"89000", b"91234")
    uploaded = post_file(
        world["app"].server.test_client(),
        world["owner"],
        changed,
        filename="sales.csv",
        datasetName="Sales",
        timeColumn="date",
        metricColumn="revenue",
    )
    assert uploaded.status_code == 202 and uploaded.get_json()["id"] == world["dataset"]
    after = post_view(world, client, search="?metric=revenue")
    assert "89,000" in before.get_data(as_text=True)
    assert "91,234" in after.get_data(as_text=True)
    assert len(renderings) == 2


def test_a_version_in_flight_is_never_served_from_the_cache(world, renderings):
    client = browser(world["app"], world["owner"])
    post_view(world, client)
    services = world["app"].server.extensions["insightboard"]
    services.mongo.datasets.update_one(
        {"datasetId": world["dataset"]}, {"$set": {"status": "processing"}}
    )
    processing = post_view(world, client)
    again = post_view(world, client)
    assert processing.status_code == again.status_code == 200
    assert len(renderings) == 3  # each request in flight rendered
    assert "89,000" not in again.get_data(as_text=True)


def test_the_analytics_api_returns_a_cached_views_json_without_encoding_it(
    world, monkeypatch
):
    """The API's second call reads the view from the cache ("cached": true); from
    then on its encoded JSON is answered as it is, to its owner only."""
    from api import analytics as analytics_api

    calls = []
    original = analytics_api.get_view

    def counting(*args, **kwargs):
        calls.append(args[2])
        return original(*args, **kwargs)

    monkeypatch.setattr(analytics_api, "get_view", counting)
    client, headers = world["app"].server.test_client(), world["owner"]["headers"]
    url = f"/api/analytics/{world['dataset']}?granularity=week&metric=revenue"
    answers = [client.get(url, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.get_json()["cached"] for a in answers] == [False, True, True]
    assert answers[2].get_data() == answers[1].get_data()
    assert len(calls) == 2  # the third came from the stored JSON
    reordered = client.get(
        f"/api/analytics/{world['dataset']}?metric=revenue&granularity=week",
        headers=headers,
    )
    assert reordered.get_data() == answers[2].get_data() and len(calls) == 2
    stranger = register_user(client)
    refused = client.get(url, headers=stranger["headers"])
    assert refused.status_code == 404 and "89000" not in refused.get_data(as_text=True)
