"""Browser tests of accounts: register, sign out, sign in, protected pages."""

from __future__ import annotations

import uuid

from tests.conftest import ARTIFACTS
from tests.e2e.helpers import (
    assert_accessible,
    browser_errors,
    click,
    click_element,
    open_with_an_event_log,
    settle_transitions,
    sign_in_in_browser,
    sign_out_in_browser,
    sign_up_in_browser,
    wait_for,
)
from tests.services import free_port


def _email() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}@example.com"


def test_visitor_registers_signs_out_signs_in_and_reaches_a_protected_page(
    dash_duo, app
):
    """The whole account round trip, with the user's e-mail in the navbar."""
    dash_duo.start_server(app, port=free_port())
    email, password = _email(), "a long enough password"
    sign_up_in_browser(dash_duo, email, password)
    assert dash_duo.find_element("#navbar-user").text == email
    sign_out_in_browser(dash_duo)
    assert "signed out" in dash_duo.find_element("#login-page").text
    assert not dash_duo.driver.find_elements("css selector", "#navbar-user")

    # A protected page sends us to sign in, then back to where we were going.
    dash_duo.driver.get(dash_duo.server_url + "/account")
    dash_duo.wait_for_element("#login-email", timeout=10)
    assert "next=%2Faccount" in dash_duo.driver.current_url
    dash_duo.find_element("#login-email").send_keys(email)
    dash_duo.find_element("#login-password").send_keys(password)
    click(dash_duo, "#login-submit")
    dash_duo.wait_for_element("#account-page", timeout=15)
    assert dash_duo.find_element("#navbar-user").text == email
    assert email in dash_duo.find_element("#account-profile").text
    assert_accessible(dash_duo, state="account, no tokens")
    sign_out_in_browser(dash_duo)
    assert browser_errors(dash_duo) == []


def test_visitor_sees_specific_errors_while_filling_the_forms(dash_duo, app):
    """Too short, passwords differ, bad e-mail, e-mail taken, wrong password."""
    dash_duo.start_server(app, port=free_port())
    dash_duo.driver.get(dash_duo.server_url + "/register")
    email_box = dash_duo.wait_for_element("#register-email", timeout=10)
    email_box.send_keys("not-an-email")
    dash_duo.find_element("#register-password").send_keys("short")
    dash_duo.wait_for_contains_text("#register-email-feedback", "valid e-mail")
    dash_duo.wait_for_contains_text("#register-password-feedback", "Too short")
    dash_duo.find_element("#register-confirm").send_keys("other")
    click(dash_duo, "#register-email")
    dash_duo.wait_for_contains_text("#register-confirm-feedback", "do not match")
    assert_accessible(dash_duo, state="register, invalid fields")
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / "register-errors.png"))

    taken = _email()
    sign_up_in_browser(dash_duo, taken, "password-one-two")
    sign_out_in_browser(dash_duo)
    dash_duo.driver.get(dash_duo.server_url + "/register")
    dash_duo.wait_for_element("#register-email", timeout=10).send_keys(taken)
    dash_duo.find_element("#register-password").send_keys("password-three")
    dash_duo.find_element("#register-confirm").send_keys("password-three")
    click(dash_duo, "#register-submit")
    dash_duo.wait_for_contains_text("#register-error", "already exists", timeout=10)

    dash_duo.driver.get(dash_duo.server_url + "/login")
    dash_duo.wait_for_element("#login-email", timeout=10).send_keys(taken)
    dash_duo.find_element("#login-password").send_keys("wrong-password")
    click(dash_duo, "#login-submit")
    dash_duo.wait_for_contains_text("#login-error", "Incorrect e-mail or password")
    assert_accessible(dash_duo, state="sign in, wrong password")
    dash_duo.driver.save_screenshot(str(ARTIFACTS / "login-error.png"))
    sign_in_in_browser(dash_duo, taken, "password-one-two")


def test_login_and_register_pages_look_right(dash_duo, app):
    """Screenshots of the sign-in and registration pages for review."""
    dash_duo.start_server(app, port=free_port())
    ARTIFACTS.mkdir(exist_ok=True)
    for page in ("login", "register"):
        dash_duo.driver.get(dash_duo.server_url + f"/{page}")
        dash_duo.wait_for_element(f"#{page}-page .card", timeout=10)
        assert_accessible(dash_duo, state=f"{page}, anonymous")
        dash_duo.driver.save_screenshot(str(ARTIFACTS / f"{page}.png"))
    assert browser_errors(dash_duo) == []


def test_user_creates_and_revokes_an_api_token_on_the_account_page(dash_duo, app):
    """A token is shown once, listed, usable as a bearer token, then revoked."""
    dash_duo.start_server(app, port=free_port())
    sign_up_in_browser(dash_duo, _email(), "a long enough password")
    dash_duo.driver.get(dash_duo.server_url + "/account")
    dash_duo.wait_for_element("#account-token-name", timeout=10).send_keys("ci")
    click(dash_duo, "#account-token-create")
    secret = dash_duo.wait_for_element("#account-token-value", timeout=10).text
    assert secret.startswith("ibt_")
    assert_accessible(dash_duo, state="account, new token shown once")
    client = app.server.test_client()
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / "account.png"))
    click(dash_duo, ".account-token-row button")
    dash_duo.wait_for_contains_text("#account-token-message", "revoked", timeout=10)
    dash_duo.wait_for_element("#account-no-tokens", timeout=10)
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 401


def test_visitor_following_a_link_to_a_protected_page_is_asked_to_sign_in(
    dash_duo, app
):
    """In-app navigation renders a sign-in card, and signing in leads back there."""
    dash_duo.start_server(app, port=free_port())
    email, password = _email(), "a long enough password"
    sign_up_in_browser(dash_duo, email, password)
    sign_out_in_browser(dash_duo)
    dash_duo.driver.get(dash_duo.server_url + "/")
    dash_duo.wait_for_element("#home-page", timeout=10)
    click(dash_duo, "#navbar a[href='/datasets']")
    dash_duo.wait_for_element("#sign-in-required", timeout=10)
    assert_accessible(dash_duo, state="sign-in required card")
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / "sign-in-required.png"))
    click(dash_duo, "#sign-in-required a.btn-primary")
    dash_duo.wait_for_element("#login-email", timeout=10).send_keys(email)
    dash_duo.find_element("#login-password").send_keys(password)
    click(dash_duo, "#login-submit")
    dash_duo.wait_for_text_to_equal("#navbar-user", email, timeout=15)
    assert dash_duo.driver.current_url.endswith("/datasets")
    assert not dash_duo.driver.find_elements("css selector", "#sign-in-required")


def test_anonymous_visitor_to_an_unknown_page_is_sent_to_sign_in(dash_duo, app):
    """Every path except the public list needs an account, unknown ones included."""
    dash_duo.start_server(app, port=free_port())
    dash_duo.driver.get(dash_duo.server_url + "/no-such-page")
    dash_duo.wait_for_element("#login-email", timeout=10)
    assert "next=%2Fno-such-page" in dash_duo.driver.current_url
    assert_accessible(dash_duo, state="sign in, sent from an unknown page")


def tick(dash_duo, checklist_id: str, label_text: str) -> None:
    """Tick the checkbox of a checklist whose label contains `label_text`."""
    label = wait_for(
        lambda: next(
            (
                element
                for element in dash_duo.driver.find_elements(
                    "css selector", f"#{checklist_id} label"
                )
                if label_text in element.text
            ),
            None,
        ),
        timeout=10,
        message=f"{label_text!r} in {checklist_id}",
    )
    settle_transitions(dash_duo.driver)
    click_element(dash_duo.driver, label)


def screenshot_of_agent_tokens(dash_duo, name: str) -> None:
    """A screenshot with the agent tokens card at the top of the window."""
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'start', behavior: 'instant'});"
        " window.scrollBy({top: -16, behavior: 'instant'});",
        dash_duo.find_element("#agent-tokens"),
    )
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / name))


def test_user_creates_an_agent_token_for_a_dataset_on_the_account_page(
    dash_duo, make_app
):
    """The form offers the user's dataset and its measures; a missing name is
    named beside the field; the new token is shown once with the MCP URL, listed
    with its scope, and reads the KPI API."""
    api, _user, dataset_id = open_with_an_event_log(dash_duo, make_app, "/account")
    click(dash_duo, "#account-agent-token-new")
    dash_duo.wait_for_element("#account-agent-token-name", timeout=10)
    wait_for(
        lambda: dash_duo.find_element("#account-agent-token-name").is_displayed(),
        timeout=10,
        message="the new agent token form",
    )
    tick(dash_duo, "account-agent-token-datasets", "Shop events")
    tick(dash_duo, "account-agent-token-measures", "revenue")
    tick(dash_duo, "account-agent-token-dimensions", "traffic_source")
    dash_duo.find_element("#account-agent-token-window").send_keys("31")
    click(dash_duo, "#account-agent-token-create")
    dash_duo.wait_for_contains_text(
        "#account-agent-token-name-error", "Give the token a name", timeout=10
    )
    assert_accessible(dash_duo, state="account, agent token form, name missing")
    screenshot_of_agent_tokens(dash_duo, "account-agent-token-form.png")

    dash_duo.find_element("#account-agent-token-name").send_keys("weekly-insights")
    click(dash_duo, "#account-agent-token-create")
    secret = dash_duo.wait_for_element("#account-agent-token-value", timeout=10).text
    assert secret.startswith("iba_")
    assert "/mcp" in dash_duo.find_element("#account-agent-token-secret").text
    dash_duo.wait_for_contains_text(
        "#account-agent-token-list", "weekly-insights", timeout=10
    )
    row = dash_duo.find_element(".account-agent-token-row").text
    assert "measures: revenue" in row and "windows up to 31 days" in row
    wait_for(
        lambda: not dash_duo.find_element("#account-agent-token-name").is_displayed(),
        timeout=10,
        message="the form to close",
    )
    assert_accessible(dash_duo, state="account, new agent token shown once")
    screenshot_of_agent_tokens(dash_duo, "account-agent-token.png")
    kpi = api.get(
        f"/api/kpi/{dataset_id}?measures=revenue",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert kpi.status_code == 200, kpi.get_json()
    assert dash_duo.get_logs() == []
