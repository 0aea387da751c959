"""The datasets service on the in-process engine and the local store: upload,
versions, idempotency, isolation, reprocess, delete, formats and bad rows."""

from __future__ import annotations

import codecs
import io
import json
import threading

import mongomock
import numpy as np
import pandas as pd
import pytest

from data import analytics, datasets
from data.cache import cache
from data.errors import Conflict, NotFound, TooLarge, Unprocessable
from data.ingest import repository
from data.ingest.schema import Choice
from data.inprocess import bulk
from tests.conftest import SAMPLE_CSV
from tests.integration.ingest.conftest import (
    READABLE,
    fail_first_run,
    meet_before_reserving,
)

OWNER, OTHER = "owner-a", "owner-b"


@pytest.fixture
def ctx(inline_app, services_of):
    """(services, app) inside an app context, jobs run inline."""
    with inline_app.server.app_context():
        yield services_of(inline_app), inline_app


def upload(services, data: bytes, name="Sales", owner=OWNER, **choice):
    return datasets.upload_dataset(
        services, owner, io.BytesIO(data), dataset_name=name, filename="f.csv",
        choice=Choice(**choice),
    )  # fmt: skip


def records(services, dataset_id, version=1) -> list[dict]:
    query = {"datasetId": dataset_id, "version": version}
    return sorted(
        services.mongo.records.find(query, {"_id": 0}), key=lambda r: r["row"]
    )


def test_the_sample_becomes_records_and_rollups(ctx, sample_bytes):
    services, _ = ctx
    view = upload(services, sample_bytes, name="January Sales")
    # Inline, the analytics hook runs before the call returns and caches the view.
    assert view["created"] and view["status"] == "cached"
    history = [h["status"] for h in view["statusHistory"]]
    assert history == ["uploaded", "processing", "processed", "cached"]
    assert (view["timeColumn"], view["metricColumns"]) == (
        "date",
        ["revenue", "orders"],
    )
    expected = pd.read_csv(SAMPLE_CSV, parse_dates=["date"])
    stored = records(services, view["id"])
    assert [r["t"] for r in stored] == [
        t.tz_localize("UTC").to_pydatetime() for t in expected["date"]
    ]
    assert [r["m"]["c1"] for r in stored] == expected["revenue"].astype(float).tolist()
    assert [r["m"]["c2"] for r in stored] == expected["orders"].astype(float).tolist()
    months = list(services.mongo.rollups.find({"datasetId": view["id"], "g": "month"}))
    assert len(months) == 1 and months[0]["s"]["c1"] == expected["revenue"].sum()
    assert view["rowCount"] == 7 and view["progress"]["percent"] == 100.0


def test_source_file_and_meta_are_stored_under_a_server_chosen_key(ctx, sample_bytes):
    services, _ = ctx
    view = datasets.upload_dataset(
        services, OWNER, io.BytesIO(sample_bytes), dataset_name="S",
        filename="../../etc/passwd.csv",
    )  # fmt: skip
    document = datasets.find_version_document(services, OWNER, view["id"])
    prefix = f"datasets/{OWNER}/{view['id']}/v1/"
    assert document["objectKey"] == prefix + "source.csv"
    assert services.store.list("datasets/") == [
        prefix + "meta.json",
        prefix + "source.csv",
    ]
    assert services.store.get(document["objectKey"]) == sample_bytes
    assert view["originalName"] == "passwd.csv"


def test_versions_latest_by_default_older_still_readable(ctx, sample_bytes):
    services, _ = ctx
    first = upload(services, sample_bytes)
    second = upload(services, sample_bytes + b"2024-01-31,100,1\n", name=" sales ")
    assert (first["version"], first["created"]) == (1, True)
    assert (second["id"], second["version"], second["created"]) == (
        first["id"],
        2,
        True,
    )
    assert datasets.get_dataset(services, OWNER, first["id"])["version"] == 2
    old = datasets.get_dataset(services, OWNER, first["id"], 1)
    assert old["status"] in READABLE and old["rowCount"] == 7
    assert len(records(services, first["id"], 1)) == 7
    assert len(records(services, first["id"], 2)) == 8
    (listed,) = datasets.list_datasets(services, OWNER)
    assert listed["latestVersion"] == 2 and len(listed["versions"]) == 2
    with pytest.raises(NotFound, match="Version 3"):
        datasets.get_dataset(services, OWNER, first["id"], 3)


def test_byte_identical_reupload_is_idempotent(ctx, sample_bytes):
    services, _ = ctx
    first = upload(services, sample_bytes)
    again = upload(services, sample_bytes)
    assert not again["created"] and again["version"] == first["version"] == 1
    assert services.mongo.datasets.count_documents({}) == 1
    assert len(records(services, first["id"])) == 7
    other_choice = upload(services, sample_bytes, metric_columns=("orders",))
    assert other_choice["created"] and other_choice["version"] == 2


def test_uploading_the_same_file_again_retries_a_failed_version(
    ctx, sample_bytes, monkeypatch
):
    services, _ = ctx
    fail_first_run(monkeypatch)
    first = upload(services, sample_bytes)
    assert first["status"] == "failed" and "internal error" in first["error"]
    again = upload(services, sample_bytes)
    assert (again["created"], again["id"], again["version"]) == (True, first["id"], 1)
    assert again["status"] in READABLE and again["rowCount"] == 7
    assert [(h["status"], h["message"]) for h in again["statusHistory"]][2:5] == [
        ("failed", first["error"]),
        ("uploaded", "uploaded again after failing"),
        ("processing", None),
    ]
    assert [r["row"] for r in records(services, first["id"])] == list(range(1, 8))
    third = upload(services, sample_bytes)  # processed now: idempotent again
    assert not third["created"] and third["revision"] == again["revision"] == 2
    assert services.mongo.datasets.count_documents({}) == 1


def test_the_same_file_uploaded_concurrently_makes_one_version(
    ctx, sample_bytes, monkeypatch
):
    services, app = ctx
    barrier = meet_before_reserving(monkeypatch, 4)
    results, errors = [], []

    def send():
        with app.server.app_context():
            try:
                results.append(upload(services, sample_bytes))
            except Exception as error:  # surfaced below
                errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and not barrier.broken  # all four raced for version 1
    assert {(r["id"], r["version"]) for r in results} == {(results[0]["id"], 1)}
    assert sum(r["created"] for r in results) == 1
    assert services.mongo.datasets.count_documents({}) == 1
    assert [r["row"] for r in records(services, results[0]["id"])] == list(range(1, 8))


def test_different_files_uploaded_concurrently_get_distinct_versions(ctx, sample_bytes):
    services, app = ctx
    results, errors = [], []

    def send(extra: int):
        with app.server.app_context():
            data = sample_bytes + f"2024-02-{extra + 1:02d},1,1\n".encode()
            try:
                results.append(upload(services, data))
            except Exception as error:  # surfaced below
                errors.append(error)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(r["version"] for r in results) == [1, 2, 3, 4]
    assert len({r["id"] for r in results}) == 1


def test_another_owner_sees_nothing(ctx, sample_bytes):
    services, _ = ctx
    view = upload(services, sample_bytes)
    for call in (
        datasets.get_dataset,
        datasets.get_progress,
        datasets.reprocess_dataset,
        datasets.delete_dataset,
    ):
        with pytest.raises(NotFound, match="Dataset not found"):
            call(services, OTHER, view["id"])
    assert datasets.list_datasets(services, OTHER) == []
    theirs = upload(services, sample_bytes, owner=OTHER)
    assert theirs["created"] and theirs["id"] != view["id"]
    with pytest.raises(NotFound):
        datasets.get_dataset(services, OWNER, "not-a-dataset-id")


def test_reprocess_rewrites_without_duplicates(ctx, sample_bytes):
    services, _ = ctx
    view = upload(services, sample_bytes)
    again = datasets.reprocess_dataset(services, OWNER, view["id"])
    assert again["status"] in READABLE and again["revision"] == 2
    stored = records(services, view["id"])
    assert [r["row"] for r in stored] == list(range(1, 8))
    assert {r["r"] for r in stored} == {2}
    assert {r["r"] for r in services.mongo.rollups.find({"datasetId": view["id"]})} == {
        2
    }
    messages = [h["message"] for h in again["statusHistory"]]
    assert "reprocessing requested" in messages


def cache_key(view: dict) -> str:
    """The analytics cache key of an uploaded version's default view."""
    version = {**view, "datasetId": view["id"]}
    return analytics.cache_key(version, analytics.default_params(version))


def test_delete_removes_files_records_results_and_cache(ctx, sample_bytes):
    services, _ = ctx
    doomed = upload(services, sample_bytes)
    kept = upload(services, sample_bytes, name="Other")
    services.mongo.analytics.insert_many(
        [
            {"datasetId": doomed["id"], "version": 1},
            {"datasetId": kept["id"], "version": 1},
        ]
    )
    doomed_key, kept_key = cache_key(doomed), cache_key(kept)
    cache.set(doomed_key, {"x": 1})
    cache.set(kept_key, {"x": 2})
    datasets.delete_dataset(services, OWNER, doomed["id"])
    with pytest.raises(NotFound):
        datasets.get_dataset(services, OWNER, doomed["id"])
    for name in ("datasets", "records", "rollups", "analytics"):
        assert services.mongo[name].count_documents({"datasetId": doomed["id"]}) == 0
        assert services.mongo[name].count_documents({"datasetId": kept["id"]}) > 0
    assert services.store.list(f"datasets/{OWNER}/{doomed['id']}/") == []
    assert services.store.list(f"datasets/{OWNER}/{kept['id']}/")
    # The deleted dataset's keys are in a new generation: the old entry is unreachable.
    assert cache_key(doomed) != doomed_key and cache.get(cache_key(doomed)) is None
    assert cache_key(kept) == kept_key and cache.get(kept_key) == {"x": 2}


def rows_csv(cells: list[str]) -> bytes:
    lines = ["date,revenue"] + [
        f"2024-01-{i % 28 + 1:02d},{c}" for i, c in enumerate(cells)
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_few_bad_rows_are_skipped_and_reported(ctx):
    services, _ = ctx
    cells = [str(i) for i in range(100)]
    cells[16], cells[40], cells[41] = "abc", "Infinity", '"1,2"'
    view = upload(services, rows_csv(cells))
    assert view["status"] in READABLE
    assert (view["rowCount"], view["skippedRows"]) == (97, 3)
    assert [e["message"] for e in view["rowErrors"]] == [
        "row 17, column revenue: 'abc' is not a number",
        "row 41, column revenue: 'Infinity' is not a finite number",
        "row 42, column revenue: '1,2' is not a number",
    ]
    assert 17 not in [r["row"] for r in records(services, view["id"])]


def test_too_many_bad_rows_fail_the_version_with_nothing_written(ctx):
    services, _ = ctx
    cells = ["1", "2", "x", "y", "z", "4", "5", "6", "7", "8"]
    view = upload(services, rows_csv(cells), metric_columns=("revenue",))
    assert view["status"] == "failed"
    assert view["error"] == (
        "3 of 10 rows (30.0%) have errors, more than the 10% allowed. "
        "First: row 3, column revenue: 'x' is not a number; row 4, column revenue: "
        "'y' is not a number; row 5, column revenue: 'z' is not a number."
    )
    assert view["skippedRows"] == 3 and len(view["rowErrors"]) == 3
    assert records(services, view["id"]) == []
    assert services.mongo.rollups.count_documents({"datasetId": view["id"]}) == 0


def test_missing_and_odd_metric_values(ctx):
    services, _ = ctx
    cells = ["18446744073709551617", "NaN", "", "-12.5", '"$1,234.50"', "(7)"]
    cells += ["1"] * 14
    view = upload(services, rows_csv(cells))
    values = [r["m"]["c1"] for r in records(services, view["id"])][:6]
    assert values == [18446744073709551617.0, None, None, -12.5, 1234.5, -7.0]
    assert view["skippedRows"] == 0


HUGE = "1" + "0" * 400  # more than a double holds (about 1.8e308)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("csv", rows_csv(["1"] * 10 + [HUGE] + ["2"] * 10)),
        ("json", json.dumps(
            [{"date": f"2024-01-{d + 1:02d}", "revenue": 10**400 if d == 10 else d}
             for d in range(21)]
        ).encode()),
    ],
)  # fmt: skip
def test_integers_too_large_for_a_double_are_a_reported_bad_row(ctx, kind, data):
    services, _ = ctx
    view = upload(services, data, metric_columns=("revenue",))
    assert view["status"] in READABLE, view["error"]
    assert (view["rowCount"], view["skippedRows"]) == (20, 1)
    assert view["rowErrors"][0]["message"] == (
        f"row 11, column revenue: '{HUGE[:39]}…' is too large to store as a number"
    )
    assert 11 not in [r["row"] for r in records(services, view["id"])]


def test_formula_cells_are_stored_as_plain_text(ctx):
    services, _ = ctx
    data = b"date,revenue,note\n2024-01-01,1,=1+1\n2024-01-02,2,+cmd\n2024-01-03,3,@x\n"
    data += b'2024-01-04,4,-y\n2024-01-05,5,"=HYPERLINK(""http://x"")"\n'
    view = upload(services, data, dimension_columns=("note",))
    notes = [r["d"]["c2"] for r in records(services, view["id"])]
    assert notes == ["=1+1", "+cmd", "@x", "-y", '=HYPERLINK("http://x")']


def test_column_names_mongodb_cannot_store_are_mapped_to_keys(ctx):
    services, _ = ctx
    data = b"$date,rev.total,$region.name\n2024-01-01,5,a\n2024-01-02,6,b\n"
    view = upload(services, data)
    assert [(c["name"], c["key"]) for c in view["columns"]] == [
        ("$date", "c0"), ("rev.total", "c1"), ("$region.name", "c2"),
    ]  # fmt: skip
    assert view["metricColumns"] == ["rev.total"]
    assert [r["m"] for r in records(services, view["id"])] == [{"c1": 5.0}, {"c1": 6.0}]
    assert [r["d"] for r in records(services, view["id"])] == [{"c2": "a"}, {"c2": "b"}]


CSV_TEXT = (
    'date;city;revenue\n2024-01-01;"Zürich; HB";1.234,5\n2024-01-02;Genève;7,25\n'
)
FORMATS = {
    "utf16_semicolon_decimal_comma": CSV_TEXT.encode("utf-16"),
    "latin1": CSV_TEXT.encode("latin-1"),
    "utf8_bom": codecs.BOM_UTF8 + CSV_TEXT.encode(),
    "json_array": json.dumps(
        [{"date": "2024-01-01", "city": "Zürich; HB", "revenue": 1234.5},
         {"date": "2024-01-02", "city": "Genève", "revenue": "7.25"}]
    ).encode(),
    "json_data": json.dumps(
        {"data": [{"date": "2024-01-01", "city": "Zürich; HB", "revenue": 1234.5},
                  {"date": "2024-01-02", "city": "Genève", "revenue": 7.25}]}
    ).encode(),
    "json_lines": (
        '{"date": "2024-01-01", "city": "Zürich; HB", "revenue": 1234.5}\n'
        '{"date": "2024-01-02", "city": "Genève", "revenue": 7.25}\n'
    ).encode(),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_formats_and_encodings_give_the_same_records(ctx, kind):
    services, _ = ctx
    view = upload(services, FORMATS[kind], dimension_columns=("city",))
    assert view["status"] in READABLE, view["error"]
    stored = records(services, view["id"])
    assert [r["m"]["c2"] for r in stored] == [1234.5, 7.25]
    assert [r["d"]["c1"] for r in stored] == ["Zürich; HB", "Genève"]


def test_quoted_line_breaks_and_a_quoted_header(ctx):
    services, _ = ctx
    data = b'date,"reve\nnue",note\n2024-01-01,1,"two\nlines"\n2024-01-02,2,"a,b"\n'
    view = upload(services, data, dimension_columns=("note",))
    stored = records(services, view["id"])
    assert view["metricColumns"] == ["reve\nnue"]
    assert [(r["row"], r["m"]["c1"], r["d"]["c2"]) for r in stored] == [
        (1, 1.0, "two\nlines"), (2, 2.0, "a,b"),
    ]  # fmt: skip


def test_json_lines_with_a_broken_line_report_it(ctx):
    services, _ = ctx
    lines = [json.dumps({"date": f"2024-01-{d:02d}", "v": d}) for d in range(1, 28)]
    lines[4] = '{"date": "2024-01-05", "v": '
    view = upload(services, ("\n".join(lines) + "\n").encode())
    assert view["status"] in READABLE and view["skippedRows"] == 1
    assert view["rowErrors"][0]["message"].startswith("row 5: line 5 is not valid JSON")


def test_rows_with_more_fields_than_the_header_are_reported(ctx):
    services, _ = ctx
    body = "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 28))
    data = ("date,revenue\n" + body + "2024-01-28,1,234\n").encode()
    view = upload(services, data)
    assert view["skippedRows"] == 1
    assert view["rowErrors"][0]["message"].startswith(
        "row 28: it has more fields than the header (2)"
    )


def test_mixed_time_formats_after_the_sample_are_bad_rows(make_app, services_of):
    app = make_app(ingest_mode="inline", max_line_kb=1)
    services = services_of(app)
    body = "".join(f"2024-01-{d % 28 + 1:02d},{d}\n" for d in range(5000))
    data = ("date,revenue\n" + body + "31/01/2024,7\n").encode()
    with app.server.app_context():
        view = upload(services, data)
    assert view["status"] in READABLE and view["skippedRows"] == 1
    assert view["rowErrors"][0]["message"] == (
        "row 5001, column date: '31/01/2024' is not a date in the format "
        "ISO 8601 (YYYY-MM-DD)"
    )


def test_problems_after_the_sample_fail_the_version_with_the_reason(
    make_app, services_of
):
    app = make_app(ingest_mode="inline", max_line_kb=1, max_rows=6000)
    services = services_of(app)
    body = "".join(f"2024-01-{d % 28 + 1:02d},{d}\n" for d in range(5000)).encode()
    cases = {
        "long line": (
            body + b"2024-01-01," + b"9" * 2000 + b"\n",
            "Line 5002 is longer",
        ),
        "bad utf-8": (body + b"2024-01-01,\xff\n", "not valid utf-8 text near byte"),
        "NUL byte": (body + b"2024-01-01,\x001\n", "NUL bytes"),
        "rows": (body * 2, "more than 6,000 rows"),
    }
    with app.server.app_context():
        for name, (tail, message) in cases.items():
            view = upload(services, b"date,revenue\n" + tail, name=name)
            assert view["status"] == "failed" and message in view["error"], name
            assert records(services, view["id"]) == []


def test_over_the_upload_limit_nothing_is_stored(make_app, services_of):
    app = make_app(ingest_mode="inline", max_upload_mb=1)
    services = services_of(app)
    data = rows_csv(["1"] * 100_000)
    assert len(data) > 1024 * 1024
    with app.server.app_context(), pytest.raises(TooLarge, match="1 MB upload limit"):
        upload(services, data)
    assert services.mongo.datasets.count_documents({}) == 0
    assert services.store.list("") == []


def test_choice_errors_store_nothing(ctx, sample_bytes):
    services, _ = ctx
    with pytest.raises(Unprocessable, match="no column 'sales'"):
        upload(services, sample_bytes, metric_columns=("sales",))
    assert services.mongo.datasets.count_documents({}) == 0
    assert services.store.list("") == []


def test_preview_stores_nothing(ctx):
    services, _ = ctx
    data = b"date,email,revenue\n2024-01-01,a@b.io,$5\n2024-01-02,c@d.io,$6\n"
    preview = datasets.preview_upload(services, OWNER, io.BytesIO(data), filename="x")
    assert [c["role"] for c in preview["columns"]] == ["time", "personal", "metric"]
    assert preview["rows"][0] == {"date": "2024-01-01", "email": "•••", "revenue": "$5"}
    assert preview["complete"] and services.store.list("") == []


def test_progress_and_reprocess_conflict_while_a_run_is_live(ctx, sample_bytes):
    services, _ = ctx
    view = upload(services, sample_bytes)
    services.mongo.datasets.update_one(
        {"datasetId": view["id"]},
        {"$set": {"status": "processing", "heartbeatAt": repository.now(),
                  "progress": {"rowsDone": 3, "rowsTotal": 7}}},
    )  # fmt: skip
    progress = datasets.get_progress(services, OWNER, view["id"])
    assert progress["percent"] == pytest.approx(42.9) and not progress["stalled"]
    with pytest.raises(Conflict, match="being processed right now"):
        datasets.reprocess_dataset(services, OWNER, view["id"])


def test_fast_in_process_paths_match_mongomock(ctx):
    """The in-process insert/delete shortcuts store and remove what mongomock would."""
    services, _ = ctx
    rows = [
        {"datasetId": "a" * 32, "version": 1, "r": 1, "row": i,
         "t": pd.Timestamp("2024-01-01T10:00:00.123456+02:00").to_pydatetime(),
         "m": {"c1": float(i) if i % 2 else None}, "d": {"c2": f"x{i}"}}
        for i in range(20)
    ]  # fmt: skip
    mongomock_insert = bulk.MONGOMOCK_METHODS["insert_many"]
    mongomock_delete = bulk.MONGOMOCK_METHODS["delete_many"]
    mongomock_insert(services.mongo.plain, [dict(r) for r in rows])
    repository.insert_many(services.mongo, "records", [dict(r) for r in rows])

    def read(name):
        return list(services.mongo[name].find({}, {"_id": 0}).sort("row", 1))

    assert read("plain") == read("records")
    query = {"datasetId": "a" * 32, "version": 1, "r": {"$ne": 2}, "row": {"$lt": 5}}
    expected = mongomock_delete(services.mongo.plain, query).deleted_count
    assert repository.delete_where(services.mongo.records, query) == expected == 5
    assert read("plain") == read("records")
    assert np.isclose(read("records")[0]["m"]["c1"], 5.0)
    older = {"datasetId": "a" * 32, "version": 1, "r": {"$lt": 2}, "row": {"$lt": 9}}
    expected = mongomock_delete(services.mongo.plain, older).deleted_count
    assert repository.delete_where(services.mongo.records, older) == expected == 4
    newer = {"datasetId": "a" * 32, "version": 1, "r": {"$lt": 1}}
    assert repository.delete_where(services.mongo.records, newer) == 0
    assert read("plain") == read("records")


def test_ingest_writes_records_and_rollups_through_the_bulk_shortcut(
    ctx, sample_bytes, monkeypatch
):
    """Records and roll-ups never need mongomock's per-document insert (the slow
    path that dominated ingest time)."""
    services, _ = ctx
    per_document = mongomock.collection.Collection._insert

    def refuse_derived(collection, *args, **kwargs):
        assert collection.name not in ("records", "rollups"), "slow insert path"
        return per_document(collection, *args, **kwargs)

    monkeypatch.setattr(mongomock.collection.Collection, "_insert", refuse_derived)
    view = upload(services, sample_bytes)
    assert view["status"] == "cached" and len(records(services, view["id"])) == 7
    assert services.mongo.rollups.count_documents({"datasetId": view["id"]}) > 0


def test_time_offsets_and_chunks_that_fall_back_to_cell_checks(make_app, services_of):
    """Chunks of clean times are parsed by the reader, others cell by cell; both
    give the same UTC instants."""
    app = make_app(ingest_mode="inline", ingest_chunk_rows=100)
    services = services_of(app)
    clean = [f"2024-01-01T{h % 24:02d}:00:00+02:00" for h in range(100)]
    mixed = ["2024-01-05T10:00:00Z", "2024-01-05T12:00:00+05:30", "2024-01-05"] * 33
    mixed += ["oops"]
    naive = [f"2024-02-01 {h % 24:02d}:30" for h in range(100)]
    lines = ["time,value"] + [f"{t},1" for t in clean + mixed + naive]
    with app.server.app_context():
        view = upload(services, ("\n".join(lines) + "\n").encode())
    stored = records(services, view["id"])
    assert view["skippedRows"] == 1 and view["rowErrors"][0]["row"] == 200
    expected = pd.to_datetime(clean + mixed[:-1] + naive, format="ISO8601", utc=True)
    assert [r["t"] for r in stored] == [t.to_pydatetime() for t in expected]
