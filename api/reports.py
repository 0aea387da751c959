"""REST routes: reports (see DESIGN.md §4)."""

from api.blueprint import api  # noqa: F401
