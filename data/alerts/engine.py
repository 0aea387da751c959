"""The rule state machine: pure functions over a bucketed series.

The backtest and the live evaluation both call `replay`: the backtest from the
initial state over the whole history, the live path from the stored state over the
buckets it has not seen yet. Replaying history through the live path in pieces
therefore gives the backtest's firings (tests/integration/test_alerts_live.py).

States: ok → pending → firing → recovering → ok, plus nodata and error (set by the
evaluator when the series is empty or cannot be read). Per bucket a verdict:
- breach: the condition holds (strictly above/below the threshold: a value equal
  to the threshold does not breach);
- hold: not breaching, but not recovered either (hysteresis: between `recovery`
  and the threshold); a firing rule keeps firing, a pending one starts over;
- clear: recovered; a firing rule resolves after `keepFiringForBuckets` more
  clear buckets (recovering meanwhile);
- missing value: the no-data policy (ok = clear, alerting = breach, keep = the
  bucket is skipped and nothing changes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace

from data.alerts.rules import SEVERITIES, AlertRule, Condition, _rises

ACTIVE = ("firing", "recovering")


@dataclass(frozen=True)
class Bucket:
    """One evaluated bucket: its start, value, the previous bucket's value (for %
    change) and the detectors' severity when the bucket is flagged."""

    t: dt.datetime
    value: float | None
    previous: float | None = None
    severity: str | None = None


@dataclass(frozen=True)
class RuleState:
    """What the evaluator stores between runs."""

    state: str = "ok"
    breaches: int = 0
    cleared: int = 0
    firing_since: str | None = None
    last_notified: str | None = None
    through: str | None = None

    def document(self) -> dict:
        """JSON form (stored in alert_rules.state_detail)."""
        return asdict(self)

    @classmethod
    def from_document(cls, doc: dict | None) -> RuleState:
        """The stored form back (unknown keys ignored)."""
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (doc or {}).items() if k in known})


@dataclass(frozen=True)
class Event:
    """A state change or a repeat notification at one bucket."""

    t: str
    previous: str
    state: str
    value: float | None
    kind: str  # transition | firing | resolved | repeat
    reason: str = ""


@dataclass
class Replay:
    """The outcome of replaying buckets: the final state and the events."""

    state: RuleState
    events: list[Event] = field(default_factory=list)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def change_pct(bucket: Bucket, min_volume: float) -> float | None:
    """The % change against the previous bucket; None below the volume guard."""
    if bucket.value is None or bucket.previous is None:
        return None
    if bucket.previous == 0 or abs(bucket.previous) < min_volume:
        return None
    return (bucket.value - bucket.previous) / abs(bucket.previous) * 100


def observed(condition: Condition, bucket: Bucket) -> float | None:
    """The number compared with the threshold (value, or % change)."""
    if condition.type == "change_pct":
        return change_pct(bucket, condition.min_volume)
    return bucket.value


def verdict(condition: Condition, bucket: Bucket, no_data: str) -> str:
    """breach, hold, clear or skip for one bucket."""
    if bucket.value is None:
        return {"ok": "clear", "alerting": "breach", "keep": "skip"}[no_data]
    if condition.type == "anomaly":
        rank = SEVERITIES.index
        flagged = bucket.severity is not None
        return (
            "breach"
            if flagged and rank(bucket.severity) >= rank(condition.severity)
            else "clear"
        )
    number = observed(condition, bucket)
    if number is None:  # a first bucket, or under the volume guard
        return "clear"
    return _compare(condition, number)


def _compare(condition: Condition, number: float) -> str:
    threshold = condition.threshold
    assert threshold is not None  # the model requires it for these conditions
    recovery = threshold if condition.recovery is None else condition.recovery
    if _rises(condition):
        if number > threshold:
            return "breach"
        return "clear" if number <= recovery else "hold"
    if number < threshold:
        return "breach"
    return "clear" if number >= recovery else "hold"


def _moved(state: RuleState, new: str, bucket: Bucket, kind: str, why: str):
    event = Event(_iso(bucket.t), state.state, new, bucket.value, kind, why)
    return replace(state, state=new), event


def step(rule: AlertRule, state: RuleState, bucket: Bucket) -> tuple[RuleState, list]:
    """Advance one bucket: the new state and the events it caused."""
    seen = verdict(rule.condition, bucket, rule.no_data)
    if seen == "skip":
        return replace(state, through=_iso(bucket.t)), []
    if state.state in ACTIVE:
        new, events = _step_active(rule, state, bucket, seen)
    else:
        new, events = _step_quiet(rule, state, bucket, seen)
    return replace(new, through=_iso(bucket.t)), events


def _step_quiet(rule, state: RuleState, bucket: Bucket, seen: str):
    """From ok, pending, nodata or error."""
    if seen != "breach":
        if state.state == "ok":
            return replace(state, breaches=0), []
        new, event = _moved(state, "ok", bucket, "transition", "condition clear")
        return replace(new, breaches=0), [event]
    breaches = state.breaches + 1
    if breaches < rule.for_buckets:
        if state.state == "pending":
            return replace(state, breaches=breaches), []
        new, event = _moved(state, "pending", bucket, "transition", "breaching")
        return replace(new, breaches=breaches), [event]
    new, event = _moved(state, "firing", bucket, "firing", f"{breaches} breaching")
    t = _iso(bucket.t)
    return replace(new, breaches=0, cleared=0, firing_since=t, last_notified=t), [event]


def _step_active(rule, state: RuleState, bucket: Bucket, seen: str):
    """From firing or recovering."""
    if seen in ("breach", "hold"):
        if state.state == "recovering":
            why = "breaching again"
            new, event = _moved(state, "firing", bucket, "transition", why)
            return replace(new, cleared=0), [event]
        return _maybe_repeat(rule, state, bucket)
    cleared = state.cleared + 1
    if cleared > rule.keep_firing_for_buckets:
        new, event = _moved(state, "ok", bucket, "resolved", "recovered")
        return replace(new, cleared=0, firing_since=None), [event]
    if state.state == "recovering":
        return replace(state, cleared=cleared), []
    new, event = _moved(state, "recovering", bucket, "transition", "recovering")
    return replace(new, cleared=cleared), [event]


def _maybe_repeat(rule, state: RuleState, bucket: Bucket):
    """A repeat notification once the repeat interval has passed (bucket time)."""
    if not rule.repeat_interval_minutes or state.last_notified is None:
        return state, []
    last = dt.datetime.fromisoformat(state.last_notified)
    interval = dt.timedelta(minutes=rule.repeat_interval_minutes)
    if bucket.t - last < interval:
        return state, []
    t = _iso(bucket.t)
    event = Event(t, "firing", "firing", bucket.value, "repeat", "still firing")
    return replace(state, last_notified=t), [event]


def replay(rule: AlertRule, buckets: list[Bucket], state: RuleState | None = None):
    """Run the state machine over buckets (only those after `state.through`)."""
    current = state or RuleState()
    after = dt.datetime.fromisoformat(current.through) if current.through else None
    events: list[Event] = []
    for bucket in buckets:
        if after is not None and bucket.t <= after:
            continue
        current, happened = step(rule, current, bucket)
        events.extend(happened)
    return Replay(current, events)


def firings(events: list[Event]) -> list[dict]:
    """Firing intervals: start (the bucket that fired) and end (the bucket that
    resolved it; null while still firing)."""
    intervals: list[dict] = []
    for event in events:
        if event.kind == "firing":
            intervals.append({"start": event.t, "end": None})
        elif event.kind == "resolved" and intervals and intervals[-1]["end"] is None:
            intervals[-1]["end"] = event.t
    return intervals


def backtest(rule: AlertRule, buckets: list[Bucket]) -> dict:
    """{"count", "firings"} over the whole series, from the initial state."""
    found = firings(replay(rule, buckets).events)
    return {"count": len(found), "firings": found}
