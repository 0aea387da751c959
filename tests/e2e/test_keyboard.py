"""Keyboard use: Tab reaches every control of the analysis view in reading order,
each with a visible focus indicator, and the controls work without a mouse."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.e2e.helpers import assert_accessible, sign_in_in_browser, wait_for
from tests.e2e.test_accessibility import upload
from tests.services import free_port

pytestmark = pytest.mark.browser
# What a focus indicator can change: outline, shadow, border or background of the
# element or of its ::before/::after (AG Grid draws its cell focus there).
FOCUS_STYLE_JS = """
const el = arguments[0];
const props = ['outline-style', 'outline-width', 'outline-color', 'box-shadow',
  'border-top-color', 'border-bottom-color', 'background-color'];
return [null, '::before', '::after'].map(pseudo => {
  const style = getComputedStyle(el, pseudo);
  return props.map(p => style.getPropertyValue(p)).join('|');
}).join(' / ');
"""
DESCRIBE_JS = """
const el = arguments[0];
return el.id || el.getAttribute('aria-label') || el.getAttribute('title')
  || el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 40);
"""


def press_tab(driver):
    """Tab once; return the element that now has focus."""
    ActionChains(driver).send_keys(Keys.TAB).perform()
    return driver.switch_to.active_element


def tab_through(driver, stop_at: str, limit: int = 80) -> list[tuple[str, bool]]:
    """Tab from the top of the page until the element named `stop_at`; each stop
    as (name, whether its look changed on focus)."""
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    stops, previous = [], None
    for _ in range(limit):
        element = press_tab(driver)
        if previous is not None:
            stops.append((previous[1], previous[2] != style_of(driver, previous[0])))
            if previous[1] == stop_at:
                return stops
        previous = (element, describe(driver, element), style_of(driver, element))
    raise AssertionError(f"Tab never reached {stop_at!r}: {[s for s, _ in stops]}")


def style_of(driver, element) -> str:
    """The focus-relevant computed style of an element (and its pseudo-elements)."""
    try:
        return driver.execute_script(FOCUS_STYLE_JS, element)
    except StaleElementReferenceException:
        return "re-rendered"


def describe(driver, element) -> str:
    """An element's id, label or text."""
    return driver.execute_script(DESCRIBE_JS, element)


ANALYSIS_CONTROLS = [
    "Insightboard",  # navbar: brand, pages, account, sign out
    "Home",
    "Datasets",
    "Alerts",
    "Reports",
    "Audit",
    "navbar-account",
    "navbar-sign-out",
    "Datasets",  # breadcrumb
    "analysis-version",
    "analysis-kpi-link",
    "analysis-copy-link",
    "share-open",
    "analysis-download-button",
    '{"page":"analysis","type":"reports-button"}',
    "analysis-metric",
    "analysis-aggregation",
    "analysis-granularity",
    "analysis-method",
    "analysis-dates-start",
    "analysis-dates-end",
    "Clear Dates",
    "analysis-params-toggle",
]


def test_keyboard_user_tabs_through_the_analysis_controls(dash_duo, make_app, new_user):
    """Every control is a Tab stop in reading order with a visible focus change;
    Tab goes on through the chart's mode bar (shown while focused) into the
    anomalies table's cells; the method select, the parameters disclosure, a
    number field, the date clear button and Copy link work from the keyboard."""
    app = make_app(ingest_mode="inline")
    user = new_user(app.server.test_client())
    dataset_id = upload(app.server.test_client(), user, "Keyboard sales")
    dash_duo.start_server(app, port=free_port())
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    driver = dash_duo.driver
    driver.get(f"{dash_duo.server_url}/datasets/{dataset_id}?from=2024-01-01")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)

    stops = tab_through(driver, stop_at="analysis-params-toggle")
    names = [name for name, _ in stops]
    demo_notice = ["memory-notice"] if "memory-notice" in names else []
    assert [n for n in names if n not in demo_notice] == ANALYSIS_CONTROLS
    assert [name for name, ring in stops if not ring] == []

    # On through the chart's mode bar into the anomalies table.
    stops = tab_through(driver, stop_at="2024-01-03", limit=120)
    assert [name for name, ring in stops if not ring] == []
    names = [name for name, _ in stops]
    assert {"Zoom in", "Reset axes", "Severity", "Methods"} <= set(names)
    # The mode bar shows on hover only: a keyboard focus inside shows it too.
    zoom_in = '#analysis-timeseries .modebar-btn[data-title="Zoom in"]'
    driver.execute_script("document.querySelector(arguments[0]).focus()", zoom_in)
    opacity = "return getComputedStyle(document.querySelector(arguments[0])).opacity"
    assert driver.execute_script(opacity, "#analysis-timeseries .modebar") == "1"

    # tab_through stops one Tab past the toggle; typing on it focuses it again.
    toggle = dash_duo.find_element("#analysis-params-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.send_keys(Keys.ENTER)
    wait_for(lambda: toggle.get_attribute("aria-expanded") == "true", 10, "open")
    window = dash_duo.wait_for_element("#analysis-window", timeout=10)
    wait_for(lambda: window.is_displayed(), 10, "the parameters")
    assert_accessible(dash_duo, state="analysis, parameters open by keyboard")
    # The next Tab stops are the enabled parameter fields.
    fields = [describe(driver, press_tab(driver)) for _ in range(5)]
    assert fields == [
        "analysis-threshold",
        "analysis-k",
        "analysis-alpha",
        "analysis-max-outliers",
        "analysis-window",
    ]
    window = driver.switch_to.active_element
    window.send_keys(Keys.CONTROL, "a")
    window.send_keys("5")
    window.send_keys(Keys.TAB)
    wait_for(lambda: "window=5" in driver.current_url, 15, "window=5 in the URL")

    method = dash_duo.find_element("#analysis-method")
    method.send_keys("Z")  # typing picks "Z-score" on a focused native select
    wait_for(lambda: "method=zscore" in driver.current_url, 15, "method=zscore")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "none found", 30)

    clear = dash_duo.find_element(".dash-datepicker-clear")
    clear.send_keys(Keys.ENTER)
    wait_for(lambda: "from=" not in driver.current_url, 15, "the dates cleared")

    dash_duo.find_element("#analysis-copy-link").send_keys(Keys.ENTER)
    shared = wait_for(
        lambda: dash_duo.find_element("#analysis-share-url").get_attribute("value"),
        10,
        "the shared link",
    )
    assert "method=zscore" in shared and "window=5" in shared
    # Audit once the toast has faded in (half-faded text fails contrast).
    wait_for(
        lambda: driver.execute_script(opacity, "#analysis-share-toast") == "1",
        10,
        "the toast to finish fading in",
    )
    assert_accessible(dash_duo, state="analysis, link copied by keyboard")
