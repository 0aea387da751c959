"""The page end of the live push: a Socket.IO connection bound to one dataset
(and the shell's own socket for the navbar's alert count, `alerts_socket`).

`live_trigger(trigger_id, dataset_id, revision)` gives the socket (dash-socketio,
WebSocket transport only) and a store whose `data` is the `{version, revision}`
the page shows (the socket also sends the page's path: under a share link the
server admits it by the link). A clientside callback (`register_live_trigger`)
writes an event into the store only when it names another version or revision,
so a page
refreshes through its normal, cached callback when its dataset changed, and never
otherwise. On every (re)connection the server sends the dataset's current revision
to the new socket, so a page that missed events while disconnected catches up.
socket.io-client reconnects with exponential backoff (1 s doubling to 30 s, ±50 %).
"""

from __future__ import annotations

from dash import Dash, Input, Output, State, dcc
from dash_socketio import DashSocketIO

EVENT = "revision"
ALERTS_EVENT = "alerts"
ALERTS_SOCKET = "navbar-alerts-socket"
SOCKET_PATH = "/socket.io"
RECONNECT = {
    "reconnectionDelay": 1000,
    "reconnectionDelayMax": 30000,
    "randomizationFactor": 0.5,
}


def socket_id(trigger_id: str) -> str:
    """The id of the socket component that feeds a trigger."""
    return f"{trigger_id}-socket"


def live_trigger(trigger_id: str, dataset_ids: list[str], shown: dict | None) -> list:
    """The socket for the datasets a page shows and the store it updates."""
    return [live_socket(trigger_id, dataset_ids), live_store(trigger_id, shown)]


def live_socket(trigger_id: str, dataset_ids: list[str]) -> DashSocketIO:
    """The page's socket, watching these datasets."""
    options = {
        "path": SOCKET_PATH,
        "transports": ["websocket"],
        "auth": {"datasets": list(dataset_ids)},
        **RECONNECT,
    }
    return DashSocketIO(id=socket_id(trigger_id), options=options, eventNames=[EVENT])


def alerts_socket(shown: int) -> DashSocketIO:
    """The signed-in shell's one socket (every page has it): it hears that the
    user's firing count changed (`data-alerts`), never the count itself. It tells
    the server the count the page was built with, so a change between building
    and connecting (or while disconnected) is announced on connecting."""
    options = {
        "path": SOCKET_PATH,
        "transports": ["websocket"],
        "auth": {"alerts": True, "shown": shown},
        **RECONNECT,
    }
    return DashSocketIO(id=ALERTS_SOCKET, options=options, eventNames=[ALERTS_EVENT])


def live_store(trigger_id: str, shown: dict | None) -> dcc.Store:
    """What the page shows ({datasetId: {version, revision, status}})."""
    return dcc.Store(id=trigger_id, data=shown or {})


def shown_revision(document: dict) -> dict:
    """What the page shows of a dataset version, as the trigger store keeps it."""
    return {
        "version": document.get("version"),
        "revision": document.get("revision", 0),
        "status": document.get("status"),
    }


CHANGED_ONLY = """
function(event, shown) {
    var none = window.dash_clientside.no_update;
    if (!event || event.datasetId === undefined) { return none; }
    var key = event.datasetId;
    var known = (shown || {})[key];
    if (known && known.version === event.version
            && known.revision === event.revision
            && known.status === event.status) { return none; }
    var next = Object.assign({}, shown || {});
    next[key] = {version: event.version, revision: event.revision,
                 status: event.status};
    return next;
}
"""


EVERY_EVENT = """
function(event, shown) {
    if (!event || event.datasetId === undefined) {
        return window.dash_clientside.no_update;
    }
    var next = Object.assign({}, shown || {});
    next.events = (next.events || 0) + 1;
    return next;
}
"""


def register_live_trigger(app: Dash, trigger_id: str, every_event=False) -> None:
    """Events that change what the page shows update the trigger's store (with
    `every_event`, each event does: progress heartbeats keep their revision)."""
    app.clientside_callback(
        EVERY_EVENT if every_event else CHANGED_ONLY,
        Output(trigger_id, "data"),
        Input(socket_id(trigger_id), f"data-{EVENT}"),
        State(trigger_id, "data"),
        prevent_initial_call=True,
    )
