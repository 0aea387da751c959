"""Browser test of the audit page: a manager reads what was done with their
account, narrows it to one kind of action, and the page stays accessible."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.support.ui import Select

from tests.api_calls import upload_sample
from tests.conftest import ARTIFACTS, register_user
from tests.e2e.helpers import assert_accessible, sign_in_in_browser, wait_for
from tests.services import free_port

pytestmark = pytest.mark.browser


def table_text(dash_duo) -> str:
    found = dash_duo.driver.find_elements("css selector", "#audit-table")
    return found[0].text if found else ""


def test_manager_reads_and_filters_the_audit_trail(dash_duo, make_app):
    """Uploads, a share link opened, token calls and sign-ins are listed in words;
    choosing "Dataset uploaded" leaves only the upload."""
    app = make_app(ingest_mode="inline")
    dash_duo.start_server(app, port=free_port())
    client = app.server.test_client()
    user = register_user(client)
    dataset_id = upload_sample(client, user, name="Quarterly sales")
    link = client.post(
        "/api/shares",
        headers=user["headers"],
        json={"datasetId": dataset_id, "page": "analysis", "query": {}},
    ).get_json()
    app.server.test_client().get(urlsplit(link["url"]).path)
    token = client.post(
        "/api/auth/tokens", headers=user["headers"], json={"name": "Finance export"}
    ).get_json()["token"]
    client.get("/api/datasets", headers={"Authorization": f"Bearer {token}"})
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(f"{dash_duo.server_url}/audit")
    dash_duo.wait_for_element("#audit-page", timeout=15)
    wait_for(lambda: "Share link opened" in table_text(dash_duo), message="events")
    text = table_text(dash_duo)
    for words in ("Dataset uploaded", "Quarterly sales", "API call with a token",
                  "API token created", "Sign-in"):  # fmt: skip
        assert words in text, words
    assert "Audit" in dash_duo.find_element("#navbar-collapse").text
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.set_window_size(1366, 1100)
    time.sleep(0.5)
    dash_duo.find_element("#audit-page").screenshot(str(ARTIFACTS / "audit-page.png"))
    dash_duo.driver.set_window_size(1366, 768)
    assert_accessible(dash_duo, state="audit page, a user's events")

    Select(dash_duo.find_element("#audit-action")).select_by_value("dataset_upload")
    wait_for(lambda: "Sign-in" not in table_text(dash_duo), message="the filter")
    assert "Dataset uploaded" in table_text(dash_duo)
    assert "Events 1–1" in dash_duo.find_element("#audit-page-text").text
    assert_accessible(dash_duo, state="audit page, filtered to uploads")
