"""Analytics services: compute a view with one aggregate call, store it, cache it.

Cache keys name exactly what they hold (docs/contracts.md):
`analytics:{datasetId}:{version}:{revision}:{metric}:{paramsHash}`. The dataset
document is read (and ownership checked) before the cache, so a deleted dataset is
a 404, a new version or a reprocess (new revision) is a different key, and a stale
entry can never be served. A Redis outage makes every read a miss (short timeouts
in data.cache), so views are computed instead of failing.
"""

from __future__ import annotations

import datetime as dt

from data import datasets
from data.analytics.assemble import assemble_view
from data.analytics.disclosure_view import apply_disclosure
from data.analytics.params import (
    GRANULARITIES,
    default_params,
    params_hash,
    parse_moment,
    parse_params,
)
from data.analytics.pipeline import (
    bucket_count,
    entity_count_pipeline,
    next_bucket,
    time_bounds,
    view_pipeline,
)
from data.cache import cache_get, cache_set, generation
from data.errors import Unprocessable
from data.ingest.repository import RECORDS, committed_filter
from data.mongo import IndexDefinitions
from data.services import Services

# A view is one aggregate result document, and a server refuses documents over
# 16 MiB. The series costs about 91 bytes of BSON per bucket (5 fields; 156 bytes
# with the 8 it carried before), so 50,000 buckets are about 4.5 MB.
MAX_BUCKETS = 50_000
# Raw views read rows, not roll-ups: the same cap as buckets (three months of
# 5-minute readings are about 26,000 rows; the page downsamples what it draws).
RAW_ROW_LIMIT = MAX_BUCKETS

# Created once at start-up by the app factory (data.mongo.ensure_indexes).
INDEXES: IndexDefinitions = {
    "analytics": [
        (
            [("datasetId", 1), ("version", 1), ("revision", 1), ("paramsHash", 1)],
            {"name": "analytics_result"},
        )
    ]
}


def load_dataset(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> dict:
    """The owner's readable dataset version (latest readable when version is None),
    read through the dataset service's one read path (datasets.readable_version):
    another user's dataset is NotFound, like a missing one; a version that is
    still processing (or failed) is a Conflict naming its status."""
    return datasets.readable_version(services, owner_id, dataset_id, version)


def cache_key(dataset: dict, params: dict) -> str:
    """The cache key of one view of one dataset version and revision, in the
    dataset's current cache generation (deleting the dataset starts a new one)."""
    return (
        f"analytics:{dataset['datasetId']}:{dataset['version']}:"
        f"{dataset.get('revision', 1)}:{params['metric']}:{params_hash(params)}:"
        f"g{generation(dataset['datasetId'])}"
    )


def _column_key(dataset: dict, name: str) -> str:
    for column in dataset.get("columns", []):
        if column["name"] == name:
            return column["key"]
    raise Unprocessable(f"Column {name!r} is missing from the dataset description.")


def _bounds(params: dict):
    start = parse_moment(params["from"], "from")
    end = parse_moment(params["to"], "to")
    return time_bounds(
        start[0] if start else None,
        end[0] if end else None,
        bool(end and end[1]),
        params["granularity"],
    )


def _filter_keys(dataset: dict, params: dict) -> dict[str, list[str]]:
    return {
        _column_key(dataset, name): values for name, values in params["filters"].items()
    }


def build_query(dataset: dict, params: dict) -> tuple[str, list[dict]]:
    """The collection and pipeline for a view (pure, for tests and benchmarks)."""
    return view_pipeline(
        dataset["datasetId"],
        dataset["version"],
        _column_key(dataset, params["metric"]),
        params,
        _bounds(params),
        _filter_keys(dataset, params),
        MAX_BUCKETS,
        dataset.get("revision"),
    )


def refuse_raw_view(dataset: dict, params: dict) -> None:
    """422 before the aggregate when a raw view would read too many rows."""
    if (
        params["granularity"] == "raw"
        and (dataset.get("rowCount") or 0) > RAW_ROW_LIMIT
    ):
        raise Unprocessable(
            f"Raw views are limited to {RAW_ROW_LIMIT:,} rows; this dataset has "
            f"{dataset['rowCount']:,}. Choose hour, day, week or month.",
            details={"minimum": None, "limit": RAW_ROW_LIMIT},
        )


def refuse_buckets(granularity: str, buckets: int) -> None:
    """422 naming the bucket limit, the view's count and what to change."""
    if buckets <= MAX_BUCKETS:
        return
    coarser = GRANULARITIES[GRANULARITIES.index(granularity) + 1 :]
    advice = f"a coarser granularity ({', '.join(coarser)}) or " if coarser else ""
    raise Unprocessable(
        f"Views are limited to {MAX_BUCKETS:,} buckets; this {granularity} view "
        f"has {buckets:,}. Choose {advice}a shorter date range (from/to).",
        details={"minimum": None, "limit": MAX_BUCKETS, "buckets": buckets},
    )


def span_buckets(result: dict, granularity: str) -> int:
    """Buckets from the first to the last bucket with data (the pipeline's span)."""
    span = result["view"][0].get("span") or []
    if not span or span[0].get("first") is None:
        return 0
    first, last = span[0]["first"], span[0]["last"]
    return bucket_count(first, next_bucket(last, granularity), granularity)


def compute_view(services: Services, dataset: dict, params: dict) -> dict:
    """Run the view's single aggregate call and assemble the view.

    Size limits: a raw view (by the dataset's rows) and a bucketed view with both
    from and to (missing buckets are filled across that range) are refused before
    the aggregate. Otherwise the series runs from the first to the last bucket
    with data: the pipeline returns that span and at most MAX_BUCKETS + 1 buckets
    (a bounded result document), and a span over the limit is refused before any
    detector runs. Finding the span beforehand would cost a second query."""
    granularity = params["granularity"]
    refuse_raw_view(dataset, params)
    lower, upper = _bounds(params)
    both_bounds = lower is not None and upper is not None
    if granularity != "raw" and both_bounds:
        refuse_buckets(granularity, bucket_count(lower, upper, granularity))
    collection, stages = build_query(dataset, params)
    result = next(iter(services.mongo[collection].aggregate(stages)))
    if granularity != "raw" and not both_bounds:
        refuse_buckets(granularity, span_buckets(result, granularity))
    return assemble_view(dataset, params, result)


def store_result(services: Services, dataset: dict, params: dict, view: dict) -> None:
    """Keep the result in `analytics` with the dataset version and parameters."""
    identity = {
        "datasetId": dataset["datasetId"],
        "version": dataset["version"],
        "revision": dataset.get("revision", 1),
        "paramsHash": params_hash(params),
    }
    document = {
        **identity,
        "userId": dataset["userId"],
        "metric": params["metric"],
        "params": params,
        "summary": view["summary"],
        "anomalies": view["anomalies"],
        "methods": view["methods"],
        "insights": view["insights"],
        "createdAt": dt.datetime.now(dt.UTC),
    }
    services.mongo.analytics.replace_one(identity, document, upsert=True)


def mark_cached(services: Services, dataset: dict) -> None:
    """processed → cached, only for the revision whose view was just cached."""
    # The datasets service owns status transitions.
    datasets.mark_cached(
        services,
        dataset["userId"],
        dataset["datasetId"],
        dataset["version"],
        dataset.get("revision", 1),
    )


def _compute_and_keep(
    services: Services, dataset: dict, params: dict, key: str
) -> dict:
    view = compute_view(services, dataset, params)
    store_result(services, dataset, params, view)
    if cache_set(key, view) and dataset.get("status") == "processed":
        mark_cached(services, dataset)
    return view


def get_view(
    services: Services,
    owner_id: str,
    dataset_id: str,
    params: dict,
    version: int | None = None,
    *,
    for_agent: bool = False,
) -> dict:
    """The analysis view: from the cache when present, else computed and cached.
    For an agent (`for_agent`), buckets from fewer than the dataset's k entities
    are hidden with what they feed (data/analytics/disclosure_view.py)."""
    dataset = load_dataset(services, owner_id, dataset_id, version)
    canonical = parse_params(params, dataset)
    key = cache_key(dataset, canonical)
    if for_agent:
        return _cached_agent_view(services, dataset, canonical, key)
    cached = cache_get(key)
    if cached is not None:
        return {**cached, "cached": True}
    return _compute_and_keep(services, dataset, canonical, key)


def _cached_agent_view(services: Services, dataset: dict, params: dict, key: str):
    agent_key = (
        f"{key}:agent:{datasets.min_entities(dataset)}:{datasets.entity_name(dataset)}"
    )
    cached = cache_get(agent_key)
    if cached is not None:
        return {**cached, "cached": True}
    view = cache_get(key) or _compute_and_keep(services, dataset, params, key)
    agent = agent_view(services, dataset, params, view)
    cache_set(agent_key, agent)
    return {**agent, "cached": False}


def run_analytics(
    services: Services,
    owner_id: str,
    dataset_id: str,
    params: dict,
    force: bool = False,
    version: int | None = None,
    *,
    for_agent: bool = False,
) -> dict:
    """Compute (or with force, recompute), store and cache a view."""
    if not force:
        return get_view(
            services, owner_id, dataset_id, params, version, for_agent=for_agent
        )
    dataset = load_dataset(services, owner_id, dataset_id, version)
    canonical = parse_params(params, dataset)
    view = _compute_and_keep(
        services, dataset, canonical, cache_key(dataset, canonical)
    )
    return agent_view(services, dataset, canonical, view) if for_agent else view


def entity_query(dataset: dict, params: dict) -> tuple[str, list[dict]]:
    """The records pipeline counting each bucket's distinct identifiers."""
    column = datasets.entity_column(dataset)
    if column is None or params["granularity"] == "raw":
        raise ValueError("raw views and datasets without an identifier count rows")
    match = {"datasetId": dataset["datasetId"], "version": dataset["version"]}
    match |= committed_filter(dataset.get("revision"))
    stages = entity_count_pipeline(
        match,
        _column_key(dataset, params["metric"]),
        column["key"],
        params["granularity"],
        _bounds(params),
        _filter_keys(dataset, params),
    )
    return RECORDS, stages


def bucket_entities(
    services: Services, dataset: dict, params: dict
) -> dict[dt.datetime, float] | None:
    """Distinct identifiers per bucket (exact, from records); None when the
    entities are rows (no identifier, or a raw view: a point is one row)."""
    if datasets.entity_column(dataset) is None or params["granularity"] == "raw":
        return None
    collection, stages = entity_query(dataset, params)
    return {
        _utc(row["_id"]): row["n"]
        for row in services.mongo[collection].aggregate(stages)
    }


def _utc(moment: dt.datetime) -> dt.datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(
        dt.UTC
    )


def agent_view(services: Services, dataset: dict, params: dict, view: dict) -> dict:
    """The view with small buckets hidden (counted on each call: one records
    aggregate when the dataset has an identifier)."""
    entities = bucket_entities(services, dataset, params)
    k, entity = datasets.min_entities(dataset), datasets.entity_name(dataset)
    return apply_disclosure(view, entities, k, entity)


def warm_default_view(
    services: Services, owner_id: str, dataset_id: str, version: int
) -> dict:
    """Ingest's hook: compute and cache the default view; status becomes cached."""
    dataset = load_dataset(services, owner_id, dataset_id, version)
    params = default_params(dataset)
    return _compute_and_keep(services, dataset, params, cache_key(dataset, params))
