"""Reports through the REST API: the PDF says what the analytics and KPI APIs say,
HTML is self-contained, files are owner-scoped, deleted with their dataset, on S3
downloaded through a presigned URL; bad requests get 4xx naming the problem."""

from __future__ import annotations

import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest

from tests.api_calls import upload_sample
from tests.conftest import ARTIFACTS, build_app, register_user
from tests.kpi_data import small_events, upload_events


@pytest.fixture(scope="module")
def reports_app(database_url, tmp_path_factory):
    """Inline ingest and reports; a user with the sample dataset, a stranger."""
    app = build_app(
        database_url, tmp_path_factory.mktemp("reports"), ingest_mode="inline"
    )
    client = app.server.test_client()
    user, stranger = register_user(client), register_user(client)
    dataset_id = upload_sample(client, user, name="January Sales")
    yield client, user, stranger, dataset_id
    app.server.extensions["insightboard"].close()


def generate(client, user, **body):
    return client.post("/api/reports/generate", json=body, headers=user["headers"])


def finished(client, user, report_id: str, limit_s: float = 120) -> dict:
    """Poll the report until it is done or failed (bounded; not a timing test)."""
    deadline = time.monotonic() + limit_s
    while True:
        report = client.get(f"/api/reports/{report_id}", headers=user["headers"])
        assert report.status_code == 200, report.get_json()
        body = report.get_json()
        if body["status"] in ("done", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def download(client, user, report: dict, fmt: str) -> bytes:
    response = client.get(report["downloads"][fmt], headers=user["headers"])
    assert response.status_code == 200, response.data[:200]
    return response.data


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def first_page_png(pdf: bytes, tmp_path: Path, name: str) -> Path:
    """Page 1 rendered by pdftoppm, kept in tests/artifacts for people to look at."""
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
         str(path), str(target.with_suffix(""))],
        check=True,
    )  # fmt: skip
    return target


def thousands(value: float) -> str:
    """The oracle's formatting: whole numbers with thousands separators."""
    return f"{round(value):,}"


def test_pdf_states_the_numbers_the_analytics_api_returns(reports_app, tmp_path):
    client, user, _stranger, dataset_id = reports_app
    query = {"metric": "revenue", "method": "modified_zscore"}
    api_view = client.get(
        f"/api/analytics/{dataset_id}?metric=revenue&method=modified_zscore",
        headers=user["headers"],
    ).get_json()
    response = generate(
        client, user, datasetId=dataset_id, params=query, formats=["pdf", "html"]
    )
    assert response.status_code == 202, response.get_json()
    report = finished(client, user, response.get_json()["id"])
    assert report["status"] == "done", report
    assert report["progress"] == 100 and report["generationMs"] > 0
    pdf = download(client, user, report, "pdf")
    assert pdf.startswith(b"%PDF") and report["files"]["pdf"]["sizeBytes"] == len(pdf)
    text = pdf_text(pdf, tmp_path)
    assert "January Sales" in text and "version 1" in text
    dates = [a["t"][:10] for a in api_view["anomalies"]]
    assert dates == ["2024-01-03", "2024-01-15", "2024-01-27"]
    for date in dates:
        assert date in text
    summary = api_view["summary"]
    for name in ("mean", "median", "std_pop", "min", "max"):
        assert thousands(summary[name]) in text, name
    assert api_view["insights"][0][:40] in " ".join(text.split())
    png = first_page_png(pdf, tmp_path, "report-analysis-page1.png")
    assert png.stat().st_size > 10_000


def test_html_report_is_self_contained(reports_app):
    client, user, _stranger, dataset_id = reports_app
    response = generate(client, user, datasetId=dataset_id, formats=["html"])
    report = finished(client, user, response.get_json()["id"])
    assert report["status"] == "done" and list(report["files"]) == ["html"]
    html = download(client, user, report, "html").decode()
    assert html.count('src="data:image/png;base64,') == 3
    assert "http://" not in html and "https://" not in html
    assert "January Sales" in html and "36,686" in html


def test_kpi_report_states_the_kpi_api_values(reports_app, tmp_path):
    client, user, _stranger, _dataset_id = reports_app
    events_id = upload_events(client, user, small_events(), name="Web events")
    params = {"measures": "dau,sessions,revenue", "from": "2026-11-20",
              "to": "2026-11-26", "compare": "wow"}  # fmt: skip
    query = "&".join(f"{key}={value}" for key, value in params.items())
    api_view = client.get(
        f"/api/kpi/{events_id}?{query}", headers=user["headers"]
    ).get_json()
    response = generate(client, user, datasetId=events_id, page="kpi", params=params)
    assert response.status_code == 202, response.get_json()
    report = finished(client, user, response.get_json()["id"])
    assert report["status"] == "done", report
    text = pdf_text(download(client, user, report, "pdf"), tmp_path)
    assert "KPI report: Web events" in text and "2026-11-20 to 2026-11-26" in text
    for measure in api_view["measures"]:
        assert measure["label"] in text
        assert thousands(measure["value"]) in text, measure["name"]


def test_reports_are_owner_scoped(reports_app):
    client, user, stranger, dataset_id = reports_app
    created = generate(client, user, datasetId=dataset_id).get_json()
    report_id = created["id"]
    path = f"/api/reports/{report_id}"
    assert client.get(path, headers=stranger["headers"]).status_code == 404
    assert (
        client.get(f"{path}/download/pdf", headers=stranger["headers"]).status_code
        == 404
    )
    assert client.delete(path, headers=stranger["headers"]).status_code == 404
    listed = client.get("/api/reports", headers=stranger["headers"]).get_json()
    assert listed == {"reports": []}
    refused = generate(client, stranger, datasetId=dataset_id)
    assert refused.status_code == 404
    mine = client.get("/api/reports", headers=user["headers"]).get_json()["reports"]
    assert report_id in [r["id"] for r in mine]
    assert client.get(path).status_code == 401
    assert client.delete(path, headers=user["headers"]).status_code == 204
    assert client.get(path, headers=user["headers"]).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"page": "analysis"}, "datasetId"),
        ({"page": "sales"}, "page"),
        ({"formats": ["docx"]}, "formats"),
        ({"formats": []}, "formats"),
        ({"version": 0}, "version"),
        ({"params": {"metric": "profit"}}, "metric"),
        ({"params": {"colour": "red"}}, "colour"),
        ({"title": "mine"}, "title"),
    ],
)
def test_bad_requests_name_the_problem(reports_app, body, field):
    client, user, _stranger, dataset_id = reports_app
    request = {"datasetId": dataset_id, **body} if field != "datasetId" else body
    response = generate(client, user, **request)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field or field in error["message"], error


def test_unknown_report_and_format_are_404(reports_app):
    client, user, _stranger, dataset_id = reports_app
    assert client.get("/api/reports/nope", headers=user["headers"]).status_code == 404
    missing = f"/api/reports/{uuid.uuid4()}"
    assert client.get(missing, headers=user["headers"]).status_code == 404
    report = generate(client, user, datasetId=dataset_id).get_json()
    wrong = client.get(
        f"/api/reports/{report['id']}/download/html", headers=user["headers"]
    )
    assert wrong.status_code == 404 and "html" in wrong.get_json()["error"]["message"]


def test_reports_are_deleted_with_their_dataset(make_app, new_user):
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    services = app.server.extensions["insightboard"]
    dataset_id = upload_sample(client, user)
    kept_id = upload_sample(client, user, name="Other")
    report = generate(client, user, datasetId=dataset_id).get_json()
    kept = generate(client, user, datasetId=kept_id).get_json()
    assert services.store.list(f"reports/{user['id']}/{dataset_id}/")
    deleted = client.delete(f"/api/datasets/{dataset_id}", headers=user["headers"])
    assert deleted.status_code == 204
    gone = client.get(f"/api/reports/{report['id']}", headers=user["headers"])
    assert gone.status_code == 404
    assert services.store.list(f"reports/{user['id']}/{dataset_id}/") == []
    still = client.get(f"/api/reports/{kept['id']}", headers=user["headers"])
    assert still.status_code == 200 and still.get_json()["status"] == "done"


def test_oversized_report_fails_naming_the_limit(make_app, new_user):
    app = make_app(ingest_mode="inline", report_max_kb=16)
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    report = generate(client, user, datasetId=dataset_id).get_json()
    assert report["status"] == "failed" and report["files"] == {}
    assert "16 KB" in report["error"] and "REPORT_MAX_KB" in report["error"]


def test_background_generation_reports_progress(make_app, new_user):
    app = make_app(ingest_mode="thread")
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    processed = client.get(f"/api/analytics/{dataset_id}", headers=user["headers"])
    for _ in range(300):
        if processed.status_code == 200:
            break
        time.sleep(0.1)
        processed = client.get(f"/api/analytics/{dataset_id}", headers=user["headers"])
    response = generate(client, user, datasetId=dataset_id)
    assert response.status_code == 202
    assert response.get_json()["status"] in ("queued", "running", "done")
    report = finished(client, user, response.get_json()["id"])
    assert report["status"] == "done" and report["progress"] == 100


def test_s3_reports_download_through_a_presigned_url(make_app, new_user, s3_endpoint):
    bucket = f"reports-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    app = make_app(ingest_mode="inline", s3_bucket=bucket, s3_endpoint_url=s3_endpoint)
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    report = generate(client, user, datasetId=dataset_id).get_json()
    link = report["downloads"]["pdf"]
    assert link.startswith(s3_endpoint) and "Expires" in link
    with urllib.request.urlopen(link) as response:  # moto on 127.0.0.1
        assert response.read().startswith(b"%PDF")
    redirect = client.get(
        f"/api/reports/{report['id']}/download/pdf", headers=user["headers"]
    )
    assert redirect.status_code == 302 and redirect.location.startswith(s3_endpoint)
