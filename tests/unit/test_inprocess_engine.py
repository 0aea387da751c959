"""The in-process engine's added operators reproduce the MongoDB manual's examples."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

import mongomock
import numpy as np
import pymongo.errors
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from data import inprocess, timeunits

UTC = dt.UTC


def iso(text: str) -> dt.datetime:
    """ISODate("...Z") as an aware datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def database():
    """A fresh in-process database with the compatibility layer installed."""
    inprocess.install()
    return mongomock.MongoClient(tz_aware=True)[f"compat_{random.getrandbits(32)}"]


CAKE_SALES = [
    (0, "chocolate", "2020-05-18T14:10:30Z", "CA", 13, 120),
    (1, "chocolate", "2021-03-20T11:30:05Z", "WA", 14, 140),
    (2, "vanilla", "2021-01-11T06:31:15Z", "CA", 12, 145),
    (3, "vanilla", "2020-02-08T13:13:23Z", "WA", 13, 104),
    (4, "strawberry", "2019-05-18T16:09:01Z", "CA", 41, 162),
    (5, "strawberry", "2019-01-08T06:12:03Z", "WA", 43, 134),
]


@pytest.fixture
def cake_sales(database):
    """The manual's `cakeSales` collection used by every $setWindowFields example."""
    collection = database.cakeSales
    collection.insert_many(
        [
            {
                "_id": id_,
                "type": kind,
                "orderDate": iso(date),
                "state": state,
                "price": price,
                "quantity": quantity,
            }
            for id_, kind, date, state, price, quantity in CAKE_SALES
        ]
    )
    return collection


def window_field(collection, stage: dict, field: str) -> list[tuple[int, object]]:
    """Run one $setWindowFields stage and return (_id, field) in output order."""
    rows = collection.aggregate([{"$setWindowFields": stage}])
    return [(row["_id"], row[field]) for row in rows]


def test_cumulative_quantity_for_each_state(cake_sales):
    stage = {
        "partitionBy": "$state",
        "sortBy": {"orderDate": 1},
        "output": {
            "cumulativeQuantityForState": {
                "$sum": "$quantity",
                "window": {"documents": ["unbounded", "current"]},
            }
        },
    }
    assert window_field(cake_sales, stage, "cumulativeQuantityForState") == [
        (4, 162),
        (0, 282),
        (2, 427),
        (5, 134),
        (3, 238),
        (1, 378),
    ]


def test_cumulative_quantity_for_each_year(cake_sales):
    stage = {
        "partitionBy": {"$year": "$orderDate"},
        "sortBy": {"orderDate": 1},
        "output": {
            "cumulativeQuantityForYear": {
                "$sum": "$quantity",
                "window": {"documents": ["unbounded", "current"]},
            }
        },
    }
    assert window_field(cake_sales, stage, "cumulativeQuantityForYear") == [
        (5, 134),
        (4, 296),
        (3, 104),
        (0, 224),
        (2, 145),
        (1, 285),
    ]


def test_moving_average_quantity_for_each_year(cake_sales):
    stage = {
        "partitionBy": {"$year": "$orderDate"},
        "sortBy": {"orderDate": 1},
        "output": {
            "averageQuantity": {"$avg": "$quantity", "window": {"documents": [-1, 0]}}
        },
    }
    assert window_field(cake_sales, stage, "averageQuantity") == [
        (5, 134),
        (4, 148),
        (3, 104),
        (0, 112),
        (2, 145),
        (1, 142.5),
    ]


def test_cumulative_and_maximum_quantity_for_each_year(cake_sales):
    stage = {
        "partitionBy": {"$year": "$orderDate"},
        "sortBy": {"orderDate": 1},
        "output": {
            "cumulativeQuantityForYear": {
                "$sum": "$quantity",
                "window": {"documents": ["unbounded", "current"]},
            },
            "maximumQuantityForYear": {
                "$max": "$quantity",
                "window": {"documents": ["unbounded", "unbounded"]},
            },
        },
    }
    rows = list(cake_sales.aggregate([{"$setWindowFields": stage}]))
    assert [
        (r["_id"], r["cumulativeQuantityForYear"], r["maximumQuantityForYear"])
        for r in rows
    ] == [
        (5, 134, 162),
        (4, 296, 162),
        (3, 104, 120),
        (0, 224, 120),
        (2, 145, 145),
        (1, 285, 145),
    ]


def test_range_window_sums_similar_prices(cake_sales):
    stage = {
        "partitionBy": "$state",
        "sortBy": {"price": 1},
        "output": {
            "quantityFromSimilarOrders": {
                "$sum": "$quantity",
                "window": {"range": [-10, 10]},
            }
        },
    }
    assert window_field(cake_sales, stage, "quantityFromSimilarOrders") == [
        (2, 265),
        (0, 265),
        (4, 162),
        (3, 244),
        (1, 244),
        (5, 134),
    ]


@pytest.mark.parametrize(
    ("upper", "expected"),
    [
        (
            10,
            {
                4: ["2019-05-18T16:09:01Z"],
                0: [
                    "2019-05-18T16:09:01Z",
                    "2020-05-18T14:10:30Z",
                    "2021-01-11T06:31:15Z",
                ],
                2: [
                    "2019-05-18T16:09:01Z",
                    "2020-05-18T14:10:30Z",
                    "2021-01-11T06:31:15Z",
                ],
                5: ["2019-01-08T06:12:03Z"],
                3: ["2019-01-08T06:12:03Z", "2020-02-08T13:13:23Z"],
                1: [
                    "2019-01-08T06:12:03Z",
                    "2020-02-08T13:13:23Z",
                    "2021-03-20T11:30:05Z",
                ],
            },
        ),
        (
            -10,
            {
                4: [],
                0: ["2019-05-18T16:09:01Z"],
                2: ["2019-05-18T16:09:01Z"],
                5: [],
                3: ["2019-01-08T06:12:03Z"],
                1: ["2019-01-08T06:12:03Z", "2020-02-08T13:13:23Z"],
            },
        ),
    ],
)
def test_time_range_window_in_months(cake_sales, upper, expected):
    stage = {
        "partitionBy": "$state",
        "sortBy": {"orderDate": 1},
        "output": {
            "recentOrders": {
                "$push": "$orderDate",
                "window": {"range": ["unbounded", upper], "unit": "month"},
            }
        },
    }
    result = dict(window_field(cake_sales, stage, "recentOrders"))
    assert result == {key: [iso(d) for d in dates] for key, dates in expected.items()}


def test_std_dev_pop_and_samp_windows(cake_sales):
    window = {"documents": ["unbounded", "current"]}
    stage = {
        "partitionBy": "$state",
        "sortBy": {"orderDate": 1},
        "output": {
            "pop": {"$stdDevPop": "$quantity", "window": window},
            "samp": {"$stdDevSamp": "$quantity", "window": window},
        },
    }
    rows = list(cake_sales.aggregate([{"$setWindowFields": stage}]))
    expected = {
        4: (0, None),
        0: (21, 29.698484809834994),
        2: (17.249798710580816, 21.1266025033211),
        5: (0, None),
        3: (15, 21.213203435596427),
        1: (15.748015748023622, 19.28730152198591),
    }
    for row in rows:
        pop, samp = expected[row["_id"]]
        assert row["pop"] == pytest.approx(pop, rel=1e-12)
        assert row["samp"] == (None if samp is None else pytest.approx(samp, rel=1e-12))


def test_rank_document_number_and_shift(cake_sales):
    stage = {
        "partitionBy": "$state",
        "sortBy": {"quantity": -1},
        "output": {
            "number": {"$documentNumber": {}},
            "previous": {
                "$shift": {"output": "$quantity", "by": -1, "default": "Not available"}
            },
        },
    }
    rows = list(cake_sales.aggregate([{"$setWindowFields": stage}]))
    assert [(r["_id"], r["number"], r["previous"]) for r in rows] == [
        (4, 1, "Not available"),
        (2, 2, 162),
        (0, 3, 145),
        (1, 1, "Not available"),
        (5, 2, 140),
        (3, 3, 134),
    ]


def test_empty_windows_follow_the_manual(database):
    database.points.insert_many([{"_id": i, "x": i, "v": None} for i in range(3)])
    stage = {
        "sortBy": {"x": 1},
        "output": {
            "sum": {"$sum": "$v", "window": {"documents": [-1, -1]}},
            "count": {"$count": {}, "window": {"documents": [-1, -1]}},
            "avg": {"$avg": "$v", "window": {"documents": [-1, -1]}},
            "push": {"$push": "$v", "window": {"documents": [5, 6]}},
        },
    }
    rows = list(database.points.aggregate([{"$setWindowFields": stage}]))
    assert [(r["sum"], r["count"], r["avg"], r["push"]) for r in rows] == [
        (0, 0, None, []),
        (0, 1, None, []),
        (0, 1, None, []),
    ]


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)), max_size=25
    ),
    window=st.integers(2, 6),
)
@example(values=[207084.0, None, 0.0, 1.0, None, None], window=4)
def test_trailing_windows_match_numpy(values, window):
    # numpy on each window's own values: pandas' rolling std updates running sums,
    # which keep a residue after a large value leaves the window (~1e-5 here).
    inprocess.install()
    collection = mongomock.MongoClient(tz_aware=True).db.points
    if values:
        collection.insert_many([{"i": i, "v": v} for i, v in enumerate(values)])
    spec = {"documents": [-window, -1]}
    stage = {
        "sortBy": {"i": 1},
        "output": {
            "mean": {"$avg": "$v", "window": spec},
            "std": {"$stdDevSamp": "$v", "window": spec},
        },
    }
    rows = list(collection.aggregate([{"$setWindowFields": stage}]))
    assert len(rows) == len(values)
    for i, row in enumerate(rows):
        trailing = [v for v in values[max(0, i - window) : i] if v is not None]
        want_mean = float(np.mean(trailing)) if trailing else None
        want_std = float(np.std(trailing, ddof=1)) if len(trailing) >= 2 else None
        for got, want in ((row["mean"], want_mean), (row["std"], want_std)):
            if want is None:
                assert got is None
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_std_dev_pop_in_group_and_project(database):
    database.users.insert_many(
        [
            {"_id": 1, "quiz": 1, "score": 85},
            {"_id": 2, "quiz": 1, "score": 90},
            {"_id": 3, "quiz": 1, "score": 71},
            {"_id": 4, "quiz": 2, "score": 96},
            {"_id": 5, "quiz": 2, "score": 77},
            {"_id": 6, "quiz": 2, "score": 82},
        ]
    )
    grouped = database.users.aggregate(
        [{"$group": {"_id": "$quiz", "stdDev": {"$stdDevPop": "$score"}}}]
    )
    assert {row["_id"]: row["stdDev"] for row in grouped} == {
        1: pytest.approx(8.04155872120988, rel=1e-14),
        2: pytest.approx(8.04155872120988, rel=1e-14),
    }
    database.quizzes.insert_many(
        [
            {"_id": 1, "scores": [{"score": 85}, {"score": 90}, {"score": 71}]},
            {"_id": 2, "scores": [{"score": 96}, {"score": 77}, {"score": 82}]},
        ]
    )
    projected = database.quizzes.aggregate(
        [{"$project": {"stdDev": {"$stdDevPop": "$scores.score"}}}]
    )
    assert [row["stdDev"] for row in projected] == [
        pytest.approx(8.04155872120988, rel=1e-14)
    ] * 2


def test_std_dev_single_values_and_non_numbers(database):
    database.items.insert_many(
        [{"g": 1, "v": 5}, {"g": 2, "v": "text"}, {"g": 2, "v": True}]
    )
    rows = database.items.aggregate(
        [
            {
                "$group": {
                    "_id": "$g",
                    "pop": {"$stdDevPop": "$v"},
                    "samp": {"$stdDevSamp": "$v"},
                }
            },
            {"$sort": {"_id": 1}},
        ]
    )
    assert [(r["pop"], r["samp"]) for r in rows] == [(0, None), (None, None)]


def test_single_operand_array_expressions(database):
    database.items.insert_one({"values": [1, 2, 3, 4, None, "x"]})
    row = database.items.aggregate(
        [
            {
                "$project": {
                    "_id": 0,
                    "avg": {"$avg": {"$filter": {"input": "$values", "cond": True}}},
                    "sum": {"$sum": {"$map": {"input": "$values", "in": "$$this"}}},
                    "max": {"$max": {"$slice": ["$values", 2]}},
                    "std": {"$stdDevSamp": {"$slice": ["$values", 4]}},
                    "missing": {"$sum": "$nothing"},
                }
            }
        ]
    ).next()
    assert row == {
        "avg": 2.5,
        "sum": 10,
        "max": 2,
        "std": pytest.approx(1.2909944487358056),
        "missing": 0,
    }


ENGINEERS = [
    {"name": "pat", "age": 30, "address": {"street": "12 Baker St", "city": "London"}},
    {
        "name": "dallas",
        "age": 36,
        "address": {"street": "12 Cowper St", "city": "Palo Alto"},
    },
    {
        "name": "charlie",
        "age": 42,
        "address": {"street": "12 French St", "city": "New Brunswick"},
    },
]


@pytest.mark.parametrize(
    ("sort_by", "names"),
    [
        ({"name": 1}, ["charlie", "dallas", "pat"]),
        ({"address.city": -1}, ["dallas", "charlie", "pat"]),
        ({"age": -1, "name": 1}, ["charlie", "dallas", "pat"]),
    ],
)
def test_sort_array_of_documents(database, sort_by, names):
    database.engineers.insert_one({"team": ENGINEERS})
    row = database.engineers.aggregate(
        [
            {
                "$project": {
                    "_id": 0,
                    "result": {"$sortArray": {"input": "$team", "sortBy": sort_by}},
                }
            }
        ]
    ).next()
    assert [member["name"] for member in row["result"]] == names


def test_sort_array_of_values(database):
    database.engineers.insert_one({"team": []})
    row = database.engineers.aggregate(
        [
            {
                "$project": {
                    "_id": 0,
                    "up": {"$sortArray": {"input": [1, 4, 1, 6, 12, 5], "sortBy": 1}},
                    "mixed": {
                        "$sortArray": {
                            "input": [20, 4, {"a": "Free"}, 6, 21, 5, "Gratis"],
                            "sortBy": 1,
                        }
                    },
                    "missing": {"$sortArray": {"input": "$nope", "sortBy": -1}},
                }
            }
        ]
    ).next()
    assert row == {
        "up": [1, 1, 4, 5, 6, 12],
        "mixed": [4, 5, 6, 20, 21, "Gratis", {"a": "Free"}],
        "missing": None,
    }


def test_range_expression(database):
    database.items.insert_one({"n": 4})
    row = database.items.aggregate(
        [
            {
                "$project": {
                    "_id": 0,
                    "r": {"$range": [0, "$n"]},
                    "s": {"$range": [0, 10, 4]},
                }
            }
        ]
    ).next()
    assert row == {"r": [0, 1, 2, 3], "s": [0, 4, 8]}


WEATHER = ["2021-05-18T00:00:00Z", "2021-05-18T04:00:00Z", "2021-05-18T08:00:00Z"]


def test_densify_time_series_with_explicit_bounds(database):
    database.weather.insert_many(
        [
            {"timestamp": iso(t), "temp": temp}
            for t, temp in zip(WEATHER, [12, 11, 11], strict=True)
        ]
        + [{"timestamp": iso("2021-05-18T12:00:00Z"), "temp": 12}]
    )
    rows = database.weather.aggregate(
        [
            {
                "$densify": {
                    "field": "timestamp",
                    "range": {
                        "step": 1,
                        "unit": "hour",
                        "bounds": [iso(WEATHER[0]), iso(WEATHER[2])],
                    },
                }
            },
            {"$sort": {"timestamp": 1}},
        ]
    )
    hours = [(row["timestamp"].hour, "temp" in row) for row in rows]
    assert hours == [
        (0, True),
        (1, False),
        (2, False),
        (3, False),
        (4, True),
        (5, False),
        (6, False),
        (7, False),
        (8, True),
        (12, True),
    ]


COFFEE = [
    (600, "Arabica Typica", 68.3),
    (750, "Arabica Typica", 69.5),
    (950, "Arabica Typica", 70.5),
    (1250, "Gesha", 88.15),
    (1700, "Gesha", 95.5),
]


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        (
            "full",
            {
                "Arabica Typica": [600, 750, 800, 950, 1000, 1200, 1400, 1600],
                "Gesha": [600, 800, 1000, 1200, 1250, 1400, 1600, 1700],
            },
        ),
        (
            "partition",
            {
                "Arabica Typica": [600, 750, 800, 950],
                "Gesha": [1250, 1450, 1650, 1700],
            },
        ),
    ],
)
def test_densify_coffee_partitions(database, bounds, expected):
    database.coffee.insert_many(
        [{"altitude": a, "variety": v, "score": s} for a, v, s in COFFEE]
    )
    rows = database.coffee.aggregate(
        [
            {
                "$densify": {
                    "field": "altitude",
                    "partitionByFields": ["variety"],
                    "range": {"bounds": bounds, "step": 200},
                }
            }
        ]
    )
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row["variety"], []).append(row["altitude"])
    assert {key: sorted(values) for key, values in found.items()} == expected


def test_densify_months_and_empty_input_with_bounds(database):
    rows = list(
        database.empty.aggregate(
            [
                {
                    "$densify": {
                        "field": "b",
                        "range": {
                            "step": 1,
                            "unit": "month",
                            "bounds": [
                                iso("2024-01-01T00:00:00Z"),
                                iso("2024-04-01T00:00:00Z"),
                            ],
                        },
                    }
                }
            ]
        )
    )
    assert [row["b"].month for row in rows] == [1, 2, 3]


def test_densify_rejects_mixed_types(database):
    database.mixed.insert_many([{"x": 1}, {"x": iso("2024-01-01T00:00:00Z")}])
    with pytest.raises(mongomock.OperationFailure):
        list(
            database.mixed.aggregate(
                [{"$densify": {"field": "x", "range": {"step": 1, "bounds": "full"}}}]
            )
        )


def test_add_units_clamps_month_ends():
    moment = dt.datetime(2024, 1, 31, 5, tzinfo=UTC)
    assert timeunits.add_units(moment, 1, "month") == dt.datetime(
        2024, 2, 29, 5, tzinfo=UTC
    )
    assert timeunits.add_units(moment, -2, "quarter").month == 7


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(
        st.fixed_dictionaries(
            {
                "a": st.one_of(
                    st.sampled_from(["x", "y"]),
                    st.integers(0, 2),
                    st.booleans(),
                    st.lists(st.sampled_from(["x", 1]), max_size=2),
                    st.none(),
                ),
                "b": st.integers(0, 2),
            }
        ),
        max_size=12,
    ),
    wanted=st.sampled_from(["x", 1, 1.0, 0]),
)
def test_equality_prefilter_matches_mongomock(docs, wanted):
    """The speed-up returns exactly what mongomock's own matcher returns."""
    from mongomock import filtering

    inprocess.install()
    collection = mongomock.MongoClient().db.items
    if docs:
        collection.insert_many([dict(doc) for doc in docs])
    query = {"a": wanted, "b": {"$gte": 1}}
    stored = list(collection._store.documents)
    expected = [doc["_id"] for doc in stored if filtering.filter_applies(query, doc)]
    assert [doc["_id"] for doc in collection.find(query)] == expected
    simple = [
        doc["_id"] for doc in stored if filtering.filter_applies({"a": wanted}, doc)
    ]
    assert [doc["_id"] for doc in collection.find({"a": wanted})] == simple


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(
        st.fixed_dictionaries(
            {
                "k": st.sampled_from(["a", "b"]),
                "when": st.integers(0, 5).map(
                    lambda days: dt.datetime(2024, 1, 1 + days, tzinfo=UTC)
                ),
                "items": st.one_of(
                    st.none(),
                    st.integers(0, 3),
                    st.lists(st.integers(0, 3), max_size=3),
                ),
                "nested": st.fixed_dictionaries({"x": st.integers(0, 2)}),
            }
        ),
        max_size=10,
    ),
    since=st.integers(0, 5),
)
def test_pushdown_and_unwind_return_what_mongomock_returns(docs, since):
    """The leading-$match pushdown and the faster $unwind change speed, not results."""
    from mongomock import aggregate as mongomock_aggregate

    inprocess.install()
    collection = mongomock.MongoClient(tz_aware=True).db.items
    if docs:
        collection.insert_many([dict(doc) for doc in docs])
    match = {"k": "a", "when": {"$gte": dt.datetime(2024, 1, 1 + since, tzinfo=UTC)}}
    rest = [{"$unwind": "$items"}, {"$sort": {"_id": 1}}]
    got = list(collection.aggregate([{"$match": match}, *rest]))
    original_unwind = mongomock_aggregate._handle_unwind_stage
    found = [doc for doc in collection.find() if doc in list(collection.find(match))]
    expected = original_unwind(found, None, {"path": "$items"})
    expected.sort(key=lambda doc: doc["_id"])
    assert got == expected
    for doc in got:
        doc["nested"]["x"] = 99  # copies are independent of the store
    assert all(doc["nested"]["x"] != 99 for doc in collection.find())


@settings(max_examples=80, deadline=None)
@given(
    keys=st.lists(
        st.one_of(
            st.none(),
            st.integers(0, 2),
            st.sampled_from([1.0, 2.5]),
            st.sampled_from(["a", "b"]),
            st.integers(0, 2).map(lambda d: dt.datetime(2024, 1, 1 + d, tzinfo=UTC)),
            st.fixed_dictionaries({"x": st.integers(0, 1)}),
            st.just("__missing__"),
        ),
        max_size=15,
    )
)
def test_hashed_group_returns_what_mongomock_returns(keys):
    """The hashed $group gives the same groups, order and accumulators."""
    from mongomock import aggregate as mongomock_aggregate

    inprocess.install()
    docs = [
        {"_id": i, "v": i, **({} if key == "__missing__" else {"k": key})}
        for i, key in enumerate(keys)
    ]
    options = {
        "_id": "$k",
        "n": {"$sum": 1},
        "first": {"$first": "$v"},
        "all": {"$push": "$v"},
    }
    got = mongomock_aggregate._PIPELINE_HANDLERS["$group"](docs, None, options)
    expected = mongomock_aggregate._handle_group_stage(docs, None, options)
    assert got == expected


def test_group_keeps_true_and_one_apart_like_mongodb(database):
    """BSON compares booleans and numbers as different types (mongomock merged them)."""
    database.items.insert_many([{"k": True}, {"k": 1}, {"k": 1.0}])
    rows = database.items.aggregate([{"$group": {"_id": "$k", "n": {"$sum": 1}}}])
    assert sorted((str(r["_id"]), r["n"]) for r in rows) == [("1", 2), ("True", 1)]


def test_rounding_passes_infinity_through(database):
    database.items.insert_one({"x": float("inf"), "y": 2.5})
    row = database.items.aggregate(
        [
            {
                "$project": {
                    "_id": 0,
                    "c": {"$ceil": "$x"},
                    "f": {"$floor": "$y"},
                    "t": {"$trunc": -2.5},
                    "m": {"$ceil": "$missing"},
                }
            }
        ]
    ).next()
    assert row == {"c": float("inf"), "f": 2, "t": -2, "m": None}


def test_racing_inserts_with_one_unique_key_leave_exactly_one_winner(
    database, monkeypatch
):
    """As on a server, one of several concurrent inserts of the same unique key
    succeeds and the others get DuplicateKeyError. (mongomock alone stores first and
    checks after: with slow checks, every racer counted the others' documents and
    all four rolled back.)"""
    collection = database.versions
    collection.create_index([("owner", 1), ("version", 1)], unique=True)
    check = mongomock.collection.Collection._ensure_uniques

    def slow_check(self, document):
        time.sleep(0.02)  # every racer has stored its document by now
        try:
            return check(self, document)
        finally:
            time.sleep(0.05)  # the others count before this one rolls back

    monkeypatch.setattr(mongomock.collection.Collection, "_ensure_uniques", slow_check)
    start = threading.Barrier(4)
    outcomes = []

    def insert(racer: int):
        start.wait()
        try:
            collection.insert_one({"_id": racer, "owner": "a", "version": 1})
            outcomes.append("inserted")
        except pymongo.errors.DuplicateKeyError:
            outcomes.append("duplicate")

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["duplicate"] * 3 + ["inserted"]
    assert collection.count_documents({"owner": "a", "version": 1}) == 1


def test_group_on_no_documents_outputs_none(database):
    """$group outputs "one document for each unique group key"
    (https://www.mongodb.com/docs/v7.0/reference/operator/aggregation/group/): no
    input, no key, no document, even for `_id: null` (mongomock made one; found by
    the conformance suite against mingo)."""
    database.items.insert_one({"k": 1})
    pipeline = [
        {"$match": {"k": 2}},
        {"$group": {"_id": None, "n": {"$sum": 1}, "all": {"$addToSet": "$k"}}},
    ]
    assert list(database.items.aggregate(pipeline)) == []
    facet = [{"$facet": {"groups": pipeline}}]
    assert list(database.items.aggregate(facet)) == [{"groups": []}]


def test_date_parts_of_a_date_document_without_a_time_zone(database):
    """The manual's `{<operator>: {date: <expr>}}` form takes UTC when `timezone`
    is left out (https://www.mongodb.com/docs/v7.0/reference/operator/aggregation/hour/,
    its example date 2014-01-01T08:15:39.736Z: hour 8, a Wednesday); mongomock read
    only the bare date or `{date, timezone}` (found by the conformance suite: the
    KPI page's business hours in UTC failed)."""
    moment = dt.datetime(2014, 1, 1, 8, 15, 39, 736000, tzinfo=dt.UTC)
    database.items.insert_one({"_id": 1, "date": moment})
    parts = {
        "hour": {"$hour": {"date": "$date"}},
        "weekday": {"$dayOfWeek": {"date": "$date"}},
        "bare": {"$hour": "$date"},
        "berlin": {"$hour": {"date": "$date", "timezone": "Europe/Berlin"}},
    }
    (result,) = database.items.aggregate([{"$project": {"_id": 0, **parts}}])
    assert result == {"hour": 8, "weekday": 4, "bare": 8, "berlin": 9}
    kept = database.items.aggregate(
        [{"$match": {"$expr": {"$in": [{"$hour": {"date": "$date"}}, [8, 9]]}}}]
    )
    assert [doc["_id"] for doc in kept] == [1]


def test_add_to_set_keeps_mongomocks_values_in_first_seen_order(database):
    """$addToSet deduplicates by hashing (mongomock compared every value with the
    whole list: a million documents never finished): documents by their fields in
    order, arrays by elements, booleans apart from numbers, first seen first."""
    rows = [
        {"d": {"a": 1, "b": 2}, "x": [1, 2], "f": True},
        {"d": {"b": 2, "a": 1}, "x": [1, 2], "f": 1},
        {"d": {"a": 1, "b": 2}, "x": [2, 1], "f": True},
        {"d": {"a": 1}, "x": [1, 2], "f": 1.0},
        {"x": [1, 2], "f": "t"},
    ]
    database.items.insert_many([{"_id": i, **row} for i, row in enumerate(rows)])
    spec = {f: {"$addToSet": f"${f}"} for f in ("d", "x", "f")}
    (result,) = database.items.aggregate([{"$group": {"_id": None, **spec}}])
    assert result["d"] == [{"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1}]
    assert result["x"] == [[1, 2], [2, 1]]
    assert result["f"] == [True, 1, "t"]
    assert list(result) == ["d", "x", "f", "_id"]
