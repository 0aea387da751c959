"""Shape checks for Dash callback requests, so malformed ones get a 400, not a 500.

Dash trusts the renderer's JSON; a hand-made request with a missing or mistyped
part would make it raise. The checks mirror what dash.Dash.dispatch reads.
"""

from __future__ import annotations


def _entry_ok(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("id"), str | dict)
        and isinstance(entry.get("property"), str)
    )


def _slot_ok(slot: object) -> bool:
    """One input/state/output: an entry, or a list of entries (pattern matching)."""
    if isinstance(slot, list):
        return all(_entry_ok(entry) for entry in slot)
    return _entry_ok(slot)


def _slots_ok(given: object, expected_count: int) -> bool:
    return (
        isinstance(given, list)
        and len(given) == expected_count
        and all(_slot_ok(slot) for slot in given)
    )


def _outputs_ok(key: str, outputs: object) -> bool:
    if not key.startswith(".."):
        return _slot_ok(outputs)
    return _slots_ok(outputs, len(key[2:-2].split("...")))


def callback_request_problem(body: object, callback_map: dict) -> str | None:
    """Why this body is not a well-formed request for a known callback, or None."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return "Malformed callback request."
    spec = callback_map.get(body["output"])
    if spec is None or not spec.get("callback"):
        return "Unknown callback."
    if not _slots_ok(body.get("inputs"), len(spec["inputs"])):
        return "Malformed callback inputs."
    if not _slots_ok(body.get("state", []), len(spec["state"])):
        return "Malformed callback state."
    if not spec.get("no_output") and not _outputs_ok(
        body["output"], body.get("outputs")
    ):
        return "Malformed callback outputs."
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "Malformed changedPropIds."
    return None
