"""REST routes: analytics (see DESIGN.md §4)."""

from api import api  # noqa: F401
