"""The single before_request guard: pages, Dash callbacks and the API.

Everything is protected unless it is on the explicit public lists below, or runs
under a share link (`/share/<token>` and Dash's requests from that page), which
auth/share_guard.py holds to the link's scope. Dash's
callback endpoint is special: anonymous callback requests are allowed only for
callbacks whose every output is a component of a public page (the sign-in and
registration forms), and for the page router when it renders a public page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import dash
from flask import Flask, Response, current_app, jsonify, redirect, request
from plotly.io.json import to_json_plotly
from werkzeug.wrappers import Response as BaseResponse

from auth.agent_guard import MCP_PATH, agent_bearer, guard_agent
from auth.callback_requests import callback_request_problem
from auth.identity import current_user_or_none
from auth.share_guard import guard_share, share_token, socket_share
from data.errors import Forbidden, NotFound, Unauthorized, error_body

PUBLIC_PATHS = frozenset(
    {
        "/",
        "/login",
        "/register",
        "/logout",
        "/healthz",
        "/readyz",
        "/_dash-layout",
        "/_dash-dependencies",
        "/_favicon.ico",
        "/api/auth/register",
        "/api/auth/login",
        "/api/openapi.json",
    }
)
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
CALLBACK_PATH = "/_dash-update-component"
ROUTER_OUTPUTS = frozenset({"_pages_content", "_pages_store"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Per app (server.extensions): the components of public pages whose callbacks
# anonymous visitors may run, and the sign-in layout the UI hands the guard.
PUBLIC_OUTPUTS = "auth.public_callback_outputs"
SIGN_IN_LAYOUT = "auth.sign_in_layout"


def json_error(status: int, code: str, message: str) -> Response:
    """A JSON error response that carries its status (for before_request hooks)."""
    response = jsonify(error_body(code, message))
    response.status_code = status
    return response


def public_pages() -> frozenset[str]:
    """Paths of the pages registered with `dash.register_page(..., public=True)`:
    the router renders them for anonymous visitors."""
    return frozenset(
        page["path"] for page in dash.page_registry.values() if page.get("public")
    )


def public_callback_outputs(server: Flask) -> set[str]:
    """This app's components whose callbacks anonymous visitors may run."""
    return server.extensions.setdefault(PUBLIC_OUTPUTS, set())


def allow_anonymous_callback_outputs(app: dash.Dash, *component_ids: str) -> None:
    """Declare components of public pages that anonymous callbacks may update."""
    public_callback_outputs(app.server).update(component_ids)


def set_sign_in_layout(server: Flask, layout: Callable[[str], object]) -> None:
    """The UI's "sign in to continue" layout, given the page to come back to."""
    server.extensions[SIGN_IN_LAYOUT] = layout


def is_public_path(path: str) -> bool:
    """True for the paths anyone may request without signing in."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def guard_request() -> BaseResponse | None:
    """Refuse anonymous access to anything not public; None lets the request on."""
    if request.method in UNSAFE_METHODS and not _same_origin():
        return json_error(403, "cross_origin", "Cross-site request refused.")
    agent_value = agent_bearer()
    if agent_value is not None:
        # An agent token alone decides (auth/agent_guard.py): aggregates only.
        return guard_agent(agent_value)
    if request.path == MCP_PATH:
        return _refuse_non_agent()
    token = share_token()
    if token is not None:
        # Under a share link the link alone decides (auth/share_guard.py).
        return guard_share(token, callback_output_ids)
    if request.path == CALLBACK_PATH:
        return _guard_callback()
    if is_public_path(request.path) or current_user_or_none() is not None:
        return None
    return _refuse_anonymous()


def guard_socket(pathname: object = None) -> tuple[str, str | None]:
    """The checks of this guard for a live-update socket's handshake (it reaches
    the app beside Flask's request hooks, so the socket server calls this): the
    Origin must be our own, and the caller signed in (session or bearer token) or
    on a page opened through a share link (`pathname`, sent by the page's socket).
    Returns (owner id, the one dataset a share link allows, else None); raises a
    DomainError saying why the handshake is refused."""
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise Forbidden("Cross-site socket refused.")
    if agent_bearer() is not None:
        raise Forbidden("An agent token reads aggregates only; no live updates.")
    user = current_user_or_none()
    if user is not None:
        return user.id, None
    try:
        link = socket_share(pathname)
    except NotFound:
        raise Unauthorized("Sign in to receive live updates.") from None
    return link.owner_id, link.dataset_id


def _same_origin() -> bool:
    """Cookie-carrying writes must come from our own pages (CSRF defence in depth,
    on top of SameSite=Lax). Bearer requests carry no ambient credential."""
    origin = request.headers.get("Origin")
    if origin is None or "Authorization" in request.headers:
        return True
    return urlsplit(origin).netloc == request.host


def _refuse_non_agent() -> Response:
    """/mcp serves agent tokens only: anything else is 401 (a signed-in user
    creates an agent token on /account)."""
    response = json_error(
        401, "unauthorized", "The MCP endpoint needs an agent token (Bearer iba_...)."
    )
    response.headers["WWW-Authenticate"] = 'Bearer realm="insightboard-agents"'
    return response


def _refuse_anonymous() -> BaseResponse:
    if request.path.startswith(("/api/", "/_")) or request.method != "GET":
        response = json_error(
            401, "unauthorized", "Sign in, or send a bearer token, to use this."
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="insightboard"'
        return response
    return redirect(login_url(requested_target()))


def requested_target() -> str:
    """The path and query of this request, to come back to after signing in."""
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def login_url(next_target: str | None) -> str:
    """/login, with a `next` parameter when there is somewhere to come back to."""
    if not next_target or next_target == "/":
        return "/login"
    return "/login?" + urlencode({"next": next_target})


def _guard_callback() -> Response | None:
    if request.mimetype != "application/json":
        return json_error(
            415, "unsupported_media_type", "Dash callbacks must send JSON."
        )
    if current_user_or_none() is not None:
        return None
    return _refuse_anonymous_callback(request.get_json(silent=True))


def _refuse_anonymous_callback(body: Any) -> Response | None:
    key = body.get("output") if isinstance(body, dict) else None
    if not isinstance(key, str):
        return json_error(400, "bad_request", "Malformed callback request.")
    outputs = callback_output_ids(key)
    if outputs == ROUTER_OUTPUTS:
        return _guard_router(body)
    if outputs and outputs <= public_callback_outputs(current_app):
        return None
    return json_error(401, "unauthorized", "Sign in to use this page.")


def reject_malformed_callback() -> Response | None:
    """A before_request hook registered after Dash's own (so every callback,
    the page router included, is known): malformed callback requests get 400."""
    if request.path != CALLBACK_PATH:
        return None
    dash_app = current_app.extensions["insightboard_dash"]
    problem = callback_request_problem(
        request.get_json(silent=True), dash_app.callback_map
    )
    return json_error(400, "bad_request", problem) if problem else None


def callback_output_ids(key: str) -> frozenset[str]:
    """Component ids in Dash's callback key ("id.prop" or "..a.p...b.q..").

    Dash picks the function to run by this key, so checking it (not the separate
    `outputs` list, which a client could forge independently) is what counts.
    Pattern-matching ids appear as JSON text and never match a public id.
    """
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return frozenset(part.rsplit(".", 1)[0] for part in parts if part)


def routed_path(body: dict) -> str | None:
    """The pathname the page router is asked to render."""
    for item in body.get("inputs") or []:
        if (
            isinstance(item, dict)
            and item.get("id") == "_pages_location"
            and item.get("property") == "pathname"
            and isinstance(item.get("value"), str)
        ):
            return "/" + item["value"].strip("/")
    return None


def _guard_router(body: dict) -> Response | None:
    path = routed_path(body)
    if path in public_pages():
        return None
    sign_in_layout = current_app.extensions[SIGN_IN_LAYOUT]
    search = next(
        (
            item.get("value")
            for item in body.get("inputs") or []
            if isinstance(item, dict) and item.get("property") == "search"
        ),
        "",
    )
    target = (path or "/") + (search if isinstance(search, str) else "")
    payload = {
        "multi": True,
        "response": {
            "_pages_content": {"children": sign_in_layout(target)},
            "_pages_store": {"data": {"title": "Sign in · Insightboard"}},
        },
    }
    return Response(to_json_plotly(payload), mimetype="application/json")
