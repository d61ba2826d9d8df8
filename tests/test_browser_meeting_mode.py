"""In a real browser: meeting mode on one laptop driven by the keyboard, and a second
device (the coach's tablet) whose moves and new actions reach the room's screen."""

from datetime import date

import pytest

from bigrooms.services import screen_ticket
from tests.conftest import AccessiblePage

pytestmark = pytest.mark.browser


def test_meeting_mode_driven_by_the_keyboard_and_by_a_second_device(
    web, cast, transactional_db, browser
):
    session = cast.room.sessions.create(held_on=date(2026, 1, 6))
    laptop = web.page
    laptop.set_viewport_size({"width": 1366, "height": 768})
    web.sign_in(cast.alice.email, f"/sessions/{session.pk}/meeting/")
    web.check()
    item = laptop.get_by_test_id("current-item")
    assert item.inner_text() == "Patient story"
    laptop.keyboard.press("ArrowRight")
    laptop.get_by_test_id("current-item").filter(has_text="Last week's actions").wait_for()
    web.check()
    laptop.keyboard.press("ArrowRight")
    laptop.get_by_test_id("current-item").filter(has_text="Data and PDSA review").wait_for()
    laptop.keyboard.press("ArrowLeft")
    laptop.get_by_test_id("current-item").filter(has_text="Last week's actions").wait_for()
    assert "for this item" not in laptop.locator("[data-countdown]").inner_text()  # ticking

    # The room's screen from the read-only link, and the coach's tablet driving it.
    screen_context = browser.new_context(viewport={"width": 1280, "height": 720})
    screen = AccessiblePage(screen_context.new_page(), web.base_url)
    screen.goto(f"/meeting/{screen_ticket(session)}/")
    assert screen.page.get_by_test_id("current-item").inner_text() == "Last week's actions"

    tablet_context = browser.new_context(viewport={"width": 820, "height": 1180})
    tablet = AccessiblePage(tablet_context.new_page(), web.base_url)
    tablet.sign_in(cast.alice.email, f"/sessions/{session.pk}/meeting/")
    tablet.check()
    tablet.page.get_by_role("button", name="Next item").click()
    tablet.check()
    tablet.page.get_by_label("New action").fill("Book the early slot")
    tablet.page.get_by_label("Owner").fill("the theatre team")
    tablet.page.get_by_role("button", name="Add the action").click()
    tablet.check()

    # Within two seconds the screen shows both.
    screen.page.get_by_test_id("current-item").filter(has_text="Data and PDSA review").wait_for(
        timeout=2_500
    )
    screen.page.get_by_test_id("new-actions").filter(has_text="Book the early slot").wait_for(
        timeout=2_500
    )
    screen.check()
    for page in (screen, tablet):
        page.assert_every_page_checked()
    screen_context.close()
    tablet_context.close()
