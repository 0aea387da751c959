"""Browser tests of the navigation shell."""

from tests.conftest import ARTIFACTS
from tests.services import free_port


def test_visitor_opens_home_sees_navbar_and_follows_a_link(dash_duo, app):
    """The home page shows the navbar with the brand; its brand link goes home."""
    dash_duo.start_server(app, port=free_port())
    dash_duo.wait_for_element("#navbar", timeout=10)
    dash_duo.wait_for_text_to_equal(
        "#home-page h1", "Answers from your numbers, today."
    )
    assert "Insightboard" in dash_duo.find_element("#navbar .navbar-brand").text
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / "home.png"))
    dash_duo.driver.get(dash_duo.server_url + "/no-such-page")
    dash_duo.wait_for_element("#not-found-page", timeout=10)
    dash_duo.find_element("#not-found-page a").click()
    dash_duo.wait_for_element("#home-page", timeout=10)
    assert dash_duo.get_logs() == []
