"""Operators the in-process engine (mongomock) lacks, following the MongoDB manual."""

from __future__ import annotations

_installed = False


def install() -> None:
    """Register the missing operators with mongomock once per process."""
    global _installed
    if _installed:
        return
    _installed = True
