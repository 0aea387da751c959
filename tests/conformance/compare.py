"""Compare two engines' results: numbers to a relative 1e-9, dates exactly, field
sets exactly, list order wherever the pipeline defines it."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Callable, Sequence

RELATIVE = 1e-9
Path = tuple
# tolerate(path, ours, theirs) -> True when a known engine difference explains it.
Tolerate = Callable[[Path, object, object], bool]


def matches(path: Path, pattern: str) -> bool:
    """`pattern` is dotted keys, `*` for any key or list index ("" is the top)."""
    parts = pattern.split(".") if pattern else []
    return len(parts) == len(path) and all(
        part == "*" or part == str(step) for part, step in zip(parts, path, strict=True)
    )


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _numbers_agree(ours: float, theirs: float) -> bool:
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    if math.isinf(ours) or math.isinf(theirs):
        return ours == theirs
    return abs(ours - theirs) <= RELATIVE * max(abs(ours), abs(theirs))


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def differences(
    ours,
    theirs,
    unordered: Sequence[str] = (),
    tolerate: Tolerate | None = None,
    path: Path = (),
) -> list[str]:
    """Every disagreement between two results, each naming its path."""
    if tolerate is not None and tolerate(path, ours, theirs):
        return []
    where = ".".join(str(step) for step in path) or "(top)"
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return _dict_differences(ours, theirs, unordered, tolerate, path, where)
    if isinstance(ours, list) and isinstance(theirs, list):
        return _list_differences(ours, theirs, unordered, tolerate, path, where)
    if _is_number(ours) and _is_number(theirs):
        if _numbers_agree(float(ours), float(theirs)):
            return []
        return [f"{where}: {ours!r} != {theirs!r}"]
    if isinstance(ours, dt.datetime) and isinstance(theirs, dt.datetime):
        if _utc(ours) == _utc(theirs):
            return []
        return [f"{where}: {ours.isoformat()} != {theirs.isoformat()}"]
    if type(ours) is type(theirs) and ours == theirs:
        return []
    return [f"{where}: {_show(ours)} != {_show(theirs)}"]


def _dict_differences(ours, theirs, unordered, tolerate, path, where) -> list[str]:
    found = []
    only_ours, only_theirs = set(ours) - set(theirs), set(theirs) - set(ours)
    if only_ours or only_theirs:
        found.append(
            f"{where}: fields only in ours {sorted(only_ours)}, "
            f"only in theirs {sorted(only_theirs)}"
        )
    for key in ours:
        if key in theirs:
            found += differences(
                ours[key], theirs[key], unordered, tolerate, (*path, key)
            )
    return found


def _list_differences(ours, theirs, unordered, tolerate, path, where) -> list[str]:
    if len(ours) != len(theirs):
        return [f"{where}: {len(ours)} items != {len(theirs)} items"]
    if any(matches(path, pattern) for pattern in unordered):
        return _multiset_differences(ours, theirs, unordered, tolerate, path, where)
    found = []
    for index, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        found += differences(mine, other, unordered, tolerate, (*path, index))
    return found


def _multiset_differences(ours, theirs, unordered, tolerate, path, where):
    """Order is not defined here: pair each of ours with an equal one of theirs."""
    remaining = list(range(len(theirs)))
    for index, mine in enumerate(ours):
        partner = next(
            (
                candidate
                for candidate in remaining
                if not differences(
                    mine, theirs[candidate], unordered, tolerate, (*path, index)
                )
            ),
            None,
        )
        if partner is None:
            return [f"{where}: ours has {_show(mine)} that theirs lacks"]
        remaining.remove(partner)
    return []
