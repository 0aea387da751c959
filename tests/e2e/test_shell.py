"""Browser tests of the navigation shell."""

import uuid

from tests.conftest import ARTIFACTS
from tests.e2e.helpers import assert_accessible, browser_errors, sign_up_in_browser
from tests.services import free_port


def test_visitor_opens_home_sees_navbar_and_follows_a_link(dash_duo, app):
    """The home page shows the navbar with the brand; a signed-in user's unknown
    page shows the not-found page, whose link goes home (anonymous visitors are
    sent to sign in first, see test_accounts.py)."""
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_element("#navbar", timeout=10)
    dash_duo.wait_for_text_to_equal(
        "#home-page h1", "Answers from your numbers, today."
    )
    assert "Insightboard" in dash_duo.find_element("#navbar .navbar-brand").text
    assert_accessible(dash_duo, state="home, anonymous")
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / "home.png"))
    sign_up_in_browser(
        dash_duo, f"shell-{uuid.uuid4().hex[:8]}@example.com", "a long enough password"
    )
    dash_duo.driver.get(dash_duo.server_url + "/no-such-page")
    dash_duo.wait_for_element("#not-found-page", timeout=10)
    assert_accessible(dash_duo, state="not found, signed in")
    dash_duo.find_element("#not-found-page a").click()
    dash_duo.wait_for_element("#home-page", timeout=10)
    assert browser_errors(dash_duo) == []
