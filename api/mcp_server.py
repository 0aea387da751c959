"""The MCP server for AI agents (official SDK `mcp`): fixed aggregate tools only.

Tools: list_datasets, get_kpis, get_series, get_breakdown, get_anomalies and
get_insights. Each reads through the agent data reads (api/agent_access.py), which
apply the token's scope; none returns records, identifiers, personal columns or
file names, and none takes a free-form query.

Two transports, one server definition:
- streamable HTTP at `/mcp` in the app (bearer agent token; stateless, JSON
  responses). The request guard has checked the token (auth/agent_guard.py)
  before the route runs. The route drives the SDK's own Starlette app for one
  exchange inside `anyio.run` (a private event loop per request): no ASGI
  server, no background loop thread, so it works the same under gunicorn's sync
  and threaded workers and the dev server. The tools are async functions that
  run on that loop, in the Flask request's context.
- stdio: `python -m api.mcp_stdio --token-env INSIGHTBOARD_AGENT_TOKEN` reads the
  agent token from that environment variable and checks it on every call (a
  revoked or expired token stops working at once).

Every tool call is written to the audit trail before its result is returned; a
failed write refuses the call (over HTTP the whole answer becomes a 503).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

import anyio
from flask import Blueprint, Flask, Response, current_app, g, request
from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field

from api import agent_access
from auth.agent_guard import (
    AUDIT_REFUSAL,
    MCP_PATH,
    authorize_agent,
    current_agent,
    record_agent_call,
)
from data.analytics import METHODS
from data.errors import DomainError, ServiceUnavailable
from data.services import get_services

INSTRUCTIONS = (
    "Insightboard's aggregate data for AI agents. Start with list_datasets: it "
    "names the datasets this token may read, their measures (for get_kpis, "
    "get_series, get_breakdown), metrics (for get_anomalies, get_insights), "
    "dimensions with their values (for filters and breakdowns), the date span of "
    "the data and the longest window (maxWindowDays) a call may cover. Dates are "
    "YYYY-MM-DD in UTC and inclusive; without dates a call reads the last "
    "maxWindowDays up to the end of the data. Only aggregates are available: no "
    "rows, identifiers or personal data. Disclosure control: a value computed from "
    "fewer than k distinct entities is null with a `suppressed` reason (and so are "
    "values that would let it be recovered); each result's `disclosure` gives k "
    "and how many cells were hidden."
)
Granularity = Literal["hour", "day", "week", "month"]
# The detectors' names, as the analysis parameters list them.
Method = Literal[METHODS]  # type: ignore[valid-type]
Compare = Literal["none", "previous_period", "previous_day", "wow", "mom", "yoy"]
DatasetId = Annotated[str, Field(description="A datasetId returned by list_datasets.")]
StartDate = Annotated[
    str | None,
    Field(
        description="First day, YYYY-MM-DD (UTC), inclusive. Omit both dates "
        "for the last maxWindowDays of data."
    ),
]
EndDate = Annotated[
    str | None, Field(description="Last day, YYYY-MM-DD (UTC), inclusive.")
]
Filters = Annotated[
    dict[str, list[str]] | None,
    Field(
        description="Keep only these dimension values, e.g. "
        '{"traffic_source": ["email", "social"]}; dimensions and values come '
        "from list_datasets. get_kpis, get_series and get_breakdown take one "
        "dimension at a time (the breakdown's own, for get_breakdown)."
    ),
]


def _dates(start_date: str | None, end_date: str | None) -> dict[str, str]:
    dates = {"from": start_date, "to": end_date}
    return {key: value for key, value in dates.items() if value}


def _kpi_filters(filters: dict[str, list[str]] | None) -> dict[str, list[str]]:
    return {f"filter.{name}": list(values) for name, values in (filters or {}).items()}


def _kpi_measure(measure: dict) -> dict:
    keys = (
        "name",
        "label",
        "format",
        "unit",
        "value",
        "comparisonValue",
        "change",
        "changePct",
        "approximate",
        "relativeError",
    )
    shaped = {key: measure.get(key) for key in keys}
    if "suppressed" in measure:  # disclosure control's reasons, per hidden value
        shaped["suppressed"] = measure["suppressed"]
    return shaped


def build_server(call_scope: Callable[[], contextlib.AbstractContextManager]):
    """The MCP server; `call_scope` wraps each tool call (the stdio process
    resolves the token and pushes a request context there; over HTTP the guard
    and the Flask request already did)."""
    server = MCPServer("insightboard", instructions=INSTRUCTIONS)

    def run(tool: str, arguments: dict, read: Callable[[Any, Any], dict]) -> dict:
        with call_scope():
            return _audited_call(tool, arguments, read)

    @server.tool(
        description=(
            "List the datasets this agent token may read: for each, datasetId, "
            "name, measures (name, label, kind, format), metrics (numeric columns "
            "for get_anomalies and get_insights), dimensions with their values, "
            "dateSpan {from, to} of the data and maxWindowDays. Call this first."
        )
    )
    async def list_datasets() -> dict[str, Any]:
        return run(
            "list_datasets",
            {},
            lambda services, token: {
                "datasets": agent_access.list_datasets(services, token)
            },
        )

    @server.tool(
        description=(
            "Headline KPI values of one dataset over a period: for each measure its "
            "value, the comparison period's value, the change and the change in "
            "percent. Returns {period, comparisonPeriod, measures: [...]}."
        )
    )
    async def get_kpis(
        dataset_id: DatasetId,
        measures: Annotated[
            list[str] | None,
            Field(
                description="Measure names from list_datasets (at most 8); omit for "
                "the token's measures."
            ),
        ] = None,
        start_date: StartDate = None,
        end_date: EndDate = None,
        compare: Annotated[
            Compare,
            Field(
                description="The comparison period: previous_period (same length just "
                "before), previous_day, wow (week over week), mom, yoy or none."
            ),
        ] = "previous_period",
        filters: Filters = None,
    ) -> dict[str, Any]:
        arguments = {
            "dataset_id": dataset_id,
            "measures": measures,
            "start_date": start_date,
            "end_date": end_date,
            "compare": compare,
            "filters": filters,
        }
        query = {
            **_dates(start_date, end_date),
            "compare": compare,
            **_kpi_filters(filters),
        }
        if measures:
            query["measures"] = ",".join(measures)

        def read(services, token):
            view = agent_access.kpi_view(services, token, dataset_id, query)
            return {
                "disclosure": view.get("disclosure"),
                "dataset": view["dataset"],
                "period": view["period"],
                "comparisonPeriod": view["comparisonPeriod"],
                "partial": view["partial"],
                "measures": [_kpi_measure(m) for m in view["measures"]],
            }

        return run("get_kpis", arguments, read)

    @server.tool(
        description=(
            "The time series of one measure of one dataset: one point per bucket "
            "{t (bucket start, ISO 8601), value}, plus the buckets a robust "
            "detector flags as unusual. Returns {measure, granularity, period, "
            "points, anomalies}."
        )
    )
    async def get_series(
        dataset_id: DatasetId,
        measure: Annotated[
            str, Field(description="One measure name from list_datasets.")
        ],
        granularity: Annotated[Granularity, Field(description="Bucket size.")] = "day",
        start_date: StartDate = None,
        end_date: EndDate = None,
        filters: Filters = None,
    ) -> dict[str, Any]:
        arguments = {
            "dataset_id": dataset_id,
            "measure": measure,
            "granularity": granularity,
            "start_date": start_date,
            "end_date": end_date,
            "filters": filters,
        }
        query = {
            "measures": measure,
            "granularity": granularity,
            "compare": "none",
            **_dates(start_date, end_date),
            **_kpi_filters(filters),
        }

        def read(services, token):
            view = agent_access.kpi_view(services, token, dataset_id, query)
            (found,) = view["measures"]
            return {
                "disclosure": view.get("disclosure"),
                "dataset": view["dataset"],
                "measure": found["name"],
                "granularity": view["granularity"],
                "period": view["period"],
                "points": found["series"],
                "anomalies": found.get("anomalies", []),
            }

        return run("get_series", arguments, read)

    @server.tool(
        description=(
            "One measure set broken down by one dimension over a period: the top "
            "values of the dimension ranked by the first measure, each with every "
            "measure's value, and `other` for the remaining values together. "
            "Returns {period, breakdown: {dimension, measures, rows, other}}."
        )
    )
    async def get_breakdown(
        dataset_id: DatasetId,
        dimension: Annotated[
            str, Field(description="A dimension name from list_datasets.")
        ],
        measures: Annotated[
            list[str] | None,
            Field(
                description="Measure names (at most 8); omit for the token's measures."
            ),
        ] = None,
        top: Annotated[
            int, Field(ge=1, le=50, description="How many top values to list.")
        ] = 5,
        start_date: StartDate = None,
        end_date: EndDate = None,
        filters: Filters = None,
    ) -> dict[str, Any]:
        arguments = {
            "dataset_id": dataset_id,
            "dimension": dimension,
            "measures": measures,
            "top": top,
            "start_date": start_date,
            "end_date": end_date,
            "filters": filters,
        }
        query = {
            "breakdown": dimension,
            "top": str(top),
            "compare": "none",
            **_dates(start_date, end_date),
            **_kpi_filters(filters),
        }
        if measures:
            query["measures"] = ",".join(measures)

        def read(services, token):
            view = agent_access.kpi_view(services, token, dataset_id, query)
            return {
                "disclosure": view.get("disclosure"),
                "dataset": view["dataset"],
                "period": view["period"],
                "breakdown": view["breakdown"],
            }

        return run("get_breakdown", arguments, read)

    @server.tool(
        description=(
            "Anomalies in one metric of one dataset: flagged buckets with their "
            "value, expected value, deviation, severity and a one-sentence "
            "explanation, and episodes (flags grouped into events, most severe "
            "first). Returns {params, summary, anomalies, episodes}."
        )
    )
    async def get_anomalies(
        dataset_id: DatasetId,
        metric: Annotated[
            str | None,
            Field(description="A metric from list_datasets; omit for the first."),
        ] = None,
        granularity: Annotated[Granularity, Field(description="Bucket size.")] = "day",
        method: Annotated[
            Method,
            Field(
                description="Detector: auto (robust voting; recommended), or one "
                "method."
            ),
        ] = "auto",
        start_date: StartDate = None,
        end_date: EndDate = None,
        filters: Filters = None,
    ) -> dict[str, Any]:
        arguments = {
            "dataset_id": dataset_id,
            "metric": metric,
            "granularity": granularity,
            "method": method,
            "start_date": start_date,
            "end_date": end_date,
            "filters": filters,
        }
        query = _analysis_query(metric, granularity, start_date, end_date, filters)
        query["method"] = method

        def read(services, token):
            view = agent_access.analytics_view(services, token, dataset_id, query)
            return {
                "disclosure": view.get("disclosure"),
                "dataset": {"id": dataset_id, "name": view["dataset"]["name"]},
                "params": view["params"],
                "summary": view["summary"],
                "anomalies": view["anomalies"],
                "episodes": view["episodes"],
            }

        return run("get_anomalies", arguments, read)

    @server.tool(
        description=(
            "Plain-language insights about one metric of one dataset (level, "
            "trend, anomalies) and recommended actions to take next. Returns "
            "{params, insights: [sentences], recommendedActions: [sentences], "
            "notes}."
        )
    )
    async def get_insights(
        dataset_id: DatasetId,
        metric: Annotated[
            str | None,
            Field(description="A metric from list_datasets; omit for the first."),
        ] = None,
        granularity: Annotated[Granularity, Field(description="Bucket size.")] = "day",
        start_date: StartDate = None,
        end_date: EndDate = None,
        filters: Filters = None,
    ) -> dict[str, Any]:
        arguments = {
            "dataset_id": dataset_id,
            "metric": metric,
            "granularity": granularity,
            "start_date": start_date,
            "end_date": end_date,
            "filters": filters,
        }
        query = _analysis_query(metric, granularity, start_date, end_date, filters)
        return run(
            "get_insights",
            arguments,
            lambda services, token: agent_access.insights_view(
                services, token, dataset_id, query
            ),
        )

    return server


def _analysis_query(metric, granularity, start_date, end_date, filters) -> dict:
    query: dict[str, Any] = {"granularity": granularity, **_dates(start_date, end_date)}
    if metric:
        query["metric"] = metric
    if filters:
        query["filters"] = filters
    return query


def _audited_call(tool: str, arguments: dict, read: Callable[[Any, Any], dict]):
    """Run one tool read for the current agent and audit it before answering."""
    token, services = current_agent(), get_services()
    if token is None:  # the guard and the stdio scope always set it
        raise ToolError("No agent token.")
    resource = f"mcp:{tool}"
    if arguments.get("dataset_id"):
        resource += f":dataset:{arguments['dataset_id']}"
    try:
        result = read(services, token)
    except DomainError as error:
        _audit(token, resource, arguments, "failure", error.status)
        raise ToolError(error.message) from None
    _audit(token, resource, arguments, "success", 200)
    return result


def _audit(token, resource: str, arguments: dict, outcome: str, status: int) -> None:
    try:
        record_agent_call(
            token,
            resource=resource,
            parameters=arguments,
            outcome=outcome,
            status=status,
        )
    except ServiceUnavailable:
        g.agent_audit_failed = True  # the HTTP answer becomes a 503
        raise ToolError(AUDIT_REFUSAL) from None


# ----------------------------------------------------------- streamable HTTP

mcp_routes = Blueprint("mcp", __name__)
HTTP_SERVER = "insightboard_mcp"  # server.extensions key of the app's MCP server
# The guard checks the bearer token; the SDK's DNS-rebinding check (Host and
# Origin allow-lists) guards cookie-less local servers and is not needed here.
NO_HOST_CHECK = TransportSecuritySettings(enable_dns_rebinding_protection=False)


@mcp_routes.route(MCP_PATH, methods=["GET", "POST", "DELETE"])
def serve_mcp():
    """One streamable-HTTP exchange with the MCP server (stateless, JSON)."""
    mcp = current_app.extensions[HTTP_SERVER]
    status, headers, body = anyio.run(_exchange, mcp, _scope(), request.get_data())
    return Response(body, status=status, headers=headers)


def _scope() -> dict:
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in request.headers.items()
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": request.scheme,
        "path": MCP_PATH,
        "raw_path": MCP_PATH.encode(),
        "root_path": "",
        "query_string": request.query_string,
        "headers": headers,
        "client": (request.remote_addr or "", 0),
        "server": ("insightboard", 80),
    }


async def _exchange(mcp, scope: dict, body: bytes) -> tuple[int, list, bytes]:
    """Run the SDK's Starlette app (with its lifespan) for one request."""
    app = mcp.streamable_http_app(
        streamable_http_path=MCP_PATH,
        json_response=True,
        stateless_http=True,
        transport_security=NO_HOST_CHECK,
    )
    answer: dict[str, Any] = {"status": 500, "headers": [], "body": b""}
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        if pending:
            return pending.pop()
        await anyio.sleep_forever()  # no disconnect: the exchange ends by itself
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = [
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in message.get("headers", [])
            ]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    async with app.router.lifespan_context(app):
        await app(scope, receive, send)
    return answer["status"], answer["headers"], answer["body"]


def register(server: Flask) -> None:
    """Mount /mcp on the app (the guard holds it to agent tokens). The MCP server
    is built here, after the factory configured logging: built earlier, the SDK
    would install its own root log handler."""
    server.extensions[HTTP_SERVER] = build_server(contextlib.nullcontext)
    server.register_blueprint(mcp_routes)


# ---------------------------------------------------------------------- stdio


def stdio_call_scope(app: Flask, token_value: str):
    """Each stdio tool call: a request context of the app, the token resolved
    again (revoked or expired: refused) and counted against its rate limit."""

    @contextlib.contextmanager
    def scope() -> Iterator[None]:
        with app.test_request_context(MCP_PATH):
            try:
                g.agent_token = authorize_agent(token_value)
            except DomainError as error:
                raise ToolError(error.message) from None
            yield

    return scope
