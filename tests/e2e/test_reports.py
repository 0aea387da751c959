"""Browser tests of reports: the Report button on the analysis and KPI views, and
the /reports page with its downloads."""

from __future__ import annotations

import io

import pytest
import requests

from data import datasets
from data.ingest.schema import Choice
from tests.conftest import SAMPLE_CSV, register_user
from tests.e2e.helpers import assert_accessible, click, sign_in_in_browser
from tests.e2e.test_kpi_page import events_for, shot, wait_for
from tests.services import free_port

pytestmark = pytest.mark.browser


def sample_for(app, user: dict) -> str:
    """The processed sample sales file, owned by `user`."""
    services = app.server.extensions["insightboard"]
    with app.server.app_context():
        result = datasets.upload_dataset(
            services, user["id"], io.BytesIO(SAMPLE_CSV.read_bytes()),
            dataset_name="January Sales", choice=Choice("date", ("revenue",)),
        )  # fmt: skip
    return result["id"]


def status_text(dash_duo) -> str:
    elements = dash_duo.driver.find_elements("css selector", ".ib-report-status")
    return elements[0].text if elements else ""


def test_analyst_makes_reports_of_two_views_and_downloads_the_pdf(dash_duo, make_app):
    """Report on the analysis view (IQR chosen in the URL) and on the KPI view, then
    /reports lists both as done, and the PDF link downloads the file."""
    app = make_app(ingest_mode="inline")
    dash_duo.start_server(app, port=free_port())
    user = register_user(app.server.test_client())
    sales_id, events_id = sample_for(app, user), events_for(app, user)
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(f"{dash_duo.server_url}/reports")
    wait_for(lambda: "No reports yet" in dash_duo.find_element("#reports-list").text)
    assert_accessible(dash_duo, state="reports, none yet")

    dash_duo.driver.get(f"{dash_duo.server_url}/datasets/{sales_id}?method=iqr")
    dash_duo.wait_for_contains_text("#analysis-kpis", "36,686", timeout=60)
    click(dash_duo, ".ib-report-button")
    wait_for(lambda: "Report ready" in status_text(dash_duo), message="report ready")
    assert_accessible(dash_duo, state="analysis, report made")

    dash_duo.driver.get(f"{dash_duo.server_url}/kpi/{events_id}")
    wait_for(lambda: dash_duo.driver.find_elements("css selector", "#kpi-cards div"))
    click(dash_duo, ".ib-report-button")
    wait_for(lambda: "Report ready" in status_text(dash_duo), message="KPI report")

    click(dash_duo, ".ib-report-status a")
    wait_for(lambda: dash_duo.driver.current_url.endswith("/reports"))
    rows = wait_for(
        lambda: (
            len(dash_duo.driver.find_elements("css selector", "#reports-list tbody tr"))
            == 2
        ),
        message="two reports listed",
    )
    assert rows
    text = dash_duo.find_element("#reports-list").text
    assert "KPI report: Web events" in text and "Analysis report: January Sales" in text
    assert text.count("done") == 2
    shot(dash_duo, "reports-page")
    assert_accessible(dash_duo, state="reports, two done")

    link = dash_duo.driver.find_elements(
        "css selector", "#reports-list a[href*='/pdf']"
    )
    cookies = {c["name"]: c["value"] for c in dash_duo.driver.get_cookies()}
    pdf = requests.get(link[-1].get_attribute("href"), cookies=cookies, timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    api = app.server.test_client().get("/api/reports", headers=user["headers"])
    analysis = [r for r in api.get_json()["reports"] if r["page"] == "analysis"]
    assert analysis[0]["params"]["method"] == "iqr"
