"""Who hears of a dataset's new revisions and processing steps (the live push).

The factory wires a listener (api/live.py); appends and processing runs call
`announce` after each commit or status change. Without a listener nothing happens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from data.services import Services

log = logging.getLogger(__name__)
CHANGE_LISTENER = "ingest.change_listener"
ChangeListener = Callable[[str, int, int, str], object]


def set_change_listener(services: Services, listener: ChangeListener) -> None:
    """Wire what hears of a committed revision (the factory: live push)."""
    services.extensions[CHANGE_LISTENER] = listener


def announce(
    services: Services, dataset_id: str, version: int, revision: int, status: str
) -> None:
    """Tell the wired listener about a change (ids, revision and lifecycle status,
    never data); never fail the caller."""
    listener = services.extensions.get(CHANGE_LISTENER)
    if listener is None:
        return
    try:
        listener(dataset_id, version, revision, status)
    except Exception:
        log.exception("announcing a change failed", extra={"dataset": dataset_id})
