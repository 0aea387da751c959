"""Browser helpers shared by the dash_duo tests."""

from __future__ import annotations


def click(dash_duo, selector: str) -> None:
    """Scroll an element to the middle of the window, then click it."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'});", element
    )
    element.click()


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


def sign_out_in_browser(dash_duo) -> None:
    """Press the navbar's sign-out button and wait for the sign-in page."""
    click(dash_duo, "#navbar-sign-out")
    dash_duo.wait_for_element("#login-page", timeout=10)
