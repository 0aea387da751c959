"""Browser tests of the live push (issue 14): a KPI page is open, records are
appended through the API, and the card's value changes without a reload; while
nothing changes, the browser's network log shows no HTTP request at all; a page
that missed an event catches up when its connection drops and comes back."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pandas
import pytest

from data import datasets
from data.ingest.changes import CHANGE_LISTENER
from data.ingest.schema import Choice
from tests.conftest import SAMPLE_CSV, register_user
from tests.e2e.helpers import assert_accessible, sign_in_in_browser
from tests.e2e.test_kpi_page import CARDS, cards_text, events_for, wait_for
from tests.services import free_port

pytestmark = pytest.mark.browser
IDLE_S = 7  # longer than the 5 s a polling page would wait between requests


def http_requests(dash_duo) -> list[str]:
    """The URLs of every HTTP request the page made since the last call, from the
    browser's own network record (Resource Timing: fetches, XHRs, scripts, images;
    a WebSocket's frames are not HTTP requests), then cleared."""
    return dash_duo.driver.execute_script(
        "performance.setResourceTimingBufferSize(100000);"
        "const urls = performance.getEntriesByType('resource').map(e => e.name);"
        "performance.clearResourceTimings(); return urls;"
    )


def page_views_records(count: int) -> list[dict]:
    """Page views in the last hour of the uploaded log (inside the default period)."""
    return [
        {"timestamp": f"2026-11-30T23:{minute % 60:02d}:00Z", "user_id": f"live-{i}",
         "session_id": f"live-s{i}", "page_type": "home", "traffic_source": "direct",
         "campaign": "", "product_category": "", "bounced": "false", "revenue": 0}
        for i, minute in enumerate(range(count))
    ]  # fmt: skip


def append(client, user: dict, dataset_id: str, batch_id: str, records) -> None:
    """Append one batch through the API as `user` (201 expected)."""
    response = client.post(
        f"/api/datasets/{dataset_id}/records",
        json={"batchId": batch_id, "records": records},
        headers=user["headers"],
    )
    assert response.status_code == 201, response.get_json()


def cards_change(dash_duo, before: str, timeout: float, message: str) -> str:
    """The KPI cards' text once it differs from `before`."""
    return wait_for(
        lambda: (text := cards_text(dash_duo)) and text != before and text,
        timeout=timeout,
        message=message,
    )


def open_kpi_page(dash_duo, make_app):
    """A signed-in browser on the KPI page of a fresh event log, its five cards
    shown: (app, API client, user, dataset id)."""
    app = make_app(ingest_mode="inline")
    dash_duo.start_server(app, port=free_port())
    client = app.server.test_client()
    user = register_user(client)
    dataset_id = events_for(app, user)
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(f"{dash_duo.server_url}/kpi/{dataset_id}")
    wait_for(
        lambda: len(dash_duo.driver.find_elements("css selector", CARDS)) == 5,
        message="five KPI cards",
    )
    return app, client, user, dataset_id


def test_an_open_kpi_page_moves_when_records_are_appended(dash_duo, make_app):
    """KPI page open; an append through the API changes the cards within 5 s with
    no reload; idle, the page sends no HTTP request (the socket's keep-alive only)."""
    _, client, user, dataset_id = open_kpi_page(dash_duo, make_app)
    before = cards_text(dash_duo)
    assert_accessible(dash_duo, state="KPI page with its live socket")
    http_requests(dash_duo)  # what loading the page did is not idle traffic

    dash_duo.driver.execute_script("window.liveMarker = 1;")  # no reload below
    time.sleep(IDLE_S)
    assert http_requests(dash_duo) == []

    append(client, user, dataset_id, "live-browser-1", page_views_records(40))
    changed = cards_change(
        dash_duo, before, 5, "the cards to change within 5 s of the append"
    )
    assert dash_duo.driver.execute_script("return window.liveMarker;") == 1
    requests = http_requests(dash_duo)
    assert requests and all("/_dash-update-component" in url for url in requests)
    assert changed != before
    assert_accessible(dash_duo, state="KPI page after a live update")


def drop_every_socket(app) -> int:
    """End every page's connection at the Engine.IO level, as a network drop does
    (socket.io-client then reconnects with its backoff); returns how many."""
    engine = app.server.extensions["socketio"].server.eio
    sockets = list(engine.sockets.values())
    for socket in sockets:  # no close packet, no waiting: the line just goes
        socket.close(wait=False, abort=True)
    return len(sockets)


def test_a_page_that_missed_an_event_catches_up_when_it_reconnects(dash_duo, make_app):
    """An append whose push the page never got (its event was lost) shows up once
    the connection drops and the page reconnects: the server tells a new socket
    where the dataset stands, and the page compares revisions."""
    app, client, user, dataset_id = open_kpi_page(dash_duo, make_app)
    before = cards_text(dash_duo)
    dash_duo.driver.execute_script("window.liveMarker = 1;")  # no reload below

    services = app.server.extensions["insightboard"]
    pushing = services.extensions[CHANGE_LISTENER]
    services.extensions[CHANGE_LISTENER] = lambda *args, **kwargs: None  # lost
    append(client, user, dataset_id, "live-missed-1", page_views_records(40))
    services.extensions[CHANGE_LISTENER] = pushing
    assert cards_text(dash_duo) == before  # nothing told the page yet

    assert drop_every_socket(app) >= 1
    changed = cards_change(
        dash_duo, before, 30, "the cards to catch up after the page reconnected"
    )
    assert changed != before
    assert dash_duo.driver.execute_script("return window.liveMarker;") == 1
    assert_accessible(dash_duo, state="KPI page after it caught up")


def sample_for(app, user: dict) -> str:
    """The 7-day sales sample (date, revenue, orders), processed, owned by `user`."""
    services = app.server.extensions["insightboard"]
    with app.server.app_context(), SAMPLE_CSV.open("rb") as stream:
        result = datasets.upload_dataset(
            services, user["id"], stream, dataset_name="Daily sales",
            choice=Choice("date", ("revenue", "orders"), ()),
        )  # fmt: skip
    return result["id"]


def test_an_open_analysis_page_moves_when_records_are_appended(dash_duo, make_app):
    """The analysis page of the sample is open; two days appended through the API
    show up in its summary within 5 s, without a reload."""
    app = make_app(ingest_mode="inline")
    dash_duo.start_server(app, port=free_port())
    client = app.server.test_client()
    user = register_user(client)
    dataset_id = sample_for(app, user)
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(f"{dash_duo.server_url}/datasets/{dataset_id}")
    summary = "#analysis-kpis"
    before = wait_for(
        lambda: dash_duo.find_element(summary).text, message="the summary"
    )
    dash_duo.driver.execute_script("window.liveMarker = 1;")  # no reload below
    records = [
        {"date": "2024-01-08", "revenue": 31000, "orders": 150},
        {"date": "2024-01-09", "revenue": 30500, "orders": 149},
    ]
    append(client, user, dataset_id, "analysis-live-1", records)
    changed = wait_for(
        lambda: (text := dash_duo.find_element(summary).text) != before and text,
        timeout=5,
        message="the summary to change within 5 s of the append",
    )
    revenue = [*pandas.read_csv(SAMPLE_CSV)["revenue"], 31000, 30500]
    assert "DATA POINTS\n9" in changed  # nine days now
    assert f"{sum(revenue) / len(revenue):,.0f}" in changed  # the new mean
    assert dash_duo.driver.execute_script("return window.liveMarker;") == 1
    assert_accessible(dash_duo, state="analysis page after a live update")


def test_a_shared_kpi_page_moves_when_the_owner_appends_records(dash_duo, make_app):
    """A manager has the KPI page open through a share link, with no account: the
    owner's append reaches that page's socket (admitted by the link) and its cards
    change without a reload."""
    app = make_app(ingest_mode="inline")
    dash_duo.start_server(app, port=free_port())
    client = app.server.test_client()
    owner = register_user(client)
    dataset_id = events_for(app, owner)
    created = client.post(
        "/api/shares",
        json={"datasetId": dataset_id, "page": "kpi", "query": {}},
        headers=owner["headers"],
    )
    assert created.status_code == 201, created.get_json()
    link_path = urlsplit(created.get_json()["url"]).path
    dash_duo.driver.get(dash_duo.server_url + link_path)
    wait_for(
        lambda: len(dash_duo.driver.find_elements("css selector", CARDS)) == 5,
        message="five KPI cards on the shared page",
    )
    before = cards_text(dash_duo)
    dash_duo.driver.execute_script("window.liveMarker = 1;")  # no reload below
    append(client, owner, dataset_id, "shared-live-1", page_views_records(40))
    changed = cards_change(
        dash_duo,
        before,
        5,
        "the shared page's cards to change within 5 s of the append",
    )
    assert changed != before
    assert dash_duo.driver.execute_script("return window.liveMarker;") == 1
    assert_accessible(dash_duo, state="shared KPI page after a live update")
