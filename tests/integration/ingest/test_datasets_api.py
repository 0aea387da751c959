"""The datasets REST API: the user's journey and every bad input from issue 4,
each answered with a clear error and nothing half-stored (never a 500)."""

from __future__ import annotations

import gzip
import io
import json
import threading

import pytest

from tests.api_calls import post_file
from tests.integration.ingest.conftest import (
    READABLE,
    fail_first_run,
    meet_before_reserving,
    wait_for_status,
)


@pytest.fixture
def api(make_app, new_user):
    """(client, user) on an app that processes uploads inline."""
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    return client, new_user(client)


def stored_datasets(client, user) -> list:
    response = client.get("/api/datasets", headers=user["headers"])
    assert response.status_code == 200
    return response.get_json()["datasets"]


def test_upload_list_show_reprocess_and_delete(api, sample_bytes):
    """A user uploads the sample twice (two versions), follows progress, lists,
    reprocesses and deletes."""
    client, user = api
    first = post_file(
        client, user, sample_bytes, timeColumn="date", metricColumn="revenue"
    )
    assert first.status_code == 202
    body = first.get_json()
    dataset_id = body["id"]
    assert (body["version"], body["metricColumns"]) == (1, ["revenue"])
    second = post_file(client, user, sample_bytes + b"2024-01-31,5,1\n")
    assert second.status_code == 202 and second.get_json()["version"] == 2
    again = post_file(
        client, user, sample_bytes, timeColumn="date", metricColumn="revenue"
    )
    assert again.status_code == 200 and again.get_json()["version"] == 1

    progress = client.get(
        f"/api/datasets/{dataset_id}/progress", headers=user["headers"]
    )
    assert progress.get_json()["status"] in READABLE
    (listed,) = stored_datasets(client, user)
    assert listed["latestVersion"] == 2 and listed["status"] in READABLE
    shown = client.get(f"/api/datasets/{dataset_id}?version=1", headers=user["headers"])
    assert shown.get_json()["rowCount"] == 7
    assert [c["role"] for c in shown.get_json()["columns"]] == [
        "time",
        "metric",
        "metric",
    ]

    redo = client.post(f"/api/datasets/{dataset_id}/reprocess", headers=user["headers"],
                       json={"version": 1})  # fmt: skip
    assert redo.status_code == 202 and redo.get_json()["revision"] == 2
    deleted = client.delete(f"/api/datasets/{dataset_id}", headers=user["headers"])
    assert deleted.status_code == 204 and deleted.data == b""
    gone = client.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "not_found"
    assert stored_datasets(client, user) == []


def derived_counts(services, redis_client, owner_id: str, dataset_id: str) -> dict:
    """How much of one dataset exists in each place it is kept."""
    counts = {
        name: services.mongo[name].count_documents({"datasetId": dataset_id})
        for name in ("datasets", "records", "rollups", "analytics")
    }
    counts["files"] = len(services.store.list(f"datasets/{owner_id}/{dataset_id}/"))
    counts["redis keys"] = len(list(redis_client.scan_iter(match=f"*{dataset_id}*")))
    return counts


def test_delete_removes_every_trace_in_mongo_the_store_and_redis(
    make_app, new_user, services_of, redis_server, sample_bytes
):
    """Two versions with analytics cached in a real Redis, then DELETE: nothing of
    the dataset is left anywhere; the user's other dataset is untouched."""
    import redis

    app = make_app(ingest_mode="inline", redis_url=redis_server.url)
    client, services = app.server.test_client(), services_of(app)
    user = new_user(client)
    doomed = post_file(client, user, sample_bytes).get_json()
    second = post_file(client, user, sample_bytes + b"2024-01-31,5,1\n").get_json()
    kept = post_file(client, user, sample_bytes, datasetName="Other").get_json()
    assert second["version"] == 2 and second["id"] == doomed["id"]
    assert {doomed["status"], second["status"], kept["status"]} == {"cached"}
    cache = redis.Redis.from_url(redis_server.url)
    with app.server.app_context():
        before = derived_counts(services, cache, user["id"], doomed["id"])
        kept_before = derived_counts(services, cache, user["id"], kept["id"])
    assert before["datasets"] == 2 and before["files"] == 4  # source + meta each
    assert before["records"] == 15 and before["analytics"] >= 2
    assert before["rollups"] > 0 and before["redis keys"] >= 2

    deleted = client.delete(f"/api/datasets/{doomed['id']}", headers=user["headers"])

    assert deleted.status_code == 204
    with app.server.app_context():
        after = derived_counts(services, cache, user["id"], doomed["id"])
        assert derived_counts(services, cache, user["id"], kept["id"]) == kept_before
    assert after == dict.fromkeys(before, 0)
    assert [d["id"] for d in stored_datasets(client, user)] == [kept["id"]]


PEOPLE = [
    ("alice.martin@example.com", "Alice Martin", "+41 79 123 45 67"),
    ("bob.keller@example.org", "Bob Keller", "+41 78 765 43 21"),
    ("carla.rossi@example.net", "Carla Rossi", "+39 347 555 0199"),
]


def test_personal_columns_are_shown_by_role_and_their_values_never_stored(api):
    """email, name and phone columns: the role is shown; the values appear in no
    record, roll-up, stored meta.json or API view."""
    client, user = api
    lines = ["date,email,name,phone,region,revenue"] + [
        f"2024-01-{day:02d},{email},{name},{phone},{'north' if day % 2 else 'south'},"
        f"{day * 10}"
        for day in range(1, 22)
        for email, name, phone in [PEOPLE[day % 3]]
    ]
    response = post_file(client, user, ("\n".join(lines) + "\n").encode())
    assert response.status_code == 202
    dataset_id = response.get_json()["id"]
    shown = client.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    view = shown.get_json()
    assert view["status"] in READABLE and view["rowCount"] == 21
    roles = {column["name"]: column["role"] for column in view["columns"]}
    assert roles == {
        "date": "time", "email": "personal", "name": "personal",
        "phone": "personal", "region": "dimension", "revenue": "metric",
    }  # fmt: skip
    assert view["dimensionColumns"] == ["region"]
    services = client.application.extensions["insightboard"]
    meta_key = f"datasets/{user['id']}/{dataset_id}/v1/meta.json"
    stored = {
        "upload response": response.get_data(as_text=True),
        "dataset view": shown.get_data(as_text=True),
        "list": client.get("/api/datasets", headers=user["headers"]).get_data(
            as_text=True
        ),
        "meta.json": services.store.get(meta_key).decode(),
        **{
            name: repr(list(services.mongo[name].find({"datasetId": dataset_id})))
            for name in ("records", "rollups", "datasets")
        },
    }
    assert "north" in stored["records"] and "210.0" in stored["records"]
    secrets = [value for person in PEOPLE for value in person]
    secrets += [email.split("@")[0] for email, _, _ in PEOPLE]  # local parts
    secrets += [phone.replace(" ", "") for _, _, phone in PEOPLE]
    for place, text in stored.items():
        assert [value for value in secrets if value in text] == [], place


def test_the_default_app_processes_in_the_background(client, new_user, sample_bytes):
    user = new_user(client)
    response = post_file(client, user, sample_bytes)
    assert response.status_code == 202
    dataset_id = response.get_json()["id"]

    def progress():
        url = f"/api/datasets/{dataset_id}/progress"
        return client.get(url, headers=user["headers"]).get_json()

    assert wait_for_status(progress)["percent"] == 100.0


def test_another_users_dataset_answers_404(api, new_user, sample_bytes):
    client, owner = api
    dataset_id = post_file(client, owner, sample_bytes).get_json()["id"]
    intruder = new_user(client)
    headers = intruder["headers"]
    for method, path in [
        ("get", f"/api/datasets/{dataset_id}"),
        ("get", f"/api/datasets/{dataset_id}/progress"),
        ("post", f"/api/datasets/{dataset_id}/reprocess"),
        ("delete", f"/api/datasets/{dataset_id}"),
    ]:
        response = getattr(client, method)(path, headers=headers)
        assert response.status_code == 404, path
    assert stored_datasets(client, intruder) == []
    assert len(stored_datasets(client, owner)) == 1


def test_anonymous_requests_are_refused(api, sample_bytes):
    client, _ = api
    response = client.post(
        "/api/datasets/upload",
        data={"file": (io.BytesIO(sample_bytes), "a.csv"), "datasetName": "x"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 401
    assert client.get("/api/datasets").status_code == 401


def deep_json() -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


def wide_csv() -> bytes:
    return (",".join(f"c{i}" for i in range(10_000)) + "\n").encode() * 2


BAD_UPLOADS = [
    ("png_named_csv", b"\x89PNG\r\n\x1a\n" + bytes(500), "x.csv", 415, "PNG image"),
    ("gzip_bomb", gzip.compress(b"0" * 50_000_000), "bomb.csv", 415, "gzip"),
    ("nul_bytes", b"date,revenue\n2024-01-01,\x001\n", "n.csv", 415, "NUL bytes"),
    ("single_50mb_line", b"x" * 50 * 1024 * 1024, "l.csv", 413, "1024 KB line limit"),
    ("50mb_line_after_header", b"date,revenue\n2024-01-01," + b"9" * 50 * 1024 * 1024,
     "l2.csv", 413, "Line 2 is longer than the 1024 KB line limit"),
    ("utf16_50mb_line_after_header",
     ("date,revenue\n2024-01-01," + "9" * 50 * 1024 * 1024).encode("utf-16"),
     "l3.csv", 413, "Line 2 is longer than the 1024 KB line limit"),
    ("utf32_10mb_line_after_header",
     ("date,revenue\n2024-01-01," + "9" * 10 * 1024 * 1024).encode("utf-32"),
     "l4.csv", 413, "Line 2 is longer than the 1024 KB line limit"),
    ("1.5mb_header_line",
     ("date,revenue" + ",x" * 800_000 + "\n2024-01-01,1\n").encode(),
     "l5.csv", 413, "Line 1 is longer than the 1024 KB line limit"),
    ("1.5mb_line_in_a_small_file",
     ("date,revenue\n2024-01-01," + "9" * 1_500_000 + "\n2024-01-02,1\n").encode(),
     "l6.csv", 413, "Line 2 is longer than the 1024 KB line limit"),
    ("10000_columns", wide_csv(), "w.csv", 413, "10000 columns; the limit is 500"),
    ("deep_json", deep_json(), "d.json", 422, "nested too deeply"),
    ("empty", b"", "e.csv", 422, "The file is empty"),
    ("header_only", b"date,revenue\n", "h.csv", 422, "header row but no data rows"),
    ("duplicate_header", b"date,rev,rev\n2024-01-01,1,2\n", "d.csv", 422,
     "Duplicate column name 'rev'"),
    ("mixed_time_formats", b"date,v\n2024-01-01,1\n2024-01-02,2\n03/01/2024,3\n",
     "m.csv", 422, "mixes date formats"),
    ("ambiguous_dates", b"date,v\n01/02/2024,1\n03/04/2024,2\n", "a.csv", 422,
     "dayFirst"),
    ("plain_text", b"hello there\nthis is prose\n", "p.csv", 415,
     "does not look like a CSV"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "filename", "status", "message"),
    [case[1:] for case in BAD_UPLOADS],
    ids=[case[0] for case in BAD_UPLOADS],
)
def test_bad_files_get_a_clear_error_and_nothing_is_stored(
    api, data, filename, status, message
):
    client, user = api
    response = post_file(client, user, data, filename=filename)
    assert response.status_code == status, response.get_json()
    assert message in response.get_json()["error"]["message"]
    assert stored_datasets(client, user) == []


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"datasetName": ""}, 400, "datasetName is required"),
        ({"metricColumn": "sales"}, 422, "no column 'sales'"),
        ({"timeColumn": "revenue"}, 422, "is not a date"),
        ({"dimensionColumn": "revenue"}, 422, "already the time column or a metric"),
        ({"dayFirst": "perhaps"}, 400, "dayFirst must be true or false"),
    ],
)
def test_bad_form_fields(api, sample_bytes, form, status, message):
    client, user = api
    response = post_file(client, user, sample_bytes, **form)
    assert response.status_code == status
    assert message in response.get_json()["error"]["message"]


def test_requests_that_are_not_uploads(api):
    client, user = api
    as_json = client.post("/api/datasets/upload", headers=user["headers"], json={})
    assert as_json.status_code == 415
    no_file = client.post(
        "/api/datasets/upload", headers=user["headers"],
        data={"datasetName": "x"}, content_type="multipart/form-data",
    )  # fmt: skip
    assert no_file.status_code == 400 and "field named 'file'" in no_file.get_json()[
        "error"]["message"]  # fmt: skip
    bad_version = client.get("/api/datasets/" + "a" * 32 + "?version=x",
                             headers=user["headers"])  # fmt: skip
    assert bad_version.status_code == 400


def test_uploads_over_the_size_limit_get_413_naming_the_limit(make_app, new_user):
    app = make_app(ingest_mode="inline", max_upload_mb=1)
    client = app.server.test_client()
    user = new_user(client)
    big = b"date,revenue\n" + b"2024-01-01,1\n" * 250_000
    response = post_file(client, user, big)
    assert response.status_code == 413
    assert "1 MB" in response.get_json()["error"]["message"]
    assert stored_datasets(client, user) == []


def test_problems_in_the_data_rows_are_reported(api):
    """Latin-1 and UTF-16 files work; odd numbers, NaN/Infinity/empty cells,
    formula-like text and huge integers each get their documented treatment."""
    client, user = api
    text = "date,city,revenue,note\n" + "".join(
        f"2024-01-{d:02d},Zürich,{d},ok\n" for d in range(1, 20)
    )
    text += "2024-01-20,Genève,18446744073709551617,=1+1\n2024-01-21,Genève,NaN,+x\n"
    text += "2024-01-22,Genève,,@y\n2024-01-23,Genève,Infinity,-z\n"
    for encoding in ("latin-1", "utf-16"):
        response = post_file(
            client, user, text.encode(encoding), datasetName=encoding,
            dimensionColumn="note",
        )  # fmt: skip
        body = response.get_json()
        assert response.status_code == 202 and body["status"] in READABLE
        assert (body["rowCount"], body["skippedRows"]) == (22, 1)
        assert body["rowErrors"][0]["message"] == (
            "row 23, column revenue: 'Infinity' is not a finite number"
        )


HUGE = "1" + "0" * 400


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("big.csv", f"date,revenue\n2024-01-01,{HUGE}\n2024-01-02,5\n".encode()
         + b"".join(b"2024-01-%02d,1\n" % d for d in range(3, 21))),
        ("big.json", json.dumps(
            [{"date": "2024-01-01", "revenue": 10**400}]
            + [{"date": f"2024-01-{d:02d}", "revenue": 1} for d in range(2, 21)]
        ).encode()),
    ],
)  # fmt: skip
def test_integers_above_a_double_are_a_bad_row_not_an_internal_error(
    api, filename, data
):
    client, user = api
    response = post_file(client, user, data, filename=filename, metricColumn="revenue")
    body = response.get_json()
    assert response.status_code == 202 and body["status"] in READABLE, body
    assert (body["rowCount"], body["skippedRows"]) == (19, 1)
    assert body["rowErrors"][0]["message"] == (
        f"row 1, column revenue: '{HUGE[:39]}…' is too large to store as a number"
    )


def test_a_failed_version_says_why(api):
    client, user = api
    cells = "".join(
        f"2024-01-{d % 28 + 1:02d},{'x' if d % 3 == 0 else d}\n" for d in range(60)
    )
    response = post_file(client, user, b"date,revenue\n" + cells.encode(),
                         metricColumn="revenue")  # fmt: skip
    body = response.get_json()
    assert response.status_code == 202 and body["status"] == "failed"
    assert body["error"].startswith("20 of 60 rows (33.3%) have errors")
    history = [entry["status"] for entry in body["statusHistory"]]  # never cached
    assert history == ["uploaded", "processing", "failed"]


def test_a_failed_version_uploaded_again_is_retried_with_202(
    api, sample_bytes, monkeypatch
):
    client, user = api
    fail_first_run(monkeypatch)
    failed = post_file(client, user, sample_bytes)
    assert failed.status_code == 202 and failed.get_json()["status"] == "failed"
    retried = post_file(client, user, sample_bytes)
    body = retried.get_json()
    assert retried.status_code == 202, body
    assert (body["version"], body["status"], body["rowCount"]) == (1, "cached", 7)
    assert post_file(client, user, sample_bytes).status_code == 200
    (listed,) = stored_datasets(client, user)
    assert len(listed["versions"]) == 1


def test_path_traversal_file_names_are_only_displayed(api, sample_bytes):
    client, user = api
    body = post_file(
        client, user, sample_bytes, filename="../../etc/passwd.csv"
    ).get_json()
    assert body["originalName"] == "passwd.csv"
    assert body["status"] in READABLE


def test_the_same_file_uploaded_twice_concurrently(
    make_app, new_user, sample_bytes, monkeypatch, services_of
):
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    barrier = meet_before_reserving(monkeypatch, 2)
    answers = []

    def send():
        answers.append(post_file(app.server.test_client(), user, sample_bytes))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not barrier.broken  # both really raced for version 1
    assert sorted(a.status_code for a in answers) == [200, 202]
    assert {a.get_json()["version"] for a in answers} == {1}
    (listed,) = stored_datasets(client, user)
    assert len(listed["versions"]) == 1
    records = services_of(app).mongo.records.find({"datasetId": listed["id"]})
    assert sorted(r["row"] for r in records) == list(range(1, 8))


def test_preview_shows_the_schema_without_storing(api):
    client, user = api
    data = json.dumps(
        [{"when": "2024-01-01", "email": "a@b.io", "amount": "₹89,000"}] * 3
    ).encode()
    response = post_file(client, user, data, filename="p.json", path="preview")
    body = response.get_json()
    assert response.status_code == 200
    assert [(c["name"], c["role"], c["unit"]) for c in body["columns"]] == [
        ("when", "time", None), ("email", "personal", None), ("amount", "metric", "₹"),
    ]  # fmt: skip
    assert body["rows"][0]["email"] == "•••"
    assert stored_datasets(client, user) == []


def test_openapi_describes_every_dataset_operation(api):
    client, _ = api
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert set(paths["/api/datasets/{dataset_id}"]) == {"get", "delete"}
    for path, method in [
        ("/api/datasets/upload", "post"),
        ("/api/datasets/preview", "post"),
        ("/api/datasets", "get"),
        ("/api/datasets/{dataset_id}/progress", "get"),
        ("/api/datasets/{dataset_id}/reprocess", "post"),
    ]:
        assert "responses" in paths[path][method]
