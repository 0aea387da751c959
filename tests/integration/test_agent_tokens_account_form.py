"""Creating an agent token on /account through its callbacks: the form calls the
API's service, shows the new token once with the MCP hint, and shows each bad
field's message beside that field; only the user's own datasets are offered and
accepted."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.agent_calls import owner_of_an_event_log
from tests.dash_calls import post_callback, response_values, router_body

CREATE = "account-agent-token-create.n_clicks"
SCOPE = "account-agent-token-datasets.value"


@pytest.fixture(scope="module")
def account(database_url, tmp_path_factory):
    """One app, a user with an event log (identifiers, measures, dimensions) signed
    in through the form, and another user with a dataset of their own."""
    with owner_of_an_event_log(
        database_url, tmp_path_factory.mktemp("agent-form")
    ) as w:
        yield w["app"], w["api"], w["browser"], w["user"], w["dataset"], w["theirs"]


def day(days_ahead: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days_ahead)).isoformat()


def submit(app, browser, **fields):
    """Press Create with the form holding `fields` (the rest: a valid token)."""
    form = {"name": "insights-bot", "datasets": [], "measures": [], "dimensions": [],
            "expiry": day(30), "window": None, **fields}  # fmt: skip
    values = {f"account-agent-token-{key}.value": value for key, value in form.items()}
    response = post_callback(
        browser, app, "account-agent-token-secret.children",
        {CREATE: 1, **values}, triggered=CREATE,
    )  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    return response_values(response)


def listed_tokens(api, user) -> list[dict]:
    return api.get("/api/agent-tokens", headers=user["headers"]).get_json()["tokens"]


def test_a_valid_form_creates_the_token_shows_it_once_and_lists_it(account):
    """The secret with its copy button and the /mcp URL; the list shows the scope;
    the token reads the KPI API within its scope."""
    app, api, browser, user, dataset_id, _theirs = account
    values = submit(
        app, browser, name="weekly-insights", datasets=[dataset_id],
        measures=["revenue"], dimensions=["traffic_source"], expiry=day(14),
        window=31,
    )  # fmt: skip
    secret_alert = str(values["account-agent-token-secret"]["children"])
    (secret,) = set(re.findall(r"iba_[\w-]+", secret_alert))
    assert "http://localhost/mcp" in secret_alert
    assert "Clipboard" in secret_alert
    listing = str(values["account-agent-token-list"]["children"])
    assert "weekly-insights" in listing and "windows up to 31 days" in listing
    assert secret not in listing
    assert values["account-agent-token-form"]["is_open"] is False
    assert values["account-agent-token-name-error"]["children"] is None
    token = next(t for t in listed_tokens(api, user) if t["name"] == "weekly-insights")
    assert token["datasets"] == [dataset_id]
    assert token["measures"] == ["revenue"]
    assert token["dimensions"] == ["traffic_source"]
    assert token["maxWindowDays"] == 31
    assert token["expiresAt"].startswith(day(14))
    headers = {"Authorization": f"Bearer {secret}"}
    kpi = api.get(f"/api/kpi/{dataset_id}?measures=revenue", headers=headers)
    assert kpi.status_code == 200, kpi.get_json()
    page = browser.post("/_dash-update-component", json=router_body("/account"))
    assert secret not in page.get_data(as_text=True)


def test_no_measure_or_dimension_ticked_means_all_and_no_window_means_90(account):
    app, api, browser, user, dataset_id, _theirs = account
    submit(app, browser, name="everything", datasets=[dataset_id])
    token = next(t for t in listed_tokens(api, user) if t["name"] == "everything")
    assert token["measures"] is None and token["dimensions"] is None
    assert token["maxWindowDays"] == 90


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Give the token a name of 1 to 64"),
        ({"name": "x" * 65}, "name", "Give the token a name of 1 to 64"),
        ({"datasets": []}, "datasets", "Datasets must be a list of 1 to 20"),
        ({"measures": ["no_such"]}, "measures", "Unknown measure 'no_such'. Valid "),
        ({"dimensions": ["no_such"]}, "dimensions", "Unknown dimension 'no_such'"),
        ({"expiry": None}, "expiry", "Expires on is required"),
        ({"expiry": day(0)}, "expiry", "Expires on must be in the future and at "
                                       "most 90 days ahead."),
        ({"expiry": day(91)}, "expiry", "Expires on must be in the future"),
        ({"expiry": "31/12/2030"}, "expiry", "Expires on must be an instant"),
        ({"window": 0}, "window", "Longest window must be 1 to 366."),
        ({"window": 400}, "window", "Longest window must be 1 to 366."),
        ({"window": 2.5}, "window", "Longest window must be a whole number"),
    ],
)  # fmt: skip
def test_each_bad_field_shows_its_message_beside_it(account, fields, field, message):
    """The message (the API's, with the form's label) sits in that field's slot;
    every other slot is empty; nothing is created."""
    app, api, browser, user, dataset_id, _theirs = account
    before = len(listed_tokens(api, user))
    values = submit(app, browser, **{"datasets": [dataset_id], **fields})
    errors = {
        key.removeprefix("account-agent-token-").removesuffix("-error"): v["children"]
        for key, v in values.items()
        if key.endswith("-error")
    }
    assert errors.pop(field).startswith(message), errors
    assert set(errors.values()) == {None}
    if field in ("name", "expiry", "window"):
        assert values[f"account-agent-token-{field}"]["invalid"] is True
    assert "account-agent-token-secret" not in values
    assert len(listed_tokens(api, user)) == before


def test_another_users_dataset_is_neither_offered_nor_accepted(account):
    """The form lists the user's own datasets only; a forged id of someone else's
    is refused beside the datasets field, and offers no measures."""
    app, _api, browser, _user, dataset_id, theirs = account
    page = browser.post("/_dash-update-component", json=router_body("/account"))
    text = page.get_data(as_text=True)
    assert dataset_id in text and "Shop events" in text
    assert theirs not in text
    values = submit(app, browser, datasets=[theirs])
    error = values["account-agent-token-datasets-error"]["children"]
    assert error == f"Unknown dataset '{theirs}' (not one of yours)."
    offered = offer_scope(app, browser, [theirs])
    assert offered["account-agent-token-measures"]["options"] == []
    assert offered["account-agent-token-dimensions"]["options"] == []


def offer_scope(app, browser, datasets, measures=None, dimensions=None) -> dict:
    response = post_callback(
        browser, app, "account-agent-token-measures.options",
        {SCOPE: datasets, "account-agent-token-measures.value": measures,
         "account-agent-token-dimensions.value": dimensions},
        triggered=SCOPE,
    )  # fmt: skip
    assert response.status_code == 200
    return response_values(response)


def test_measures_and_dimensions_offered_are_the_chosen_datasets(account):
    """Ticking a dataset offers its measures (with labels) and dimensions; ticks
    that the datasets no longer offer are dropped."""
    app, api, browser, user, dataset_id, _theirs = account
    offered = offer_scope(app, browser, [dataset_id], ["revenue", "gone"], ["gone"])
    measures = offered["account-agent-token-measures"]
    stored = api.get(
        f"/api/datasets/{dataset_id}/measures", headers=user["headers"]
    ).get_json()["measures"]
    assert [o["value"] for o in measures["options"]] == sorted(
        m["name"] for m in stored
    )
    assert measures["value"] == ["revenue"]
    dimensions = offered["account-agent-token-dimensions"]
    assert "traffic_source" in [o["value"] for o in dimensions["options"]]
    assert dimensions["value"] == []
    assert offer_scope(app, browser, [])["account-agent-token-measures"] == {
        "options": [],
        "value": [],
    }
