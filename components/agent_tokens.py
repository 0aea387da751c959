"""The account page's agent tokens: a form that creates one (datasets, measures,
dimensions, expiry, longest window), and the list with scopes and revoke buttons.

The form sends the API's fields (POST /api/agent-tokens) to the same service, so
its checks and messages are the API's; `FIELDS` ties each API field to its form
control, label and error slot."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dash_bootstrap_components as dbc
from dash import html

from auth.agent_guard import MCP_PATH
from auth.agent_tokens import (
    DEFAULT_MAX_WINDOW_DAYS,
    MAX_EXPIRY_DAYS,
    MAX_WINDOW_DAYS,
    AgentToken,
)
from auth.bearer_values import MAX_NAME_LENGTH
from components.auth_forms import new_token_alert
from components.widgets import aria, checklist_field, icon, with_field_label

PREFIX = "account-agent-token"
DEFAULT_EXPIRY_DAYS = 30


class AgentTokenIds:
    """Component ids of the agent tokens card."""

    LIST = f"{PREFIX}-list"
    MESSAGE = f"{PREFIX}-message"
    REVOKE = f"{PREFIX}-revoke"  # pattern-matching type, index = token id
    SECRET = f"{PREFIX}-secret"
    VALUE = f"{PREFIX}-value"
    TOGGLE = f"{PREFIX}-new"
    FORM = f"{PREFIX}-form"
    CREATE = f"{PREFIX}-create"
    NAME = f"{PREFIX}-name"
    DATASETS = f"{PREFIX}-datasets"
    MEASURES = f"{PREFIX}-measures"
    DIMENSIONS = f"{PREFIX}-dimensions"
    EXPIRY = f"{PREFIX}-expiry"
    WINDOW = f"{PREFIX}-window"


@dataclass(frozen=True)
class FormField:
    """One API field of a new token as the form shows it."""

    api_name: str
    control_id: str
    label: str
    # A text input (it turns red when invalid); checklists only show the message.
    is_input: bool

    @property
    def error_id(self) -> str:
        """The slot beside the control where its error is shown."""
        return f"{self.control_id}-error"


FIELDS = (
    FormField("name", AgentTokenIds.NAME, "Name", True),
    FormField("datasets", AgentTokenIds.DATASETS, "Datasets", False),
    FormField("measures", AgentTokenIds.MEASURES, "Measures", False),
    FormField("dimensions", AgentTokenIds.DIMENSIONS, "Allowed dimensions", False),
    FormField("expiresAt", AgentTokenIds.EXPIRY, "Expires on", True),
    FormField("maxWindowDays", AgentTokenIds.WINDOW, "Longest window", True),
)
FIELDS_BY_API_NAME = {field.api_name: field for field in FIELDS}


def readable_error(message: str, api_name: str) -> str:
    """An API message for the form: the field's label in place of its API name
    ("maxWindowDays must be 1 to 366." -> "Longest window must be 1 to 366.")."""
    field = FIELDS_BY_API_NAME.get(api_name)
    return with_field_label(message, api_name, field.label) if field else message


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


def _error_slot(field: FormField) -> html.Div:
    return html.Div(
        id=field.error_id, className="invalid-feedback d-block", role="alert"
    )


def _text_field(field: FormField, help_text: str, **input_props) -> html.Div:
    """A labelled input with its error slot and a hint."""
    return html.Div(
        [
            dbc.Label(field.label, html_for=field.control_id,
                      class_name="small fw-semibold mb-1"),
            dbc.Input(id=field.control_id, size="sm", **input_props),
            _error_slot(field),
            html.Div(help_text, className="form-text mt-1"),
        ]
    )  # fmt: skip


def _choice_field(field: FormField, options: list[dict], empty_text: str, hint=""):
    """A checklist with its error slot and a hint."""
    return html.Div(
        [
            checklist_field(
                field.label, field.control_id, empty_text=empty_text, options=options
            ),
            _error_slot(field),
            html.Div(hint, className="form-text mt-1") if hint else None,
        ]
    )


def expiry_bounds(today: dt.date) -> dict[str, str]:
    """The expiry date input's default, first and last choosable day."""
    return {
        "value": (today + dt.timedelta(days=DEFAULT_EXPIRY_DAYS)).isoformat(),
        "min": (today + dt.timedelta(days=1)).isoformat(),
        "max": (today + dt.timedelta(days=MAX_EXPIRY_DAYS)).isoformat(),
    }


def _expiry_field(field: FormField, today: dt.date) -> html.Div:
    """A date, 30 days ahead by default, at most 90."""
    return _text_field(
        field,
        f"At most {MAX_EXPIRY_DAYS} days ahead; it stops at 00:00 UTC that day.",
        type="date",
        **expiry_bounds(today),
    )


def _window_field(field: FormField) -> html.Div:
    """The longest window in days (empty: the default)."""
    return _text_field(
        field,
        f"Days one call may span, 1 to {MAX_WINDOW_DAYS} (empty: "
        f"{DEFAULT_MAX_WINDOW_DAYS}).",
        type="number",
        min=1,
        max=MAX_WINDOW_DAYS,
        step=1,
        placeholder=str(DEFAULT_MAX_WINDOW_DAYS),
    )


def agent_token_form(datasets: dict[str, str], today: dt.date) -> html.Div:
    """Name, datasets, measures and dimensions (filled from the chosen datasets),
    expiry and longest window; `datasets` is {id: name} of the user's own."""
    name, chosen, measures, dimensions, expiry, window = FIELDS
    dataset_options = [
        {"label": label, "value": key} for key, label in datasets.items()
    ]
    return html.Div(
        [
            _text_field(name, "Say which agent or tool uses it.",
                        maxlength=MAX_NAME_LENGTH,
                        placeholder="e.g. weekly-insights-bot"),
            _choice_field(chosen, dataset_options, "You have no datasets yet."),
            dbc.Row(
                [
                    dbc.Col(_choice_field(measures, [], "Choose a dataset first.",
                                          "None ticked: every measure."), md=6),
                    dbc.Col(_choice_field(dimensions, [], "Choose a dataset first.",
                                          "None ticked: every dimension."), md=6),
                ],
                class_name="g-3",
            ),
            dbc.Row(
                [dbc.Col(_expiry_field(expiry, today), md=6),
                 dbc.Col(_window_field(window), md=6)],
                class_name="g-3",
            ),
            dbc.Button([icon("robot"), "Create agent token"], id=AgentTokenIds.CREATE,
                       color="primary", class_name="mt-1"),
        ],
        className="d-grid gap-3 border rounded p-3 mb-3",
    )  # fmt: skip


def measure_options(measures: dict[str, str]) -> list[dict]:
    """Checklist options of {name: label}: "Revenue (revenue)", or the name alone
    when the label adds nothing."""
    return [
        {"label": f"{label} ({name})" if label and label != name else name,
         "value": name}
        for name, label in measures.items()
    ]  # fmt: skip


def mcp_usage(mcp_url: str) -> list:
    """How to use a new agent token: where the MCP client connects, and how."""
    return [
        "Paste this into your MCP client: server URL ",
        html.Code(mcp_url),
        ", header ",
        html.Code("Authorization: Bearer <token>"),
        ". It reads aggregates of the chosen datasets only.",
    ]


def new_agent_token_alert(name: str, secret: str, host_url: str) -> dbc.Alert:
    """The one-time display of a new agent token, with the MCP hint."""
    url = host_url.rstrip("/") + MCP_PATH
    return new_token_alert(
        name, secret, value_id=AgentTokenIds.VALUE, usage=mcp_usage(url)
    )


def agent_tokens_card(
    tokens: list[AgentToken], datasets: dict[str, str], today: dt.date
) -> dbc.Card:
    """Create, list and revoke agent tokens."""
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.H2("Agent tokens", className="h5 mb-0", id="agent-tokens"),
                        html.Button(
                            [icon("plus-lg"), "New agent token"],
                            id=AgentTokenIds.TOGGLE, type="button",
                            className="btn btn-outline-primary btn-sm",
                            **aria(controls=AgentTokenIds.FORM, expanded="false"),
                        ),
                    ],
                    className="d-flex justify-content-between align-items-center "
                    "mb-1",
                ),
                html.P(
                    ["For AI agents (MCP at ", html.Code(MCP_PATH), "): each reads "
                     "aggregates of its datasets only, never rows or personal "
                     "columns."],
                    className="text-muted small mb-3",
                ),
                html.Div(id=AgentTokenIds.SECRET),
                html.Div(id=AgentTokenIds.MESSAGE),
                dbc.Collapse(agent_token_form(datasets, today), id=AgentTokenIds.FORM,
                             is_open=False),
                html.Div(agent_token_table(tokens), id=AgentTokenIds.LIST),
            ]
        ),
        className="shadow-sm border-0 mb-4",
    )  # fmt: skip
