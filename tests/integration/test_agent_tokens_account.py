"""Agent tokens on /account: the page lists the caller's own with their scope, and
the revoke button (its callback) revokes the caller's token and no one else's."""

from __future__ import annotations

import pytest

from tests.agent_calls import create_agent_token
from tests.api_calls import upload_sample
from tests.dash_calls import post_callback, response_values, router_body, sign_in_form

PATTERN = '{"index":["ALL"],"type":"account-agent-token-revoke"}.n_clicks'


@pytest.fixture
def owner_with_agent(make_app, new_user):
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    owner = new_user(client)
    dataset_id = upload_sample(client, owner)
    agent = create_agent_token(client, owner, [dataset_id], name="owner-agent",
                               maxWindowDays=21)  # fmt: skip
    return app, client, owner, dataset_id, agent


def revoke_in_browser(app, browser, token_id: str):
    match = {"type": "account-agent-token-revoke", "index": token_id}
    return post_callback(
        browser,
        app,
        "account-agent-token-list.children",
        {PATTERN: [{"id": match, "property": "n_clicks", "value": 1}]},
        triggered=(
            f'{{"index":"{token_id}","type":"account-agent-token-revoke"}}.n_clicks'
        ),
    )


def test_the_account_page_lists_the_callers_agent_tokens_only(
    owner_with_agent, new_user
):
    """The owner sees the token and its scope; another user does not."""
    app, client, owner, _dataset_id, agent = owner_with_agent
    browser = app.server.test_client()
    sign_in_form(browser, app, owner["email"], owner["password"])
    page = browser.post("/_dash-update-component", json=router_body("/account"))
    text = page.get_data(as_text=True)
    assert "owner-agent" in text and "windows up to 21 days" in text
    assert agent["token"] not in text
    intruder = new_user(client)
    other = app.server.test_client()
    sign_in_form(other, app, intruder["email"], intruder["password"])
    theirs = other.post("/_dash-update-component", json=router_body("/account"))
    assert "owner-agent" not in theirs.get_data(as_text=True)
    assert "No agent tokens." in theirs.get_data(as_text=True)


def test_the_revoke_button_revokes_only_the_callers_agent_token(
    owner_with_agent, new_user
):
    """Another user's click changes nothing; the owner's revokes, and the token
    stops working."""
    app, client, owner, dataset_id, agent = owner_with_agent
    intruder = new_user(client)
    browser = app.server.test_client()
    sign_in_form(browser, app, intruder["email"], intruder["password"])
    attack = revoke_in_browser(app, browser, agent["id"])
    assert "does not exist" in str(
        response_values(attack)["account-agent-token-message"]
    )
    kpi = f"/api/kpi/{dataset_id}"
    assert client.get(kpi, headers=agent["headers"]).status_code == 200
    mine = app.server.test_client()
    sign_in_form(mine, app, owner["email"], owner["password"])
    revoked = revoke_in_browser(app, mine, agent["id"])
    values = response_values(revoked)
    assert "revoked" in str(values["account-agent-token-message"])
    assert "No agent tokens." in str(values["account-agent-token-list"])
    assert values["account-agent-token-secret"] == {"children": None}
    assert client.get(kpi, headers=agent["headers"]).status_code == 401
