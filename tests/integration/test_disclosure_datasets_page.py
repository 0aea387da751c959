"""The agent privacy setting (k) on /datasets through its callbacks: the row's
shield button opens the dialog on the current k, Save stores it through the
service PUT /api/datasets/{id}/disclosure uses, a bad k is named beside the field,
and another user's dataset can be neither read nor changed."""

from __future__ import annotations

import pytest

from tests.agent_calls import owner_of_an_event_log
from tests.dash_calls import post_callback, response_values

SAVE = "datasets-privacy-save.n_clicks"


@pytest.fixture(scope="module")
def owners(database_url, tmp_path_factory):
    """An owner of an event log (identifier user_id) signed in through the form,
    and another user's dataset (no identifier: rows are counted)."""
    with owner_of_an_event_log(database_url, tmp_path_factory.mktemp("privacy")) as w:
        yield (w["app"], w["api"], w["browser"], w["user"], w["other"],
               w["dataset"], w["theirs"])  # fmt: skip


def open_dialog(app, browser, dataset_id: str) -> dict:
    response = post_callback(
        browser, app, "datasets-chosen-versions.data",
        {"datasets-grid.cellRendererData": {"rowId": dataset_id,
                                            "value": {"action": "privacy"}},
         "datasets-chosen-versions.data": {}, "datasets-refresh.data": 1},
        triggered="datasets-grid.cellRendererData",
    )  # fmt: skip
    assert response.status_code == 200
    return response_values(response)


def save(app, browser, dataset_id, value) -> dict:
    response = post_callback(
        browser, app, "datasets-privacy-error.children",
        {SAVE: 1, "datasets-pending-privacy.data": dataset_id,
         "datasets-privacy-k.value": value},
        triggered=SAVE,
    )  # fmt: skip
    assert response.status_code == 200
    return response_values(response)


def stored_k(api, user, dataset_id) -> int:
    setting = api.get(
        f"/api/datasets/{dataset_id}/disclosure", headers=user["headers"]
    ).get_json()
    return setting["minEntities"]


def test_the_dialog_opens_on_the_current_k_and_says_what_it_counts(owners):
    app, api, browser, owner, _other, dataset_id, _theirs = owners
    values = open_dialog(app, browser, dataset_id)
    assert values["datasets-privacy-modal"]["is_open"] is True
    assert values["datasets-pending-privacy"]["data"] == dataset_id
    assert values["datasets-privacy-k"]["value"] == stored_k(api, owner, dataset_id)
    assert values["datasets-privacy-unit"]["children"] == "people (distinct user_id)"
    assert "Shop events" in str(values["datasets-privacy-text"]["children"])


def test_save_stores_k_for_agents_and_says_so(owners):
    """The same setting as the API's: GET /disclosure reads the new k."""
    app, api, browser, owner, _other, dataset_id, _theirs = owners
    values = save(app, browser, dataset_id, 25)
    assert values["datasets-privacy-modal"]["is_open"] is False
    assert values["datasets-privacy-error"]["children"] is None
    assert "no group smaller than 25 people (distinct user_id)" in str(
        values["datasets-feedback"]["children"]
    )
    assert stored_k(api, owner, dataset_id) == 25
    assert open_dialog(app, browser, dataset_id)["datasets-privacy-k"]["value"] == 25


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1, "k must be a whole number from 2 to 1000."),
        (1001, "k must be a whole number from 2 to 1000."),
        (12.5, "k must be a whole number from 2 to 1000."),
        (None, "k must be a whole number from 2 to 1000."),
        ("12", "k must be a whole number from 2 to 1000."),
    ],
)
def test_a_bad_k_is_named_beside_the_field_and_nothing_changes(owners, value, message):
    app, api, browser, owner, _other, dataset_id, _theirs = owners
    before = stored_k(api, owner, dataset_id)
    values = save(app, browser, dataset_id, value)
    assert values["datasets-privacy-error"]["children"] == message
    assert values["datasets-privacy-k"]["invalid"] is True
    assert "datasets-privacy-modal" not in values  # the dialog stays open
    assert stored_k(api, owner, dataset_id) == before


def test_another_users_dataset_is_neither_shown_nor_changed(owners):
    """A forged row id or pending id of someone else's dataset: "no longer exists",
    and their k stays as it was."""
    app, api, browser, _owner, other, _dataset_id, theirs = owners
    before = stored_k(api, other, theirs)
    opened = open_dialog(app, browser, theirs)
    assert "datasets-privacy-modal" not in opened
    assert "no longer exists" in str(opened["datasets-feedback"]["children"])
    values = save(app, browser, theirs, before + 7)
    assert "no longer exists" in str(values["datasets-feedback"]["children"])
    assert stored_k(api, other, theirs) == before


def test_cancel_closes_the_dialog_without_saving(owners):
    app, api, browser, owner, _other, dataset_id, _theirs = owners
    before = stored_k(api, owner, dataset_id)
    response = post_callback(
        browser, app, "datasets-privacy-error.children",
        {"datasets-privacy-cancel.n_clicks": 1,
         "datasets-pending-privacy.data": dataset_id, "datasets-privacy-k.value": 3},
        triggered="datasets-privacy-cancel.n_clicks",
    )  # fmt: skip
    assert response_values(response)["datasets-privacy-modal"]["is_open"] is False
    assert stored_k(api, owner, dataset_id) == before
