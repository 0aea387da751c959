"""An agent token in the one request guard: it reads aggregates and nothing else.

Every Flask URL rule and every Dash callback the app registers is enumerated, so
routes and callbacks added later are checked without editing this file."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from auth.guard import guard_socket
from data.errors import Forbidden
from tests.agent_calls import (
    PERSONAL_COLUMN,
    PERSONAL_DOMAIN,
    create_agent_token,
    upload_people_events,
)
from tests.api_calls import upload_sample
from tests.dash_calls import callback_body

ALLOWED = {("GET", "/api/kpi/<dataset_id>"), ("GET", "/api/analytics/<dataset_id>")}
MCP = "/mcp"


@pytest.fixture
def setup(make_app, new_user):
    """An inline-ingest app, a user with an events dataset and an agent token."""
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    dataset_id, frame = upload_people_events(client, user)
    agent = create_agent_token(client, user, [dataset_id], maxWindowDays=10)
    return app, client, user, dataset_id, frame, agent


def concrete(rule: str, dataset_id: str) -> str:
    """A URL rule with the agent's dataset id (or a harmless value) filled in."""
    rule = rule.replace("<dataset_id>", dataset_id)
    return re.sub(r"<[^>]+>", "x", rule)


def test_every_route_but_the_aggregate_reads_answers_403(setup):
    """Each method of each URL rule (API, pages, files, Dash's own, logout, share)
    is 403 to an agent token, even the public ones; the KPI and analytics reads of
    its dataset answer 200, and /mcp is the MCP endpoint (tested on its own)."""
    app, client, _user, dataset_id, _frame, agent = setup
    checked = 0
    for rule in app.server.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if rule.rule == MCP:
                continue
            path = concrete(rule.rule, dataset_id)
            response = client.open(path, method=method, headers=agent["headers"],
                                   json={})  # fmt: skip
            if (method, rule.rule) in ALLOWED:
                assert response.status_code == 200, (path, response.get_json())
            else:
                assert response.status_code == 403, (method, path)
                assert response.get_json()["error"]["code"] == "forbidden"
            checked += 1
    assert checked > 60


def test_every_page_and_dash_callback_answers_403(setup):
    """Pages (the router's paths) and every server callback refuse the agent."""
    import dash

    app, client, *_rest, agent = setup
    for page in dash.page_registry.values():
        path = re.sub(r"<[^>]+>", "x", page["path"])
        assert client.get(path, headers=agent["headers"]).status_code == 403, path
    keys = [key for key, spec in app.callback_map.items() if spec.get("callback")]
    for key in keys:
        first = (key[2:-2].split("...") if key.startswith("..") else [key])[0]
        body = callback_body(app, first.split("@")[0], {}, triggered="x.n_clicks")
        response = client.post("/_dash-update-component", json=body,
                               headers=agent["headers"])  # fmt: skip
        assert response.status_code == 403, key
    assert len(keys) > 20


def test_the_live_update_socket_refuses_an_agent_token(setup):
    """The socket handshake check raises Forbidden for an agent token."""
    app, *_rest, agent = setup
    context = app.server.test_request_context("/socket.io/", headers=agent["headers"])
    with context, pytest.raises(Forbidden):
        guard_socket(None)


def test_other_datasets_are_403_even_the_owners(setup, new_user):
    """The owner's other dataset and another user's are outside the scope."""
    _app, client, user, *_rest, agent = setup
    other_mine = upload_sample(client, user, name="Other")
    theirs = upload_sample(client, new_user(client))
    for dataset_id in (other_mine, theirs, "not-an-id"):
        for path in (f"/api/kpi/{dataset_id}", f"/api/analytics/{dataset_id}"):
            response = client.get(path, headers=agent["headers"])
            assert response.status_code == 403, path


def test_a_longer_window_is_refused_and_none_means_the_last_max_days(setup):
    """maxWindowDays 10: 11 days is 403 naming the limit; no window reads 10 days
    ending on the data's last day (KPI and analytics alike)."""
    _app, client, _user, dataset_id, frame, agent = setup
    headers = agent["headers"]
    last = frame["timestamp"].max().date()
    first = last - dt.timedelta(days=10)
    for path in (f"/api/kpi/{dataset_id}", f"/api/analytics/{dataset_id}"):
        query = {"from": first.isoformat(), "to": last.isoformat()}
        response = client.get(path, query_string=query, headers=headers)
        assert response.status_code == 403, response.get_json()
        error = response.get_json()["error"]
        assert error["maxWindowDays"] == 10 and "at most 10 days" in error["message"]
    kpi = client.get(f"/api/kpi/{dataset_id}", headers=headers).get_json()
    assert kpi["period"] == {
        "from": (last - dt.timedelta(days=9)).isoformat(),
        "to": last.isoformat(),
    }
    view = client.get(f"/api/analytics/{dataset_id}", headers=headers).get_json()
    assert view["params"]["from"] == (last - dt.timedelta(days=9)).isoformat()
    assert len(view["series"]) <= 10


def test_measures_dimensions_and_raw_rows_outside_the_scope_are_403(make_app, new_user):
    """A token for one measure and one dimension: the rest is refused; without
    measures in the query it reads only its own."""
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    dataset_id, _frame = upload_people_events(client, user)
    agent = create_agent_token(client, user, [dataset_id], measures=["revenue"],
                               dimensions=["traffic_source"])  # fmt: skip
    headers = agent["headers"]
    kpi = f"/api/kpi/{dataset_id}"
    refused = [
        (kpi, {"measures": "dau"}, "measures"),
        (kpi, {"breakdown": "campaign"}, "breakdown"),
        (kpi, {"filter.campaign": "spring"}, "filter"),
        (f"/api/analytics/{dataset_id}", {"granularity": "raw"}, "granularity"),
        (f"/api/analytics/{dataset_id}", {"filter.campaign": "x"}, "filters"),
    ]
    for path, query, field in refused:
        response = client.get(path, query_string=query, headers=headers)
        assert response.status_code == 403, (query, response.get_json())
        assert response.get_json()["error"]["field"] == field
    view = client.get(kpi, headers=headers).get_json()
    assert [m["name"] for m in view["measures"]] == ["revenue"]
    allowed = client.get(kpi, query_string={"breakdown": "traffic_source"},
                         headers=headers)  # fmt: skip
    assert allowed.status_code == 200
    analysis = client.get(f"/api/analytics/{dataset_id}", headers=headers).get_json()
    assert analysis["params"]["metric"] == "revenue"
    assert set(analysis["dataset"]["dimensions"]) == {"traffic_source"}


def test_revoked_and_expired_tokens_are_401(setup):
    """A revoked token and an expired one stop working at once."""
    app, client, user, dataset_id, _frame, agent = setup
    path = f"/api/kpi/{dataset_id}"
    assert client.get(path, headers=agent["headers"]).status_code == 200
    client.delete(f"/api/agent-tokens/{agent['id']}", headers=user["headers"])
    revoked = client.get(path, headers=agent["headers"])
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["code"] == "unauthorized"
    other = create_agent_token(client, user, [dataset_id])
    with app.server.extensions["insightboard"].postgres.transaction() as cursor:
        cursor.execute(
            "UPDATE agent_tokens SET expires_at = now() - interval '1 second'"
            " WHERE id = %s",
            (other["id"],),
        )
    assert client.get(path, headers=other["headers"]).status_code == 401
    assert client.get(MCP, headers=other["headers"]).status_code == 401


def test_the_rate_limit_is_per_token_with_retry_after(make_app, new_user):
    """Over the limit: 429 JSON with Retry-After; another token is unaffected."""
    app = make_app(ingest_mode="inline", agent_rate_limit="3/minute")
    client = app.server.test_client()
    user = new_user(client)
    dataset_id = upload_sample(client, user)
    first = create_agent_token(client, user, [dataset_id])
    second = create_agent_token(client, user, [dataset_id])
    path = f"/api/analytics/{dataset_id}"
    for _ in range(3):
        assert client.get(path, headers=first["headers"]).status_code == 200
    limited = client.get(path, headers=first["headers"])
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert client.get(path, headers=second["headers"]).status_code == 200


def test_a_signed_in_user_or_no_credential_cannot_use_mcp(setup):
    """/mcp takes agent tokens only."""
    _app, client, user, *_rest = setup
    assert client.post(MCP, json={}).status_code == 401
    assert client.post(MCP, json={}, headers=user["headers"]).status_code == 401


def test_every_agent_call_is_audited_with_the_token_and_owner(setup):
    """Allowed and refused calls both leave an agent_call event of the token."""
    app, client, user, dataset_id, _frame, agent = setup
    client.get(f"/api/kpi/{dataset_id}", headers=agent["headers"])
    client.get(f"/api/datasets/{dataset_id}", headers=agent["headers"])
    with app.server.extensions["insightboard"].postgres.transaction() as cursor:
        cursor.execute(
            "SELECT outcome, resource, user_id::text, details FROM audit_events"
            " WHERE actor_type = 'agent' AND actor_id = %s ORDER BY id",
            (agent["id"],),
        )
        rows = cursor.fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("success", f"dataset:{dataset_id}", user["id"]),
        ("failure", f"dataset:{dataset_id}", user["id"]),
    ]
    assert rows[1][3]["status"] == 403
    assert agent["token"] not in str(rows)


def test_answers_carry_no_identifier_personal_value_or_record(setup):
    """Every answer an agent gets from the REST reads has no identifier value,
    no e-mail address and no raw row."""
    _app, client, user, dataset_id, frame, agent = setup
    described = client.get(f"/api/datasets/{dataset_id}", headers=user["headers"])
    roles = {c["name"]: c["role"] for c in described.get_json()["columns"]}
    assert roles[PERSONAL_COLUMN] == "personal" and roles["user_id"] == "identifier"
    seen = []
    common = [{}, {"granularity": "hour"}, {"filter.campaign": "spring_sale"}]
    calls = [
        (f"/api/kpi/{dataset_id}", query)
        for query in [*common, {"breakdown": "traffic_source"}]
    ]
    calls += [(f"/api/analytics/{dataset_id}", query) for query in common]
    for path, query in calls:
        response = client.get(path, query_string=query, headers=agent["headers"])
        assert response.status_code == 200, response.get_json()
        seen.append(response.get_data(as_text=True))
    refused = client.get(f"/api/datasets/{dataset_id}", headers=agent["headers"])
    assert refused.status_code == 403
    seen.append(refused.get_data(as_text=True))
    assert_no_row_data(seen, frame)


def assert_no_row_data(bodies: list[str], frame) -> None:
    """No identifier value (raw or as its stored hash), no personal column or
    value, no record. (Disclosure control names its entity column, the
    identifier's name, never a value of it.)"""
    text = "\n".join(bodies)
    assert PERSONAL_DOMAIN not in text
    assert PERSONAL_COLUMN not in text
    for column in ("user_id", "session_id"):
        for value in frame[column].unique()[:50]:
            assert f'"{value}"' not in text, value
    assert not re.search(r"[0-9a-f]{40,}", text), "a hash-like value leaked"
    for key in ('"records"', '"rows": [{"i"', '"i.'):
        assert key not in text


def test_agent_reads_go_through_disclosure_control_and_the_audit_counts_it(setup):
    """The agent's KPI and analysis views carry the disclosure block (the owner's
    do not), and the call's audit event says how many cells were hidden."""
    app, client, user, dataset_id, _frame, agent = setup
    for path in (f"/api/kpi/{dataset_id}", f"/api/analytics/{dataset_id}"):
        query = {"granularity": "hour"}
        as_agent = client.get(path, query_string=query, headers=agent["headers"])
        disclosure = as_agent.get_json()["disclosure"]
        assert disclosure["k"] == 10 and disclosure["suppressedCells"] > 0
        as_owner = client.get(path, query_string=query, headers=user["headers"])
        assert "disclosure" not in as_owner.get_json()
    with app.server.extensions["insightboard"].postgres.transaction() as cursor:
        cursor.execute(
            "SELECT details->>'suppressedCells' FROM audit_events"
            " WHERE actor_type = 'agent' AND actor_id = %s ORDER BY id",
            (agent["id"],),
        )
        counts = [int(row[0]) for row in cursor.fetchall()]
    assert len(counts) == 2 and all(count > 0 for count in counts)
