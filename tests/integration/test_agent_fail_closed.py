"""Fail closed: when the audit trail cannot take an agent call, the call is
refused (503 JSON) and no data leaves, over REST and MCP alike.

The audit table is made unwritable for agent events only, in this run's own test
database, by a trigger that reuses the table's append-only refusal; it is dropped
again at the end of each test."""

from __future__ import annotations

import contextlib
import json

import anyio
import pytest

from tests.agent_calls import create_agent_token, upload_people_events
from tests.integration.test_agent_mcp import http_client, serving

REFUSE_AGENT_ROWS = (
    "CREATE TRIGGER test_refuse_agent_audit BEFORE INSERT ON audit_events"
    " FOR EACH ROW WHEN (NEW.actor_type = 'agent')"
    " EXECUTE FUNCTION audit_events_append_only()"
)


@contextlib.contextmanager
def unwritable_agent_audit(app):
    """Agent audit rows are refused while this runs."""
    database = app.server.extensions["insightboard"].postgres
    with database.transaction() as cursor:
        cursor.execute(REFUSE_AGENT_ROWS)
    try:
        yield
    finally:
        with database.transaction() as cursor:
            cursor.execute(
                "DROP TRIGGER IF EXISTS test_refuse_agent_audit ON audit_events"
            )


@pytest.fixture
def agent_setup(make_app, new_user):
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    dataset_id, _frame = upload_people_events(client, user)
    agent = create_agent_token(client, user, [dataset_id])
    return app, client, dataset_id, agent


def test_rest_reads_and_refusals_are_503_when_the_audit_write_fails(agent_setup):
    """The KPI read computes but does not answer; a refused route is 503 too; with
    the trail writable again the same read answers."""
    app, client, dataset_id, agent = agent_setup
    path = f"/api/kpi/{dataset_id}"
    with unwritable_agent_audit(app):
        response = client.get(path, headers=agent["headers"])
        assert response.status_code == 503
        body = response.get_json()
        assert body["error"]["code"] == "service_unavailable"
        assert "audit" in body["error"]["message"]
        assert "measures" not in json.dumps(body)
        refused = client.get(f"/api/datasets/{dataset_id}", headers=agent["headers"])
        assert refused.status_code == 503
    assert client.get(path, headers=agent["headers"]).status_code == 200


def test_an_mcp_tool_call_is_503_when_the_audit_write_fails(agent_setup):
    """Over streamable HTTP the tool call's whole answer becomes a 503, so the
    client gets no result; tools/list (no data read) still works."""
    app, _client, dataset_id, agent = agent_setup

    async def session(base: str) -> tuple[int, Exception | None]:
        async with http_client(base, agent["token"]) as client:
            listed = await client.list_tools()
            try:
                await client.call_tool("get_kpis", {"dataset_id": dataset_id})
            except Exception as error:  # the SDK's error for a 503 answer
                return len(listed.tools), error
            return len(listed.tools), None

    with serving(app) as base, unwritable_agent_audit(app):
        tools, error = anyio.run(session, base)
    assert tools == 6
    assert error is not None


def test_a_raw_mcp_tool_call_gets_a_503_json_without_data(agent_setup):
    """The same over plain HTTP: the JSON-RPC tools/call answers 503 JSON."""
    app, client, dataset_id, agent = agent_setup
    headers = {**agent["headers"], "Accept": "application/json, text/event-stream"}
    arguments = {"dataset_id": dataset_id}
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "get_kpis", "arguments": arguments}}  # fmt: skip
    answered = client.post("/mcp", json=call, headers=headers)
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert "revenue" in answered.get_data(as_text=True)
    with unwritable_agent_audit(app):
        refused = client.post("/mcp", json=call, headers=headers)
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "service_unavailable"
    assert "revenue" not in refused.get_data(as_text=True)
