"""The MCP server end to end with the SDK's own client: over streamable HTTP
against the app served by a real WSGI server in a thread, and over stdio against
`python -m api.mcp_stdio` in a subprocess; both list and call every tool."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from werkzeug.serving import make_server

from tests.agent_calls import create_agent_token, upload_people_events
from tests.integration.test_agent_guard import assert_no_row_data
from tests.services import free_port

MCP_PATH = "/mcp"

TOOLS = {"list_datasets", "get_kpis", "get_series", "get_breakdown",
         "get_anomalies", "get_insights"}  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def serving(app):
    """The app on 127.0.0.1 in a thread (threaded, like gunicorn's gthread
    worker), stopped at the end."""
    port = free_port()
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def agent_setup(make_app, new_user):
    """An app, a user with an events dataset and an agent token over it."""
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    dataset_id, frame = upload_people_events(client, user)
    agent = create_agent_token(client, user, [dataset_id], maxWindowDays=30)
    return app, client, user, dataset_id, frame, agent


def tool_calls(dataset_id: str) -> list[tuple[str, dict]]:
    """One call of each tool, as an agent would make after list_datasets."""
    return [
        ("list_datasets", {}),
        ("get_kpis", {"dataset_id": dataset_id, "measures": ["revenue", "dau"]}),
        ("get_series", {"dataset_id": dataset_id, "measure": "sessions",
                        "granularity": "day"}),
        ("get_breakdown", {"dataset_id": dataset_id, "dimension": "traffic_source",
                           "top": 3}),
        ("get_anomalies", {"dataset_id": dataset_id, "metric": "revenue"}),
        ("get_insights", {"dataset_id": dataset_id}),
    ]  # fmt: skip


async def session_results(client: Client, dataset_id: str) -> dict:
    """{tool: structured result} of one call of each tool, plus the tool list."""
    listed = await client.list_tools()
    results: dict = {"tools": {tool.name: tool for tool in listed.tools}}
    for name, arguments in tool_calls(dataset_id):
        result = await client.call_tool(name, arguments)
        assert not result.is_error, (name, result.content)
        results[name] = result.structured_content
    refused = await client.call_tool(
        "get_kpis", {"dataset_id": dataset_id, "start_date": "2020-01-01",
                     "end_date": "2020-12-31"})  # fmt: skip
    results["refused"] = refused
    return results


def check_session(results: dict, dataset_id: str, frame) -> None:
    """Every tool listed with a described schema; each answered aggregates."""
    tools = results["tools"]
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool.description or "") > 60
        schema = tool.input_schema
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("description"), (tool.name, name)
    assert "dataset_id" in tools["get_kpis"].input_schema["required"]
    (dataset,) = results["list_datasets"]["datasets"]
    assert dataset["datasetId"] == dataset_id
    assert "traffic_source" in dataset["dimensions"]
    assert {m["name"] for m in dataset["measures"]} >= {"revenue", "dau"}
    for tool in TOOLS - {"list_datasets"}:
        assert results[tool]["disclosure"]["k"] == 10, tool
    kpis = results["get_kpis"]["measures"]
    assert [m["name"] for m in kpis] == ["revenue", "dau"]
    assert results["get_series"]["points"]
    assert results["get_breakdown"]["breakdown"]["dimension"] == "traffic_source"
    assert "episodes" in results["get_anomalies"]
    assert results["get_insights"]["recommendedActions"]
    refused = results["refused"]
    assert refused.is_error and "at most 30 days" in refused.content[0].text
    bodies = [json.dumps(v) for k, v in results.items() if k not in ("tools",
              "refused")]  # fmt: skip
    assert_no_row_data(bodies, frame)


@contextlib.asynccontextmanager
async def http_client(base: str, token: str) -> AsyncIterator[Client]:
    """The SDK's client over streamable HTTP with the bearer header; the HTTP
    client is ours, so we close it (the transport leaves a given client open)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(f"{base}/mcp", http_client=http)
        async with Client(transport) as client:
            yield client


def test_an_mcp_session_over_http_lists_and_calls_every_tool(agent_setup):
    """The SDK's client over streamable HTTP: every tool, aggregates only; each
    call is in the audit trail as the agent's."""
    app, _client, user, dataset_id, frame, agent = agent_setup

    async def session(base: str) -> dict:
        async with http_client(base, agent["token"]) as client:
            return await session_results(client, dataset_id)

    with serving(app) as base:
        results = anyio.run(session, base)
    check_session(results, dataset_id, frame)
    with app.server.extensions["insightboard"].postgres.transaction() as cursor:
        cursor.execute(
            "SELECT resource, outcome FROM audit_events WHERE actor_type = 'agent'"
            " AND actor_id = %s AND user_id = %s ORDER BY id",
            (agent["id"], user["id"]),
        )
        rows = cursor.fetchall()
    assert [r[0].split(":")[1] for r in rows] == [
        name for name, _ in tool_calls(dataset_id)
    ] + ["get_kpis"]
    assert rows[-1][1] == "failure"


def test_mcp_over_http_refuses_other_credentials(agent_setup):
    """No token, a user's JWT or a revoked agent token: the session cannot start."""
    app, client, user, _dataset_id, _frame, agent = agent_setup
    client.delete(f"/api/agent-tokens/{agent['id']}", headers=user["headers"])
    jwt = user["headers"]["Authorization"].split(" ", 1)[1]

    async def attempt(base: str, token: str) -> None:
        async with http_client(base, token) as mcp_client:
            await mcp_client.list_tools()

    with serving(app) as base:
        for token in ("", jwt, agent["token"]):
            with pytest.raises(Exception):  # noqa: B017 (the SDK's own error types)
                anyio.run(attempt, base, token)


def test_an_mcp_session_over_stdio_lists_and_calls_every_tool(
    agent_setup, database_url, tmp_path
):
    """`python -m api.mcp_stdio` with the token in an environment variable."""
    app, _client, _user, dataset_id, frame, agent = agent_setup
    settings = app.server.config["INSIGHTBOARD_SETTINGS"]
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "LOCAL_STORE_DIR": settings.local_store_dir,
        "SECRET_KEY": settings.secret_key,
        "INGEST_MODE": "inline",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "",
        "TEST_AGENT_TOKEN": agent["token"],
    }
    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "api.mcp_stdio", "--token-env", "TEST_AGENT_TOKEN"],
        env=env,
        cwd=str(ROOT),
    )

    async def session() -> dict:
        with open(os.devnull, "w") as devnull:
            async with Client(stdio_client(parameters, errlog=devnull)) as client:
                return await session_results(client, dataset_id)

    results = anyio.run(session)
    check_session(results, dataset_id, frame)


def call_tool_over_json_rpc(client, agent, name: str, arguments: dict) -> dict:
    """One stateless tools/call POSTed to /mcp with the Flask test client."""
    headers = {**agent["headers"], "Accept": "application/json, text/event-stream"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}  # fmt: skip
    response = client.post(MCP_PATH, json=body, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["result"]


def test_a_deleted_dataset_is_listed_as_unavailable(make_app, new_user):
    """list_datasets still answers when one of the token's datasets is gone."""
    app = make_app(ingest_mode="inline")
    client = app.server.test_client()
    user = new_user(client)
    kept, _frame = upload_people_events(client, user)
    gone, _other = upload_people_events(client, user, name="Gone")
    agent = create_agent_token(client, user, [kept, gone])
    client.delete(f"/api/datasets/{gone}", headers=user["headers"])
    result = call_tool_over_json_rpc(client, agent, "list_datasets", {})
    listed = {d["datasetId"]: d for d in result["structuredContent"]["datasets"]}
    assert listed[kept]["measures"] and "unavailable" not in listed[kept]
    assert listed[gone] == {"datasetId": gone, "unavailable": "Dataset not found."}
    kpis = call_tool_over_json_rpc(client, agent, "get_kpis", {"dataset_id": gone})
    assert kpis["isError"] and "not found" in kpis["content"][0]["text"]
