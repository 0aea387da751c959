"""Browser tests of share links and embedding (issue 15): an analyst shares a view,
a manager opens it in a fresh browser without an account, an intranet page on
another origin embeds it, and Chromium refuses the frame for origins not allowed."""

from __future__ import annotations

import http.server
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.support.ui import Select

from tests.conftest import ARTIFACTS
from tests.e2e.helpers import assert_accessible, click, sign_up_in_browser
from tests.e2e.test_dashboard import open_sample_analysis, screenshot, wait_for
from tests.services import free_port

pytestmark = pytest.mark.browser
LAPTOP = (1366, 768)
EMBEDDER_HOST = "127.0.0.2"


def csp_refusals(dash_duo) -> list[str]:
    """Content-Security-Policy refusals the browser logged since the last call."""
    return [
        entry["message"]
        for entry in dash_duo.driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def test_a_manager_opens_a_shared_view_without_an_account(dash_duo, make_app):
    """The analyst creates a link from the view's Share dialog (the metric is
    locked by default); in a browser with no cookies the link shows the view
    read-only: no navbar, no way into the app, the locked metric fixed, the other
    controls working, and no script the policy refuses."""
    dash_duo.start_server(make_app(), port=free_port())
    sign_up_in_browser(
        dash_duo, f"analyst-{uuid.uuid4().hex[:8]}@example.com", "a long password 1"
    )
    open_sample_analysis(dash_duo)
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    click(dash_duo, "#share-open")
    click(dash_duo, "#share-create")
    url = wait_for(
        lambda: dash_duo.find_element("#share-url").get_attribute("value"),
        20,
        "the new link",
    )
    assert "/share/ibs_" in url
    wait_for(
        lambda: dash_duo.driver.find_elements("css selector", ".ib-share-table"),
        15,
        "the link in the dialog's list",
    )
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / "share-dialog-1366x768.png"))
    dash_duo.driver.get(dash_duo.server_url + "/account")
    rows = wait_for(
        lambda: dash_duo.driver.find_elements(
            "css selector", ".ib-share-table tbody tr"
        ),
        15,
        "the link on /account",
    )
    assert "Metric" in rows[0].text and "Revoke" in rows[0].text
    screenshot(dash_duo, "share-account", LAPTOP)

    dash_duo.driver.delete_all_cookies()  # a fresh browser: no account at all
    dash_duo.driver.get(dash_duo.server_url + urlsplit(url).path)
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    assert dash_duo.driver.get_cookies() == []  # the page sets none either
    assert "Shared view" in dash_duo.find_element("#share-badge").text
    assert not dash_duo.driver.find_elements("css selector", "#navbar, #share-open")
    links = dash_duo.driver.find_elements("css selector", "a[href]")
    assert all("/datasets" not in (a.get_attribute("href") or "") for a in links)
    assert not dash_duo.find_element("#analysis-metric").is_enabled()
    assert_accessible(dash_duo, state="shared analysis view")
    screenshot(dash_duo, "share-manager", LAPTOP)

    Select(dash_duo.find_element("#analysis-method")).select_by_value("zscore")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "none found", timeout=30)
    assert "method=zscore" in dash_duo.driver.current_url
    assert urlsplit(dash_duo.driver.current_url).path == urlsplit(url).path
    assert csp_refusals(dash_duo) == []


class EmbedderPage(http.server.BaseHTTPRequestHandler):
    """An intranet page on another origin that frames a share link."""

    frame_url = ""

    def do_GET(self):
        body = (
            "<!DOCTYPE html><html><head><title>Intranet</title></head>"
            "<body style='margin:0;font-family:sans-serif;background:#eef1f5'>"
            "<h1 style='font-size:18px;margin:12px 16px'>Sales intranet</h1>"
            f"<iframe id='embedded' src='{self.frame_url}' title='Revenue'"
            " style='width:1100px;height:640px;border:1px solid #ccd;"
            "margin:0 16px;background:#fff'></iframe></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def serve_embedder(port: int, frame_url: str) -> http.server.ThreadingHTTPServer:
    """Serve EmbedderPage on 127.0.0.2:port (another origin than the app's)."""
    handler = type("Page", (EmbedderPage,), {"frame_url": frame_url})
    server = http.server.ThreadingHTTPServer((EMBEDDER_HOST, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def share_link(app, query: dict | None = None) -> str:
    """An owner, the sample dataset and a link to it, made through the API."""
    from tests.api_calls import upload_sample

    api = app.server.test_client()
    credentials = {
        "email": f"o-{uuid.uuid4().hex[:8]}@example.com",
        "password": "a long password 2",
    }
    api.post("/api/auth/register", json=credentials)
    token = api.post("/api/auth/login", json=credentials).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    dataset = upload_sample(api, {"headers": headers})
    created = api.post(
        "/api/shares",
        headers=headers,
        json={"datasetId": dataset, "page": "analysis", "query": query or {}},
    )
    assert created.status_code == 201, created.get_json()
    return urlsplit(created.get_json()["url"]).path


def test_an_intranet_page_embeds_the_view_only_from_an_allowed_origin(
    dash_duo, make_app
):
    """?embed=1 fills the frame without chrome when the embedding origin is in
    EMBED_ALLOWED_ORIGINS; from any other origin Chromium refuses the frame."""
    allowed_port, other_port = free_port(), free_port()
    app = make_app(
        ingest_mode="inline",
        embed_allowed_origins=f"http://{EMBEDDER_HOST}:{allowed_port}",
    )
    dash_duo.start_server(app, port=free_port())
    frame_url = (
        dash_duo.server_url + share_link(app, {"metric": "revenue"}) + "?embed=1"
    )
    servers = [serve_embedder(port, frame_url) for port in (allowed_port, other_port)]
    try:
        driver = dash_duo.driver
        driver.get(f"http://{EMBEDDER_HOST}:{allowed_port}/")
        driver.switch_to.frame(driver.find_element("css selector", "#embedded"))
        dash_duo.wait_for_text_to_equal(
            "#analysis-anomaly-count", "3 found", timeout=30
        )
        assert driver.find_elements("css selector", ".ib-embed")
        assert_accessible(dash_duo, state="embedded shared view (in its frame)")
        assert not driver.find_elements("css selector", "#navbar, #analysis-method")
        width = driver.execute_script("return document.body.scrollWidth")
        assert (
            width <= 1100
            and driver.find_element("css selector", "#analysis-timeseries").size[
                "width"
            ]
            > 900
        )  # fills its frame
        driver.switch_to.default_content()
        ARTIFACTS.mkdir(exist_ok=True)
        time.sleep(1.0)
        driver.save_screenshot(str(ARTIFACTS / "share-embedded-1366x768.png"))
        assert csp_refusals(dash_duo) == []

        driver.get(f"http://{EMBEDDER_HOST}:{other_port}/")
        time.sleep(2.0)
        refused = csp_refusals(dash_duo)
        assert any("frame-ancestors" in message for message in refused), refused
        driver.switch_to.frame(driver.find_element("css selector", "#embedded"))
        assert not driver.find_elements("css selector", "#analysis-page")
        driver.switch_to.default_content()
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
