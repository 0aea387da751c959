"""The account page's agent tokens: each with its scope and a revoke button.

Agent tokens are created through the API (POST /api/agent-tokens: datasets,
measures, dimensions, window and expiry); the page lists and revokes them."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from auth.agent_tokens import AgentToken


class AgentTokenIds:
    """Component ids of the agent tokens card."""

    LIST = "account-agent-token-list"
    MESSAGE = "account-agent-token-message"
    REVOKE = "account-agent-token-revoke"  # pattern-matching type, index = token id


def _names(values: tuple[str, ...] | None, every: str) -> str:
    return ", ".join(values) if values is not None else every


def _scope(token: AgentToken) -> str:
    count = len(token.datasets)
    datasets = f"{count} dataset{'s' if count != 1 else ''}"
    return (
        f"{datasets}; measures: {_names(token.measures, 'all')}; dimensions: "
        f"{_names(token.dimensions, 'all')}; windows up to {token.max_window_days} "
        "days"
    )


def agent_token_table(tokens: list[AgentToken]) -> html.Div | html.P:
    """The user's live agent tokens, each with its scope and a revoke button."""
    if not tokens:
        return html.P(
            "No agent tokens.", className="text-muted mb-0", id="account-no-agents"
        )
    header = html.Thead(
        html.Tr([html.Th(t) for t in ("Name", "Token", "Scope", "Expires", "")])
    )
    rows = [
        html.Tr(
            [
                html.Td(token.name, className="fw-medium"),
                html.Td(html.Code(f"{token.prefix}…")),
                html.Td(_scope(token), className="small"),
                html.Td(token.expires_at.strftime("%d %b %Y")),
                html.Td(
                    dbc.Button(
                        "Revoke",
                        id={"type": AgentTokenIds.REVOKE, "index": token.id},
                        color="outline-danger",
                        size="sm",
                    ),
                    className="text-end",
                ),
            ],
            className="account-agent-token-row",
        )
        for token in tokens
    ]
    return dbc.Table([header, html.Tbody(rows)], hover=True, responsive=True,
                     className="align-middle mb-0", size="sm")  # fmt: skip


def agent_tokens_card(tokens: list[AgentToken]) -> dbc.Card:
    """List and revoke agent tokens (created through the API)."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.H2("Agent tokens", className="h5 mb-1", id="agent-tokens"),
                html.P(
                    [
                        "For AI agents (MCP at ",
                        html.Code("/mcp"),
                        "): each reads aggregates of its datasets only. Create one "
                        "with ",
                        html.Code("POST /api/agent-tokens"),
                        ".",
                    ],
                    className="text-muted small mb-3",
                ),
                html.Div(id=AgentTokenIds.MESSAGE),
                html.Div(agent_token_table(tokens), id=AgentTokenIds.LIST),
            ]
        ),
        className="shadow-sm border-0 mb-4",
    )
