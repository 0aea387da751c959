"""Agent token services: validate a request, create, list and revoke (audited).

The API and the /account page call the same functions. A token may name only the
caller's own datasets, and only measures and dimensions those datasets have.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from auth import bearer_values
from auth.agent_tokens import (
    DEFAULT_MAX_WINDOW_DAYS,
    MAX_DATASETS,
    MAX_EXPIRY_DAYS,
    MAX_TOKENS_PER_USER,
    MAX_WINDOW_DAYS,
    AgentToken,
    AgentTokenRepository,
    NewAgentToken,
)
from auth.audit import record_event
from data import datasets as dataset_service
from data.errors import Conflict, NotFound, ValidationFailed
from data.services import Services

FIELDS = ("name", "datasets", "measures", "expiresAt", "maxWindowDays", "dimensions")


def _fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field})


def _names(body: Mapping, field: str, most: int) -> tuple[str, ...] | None:
    value = body.get(field)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or len(value) > most
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise _fail(field, f"{field} must be a list of 1 to {most} names.")
    return tuple(dict.fromkeys(value))


def _expiry(value: object, now: dt.datetime) -> dt.datetime:
    if not isinstance(value, str):
        raise _fail("expiresAt", "expiresAt is required: an instant with an offset.")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _fail(
            "expiresAt", "expiresAt must be an instant with an offset, such as "
            "2030-01-31T00:00:00Z.",
        )  # fmt: skip
    if moment <= now or moment > now + dt.timedelta(days=MAX_EXPIRY_DAYS):
        raise _fail(
            "expiresAt",
            f"expiresAt must be in the future and at most {MAX_EXPIRY_DAYS} days "
            "ahead.",
        )
    return moment.astimezone(dt.UTC)


def _window(value: object) -> int:
    if value is None:
        return DEFAULT_MAX_WINDOW_DAYS
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail("maxWindowDays", "maxWindowDays must be a whole number of days.")
    if not 1 <= value <= MAX_WINDOW_DAYS:
        raise _fail("maxWindowDays", f"maxWindowDays must be 1 to {MAX_WINDOW_DAYS}.")
    return value


def _refuse_unknown(body: Mapping) -> None:
    for key in body:
        if key not in FIELDS:
            raise _fail(
                str(key)[:40],
                f"Unknown field {str(key)[:40]!r}. Valid fields: {', '.join(FIELDS)}.",
            )


@dataclass(frozen=True)
class ScopeChoices:
    """What a token over some datasets may name: {measure name: label} and the
    dimension names of their latest versions (both sorted)."""

    measures: dict[str, str]
    dimensions: list[str]


def scope_choices(
    services: Services, owner_id: str, ids: tuple[str, ...] | list[str]
) -> ScopeChoices:
    """The measures and dimensions of the owner's datasets (latest versions): the
    choices the /account form offers and the names a request may use. A dataset
    that is not the owner's is refused like an unknown one."""
    measures: dict[str, str] = {}
    dimensions: set[str] = set()
    for dataset_id in ids:
        try:
            document = dataset_service.find_version_document(
                services, owner_id, dataset_id
            )
        except NotFound:
            raise _fail(
                "datasets", f"Unknown dataset {dataset_id[:40]!r} (not one of yours)."
            ) from None
        for measure in document.get("measures") or []:
            measures.setdefault(measure["name"], measure.get("label") or "")
        dimensions.update(document.get("dimensionColumns") or [])
    return ScopeChoices(dict(sorted(measures.items())), sorted(dimensions))


def _refuse_unoffered(field: str, asked: tuple[str, ...] | None, offered: set[str]):
    for name in asked or ():
        if name not in offered:
            raise _fail(
                field,
                f"Unknown {field[:-1]} {name[:40]!r}. Valid choices: "
                f"{', '.join(sorted(offered)) or '(none)'}.",
            )


def parse_new_token(
    services: Services, owner_id: str, body: Mapping, now: dt.datetime | None = None
) -> NewAgentToken:
    """A validated token request; ValidationFailed (400) naming the field."""
    _refuse_unknown(body)
    name = body.get("name")
    if problem := bearer_values.name_problem(name):
        raise _fail("name", problem)
    datasets = _names(body, "datasets", MAX_DATASETS)
    if datasets is None:
        raise _fail("datasets", "datasets is required: a list of your dataset ids.")
    measures = _names(body, "measures", 100)
    dimensions = _names(body, "dimensions", 100)
    offered = scope_choices(services, owner_id, datasets)
    _refuse_unoffered("measures", measures, set(offered.measures))
    _refuse_unoffered("dimensions", dimensions, set(offered.dimensions))
    return NewAgentToken(
        name=str(name).strip(),
        datasets=datasets,
        measures=measures,
        dimensions=dimensions,
        max_window_days=_window(body.get("maxWindowDays")),
        expires_at=_expiry(body.get("expiresAt"), now or dt.datetime.now(dt.UTC)),
    )


def create_agent_token(
    services: Services, owner_id: str, body: Mapping, ip: str | None
) -> tuple[AgentToken, str]:
    """A new agent token for the owner; the secret is returned only here."""
    new = parse_new_token(services, owner_id, body)
    repository = AgentTokenRepository(services.postgres)
    if len(repository.list(owner_id)) >= MAX_TOKENS_PER_USER:
        raise Conflict(
            f"You already have {MAX_TOKENS_PER_USER} agent tokens; revoke one first."
        )
    token, secret = repository.create(owner_id, new)
    record_event(
        services.postgres,
        "agent_token_create",
        "success",
        user_id=owner_id,
        ip=ip,
        resource=f"agent_token:{token.id}",
        details={"token_id": token.id, **token.public()},
    )
    return token, secret


def list_agent_tokens(services: Services, owner_id: str) -> list[AgentToken]:
    """The owner's live agent tokens."""
    return AgentTokenRepository(services.postgres).list(owner_id)


def revoke_agent_token(
    services: Services, owner_id: str, token_id: str, ip: str | None
) -> AgentToken:
    """Revoke one of the owner's agent tokens (NotFound for anyone else's)."""
    token = AgentTokenRepository(services.postgres).revoke(owner_id, token_id)
    record_event(
        services.postgres,
        "agent_token_revoke",
        "success",
        user_id=owner_id,
        ip=ip,
        resource=f"agent_token:{token.id}",
        details={"token_id": token.id, "name": token.name},
    )
    return token
