"""Browser tests of the dashboard pages: upload, watch processing, analyse, share."""

from __future__ import annotations

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.conftest import ARTIFACTS, SAMPLE_CSV
from tests.e2e.helpers import (
    assert_accessible,
    browser_errors,
    click,
    open_with_an_event_log,
    sign_up_in_browser,
    wait_for,
)
from tests.services import free_port
from tests.showcase_data import write_year_of_sales

pytestmark = pytest.mark.browser
SIZES = {"laptop": (1366, 768), "tablet": (820, 1180)}
SAMPLE_ANOMALIES = ["2024-01-03", "2024-01-15", "2024-01-27"]
ANOMALY_MARKERS_JS = """
const graph = document.querySelector('#analysis-timeseries .js-plotly-plot');
if (!graph || !graph.data) { return null; }
return graph.data.filter(t => (t.name || '').endsWith(' anomaly'))
    .flatMap(t => t.x).map(x => String(x).slice(0, 10)).sort();
"""


def new_account(dash_duo, app) -> str:
    """Start the app and register a fresh user through the sign-up page."""
    dash_duo.start_server(app, port=free_port())
    email = f"analyst-{uuid.uuid4().hex[:8]}@example.com"
    sign_up_in_browser(dash_duo, email, f"pw-{uuid.uuid4().hex}")
    return email


def control_value(dash_duo, selector: str) -> str | None:
    """A control's current value, tolerant of the page re-rendering meanwhile."""
    try:
        return dash_duo.find_element(selector).get_attribute("value")
    except StaleElementReferenceException:
        return None


def grid_rows(dash_duo, grid_id: str) -> list[str]:
    """The visible rows of an AG Grid as text."""
    rows = dash_duo.driver.find_elements(
        "css selector", f"#{grid_id} .ag-center-cols-container .ag-row"
    )
    try:
        return [row.text for row in rows]
    except StaleElementReferenceException:
        return []  # the grid re-rendered while reading; callers poll again


def anomaly_dates(dash_duo) -> list[str]:
    """Dates listed in the anomalies table, sorted."""
    return sorted(
        row.split("\n")[0] for row in grid_rows(dash_duo, "analysis-anomalies")
    )


def set_viewport(driver, width: int, height: int) -> None:
    """An exact viewport (the window size would include the browser's own UI)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def screenshot(dash_duo, name: str, size: tuple[int, int]) -> None:
    """A viewport screenshot at `size` and a full-page one, in tests/artifacts."""
    driver = dash_duo.driver
    ARTIFACTS.mkdir(exist_ok=True)
    set_viewport(driver, *size)
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(1.0)  # charts re-layout for the new width
    driver.save_screenshot(str(ARTIFACTS / f"{name}-{size[0]}x{size[1]}.png"))
    height = driver.execute_script("return document.documentElement.scrollHeight")
    set_viewport(driver, size[0], max(size[1], height))
    time.sleep(1.0)
    driver.save_screenshot(str(ARTIFACTS / f"{name}-{size[0]}-full.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    time.sleep(0.3)


def press(dash_duo, selector: str) -> None:
    """Click once the element has stopped moving (panels slide, lists grow); a
    panel still opening may scroll the page under the pointer: then try again."""
    for attempt in range(5):
        element = dash_duo.find_element(selector)
        dash_duo.driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'});", element
        )
        previous = None
        for _ in range(20):
            current = element.rect
            if current == previous:
                break
            previous = current
            time.sleep(0.15)
        try:
            element.click()
            return
        except ElementClickInterceptedException:
            if attempt == 4:
                raise
            time.sleep(0.5)


def upload_sample_through_the_page(dash_duo) -> None:
    """Drop the sample file, check the preview and the defaults, submit."""
    dash_duo.wait_for_text_to_equal(
        "#datasets-empty h2", "Upload your first dataset", timeout=15
    )
    dash_duo.find_element("#datasets-upload-empty input[type=file]").send_keys(
        str(SAMPLE_CSV)
    )
    dash_duo.wait_for_element("#datasets-preview table", timeout=15)
    # textContent: the panel may still be sliding open (clipped rows hide .text).
    preview = dash_duo.find_element("#datasets-preview").get_attribute("textContent")
    assert "2024-01-03" in preview and "89000" in preview
    schema = dash_duo.find_element("#datasets-preview-schema").get_attribute(
        "textContent"
    )
    assert "revenue" in schema and "metric" in schema
    assert (
        dash_duo.find_element("#datasets-time-column").get_attribute("value") == "date"
    )
    metrics = dash_duo.find_element("#datasets-metrics").get_attribute("textContent")
    assert "revenue" in metrics
    assert_accessible(dash_duo, state="datasets, upload preview")
    name = dash_duo.find_element("#datasets-name")
    name.clear()
    name.send_keys("January sales")
    press(dash_duo, "#datasets-submit")


def test_new_user_uploads_the_sample_analyses_it_and_shares_the_exact_view(
    dash_duo, make_app
):
    """A new user uploads the sample through /datasets, sees it processed live,
    opens the analysis with three anomalies on the chart and in the table, switches
    to z-score (the table updates), and a copied link reproduces that view."""
    new_account(dash_duo, make_app())
    dash_duo.driver.get(dash_duo.server_url + "/datasets")
    screenshot(dash_duo, "datasets-empty", SIZES["laptop"])
    assert_accessible(dash_duo, state="datasets, first visit (empty)")
    upload_sample_through_the_page(dash_duo)
    dash_duo.wait_for_contains_text("#datasets-feedback", "January sales", timeout=15)
    wait_for(
        lambda: any("Ready" in row for row in grid_rows(dash_duo, "datasets-grid")),
        60,
        "the dataset to be processed",
    )
    row = grid_rows(dash_duo, "datasets-grid")[0]
    assert "January sales" in row and "7" in row
    badge = dash_duo.find_element("#datasets-grid .ib-status")
    assert "text-bg-success" in badge.get_attribute("class")
    icon = badge.find_element("css selector", "i").get_attribute("class")
    assert "bi-check-circle-fill" in icon
    assert_accessible(dash_duo, state="datasets, one ready dataset")
    for label, size in SIZES.items():
        screenshot(dash_duo, f"datasets-{label}", size)

    click(dash_duo, "#datasets-grid .ib-dataset-link")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    assert wait_for(lambda: dash_duo.driver.execute_script(ANOMALY_MARKERS_JS)) == (
        SAMPLE_ANOMALIES
    )
    assert anomaly_dates(dash_duo) == SAMPLE_ANOMALIES
    kpis = dash_duo.find_element("#analysis-kpis").text
    assert "36,686" in kpis and "24,500" in kpis and "89,000" in kpis
    assert_accessible(dash_duo, state="analysis, three anomalies")
    for label, size in SIZES.items():
        screenshot(dash_duo, f"analysis-{label}", size)

    Select(dash_duo.find_element("#analysis-method")).select_by_value("zscore")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "none found", timeout=30)
    assert anomaly_dates(dash_duo) == []
    assert wait_for(lambda: "method=zscore" in dash_duo.driver.current_url)

    click(dash_duo, "#analysis-copy-link")
    shared = wait_for(
        lambda: dash_duo.find_element("#analysis-share-url").get_attribute("value")
    )
    assert parse_qs(urlsplit(shared).query)["method"] == ["zscore"]
    assert shared == dash_duo.driver.current_url

    dash_duo.driver.get(dash_duo.server_url + "/datasets")
    dash_duo.wait_for_element("#datasets-grid", timeout=10)
    dash_duo.driver.get(shared)
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "none found", timeout=30)
    method = Select(dash_duo.find_element("#analysis-method")).first_selected_option
    assert method.get_attribute("value") == "zscore"
    assert dash_duo.driver.current_url == shared

    dash_duo.driver.back()
    dash_duo.wait_for_element("#datasets-grid", timeout=10)
    assert browser_errors(dash_duo) == []


def open_sample_analysis(dash_duo, query: str = "") -> str:
    """Load the sample with the one-click demo and open its analysis URL."""
    dash_duo.driver.get(dash_duo.server_url + "/datasets")
    click(dash_duo, "#datasets-sample-empty")
    link = wait_for(
        lambda: [
            element.get_attribute("href")
            for element in dash_duo.driver.find_elements(
                "css selector", "#datasets-grid .ib-dataset-link"
            )
        ],
        30,
        "the sample dataset in the list",
    )[0]
    wait_for(
        lambda: any("Ready" in row for row in grid_rows(dash_duo, "datasets-grid")),
        60,
        "the sample to be processed",
    )
    url = link.split("?")[0] + query
    dash_duo.driver.get(url)
    return url


def test_back_and_forward_step_through_view_changes(dash_duo, make_app):
    """Each control change (by mouse or keyboard) is a history entry; back and
    forward restore the view."""
    new_account(dash_duo, make_app())
    open_sample_analysis(dash_duo)
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    # The "Date range" label names a real input (the picker's start date).
    label = dash_duo.find_element("#analysis-page label[for=analysis-dates-start]")
    assert label.text == "Date range"
    assert dash_duo.find_element("#analysis-dates-start").tag_name == "input"
    Select(dash_duo.find_element("#analysis-method")).select_by_value("zscore")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "none found", timeout=30)
    # By keyboard: typing on the focused native select picks "Weekly".
    dash_duo.find_element("#analysis-granularity").send_keys("Weekly")
    wait_for(lambda: "granularity=week" in dash_duo.driver.current_url)
    dash_duo.driver.back()
    wait_for(lambda: "granularity=day" in dash_duo.driver.current_url)
    # Some history steps re-render the page: look the control up afresh each time.
    wait_for(lambda: control_value(dash_duo, "#analysis-granularity") == "day")
    assert_accessible(dash_duo, state="analysis, z-score finds none")
    dash_duo.driver.back()
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    assert wait_for(lambda: control_value(dash_duo, "#analysis-method") == "auto")
    dash_duo.driver.forward()
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "none found", timeout=30)
    assert wait_for(lambda: control_value(dash_duo, "#analysis-method") == "zscore")


def test_clicking_an_anomaly_on_the_chart_selects_it_in_the_table(dash_duo, make_app):
    """A click on an anomaly marker selects and reveals its row."""
    new_account(dash_duo, make_app())
    open_sample_analysis(dash_duo)
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    # The last marker of the main plot (not the range slider's copy): the
    # lowest point, clear of the zoom buttons and the mode bar.
    markers = (
        "#analysis-timeseries .cartesianlayer .subplot.xy .scatterlayer "
        ".trace:last-child .point"
    )
    marker = wait_for(lambda: dash_duo.driver.find_elements("css selector", markers))
    target = marker[-1]
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'})", target
    )

    def clicked_row():
        ActionChains(dash_duo.driver).move_to_element(target).pause(
            0.3
        ).click().perform()
        time.sleep(0.5)
        return dash_duo.driver.find_elements(
            "css selector", "#analysis-anomalies .ag-row.ag-row-selected"
        )

    selected = wait_for(clicked_row, 15, "a selected row")
    assert selected[0].text.split("\n")[0] in SAMPLE_ANOMALIES
    assert_accessible(dash_duo, state="analysis, an anomaly selected")


def test_invalid_link_values_fall_back_with_a_notice_and_embed_hides_chrome(
    dash_duo, make_app
):
    """Bad query values show a notice instead of breaking the page; ?embed=1
    renders the same view without the navbar and the controls."""
    new_account(dash_duo, make_app())
    url = open_sample_analysis(dash_duo, "?method=magic&threshold=abc&metric=nope")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    notice = dash_duo.find_element("#analysis-notices").text
    assert "magic" in notice and "abc" in notice and "nope" in notice
    assert dash_duo.find_element("#analysis-method").get_attribute("value") == "auto"
    assert_accessible(dash_duo, state="analysis, link notices")
    # A change of mine clears the notice; back to the bad link brings it back.
    Select(dash_duo.find_element("#analysis-method")).select_by_value("zscore")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "none found", timeout=30)
    wait_for(lambda: not notices_shown(dash_duo), 10, "the notice to close")
    dash_duo.driver.back()
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    notice = wait_for(lambda: notices_shown(dash_duo), 10, "the notice again")
    assert "magic" in notice and "abc" in notice and "nope" in notice

    dash_duo.driver.get(url.split("?")[0] + "?method=zscore&embed=1")
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "none found", timeout=30)
    assert not dash_duo.find_element("#navbar").is_displayed()
    assert not dash_duo.driver.find_elements("css selector", "#analysis-method")
    assert dash_duo.find_element("#analysis-timeseries").is_displayed()
    assert_accessible(dash_duo, state="analysis, embedded")


def notices_shown(dash_duo) -> str:
    """The text of the link notices when the alert is open, else ''."""
    found = dash_duo.driver.find_elements("css selector", "#analysis-notices")
    try:
        return found[0].text if found and found[0].is_displayed() else ""
    except StaleElementReferenceException:
        return ""


def search_datasets(dash_duo, text: str) -> list[str]:
    """Type into the quick search and return the rows left (after it settles)."""
    box = dash_duo.find_element("#datasets-search")
    # Select and overwrite (clear() does not tell React the value changed).
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)
    assert box.get_attribute("value") == text
    time.sleep(1.0)
    return grid_rows(dash_duo, "datasets-grid")


def test_deleting_a_dataset_asks_first_and_names_it(dash_duo, make_app):
    """Delete opens a confirmation naming the dataset; cancel keeps it, confirm
    removes it and brings back the first-upload state."""
    new_account(dash_duo, make_app())
    open_sample_analysis(dash_duo)
    dash_duo.driver.get(dash_duo.server_url + "/datasets")
    dash_duo.wait_for_element("#datasets-grid .ib-delete", timeout=15)
    # The search matches the words shown (the badge says Ready, not "cached").
    assert len(search_datasets(dash_duo, "Ready")) == 1
    assert search_datasets(dash_duo, "cached") == []
    assert search_datasets(dash_duo, "processed") == []
    assert len(search_datasets(dash_duo, "")) == 1
    click(dash_duo, "#datasets-grid .ib-delete")
    dash_duo.wait_for_contains_text("#datasets-delete-text", "Sample sales", timeout=10)
    assert_accessible(dash_duo, state="datasets, delete confirmation")
    click(dash_duo, "#datasets-delete-cancel")
    time.sleep(0.5)
    assert any("Sample sales" in row for row in grid_rows(dash_duo, "datasets-grid"))
    click(dash_duo, "#datasets-grid .ib-delete")
    dash_duo.wait_for_contains_text("#datasets-delete-text", "Sample sales", timeout=10)
    click(dash_duo, "#datasets-delete-confirm")
    dash_duo.wait_for_contains_text("#datasets-feedback", "Deleted", timeout=15)
    dash_duo.wait_for_text_to_equal(
        "#datasets-empty h2", "Upload your first dataset", timeout=15
    )


def test_owner_sets_how_small_a_group_agents_may_see_from_the_datasets_list(
    dash_duo, make_app
):
    """The row's shield button opens Agent privacy on the current k and what it
    counts; a k below 2 is named beside the field; Save stores it (the API reads
    the new k) and says so."""
    api, user, dataset_id = open_with_an_event_log(dash_duo, make_app, "/datasets")
    dash_duo.wait_for_element("#datasets-grid .ib-privacy", timeout=15)
    click(dash_duo, "#datasets-grid .ib-privacy")
    dash_duo.wait_for_contains_text("#datasets-privacy-text", "Shop events", timeout=10)
    assert (
        "fewer than 10 people (distinct user_id)"
        in dash_duo.find_element("#datasets-privacy-text").text
    )
    k_box = dash_duo.find_element("#datasets-privacy-k")
    assert k_box.get_attribute("value") == "10"
    k_box.send_keys(Keys.CONTROL, "a")
    k_box.send_keys("1")
    click(dash_duo, "#datasets-privacy-save")
    dash_duo.wait_for_contains_text(
        "#datasets-privacy-error", "k must be a whole number from 2 to 1000", 10
    )
    k_box.send_keys(Keys.CONTROL, "a")
    k_box.send_keys("25")
    assert_accessible(dash_duo, state="datasets, agent privacy dialog")
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / "datasets-agent-privacy.png"))
    click(dash_duo, "#datasets-privacy-save")
    dash_duo.wait_for_contains_text(
        "#datasets-feedback", "no group smaller than 25 people", timeout=10
    )
    setting = api.get(
        f"/api/datasets/{dataset_id}/disclosure", headers=user["headers"]
    ).get_json()
    assert setting["minEntities"] == 25
    assert_accessible(dash_duo, state="datasets, agent privacy saved")


def test_analyst_filters_a_year_of_regional_sales(dash_duo, make_app, tmp_path):
    """A year of daily sales by region: the region filter narrows the view (and the
    link), and the page reads well at laptop and tablet sizes."""
    source = tmp_path / "sales_2024_by_region.csv"
    write_year_of_sales(source)
    new_account(dash_duo, make_app())
    dash_duo.driver.get(dash_duo.server_url + "/datasets")
    dash_duo.wait_for_element("#datasets-upload-empty input[type=file]", timeout=15)
    dash_duo.find_element("#datasets-upload-empty input[type=file]").send_keys(
        str(source)
    )
    dash_duo.wait_for_element("#datasets-preview table", timeout=15)
    # textContent: the panel may still be sliding open (clipped text hides .text).
    assert "region" in dash_duo.find_element("#datasets-dimensions").get_attribute(
        "textContent"
    )
    press(dash_duo, "#datasets-submit")
    wait_for(
        lambda: any("Ready" in row for row in grid_rows(dash_duo, "datasets-grid")),
        120,
        "the regional dataset to be processed",
    )
    click(dash_duo, "#datasets-grid .ib-dataset-link")
    dash_duo.wait_for_contains_text("#analysis-anomaly-count", "found", timeout=60)
    kpis = dash_duo.find_element("#analysis-kpis").text
    assert "$" in kpis
    for label, size in SIZES.items():
        screenshot(dash_duo, f"showcase-analysis-{label}", size)
    everything = dash_duo.find_element("#analysis-kpis").text

    press(dash_duo, "#analysis-params-toggle")
    region = "#analysis-params-collapse .ib-filter"
    dash_duo.wait_for_contains_text(f"{region} legend", "region", timeout=10)
    north = wait_for(
        lambda: [
            label
            for label in dash_duo.driver.find_elements(
                "css selector", f"{region} label"
            )
            if label.text == "North"
        ]
    )[0]
    box = dash_duo.find_element(f"[id='{north.get_attribute('for')}']")
    assert box.get_attribute("type") == "checkbox"
    box.send_keys(Keys.SPACE)  # by keyboard
    wait_for(lambda: "filter.region=North" in dash_duo.driver.current_url, 20)
    wait_for(lambda: dash_duo.find_element("#analysis-kpis").text != everything, 30)
    assert_accessible(dash_duo, state="analysis, parameters open, region filtered")
    dash_duo.driver.get(dash_duo.server_url + "/datasets")
    press(dash_duo, "#datasets-upload-toggle")
    dash_duo.find_element("#datasets-upload input[type=file]").send_keys(
        str(SAMPLE_CSV)
    )
    dash_duo.wait_for_element("#datasets-preview table", timeout=15)
    for label, size in SIZES.items():
        screenshot(dash_duo, f"showcase-datasets-{label}", size)
    assert_accessible(dash_duo, state="datasets, list with an upload preview")


def test_a_second_upload_becomes_a_version_and_the_picker_switches_views(
    dash_duo, make_app, tmp_path
):
    """Uploading a file as a new version of an existing dataset adds v2; the
    analysis opens the latest and the version picker brings back v1's view."""
    new_account(dash_duo, make_app())
    open_sample_analysis(dash_duo)
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    bigger = tmp_path / "sales_february.csv"
    rows = SAMPLE_CSV.read_text().splitlines()
    bigger.write_text(
        "\n".join([*rows, "2024-02-01,25000,125", "2024-02-02,24800,119"])
    )

    dash_duo.driver.get(dash_duo.server_url + "/datasets")
    press(dash_duo, "#datasets-upload-toggle")
    dash_duo.find_element("#datasets-upload input[type=file]").send_keys(str(bigger))
    dash_duo.wait_for_element("#datasets-preview table", timeout=15)
    press(dash_duo, "#datasets-target input[value=version]")
    Select(dash_duo.find_element("#datasets-existing")).select_by_visible_text(
        "Sample sales"
    )
    press(dash_duo, "#datasets-submit")
    dash_duo.wait_for_contains_text("#datasets-feedback", "v2", timeout=15)
    wait_for(
        lambda: any(
            "Ready" in row and "\n9\n" in row  # 7 + 2 rows in v2
            for row in grid_rows(dash_duo, "datasets-grid")
        ),
        60,
        "version 2 to be processed",
    )
    assert len(grid_rows(dash_duo, "datasets-grid")) == 1  # one dataset, two versions

    link = dash_duo.find_element("#datasets-grid .ib-dataset-link")
    assert link.get_attribute("href").endswith("?version=2")
    click(dash_duo, "#datasets-grid .ib-dataset-link")
    dash_duo.wait_for_contains_text("#analysis-chart-subtitle", "33 points", timeout=30)
    Select(dash_duo.find_element("#analysis-version")).select_by_value("1")
    wait_for(lambda: "version=1" in dash_duo.driver.current_url, 20)
    dash_duo.wait_for_contains_text("#analysis-chart-subtitle", "27 points", timeout=30)
    assert_accessible(dash_duo, state="analysis, older version pinned")
