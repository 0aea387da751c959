"""Analytics services on a real Redis: cache hit and miss, invalidation by new
version, reprocess and delete, a Redis outage, storage and the cached status."""

from __future__ import annotations

import io

import mongomock
import pandas as pd
import pytest
from redis.backoff import NoBackoff

from data import analytics, datasets
from data.analytics import service
from data.cache import cache
from data.errors import Conflict, NotFound, Unprocessable
from data.ingest import processing
from tests.analytics_data import insert_dataset, sample_frame
from tests.conftest import SAMPLE_CSV
from tests.services import RedisServer

OWNER = "00000000-0000-4000-8000-000000000001"


@pytest.fixture
def redis_app(make_app, redis_server):
    """An app on the run's private Redis; yields (app, services) in an app context."""
    app = make_app(redis_url=redis_server.url)
    with app.server.app_context():
        yield app, app.server.extensions["insightboard"]


def sample_dataset(services, **options) -> dict:
    return insert_dataset(
        services.mongo,
        OWNER,
        sample_frame(SAMPLE_CSV),
        "date",
        ["revenue", "orders"],
        **options,
    )


def without_flag(view: dict) -> dict:
    return {key: value for key, value in view.items() if key != "cached"}


def test_miss_then_hit_returns_the_same_view(redis_app):
    _, services = redis_app
    dataset = sample_dataset(services)
    first = analytics.get_view(services, OWNER, dataset["datasetId"], {})
    second = analytics.get_view(services, OWNER, dataset["datasetId"], {})
    assert (first["cached"], second["cached"]) == (False, True)
    assert without_flag(first) == without_flag(second)
    key = analytics.cache_key(dataset, analytics.default_params(dataset))
    assert key.startswith(f"analytics:{dataset['datasetId']}:1:1:revenue:")
    assert cache.get(key)["summary"] == first["summary"]


def test_result_is_stored_and_status_becomes_cached(redis_app):
    _, services = redis_app
    dataset = sample_dataset(services)
    view = analytics.get_view(services, OWNER, dataset["datasetId"], {"method": "gesd"})
    stored = services.mongo.analytics.find_one({"datasetId": dataset["datasetId"]})
    assert stored["version"] == 1 and stored["revision"] == 1
    assert stored["params"] == view["params"]
    assert stored["paramsHash"] == analytics.params_hash(view["params"])
    assert stored["anomalies"] == view["anomalies"]
    assert stored["userId"] == OWNER
    record = services.mongo.datasets.find_one({"_id": dataset["_id"]})
    assert record["status"] == "cached"
    assert record["statusHistory"][-1]["status"] == "cached"


def test_new_version_is_never_served_from_the_old_cache(redis_app):
    _, services = redis_app
    dataset = sample_dataset(services)
    dataset_id = dataset["datasetId"]
    old = analytics.get_view(services, OWNER, dataset_id, {})
    frame = sample_frame(SAMPLE_CSV).assign(revenue=lambda f: f["revenue"] * 2)
    insert_dataset(
        services.mongo,
        OWNER,
        frame,
        "date",
        ["revenue"],
        dataset_id=dataset_id,
        version=2,
    )
    new = analytics.get_view(services, OWNER, dataset_id, {})
    assert new["cached"] is False and new["dataset"]["version"] == 2
    assert new["summary"]["sum"] == 2 * old["summary"]["sum"]
    pinned = analytics.get_view(services, OWNER, dataset_id, {}, version=1)
    assert pinned["cached"] is True and pinned["summary"] == old["summary"]


@pytest.fixture
def inline_redis_app(make_app, redis_server):
    """Real ingest (inline jobs) and a real Redis; yields services in a context."""
    app = make_app(redis_url=redis_server.url, ingest_mode="inline")
    with app.server.app_context():
        yield app.server.extensions["insightboard"]


def upload_sample(services) -> str:
    uploaded = datasets.upload_dataset(
        services, OWNER, io.BytesIO(SAMPLE_CSV.read_bytes()),
        dataset_name="Sales", filename="sales.csv",
    )  # fmt: skip
    assert uploaded["status"] in ("processed", "cached"), uploaded
    return uploaded["id"]


def doubling_conversion(monkeypatch) -> None:
    """Processing code that now reads every metric as twice its value (what a
    reprocess after a fix to the conversion would change)."""
    original = processing.convert_chunk

    def doubled(*args, **kwargs):
        converted = original(*args, **kwargs)
        converted.metrics = {k: v * 2 for k, v in converted.metrics.items()}
        return converted

    monkeypatch.setattr(processing, "convert_chunk", doubled)


def test_reprocess_through_the_datasets_service_recomputes(
    inline_redis_app, monkeypatch
):
    services = inline_redis_app
    dataset_id = upload_sample(services)
    params = {"method": "iqr"}  # not the default view, which ingest warms
    before = analytics.get_view(services, OWNER, dataset_id, params)
    assert analytics.get_view(services, OWNER, dataset_id, params)["cached"] is True
    doubling_conversion(monkeypatch)
    datasets.reprocess_dataset(services, OWNER, dataset_id)
    after = analytics.get_view(services, OWNER, dataset_id, params)
    assert after["cached"] is False
    assert after["dataset"]["revision"] == before["dataset"]["revision"] + 1
    assert after["summary"]["sum"] == 2 * before["summary"]["sum"]
    doubled = [None if p["value"] is None else 2 * p["value"] for p in before["series"]]
    assert [p["value"] for p in after["series"]] == doubled
    # The default view was warmed again by ingest for the new revision.
    default = analytics.get_view(services, OWNER, dataset_id, {})
    assert default["dataset"]["revision"] == after["dataset"]["revision"]
    assert default["summary"]["sum"] == after["summary"]["sum"]


def test_delete_through_the_datasets_service_removes_cache_and_results(
    inline_redis_app,
):
    services = inline_redis_app
    dataset_id = upload_sample(services)
    view = analytics.get_view(services, OWNER, dataset_id, {"method": "gesd"})
    key = analytics.cache_key(
        services.mongo.datasets.find_one({"datasetId": dataset_id}), view["params"]
    )
    assert cache.get(key) is not None
    assert services.mongo.analytics.count_documents({"datasetId": dataset_id}) >= 1
    datasets.delete_dataset(services, OWNER, dataset_id)
    with pytest.raises(NotFound):
        analytics.get_view(services, OWNER, dataset_id, {"method": "gesd"})
    assert cache.get(key) is None
    assert list(services.redis.scan_iter(match=f"*{dataset_id}*")) == []
    assert services.mongo.analytics.count_documents({"datasetId": dataset_id}) == 0


def test_deleted_dataset_is_not_found_although_cached(redis_app):
    """Even when a cache entry outlives its dataset (say, Redis was unreachable
    during the delete), the dataset lookup comes first: 404, never the entry."""
    _, services = redis_app
    dataset = sample_dataset(services)
    analytics.get_view(services, OWNER, dataset["datasetId"], {})
    services.mongo.datasets.delete_many({"datasetId": dataset["datasetId"]})
    with pytest.raises(NotFound):
        analytics.get_view(services, OWNER, dataset["datasetId"], {})


def test_another_owner_gets_not_found(redis_app):
    _, services = redis_app
    dataset = sample_dataset(services)
    other = "00000000-0000-4000-8000-000000000002"
    with pytest.raises(NotFound):
        analytics.get_view(services, other, dataset["datasetId"], {})
    with pytest.raises(NotFound):
        analytics.get_view(services, OWNER, "not-a-dataset-id", {})


def test_version_still_processing_is_a_conflict(redis_app):
    _, services = redis_app
    dataset = sample_dataset(services, status="processing")
    with pytest.raises(Conflict, match="status processing"):
        analytics.get_view(services, OWNER, dataset["datasetId"], {})


def test_force_recomputes_a_cached_view(redis_app):
    _, services = redis_app
    dataset = sample_dataset(services)
    analytics.run_analytics(services, OWNER, dataset["datasetId"], {})
    again = analytics.run_analytics(services, OWNER, dataset["datasetId"], {})
    forced = analytics.run_analytics(
        services, OWNER, dataset["datasetId"], {}, force=True
    )
    assert (again["cached"], forced["cached"]) == (True, False)


def test_warm_default_view_caches_and_marks_the_version(redis_app):
    _, services = redis_app
    dataset = sample_dataset(services)
    warmed = analytics.warm_default_view(services, OWNER, dataset["datasetId"], 1)
    assert warmed["params"] == analytics.default_params(dataset)
    status = services.mongo.datasets.find_one({"_id": dataset["_id"]})["status"]
    assert status == "cached"
    assert analytics.get_view(services, OWNER, dataset["datasetId"], {})["cached"]


def test_series_too_short_for_the_method_names_the_minimum(redis_app):
    _, services = redis_app
    dataset = sample_dataset(services)
    with pytest.raises(Unprocessable, match="at least 8 points; this series has 7"):
        analytics.get_view(
            services, OWNER, dataset["datasetId"], {"method": "rolling_zscore"}
        )


def cache_clients():
    """The redis clients the app's cache reads and writes with."""
    backend = cache.cache
    return {id(c): c for c in (backend._read_client, backend._write_client)}.values()


def test_redis_outage_degrades_to_computing(make_app):
    """With Redis stopped every view is computed (no error); after Redis returns,
    caching resumes without a restart. How long an outage can stall a request is
    set by configuration, read back from the cache's clients: connect and read
    timeouts of `redis_timeout_s` and at most one immediate retry (no backoff),
    so each cache call gives up within 2 x redis_timeout_s."""
    server = RedisServer().start()
    try:
        app = make_app(redis_url=server.url, redis_timeout_s=0.2)
        with app.server.app_context():
            for client in cache_clients():
                options = client.connection_pool.connection_kwargs
                assert options["socket_connect_timeout"] == 0.2
                assert options["socket_timeout"] == 0.2
                retry = client.get_retry()
                assert retry.get_retries() <= 1
                assert isinstance(retry._backoff, NoBackoff)
            services = app.server.extensions["insightboard"]
            dataset = sample_dataset(services)
            expected = service.compute_view(
                services, dataset, analytics.default_params(dataset)
            )
            server.stop()
            views = [
                analytics.get_view(services, OWNER, dataset["datasetId"], {})
                for _ in range(2)
            ]
            assert [view["cached"] for view in views] == [False, False]
            for view in views:
                assert without_flag(view) == without_flag(expected)
            assert [a["t"][:10] for a in views[0]["anomalies"]] == [
                "2024-01-03",
                "2024-01-15",
                "2024-01-27",
            ]
            status = services.mongo.datasets.find_one({"_id": dataset["_id"]})["status"]
            assert status == "processed"  # nothing was cached
            server = RedisServer(port=server.port).start()
            analytics.get_view(services, OWNER, dataset["datasetId"], {})
            assert analytics.get_view(services, OWNER, dataset["datasetId"], {})[
                "cached"
            ]
    finally:
        server.stop()


def test_empty_dataset_view_has_no_values(redis_app):
    _, services = redis_app
    frame = pd.DataFrame({"date": pd.to_datetime([], utc=True), "revenue": []})
    dataset = insert_dataset(services.mongo, OWNER, frame, "date", ["revenue"])
    view = analytics.get_view(services, OWNER, dataset["datasetId"], {})
    assert view["series"] == [] and view["anomalies"] == []
    assert view["summary"]["count"] == 0
    assert view["insights"] == ["No values in the selected range."]


@pytest.mark.parametrize("method", ["auto", "zscore", "iqr", "gesd", "modified_zscore"])
def test_extreme_values_give_valid_json(redis_app, method):
    """Overflowing sums and degenerate spreads never produce Infinity or NaN."""
    import json

    _, services = redis_app
    values = [1e308, 1e308, -1e308, 5e-324, 0.0, 1e308, 1e-311, 3.0]
    frame = pd.DataFrame(
        {
            "date": pd.date_range(
                "2024-01-01", periods=len(values), freq="D", tz="UTC"
            ),
            "revenue": values,
        }
    )
    dataset = insert_dataset(services.mongo, OWNER, frame, "date", ["revenue"])
    view = analytics.get_view(services, OWNER, dataset["datasetId"], {"method": method})
    json.dumps(view, allow_nan=False)
    assert view["summary"]["count"] == len(values)


@pytest.fixture
def aggregate_calls(monkeypatch):
    """Every `aggregate` call on any collection of the in-process engine."""
    calls: list[str] = []
    original = mongomock.collection.Collection.aggregate

    def counted(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.Collection, "aggregate", counted)
    return calls


@pytest.mark.parametrize(
    "params",
    [{}, {"granularity": "raw", "method": "gesd"}, {"granularity": "week"}],
)
def test_one_view_is_one_aggregate_call(redis_app, aggregate_calls, params):
    _, services = redis_app
    dataset = sample_dataset(services)
    canonical = analytics.parse_params(params, dataset)
    view = service.compute_view(services, dataset, canonical)
    assert view["summary"]["count"] > 0
    expected = "records" if canonical["granularity"] == "raw" else "rollups"
    assert aggregate_calls == [expected]
    aggregate_calls.clear()
    assert (
        analytics.get_view(services, OWNER, dataset["datasetId"], params)["cached"]
        is False
    )
    assert len(aggregate_calls) == 1
    aggregate_calls.clear()
    cached = analytics.get_view(services, OWNER, dataset["datasetId"], params)
    assert cached["cached"] is True and aggregate_calls == []
