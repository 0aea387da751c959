"""Accessibility of every page in each of its states (axe-core, WCAG 2.1 A/AA).

The other browser tests check the states they pass through; these tests reach
the rest: signed-out and signed-in variants, loading, processing, failed, too
little data and not found. One server and one browser per test, several states
each.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from selenium.webdriver.common.keys import Keys

from callbacks import gateway
from tests.conftest import SAMPLE_CSV
from tests.e2e.helpers import (
    assert_accessible,
    click,
    sign_in_in_browser,
)
from tests.services import free_port

pytestmark = pytest.mark.browser


def open_page(dash_duo, path: str, selector: str, text: str | None = None) -> None:
    """Load `path` and wait for `selector` (with `text` in it, when given)."""
    dash_duo.driver.get(dash_duo.server_url + path)
    if text is None:
        dash_duo.wait_for_element(selector, timeout=15)
    else:
        dash_duo.wait_for_contains_text(selector, text, timeout=30)


def test_account_pages_pass_axe_signed_out_and_signed_in(dash_duo, app, new_user):
    """Home, sign-in, registration, sign-out and account pages, with and without
    a session, including their error messages."""
    user = new_user(app.server.test_client())
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_element("#home-page", timeout=10)
    assert_accessible(dash_duo, state="home, anonymous")
    open_page(dash_duo, "/logout", "#logout-page")
    assert_accessible(dash_duo, state="sign out, not signed in")
    open_page(dash_duo, "/register", "#register-email")
    dash_duo.find_element("#register-email").send_keys(user["email"])
    dash_duo.find_element("#register-password").send_keys("password-three")
    dash_duo.find_element("#register-confirm").send_keys("password-three")
    click(dash_duo, "#register-submit")
    dash_duo.wait_for_contains_text("#register-error", "already exists", timeout=10)
    assert_accessible(dash_duo, state="register, e-mail taken")

    sign_in_in_browser(dash_duo, user["email"], user["password"])
    assert_accessible(dash_duo, state="home, signed in")
    open_page(dash_duo, "/login", "#login-page", "signed in as")
    assert_accessible(dash_duo, state="sign in, already signed in")
    open_page(dash_duo, "/logout", "#logout-page", "Sign out?")
    assert_accessible(dash_duo, state="sign out, confirmation")
    open_page(dash_duo, "/account", "#account-current-password")
    dash_duo.find_element("#account-current-password").send_keys("not my password")
    dash_duo.find_element("#account-new-password").send_keys("a new long password")
    dash_duo.find_element("#account-confirm-password").send_keys("a new long password")
    # By keyboard (the field hints appearing meanwhile move the button).
    dash_duo.find_element("#account-change-password").send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#account-password-message", "not correct", 10)
    assert_accessible(dash_duo, state="account, wrong current password")
    open_page(dash_duo, "/no-such-page", "#not-found-page")
    assert_accessible(dash_duo, state="not found, signed in")


def upload(client, user: dict, name: str) -> str:
    """Upload the sample through the API as `name`; returns the dataset id."""
    with SAMPLE_CSV.open("rb") as sample:
        response = client.post(
            "/api/datasets/upload",
            headers=user["headers"],
            data={"file": (sample, "sales.csv"), "datasetName": name},
        )
    assert response.status_code in (200, 202), response.get_json()
    return response.get_json()["id"]


def set_status(app, dataset_id: str, **fields) -> None:
    """Put a dataset's stored versions in a given state (processing, failed)."""
    services = app.server.extensions["insightboard"]
    services.mongo.datasets.update_many({"datasetId": dataset_id}, {"$set": fields})


def datasets_in_three_states(app, user: dict) -> dict[str, str]:
    """A ready, a half-processed and a failed dataset of `user`, by state."""
    client = app.server.test_client()
    ids = {state: upload(client, user, f"{state} sales") for state in STATES}
    set_status(
        app,
        ids["processing"],
        status="processing",
        heartbeatAt=dt.datetime.now(dt.UTC),
        progress={"rowsDone": 3, "rowsTotal": 7},
    )
    set_status(
        app,
        ids["failed"],
        status="failed",
        error="Row 4: 'n/a' is not a number in column revenue.",
    )
    return ids


STATES = ("ready", "processing", "failed")


def test_dataset_pages_pass_axe_loading_processing_failed_and_ready(
    dash_duo, make_app, new_user, monkeypatch, tmp_path
):
    """The datasets list with a ready, a processing and a failed dataset, a file
    that cannot be read, and the analysis view while it loads, while processing,
    after a failure, with too little data, for an unknown id and with data."""
    app = make_app(ingest_mode="inline")
    user = new_user(app.server.test_client())
    ids = datasets_in_three_states(app, user)
    dash_duo.start_server(app, port=free_port())
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    open_page(dash_duo, "/datasets", "#datasets-grid", "Failed")
    dash_duo.wait_for_contains_text("#datasets-progress", "3 of 7 rows", timeout=15)
    assert_accessible(dash_duo, state="datasets, ready + processing + failed")
    click(dash_duo, "#datasets-upload-toggle")
    not_a_table = tmp_path / "notes.csv"
    not_a_table.write_text("just some words\nand more words\n")
    dash_duo.find_element("#datasets-upload input[type=file]").send_keys(
        str(not_a_table)
    )
    dash_duo.wait_for_contains_text("#datasets-upload-error", "cannot be used", 15)
    assert_accessible(dash_duo, state="datasets, unreadable file")

    open_page(dash_duo, f"/datasets/{ids['processing']}", "#analysis-status", "3 of 7")
    assert_accessible(dash_duo, state="analysis, still processing")
    open_page(dash_duo, f"/datasets/{ids['failed']}", "#analysis-status", "n/a")
    assert_accessible(dash_duo, state="analysis, processing failed")
    path = f"/datasets/{ids['ready']}?granularity=month&method=zscore"
    open_page(dash_duo, path, "#analysis-status", "Not enough data")
    assert_accessible(dash_duo, state="analysis, too little data")
    path = f"/datasets/{ids['ready']}?from=2030-01-01&to=2030-01-31"
    open_page(dash_duo, path, "#analysis-kpis", "31 missing")
    assert_accessible(dash_duo, state="analysis, empty date range")
    open_page(dash_duo, f"/datasets/{uuid.uuid4().hex}", "#analysis-page", "not found")
    assert_accessible(dash_duo, state="analysis, unknown dataset")

    release = hold_analysis_views(monkeypatch)
    open_page(dash_duo, f"/datasets/{ids['ready']}", "#analysis-content .dash-spinner")
    assert_accessible(dash_duo, state="analysis, loading")
    release.set()
    dash_duo.wait_for_text_to_equal("#analysis-anomaly-count", "3 found", timeout=30)
    assert_accessible(dash_duo, state="analysis, data")


def hold_analysis_views(monkeypatch) -> threading.Event:
    """Make the analysis view wait until the returned event is set (the page
    shows its loading state meanwhile)."""
    release = threading.Event()
    compute = gateway.analysis_view

    def held(*args, **kwargs):
        release.wait(30)
        return compute(*args, **kwargs)

    monkeypatch.setattr(gateway, "analysis_view", held)
    return release
