"""The audit trail of account events, and per-user isolation of account resources."""

from __future__ import annotations

import json
import uuid

import psycopg2
import pytest

from data import postgres
from tests.api_calls import upload_sample
from tests.conftest import POSTGRES_SERVER
from tests.dash_calls import (
    change_password,
    post_callback,
    response_values,
    router_body,
    sign_in_form,
)

PASSWORD = "a long enough password"


def events(app, user_id: str | None = None, address: str | None = None) -> list:
    services = app.server.extensions["insightboard"]
    with services.postgres.transaction() as cursor:
        cursor.execute(
            "SELECT action, outcome, user_id::text, email, ip, details"
            " FROM audit_events WHERE user_id = %s::uuid OR email = %s ORDER BY id",
            (user_id, address),
        )
        return cursor.fetchall()


def test_every_account_event_is_recorded_with_who_when_where_and_outcome(app, new_user):
    """Registration, sign-in (good and bad), tokens, password change and sign-out."""
    api = app.server.test_client()
    user = new_user(api, password=PASSWORD)
    api.post("/api/auth/login", json={"email": user["email"], "password": "wrong-pw"})
    created = api.post("/api/auth/tokens", json={"name": "ci"}, headers=user["headers"])
    api.delete(f"/api/auth/tokens/{created.get_json()['id']}", headers=user["headers"])
    browser = app.server.test_client()
    sign_in_form(browser, app, user["email"], PASSWORD)
    change_password(browser, app, PASSWORD, "another long password")
    browser.post("/logout")
    recorded = [(action, outcome) for action, outcome, *_ in events(app, user["id"])]
    assert recorded == [
        ("register", "success"),
        ("login", "success"),
        ("login", "failure"),
        ("token_create", "success"),
        ("token_revoke", "success"),
        ("login", "success"),
        ("password_change", "success"),
        ("logout", "success"),
    ]
    assert all(ip == "127.0.0.1" for *_, ip, _details in events(app, user["id"]))


def test_failed_sign_in_for_an_unknown_email_is_recorded_without_a_user(app, client):
    """Attempts on accounts that do not exist are still visible in the trail."""
    address = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    client.post("/api/auth/login", json={"email": address, "password": "whatever1"})
    assert events(app, address=address) == [
        ("login", "failure", None, address, "127.0.0.1", {"via": "api"})
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET outcome = 'success'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_the_audit_table_refuses_updates_and_deletes(app, new_user, statement):
    """Append-only is enforced by the database, not by good manners."""
    new_user(app.server.test_client())
    services = app.server.extensions["insightboard"]
    with (
        pytest.raises(psycopg2.errors.InsufficientPrivilege),
        services.postgres.transaction() as cursor,
    ):
        cursor.execute(statement)
    with services.postgres.transaction() as cursor:
        cursor.execute("SELECT count(*) FROM audit_events")
        assert cursor.fetchone()[0] > 0


@pytest.fixture
def owner_and_intruder(client, new_user):
    """User A with one personal token, and user B."""
    owner = new_user(client)
    created = client.post(
        "/api/auth/tokens", json={"name": "owner-token"}, headers=owner["headers"]
    ).get_json()
    return owner, created, new_user(client)


def test_another_users_token_cannot_be_listed_or_revoked_through_the_api(
    client, owner_and_intruder
):
    """B sees none of A's tokens; deleting one answers exactly like a missing one."""
    owner, token, intruder = owner_and_intruder
    listed = client.get("/api/auth/tokens", headers=intruder["headers"])
    assert listed.get_json() == {"tokens": []}
    attack = client.delete(
        f"/api/auth/tokens/{token['id']}", headers=intruder["headers"]
    )
    missing = client.delete(
        f"/api/auth/tokens/{uuid.uuid4()}", headers=intruder["headers"]
    )
    assert attack.status_code == missing.status_code == 404
    assert attack.get_json() == missing.get_json()
    assert "owner-token" not in attack.get_data(as_text=True)
    still = client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {token['token']}"}
    )
    assert still.status_code == 200 and still.get_json()["id"] == owner["id"]


def test_another_users_token_cannot_be_revoked_through_a_dash_callback(
    app, client, owner_and_intruder
):
    """B's browser posting the revoke callback with A's token id changes nothing."""
    owner, token, intruder = owner_and_intruder
    browser = app.server.test_client()
    sign_in_form(browser, app, intruder["email"], intruder["password"])
    match = {"type": "account-token-revoke", "index": token["id"]}
    response = post_callback(
        browser,
        app,
        "account-token-list.children",
        {
            '{"index":["ALL"],"type":"account-token-revoke"}.n_clicks': [
                {"id": match, "property": "n_clicks", "value": 1}
            ]
        },
        triggered=f'{{"index":"{token["id"]}","type":"account-token-revoke"}}.n_clicks',
    )
    assert response.status_code == 200
    values = response_values(response)
    assert "does not exist" in str(values["account-token-message"])
    assert "owner-token" not in response.get_data(as_text=True)
    listed = client.get("/api/auth/tokens", headers=owner["headers"]).get_json()
    assert [item["id"] for item in listed["tokens"]] == [token["id"]]


def test_the_owner_can_revoke_through_the_same_callback(
    app, client, owner_and_intruder
):
    """Control case: the callback does revoke the caller's own token."""
    owner, token, _ = owner_and_intruder
    browser = app.server.test_client()
    sign_in_form(browser, app, owner["email"], owner["password"])
    match = {"type": "account-token-revoke", "index": token["id"]}
    response = post_callback(
        browser,
        app,
        "account-token-list.children",
        {
            '{"index":["ALL"],"type":"account-token-revoke"}.n_clicks': [
                {"id": match, "property": "n_clicks", "value": 1}
            ]
        },
        triggered=f'{{"index":"{token["id"]}","type":"account-token-revoke"}}.n_clicks',
    )
    assert "revoked" in str(response_values(response)["account-token-message"])
    assert client.get("/api/auth/tokens", headers=owner["headers"]).get_json() == {
        "tokens": []
    }
    revoked = client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {token['token']}"}
    )
    assert revoked.status_code == 401


def test_account_page_shows_only_the_callers_tokens(app, client, owner_and_intruder):
    """B's account page (router callback) lists none of A's tokens."""
    _, _, intruder = owner_and_intruder
    browser = app.server.test_client()
    sign_in_form(browser, app, intruder["email"], intruder["password"])
    page = browser.post("/_dash-update-component", json=router_body("/account"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "account-page" in text and intruder["email"] in text
    assert "owner-token" not in text


def test_admins_list_accounts_but_others_get_403(make_app, new_user):
    """Only the admin (first account) may list users; the list holds no user data."""
    url = f"{POSTGRES_SERVER}/ib_test_admin_{uuid.uuid4().hex[:8]}"
    try:
        client = make_app(database_url=url).server.test_client()
        admin, analyst = new_user(client), new_user(client)
        listed = client.get("/api/auth/users", headers=admin["headers"])
        assert listed.status_code == 200
        assert [u["email"] for u in listed.get_json()["users"]] == [
            admin["email"],
            analyst["email"],
        ]
        assert all("password" not in str(u) for u in listed.get_json()["users"])
        refused = client.get("/api/auth/users", headers=analyst["headers"])
        assert refused.status_code == 403
    finally:
        postgres.drop_database(url)


def test_the_admin_sees_no_analysts_data_or_tokens(make_app, new_user):
    """Admins manage accounts, not other people's data: every request for an
    analyst's dataset or token answers exactly like one for a missing id."""
    url = f"{POSTGRES_SERVER}/ib_test_admin_{uuid.uuid4().hex[:8]}"
    try:
        client = make_app(database_url=url, ingest_mode="inline").server.test_client()
        admin, analyst = new_user(client), new_user(client)
        roles = client.get("/api/auth/users", headers=admin["headers"]).get_json()
        assert [u["role"] for u in roles["users"]] == ["admin", "analyst"]
        dataset_id = upload_sample(client, analyst, name="Analyst sales")
        token = client.post(
            "/api/auth/tokens",
            json={"name": "analyst-token"},
            headers=analyst["headers"],
        ).get_json()

        def as_admin(dataset: str) -> list:
            return [
                client.get(f"/api/datasets/{dataset}", headers=admin["headers"]),
                client.get(f"/api/analytics/{dataset}", headers=admin["headers"]),
                client.post(
                    "/api/analytics/run",
                    json={"datasetId": dataset, "metric": "revenue"},
                    headers=admin["headers"],
                ),
                client.delete(f"/api/datasets/{dataset}", headers=admin["headers"]),
            ]

        missing = as_admin(uuid.uuid4().hex)
        for attack, absent in zip(as_admin(dataset_id), missing, strict=True):
            assert attack.status_code == absent.status_code == 404
            assert attack.get_json()["error"]["code"] == "not_found"
            assert "Analyst sales" not in attack.get_data(as_text=True)
        listed = client.get("/api/datasets", headers=admin["headers"]).get_json()
        assert dataset_id not in json.dumps(listed)

        assert client.get("/api/auth/tokens", headers=admin["headers"]).get_json() == {
            "tokens": []
        }
        revoke = client.delete(
            f"/api/auth/tokens/{token['id']}", headers=admin["headers"]
        )
        assert revoke.status_code == 404
        assert "analyst-token" not in revoke.get_data(as_text=True)

        # The analyst's dataset and token survived the admin's attempts.
        mine = client.get(f"/api/datasets/{dataset_id}", headers=analyst["headers"])
        assert mine.status_code == 200
        assert mine.get_json()["name"] == "Analyst sales"
        owner_view = client.get(
            f"/api/analytics/{dataset_id}?metric=revenue", headers=analyst["headers"]
        )
        assert owner_view.status_code == 200
        me = client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {token['token']}"}
        )
        assert me.status_code == 200 and me.get_json()["id"] == analyst["id"]
    finally:
        postgres.drop_database(url)
