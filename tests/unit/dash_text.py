"""Read the text of a Dash component tree (to check layouts without a browser)."""

from __future__ import annotations


def text_of(node) -> str:
    """All strings in a component tree, joined by spaces."""
    if node is None:
        return ""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(filter(None, (text_of(child) for child in node)))
    return text_of(getattr(node, "children", None))


def find_by_class(node, class_fragment: str) -> list:
    """Components whose className contains the fragment."""
    found = []
    if isinstance(node, list | tuple):
        for child in node:
            found.extend(find_by_class(child, class_fragment))
        return found
    if node is None or isinstance(node, str | int | float):
        return found
    if class_fragment in (getattr(node, "className", None) or ""):
        found.append(node)
    found.extend(find_by_class(getattr(node, "children", None), class_fragment))
    return found
