"""The callback shape check against a small Dash app's real dispatch.

Every body the check lets through must be one Dash answers without raising, and
bodies whose `outputs` name other components than the callback's (which Dash
refuses with "Output does not match callback definition", a 500) are caught.
"""

from __future__ import annotations

import json

import dash
import pytest
from dash import ALL, MATCH, Input, Output, html

from auth.callback_requests import callback_request_problem


@pytest.fixture(scope="module")
def small_app():
    app = dash.Dash(__name__, suppress_callback_exceptions=True)
    app.layout = html.Div([html.Button(id="go"), html.Div(id="a"), html.Div(id="b")])

    @app.callback(Output("a", "children"), Input("go", "n_clicks"))
    def single(n):
        return f"single {n}"

    @app.callback(
        Output("b", "children"),
        Output("b", "title", allow_duplicate=True),
        Input("go", "n_clicks"),
        prevent_initial_call=True,
    )
    def multi(n):
        return f"multi {n}", "t"

    @app.callback(
        Output({"type": "cell", "index": ALL}, "children"),
        Input({"type": "cell", "index": ALL}, "n_clicks"),
    )
    def every(clicks):
        return [str(c) for c in clicks]

    @app.callback(
        Output({"type": "row", "index": MATCH}, "children"),
        Input({"type": "row", "index": MATCH}, "n_clicks"),
    )
    def matching(n):
        return str(n)

    return app


def key_for(app, prefix: str) -> str:
    return next(k for k in app.callback_map if k.startswith(prefix))


def entry(component, prop, value=None):
    return {"id": component, "property": prop, "value": value}


def body_for(key, outputs, inputs):
    return {"output": key, "outputs": outputs, "inputs": inputs, "changedPropIds": []}


def dispatch(app, body):
    return app.server.test_client().post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
    )


def cases(app):
    """(name, body, accepted) triples covering every output shape."""
    single = key_for(app, "a.children")
    multi = key_for(app, "..b.children")
    every = key_for(app, '{"index":["ALL"]')
    matching = key_for(app, '{"index":["MATCH"]')
    go = [entry("go", "n_clicks", 1)]
    cells = [[entry({"type": "cell", "index": i}, "n_clicks", i) for i in (1, 2)]]
    cell_outputs = [
        {"id": {"type": "cell", "index": i}, "property": "children"} for i in (1, 2)
    ]
    row = [entry({"type": "row", "index": 7}, "n_clicks", 3)]
    row_output = {"id": {"type": "row", "index": 7}, "property": "children"}
    return [
        ("single", body_for(single, {"id": "a", "property": "children"}, go), True),
        (
            "single-other-id",
            body_for(single, {"id": "x", "property": "children"}, go),
            False,
        ),
        (
            "single-other-prop",
            body_for(single, {"id": "a", "property": "style"}, go),
            False,
        ),
        (
            "single-as-list",
            body_for(single, [{"id": "a", "property": "children"}], go),
            False,
        ),
        (
            "multi",
            body_for(
                multi,
                [
                    {"id": "b", "property": "children"},
                    {"id": "b", "property": "title@abc"},
                ],
                go,
            ),
            True,
        ),
        (
            "multi-forged",
            body_for(multi, [{"id": "x", "property": "y"}] * 2, go),
            False,
        ),
        (
            "multi-swapped",
            body_for(
                multi,
                [{"id": "b", "property": "title"}, {"id": "b", "property": "children"}],
                go,
            ),
            False,
        ),
        ("all", body_for(every, cell_outputs, cells), True),
        ("all-none-matched", body_for(every, [], [[]]), True),
        (
            "all-other-type",
            body_for(
                every,
                [{"id": {"type": "row", "index": 1}, "property": "children"}],
                cells,
            ),
            False,
        ),
        (
            "all-other-keys",
            body_for(
                every, [{"id": {"type": "cell", "i": 1}, "property": "children"}], cells
            ),
            False,
        ),
        (
            "all-json-string-id",
            body_for(
                every,
                [{"id": '{"index":1,"type":"cell"}', "property": "children"}],
                cells,
            ),
            False,
        ),
        ("all-not-a-list", body_for(every, cell_outputs[0], cells), False),
        ("match", body_for(matching, row_output, row), True),
        ("match-as-list", body_for(matching, [row_output], row), False),
        (
            "match-string-id",
            body_for(matching, {"id": "row", "property": "children"}, row),
            False,
        ),
    ]


def test_accepted_bodies_are_ones_dash_answers(small_app):
    """Whatever passes the check dispatches without an error."""
    for name, body, accepted in cases(small_app):
        if not accepted:
            continue
        assert callback_request_problem(body, small_app.callback_map) is None, name
        response = dispatch(small_app, body)
        assert response.status_code in (200, 204), (name, response.status_code)


def test_outputs_naming_other_components_are_refused(small_app):
    """Forged `outputs` would make Dash raise; the check names the problem."""
    for name, body, accepted in cases(small_app):
        if accepted:
            continue
        problem = callback_request_problem(body, small_app.callback_map)
        assert problem == "Malformed callback outputs.", name


def test_forged_outputs_really_break_dash(small_app):
    """The cases above matter: Dash itself fails on a forged `outputs` list."""
    _, body, _ = cases(small_app)[1]  # single-other-id
    with pytest.raises(dash.exceptions.CallbackException, match="does not match"):
        small_app.server.config["PROPAGATE_EXCEPTIONS"] = True
        dispatch(small_app, body)
