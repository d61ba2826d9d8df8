"""In a real browser at phone size: a coach logs a whole session in a few taps; a member
ticks off an action; an attendee scores from the link."""

from datetime import timedelta

import pytest
from django.utils import timezone

from bigrooms.models import Action, BigRoom, Session
from tests.conftest import AccessiblePage

pytestmark = pytest.mark.browser


class Counted:
    """Counts what the person does: taps (clicks, ticks, choices) and typed fields."""

    def __init__(self, page):
        self.page, self.taps, self.typed = page, 0, 0

    def tap(self, locator):
        locator.click()
        self.taps += 1

    def check(self, locator):
        locator.check()
        self.taps += 1

    def choose(self, locator, label):
        locator.select_option(label=label)
        self.taps += 2  # open the list, pick one

    def type(self, locator, text):
        locator.click()
        locator.fill(text)
        self.taps += 1
        self.typed += 1


def test_a_coach_logs_a_whole_session_on_a_phone_in_few_taps(web, cast, transactional_db):
    today = timezone.localdate()
    BigRoom.objects.filter(pk=cast.room.pk).update(meeting_weekday=today.weekday())
    last_week = cast.room.sessions.create(held_on=today - timedelta(weeks=1))
    Action.objects.create(
        room=cast.room, raised_in=last_week, what="Audit the lists", owner=cast.bob
    )
    page = web.page
    page.set_viewport_size({"width": 390, "height": 844})
    web.sign_in(cast.alice.email, f"/rooms/{cast.room.pk}/")

    person = Counted(page)
    person.tap(page.get_by_role("link", name="Log a session"))
    web.check()
    # The date is this week's meeting day, and the roles are suggested: nothing to do.
    person.check(page.get_by_role("group", name="Alice Adams").get_by_label("In the room"))
    person.check(page.get_by_role("group", name="Bob Brown").get_by_label("Online"))
    person.check(page.get_by_role("group", name="Dana Dale").get_by_label("In the room"))
    person.type(page.get_by_label("Guests"), "3")
    person.check(page.get_by_role("group", name="Audit the lists (Bob Brown)").get_by_label("Done"))
    person.type(page.get_by_label("Notes and decisions"), "Agreed to test an early theatre slot.")
    person.type(
        page.get_by_role("group", name="New action 1").get_by_label("What", exact=True),
        "Book the early slot",
    )
    person.choose(page.locator("#id_new_1_owner"), "Dana Dale")
    person.type(
        page.get_by_role("group", name="New action 2").get_by_label("What", exact=True),
        "Ask for a Monday list",
    )
    person.choose(page.locator("#id_new_2_owner"), "Bob Brown")
    person.type(page.get_by_label("Meeting evaluation scores"), "7 8 9 6 8")
    person.tap(page.get_by_role("button", name="Save the session"))
    web.check()
    person.tap(page.get_by_role("button", name="Finish and send members the link"))
    web.check()
    print(f"Logging a whole session on a phone: {person.taps} taps, {person.typed} typed fields")
    assert person.taps <= 30 and person.typed <= 8

    session = Session.objects.get(held_on=today)
    assert session.attendances.count() == 3
    assert session.evaluations.count() == 5
    assert session.actions_raised.count() == 2
    assert session.finished_at is not None
    assert Action.objects.get(what="Audit the lists").status == "done"
    assert "3 members" in page.get_by_test_id("attendance").inner_text()
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
    web.sign_in(cast.dana.email, "/actions/")
    assert page.get_by_test_id("my-action").first.inner_text().startswith("Book the early slot")
    page.get_by_test_id("my-action").first.get_by_role("button", name="Done").click()
    web.check()
    assert page.get_by_text("You have no open actions.").is_visible()
