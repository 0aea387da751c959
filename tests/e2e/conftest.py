"""Browser-test rules: every test that drives a browser checks accessibility."""

from __future__ import annotations

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A passing dash_duo test that never called `assert_accessible` fails."""
    result = yield
    duo = item.funcargs.get("dash_duo")
    if duo is not None and not getattr(duo, "accessibility_audits", None):
        raise AssertionError(
            f"{item.name} drives a browser but checked no page with "
            "tests.e2e.helpers.assert_accessible(dash_duo, state=...)"
        )
    return result
