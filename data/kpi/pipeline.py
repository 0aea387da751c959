"""KPI pipelines (pure builders: parameters in, stages out).

Each view is one `aggregate` over the KPI roll-ups per period (and one per
breakdown): a `$match` on indexed equality fields and the hour range, the business
hours as a `$expr` on the bucket's local hour and weekday (MongoDB's own time-zone
rules), then `$group` by the local bucket (`$dateTrunc` with `timezone`). Additive
partials (counts, sums, extremes) are totalled by MongoDB; HLL sketches are
`$push`ed and merged in the app (data/kpi/compute.py), because MongoDB has no
operator that merges sketches.
"""

from __future__ import annotations

import datetime as dt

from data.ingest.measures import DISTINCT_KINDS
from data.ingest.repository import committed_filter

ADDITIVE_FIELDS = {
    "count": (("n", "$sum"),),
    "sum": (("n", "$sum"), ("s", "$sum")),
    "mean": (("n", "$sum"), ("s", "$sum")),
    "min": (("n", "$sum"), ("lo", "$min")),
    "max": (("n", "$sum"), ("hi", "$max")),
}


def accumulators(measures: list[dict], sketches: bool = True) -> dict:
    """`$group` fields for each measure's partials: `<field>_<measure>`."""
    fields: dict = {"rows": {"$sum": "$rows"}}
    for measure in measures:
        name, kind = measure["name"], measure["kind"]
        if kind in DISTINCT_KINDS:
            if sketches:
                fields[f"h_{name}"] = {"$push": f"$p.{name}.h"}
            continue
        for field, operator in ADDITIVE_FIELDS.get(kind, ()):
            fields[f"{field}_{name}"] = {operator: f"$p.{name}.{field}"}
    return fields


def slice_match(
    dataset: dict, grain: str, key: str, values: tuple[str, ...] | None
) -> dict:
    """Equality conditions selecting one version's roll-ups of one slice."""
    match: dict = {
        "datasetId": dataset["datasetId"],
        "version": dataset["version"],
        "g": grain,
        "k": key,
        **committed_filter(dataset.get("revision")),
    }
    if values is not None:
        match["v"] = values[0] if len(values) == 1 else {"$in": list(values)}
    return match


def _zoned(field: str, tz: str) -> dict:
    """{date, timezone}; UTC is the operators' default, so it is left out."""
    return {"date": field} if tz == "UTC" else {"date": field, "timezone": tz}


def business_hours(hours, days, tz: str, field: str = "$b") -> list[dict]:
    """A `$match` keeping times (hour buckets, or records' `$t`) whose local hour
    and weekday are chosen."""
    conditions = time_conditions(hours, days, tz, field)
    if not conditions:
        return []
    return [{"$match": {"$expr": {"$and": conditions}}}]


def time_conditions(hours, days, tz: str, field: str = "$b") -> list[dict]:
    """`$expr` conditions on the local hour and weekday of `field` (none: all)."""
    conditions = []
    if hours:
        start, end = hours
        chosen = [
            h
            for h in range(24)
            if (start <= h < end if start < end else h >= start or h < end)
        ]
        conditions.append({"$in": [{"$hour": _zoned(field, tz)}, chosen]})
    if days:
        # $dayOfWeek counts 1 = Sunday .. 7 = Saturday; ISO weekdays 1 = Monday.
        chosen_days = sorted(day % 7 + 1 for day in days)
        conditions.append({"$in": [{"$dayOfWeek": _zoned(field, tz)}, chosen_days]})
    return conditions


def truncate(granularity: str, tz: str, field: str = "$b") -> dict:
    """The local bucket start of each roll-up document (or record)."""
    spec = {**_zoned(field, tz), "unit": granularity}
    if granularity == "week":
        spec["startOfWeek"] = "monday"
    return {"$dateTrunc": spec}


def period_pipeline(
    match: dict,
    fetch_start: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
    measures: list[dict],
    options: dict,
) -> list[dict]:
    """Series by local bucket, the period's additive totals and, for rolling
    measures, day sketches from fetch_start (windows look back), in one aggregate."""
    first = {**match, "b": {"$gte": fetch_start, "$lt": end}}
    in_period = {"$match": {"b": {"$gte": start}}}
    facets = {
        "series": [
            in_period,
            {"$group": {"_id": truncate(options["granularity"], options["tz"]),
                        **accumulators(measures)}},
            {"$sort": {"_id": 1}},
        ],
        "total": [
            in_period,
            {"$group": {"_id": None, **accumulators(measures, sketches=False)}},
        ],
    }  # fmt: skip
    rolling = [m for m in measures if m["kind"] == "rolling_distinct"]
    if rolling:
        pushes = {f"h_{m['name']}": {"$push": f"$p.{m['name']}.h"} for m in rolling}
        facets["days"] = [
            {"$group": {"_id": truncate("day", options["tz"]), **pushes}},
            {"$sort": {"_id": 1}},
        ]
    hours = business_hours(options.get("hours"), options.get("days"), options["tz"])
    return [{"$match": first}, *hours, {"$facet": facets}]


def breakdown_pipeline(
    match: dict,
    start: dt.datetime,
    end: dt.datetime,
    measures: list[dict],
    options: dict,
    exclude: list[str] | None = None,
) -> list[dict]:
    """Period partials per value of the breakdown dimension; with `exclude`, one
    group of every other value (the `other` row, counted, never subtracted)."""
    first = {**match, "b": {"$gte": start, "$lt": end}}
    if exclude is not None:
        chosen = first.get("v")
        condition: dict = {"$nin": exclude}
        if chosen is not None:
            condition["$in"] = chosen["$in"] if isinstance(chosen, dict) else [chosen]
        first["v"] = condition
    hours = business_hours(options.get("hours"), options.get("days"), options["tz"])
    group_id = None if exclude is not None else "$v"
    group = {"$group": {"_id": group_id, **accumulators(measures)}}
    return [{"$match": first}, *hours, group]


def exact_distinct_pipeline(
    match: dict, distinct: list[dict], options: dict
) -> list[dict]:
    """Exact distinct counts from records: per measure a two-stage `$group` (bucket
    and entity, then bucket) and the period's count of entities, in one `$facet`.
    Each item of `distinct` is {name, field ("i.c1" or "d.c3"), where (a $match or
    None)}."""
    facets = {}
    bucket = truncate(options["granularity"], options["tz"], "$t")
    for item in distinct:
        present = {"$match": {item["field"]: {"$nin": ["", None]}}}
        where = [item["where"]] if item["where"] else []
        entity = f"${item['field']}"
        facets[f"series_{item['name']}"] = [
            *where, present,
            {"$group": {"_id": {"b": bucket, "u": entity}}},
            {"$group": {"_id": "$_id.b", "n": {"$sum": 1}}},
        ]  # fmt: skip
        facets[f"total_{item['name']}"] = [
            *where, present, {"$group": {"_id": entity}}, {"$count": "n"},
        ]  # fmt: skip
    hours = business_hours(
        options.get("hours"), options.get("days"), options["tz"], "$t"
    )
    return [{"$match": match}, *hours, {"$facet": facets}]


def entity_count_pipeline(
    match: dict,
    entity: str,
    selection: list[dict],
    options: dict,
    breakdown: tuple[str, list[str]] | None = None,
    complement: bool = False,
) -> list[dict]:
    """Distinct entities (`entity`: "i.c1") of records per series bucket, in the
    period, per breakdown value and in `other` (breakdown: (field, top values)),
    by two-stage `$group`s in one `$facet`. `selection` holds the view's filter
    and business-hours conditions (`$expr`); with `complement`, the records they
    leave out are counted instead."""
    chosen: dict = {"$and": selection}
    stages: list[dict] = [{"$match": match}]
    if selection:
        # `$eq false` rather than `$not`: the in-process engine misreads
        # `{"$not": [expression]}` (always false), and this is the same test.
        expression = {"$eq": [chosen, False]} if complement else chosen
        stages.append({"$match": {"$expr": expression}})
    # Rows without an entity are one unknown entity together (never zero).
    who = {"$ifNull": [f"${entity}", ""]}
    bucket = truncate(options["granularity"], options["tz"], "$t")
    facets = {
        "series": _distinct_per(bucket, who),
        "total": [{"$group": {"_id": who}}, {"$count": "n"}],
    }
    if breakdown is not None:
        field, top = breakdown
        facets["rows"] = _distinct_per(f"${field}", who)
        facets["other"] = [
            {"$match": {field: {"$nin": top}}},
            {"$group": {"_id": who}},
            {"$count": "n"},
        ]
    return [*stages, {"$facet": facets}]


def _distinct_per(key: object, entity: object) -> list[dict]:
    return [
        {"$group": {"_id": {"k": key, "u": entity}}},
        {"$group": {"_id": "$_id.k", "n": {"$sum": 1}}},
    ]
