"""Browser tests of the alerts page: a manager backtests a rule, saves it, and sees
it fire in the navbar and the lists; on any signed-in page, the navbar's count
follows rules that start or stop firing without a reload."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.support.ui import Select

from tests.alerts_data import VALUES, above_rule, upload_series
from tests.conftest import ARTIFACTS, register_user
from tests.e2e.helpers import assert_accessible, sign_in_in_browser, wait_for
from tests.services import free_port

pytestmark = pytest.mark.browser


def press(dash_duo, selector: str) -> None:
    """Click a button through the DOM (a re-rendering list may move it under the
    pointer's coordinates)."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].click();", element)


def text_of(dash_duo, selector: str) -> str:
    found = dash_duo.driver.find_elements("css selector", selector)
    return found[0].text if found else ""


def options_of(dash_duo, selector: str) -> list[str]:
    return [
        o.get_attribute("value")
        for o in dash_duo.driver.find_elements("css selector", f"{selector} option")
    ]


def test_manager_backtests_a_rule_then_saves_it(dash_duo, make_app):
    """Choose the dataset's metric, set a threshold, Backtest: the page says how
    often the rule would have fired and shades the firings on the chart; Save: the
    rule is listed, fires, and the navbar counts it."""
    app = make_app(ingest_mode="inline", alert_schedule_interval_s=0)
    dash_duo.start_server(app, port=free_port())
    client = app.server.test_client()
    user = register_user(client)
    upload_series(client, user)
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(f"{dash_duo.server_url}/alerts")
    dash_duo.wait_for_element("#alerts-page", timeout=15)
    assert "0 rules, 0 firing now" in text_of(dash_duo, "#alerts-summary")
    assert_accessible(dash_duo, state="alerts page, no rules")

    wait_for(
        lambda: "value" in options_of(dash_duo, "#alerts-measure"), message="measures"
    )
    Select(dash_duo.find_element("#alerts-measure")).select_by_value("value")
    dash_duo.find_element("#alerts-name").clear()
    dash_duo.find_element("#alerts-name").send_keys("Value too high")
    dash_duo.find_element("#alerts-threshold").send_keys("100")
    press(dash_duo, "#alerts-backtest")
    wait_for(lambda: "would have fired 3 times" in text_of(dash_duo, "#alerts-result"),
             message="the backtest")  # fmt: skip
    shaded = dash_duo.driver.find_elements(
        "css selector", "#alerts-chart .shapelayer path"
    )
    assert len(shaded) == 3
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.set_window_size(1366, 1500)  # the whole form with its chart
    time.sleep(1.0)
    dash_duo.find_element("#alerts-form").screenshot(
        str(ARTIFACTS / "alerts-backtest.png")
    )
    dash_duo.driver.set_window_size(1366, 768)
    assert_accessible(dash_duo, state="alerts page, backtest shown")

    threshold = dash_duo.find_element("#alerts-threshold")
    threshold.clear()
    threshold.send_keys("50")  # the last day (53) breaches: the rule fires now
    dash_duo.find_element("#alerts-mute-hours").send_keys("22-6")
    Select(dash_duo.find_element("#alerts-mute-tz")).select_by_value("Europe/Berlin")
    press(dash_duo, "#alerts-save")
    wait_for(
        lambda: "Rule saved" in text_of(dash_duo, "#alerts-result"), message="save"
    )
    wait_for(lambda: "1 rule, 1 firing now" in text_of(dash_duo, "#alerts-summary"),
             message=f"summary {text_of(dash_duo, '#alerts-summary')!r}")  # fmt: skip
    assert "Value too high" in text_of(dash_duo, "#alerts-rules")
    assert "Value too high" in text_of(dash_duo, "#alerts-firing")
    assert "firing" in text_of(dash_duo, "#alerts-history")
    [rule] = client.get("/api/alerts", headers=user["headers"]).get_json()["alerts"]
    assert rule["muteTimings"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "hours": "22-6",
         "tz": "Europe/Berlin"}
    ]  # fmt: skip

    dash_duo.driver.refresh()  # the navbar is built per page load
    badge = wait_for(lambda: text_of(dash_duo, "#navbar-alerts-badge"), message="badge")
    assert badge == "1"
    assert_accessible(dash_duo, state="alerts page, one rule firing")
    press(dash_duo, "#alerts-firing button")  # Acknowledge
    wait_for(lambda: "acknowledged" in text_of(dash_duo, "#alerts-firing"),
             message="acknowledged")  # fmt: skip


def test_the_navbar_counts_a_rule_that_starts_firing_without_a_reload(
    dash_duo, make_app
):
    """On a page that shows no dataset (/account), records appended through the
    API make a rule fire: the navbar's badge appears with 1; the rule deleted, it
    goes; the page is never reloaded (the shell's socket, no polling)."""
    app = make_app(ingest_mode="inline", alert_schedule_interval_s=0)
    dash_duo.start_server(app, port=free_port())
    client = app.server.test_client()
    user = register_user(client)
    dataset_id = upload_series(client, user, VALUES[:3])
    created = client.post(
        "/api/alerts", json=above_rule(dataset_id), headers=user["headers"]
    )
    assert created.status_code == 201 and created.get_json()["state"] == "ok"
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(f"{dash_duo.server_url}/account")
    dash_duo.wait_for_element("#navbar-user", timeout=15)
    assert text_of(dash_duo, "#navbar-alerts-badge") == ""
    dash_duo.driver.execute_script("window.liveMarker = 1;")  # gone on a reload

    appended = client.post(
        f"/api/datasets/{dataset_id}/records",
        json={"batchId": "day-4", "records": [{"date": "2026-01-04", "value": 120}]},
        headers=user["headers"],
    )
    assert appended.status_code == 201, appended.get_json()
    badge = wait_for(lambda: text_of(dash_duo, "#navbar-alerts-badge"), message="badge")
    assert badge == "1"
    assert_accessible(dash_duo, state="account page, one rule firing")

    rule_id = created.get_json()["id"]
    deleted = client.delete(f"/api/alerts/{rule_id}", headers=user["headers"])
    assert deleted.status_code == 204
    wait_for(
        lambda: (
            not dash_duo.driver.find_elements("css selector", "#navbar-alerts-badge")
        ),
        message="the badge gone",
    )
    assert dash_duo.driver.execute_script("return window.liveMarker;") == 1
