"""Alert services: rules (owner-scoped), backtests, and the live evaluation.

Live evaluation runs after a version finishes processing (ingest's after-processing
hook, in whichever worker processed it, after the version is already visible, so
it never delays or fails ingest) or records are appended, on a background thread
where a burst of requests for one dataset is one evaluation (data/alerts/
background.py), and on a schedule (data/alerts/schedule.py), which also feeds the
no-data policy the buckets that never arrived. One evaluator runs at a time
across processes (a Redis lock with an expiry; a process lock without Redis), and
each evaluation commits only if nobody evaluated the rule meanwhile
(state_version), so two processes never record or notify twice; every
notification is keyed by (rule, event, bucket, channel) on top.

Under the lock an evaluation only commits: the state, its history and the
notification rows. Sending them (SMTP, webhooks with their retries) happens on
the delivery threads, outside the lock; a notification still pending after
STALE_PENDING (its sender died) is claimed by one process and sent again.
After a commit that starts or stops a firing, the owner's pages are told that
their count changed (the wired firing listener: api/live.py's user room).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

import redis

from data.alerts import delivery, engine, store
from data.alerts.background import Worker
from data.alerts.engine import ACTIVE, Bucket, Replay, RuleState
from data.alerts.mutes import muted, silenced
from data.alerts.rules import AlertRule, parse_rule, rule_document
from data.alerts.series import load_buckets
from data.analytics.pipeline import bucket_start, next_bucket
from data.analytics.service import load_dataset
from data.errors import DomainError
from data.services import Services

log = logging.getLogger(__name__)
LOCK_KEY = "alerts:evaluator"
LOCK_EXPIRY_S = 300  # a crashed evaluator's lock lapses after this
LOCK_WAIT_S = 30
MAX_TRAILING_BUCKETS = 1000
NOTIFYING = ("firing", "resolved", "repeat")
_PROCESS_LOCKS: dict[int, threading.Lock] = {}


def now_utc() -> dt.datetime:
    """The current time (UTC)."""
    return dt.datetime.now(dt.UTC)


# -- rules ----------------------------------------------------------------------


SECRET_MASK = "whsec_********"


def masked(definition: dict) -> dict:
    """The definition with webhook secrets hidden (they are only ever written)."""
    channels = [
        {**c, "secret": SECRET_MASK} if c.get("type") == "webhook" else c
        for c in definition.get("channels") or []
    ]
    return {**definition, "channels": channels}


def unmasked(raw: object, stored: dict) -> object:
    """A replacement body whose masked secrets keep the stored ones (same channel
    position, same URL)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("channels"), list):
        return raw
    before = stored.get("channels") or []
    channels = []
    for index, channel in enumerate(raw["channels"]):
        old = before[index] if index < len(before) else {}
        keep = isinstance(channel, dict) and channel.get("secret") == SECRET_MASK
        if (
            keep
            and old.get("type") == "webhook"
            and old.get("url") == channel.get("url")
        ):
            channel = {**channel, "secret": old["secret"]}
        channels.append(channel)
    return {**raw, "channels": channels}


def rule_view(row: dict) -> dict:
    """A stored rule as the API shows it: the definition (secrets masked), id and
    state."""
    return {
        "id": str(row["id"]),
        **masked(row["definition"]),
        "state": row["state"],
        "stateSince": _iso(row["state_since"]),
        "lastError": row["last_error"],
        "acknowledgedAt": _iso(row["acknowledged_at"]),
        "silencedUntil": _iso(row["silenced_until"]),
        "createdAt": _iso(row["created_at"]),
        "updatedAt": _iso(row["updated_at"]),
    }


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def checked_rule(services: Services, owner_id: str, raw: object):
    """A valid rule whose dataset and measure exist: (rule, its buckets)."""
    rule = parse_rule(raw)
    return rule, load_buckets(services, owner_id, rule)


def create_rule(services: Services, owner_id: str, raw: object) -> dict:
    """Store a rule and evaluate it over the history it already has."""
    rule, buckets = checked_rule(services, owner_id, raw)
    row = store.create_rule(services.postgres, owner_id, rule_document(rule))
    _audit_rule(services, owner_id, "alert_rule_create", str(row["id"]), row)
    return rule_view(_evaluate(services, row, buckets, now_utc()) or row)


def replace_rule(services: Services, owner_id: str, rule_id: str, raw: object) -> dict:
    """Replace a rule; its evaluation starts over from the history."""
    current = store.get_rule(services.postgres, owner_id, rule_id)
    rule, buckets = checked_rule(
        services, owner_id, unmasked(raw, current["definition"])
    )
    row = store.replace_rule(services.postgres, owner_id, rule_id, rule_document(rule))
    announce_count_change(services, owner_id, current["state"], row["state"])
    _audit_rule(services, owner_id, "alert_rule_update", str(row["id"]), row)
    return rule_view(_evaluate(services, row, buckets, now_utc()) or row)


def delete_rule(services: Services, owner_id: str, rule_id: str) -> None:
    """Delete one of the owner's rules with its history (NotFound otherwise)."""
    deleted = store.delete_rule(services.postgres, owner_id, rule_id)
    announce_count_change(services, owner_id, deleted["state"], None)
    row = {"definition": deleted["definition"]}
    _audit_rule(services, owner_id, "alert_rule_delete", rule_id.lower(), row)


def _audit_rule(services: Services, owner_id: str, action: str, rule_id: str, row):
    """A rule change in the audit trail: which rule of which dataset (never its
    channels: a webhook URL may carry a secret)."""
    definition = row["definition"]
    services.audit(
        action, user_id=owner_id, resource=rule_resource(definition, rule_id),
        details={"ruleId": rule_id, "name": definition.get("name"),
                 "measure": definition.get("measure")},
    )  # fmt: skip


def rule_resource(definition: dict, rule_id: str) -> str:
    """How the audit trail names a rule: under its dataset."""
    return f"dataset:{definition.get('datasetId')}/alert:{rule_id}"


def backtest(services: Services, owner_id: str, raw: object) -> dict:
    """What the rule would have done over the dataset's whole history."""
    rule, buckets = checked_rule(services, owner_id, raw)
    return engine.backtest(rule, buckets)


def backtest_with_series(services: Services, owner_id: str, raw: object) -> dict:
    """The backtest plus the series it ran on (the page draws both)."""
    rule, buckets = checked_rule(services, owner_id, raw)
    series = [{"t": _iso(b.t), "value": b.value} for b in buckets]
    return {**engine.backtest(rule, buckets), "series": series}


def measure_choices(services: Services, owner_id: str, dataset_id: str) -> list[dict]:
    """What a rule on this dataset may watch: KPI measures, then metric columns."""
    dataset = load_dataset(services, owner_id, dataset_id)
    kpi = [
        {"value": m["name"], "label": f"KPI: {m.get('label') or m['name']}"}
        for m in dataset.get("measures") or []
    ]
    metrics = [
        {"value": name, "label": f"Metric: {name}"}
        for name in dataset.get("metricColumns") or []
    ]
    return kpi + metrics


def recent_changes(services: Services, owner_id: str) -> list[dict]:
    """The owner's latest state changes across rules, newest first."""
    rows = store.recent_history(services.postgres, owner_id)
    return [{**_history_item(row), "rule": row["name"]} for row in rows]


def history_view(services: Services, owner_id: str, rule_id: str) -> dict:
    """A rule's state history (newest first) and its notifications."""
    row = store.get_rule(services.postgres, owner_id, rule_id)
    changes = store.history(services.postgres, row["id"])
    sent = store.notifications(services.postgres, row["id"])
    return {
        "id": str(row["id"]),
        "state": row["state"],
        "history": [_history_item(item) for item in changes],
        "notifications": [_notification_item(item) for item in sent],
    }


def _history_item(item: dict) -> dict:
    return {
        "bucket": _iso(item["bucket"]),
        "from": item["from_state"],
        "to": item["to_state"],
        "value": item["value"],
        "reason": item["reason"],
        "recordedAt": _iso(item["recorded_at"]),
    }


def _notification_item(item: dict) -> dict:
    return {
        "event": item["event"],
        "bucket": _iso(item["bucket"]),
        "channel": item["channel"],
        "type": item["channel_type"],
        "status": item["status"],
        "attempts": item["attempts"],
        "lastError": item["last_error"],
        "createdAt": _iso(item["created_at"]),
        "deliveredAt": _iso(item["delivered_at"]),
    }


# -- evaluation -----------------------------------------------------------------


def _stored_state(row: dict) -> RuleState:
    detail = RuleState.from_document(row["state_detail"])
    return RuleState(**{**detail.document(), "state": row["state"]})


def trailing_buckets(
    buckets: list[Bucket], granularity: str, now: dt.datetime
) -> list[Bucket]:
    """Empty buckets from after the last one with data up to the last complete
    bucket before `now` (the schedule's view of data that stopped arriving)."""
    if not buckets:
        return []
    missing: list[Bucket] = []
    current = bucket_start(now, granularity)
    moment = next_bucket(buckets[-1].t, granularity)
    previous = buckets[-1].value
    while next_bucket(moment, granularity) <= current:
        missing.append(Bucket(moment, None, previous))
        previous = None
        moment = next_bucket(moment, granularity)
        if len(missing) >= MAX_TRAILING_BUCKETS:
            break
    return missing


def plan(rule: AlertRule, row: dict, result: Replay, first: bool, now) -> list[dict]:
    """Notification rows for the replay's events: every notifying event, except
    on a rule's first evaluation (its history), where only a firing still on at
    the end is announced. Muted or silenced ones are kept but not sent."""
    events = [e for e in result.events if e.kind in NOTIFYING]
    if first:
        live = result.state.state in ACTIVE
        events = [e for e in events if live and e.t == result.state.firing_since]
        events = events[-1:]
    quiet = muted(rule.mute_timings, now) or silenced(row["silenced_until"], now)
    status = "muted" if quiet else "pending"
    rows = []
    for event in events:
        payload = _payload(rule, row, event)
        for index, channel in enumerate(rule.channels):
            rows.append(
                {
                    "event": event.kind,
                    "t": event.t,
                    "channel": index,
                    "type": channel.type,
                    "status": status,
                    "payload": payload,
                }
            )
    return rows  # fmt: skip


def _payload(rule: AlertRule, row: dict, event: engine.Event) -> dict:
    return {
        "ruleId": str(row["id"]),
        "ruleName": rule.name,
        "datasetId": rule.dataset_id,
        "measure": rule.measure,
        "event": event.kind,
        "previous": event.previous,
        "state": event.state,
        "bucket": event.t,
        "value": event.value,
        "reason": event.reason,
    }


def _changes(result: Replay) -> list[dict]:
    return [
        {"t": e.t, "previous": e.previous, "state": e.state, "value": e.value,
         "reason": e.reason}
        for e in result.events
        if e.kind != "repeat"
    ]  # fmt: skip


def _special(row: dict, state: str, reason: str, now) -> dict:
    """An outcome for a rule that could not be evaluated (nodata or error)."""
    previous = row["state"]
    moved = [] if previous == state else [
        {"t": _iso(now), "previous": previous, "state": state, "value": None,
         "reason": reason}
    ]  # fmt: skip
    detail = {**_stored_state(row).document(), "state": state}
    error = reason if state == "error" else None
    return {"state": state, "detail": detail, "history": moved,
            "notifications": [], "error": error}  # fmt: skip


def _outcome(services, row: dict, buckets, now, scheduled: bool) -> dict:
    rule = AlertRule.model_validate(row["definition"])
    if not buckets:
        return _special(row, "nodata", "the series has no buckets", now)
    if scheduled and rule.no_data != "keep":  # keep: missing buckets change nothing
        buckets = buckets + trailing_buckets(buckets, rule.granularity, now)
    state = _stored_state(row)
    result = engine.replay(rule, buckets, state)
    return {
        "state": result.state.state,
        "detail": result.state.document(),
        "history": _changes(result),
        "notifications": plan(rule, row, result, state.through is None, now),
        "error": None,
    }


def _evaluate(services, row: dict, buckets, now, scheduled: bool = False):
    """Evaluate one rule on its buckets and commit; the new row or None."""
    outcome = _outcome(services, row, buckets, now, scheduled)
    if not commit(services, row, outcome):
        return None
    return store.get_rule(services.postgres, row["user_id"], str(row["id"]))


def commit(services: Services, row: dict, outcome: dict) -> bool:
    """Commit an evaluation (False if another evaluator did first); then tell the
    owner's pages if it started or stopped a firing, and hand its new
    notifications to the delivery threads."""
    inserted = store.save_evaluation(services.postgres, row, outcome)
    if inserted is None:
        log.info("alert evaluated elsewhere meanwhile", extra={"rule": str(row["id"])})
        return False
    announce_count_change(services, str(row["user_id"]), row["state"], outcome["state"])
    pending = [item for item in inserted if item["status"] == "pending"]
    if pending:
        _workers(services)[1].submit(deliver, services, row, pending)
    return True


FIRING_LISTENER = "alerts.firing_listener"
FiringListener = Callable[[str], object]


def set_firing_listener(services: Services, listener: FiringListener) -> None:
    """Wire what hears that an owner's firing count changed (the factory: live
    push to the owner's pages, which refetch the count)."""
    services.extensions[FIRING_LISTENER] = listener


def announce_count_change(
    services: Services, owner_id: str, before: str | None, after: str | None
) -> None:
    """Tell the wired listener when a rule moved into or out of firing (only that
    the count changed, never the count or the rule); never fail the caller."""
    listener = services.extensions.get(FIRING_LISTENER)
    if listener is None or (before in ACTIVE) == (after in ACTIVE):
        return
    try:
        listener(owner_id)
    except Exception:
        log.exception("announcing a firing count change failed")


def evaluate_row(services: Services, row: dict, now=None, scheduled=False):
    """Load a rule's series and evaluate it; a series that cannot be read puts the
    rule in `error` with the reason."""
    now = now or now_utc()
    rule = AlertRule.model_validate(row["definition"])
    try:
        buckets = load_buckets(services, str(row["user_id"]), rule)
    except DomainError as problem:
        commit(services, row, _special(row, "error", problem.message, now))
        return None
    return _evaluate(services, row, buckets, now, scheduled)


def deliver(services: Services, row: dict, pending: list[dict]) -> None:
    """Send each pending notification; record delivered or dead (never under the
    evaluator lock: retries and a slow receiver take their time)."""
    rule = AlertRule.model_validate(row["definition"])
    settings = services.settings
    for item in pending:
        channel = rule.channels[item["channel"]].model_dump(by_alias=True)
        message_id = f"alert_{row['id']}_{item['event']}_{item['t']}_{item['channel']}"
        send = _sender(settings, channel, message_id, item["payload"])
        tries = settings.alert_webhook_retries if channel["type"] == "webhook" else 1
        attempts, error = delivery.with_retries(
            send, tries, settings.alert_webhook_backoff_s
        )
        status = "dead" if error else "delivered"
        store.mark_notification(services.postgres, item["id"], status, attempts, error)
        _audit_notification(services, row, item, status, attempts)


def _audit_notification(services, row: dict, item: dict, status: str, attempts: int):
    """Each notification's outcome goes to the audit trail (auth/audit.py)."""
    details = {
        "ruleId": str(row["id"]),
        "event": item["event"],
        "bucket": item["t"],
        "channel": item["type"],
        "status": status,
        "attempts": attempts,
    }
    outcome = "success" if status == "delivered" else "failure"
    services.audit(
        "alert_notification", user_id=str(row["user_id"]), outcome=outcome,
        resource=rule_resource(row["definition"], str(row["id"])), details=details,
    )  # fmt: skip


def _sender(settings, channel: dict, message_id: str, payload: dict):
    if channel["type"] == "email":
        return lambda: delivery.send_email(settings, channel, payload)
    allow = settings.alert_webhook_allow_private
    return lambda: delivery.post_webhook(channel, message_id, payload, allow)


@contextlib.contextmanager
def evaluator_lock(services: Services):
    """One evaluator at a time: a Redis lock with an expiry (so a crashed process
    cannot hold it forever), or a process lock without Redis. Yields False when
    the lock could not be had within LOCK_WAIT_S (the schedule catches up)."""
    if services.redis is None:
        lock = _PROCESS_LOCKS.setdefault(id(services), threading.Lock())
        got = lock.acquire(timeout=LOCK_WAIT_S)
        try:
            yield got
        finally:
            if got:
                lock.release()
        return
    lock = services.redis.lock(
        LOCK_KEY, timeout=LOCK_EXPIRY_S, blocking_timeout=LOCK_WAIT_S
    )
    got = _acquire(lock)
    try:
        yield got
    finally:
        if got:
            with contextlib.suppress(redis.exceptions.RedisError):
                lock.release()


def _acquire(lock) -> bool:
    try:
        return bool(lock.acquire())
    except redis.exceptions.RedisError:
        log.warning("the alert evaluator lock is unavailable (Redis)")
        return False


def evaluate_rows(services: Services, rows: list[dict], now=None, scheduled=False):
    """Evaluate rules under the evaluator lock; returns how many were evaluated."""
    with evaluator_lock(services) as got:
        if not got:
            return 0
        done = 0
        for row in rows:
            fresh = _fresh(services, row)
            if fresh is None:
                continue
            try:
                evaluate_row(services, fresh, now, scheduled)
                done += 1
            except Exception:  # one broken rule must not stop the others
                log.exception("alert evaluation failed", extra={"rule": str(row["id"])})
        return done


def _fresh(services: Services, row: dict) -> dict | None:
    """The rule as stored now (another evaluator may have moved it on)."""
    try:
        return store.get_rule(services.postgres, str(row["user_id"]), str(row["id"]))
    except DomainError:
        return None


def evaluate_dataset(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> int:
    """After a version is processed (or records are appended): its rules."""
    rows = store.rules_of_dataset(services.postgres, owner_id, dataset_id)
    return evaluate_rows(services, rows) if rows else 0


BACKGROUND = "alerts.background"
DELIVERY_THREADS = 4
_BACKGROUND_LOCK = threading.Lock()


def _workers(services: Services) -> tuple[Worker, Worker]:
    """This app's evaluation thread and delivery threads (created on first use,
    stopped in that order: a last evaluation may still hand on deliveries)."""
    with _BACKGROUND_LOCK:
        workers = services.extensions.get(BACKGROUND)
        if workers is None:
            workers = (Worker("alerts", 1), Worker("alert-delivery", DELIVERY_THREADS))
            services.extensions[BACKGROUND] = workers
            # Closers run last-added first: the evaluations stop before deliveries.
            services.closers.extend(w.shutdown for w in reversed(workers))
        return workers


def evaluate_dataset_soon(
    services: Services, owner_id: str, dataset_id: str, version: int | None = None
) -> Future:
    """After processing or an append: evaluate the dataset's rules on this app's
    background thread, so neither the ingest worker nor the append waits for the
    evaluation or its deliveries. A request while the dataset's evaluation is
    still waiting to start is merged into it (the same future)."""
    evaluations, _ = _workers(services)
    key = (owner_id, dataset_id)
    return evaluations.submit(evaluate_dataset, services, owner_id, dataset_id, key=key)


def wait_for_background(services: Services) -> None:
    """Return once the evaluations submitted so far and their deliveries have
    run (tests, shutdown)."""
    for worker in _workers(services):
        worker.wait()


STALE_PENDING = dt.timedelta(minutes=10)


def evaluate_all(services: Services, now=None) -> int:
    """The schedule: every rule, with the no-data policy up to `now`; then the
    notifications a crashed evaluator committed but never delivered."""
    rows = store.every_rule(services.postgres)
    done = evaluate_rows(services, rows, now, scheduled=True) if rows else 0
    redeliver_stale(services, (now or now_utc()) - STALE_PENDING)
    return done


def redeliver_stale(services: Services, before: dt.datetime) -> int:
    """Deliver notifications left pending since before `before` (each claimed by
    one process at a time, outside the evaluator lock)."""
    stale = store.claim_stale_pending(services.postgres, before)
    for item in stale:
        row = store.rule_by_id(services.postgres, item["rule_id"])
        if row is not None:
            deliver(services, row, [_pending_item(item)])
    return len(stale)


def _pending_item(item: dict) -> dict:
    return {"id": item["id"], "event": item["event"], "t": _iso(item["bucket"]),
            "channel": item["channel"], "type": item["channel_type"],
            "status": "pending", "payload": item["payload"]}  # fmt: skip


def firing_count(services: Services, owner_id: str) -> int:
    """The navbar badge's number."""
    return store.firing_count(services.postgres, owner_id)
