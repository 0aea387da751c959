"""Agent tokens from tests: a dataset with identifier and personal columns, and a
token over it created through the API like a user would."""

from __future__ import annotations

import contextlib
import datetime as dt

from tests.api_calls import upload_sample
from tests.conftest import build_app, register_user
from tests.dash_calls import sign_in_form
from tests.kpi_data import small_events, upload_events

# A value of the personal column and the form of identifier values: neither may
# ever appear in an answer to an agent.
PERSONAL_DOMAIN = "@people.example"
PERSONAL_COLUMN = "contact_email"


def events_with_people(events=1500, days=20, seed=3):
    """The demo event log with a personal column (an e-mail per user)."""
    frame = small_events(events=events, days=days, seed=seed)
    return frame.assign(**{PERSONAL_COLUMN: frame["user_id"] + PERSONAL_DOMAIN})


def upload_people_events(client, user, name="Events") -> tuple[str, object]:
    """(dataset id, frame): events with identifiers and e-mail addresses."""
    frame = events_with_people()
    return upload_events(client, user, frame, name=name), frame


@contextlib.contextmanager
def owner_of_an_event_log(database_url: str, directory):
    """One app (inline ingest); a user who owns the "Shop events" log, signed in
    through the form; another user with the sample dataset: {"app", "api",
    "browser", "user", "other", "dataset", "theirs"}. Closed on leaving."""
    app = build_app(database_url, directory, ingest_mode="inline")
    api = app.server.test_client()
    user, other = register_user(api), register_user(api)
    dataset_id, _frame = upload_people_events(api, user, name="Shop events")
    theirs = upload_sample(api, other)
    browser = app.server.test_client()
    sign_in_form(browser, app, user["email"], user["password"])
    try:
        yield {"app": app, "api": api, "browser": browser, "user": user,
               "other": other, "dataset": dataset_id, "theirs": theirs}  # fmt: skip
    finally:
        app.server.extensions["insightboard"].close()


def expiry(days: float = 30) -> str:
    """An expiresAt this many days ahead."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    return moment.isoformat()


def create_agent_token(client, user, datasets, **fields) -> dict:
    """POST /api/agent-tokens as the user; {"id", "token", "headers"}."""
    body = {"name": "agent", "datasets": datasets, "expiresAt": expiry(), **fields}
    response = client.post("/api/agent-tokens", json=body, headers=user["headers"])
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    return {**created, "headers": {"Authorization": f"Bearer {created['token']}"}}
