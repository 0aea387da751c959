"""Per-user isolation through Dash callback POSTs (issue 3): user B, signed in
through the login form, posts the real /datasets and analysis callbacks with user
A's dataset id. B never sees A's name or values, and A's dataset is untouched."""

from __future__ import annotations

import base64
import json

import pytest

from tests.api_calls import post_file
from tests.dash_calls import post_callback, response_values, router_body, sign_in_form
from tests.integration.ingest.conftest import READABLE

PASSWORD = "a long enough password"
SECRET_NAME = "Quarterly Zanzibar ledger"
# Values that appear nowhere else: any of them in a response would be a leak.
SECRET_CSV = (
    "date,revenue,region\n"
    "2024-01-01,7131313,Zanzibar\n"
    "2024-01-02,7242424,Zanzibar\n"
    "2024-01-03,9797979,Zanzibar\n"
    "2024-01-04,7353535,Pemba\n"
    "2024-01-05,7464646,Pemba\n"
    "2024-01-06,7575757,Pemba\n"
    "2024-01-07,7686868,Pemba\n"
)
SECRETS = (SECRET_NAME, "Zanzibar", "Pemba", "7131313", "9797979", "7686868")
FILTERS = '{"dimension":["ALL"],"type":"analysis-filter"}'


def assert_no_secret(response) -> None:
    """Nothing of A's dataset in a callback response."""
    text = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked: {text[:500]}"


def dataset_state(api, user) -> dict:
    """What A sees of the dataset: its record and its default analysis."""
    response = api.get(f"/api/datasets/{user['dataset']}", headers=user["headers"])
    assert response.status_code == 200, response.get_json()
    record = response.get_json()
    analysis = api.get(
        f"/api/analytics/{user['dataset']}?metric=revenue", headers=user["headers"]
    )
    assert analysis.status_code == 200, analysis.get_json()
    view = analysis.get_json()
    return {
        "name": record["name"],
        "versions": [(v["version"], v["status"]) for v in record["versions"]],
        "rows": record["rowCount"],
        "summary": view["summary"],
        "anomalies": [(a["t"], a["value"]) for a in view["anomalies"]],
    }


def post_view(client, app, dataset_id: str):
    """The analysis view's main callback for the default daily auto view."""
    return post_callback(
        client,
        app,
        "analysis-status.children",
        {
            "analysis-state.data": "?metric=revenue&granularity=day&method=auto",
            "analysis-dataset.data": dataset_id,
            "analysis-link-notices.data": [],
        },
        triggered="analysis-state.data",
    )


def post_download(client, app, dataset_id: str):
    """The "Anomalies CSV" button's callback."""
    return post_callback(
        client,
        app,
        "analysis-download.data",
        {
            "analysis-download-button.n_clicks": 1,
            "analysis-state.data": "?metric=revenue",
            "analysis-dataset.data": dataset_id,
        },
        triggered="analysis-download-button.n_clicks",
    )


def post_list(client, app, refresh: int = 1):
    """The /datasets grid's refresh callback."""
    return post_callback(
        client,
        app,
        "datasets-grid.rowData",
        {"datasets-refresh.data": refresh, "datasets-chosen-versions.data": {}},
        triggered="datasets-refresh.data",
    )


def post_row_action(client, app, dataset_id: str, value: dict):
    """A row action (version picker, reprocess, delete) clicked in the grid."""
    return post_callback(
        client,
        app,
        "datasets-chosen-versions.data",
        {
            "datasets-grid.cellRendererData": {"rowId": dataset_id, "value": value},
            "datasets-chosen-versions.data": {},
            "datasets-refresh.data": 3,
        },
        triggered="datasets-grid.cellRendererData",
    )


@pytest.fixture
def setup(make_app, new_user):
    """A's dataset (processed inline) and B signed in through the form."""
    app = make_app(ingest_mode="inline")
    api = app.server.test_client()
    owner = new_user(api, password=PASSWORD)
    uploaded = post_file(
        api,
        owner,
        SECRET_CSV.encode(),
        filename="ledger.csv",
        datasetName=SECRET_NAME,
        timeColumn="date",
        metricColumn="revenue",
        dimensionColumn="region",
    )
    assert uploaded.status_code == 202, uploaded.get_json()
    owner["dataset"] = uploaded.get_json()["id"]
    before = dataset_state(api, owner)
    assert before["versions"][0][1] in READABLE and before["rows"] == 7
    assert before["anomalies"], "the secret dataset should have an anomaly to leak"
    other = new_user(api, password=PASSWORD)
    browser = app.server.test_client()
    assert sign_in_form(browser, app, other["email"], PASSWORD).status_code == 200
    return app, api, owner, browser, before


def test_b_cannot_open_or_compute_on_a_dataset_of_a(setup):
    app, _api, owner, browser, _before = setup
    page = browser.post(
        "/_dash-update-component",
        data=json.dumps(
            router_body(f"/datasets/{owner['dataset']}", "?metric=revenue")
        ),
        content_type="application/json",
    )
    assert page.status_code == 200
    assert "Dataset not found" in page.get_data(as_text=True)
    assert_no_secret(page)

    view = post_view(browser, app, owner["dataset"])
    assert view.status_code == 200, view.data
    outputs = response_values(view)
    assert "Dataset not found" in json.dumps(outputs["analysis-status"])
    assert outputs["analysis-content"]["className"] == "d-none"
    assert "analysis-timeseries" not in outputs and "analysis-kpis" not in outputs
    assert_no_secret(view)


def test_b_cannot_download_the_anomalies_of_a(setup):
    app, _api, owner, browser, _before = setup
    download = post_download(browser, app, owner["dataset"])
    # PreventUpdate: nothing is sent, not even a file name.
    assert download.status_code == 204
    assert_no_secret(download)


def test_the_list_of_b_has_no_rows_of_a(setup):
    app, _api, _owner, browser, _before = setup
    listed = post_list(browser, app)
    assert listed.status_code == 200, listed.data
    outputs = response_values(listed)
    assert outputs["datasets-grid"]["rowData"] == []
    assert outputs["datasets-existing"]["options"] == []
    assert_no_secret(listed)


@pytest.mark.parametrize(
    "value",
    [
        {"action": "version", "version": 1},
        {"action": "reprocess", "version": 1},
        {"action": "delete"},
    ],
    ids=["version-picker", "reprocess", "delete"],
)
def test_row_actions_of_b_on_a_dataset_of_a_say_it_is_gone(setup, value):
    app, api, owner, browser, before = setup
    response = post_row_action(browser, app, owner["dataset"], value)
    assert response.status_code == 200, response.data
    outputs = response_values(response)
    assert "no longer exists" in json.dumps(outputs["datasets-feedback"])
    # No version chosen for it, no delete pending, no dialog naming it.
    assert "datasets-chosen-versions" not in outputs
    assert "datasets-pending-delete" not in outputs
    assert "datasets-delete-modal" not in outputs
    assert_no_secret(response)
    assert dataset_state(api, owner) == before


def test_b_cannot_delete_a_dataset_of_a_with_a_forged_confirmation(setup):
    app, api, owner, browser, before = setup
    response = post_callback(
        browser,
        app,
        "datasets-delete-modal.is_open",
        {
            "datasets-delete-confirm.n_clicks": 1,
            "datasets-pending-delete.data": owner["dataset"],
            "datasets-refresh.data": 1,
            "datasets-chosen-versions.data": {},
        },
        triggered="datasets-delete-confirm.n_clicks",
    )
    assert response.status_code == 200, response.data
    assert "already deleted" in json.dumps(response_values(response))
    assert_no_secret(response)
    assert dataset_state(api, owner) == before


def test_b_cannot_add_a_version_to_a_dataset_of_a(setup):
    app, api, owner, browser, before = setup
    content = base64.b64encode(b"date,revenue\n2024-02-01,1\n2024-02-02,2\n").decode()
    response = post_callback(
        browser,
        app,
        "datasets-feedback.children",
        {
            "datasets-submit.n_clicks": 1,
            "datasets-upload.contents": f"data:text/csv;base64,{content}",
            "datasets-upload.filename": "more.csv",
            "datasets-time-column.value": "date",
            "datasets-metrics.value": ["revenue"],
            "datasets-dimensions.value": [],
            "datasets-target.value": "version",
            "datasets-name.value": "",
            "datasets-existing.value": owner["dataset"],
            "datasets-refresh.data": 0,
        },
        triggered="datasets-submit.n_clicks",
    )
    assert response.status_code == 200, response.data
    outputs = response_values(response)
    assert "datasets-feedback" not in outputs  # no "Uploaded …" message
    assert "not accepted" in json.dumps(outputs["datasets-upload-error"])
    assert_no_secret(response)
    assert dataset_state(api, owner) == before
    own_list = response_values(post_list(browser, app, refresh=2))
    assert own_list["datasets-grid"]["rowData"] == []  # B's own list: still empty


def test_the_owner_can_do_what_b_could_not(setup):
    """The same POSTs from A's own session do reach the dataset (so the refusals
    above are about ownership, not about malformed calls)."""
    app, _api, owner, _browser, _before = setup
    browser = app.server.test_client()
    assert sign_in_form(browser, app, owner["email"], PASSWORD).status_code == 200
    view = post_view(browser, app, owner["dataset"])
    assert view.status_code == 200, view.data
    assert "9,797,979" in view.get_data(as_text=True)
    download = post_download(browser, app, owner["dataset"])
    assert "9797979" in download.get_data(as_text=True)
    listed = post_list(browser, app)
    rows = response_values(listed)["datasets-grid"]["rowData"]
    assert [row["name"] for row in rows] == [SECRET_NAME]
    delete = post_row_action(browser, app, owner["dataset"], {"action": "delete"})
    outputs = response_values(delete)
    assert outputs["datasets-pending-delete"]["data"] == owner["dataset"]
    assert SECRET_NAME in json.dumps(outputs["datasets-delete-text"])
