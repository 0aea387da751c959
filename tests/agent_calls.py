"""Agent tokens from tests: a dataset with identifier and personal columns, and a
token over it created through the API like a user would."""

from __future__ import annotations

import datetime as dt

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
