"""Browser helpers shared by the dash_duo tests.

Accessibility: every browser test calls `assert_accessible(dash_duo, state="...")`
on each page and state it opens (signed in where the page needs it; empty,
loading, error and data states where the page has them). It injects axe-core
(`npm ci` installs it in node_modules/) and fails on any WCAG 2.1 A or AA
violation, naming the rule, the elements and the help text:

    dash_duo.wait_for_element("#kpi-page", timeout=10)   # the state is on screen
    assert_accessible(dash_duo, state="KPI page, no measures yet")

A browser test that passes without calling it fails (tests/e2e/conftest.py).
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path

from tests.agent_calls import upload_people_events
from tests.conftest import register_user
from tests.services import free_port

AXE_SCRIPT = (
    Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
)
# WCAG 2.0 and 2.1, levels A and AA: the standard the README promises.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
RUN_AXE = """
const [tags, done] = arguments;
axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(result => done(result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({
      target: n.target.join(' '), html: n.html, summary: n.failureSummary})),
  }))))
  .catch(error => done({error: String(error)}));
"""


def click(dash_duo, selector: str) -> None:
    """Scroll an element to the middle of the window, then click it."""
    click_element(dash_duo.driver, dash_duo.find_element(selector))


def click_element(driver, element) -> None:
    """Scroll an element to the middle of the window at once (Bootstrap makes
    scrolling smooth: the click would land where the element was), then click."""
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
        element,
    )
    element.click()


@cache
def axe_source() -> str:
    """The axe-core script, read once per test run."""
    if not AXE_SCRIPT.exists():
        raise AssertionError(f"{AXE_SCRIPT} is missing: run `npm ci` in the repo root")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def settle_transitions(driver, timeout_s: float = 5.0) -> None:
    """Wait until no CSS transition or animation is running (an alert fading in
    has the contrast of its half-drawn frame: axe must judge the finished page).
    Infinite animations (spinners) are left to run."""
    finite = (
        "return document.getAnimations().filter(a => a.playState === 'running'"
        " && a.effect && a.effect.getComputedTiming().endTime !== Infinity).length"
    )
    deadline = time.monotonic() + timeout_s
    while driver.execute_script(finite) and time.monotonic() < deadline:
        time.sleep(0.05)


def accessibility_violations(driver) -> list[dict]:
    """Run axe-core (injected when the page lacks it) on the current document."""
    if not driver.execute_script("return !!window.axe"):
        driver.execute_script(axe_source())
    driver.set_script_timeout(30)
    found = driver.execute_async_script(RUN_AXE, list(WCAG_TAGS))
    if isinstance(found, dict):
        raise AssertionError(f"axe-core could not run: {found['error']}")
    return found


def describe_violations(violations: list[dict]) -> str:
    """One paragraph per broken rule: impact, rule, help, then each element."""
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {node['html'][:200]}")
            lines.append(f"        {summary[:400]}")
    return "\n".join(lines)


def assert_accessible(dash_duo, state: str) -> None:
    """Fail unless the page on screen has no WCAG 2.1 A/AA violation (axe-core).

    `state` names what is checked ("analysis, data", "datasets, empty") for the
    failure message; wait for that state to be on screen before calling.
    """
    driver = dash_duo.driver
    settle_transitions(driver)
    violations = accessibility_violations(driver)
    audits = getattr(dash_duo, "accessibility_audits", [])
    dash_duo.accessibility_audits = [*audits, (driver.current_url, state)]
    assert not violations, (
        f"{len(violations)} accessibility rule(s) broken on {state} "
        f"({driver.current_url}):\n{describe_violations(violations)}"
    )


def sign_up_in_browser(dash_duo, email: str, password: str) -> None:
    """Register through the /register form; the browser ends up signed in at "/".

    Call after `dash_duo.start_server(...)`.
    """
    dash_duo.driver.get(dash_duo.server_url + "/register")
    dash_duo.wait_for_element("#register-email", timeout=10).send_keys(email)
    dash_duo.find_element("#register-password").send_keys(password)
    dash_duo.find_element("#register-confirm").send_keys(password)
    click(dash_duo, "#register-submit")
    dash_duo.wait_for_text_to_equal("#navbar-user", email.strip().lower(), timeout=15)


def sign_in_in_browser(dash_duo, email: str, password: str, path: str = "/login"):
    """Sign in through the /login form (optionally opened with a ?next=...)."""
    dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element("#login-email", timeout=10).send_keys(email)
    dash_duo.find_element("#login-password").send_keys(password)
    click(dash_duo, "#login-submit")
    dash_duo.wait_for_text_to_equal("#navbar-user", email.strip().lower(), timeout=15)


def open_with_an_event_log(dash_duo, make_app, path: str):
    """A new user who owns the "Shop events" log (tests.agent_calls), signed in
    through the form, with `path` open: (API client, user, dataset id)."""
    app = make_app(ingest_mode="inline")
    api = app.server.test_client()
    user = register_user(api)
    dataset_id, _frame = upload_people_events(api, user, name="Shop events")
    dash_duo.start_server(app, port=free_port())
    sign_in_in_browser(dash_duo, user["email"], user["password"])
    dash_duo.driver.get(dash_duo.server_url + path)
    return api, user, dataset_id


def sign_out_in_browser(dash_duo) -> None:
    """Press the navbar's sign-out button and wait for the sign-in page."""
    click(dash_duo, "#navbar-sign-out")
    dash_duo.wait_for_element("#login-page", timeout=10)


def wait_for(condition, timeout: float = 60, message: str = "condition"):
    """Poll a callable until it returns something truthy (its value), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {message}")


# Chromium's own notice when a page with an open WebSocket (every signed-in page has
# the live socket) goes into the back-forward cache: the browser closes the socket
# itself and the page reconnects when it is shown again. Not an error of the app.
BACK_FORWARD_CACHE_NOTICE = "failed: Page entered Back-Forward Cache."


def browser_errors(dash_duo) -> list[dict]:
    """The browser console's errors and warnings, less Chromium's bfcache notice."""
    return [
        entry
        for entry in dash_duo.get_logs()
        if BACK_FORWARD_CACHE_NOTICE not in entry.get("message", "")
    ]
