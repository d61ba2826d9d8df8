"""In a real browser at phone size: a coach logs a session; a member ticks off an action."""

import pytest

from tests.conftest import PASSWORD, AccessiblePage

pytestmark = pytest.mark.browser


def _sign_in(web, email, next_path):
    page = web.page
    web.goto(f"/account/sign-in/?next={next_path}")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    web.check()


def test_a_coach_logs_a_session_on_a_phone(web, cast, transactional_db):
    page = web.page
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(web, cast.alice.email, f"/rooms/{cast.room.pk}/")
    page.get_by_role("link", name="Log a session").click()
    web.check()
    page.get_by_label("Date of the session").fill("06/01/2026")
    page.get_by_role("group", name="Alice Adams").get_by_label("In the room").check()
    page.get_by_role("group", name="Bob Brown").get_by_label("Online").check()
    page.get_by_label("Notes and decisions").fill("Agreed to test an early theatre slot.")
    page.get_by_label("New action 1", exact=True).fill("Book the early slot")
    page.locator("#id_new_1_owner").select_option(label="Dana Dale")
    page.get_by_label("Meeting evaluation scores").fill("7 8 9 6 8")
    page.get_by_role("button", name="Save the session").click()
    web.check()
    assert page.get_by_role("heading", name="Session of 6 Jan 2026").is_visible()
    assert "2 members" in page.get_by_test_id("attendance").inner_text()
    assert "mean 7.6" in page.get_by_test_id("evaluation").inner_text()

    # An attendee scores on their own phone from the link: no sign-in.
    page.get_by_text("Show the scoring link and QR code").click()
    assert page.locator("svg.app-qr").is_visible()
    link = page.get_by_test_id("scoring").get_by_role("link").get_attribute("href")
    phone = page.context.browser.new_context(viewport={"width": 390, "height": 844})
    attendee = AccessiblePage(phone.new_page(), web.base_url)
    attendee.page.goto(link)
    attendee.check()
    attendee.page.get_by_label("9").check()
    attendee.page.get_by_role("button", name="Send my score").click()
    attendee.check()
    assert attendee.page.get_by_test_id("score-thanks").is_visible()
    attendee.assert_every_page_checked()
    phone.close()

    page.get_by_role("button", name="Sign out").click()
    web.check()
    _sign_in(web, cast.dana.email, "/actions/")
    assert page.get_by_test_id("my-action").first.inner_text().startswith("Book the early slot")
    page.get_by_test_id("my-action").first.get_by_role("button", name="Done").click()
    web.check()
    assert page.get_by_text("You have no open actions.").is_visible()
