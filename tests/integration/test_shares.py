"""Share links (issue 15): the API, the token's life cycle, and every way out of a
link's scope through the page and direct Dash callback POSTs.

Requests under a share are made like the browser makes them: the page at
/share/<token>, then Dash's requests with that page's URL in `Referer`.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import pytest

from data.services import Services
from tests.api_calls import post_file
from tests.dash_calls import post_callback, response_values, router_body

DATASET_NAME = "Regional ledger"
CSV = (
    "date,revenue,region\n"
    "2024-01-01,7131313,Zanzibar\n"
    "2024-01-02,7242424,Zanzibar\n"
    "2024-01-03,9797979,Zanzibar\n"
    "2024-01-04,7353535,Zanzibar\n"
    "2024-01-01,5464646,Pemba\n"
    "2024-01-02,5575757,Pemba\n"
    "2024-01-03,5686868,Pemba\n"
    "2024-01-04,5797979,Pemba\n"
)
# Values of the Pemba rows: a view locked to Zanzibar must never show them.
PEMBA = ("Pemba", "5464646", "5,464,646", "5797979", "5,797,979")
OTHER_NAME = "Private payroll"
OTHER_CSV = "date,salary\n2024-01-01,4141414\n2024-01-02,4242424\n2024-01-03,4343434\n"
FILTERS = '{"dimension":["ALL"],"type":"analysis-filter"}'
REGION = {"type": "analysis-filter", "dimension": "region"}


def upload(api, user, data: str, name: str, **columns) -> str:
    response = post_file(
        api, user, data.encode(), filename="x.csv", datasetName=name, **columns
    )
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


TEST_SETTINGS = {
    "app_env": "test",
    "secret_key": "test-secret-key-that-is-long-enough-0123456789",
    "log_level": "WARNING",
    "login_rate_limit": "1000/minute",
    "register_rate_limit": "1000/minute",
    "redis_url": None,
    "ingest_mode": "inline",
}


@pytest.fixture(scope="module")
def base(database_url, tmp_path_factory):
    """One app for the module (building one costs seconds): an owner with two
    datasets. Each test gets its own link (see `world`)."""
    from app import create_app

    app = create_app(
        {
            **TEST_SETTINGS,
            "database_url": database_url,
            "local_store_dir": str(tmp_path_factory.mktemp("share-objects")),
        }
    )
    api = app.server.test_client()
    owner = register(api)
    ledger = upload(
        api,
        owner,
        CSV,
        DATASET_NAME,
        timeColumn="date",
        metricColumn="revenue",
        dimensionColumn="region",
    )
    other = upload(
        api, owner, OTHER_CSV, OTHER_NAME, timeColumn="date", metricColumn="salary"
    )
    yield {"app": app, "api": api, "owner": owner, "ledger": ledger, "other": other}
    app.server.extensions["insightboard"].close()


def register(api) -> dict:
    """A new account with a bearer token (as tests/conftest.py's new_user)."""
    credentials = {
        "email": f"owner-{uuid.uuid4().hex[:10]}@example.com",
        "password": f"pw-{uuid.uuid4().hex}",
    }
    assert api.post("/api/auth/register", json=credentials).status_code == 201
    token = api.post("/api/auth/login", json=credentials).get_json()["access_token"]
    return {**credentials, "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture
def world(base):
    """A fresh link to a Zanzibar-only revenue view of the ledger."""
    created = base["api"].post(
        "/api/shares",
        headers=base["owner"]["headers"],
        json={
            "datasetId": base["ledger"],
            "page": "analysis",
            "query": {"metric": "revenue", "filter.region": "Zanzibar"},
            "locked": ["metric", "filter.region"],
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    return {**base, "share": body, "path": urlsplit(body["url"]).path}


def services_of(app) -> Services:
    return app.server.extensions["insightboard"]


def under_share(world) -> dict:
    """Headers of Dash's requests from the shared page."""
    return {"Referer": "http://localhost" + world["path"]}


def post_view(world, search: str, dataset_id: str | None = None, client=None):
    client = client or world["app"].server.test_client()
    return post_callback(
        client,
        world["app"],
        "analysis-status.children",
        {
            "analysis-state.data": search,
            "analysis-dataset.data": dataset_id or world["ledger"],
            "analysis-link-notices.data": [],
            f"{FILTERS}.id": [{"id": REGION, "property": "id", "value": REGION}],
            f"{FILTERS}.value": [
                {"id": REGION, "property": "value", "value": ["Zanzibar"]}
            ],
            f"{FILTERS}.options@outputs": [REGION],
        },
        triggered="analysis-state.data",
        headers=under_share(world),
    )


def post_download(world, search: str, dataset_id: str | None = None):
    return post_callback(
        world["app"].server.test_client(),
        world["app"],
        "analysis-download.data",
        {
            "analysis-download-button.n_clicks": 1,
            "analysis-state.data": search,
            "analysis-dataset.data": dataset_id or world["ledger"],
        },
        triggered="analysis-download-button.n_clicks",
        headers=under_share(world),
    )


def assert_nothing_of(response, secrets) -> None:
    text = response.get_data(as_text=True)
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked: {text[:300]}"


ZANZIBAR = "?metric=revenue&granularity=day&filter.region=Zanzibar"


# ------------------------------------------------------------------------ API


def test_create_list_and_revoke_through_the_api(world):
    api, owner, share = world["api"], world["owner"], world["share"]
    assert set(share) == {"id", "url", "expiresAt"} and share["expiresAt"] is None
    token = world["path"].removeprefix("/share/")
    assert token.startswith("ibs_") and len(token) == 47  # 256 random bits
    listed = api.get("/api/shares", headers=owner["headers"]).get_json()["shares"]
    assert listed[0]["id"] == share["id"]  # newest first
    link = listed[0]
    assert link["page"] == "analysis" and link["datasetId"] == world["ledger"]
    assert link["locked"] == ["filter.region", "metric", "version"]
    assert link["views"] == 0 and link["lastUsed"] is None and link["created"]
    assert token not in json.dumps(listed)
    deleted = api.delete(f"/api/shares/{share['id']}", headers=owner["headers"])
    assert deleted.status_code == 204
    live = api.get("/api/shares", headers=owner["headers"]).get_json()["shares"]
    assert share["id"] not in [link["id"] for link in live]
    assert world["app"].server.test_client().get(world["path"]).status_code == 410


def test_only_a_hash_of_the_token_is_stored(world):
    token = world["path"].removeprefix("/share/")
    with services_of(world["app"]).postgres.transaction() as cursor:
        cursor.execute(
            "SELECT row_to_json(s)::text FROM share_links s WHERE id = %s",
            (world["share"]["id"],),
        )
        (row,) = cursor.fetchone()
    assert token not in row and token[8:] not in row


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"datasetId": 42, "page": "analysis"}, 400, "datasetId"),
        ({"datasetId": "x", "page": "reports"}, 400, "page"),
        ({"page": "analysis", "query": {"metric": "nope"}}, 400, "query"),
        ({"page": "analysis", "query": {"method": "magic"}}, 400, "query"),
        ({"page": "analysis", "query": {"colour": "red"}}, 400, "query"),
        ({"page": "analysis", "query": ["metric"]}, 400, "query"),
        ({"page": "analysis", "locked": ["filter.city"]}, 400, "locked"),
        ({"page": "analysis", "locked": "metric"}, 400, "locked"),
        ({"page": "analysis", "expiresAt": "2000-01-01T00:00:00Z"}, 400, "expiresAt"),
        ({"page": "analysis", "expiresAt": "soon"}, 400, "expiresAt"),
        ({"page": "analysis", "expiresAt": "2999-01-01"}, 400, "expiresAt"),
        ({"page": "analysis", "owner": "me"}, 400, "owner"),
    ],
)
def test_bad_share_requests_get_a_specific_400(world, body, status, field):
    body = {"datasetId": world["ledger"], **body}
    response = world["api"].post(
        "/api/shares", headers=world["owner"]["headers"], json=body
    )
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_nobody_shares_a_dataset_that_is_not_theirs(world):
    stranger = register(world["api"])
    response = world["api"].post(
        "/api/shares",
        headers=stranger["headers"],
        json={"datasetId": world["ledger"], "page": "analysis"},
    )
    assert response.status_code == 404
    revoke = world["api"].delete(
        f"/api/shares/{world['share']['id']}", headers=stranger["headers"]
    )
    assert revoke.status_code == 404
    assert world["app"].server.test_client().get(world["path"]).status_code == 200


# ------------------------------------------------------------ the shared page


def test_the_page_opens_without_an_account_and_each_view_is_recorded(world):
    browser = world["app"].server.test_client()
    page = browser.get(
        world["path"], environ_overrides={"HTTP_USER_AGENT": "manager-browser/1"}
    )
    assert page.status_code == 200 and "_dash-config" in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers  # share pages need no cookie
    browser.get(world["path"] + "?granularity=week")
    with services_of(world["app"]).postgres.transaction() as cursor:
        cursor.execute(
            "SELECT v.ip, v.user_agent, l.view_count, l.last_used_at IS NOT NULL"
            " FROM share_views v JOIN share_links l ON l.id = v.link_id"
            " WHERE l.id = %s ORDER BY v.id",
            (world["share"]["id"],),
        )
        rows = cursor.fetchall()
    assert rows[0][:2] == ("127.0.0.1", "manager-browser/1"), rows
    assert len(rows) == 2 and rows[0][2] == 2 and rows[0][3]
    listed = world["api"].get("/api/shares", headers=world["owner"]["headers"])
    views = {link["id"]: link["views"] for link in listed.get_json()["shares"]}
    assert views[world["share"]["id"]] == 2


def test_the_shell_and_the_router_show_the_view_and_nothing_of_the_app(world):
    client = world["app"].server.test_client()
    shell = client.get("/_dash-layout", headers=under_share(world))
    assert shell.status_code == 200
    text = shell.get_data(as_text=True)
    assert "navbar" not in text and "/datasets" not in text and "/account" not in text
    routed = client.post(
        "/_dash-update-component",
        json=router_body(world["path"], ""),
        headers=under_share(world),
    )
    assert routed.status_code == 200, routed.data
    page = routed.get_data(as_text=True)
    assert DATASET_NAME in page and "Shared view" in page
    assert OTHER_NAME not in page and "/datasets" not in page
    assert "share-open" not in page  # no Share button for viewers


def test_the_view_callback_serves_the_link_scope(world):
    response = post_view(world, ZANZIBAR)
    assert response.status_code == 200, response.data
    assert "9,797,979" in response.get_data(as_text=True)
    assert_nothing_of(response, PEMBA)
    region = json.dumps(REGION, sort_keys=True, separators=(",", ":"))
    options = response_values(response)[region]["options"]
    assert options == [{"label": "Zanzibar", "value": "Zanzibar", "disabled": True}]


def test_locked_values_apply_even_when_the_request_leaves_them_out(world):
    """No filter in the request: the link's own filter still applies."""
    response = post_view(world, "?granularity=day")
    assert response.status_code == 200
    assert "9,797,979" in response.get_data(as_text=True)
    assert_nothing_of(response, PEMBA)


def test_unlocked_controls_can_be_changed(world):
    response = post_view(world, ZANZIBAR + "&aggregation=mean&method=zscore")
    assert response.status_code == 200
    assert "Daily average of revenue" in response.get_data(as_text=True)
    assert_nothing_of(response, PEMBA)


# ----------------------------------------------------------- escapes from scope


@pytest.mark.parametrize(
    "search",
    [
        "?metric=revenue&filter.region=Pemba",
        "?metric=revenue&filter.region=Zanzibar&filter.region=Pemba",
        "?metric=revenue&filter.region=",
        "?metric=salary&filter.region=Zanzibar",
        ZANZIBAR + "&version=2",
    ],
    ids=["other-filter", "wider-filter", "no-filter", "other-metric", "version"],
)
def test_a_changed_locked_value_gets_nothing(world, search):
    for response in (post_view(world, search), post_download(world, search)):
        assert response.status_code == 404, response.data
        assert "does not allow changing" in response.get_json()["error"]["message"]
        assert_nothing_of(response, (*PEMBA, "9,797,979", "9797979"))
    page = world["app"].server.test_client().get(world["path"] + search)
    assert page.status_code == 404
    assert "does not allow changing" in page.get_data(as_text=True)


def test_another_dataset_gets_nothing(world):
    for response in (
        post_view(world, "?metric=salary", dataset_id=world["other"]),
        post_download(world, "?metric=salary", dataset_id=world["other"]),
    ):
        assert response.status_code == 404
        assert_nothing_of(response, (OTHER_NAME, "4141414", "4,141,414"))


def test_the_download_serves_the_locked_rows_only(world):
    response = post_download(world, ZANZIBAR)
    assert response.status_code == 200
    assert "9797979" in response.get_data(as_text=True)
    assert_nothing_of(response, PEMBA)


@pytest.mark.parametrize(
    ("first_output", "values"),
    [
        ("datasets-grid.rowData", {"datasets-refresh.data": 1}),
        ("account-token-secret.children", {"account-create-token.n_clicks": 1}),
        ("share-result.children", {"share-create.n_clicks": 1}),
        ("audit-table.children", {"audit-page-number.data": 0}),
        ("audit-download.data", {"audit-download-button.n_clicks": 1}),
    ],
)
def test_callbacks_of_other_pages_get_nothing(world, first_output, values):
    response = post_callback(
        world["app"].server.test_client(),
        world["app"],
        first_output,
        values,
        triggered=next(iter(values)),
        headers=under_share(world),
    )
    assert response.status_code == 404
    assert_nothing_of(response, (DATASET_NAME, OTHER_NAME, world["owner"]["email"]))


def test_the_router_renders_only_this_links_page(world):
    client = world["app"].server.test_client()
    for path in (f"/datasets/{world['other']}", "/account", "/datasets", "/audit"):
        routed = client.post(
            "/_dash-update-component",
            json=router_body(path, ""),
            headers=under_share(world),
        )
        assert routed.status_code == 404, path
        assert_nothing_of(routed, (OTHER_NAME, DATASET_NAME))


def test_a_signed_in_visitor_is_held_to_the_link_too(world):
    """The session cookie counts for nothing under a share."""
    from tests.dash_calls import sign_in_form

    app = world["app"]
    browser = app.server.test_client()
    assert (
        sign_in_form(
            browser, app, world["owner"]["email"], world["owner"]["password"]
        ).status_code
        == 200
    )
    response = post_view(world, "?metric=salary", world["other"], client=browser)
    assert response.status_code == 404
    assert_nothing_of(response, ("4141414", "4,141,414"))


# ------------------------------------------------------- dead and bad tokens


def token_variants(world) -> dict[str, str]:
    token = world["path"].removeprefix("/share/")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    return {"tampered": flipped, "malformed": "not-a-token", "short": token[:20]}


def test_tampered_and_malformed_tokens_get_a_404_page(world):
    client = world["app"].server.test_client()
    for name, token in token_variants(world).items():
        page = client.get(f"/share/{token}")
        assert page.status_code == 404, name
        text = page.get_data(as_text=True)
        assert "does not work" in text and DATASET_NAME not in text
        callback = post_callback(
            client,
            world["app"],
            "analysis-status.children",
            {"analysis-state.data": ZANZIBAR, "analysis-dataset.data": world["ledger"]},
            triggered="analysis-state.data",
            headers={"Referer": f"http://localhost/share/{token}"},
        )
        assert callback.status_code == 404 and "9,797,979" not in callback.get_data(
            as_text=True
        )


def expire(world) -> None:
    with services_of(world["app"]).postgres.transaction() as cursor:
        cursor.execute(
            "UPDATE share_links SET expires_at = now() - interval '1 s' WHERE id = %s",
            (world["share"]["id"],),
        )


def test_expired_and_revoked_links_get_a_410_page_and_no_data(world):
    for kill in (
        expire,
        lambda w: w["api"].delete(
            f"/api/shares/{w['share']['id']}", headers=w["owner"]["headers"]
        ),
    ):
        kill(world)
        page = world["app"].server.test_client().get(world["path"])
        assert page.status_code == 410
        assert "no longer available" in page.get_data(as_text=True)
        response = post_view(world, ZANZIBAR)
        assert response.status_code == 410
        assert_nothing_of(response, ("9,797,979", DATASET_NAME))


def test_an_expiry_in_the_future_is_kept(world):
    response = world["api"].post(
        "/api/shares",
        headers=world["owner"]["headers"],
        json={
            "datasetId": world["ledger"],
            "page": "analysis",
            "expiresAt": "2099-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 400  # beyond a year
    soon = "2027-06-30T12:00:00+00:00"
    response = world["api"].post(
        "/api/shares",
        headers=world["owner"]["headers"],
        json={"datasetId": world["ledger"], "page": "analysis", "expiresAt": soon},
    )
    assert response.status_code == 201 and response.get_json()["expiresAt"] == soon


def test_deleting_the_dataset_kills_its_links(world):
    api, owner = world["api"], world["owner"]
    doomed = upload(
        api, owner, OTHER_CSV, "Doomed", timeColumn="date", metricColumn="salary"
    )
    created = api.post(
        "/api/shares",
        headers=owner["headers"],
        json={"datasetId": doomed, "page": "analysis"},
    ).get_json()
    path = urlsplit(created["url"]).path
    assert world["app"].server.test_client().get(path).status_code == 200
    deleted = api.delete(f"/api/datasets/{doomed}", headers=owner["headers"])
    assert deleted.status_code == 204
    assert world["app"].server.test_client().get(path).status_code == 410
    live = api.get("/api/shares", headers=owner["headers"]).get_json()["shares"]
    assert created["id"] not in [link["id"] for link in live]


# ------------------------------------------------------------------ rate limit


def test_requests_per_link_are_rate_limited(make_app, new_user):
    app = make_app(ingest_mode="inline", share_rate_limit="3/minute")
    api = app.server.test_client()
    owner = new_user(api)
    ledger = upload(
        api, owner, CSV, DATASET_NAME, timeColumn="date", metricColumn="revenue"
    )
    first = api.post(
        "/api/shares",
        headers=owner["headers"],
        json={"datasetId": ledger, "page": "analysis"},
    ).get_json()
    second = api.post(
        "/api/shares",
        headers=owner["headers"],
        json={"datasetId": ledger, "page": "analysis"},
    ).get_json()
    client = app.server.test_client()
    statuses = [client.get(urlsplit(first["url"]).path).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get(urlsplit(first["url"]).path)
    assert int(limited.headers["Retry-After"]) >= 1
    assert "Too many requests" in limited.get_data(as_text=True)
    # Per link: the other link still opens.
    assert client.get(urlsplit(second["url"]).path).status_code == 200


# ------------------------------------------- the owner's dialog and the lists


def owner_browser(world):
    """A test client signed in as the owner through the sign-in form."""
    from tests.dash_calls import sign_in_form

    browser = world["app"].server.test_client()
    response = sign_in_form(
        browser, world["app"], world["owner"]["email"], world["owner"]["password"]
    )
    assert response.status_code == 200
    return browser


def list_body(world, scope: str, revoke_clicks: dict | None = None) -> dict:
    """The share list's callback for one scope (a revoke click when given)."""
    app = world["app"]
    key = next(k for k in app.callback_map if '"type":"share-list"' in k)
    links = world["api"].get("/api/shares", headers=world["owner"]["headers"])
    ids = [link["id"] for link in links.get_json()["shares"]]
    buttons = [
        {
            "id": {"type": "share-revoke", "link": link, "scope": scope},
            "property": "n_clicks",
            "value": (revoke_clicks or {}).get(link),
        }
        for link in ids
    ]
    refresh = {"type": "share-refresh", "scope": scope}
    clicked = next(iter(revoke_clicks or {}), None)
    trigger = (
        json.dumps(
            {"link": clicked, "scope": scope, "type": "share-revoke"},
            separators=(",", ":"),
        )
        + ".n_clicks"
        if clicked
        else json.dumps(
            {"scope": scope, "type": "share-refresh"}, separators=(",", ":")
        )
        + ".data"
    )
    return {
        "output": key,
        "outputs": {
            "id": {"type": "share-list", "scope": scope},
            "property": "children",
        },
        "inputs": [buttons, {"id": refresh, "property": "data", "value": 1}],
        "state": [{"id": refresh, "property": "id", "value": refresh}],
        "changedPropIds": [trigger],
    }


def test_the_view_dialog_creates_a_link_with_its_locks(world):
    browser = owner_browser(world)
    refresh = {"type": "share-refresh", "scope": world["ledger"]}
    response = post_callback(
        browser,
        world["app"],
        "share-result.children",
        {
            "share-create.n_clicks": 1,
            "share-locks.value": ["metric", "granularity"],
            "share-expiry.value": "2027-03-31",
            "share-location.search": "?metric=revenue&granularity=week",
            "share-context.data": {"page": "analysis", "datasetId": world["ledger"]},
            '{"scope":["ALL"],"type":"share-refresh"}.data': [
                {"id": refresh, "property": "data", "value": 0}
            ],
            '{"scope":["ALL"],"type":"share-refresh"}.data@outputs': [refresh],
        },
        triggered="share-create.n_clicks",
    )
    assert response.status_code == 200, response.data
    created = response_values(response)["share-result"]["children"][1]["props"]
    assert created["id"] == "share-url" and "/share/ibs_" in created["value"]
    newest = world["api"].get("/api/shares", headers=world["owner"]["headers"])
    link = newest.get_json()["shares"][0]
    assert link["locked"] == ["granularity", "metric", "version"]
    assert link["query"]["granularity"] == ["week"]
    assert link["expiresAt"].startswith("2027-03-31T23:59:59")


def test_the_lists_show_the_links_and_revoke_them(world):
    browser = owner_browser(world)
    listed = browser.post("/_dash-update-component", json=list_body(world, "all"))
    assert listed.status_code == 200, listed.data
    assert f'"{world["share"]["id"]}"' in listed.get_data(as_text=True)
    assert DATASET_NAME in listed.get_data(as_text=True)
    revoked = browser.post(
        "/_dash-update-component",
        json=list_body(world, "all", {world["share"]["id"]: 1}),
    )
    assert revoked.status_code == 200, revoked.data
    assert f'"{world["share"]["id"]}"' not in revoked.get_data(as_text=True)
    assert world["app"].server.test_client().get(world["path"]).status_code == 410
    # Nobody else's list shows it, and nobody else can revoke it.
    stranger = register(world["api"])
    assert world["api"].get("/api/shares", headers=stranger["headers"]).get_json() == {
        "shares": []
    }
