"""The /audit page: filters (who, what, which dataset, when), a table of events in
words a manager reads, paging, and a CSV download of everything the filters match."""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import dcc, html

from auth.audit import ACTION_LABELS, ACTOR_TYPES
from components.widgets import aria, card, empty_state, icon

PREFIX = "audit"
PAGE_SIZE = 25
# Who acted, as the actor filter offers it (one entry per ACTOR_TYPES entry).
ACTOR_LABELS = {"user": "People", "agent": "AI agents", "share": "Share links",
                "system": "System"}  # fmt: skip
OUTCOME_BADGES = {"success": ("OK", "success"), "failure": ("Failed", "danger")}
RESOURCE_WORDS = {"share": "share link", "alert": "alert rule"}
HIDDEN_DETAILS = frozenset({"via", "tokenId", "token_id", "ruleId"})
# The value of a filter's "any" choice (dbc.Select keeps "" for its placeholder).
ANY = "any"


class ids:  # noqa: N801 - a namespace of component ids, read as ids.TABLE
    """Component ids of the /audit page."""

    PAGE = f"{PREFIX}-page"
    SCOPE = f"{PREFIX}-scope"
    ACTOR = f"{PREFIX}-actor"
    ACTION = f"{PREFIX}-action"
    DATASET = f"{PREFIX}-dataset"
    SINCE = f"{PREFIX}-since"
    UNTIL = f"{PREFIX}-until"
    TABLE = f"{PREFIX}-table"
    PAGE_NUMBER = f"{PREFIX}-page-number"
    PAGE_TEXT = f"{PREFIX}-page-text"
    PREVIOUS = f"{PREFIX}-previous"
    NEXT = f"{PREFIX}-next"
    DOWNLOAD_BUTTON = f"{PREFIX}-download-button"
    DOWNLOAD = f"{PREFIX}-download"


FILTER_INPUTS = (ids.ACTOR, ids.ACTION, ids.DATASET, ids.SINCE, ids.UNTIL)


def filter_query(actor, action, dataset, since, until) -> dict[str, str]:
    """The page's filter values as the query GET /api/audit reads: the end date
    counts whole (events before the next day)."""
    query = {"actor": actor, "action": action, "resource": dataset, "from": since}
    query = {name: value for name, value in query.items() if value != ANY}
    if until:
        try:
            query["to"] = (
                dt.date.fromisoformat(until) + dt.timedelta(days=1)
            ).isoformat()
        except ValueError:
            query["to"] = until  # the shared parser names the bad value
    return {name: value for name, value in query.items() if value}


def audit_page(dataset_names: dict[str, str], everyone: bool) -> html.Div:
    """The whole page; the table comes from its callback."""
    scope = (
        "You are an administrator: these are everyone's events."
        if everyone
        else "Everything done with your account: your datasets, share links, "
        "tokens and your agents' calls."
    )
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Audit trail", className="h3 mb-0"),
                    html.Button(
                        [icon("download"), "Download CSV"],
                        id=ids.DOWNLOAD_BUTTON,
                        type="button",
                        className="btn btn-outline-primary btn-sm",
                    ),
                ],
                className="d-flex justify-content-between align-items-center mb-2",
            ),
            html.P(scope, id=ids.SCOPE, className="text-muted"),
            card(filters(dataset_names), class_name="mb-3"),
            dcc.Store(id=ids.PAGE_NUMBER, data=0),
            dcc.Download(id=ids.DOWNLOAD),
            card(
                [
                    html.H2("Events", className="h5 mb-2"),
                    html.Div(id=ids.TABLE, **aria(live="polite")),
                    pager(),
                ]
            ),
        ],
        id=ids.PAGE,
    )


def _labelled(label: str, control) -> dbc.Col:
    return dbc.Col(
        [dbc.Label(label, html_for=control.id, className="small mb-1"), control],
        md=True,
    )


def _select(component_id: str, everything: str, choices: dict) -> dbc.Select:
    options = [{"label": everything, "value": ANY}]
    options += [{"label": label, "value": value} for value, label in choices.items()]
    return dbc.Select(id=component_id, options=options, value=ANY, size="sm")


def filters(dataset_names: dict[str, str]) -> dbc.Row:
    """Who acted, which action, which dataset, from and to (dates, UTC)."""
    actors = {actor: ACTOR_LABELS[actor] for actor in ACTOR_TYPES}
    actions = dict(sorted(ACTION_LABELS.items(), key=lambda item: item[1]))
    datasets = dict(sorted(dataset_names.items(), key=lambda item: item[1].lower()))
    return dbc.Row(
        [
            _labelled("Who", _select(ids.ACTOR, "Anyone", actors)),
            _labelled("Action", _select(ids.ACTION, "Any action", actions)),
            _labelled("Dataset", _select(ids.DATASET, "Any dataset", datasets)),
            _labelled("From (UTC)", dbc.Input(id=ids.SINCE, type="date", size="sm")),
            _labelled("To (UTC)", dbc.Input(id=ids.UNTIL, type="date", size="sm")),
        ],
        className="g-2",
    )


def pager() -> html.Div:
    """Previous / next page and which events are shown."""
    return html.Div(
        [
            html.Span(id=ids.PAGE_TEXT, className="small text-muted", role="status"),
            html.Div(
                [
                    html.Button(
                        "Newer",
                        id=ids.PREVIOUS,
                        type="button",
                        className="btn btn-outline-secondary btn-sm me-2",
                    ),
                    html.Button(
                        "Older",
                        id=ids.NEXT,
                        type="button",
                        className="btn btn-outline-secondary btn-sm",
                    ),
                ]
            ),
        ],
        className="d-flex justify-content-between align-items-center mt-2",
    )


def page_text(page: int, shown: int) -> str:
    """Which events of the newest-first list the page shows."""
    if not shown:
        return "No events on this page."
    first = page * PAGE_SIZE + 1
    return f"Events {first:,}–{first + shown - 1:,}, newest first."


# ------------------------------------------------------------------- the table


def events_table(
    rows: list[dict], dataset_names: dict[str, str], emails: dict[str, str]
) -> object:
    """The events in words: when, who, what, on what, how it went, details;
    `emails` names people whose events carry no e-mail (by user id)."""
    if not rows:
        return empty_state(
            "journal-text", "No events", "Nothing matches these filters.",
            spacing="py-4",
        )  # fmt: skip
    columns = ("When (UTC)", "Who", "Action", "On", "Outcome", "Details")
    head = html.Thead(html.Tr([html.Th(name, scope="col") for name in columns]))
    known = {**emails, **{str(r["user_id"]): r["email"] for r in rows if r["email"]}}
    body = html.Tbody([_event_row(row, dataset_names, known) for row in rows])
    return dbc.Table(
        [head, body],
        size="sm", hover=True, responsive=True, className="mb-0 ib-audit-table",
    )  # fmt: skip


def _event_row(row: dict, dataset_names: dict[str, str], emails: dict) -> html.Tr:
    text, colour = OUTCOME_BADGES.get(row["outcome"], (row["outcome"], "secondary"))
    return html.Tr(
        [
            html.Td(row["occurred_at"].astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    className="text-nowrap"),
            html.Td(actor_text(row, emails)),
            html.Td(ACTION_LABELS.get(row["action"], row["action"])),
            html.Td(resource_text(row["resource"], dataset_names)),
            html.Td(dbc.Badge(text, color=colour)),
            html.Td(details_text(row), className="small"),
        ]
    )  # fmt: skip


def actor_text(row: dict, emails: dict[str, str] | None = None) -> str:
    """Who acted: a person's e-mail, an agent token or share link by short id."""
    actor_id = row["actor_id"] or ""
    if row["actor_type"] == "agent":
        return f"AI agent {actor_id[:8]}"
    if row["actor_type"] == "share":
        return f"Share link {actor_id[:8]}"
    if row["actor_type"] == "system":
        return "System"
    via = (row["details"] or {}).get("via")
    user_id = str(row["user_id"]) if row["user_id"] else None
    who = row["email"] or (emails or {}).get(user_id or "")
    who = who or (f"user {user_id[:8]}" if user_id else "—")
    return f"{who} (API token)" if via == "token" else who


def resource_text(resource: str | None, dataset_names: dict[str, str]) -> str:
    """ "dataset:<id>/share:<id>" as words: the dataset's name, then the part."""
    if not resource:
        return "—"
    if not resource.startswith("dataset:"):
        return resource  # an API path
    words = []
    for part in resource.split("/"):
        kind, _, key = part.partition(":")
        if kind == "dataset":
            words.append(dataset_names.get(key) or f"dataset {key[:8]}")
        else:
            words.append(f"{RESOURCE_WORDS.get(kind, kind)} {key[:8]}")
    return " · ".join(words)


def details_text(row: dict) -> str:
    """The event's parameters, short: "name: Ledger · version: 2"."""
    details = row["details"] or {}
    shown = [
        f"{name}: {_value(value)}"
        for name, value in details.items()
        if name not in HIDDEN_DETAILS and value not in (None, "", [])
    ]
    return " · ".join(shown)


def _value(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
