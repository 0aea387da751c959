"""Rendered responses of the views' main callbacks, served again without rendering.

A cached analysis view still cost ~20 ms of CPU per request: unpickling the view,
building three figures, the table and the KPIs, and encoding ~130 kB of JSON
(BENCHMARKS.md, Load). Its response is a pure function of what the request asks
(the callback's inputs, states, outputs and trigger), who asks and the dataset's
versions (data/rendered.py), so once every version is at rest the response bytes
are stored under that key and the next identical request gets them back before
Dash runs: a key never names a changed dataset, another viewer, or other inputs.

Runs after the request guard (auth/guard.py), which has already judged the
request; a miss, a dataset in flight or an unreachable cache fall through to Dash.
"""

from __future__ import annotations

from flask import Response, current_app, g, request

from auth.share_guard import callback_values
from callbacks import gateway
from data import rendered
from data.services import get_services

CALLBACK_PATH = "/_dash-update-component"
EXTENSION = "insightboard_rendered"


def register(app, first_output: str, dataset_field: str) -> None:
    """Serve this app's callback whose first output is `first_output` from the
    cache; `dataset_field` ("id.prop") carries its dataset id. The hooks go on the
    server once, after the request guard (registered before any callback)."""
    server = app.server
    if EXTENSION not in server.extensions:
        server.extensions[EXTENSION] = {}
        server.before_request(serve_rendered)
        server.after_request(store_rendered)
    for key in app.callback_map:
        if key.lstrip(".").split("...")[0] == first_output:
            server.extensions[EXTENSION][key] = dataset_field


def serve_rendered() -> Response | None:
    """A stored response for this exact request, or None to let Dash render it."""
    key = callback_key()
    if key is None:
        return None
    body = rendered.get(key)
    if body is not None:
        return Response(body, mimetype="application/json")
    g.rendered_key = key
    return None


def store_rendered(response: Response) -> Response:
    """Keep a successful rendering under the key computed before it ran."""
    key = g.pop("rendered_key", None)
    if key is not None and response.status_code == 200 and not response.is_streamed:
        rendered.put(key, response.get_data())
    return response


def callback_key() -> str | None:
    """The cache key of this callback request, or None when it is not cacheable."""
    if request.path != CALLBACK_PATH or request.method != "POST":
        return None
    callbacks = current_app.extensions.get(EXTENSION, {})
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("output") not in callbacks:
        return None
    viewer = gateway.viewer()
    if viewer is None:
        return None
    requested = callback_values(body).get(callbacks[body["output"]])
    dataset_id = viewer.dataset(requested if isinstance(requested, str) else None)
    if dataset_id is None:
        return None
    asked = {name: body.get(name) for name in
             ("output", "outputs", "inputs", "state", "changedPropIds")}  # fmt: skip
    scope = {
        "owner": viewer.owner_id,
        "share": viewer.share.id if viewer.share else None,
        "locked": sorted(viewer.locked),
    }
    return rendered.rendered_key(get_services(), scope, dataset_id, asked)
