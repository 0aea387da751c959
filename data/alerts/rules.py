"""The alert rule: one pydantic model with the API's field names and defaults.

A rule watches one measure of one dataset (a KPI measure name, or an analysis
metric column with its `aggregation`) at one `granularity`. Everything but
`datasetId`, `measure` and `condition` has a default. A bad field is a 400 naming
it (`details.field`, dotted: `condition.threshold`, `channels[0].url`).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from data.analytics.params import AGGREGATIONS as ANALYSIS_AGGREGATIONS
from data.errors import ValidationFailed

CONDITION_TYPES = ("above", "below", "change_pct", "anomaly")
SEVERITIES = ("low", "medium", "high", "critical")
GRANULARITIES = ("hour", "day", "week", "month")
AGGREGATIONS = ANALYSIS_AGGREGATIONS  # a metric's, as in the analysis view
NO_DATA = ("ok", "alerting", "keep")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_PATTERN = re.compile(r"^(\d{1,2})-(\d{1,2})$")
MAX_RECIPIENTS = 20
MAX_CHANNELS = 10
MAX_MUTE_TIMINGS = 10


class Strict(BaseModel):
    """Unknown fields are refused (a typo must not silently become a default);
    fields are snake_case in Python and camelCase in JSON (`forBuckets`)."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, alias_generator=to_camel
    )


class Condition(Strict):
    """When a bucket breaches: above/below a threshold, a % change, an anomaly."""

    type: Literal["above", "below", "change_pct", "anomaly"]
    threshold: float | None = Field(default=None, allow_inf_nan=False)
    # Hysteresis: a firing rule recovers only past this value (default: threshold).
    recovery: float | None = Field(default=None, allow_inf_nan=False)
    # change_pct: the previous bucket must hold at least this much (absolute).
    min_volume: float = Field(default=0, ge=0, allow_inf_nan=False)
    severity: Literal["low", "medium", "high", "critical"] = "medium"

    @model_validator(mode="after")
    def _threshold_rules(self) -> Condition:
        if self.type == "anomaly":
            return self
        if self.threshold is None:
            raise _field_error("threshold", f"a {self.type} condition needs threshold")
        if self.recovery is not None and not _recovery_side_ok(self):
            side = "at most" if _rises(self) else "at least"
            raise _field_error("recovery", f"recovery must be {side} the threshold")
        return self


def _rises(condition: Condition) -> bool:
    """True when breaching means going up (above, or a positive % change)."""
    if condition.type == "change_pct":
        return (condition.threshold or 0) >= 0
    return condition.type == "above"


def _recovery_side_ok(condition: Condition) -> bool:
    recovery, threshold = condition.recovery, condition.threshold
    if recovery is None or threshold is None:
        return True
    return recovery <= threshold if _rises(condition) else recovery >= threshold


class FieldProblem(ValueError):
    """A model-level check that names its field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _field_error(field: str, message: str) -> FieldProblem:
    return FieldProblem(field, message)


class MuteTiming(Strict):
    """A recurring quiet period in a time zone: weekdays and local hours."""

    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS), min_length=1, max_length=7
    )
    # Local hours "start-end", end excluded; "22-6" runs over midnight.
    hours: str = "0-24"
    tz: str = "UTC"

    @model_validator(mode="after")
    def _check(self) -> MuteTiming:
        match = HOURS_PATTERN.match(self.hours)
        if not match or int(match[1]) > 23 or not 1 <= int(match[2]) <= 24:
            raise _field_error("hours", "hours must look like 9-17 (0..23 - 1..24)")
        if int(match[1]) == int(match[2]):
            raise _field_error("hours", "hours must not start and end at once")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise _field_error("tz", f"unknown time zone {self.tz[:40]!r}") from None
        return self

    def hour_range(self) -> tuple[int, int]:
        """(start, end) local hours."""
        start, end = self.hours.split("-")
        return int(start), int(end)


class EmailChannel(Strict):
    """E-mail to a list of addresses (the SMTP settings)."""

    type: Literal["email"]
    to: list[str] = Field(min_length=1, max_length=MAX_RECIPIENTS)

    @model_validator(mode="after")
    def _check(self) -> EmailChannel:
        for index, address in enumerate(self.to):
            if not EMAIL.fullmatch(address):
                raise _field_error(f"to[{index}]", "not an e-mail address")
        return self


EMAIL = re.compile(r"[^@\s,;<>]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


class WebhookChannel(Strict):
    """A JSON POST signed per Standard Webhooks (or a Slack-compatible body)."""

    type: Literal["webhook"]
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=200)
    format: Literal["json", "slack"] = "json"

    @model_validator(mode="after")
    def _check(self) -> WebhookChannel:
        if not re.match(r"^https?://[^\s/]+", self.url):
            raise _field_error("url", "url must be an http(s) URL")
        if not valid_secret(self.secret):
            raise _field_error("secret", "secret must be whsec_ and base64")
        return self


def valid_secret(secret: str) -> bool:
    """A Standard Webhooks secret: `whsec_` then base64 of 24 to 64 bytes."""
    if not secret.startswith("whsec_"):
        return False
    try:
        key = base64.b64decode(secret[6:], validate=True)
    except (binascii.Error, ValueError):
        return False
    return 24 <= len(key) <= 64


Channel = Annotated[EmailChannel | WebhookChannel, Field(discriminator="type")]


class AlertRule(Strict):
    """A rule exactly as the API takes and shows it (README, Alerts)."""

    name: str = Field(default="Alert", min_length=1, max_length=120)
    dataset_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    measure: str = Field(min_length=1, max_length=200)
    aggregation: Literal[AGGREGATIONS] = "sum"  # type: ignore[valid-type]
    granularity: Literal["hour", "day", "week", "month"] = "day"
    condition: Condition
    for_buckets: int = Field(default=1, ge=1, le=1000)
    keep_firing_for_buckets: int = Field(default=0, ge=0, le=1000)
    no_data: Literal["ok", "alerting", "keep"] = "keep"
    repeat_interval_minutes: int = Field(default=240, ge=0, le=525_600)
    mute_timings: list[MuteTiming] = Field(default_factory=list, max_length=10)
    channels: list[Channel] = Field(default_factory=list, max_length=MAX_CHANNELS)


def parse_rule(raw: object) -> AlertRule:
    """Validate a rule body; ValidationFailed (400) names the first bad field."""
    if not isinstance(raw, dict):
        raise ValidationFailed("The body must be a JSON object.", details={"field": ""})
    _refuse_channel_type(raw.get("channels"))
    try:
        return AlertRule.model_validate(raw)
    except ValidationError as error:
        field, message = describe(error.errors()[0])
        raise ValidationFailed(
            f"{field}: {message}", details={"field": field}
        ) from None


def _refuse_channel_type(channels: object) -> None:
    """A clear message for an unknown channel type (the union's own is noisy)."""
    if not isinstance(channels, list):
        return
    for index, channel in enumerate(channels):
        kind = channel.get("type") if isinstance(channel, dict) else None
        if kind not in ("email", "webhook"):
            field = f"channels[{index}].type"
            raise ValidationFailed(
                f"{field}: must be email or webhook", details={"field": field}
            )


def describe(error: Mapping[str, Any]) -> tuple[str, str]:
    """The dotted field name and a message for one pydantic error."""
    parts = [p for p in error["loc"] if p not in ("email", "webhook")]
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else f".{part}"
    field = field.lstrip(".")
    context = error.get("ctx", {}).get("error")
    if isinstance(context, FieldProblem):
        field = f"{field}.{context.field}".lstrip(".")
        return field, str(context)
    return field or "body", error["msg"]


def rule_document(rule: AlertRule) -> dict:
    """The JSON form stored and shown (every default filled in)."""
    return rule.model_dump(mode="json", by_alias=True)
