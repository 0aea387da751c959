"""Call Dash callbacks over HTTP like the browser does (for guard and isolation tests).

Usage: `post_callback(client, app, "login-redirect.href", {"login-email.value": ...},
triggered="login-submit.n_clicks")` finds the server callback whose first output is
`login-redirect.href`, fills its inputs and states from the mapping (missing ones
are None) and POSTs it to /_dash-update-component.
"""

from __future__ import annotations

import json


def find_callback(app, first_output: str) -> tuple[str, dict]:
    """The callback_map key and spec of the server callback with this first output."""
    for key, spec in app.callback_map.items():
        parts = key[2:-2].split("...") if key.startswith("..") else [key]
        if parts[0].split("@")[0] == first_output and spec.get("callback"):
            return key, spec
    raise KeyError(f"no server callback outputs {first_output}")


def _slot(item: dict, values: dict) -> dict | list:
    name = f"{item['id']}.{item['property']}"
    value = values.get(name)
    if item["id"].startswith("{"):
        # Pattern-matching (ALL) input: the caller gives the list of matches.
        return value or []
    return {"id": item["id"], "property": item["property"], "value": value}


def callback_body(app, first_output: str, values: dict, triggered: str) -> dict:
    """The JSON body the renderer would send for this callback."""
    key, spec = find_callback(app, first_output)
    outputs: list = []
    for part in key[2:-2].split("...") if key.startswith("..") else [key]:
        component, prop = part.rsplit(".", 1)
        prop = prop.split("@")[0]
        if component.startswith("{"):
            # Pattern-matching (ALL) output: one entry per matching component (the
            # caller lists their ids under "<pattern>.<prop>@outputs"; none by
            # default, as on a page without such components).
            matches = values.get(f"{component}.{prop}@outputs") or []
            outputs.append([{"id": match, "property": prop} for match in matches])
        else:
            outputs.append({"id": component, "property": prop})
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": [_slot(item, values) for item in spec["inputs"]],
        "state": [_slot(item, values) for item in spec["state"]],
        "changedPropIds": [triggered],
    }


def post_callback(
    client, app, first_output: str, values: dict, triggered: str, **request_kwargs
):
    """POST the callback; returns the Flask test response."""
    body = callback_body(app, first_output, values, triggered)
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        **request_kwargs,
    )


def sign_in_form(
    client, app, email, password, remember=False, nxt="", **request_kwargs
):
    """Submit the sign-in page's form through its callback (a session cookie, no
    token); returns the callback response."""
    return post_callback(
        client,
        app,
        "login-redirect.href",
        {
            "login-submit.n_clicks": 1,
            "login-email.value": email,
            "login-password.value": password,
            "login-remember.value": remember,
            "login-next.data": nxt,
        },
        triggered="login-submit.n_clicks",
        **request_kwargs,
    )


def change_password(client, app, current, new, confirm=None):
    """Submit the account page's change-password form through its callback."""
    return post_callback(
        client,
        app,
        "account-password-message.children",
        {
            "account-change-password.n_clicks": 1,
            "account-current-password.value": current,
            "account-new-password.value": new,
            "account-confirm-password.value": new if confirm is None else confirm,
        },
        triggered="account-change-password.n_clicks",
    )


def router_body(pathname: str, search: str = "") -> dict:
    """The page router's request for `pathname` (what a client-side link sends)."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }


def response_values(response) -> dict:
    """{component id: {property: value}} from a callback response."""
    return json.loads(response.data)["response"]
