"""Where to go after signing in: only local paths are followed."""

from __future__ import annotations

from urllib.parse import urlsplit

AUTH_PAGES = frozenset({"/login", "/register", "/logout"})


def safe_next(target: object, default: str = "/") -> str:
    """`target` when it is a local path on this site, else `default`.

    Refuses "//host" and "/\\host" (browsers read both as another host), absolute
    URLs, control characters (browsers drop tabs and newlines, turning "/\\t/host"
    into "//host") and the auth pages themselves.
    """
    if not isinstance(target, str) or not 0 < len(target) <= 2048:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in AUTH_PAGES:
        return default
    return target
