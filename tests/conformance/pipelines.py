"""The registry: every pipeline the product sends to MongoDB, with the parameters
the suite runs it with. A new pipeline joins the suite with one `register(...)`.

    register(Pipeline(
        name="kpi.measure",                     # unique, shown in test ids
        build=lambda world, variant: kpi_query(world.dataset, **variant),
        variants={"sum-by-day": {...}, ...},    # representative parameters
        unordered=("*.values",),                # where the manual defines no order
    ))

`build(world, variant)` returns (collection, pipeline) exactly as production code
builds them, from the World's documents (tests/conformance/fixtures.py) and one
variant. `unordered` lists result paths (dotted, `*` for any key or index; "" is
the result itself) whose order the manual leaves undefined: `$group` output,
`$addToSet` arrays, `$match` without `$sort`. Every other list is compared in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from data.analytics.params import AGGREGATIONS, parse_params
from data.analytics.pipeline import view_pipeline
from data.analytics.service import build_query
from data.analytics.service import entity_query as analytics_entity_query
from data.ingest import repository
from data.kpi import pipeline as kpi_pipeline
from data.kpi.params import parse_kpi_query
from data.kpi.periods import date_period
from data.kpi.service import choose_slice, entity_query, exact_query
from tests.conformance.fixtures import (
    DATASET_ID,
    IDENTIFIER,
    OTHER_OWNER,
    OWNER,
    STALE_BEFORE,
    World,
)

Build = Callable[[World, Mapping], tuple[str, list[dict]]]


@dataclass(frozen=True)
class Pipeline:
    """One production pipeline builder and the parameters it is checked with."""

    name: str
    build: Build
    variants: Mapping[str, Mapping]
    unordered: tuple[str, ...] = ()
    source: str = ""
    # Fixed worlds to run on (None: every edge-case world) and whether generated
    # document sets are worth running (they vary records and roll-ups only).
    worlds: tuple[str, ...] | None = None
    generated: bool = True
    # How our engine runs it when production code does not call aggregate:
    # ours(database, collection, pipeline) -> documents.
    ours: Callable | None = None


PIPELINES: dict[str, Pipeline] = {}


def register(pipeline: Pipeline) -> Pipeline:
    """Add a pipeline to the conformance suite (names are unique)."""
    if pipeline.name in PIPELINES:
        raise ValueError(f"pipeline {pipeline.name!r} is registered twice")
    PIPELINES[pipeline.name] = pipeline
    return pipeline


# --- analytics: the analysis view (data/analytics/pipeline.py) ----------------------

# `$group` output order is undefined ($group manual page: "does not order its
# output documents"), and so is an `$addToSet` array's order.
VIEW_UNORDERED = ("*.bins", "*.view.*.dimensions.*.combos")


def _metric_key(dataset: dict, name: str) -> str:
    return next(c["key"] for c in dataset["columns"] if c["name"] == name)


def _view(world: World, variant: Mapping) -> tuple[str, list[dict]]:
    """The production query; the bucket-cap variants lower the cap (no range or
    filters, so the cap is the only difference from build_query)."""
    raw = {key: value for key, value in variant.items() if key != "max_buckets"}
    params = parse_params(raw, world.dataset)
    collection, stages = build_query(world.dataset, params)
    if "max_buckets" not in variant:
        return collection, stages
    dataset = world.dataset
    return view_pipeline(
        dataset["datasetId"],
        dataset["version"],
        _metric_key(dataset, params["metric"]),
        params,
        (None, None),
        {},
        variant["max_buckets"],
    )


BUCKETED = {
    f"{granularity}-{aggregation}": {
        "granularity": granularity,
        "aggregation": aggregation,
        "window": 3,
    }
    for granularity in ("hour", "day", "week", "month")
    for aggregation in AGGREGATIONS
}
VIEW_VARIANTS: dict[str, dict] = {
    **BUCKETED,
    "raw": {"granularity": "raw", "window": 3},
    "default": {},
    "window-2": {"window": 2},
    "window-30-mean": {"window": 30, "aggregation": "mean"},
    "raw-window-7": {"granularity": "raw", "window": 7},
    "filter-one-region": {"filters": {"region": ["N"]}},
    "filter-two-dimensions": {"filters": {"region": ["N", "S"], "channel": ["web"]}},
    "filter-absent-value": {"filters": {"region": ["nowhere"]}},
    "raw-filtered": {"granularity": "raw", "filters": {"channel": ["shop"]}},
    "range-dates": {"from": "2024-01-02", "to": "2024-01-20"},
    "range-wider-than-data": {"from": "2023-12-25", "to": "2024-04-05",
                              "granularity": "week"},
    "range-from-only": {"from": "2024-01-03", "aggregation": "max"},
    "range-to-only": {"to": "2024-01-05", "aggregation": "count"},
    "range-hours": {"granularity": "hour", "from": "2024-01-01T03:00:00Z",
                    "to": "2024-01-02T07:30:00Z"},
    "range-months": {"granularity": "month", "from": "2024-01-15", "to": "2024-12-31"},
    "raw-range": {"granularity": "raw", "from": "2024-01-02", "to": "2024-01-10"},
    "k-3": {"k": 3, "aggregation": "mean"},
    "bucket-cap-hour": {"granularity": "hour", "max_buckets": 3},
    "bucket-cap-day": {"granularity": "day", "max_buckets": 1, "aggregation": "min"},
}  # fmt: skip

register(
    Pipeline(
        name="analytics.view",
        build=_view,
        variants=VIEW_VARIANTS,
        unordered=VIEW_UNORDERED,
        source="data/analytics/pipeline.py: view_pipeline (via service.build_query)",
    )
)


# --- ingest: the filters data/ingest/repository.py sends -----------------------------


class _Recorder:
    """Stands in for a pymongo Database and keeps the filter of each call made
    through it, so the suite runs exactly the filter the repository builds."""

    def __init__(self) -> None:
        self.filters: list[tuple[str, dict]] = []

    def __getitem__(self, name: str) -> _RecordingCollection:
        return _RecordingCollection(self, name)


class _RecordingCollection:
    def __init__(self, recorder: _Recorder, name: str) -> None:
        self.recorder, self.name = recorder, name

    def _keep(self, query: dict):
        self.recorder.filters.append((self.name, query))

    def find(self, query, *unused, **unused_options):
        self._keep(query)
        return _EmptyCursor()

    def find_one(self, query, *unused, **unused_options):
        self._keep(query)

    def find_one_and_update(self, query, unused_update, **unused_options):
        self._keep(query)

    def update_one(self, query, unused_update, **unused_options):
        self._keep(query)
        return _Counts()

    def delete_many(self, query, **unused_options):
        self._keep(query)
        return _Counts()


class _EmptyCursor(list):
    def sort(self, *unused, **unused_options) -> _EmptyCursor:  # type: ignore[override]
        return self


class _Counts:
    matched_count = deleted_count = modified_count = 0


def _recorded(call: Callable[[Any], object], index: int = 0):
    """(collection, [{$match: filter}]) of the index-th call `call` makes."""
    recorder = _Recorder()
    call(recorder)
    collection, query = recorder.filters[index]
    return collection, [{"$match": query}]


def _deleted_in_process(database, collection: str, pipeline: list[dict]) -> list:
    """The documents repository.delete_where removes on the in-process engine (its
    own fast matcher), to compare with what the filter matches elsewhere."""
    before = list(database[collection].find())
    repository.delete_where(database[collection], pipeline[0]["$match"])
    kept = {document["_id"] for document in database[collection].find()}
    return [document for document in before if document["_id"] not in kept]


def _version(number: int) -> str:
    return repository.version_id(DATASET_ID, number)


# The recorder stands in for a pymongo Database (duck-typed): the calls take Any.
INGEST_FILTERS: dict[str, Callable[[Any], object]] = {
    "claim-uploaded": lambda db: repository.claim(db, OWNER, _version(2), STALE_BEFORE),
    "claim-dead-run": lambda db: repository.claim(db, OWNER, _version(3), STALE_BEFORE),
    "claim-live-run": lambda db: repository.claim(db, OWNER, _version(4), STALE_BEFORE),
    "claim-other-owner": lambda db: repository.claim(
        db, OTHER_OWNER, _version(2), STALE_BEFORE
    ),
    "heartbeat": lambda db: repository.heartbeat(db, _version(4), 2, {}),
    "finish-wrong-revision": lambda db: repository.finish(db, _version(4), 9, {}),
    "fail": lambda db: repository.fail(db, _version(3), 2, "boom"),
    "request-reprocess-failed": lambda db: repository.request_reprocess(
        db, OWNER, _version(8), STALE_BEFORE, "again"
    ),
    "request-reprocess-live": lambda db: repository.request_reprocess(
        db, OWNER, _version(4), STALE_BEFORE, "again"
    ),
    "request-reprocess-no-heartbeat": lambda db: repository.request_reprocess(
        db, OWNER, _version(5), STALE_BEFORE, "again"
    ),
    "retry-failed": lambda db: repository.retry_failed(db, OWNER, _version(8), "x"),
    "retry-failed-other-owner": lambda db: repository.retry_failed(
        db, OWNER, _version(9), "x"
    ),
    "mark-cached": lambda db: repository.mark_cached(db, OTHER_OWNER, DATASET_ID, 6, 1),
    "pending": lambda db: repository.pending(db, STALE_BEFORE),
    "pending-stale-only": lambda db: repository.pending(
        db, STALE_BEFORE, stale_only=True
    ),
    "versions-by-name": lambda db: repository.versions_by_name(db, OWNER, "sample"),
    "dataset-versions": lambda db: repository.dataset_versions(db, OWNER, DATASET_ID),
    "owner-versions": lambda db: repository.owner_versions(db, OTHER_OWNER),
    "find-version": lambda db: repository.find_version(db, OWNER, DATASET_ID, 1),
}  # fmt: skip
INGEST_DELETES: dict[str, Callable | tuple[Callable, int]] = {
    "delete-version-data": lambda db: repository.delete_version_data(db, DATASET_ID, 1),
    "delete-one-revision": lambda db: repository.delete_version_data(
        db, DATASET_ID, 1, revision=2
    ),
    "delete-older-revisions": lambda db: repository.delete_older_revisions(
        db, DATASET_ID, 1, 2
    ),
    # delete_dataset removes the version documents first, then records: call 1.
    "delete-dataset": (lambda db: repository.delete_dataset(db, OWNER, DATASET_ID), 1),
}  # fmt: skip

register(
    Pipeline(
        name="ingest.filters",
        build=lambda world, variant: _recorded(variant["call"]),
        variants={name: {"call": call} for name, call in INGEST_FILTERS.items()},
        unordered=("",),  # a $match without $sort: the manual defines no order
        source="data/ingest/repository.py: every find/update filter",
        worlds=("ties",),  # the `datasets` documents are the same in every world
        generated=False,
    )
)
register(
    Pipeline(
        name="ingest.deletes",
        build=lambda world, variant: _recorded(variant["call"], variant["index"]),
        variants={
            name: {"call": call[0], "index": call[1]}
            if isinstance(call, tuple)
            else {"call": call, "index": 0}
            for name, call in INGEST_DELETES.items()
        },
        unordered=("",),
        source="data/ingest/repository.py: delete_where filters (records)",
        ours=_deleted_in_process,
    )
)


# --- KPI: exact distinct counts from records (data/kpi/service.py) ------------------


def _kpi_exact(world: World, variant: Mapping) -> tuple[str, list[dict]]:
    """The production records pipeline of a KPI view's distinct measures: distinct
    regions (optionally where channel = web), by local bucket and over the period."""
    measures: list[dict] = [{"name": "regions", "kind": "distinct", "column": "region"}]
    if variant.get("where"):
        measures.append({"name": "web_regions", "kind": "distinct", "column": "region",
                         "where": {"column": "channel", "value": "web"}})  # fmt: skip
    raw = {k: v for k, v in variant.items() if k not in ("where", "first", "last")}
    query = parse_kpi_query(raw)
    period = date_period(variant["first"], variant["last"], query.tz)
    _distinct, stages = exact_query(world.dataset, query, period, measures)
    return repository.RECORDS, stages


KPI_SPAN = {"first": dt.date(2023, 12, 30), "last": dt.date(2024, 4, 2)}
KPI_EXACT_VARIANTS: dict[str, dict] = {
    "day-utc": {**KPI_SPAN, "granularity": "day"},
    "week-where": {**KPI_SPAN, "granularity": "week", "where": True},
    "hour-business-berlin": {**KPI_SPAN, "granularity": "hour", "tz": "Europe/Berlin",
                             "hours": "9-17", "days": "mon-fri"},
    "hour-over-midnight-berlin": {**KPI_SPAN, "granularity": "hour",
                                  "tz": "Europe/Berlin", "hours": "22-6"},
    "filtered": {**KPI_SPAN, "filter.channel": "web", "where": True},
    "day-berlin": {**KPI_SPAN, "granularity": "day", "tz": "Europe/Berlin"},
    "week-berlin": {**KPI_SPAN, "granularity": "week", "tz": "Europe/Berlin"},
    "month-new-york": {**KPI_SPAN, "granularity": "month", "tz": "America/New_York"},
    "day-new-york": {**KPI_SPAN, "granularity": "day", "tz": "America/New_York"},
    "hour-business-utc": {**KPI_SPAN, "granularity": "hour", "hours": "9-17"},
}  # fmt: skip

# Buckets in zones with DST reach mingo through the known difference
# "date-trunc-in-a-time-zone" (known_differences.py).
register(
    Pipeline(
        name="kpi.exact_distinct",
        build=_kpi_exact,
        variants=KPI_EXACT_VARIANTS,
        # $group output order is undefined; the period count is one document.
        unordered=("*.series_regions", "*.series_web_regions"),
        source="data/kpi/pipeline.py: exact_distinct_pipeline (service.exact_query)",
    )
)


# --- KPI: the roll-up pipelines of every view (data/kpi/service.py) ----------------


def _kpi_rollups(world: World, variant: Mapping) -> tuple[str, list[dict]]:
    """A KPI view's period or breakdown aggregate over the KPI roll-ups, built by
    the production builders for the world's measures."""
    raw = {k: v for k, v in variant.items() if k not in ("first", "last", "grain",
                                                        "kind", "exclude")}  # fmt: skip
    query = parse_kpi_query(raw)
    period = date_period(variant["first"], variant["last"], query.tz)
    measures = world.dataset["measures"]
    options = {"granularity": query.granularity, "tz": query.tz,
               "hours": query.hours, "days": query.days}  # fmt: skip
    if variant["kind"] == "breakdown":
        key = next(c["key"] for c in world.dataset["columns"]
                   if c["name"] == query.breakdown)  # fmt: skip
        match = kpi_pipeline.slice_match(world.dataset, variant["grain"], key, None)
        stages = kpi_pipeline.breakdown_pipeline(
            match, period.start, period.end, measures, options, variant.get("exclude")
        )
        return repository.KPI_ROLLUPS, stages
    key, values = choose_slice(world.dataset, query)
    match = kpi_pipeline.slice_match(world.dataset, variant["grain"], key, values)
    stages = kpi_pipeline.period_pipeline(
        match, period.start, period.start, period.end, measures, options
    )
    return repository.KPI_ROLLUPS, stages


KPI_ROLLUP_VARIANTS: dict[str, dict] = {
    "day-utc-day-grain": {**KPI_SPAN, "kind": "period", "grain": "day"},
    "week-utc": {**KPI_SPAN, "kind": "period", "grain": "hour", "granularity": "week"},
    "month-utc": {**KPI_SPAN, "kind": "period", "grain": "day", "granularity": "month"},
    "day-berlin": {**KPI_SPAN, "kind": "period", "grain": "hour",
                   "tz": "Europe/Berlin"},
    "week-berlin": {**KPI_SPAN, "kind": "period", "grain": "hour",
                    "granularity": "week", "tz": "Europe/Berlin"},
    "month-new-york": {**KPI_SPAN, "kind": "period", "grain": "hour",
                       "granularity": "month", "tz": "America/New_York"},
    "hour-business-utc": {**KPI_SPAN, "kind": "period", "grain": "hour",
                          "granularity": "hour", "hours": "9-17", "days": "mon-fri"},
    "day-business-berlin": {**KPI_SPAN, "kind": "period", "grain": "hour",
                            "tz": "Europe/Berlin", "hours": "22-6"},
    "filtered-region": {**KPI_SPAN, "kind": "period", "grain": "day",
                        "filter.region": "N"},
    "breakdown-channel": {**KPI_SPAN, "kind": "breakdown", "grain": "day",
                          "breakdown": "channel"},
    "breakdown-other": {**KPI_SPAN, "kind": "breakdown", "grain": "hour",
                        "breakdown": "region", "exclude": ["N"],
                        "tz": "Europe/Berlin", "hours": "9-17"},
}  # fmt: skip
register(
    Pipeline(
        name="kpi.rollups",
        build=_kpi_rollups,
        variants=KPI_ROLLUP_VARIANTS,
        # The breakdown's $group has no $sort: its order is undefined.
        unordered=("",),
        source="data/kpi/pipeline.py: period_pipeline, breakdown_pipeline "
        "(service.period_result, service.breakdown)",
    )
)


# --- disclosure control: distinct entities per cell of an agent's view ------------


def with_identifier(dataset: dict) -> dict:
    """The world's dataset with the identifier its records carry."""
    return {**dataset, "columns": [IDENTIFIER, *dataset["columns"]]}


def _kpi_entities(world: World, variant: Mapping) -> tuple[str, list[dict]]:
    """The records pipeline counting a KPI view's cells' distinct identifiers (or,
    with `complement`, those of the rows its selection leaves out)."""
    raw = {k: v for k, v in variant.items()
           if k not in ("first", "last", "top", "complement")}  # fmt: skip
    query = parse_kpi_query(raw)
    period = date_period(variant["first"], variant["last"], query.tz)
    stages = entity_query(
        with_identifier(world.dataset), query, period, variant.get("top"),
        variant.get("complement", False),
    )  # fmt: skip
    return repository.RECORDS, stages


KPI_ENTITY_VARIANTS: dict[str, dict] = {
    "day-utc": {**KPI_SPAN, "granularity": "day"},
    "week-berlin": {**KPI_SPAN, "granularity": "week", "tz": "Europe/Berlin"},
    "hour-business-berlin": {**KPI_SPAN, "granularity": "hour", "tz": "Europe/Berlin",
                             "hours": "9-17", "days": "mon-fri"},
    "filtered": {**KPI_SPAN, "filter.channel": "web"},
    "filtered-complement": {**KPI_SPAN, "filter.channel": "web", "complement": True},
    "hours-complement": {**KPI_SPAN, "granularity": "hour", "hours": "22-6",
                         "tz": "Europe/Berlin", "complement": True},
    "breakdown": {**KPI_SPAN, "breakdown": "region", "top": ["N"]},
    "breakdown-filtered-complement": {**KPI_SPAN, "breakdown": "region",
                                      "filter.region": "N,S", "top": ["S"],
                                      "hours": "9-17", "complement": True},
}  # fmt: skip
register(
    Pipeline(
        name="kpi.entities",
        build=_kpi_entities,
        variants=KPI_ENTITY_VARIANTS,
        unordered=("*.series", "*.rows"),  # $group output order is undefined
        source="data/kpi/pipeline.py: entity_count_pipeline (service.entity_query)",
    )
)


def _analytics_entities(world: World, variant: Mapping) -> tuple[str, list[dict]]:
    """The records pipeline counting an analysis view's buckets' identifiers."""
    dataset = with_identifier(world.dataset)
    return analytics_entity_query(dataset, parse_params(dict(variant), dataset))


ANALYTICS_ENTITY_VARIANTS: dict[str, dict] = {
    **{granularity: {"granularity": granularity}
       for granularity in ("hour", "day", "week", "month")},
    "filter-one-region": {"filters": {"region": ["N"]}},
    "filter-two-dimensions": {"filters": {"region": ["N", "S"], "channel": ["web"]}},
    "range-dates": {"from": "2024-01-02", "to": "2024-01-20"},
    "range-hours": {"granularity": "hour", "from": "2024-01-01T03:00:00Z",
                    "to": "2024-01-02T07:30:00Z"},
}  # fmt: skip
register(
    Pipeline(
        name="analytics.entities",
        build=_analytics_entities,
        variants=ANALYTICS_ENTITY_VARIANTS,
        unordered=("",),  # $group output order is undefined
        source="data/analytics/pipeline.py: entity_count_pipeline "
        "(service.entity_query)",
    )
)
