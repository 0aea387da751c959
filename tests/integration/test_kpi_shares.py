"""Share links of the KPI page (issue 15): the link opens the page without an
account, its view callback serves the locked scope and nothing else, and the
page's Share dialog creates such links.

The values come from pandas over the uploaded events (the oracle), not from the
service under test. Requests under a share are made as the browser makes them:
Dash's requests carry the shared page's URL in `Referer`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import build_app, register_user
from tests.dash_calls import post_callback, response_values, router_body, sign_in_form
from tests.kpi_data import small_events, upload_events

PERIOD = "period=custom&from=2026-11-20&to=2026-11-26&granularity=day"


@pytest.fixture(scope="module")
def kpi_world(database_url, tmp_path_factory):
    """An owner with an event log and a private second one; a link to the KPI page
    locked to the most frequent traffic source and to the page-view measure."""
    app = build_app(
        database_url, tmp_path_factory.mktemp("kpi-shares"), ingest_mode="inline"
    )
    client = app.server.test_client()
    owner = register_user(client)
    frame = small_events()
    dataset_id = upload_events(client, owner, frame)
    other_id = upload_events(client, owner, small_events(seed=7), name="Private log")
    sources = frame["traffic_source"].value_counts().index
    shown, hidden = str(sources[0]), str(sources[1])
    created = client.post(
        "/api/shares",
        headers=owner["headers"],
        json={
            "datasetId": dataset_id,
            "page": "kpi",
            "query": {
                **dict(pair.split("=") for pair in PERIOD.split("&")),
                "measures": "page_views",
                "filter.traffic_source": shown,
            },
            "locked": ["filter.traffic_source", "measures"],
        },
    )
    assert created.status_code == 201, created.get_json()
    week = frame[(frame.timestamp >= "2026-11-20") & (frame.timestamp < "2026-11-27")]
    yield {
        "app": app,
        "client": client,
        "owner": owner,
        "dataset": dataset_id,
        "other": other_id,
        "share": created.get_json(),
        "path": urlsplit(created.get_json()["url"]).path,
        "shown": shown,
        "hidden": hidden,
        "week": week,
    }
    app.server.extensions["insightboard"].close()


def page_views(world, source: str | None = None) -> str:
    """The pandas count of the week's events (of one source), as the card shows it."""
    week = world["week"]
    if source is not None:
        week = week[week["traffic_source"] == source]
    return f"{len(week):,}"


def post_view(world, search: str, dataset_id=None, client=None, headers=None):
    """The KPI page's view callback, as the browser under the share sends it."""
    return post_callback(
        client or world["app"].server.test_client(),
        world["app"],
        "kpi-status.children",
        {"kpi-url.search": search, "kpi-dataset.data": dataset_id or world["dataset"]},
        triggered="kpi-url.search",
        headers={"Referer": "http://localhost" + world["path"]}
        if headers is None
        else headers,
    )


def test_a_kpi_link_is_created_and_listed(kpi_world):
    listed = kpi_world["client"].get(
        "/api/shares", headers=kpi_world["owner"]["headers"]
    )
    link = next(
        entry
        for entry in listed.get_json()["shares"]
        if entry["id"] == kpi_world["share"]["id"]
    )
    assert link["page"] == "kpi" and link["datasetId"] == kpi_world["dataset"]
    assert link["locked"] == ["filter.traffic_source", "measures", "version"]
    assert link["query"]["filter.traffic_source"] == [kpi_world["shown"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"measures": "no_such_measure"}, "query"),
        ({"granularity": "fortnight", "period": "custom"}, "query"),
        ({"colour": "red"}, "query"),
        ({"filter.city": "Paris"}, "query"),
        ({"compare": "fortnight"}, "query"),
    ],
)
def test_bad_kpi_queries_get_a_400_naming_the_query(kpi_world, query, field):
    response = kpi_world["client"].post(
        "/api/shares",
        headers=kpi_world["owner"]["headers"],
        json={"datasetId": kpi_world["dataset"], "page": "kpi", "query": query},
    )
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["field"] == field and error["message"]


def test_the_page_opens_without_an_account_and_shows_no_way_into_the_app(kpi_world):
    browser = kpi_world["app"].server.test_client()
    page = browser.get(kpi_world["path"])
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    routed = browser.post(
        "/_dash-update-component",
        json=router_body(kpi_world["path"], ""),
        headers={"Referer": "http://localhost" + kpi_world["path"]},
    )
    assert routed.status_code == 200, routed.data
    text = routed.get_data(as_text=True)
    assert "Events \\u00b7 KPIs" in text and "Shared view" in text
    assert "Private log" not in text and "/datasets" not in text
    assert "share-open" not in text and "kpi-copy-link" not in text


def test_the_view_serves_the_locked_source_with_the_pandas_values(kpi_world):
    search = f"?{PERIOD}&measures=page_views&filter.traffic_source={kpi_world['shown']}"
    response = post_view(kpi_world, search)
    assert response.status_code == 200, response.data
    text = response.get_data(as_text=True)
    assert page_views(kpi_world, kpi_world["shown"]) in text
    assert page_views(kpi_world) not in text


def test_locked_values_apply_when_the_request_leaves_them_out(kpi_world):
    response = post_view(kpi_world, f"?{PERIOD}")
    assert response.status_code == 200, response.data
    cards = response_values(response)["kpi-cards"]["children"]
    assert len(cards) == 1  # the locked measure only, not the first five
    assert page_views(kpi_world, kpi_world["shown"]) in response.get_data(as_text=True)


def test_unlocked_controls_can_be_changed(kpi_world):
    search = f"?{PERIOD}&measures=page_views&compare=wow"
    response = post_view(kpi_world, search)
    assert response.status_code == 200
    assert "last week" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "extra",
    ["&filter.traffic_source={hidden}", "&measures=dau", "&version=2"],
    ids=["other-source", "other-measure", "version"],
)
def test_a_changed_locked_value_gets_nothing(kpi_world, extra):
    search = f"?{PERIOD}" + extra.format(hidden=kpi_world["hidden"])
    response = post_view(kpi_world, search)
    assert response.status_code == 404, response.data
    assert "does not allow changing" in response.get_json()["error"]["message"]
    assert page_views(kpi_world, kpi_world["hidden"]) not in response.get_data(
        as_text=True
    )
    page = kpi_world["app"].server.test_client().get(kpi_world["path"] + search)
    assert page.status_code == 404


def test_another_dataset_gets_nothing(kpi_world):
    response = post_view(kpi_world, f"?{PERIOD}", dataset_id=kpi_world["other"])
    assert response.status_code == 404
    assert "Private log" not in response.get_data(as_text=True)


def test_the_analysis_callbacks_get_nothing_under_a_kpi_link(kpi_world):
    response = post_callback(
        kpi_world["app"].server.test_client(),
        kpi_world["app"],
        "analysis-status.children",
        {"analysis-state.data": "?metric=revenue", "analysis-dataset.data": None},
        triggered="analysis-state.data",
        headers={"Referer": "http://localhost" + kpi_world["path"]},
    )
    assert response.status_code == 404


def test_the_owner_sees_the_same_view_the_link_shows(kpi_world):
    """The owner's own page, asked for the locked query, gives the same cards."""
    browser = kpi_world["app"].server.test_client()
    owner = kpi_world["owner"]
    signed_in = sign_in_form(
        browser, kpi_world["app"], owner["email"], owner["password"]
    )
    assert signed_in.status_code == 200
    search = f"?{PERIOD}&measures=page_views&filter.traffic_source={kpi_world['shown']}"
    own = post_view(kpi_world, search, client=browser, headers={})
    shared = post_view(kpi_world, search)
    assert own.status_code == shared.status_code == 200
    own_cards = response_values(own)["kpi-cards"]["children"]
    assert own_cards == response_values(shared)["kpi-cards"]["children"]


def test_the_kpi_share_dialog_creates_a_kpi_link(kpi_world):
    app, owner = kpi_world["app"], kpi_world["owner"]
    browser = app.server.test_client()
    assert (
        sign_in_form(browser, app, owner["email"], owner["password"]).status_code == 200
    )
    refresh = {"type": "share-refresh", "scope": kpi_world["dataset"]}
    response = post_callback(
        browser,
        app,
        "share-result.children",
        {
            "share-create.n_clicks": 1,
            "share-locks.value": ["compare"],
            "share-expiry.value": None,
            "share-location.search": f"?{PERIOD}&compare=mom",
            "share-context.data": {"page": "kpi", "datasetId": kpi_world["dataset"]},
            '{"scope":["ALL"],"type":"share-refresh"}.data': [
                {"id": refresh, "property": "data", "value": 0}
            ],
            '{"scope":["ALL"],"type":"share-refresh"}.data@outputs': [refresh],
        },
        triggered="share-create.n_clicks",
    )
    assert response.status_code == 200, response.data
    created = response_values(response)["share-result"]["children"][1]["props"]
    assert "/share/ibs_" in created["value"]
    newest = kpi_world["client"].get("/api/shares", headers=owner["headers"])
    link = newest.get_json()["shares"][0]
    assert link["page"] == "kpi" and link["locked"] == ["compare", "version"]
    assert link["query"]["compare"] == ["mom"]


def components(tree):
    """Every component of a Dash layout (as JSON), depth first."""
    if isinstance(tree, list):
        for item in tree:
            yield from components(item)
    elif isinstance(tree, dict):
        if "props" in tree:
            yield tree
        for value in (tree.get("props") or tree).values():
            yield from components(value)


def test_a_locked_filter_offers_only_its_own_values(kpi_world):
    routed = (
        kpi_world["app"]
        .server.test_client()
        .post(
            "/_dash-update-component",
            json=router_body(kpi_world["path"], ""),
            headers={"Referer": "http://localhost" + kpi_world["path"]},
        )
    )
    wanted = {"type": "kpi-filter", "dimension": "traffic_source"}
    found = [c for c in components(routed.get_json()) if c["props"].get("id") == wanted]
    assert len(found) == 1
    props = found[0]["props"]
    assert [o["value"] for o in props["options"]] == [kpi_world["shown"]]
    assert props["disabled"] is True and props["value"] == [kpi_world["shown"]]


def test_the_embed_form_shows_the_numbers_without_controls(kpi_world):
    path = kpi_world["path"]
    routed = (
        kpi_world["app"]
        .server.test_client()
        .post(
            "/_dash-update-component",
            json=router_body(path, "?embed=1"),
            headers={"Referer": "http://localhost" + path + "?embed=1"},
        )
    )
    assert routed.status_code == 200, routed.data
    ids = {str(c["props"].get("id")) for c in components(routed.get_json())}
    assert {"kpi-cards", "kpi-trend", "kpi-dataset", "kpi-url"} <= ids
    assert not ids & {"kpi-period", "kpi-compare", "share-badge"}
    page = next(
        c for c in components(routed.get_json()) if c["props"].get("id") == "kpi-page"
    )
    assert page["props"]["className"] == "ib-embed"
