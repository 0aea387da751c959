"""Browser tests of the KPI page (a manager's path through a web-analytics log)
and of the version comparison page."""

from __future__ import annotations

import io
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import Select

from data import datasets
from data.demo_events import DEMO_DIMENSIONS, DEMO_MEASURES, to_csv
from data.ingest.schema import Choice
from tests.conftest import ARTIFACTS, SAMPLE_CSV, register_user
from tests.e2e.helpers import assert_accessible, click, sign_in_in_browser, wait_for
from tests.kpi_data import small_events
from tests.services import free_port

pytestmark = pytest.mark.browser
CARDS = "#kpi-cards .ib-kpi-card"


def events_for(app, user: dict) -> str:
    """A processed event log with the demo measures, owned by `user`."""
    services = app.server.extensions["insightboard"]
    choice = Choice("timestamp", ("revenue",), DEMO_DIMENSIONS)
    with app.server.app_context():
        result = datasets.upload_dataset(
            services,
            user["id"],
            io.BytesIO(to_csv(small_events())),
            dataset_name="Web events",
            choice=choice,
            measures=DEMO_MEASURES,
        )
    return result["id"]


def cards_text(dash_duo) -> str:
    """The KPI cards' text ('' while they re-render)."""
    try:
        cards = dash_duo.driver.find_elements("css selector", CARDS)
        return " | ".join(card.text for card in cards)
    except StaleElementReferenceException:
        return ""


def selected(dash_duo, selector: str) -> str | None:
    """A select's chosen value (None while the page re-renders it)."""
    try:
        return Select(
            dash_duo.find_element(selector)
        ).first_selected_option.get_attribute("value")
    except StaleElementReferenceException:
        return None


def shot(dash_duo, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    time.sleep(1.0)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def test_manager_filters_by_source_compares_weeks_and_shares_the_link(
    dash_duo, make_app
):
    """Open the KPI page, filter by traffic source, switch to week over week, copy
    the link, and reopen it in a fresh session: the same view comes back."""
    app = make_app(ingest_mode="inline")
    dash_duo.start_server(app, port=free_port())
    user = register_user(app.server.test_client())
    dataset_id = events_for(app, user)
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(f"{dash_duo.server_url}/kpi/{dataset_id}")
    wait_for(
        lambda: len(dash_duo.driver.find_elements("css selector", CARDS)) == 5,
        message="five KPI cards",
    )
    first = cards_text(dash_duo)
    assert "daily active users" in first.lower() and "bounce rate" in first.lower()
    shot(dash_duo, "kpi-page-laptop")
    assert_accessible(dash_duo, state="KPI page, five cards")

    dash_duo.select_dcc_dropdown(".ib-kpi-filter-traffic_source", value="email")
    wait_for(lambda: "filter.traffic_source=email" in dash_duo.driver.current_url)
    wait_for(lambda: cards_text(dash_duo) != first, message="filtered cards")
    Select(dash_duo.find_element("#kpi-compare")).select_by_value("wow")
    wait_for(lambda: "compare=wow" in dash_duo.driver.current_url)
    wait_for(lambda: "last week" in cards_text(dash_duo), message="wow cards")
    filtered = cards_text(dash_duo)
    shot(dash_duo, "kpi-page-filtered-wow")
    assert_accessible(dash_duo, state="KPI page, filtered, week over week")

    click(dash_duo, "#kpi-copy-link")
    link = wait_for(
        lambda: dash_duo.find_element("#kpi-share-url").get_attribute("value")
    )
    assert "filter.traffic_source=email" in link and "compare=wow" in link

    dash_duo.driver.back()  # the filter stays, the comparison goes back
    wait_for(lambda: "compare=wow" not in dash_duo.driver.current_url)
    wait_for(lambda: selected(dash_duo, "#kpi-compare") == "previous_period")

    dash_duo.driver.delete_all_cookies()  # a fresh session: sign in, paste the link
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(link)
    wait_for(lambda: cards_text(dash_duo) == filtered, message="the shared view")
    assert wait_for(lambda: selected(dash_duo, "#kpi-compare") == "wow")
    assert_accessible(dash_duo, state="KPI page, reopened from a link")


def test_analyst_compares_two_versions_side_by_side(dash_duo, make_app):
    """From the analysis view, 'Compare versions' shows both series overlaid, the
    summary of each and the anomalies that differ."""
    app = make_app(ingest_mode="inline")
    dash_duo.start_server(app, port=free_port())
    user = register_user(app.server.test_client())
    services = app.server.extensions["insightboard"]
    sample = SAMPLE_CSV.read_bytes()
    with app.server.app_context():
        for data in (sample, sample + b"2024-02-10,150000,3\n"):
            result = datasets.upload_dataset(
                services,
                user["id"],
                io.BytesIO(data),
                dataset_name="Sales",
                choice=Choice("date", ("revenue",)),
            )
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(f"{dash_duo.server_url}/datasets/{result['id']}")
    click(dash_duo, "#analysis-compare-link")
    dash_duo.wait_for_contains_text("#compare-summary", "Mean", timeout=60)
    names = wait_for(
        lambda: dash_duo.driver.execute_script(
            "const g = document.querySelector('#compare-chart .js-plotly-plot');"
            "return g && g.data ? g.data.map(t => t.name) : null;"
        )
    )
    assert names == ["v1", "v2"]
    assert "Only in v2" in dash_duo.find_element("#compare-anomaly-lists").text
    assert_accessible(dash_duo, state="compare versions, v1 and v2")
    Select(dash_duo.find_element("#compare-a")).select_by_value("2")
    wait_for(lambda: "a=2" in dash_duo.driver.current_url)
    dash_duo.wait_for_contains_text("#compare-status", "different versions", timeout=30)
    assert_accessible(dash_duo, state="compare versions, same version twice")
    dash_duo.driver.back()
    wait_for(lambda: "a=1" in dash_duo.driver.current_url)
    dash_duo.wait_for_contains_text("#compare-summary", "Mean", timeout=30)
    shot(dash_duo, "compare-versions-laptop")


def test_a_manager_opens_a_shared_kpi_page_without_an_account(dash_duo, make_app):
    """The owner shares the KPI page from its Share dialog with the traffic
    source locked; a fresh browser with no account sees the same cards, read-only:
    no navbar, the locked filter disabled, the comparison still changeable."""
    app = make_app(ingest_mode="inline")
    dash_duo.start_server(app, port=free_port())
    user = register_user(app.server.test_client())
    dataset_id = events_for(app, user)
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(
        f"{dash_duo.server_url}/kpi/{dataset_id}?filter.traffic_source=email"
    )
    wait_for(
        lambda: len(dash_duo.driver.find_elements("css selector", CARDS)) == 5,
        message="five KPI cards",
    )
    owners_cards = cards_text(dash_duo)
    click(dash_duo, "#share-open")
    wait_for(lambda: dash_duo.driver.find_elements("css selector", "#share-locks"))
    lock = dash_duo.driver.find_element(
        "css selector", "#share-locks input[value='filter.traffic_source']"
    )
    dash_duo.driver.execute_script("arguments[0].click()", lock)
    click(dash_duo, "#share-create")
    url = wait_for(
        lambda: dash_duo.find_element("#share-url").get_attribute("value"),
        20,
        "the new link",
    )
    assert "/share/ibs_" in url

    dash_duo.driver.delete_all_cookies()  # a fresh browser: no account at all
    dash_duo.driver.get(url)
    wait_for(
        lambda: cards_text(dash_duo) == owners_cards,
        message="the owner's cards under the link",
    )
    assert dash_duo.driver.get_cookies() == []
    assert "Shared view" in dash_duo.find_element("#share-badge").text
    assert not dash_duo.driver.find_elements(
        "css selector", "#navbar, #share-open, #kpi-copy-link"
    )
    source = dash_duo.find_element(".ib-kpi-filter-traffic_source")
    assert "is-disabled" in source.get_attribute(
        "innerHTML"
    ) or not source.find_elements("css selector", "input:not([disabled])")
    assert_accessible(dash_duo, state="shared KPI page")
    shot(dash_duo, "share-kpi-manager")
    Select(dash_duo.find_element("#kpi-compare")).select_by_value("wow")
    wait_for(lambda: "last week" in cards_text(dash_duo), message="wow cards")
    assert "compare=wow" in dash_duo.driver.current_url
    assert "/share/" in dash_duo.driver.current_url
