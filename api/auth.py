"""REST routes: auth (see DESIGN.md §4)."""

from api import api  # noqa: F401
