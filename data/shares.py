"""Share links: read-only bearer links to one view of one dataset (issue 15).

A link's token is `ibs_` + 256 random bits; only its SHA-256 is stored, in a row
that binds it to the owner, the dataset, the page and the view's query with its
locked values. The request guard (auth/share_guard.py) resolves the token on every
request under a share (a live link comes from Redis when it is there: `LinkCache`);
the pages apply the locked values themselves
(`lock_query`). How each page's query is read is registered by that page
(`register_share_page`), so this module knows no page's parameters.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis

from data.errors import Conflict, Gone, NotFound, ServiceUnavailable, ValidationFailed
from data.postgres import Postgres
from data.services import Services

log = logging.getLogger(__name__)
PREFIX = "ibs_"
# 32 random bytes = 256 bits, URL-safe base64 (43 characters).
TOKEN_PATTERN = re.compile(r"ibs_[A-Za-z0-9_-]{43}")
PAGES = ("analysis", "kpi")
FIELDS = ("datasetId", "page", "query", "locked", "expiresAt")
MAX_LINKS_PER_OWNER = 200
MAX_QUERY_KEYS = 60
MAX_VALUES = 50
MAX_VALUE_LENGTH = 200
MAX_LIFETIME = timedelta(days=366)
UUID_PATTERN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)

# {parameter: [values]}: the one shape of a query, raw or canonical.
Query = dict[str, list[str]]


@dataclass(frozen=True)
class SharePage:
    """How one page is shared, registered by the page's callbacks module.

    `canonical` turns a raw query into the page's canonical one for a dataset of
    the owner and lists which keys may be locked (NotFound for a dataset that is
    not the owner's). `normalise` canonicalises a query without the dataset (for
    comparing a request with the locked values). Callbacks under a share may only
    update components whose ids start with `output_prefix`; `dataset_fields` and
    `search_fields` name the callback values ("id.prop") carrying the dataset id
    and the view's query string.
    """

    name: str
    canonical: Callable[[Services, str, str, Query], tuple[Query, frozenset[str]]]
    normalise: Callable[[Query], Query]
    output_prefix: str
    dataset_fields: tuple[str, ...]
    search_fields: tuple[str, ...]
    always_locked: tuple[str, ...] = ()


SHARE_PAGES: dict[str, SharePage] = {}


def register_share_page(page: SharePage) -> None:
    """Make a page shareable (idempotent: every app built registers it again)."""
    SHARE_PAGES[page.name] = page


@dataclass(frozen=True)
class ShareLink:
    """A stored link (the token itself is never stored)."""

    id: str
    owner_id: str
    dataset_id: str
    page: str
    query: Query
    locked: Query
    token_prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None
    last_used_at: datetime | None
    view_count: int

    def public(self) -> dict:
        """The JSON shape of a link in API responses and lists."""
        return {
            "id": self.id,
            "page": self.page,
            "datasetId": self.dataset_id,
            "query": self.query,
            "locked": sorted(self.locked),
            "created": _iso(self.created_at),
            "expiresAt": _iso(self.expires_at),
            "lastUsed": _iso(self.last_used_at),
            "views": self.view_count,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def new_token() -> str:
    """A fresh link token (the prefix makes leaked links easy to recognise)."""
    return PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes:
    """What the database stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).digest()


# ------------------------------------------------------------ query helpers


def lock_query(query: Mapping[str, list[str]], locked: Mapping[str, list[str]]):
    """The query with every locked key set to its locked values (or removed)."""
    result = {key: list(values) for key, values in query.items() if key not in locked}
    result.update({key: list(values) for key, values in locked.items() if values})
    return result


def locked_conflicts(
    raw: Mapping[str, list[str]], canonical: Query, locked: Mapping[str, list[str]]
) -> list[str]:
    """Locked keys that a request names with other values than the link's."""
    return sorted(
        key for key in locked if key in raw and canonical.get(key, []) != locked[key]
    )


def clean_query(raw: object) -> Query:
    """A request's `query` as {key: [text values]}, or ValidationFailed."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_QUERY_KEYS:
        raise _invalid(
            "query", f"query must be an object of at most {MAX_QUERY_KEYS} parameters."
        )
    query: Query = {}
    for key, value in raw.items():
        values = value if isinstance(value, list) else [value]
        if not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
        ):
            raise _invalid(
                "query", f"query.{str(key)[:40]} must be text or a list of text."
            )
        if len(values) > MAX_VALUES or any(
            len(str(v)) > MAX_VALUE_LENGTH for v in values
        ):
            raise _invalid("query", f"query.{str(key)[:40]} is too long.")
        query[str(key)] = [str(v) for v in values]
    return query


def _invalid(field: str, message: str, **details) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, **details})


# ------------------------------------------------------------------ service


def create_share(
    services: Services, owner_id: str, body: Mapping
) -> tuple[ShareLink, str]:
    """Validate a request body and store a link; returns it with its token."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise _invalid(
            unknown[0],
            f"Unknown field {unknown[0][:40]!r}. Valid fields: {', '.join(FIELDS)}.",
        )
    dataset_id = body.get("datasetId")
    if not isinstance(dataset_id, str) or not 0 < len(dataset_id) <= 64:
        raise _invalid("datasetId", "datasetId must be the id of one of your datasets.")
    page = share_page(body.get("page"))
    query, lockable = page.canonical(
        services, owner_id, dataset_id, clean_query(body.get("query"))
    )
    locked = _locked_values(body.get("locked"), query, lockable, page)
    expires_at = parse_expiry(body.get("expiresAt"))
    repository = ShareRepository(services.postgres)
    if repository.count_live(owner_id) >= MAX_LINKS_PER_OWNER:
        raise Conflict(
            f"You already have {MAX_LINKS_PER_OWNER} share links; revoke one first."
        )
    link, token = repository.create(
        owner_id, dataset_id, page.name, query, locked, expires_at
    )
    services.audit(
        "share_create", user_id=owner_id, resource=share_resource(link),
        details={"page": link.page, "locked": sorted(link.locked),
                 "expiresAt": _iso(link.expires_at)},
    )  # fmt: skip
    return link, token


def share_resource(link: ShareLink) -> str:
    """How the audit trail names a link: under its dataset, so a dataset's
    events include its links'."""
    return f"dataset:{link.dataset_id}/share:{link.id}"


def share_page(name: object) -> SharePage:
    """The registered page of that name, or ValidationFailed listing the choices."""
    if isinstance(name, str) and name in SHARE_PAGES:
        return SHARE_PAGES[name]
    available = [page for page in PAGES if page in SHARE_PAGES]
    missing = f" ({name} pages cannot be shared yet)" if name in PAGES else ""
    raise _invalid(
        "page",
        f"page must be one of: {', '.join(available)}{missing}.",
        choices=available,
    )


def _locked_values(
    raw: object, query: Query, lockable: frozenset[str], page: SharePage
) -> Query:
    """{key: the query's values} for each locked key (and the page's fixed ones)."""
    raw = [] if raw is None else raw
    if not isinstance(raw, list) or not all(isinstance(key, str) for key in raw):
        raise _invalid("locked", "locked must be a list of parameter names.")
    unknown = sorted(set(raw) - lockable)
    if unknown:
        raise _invalid(
            "locked",
            f"{unknown[0][:40]!r} cannot be locked. "
            f"Lockable: {', '.join(sorted(lockable))}.",
            choices=sorted(lockable),
        )
    keys = set(raw) | set(page.always_locked)
    return {key: query.get(key, []) for key in sorted(keys)}


def parse_expiry(raw: object) -> datetime | None:
    """An optional ISO expiry in the future (at most a year ahead), as UTC."""
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _invalid(
            "expiresAt",
            "expiresAt must be an ISO date-time such as 2030-01-31T12:00:00Z.",
        ) from None
    now = datetime.now(UTC)
    if moment <= now:
        raise _invalid("expiresAt", "expiresAt must be in the future.")
    if moment > now + MAX_LIFETIME:
        raise _invalid("expiresAt", "expiresAt may be at most 366 days ahead.")
    return moment


def list_shares(
    services: Services, owner_id: str, dataset_id: str | None = None
) -> list[ShareLink]:
    """The owner's live links (of one dataset when given), newest first."""
    return ShareRepository(services.postgres).list(owner_id, dataset_id)


def revoke_share(services: Services, owner_id: str, share_id: str) -> ShareLink:
    """Revoke one of the owner's links (NotFound for anyone else's or unknown)."""
    cache = LinkCache(services.redis)
    link, digests = ShareRepository(services.postgres).revoke(
        owner_id, share_id, before_commit=cache.forget
    )
    cache.forget_after_commit(digests)
    services.audit(
        "share_revoke", user_id=owner_id, resource=share_resource(link),
        details={"page": link.page},
    )  # fmt: skip
    return link


def revoke_dataset_links(services: Services, owner_id: str, dataset_id: str) -> int:
    """Kill every link to a dataset being deleted; returns how many."""
    cache = LinkCache(services.redis)
    digests = ShareRepository(services.postgres).revoke_dataset(
        owner_id, dataset_id, before_commit=cache.forget
    )
    cache.forget_after_commit(digests)
    return len(digests)


def resolve_token(services: Services, token: str) -> ShareLink:
    """The live link of a token: NotFound for unknown or malformed ones, Gone for
    revoked or expired ones (never the reason why, beyond those two)."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        raise NotFound("This share link does not exist.")
    digest = token_digest(token)
    cache = LinkCache(services.redis)
    link = cache.get(digest)
    if link is None:
        link = ShareRepository(services.postgres).by_token(token)
        if link is None:
            raise NotFound("This share link does not exist.")
        if link.revoked_at is None:
            cache.put(digest, link)
    if link.revoked_at is not None:
        raise Gone("This share link has been revoked.")
    if link.expires_at is not None and link.expires_at <= datetime.now(UTC):
        raise Gone("This share link has expired.")
    return link


def record_view(
    services: Services, link: ShareLink, ip: str | None, user_agent: str | None
) -> None:
    """Log one opening of the link (who from where) and count it; the audit trail
    names the link as the actor (its owner as the user it concerns)."""
    ShareRepository(services.postgres).record_view(link.id, ip, user_agent)
    services.audit(
        "share_view", user_id=link.owner_id, resource=share_resource(link),
        details={"page": link.page}, actor_type="share", actor_id=link.id,
    )  # fmt: skip


# --------------------------------------------------------------- link cache


class LinkCache:
    """Live links by token digest in Redis for LINK_CACHE_TTL_S (nowhere without
    Redis: every request then asks PostgreSQL).

    Each callback of a shared dashboard resolves its token: without the cache,
    one PostgreSQL query per request under a link (its CPU cost was small, its
    load on PostgreSQL is what the capacity plan counts; BENCHMARKS.md, Load).
    Only live links are kept; expiry is checked on every use. A revocation
    deletes the entries inside its transaction, before the commit (refused with
    503 when Redis cannot confirm, so no link is revoked while its entry lives
    on), and again after it (a request racing the change may have cached the link
    in between). A failed read is a miss.
    """

    def __init__(self, client: redis.Redis | None) -> None:
        self.client = client

    @staticmethod
    def key(digest: bytes) -> str:
        return LINK_CACHE_PREFIX + digest.hex()

    def get(self, digest: bytes) -> ShareLink | None:
        if self.client is None:
            return None
        try:
            text = self.client.get(self.key(digest))
        except redis.exceptions.RedisError as error:
            log.warning("share link cache read failed", extra={"error": str(error)})
            return None
        return link_from_record(json.loads(text)) if text else None

    def put(self, digest: bytes, link: ShareLink) -> None:
        if self.client is None:
            return
        try:
            self.client.set(
                self.key(digest), json.dumps(link_record(link)), ex=LINK_CACHE_TTL_S
            )
        except redis.exceptions.RedisError as error:
            log.warning("share link cache write failed", extra={"error": str(error)})

    def forget(self, digests: builtins.list[bytes]) -> None:
        """Delete entries; ServiceUnavailable when Redis cannot confirm."""
        if self.client is None or not digests:
            return
        try:
            self.client.delete(*(self.key(digest) for digest in digests))
        except redis.exceptions.RedisError as error:
            log.warning("share link cache delete failed", extra={"error": str(error)})
            raise ServiceUnavailable(
                "Share links cannot be updated right now; try again shortly."
            ) from error

    def forget_after_commit(self, digests: builtins.list[bytes]) -> None:
        """The second delete: the change has committed, so a failure only logs (the
        entry was deleted before the commit; a racing request's copy expires)."""
        with contextlib.suppress(ServiceUnavailable):
            self.forget(digests)


LINK_CACHE_PREFIX = "insightboard:share:"
LINK_CACHE_TTL_S = 60
LINK_TIMES = ("created_at", "expires_at", "revoked_at", "last_used_at")


def link_record(link: ShareLink) -> dict:
    """The JSON form of a link (datetimes as ISO 8601)."""
    record = dataclasses.asdict(link)
    for name in LINK_TIMES:
        record[name] = _iso(record[name])
    return record


def link_from_record(record: dict) -> ShareLink:
    """The link from its JSON form."""
    values = dict(record)
    for name in LINK_TIMES:
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    return ShareLink(**values)


# --------------------------------------------------------------- repository

LINK_COLUMNS = (
    "id::text, owner_id::text, dataset_id, page, query, locked, token_prefix,"
    " created_at, expires_at, revoked_at, revoked_reason, last_used_at, view_count"
)


BeforeCommit = Callable[[builtins.list[bytes]], None]


class ShareRepository:
    """Reads and writes share_links and share_views; owner-scoped where it acts."""

    def __init__(self, database: Postgres) -> None:
        self.database = database

    def create(
        self, owner_id, dataset_id, page, query, locked, expires_at
    ) -> tuple[ShareLink, str]:
        """Store a new link; returns it with its one-time token."""
        token = new_token()
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO share_links (owner_id, dataset_id, page, query, locked,"
                " token_hash, token_prefix, expires_at)"
                " VALUES (%s::uuid, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s)"
                f" RETURNING {LINK_COLUMNS}",
                (
                    owner_id,
                    dataset_id,
                    page,
                    json.dumps(query),
                    json.dumps(locked),
                    token_digest(token),
                    token[:8],
                    expires_at,
                ),
            )
            return ShareLink(*cursor.fetchone()), token

    def list(self, owner_id: str, dataset_id: str | None) -> list[ShareLink]:
        """Live links of the owner (optionally of one dataset), newest first."""
        with self.database.transaction() as cursor:
            cursor.execute(
                f"SELECT {LINK_COLUMNS} FROM share_links"
                " WHERE owner_id = %s::uuid AND revoked_at IS NULL"
                " AND (%s::text IS NULL OR dataset_id = %s)"
                " ORDER BY created_at DESC",
                (owner_id, dataset_id, dataset_id),
            )
            return [ShareLink(*row) for row in cursor.fetchall()]

    def count_live(self, owner_id: str) -> int:
        """How many unrevoked links the owner has."""
        return len(self.list(owner_id, None))

    def revoke(
        self, owner_id: str, share_id: str, before_commit: BeforeCommit
    ) -> tuple[ShareLink, builtins.list[bytes]]:
        """Revoke one link of the owner (NotFound for any other); the link and its
        token digest, which `before_commit` receives inside the transaction."""
        if not isinstance(share_id, str) or not UUID_PATTERN.fullmatch(share_id):
            raise NotFound("No such share link.")
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE share_links SET revoked_at = now(), revoked_reason = 'owner'"
                " WHERE id = %s::uuid AND owner_id = %s::uuid AND revoked_at IS NULL"
                f" RETURNING {LINK_COLUMNS}, token_hash",
                (share_id, owner_id),
            )
            row = cursor.fetchone()
            if row is None:
                raise NotFound("No such share link.")
            digests = [bytes(row[-1])]
            before_commit(digests)
        return ShareLink(*row[:-1]), digests

    def revoke_dataset(
        self, owner_id: str, dataset_id: str, before_commit: BeforeCommit
    ) -> builtins.list[bytes]:
        """Revoke every live link of the owner to the dataset; their token digests,
        which `before_commit` receives inside the transaction."""
        if not UUID_PATTERN.fullmatch(str(owner_id)):
            return []  # not an account id: no link can belong to it
        with self.database.transaction() as cursor:
            cursor.execute(
                "UPDATE share_links SET revoked_at = now(),"
                " revoked_reason = 'dataset_deleted'"
                " WHERE owner_id = %s::uuid AND dataset_id = %s AND revoked_at IS NULL"
                " RETURNING token_hash",
                (owner_id, dataset_id),
            )
            digests = [bytes(row[0]) for row in cursor.fetchall()]
            before_commit(digests)
        return digests

    def by_token(self, token: str) -> ShareLink | None:
        """The link whose token hashes to this (live or not)."""
        with self.database.transaction() as cursor:
            cursor.execute(
                f"SELECT {LINK_COLUMNS} FROM share_links WHERE token_hash = %s",
                (token_digest(token),),
            )
            row = cursor.fetchone()
        return ShareLink(*row) if row else None

    def record_view(self, link_id: str, ip: str | None, user_agent: str | None) -> None:
        """One share_views row, and the link's count and last use."""
        agent = "".join(char for char in user_agent or "" if char.isprintable())[:300]
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO share_views (link_id, ip, user_agent)"
                " VALUES (%s::uuid, %s, %s)",
                (link_id, ip, agent),
            )
            cursor.execute(
                "UPDATE share_links SET view_count = view_count + 1,"
                " last_used_at = now() WHERE id = %s::uuid",
                (link_id,),
            )

    # builtins.list: in this class `list` names the method above.
    def views(self, link_id: str) -> builtins.list[tuple]:
        """(viewed_at, ip, user_agent) of every recorded view, oldest first."""
        with self.database.transaction() as cursor:
            cursor.execute(
                "SELECT viewed_at, ip, user_agent FROM share_views"
                " WHERE link_id = %s::uuid ORDER BY id",
                (link_id,),
            )
            return cursor.fetchall()
