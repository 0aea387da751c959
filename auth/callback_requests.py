"""Shape checks for Dash callback requests, so malformed ones get a 400, not a 500.

Dash trusts the renderer's JSON; a hand-made request with a missing or mistyped
part would make it raise. The checks mirror what dash.Dash.dispatch reads.
"""

from __future__ import annotations

from typing import Any

from dash._utils import clean_property_name
from dash.dependencies import ALL, Output


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


def _entry_matches(entry: dict, defined: Output) -> bool:
    """The request names the component and property the callback defines.

    Output equality is Dash's own: a pattern-matching output (ALL/MATCH in its
    id) matches any concrete dict id with the same keys, the way dispatch checks.
    """
    given = Output(entry["id"], clean_property_name(entry["property"]))
    try:
        return given == defined
    except (KeyError, TypeError):
        return False


def _is_multi_valued(defined: Output) -> bool:
    """An ALL output: the renderer sends a list of entries, one per match."""
    component = defined.component_id
    return isinstance(component, dict) and ALL in component.values()


def _output_matches(slot: Any, defined: Output) -> bool:
    if isinstance(slot, list) != _is_multi_valued(defined):
        return False
    entries = slot if isinstance(slot, list) else [slot]
    return all(_entry_matches(entry, defined) for entry in entries)


def _outputs_ok(definition: Any, outputs: Any) -> bool:
    """`outputs` has the definition's shape and names its components.

    Dash picks the function by the `output` key but then checks the separate
    `outputs` list against that function's Output objects, raising (a 500) on a
    mismatch; this is the same comparison, made first.
    """
    if isinstance(definition, list | tuple):
        return _slots_ok(outputs, len(definition)) and all(
            _output_matches(slot, defined)
            for slot, defined in zip(outputs, definition, strict=True)
        )
    return _slot_ok(outputs) and _output_matches(outputs, definition)


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
        spec["output"], body.get("outputs")
    ):
        return "Malformed callback outputs."
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "Malformed changedPropIds."
    return None
