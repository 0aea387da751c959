"""Share links in the request guard: under a share, the link is the whole credential.

A request is under a share when its path is `/share/<token>` (the page itself) or
when it is one of Dash's own requests (layout, dependencies, callbacks) made by
such a page, which the browser marks with the page's URL in `Referer` (the app's
Referrer-Policy keeps the full URL for same-origin requests only). Every such
request resolves the token again (unknown or malformed: 404; revoked or expired:
410), counts against the link's rate limit and is then held to the link's scope:

- the page: no locked parameter changed in its query, and the dataset still there;
- callbacks: only the page router for this very link and callbacks of the shared
  page, naming no other dataset and no other value of a locked parameter.

The session cookie is ignored under a share (the pages read `current_share()`).
"""

from __future__ import annotations

import html
import json
from urllib.parse import parse_qs, urlsplit

from flask import Response, g, request

from auth import limits
from data import datasets as dataset_service
from data import shares
from data.errors import DomainError, Gone, NotFound
from data.services import get_services

SHARE_PREFIX = "/share/"
CALLBACK_PATH = "/_dash-update-component"
# Dash's own requests from a page, which may run under that page's share.
DASH_REQUESTS = frozenset({"/_dash-layout", "/_dash-dependencies", CALLBACK_PATH})
ROUTER_OUTPUTS = frozenset({"_pages_content", "_pages_store"})


def current_share() -> shares.ShareLink | None:
    """The share link this request runs under (set by the guard), or None."""
    return g.get("share_link")


def share_token() -> str | None:
    """The token of the share this request is under, or None when it is not."""
    if request.path.startswith(SHARE_PREFIX):
        return request.path[len(SHARE_PREFIX) :]
    if request.path in DASH_REQUESTS:
        referrer = urlsplit(request.headers.get("Referer", ""))
        if referrer.netloc == request.host and referrer.path.startswith(SHARE_PREFIX):
            return referrer.path[len(SHARE_PREFIX) :]
    return None


def socket_share(pathname: object) -> shares.ShareLink:
    """The live-update socket of a page opened through a share link: the link of
    the page's path (`/share/<token>`), held to the same checks as the page (a
    revoked, expired or rate-limited link raises its DomainError)."""
    if not isinstance(pathname, str) or not pathname.startswith(SHARE_PREFIX):
        raise NotFound("Not a share link.")
    link = shares.resolve_token(get_services(), pathname[len(SHARE_PREFIX) :])
    limits.enforce_share(link.id)
    return link


def guard_share(token: str, output_ids) -> Response | None:
    """Hold a request under a share to the link's scope; None lets it on.

    `output_ids` maps a Dash callback key to its component ids (the guard's own
    parser, so both read the key the same way)."""
    services = get_services()
    try:
        link = shares.resolve_token(services, token)
        limits.enforce_share(link.id)
    except DomainError as error:
        return refusal(error)
    g.share_link = link
    if request.path.startswith(SHARE_PREFIX):
        return _open_page(services, link)
    if request.path == CALLBACK_PATH:
        return _check_callback(link, output_ids)
    return None


def _open_page(services, link: shares.ShareLink) -> Response | None:
    """The page itself: refuse changed locked values; record the view."""
    page = shares.SHARE_PAGES.get(link.page)
    if page is None:
        return refusal(out_of_scope())
    if request.method not in ("GET", "HEAD"):
        return None  # the route answers 405; nothing was viewed
    raw = request.args.to_dict(flat=False)
    conflicts = shares.locked_conflicts(raw, page.normalise(raw), link.locked)
    if conflicts:
        return refusal(locked_error(conflicts))
    try:
        dataset_service.get_dataset(services, link.owner_id, link.dataset_id)
    except NotFound:
        shares.revoke_dataset_links(services, link.owner_id, link.dataset_id)
        return refusal(Gone("The dataset behind this share link was deleted."))
    shares.record_view(
        services, link, request.remote_addr, request.headers.get("User-Agent")
    )
    return None


def locked_error(keys: list[str]) -> DomainError:
    """The refusal of a request that changes a locked parameter."""
    return NotFound(
        f"This shared view does not allow changing {', '.join(keys)}.",
        details={"locked": keys},
    )


def _check_callback(link: shares.ShareLink, output_ids) -> Response | None:
    """A callback under a share: the router for this link, or the shared page's."""
    if request.mimetype != "application/json":
        return refusal(DomainError("Dash callbacks must send JSON."))
    body = request.get_json(silent=True)
    key = body.get("output") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(key, str):
        return refusal(DomainError("Malformed callback request."))
    outputs = output_ids(key)
    if outputs == ROUTER_OUTPUTS:
        return None if _routes_to_link(body) else refusal(out_of_scope())
    page = shares.SHARE_PAGES.get(link.page)
    if (
        page is None
        or not outputs
        or not all(_belongs_to(component, page.output_prefix) for component in outputs)
    ):
        return refusal(out_of_scope())
    problem = _scope_problem(link, page, callback_values(body))
    return refusal(problem) if problem else None


def out_of_scope() -> DomainError:
    """The refusal of anything that is not part of the shared view."""
    return NotFound("This is not part of the shared view.")


def _routes_to_link(body: dict) -> bool:
    """True when the page router is asked for this link's own page."""
    wanted = request.headers.get("Referer", "")
    for item in body.get("inputs") or []:
        if (
            isinstance(item, dict)
            and item.get("id") == "_pages_location"
            and item.get("property") == "pathname"
        ):
            return item.get("value") == urlsplit(wanted).path
    return False


def _belongs_to(component: str, prefix: str) -> bool:
    """True for an id of the shared page (plain, or a pattern id's `type`)."""
    if component.startswith("{"):
        try:
            component = str(json.loads(component).get("type", ""))
        except (ValueError, AttributeError):
            return False
    return component.startswith(prefix)


def callback_values(body: dict) -> dict[str, object]:
    """{"id.prop": value} of a callback body's plain inputs and states."""
    values = {}
    for item in [*(body.get("inputs") or []), *(body.get("state") or [])]:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            values[f"{item['id']}.{item.get('property')}"] = item.get("value")
    return values


def _scope_problem(link, page: shares.SharePage, values: dict) -> DomainError | None:
    """Another dataset, or another value of a locked parameter, in the body."""
    for field in page.dataset_fields:
        if field in values and values[field] != link.dataset_id:
            return NotFound("This shared view shows one dataset only.")
    for field in page.search_fields:
        search = values.get(field)
        if isinstance(search, str):
            raw = parse_qs(search.lstrip("?"), keep_blank_values=True)
            conflicts = shares.locked_conflicts(raw, page.normalise(raw), link.locked)
            if conflicts:
                return locked_error(conflicts)
    return None


def refusal(error: DomainError) -> Response:
    """The answer to a refused share request: a page for the share page itself,
    JSON for Dash's requests; never any data."""
    status = error.status
    if request.path.startswith(SHARE_PREFIX):
        response = Response(gone_page(status, error.message), status=status)
    else:
        body = {"error": {"code": error.code, "message": error.message}}
        response = Response(
            json.dumps(body), status=status, mimetype="application/json"
        )
    if "retry_after" in error.details:
        response.headers["Retry-After"] = str(error.details["retry_after"])
    return response


TITLES = {
    404: "This share link does not work",
    410: "This share link is no longer available",
    429: "Too many requests",
}


def gone_page(status: int, message: str) -> str:
    """A small self-contained page for a refused share link (no app navigation)."""
    title = TITLES.get(status, "This share link cannot be opened")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} · Insightboard</title>"
        '<link rel="stylesheet" href="/assets/00-bootstrap.min.css">'
        '</head><body class="bg-light"><main class="container py-5" '
        'id="share-refused" style="max-width:36rem">'
        f'<h1 class="h4">{html.escape(title)}</h1>'
        f"<p>{html.escape(message)}</p>"
        '<p class="text-muted small">Ask the person who shared it for a new '
        f"link. (HTTP {status})</p></main></body></html>"
    )
