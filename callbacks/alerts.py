"""The /alerts page: measure choices, backtest, save, acknowledge, mute, delete.

Every action calls data.alerts (the services behind /api/alerts) for the signed-in
user; the form becomes the same JSON body the API takes (`form_body`)."""

from __future__ import annotations

import datetime as dt

import dash
from dash import ALL, Input, Output, State, ctx, no_update

from callbacks import gateway
from components.alerts_layout import (
    alerts_page,
    backtest_spec,
    firing_list,
    history_table,
    ids,
    rules_table,
    summary_text,
)
from components.widgets import message_alert
from data import datasets as dataset_service
from data.alerts import service, store
from data.errors import DomainError
from data.services import get_services

MUTE_FOR = dt.timedelta(hours=1)
FORM = [
    ("name", ids.NAME), ("datasetId", ids.DATASET), ("measure", ids.MEASURE),
    ("aggregation", ids.AGGREGATION), ("granularity", ids.GRANULARITY),
    ("type", ids.CONDITION), ("threshold", ids.THRESHOLD), ("recovery", ids.RECOVERY),
    ("minVolume", ids.MIN_VOLUME), ("severity", ids.SEVERITY),
    ("forBuckets", ids.FOR_BUCKETS), ("keepFiringForBuckets", ids.KEEP_FIRING),
    ("noData", ids.NO_DATA), ("repeatIntervalMinutes", ids.REPEAT),
    ("email", ids.EMAIL), ("webhookUrl", ids.WEBHOOK_URL),
    ("webhookSecret", ids.WEBHOOK_SECRET), ("webhookFormat", ids.WEBHOOK_FORMAT),
    ("muteDays", ids.MUTE_DAYS), ("muteHours", ids.MUTE_HOURS), ("muteTz", ids.MUTE_TZ),
]  # fmt: skip
CHANNEL_KEYS = ("email", "webhookUrl", "webhookSecret", "webhookFormat")
MUTE_KEYS = ("muteDays", "muteHours", "muteTz")
CONDITION_KEYS = ("type", "threshold", "recovery", "minVolume", "severity")


def _present(value) -> bool:
    return value not in (None, "")


def form_body(values: dict) -> dict:
    """The form's values as the API's rule body (blank fields take the defaults)."""
    condition = {k: values[k] for k in CONDITION_KEYS if _present(values.get(k))}
    skip = {*CONDITION_KEYS, *CHANNEL_KEYS, *MUTE_KEYS}
    body = {k: v for k, v in values.items() if k not in skip and _present(v)}
    body["condition"] = condition
    if _present(values.get("muteHours")):
        body["muteTimings"] = [{"days": values.get("muteDays") or [],
                                "hours": values["muteHours"].strip(),
                                "tz": values.get("muteTz") or "UTC"}]  # fmt: skip
    channels = []
    recipients = [a.strip() for a in (values.get("email") or "").split(",")]
    if any(recipients):
        channels.append({"type": "email", "to": [a for a in recipients if a]})
    if _present(values.get("webhookUrl")):
        channels.append({"type": "webhook", "url": values["webhookUrl"],
                         "secret": values.get("webhookSecret") or "",
                         "format": values.get("webhookFormat") or "json"})  # fmt: skip
    body["channels"] = channels
    return body


def dataset_options(services, owner_id: str) -> list[dict]:
    """The owner's datasets as select options."""
    return [
        {"label": item["name"], "value": item["id"]}
        for item in dataset_service.list_datasets(services, owner_id)
    ]


def rules_of(services, owner_id: str) -> list[dict]:
    """The owner's rules as the API shows them."""
    return [service.rule_view(r) for r in store.list_rules(services.postgres, owner_id)]


def page_layout() -> object:
    """The page for the signed-in user (the guard lets no one else in)."""
    user = gateway.user_or_none()
    if user is None:
        return None
    services = get_services()
    return alerts_page(
        dataset_options(services, user.id),
        rules_of(services, user.id),
        service.recent_changes(services, user.id),
    )


def _problem(error: DomainError):
    field = error.details.get("field")
    title = f"Check {field}" if field else "This rule cannot run"
    return message_alert(title, error.message, "warning")


def register(app: dash.Dash) -> None:
    """The page's callbacks."""
    form_states = [State(component, "value") for _key, component in FORM]

    @app.callback(
        Output(ids.MEASURE, "options"),
        Output(ids.MEASURE, "value"),
        Input(ids.DATASET, "value"),
    )
    def measures(dataset_id):
        if not dataset_id:
            return [], None
        try:
            choices = service.measure_choices(
                get_services(), gateway.user_or_none().id, dataset_id
            )
        except DomainError:
            return [], None
        return choices, choices[0]["value"] if choices else None

    @app.callback(
        Output(ids.RESULT, "children"),
        Output(ids.CHART, "figure"),
        Output(ids.CHART, "style"),
        Output(ids.REFRESH, "data"),
        Input(ids.BACKTEST, "n_clicks"),
        Input(ids.SAVE, "n_clicks"),
        *form_states,
        State(ids.REFRESH, "data"),
        prevent_initial_call=True,
    )
    def backtest_or_save(_backtest, _save, *values):
        *fields, refresh = values
        body = form_body(dict(zip([k for k, _c in FORM], fields, strict=True)))
        owner_id = gateway.user_or_none().id
        try:
            if ctx.triggered_id == ids.SAVE:
                rule = service.create_rule(get_services(), owner_id, body)
                saved = message_alert("Rule saved", f"{rule['name']}: {rule['state']}.",
                                      "success")  # fmt: skip
                return saved, no_update, no_update, (refresh or 0) + 1
            result = service.backtest_with_series(get_services(), owner_id, body)
        except DomainError as error:
            return _problem(error), no_update, {"display": "none"}, no_update
        return _backtest_message(result), backtest_spec(result), {}, no_update

    @app.callback(
        Output(ids.REFRESH, "data", allow_duplicate=True),
        Input({"type": ids.ACK, "rule": ALL}, "n_clicks"),
        Input({"type": ids.MUTE, "rule": ALL}, "n_clicks"),
        Input({"type": ids.DELETE, "rule": ALL}, "n_clicks"),
        State(ids.REFRESH, "data"),
        prevent_initial_call=True,
    )
    def act(_acks, _mutes, _deletes, refresh):
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update
        act_on(ctx.triggered_id["type"], ctx.triggered_id["rule"])
        return (refresh or 0) + 1

    @app.callback(
        Output(ids.SUMMARY, "children"),
        Output(ids.FIRING, "children"),
        Output(ids.RULES, "children"),
        Output(ids.HISTORY, "children"),
        Input(ids.REFRESH, "data"),
        prevent_initial_call=True,
    )
    def refresh_lists(_refresh):
        services, owner_id = get_services(), gateway.user_or_none().id
        rules = rules_of(services, owner_id)
        changes = service.recent_changes(services, owner_id)
        return (summary_text(rules), firing_list(rules), rules_table(rules),
                history_table(changes))  # fmt: skip


def act_on(kind: str, rule_id: str) -> None:
    """Acknowledge, mute for an hour, or delete one of the user's rules."""
    db, owner_id = get_services().postgres, gateway.user_or_none().id
    try:
        if kind == ids.ACK:
            store.acknowledge(db, owner_id, rule_id)
        elif kind == ids.MUTE:
            store.silence(db, owner_id, rule_id, service.now_utc() + MUTE_FOR)
        elif kind == ids.DELETE:
            service.delete_rule(get_services(), owner_id, rule_id)
    except DomainError:
        pass  # already gone: the refreshed list shows it


def _backtest_message(result: dict):
    times = "time" if result["count"] == 1 else "times"
    text = (
        f"This rule would have fired {result['count']} {times} over the dataset's "
        f"history ({len(result['series'])} buckets)."
    )
    return message_alert("Backtest", text, "info")
