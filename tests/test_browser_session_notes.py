"""In a real browser: notes typed through a dropped connection are kept and saved when it
comes back; two coaches writing the same part see each other's version."""

from datetime import date

import pytest

from tests.conftest import PASSWORD, AccessiblePage

pytestmark = pytest.mark.browser


def test_notes_typed_offline_are_kept_and_saved_when_the_connection_returns(
    web, cast, transactional_db
):
    session = cast.room.sessions.create(held_on=date(2026, 1, 6))
    page = web.page
    web.sign_in(cast.alice.email, f"/sessions/{session.pk}/notes/")
    status = page.get_by_test_id("save-status")
    page.context.set_offline(True)
    page.get_by_label("Notes and decisions").fill("Agreed the early theatre slot")
    page.wait_for_timeout(1500)
    assert "Not saved yet — will retry" in status.inner_text()
    page.context.set_offline(False)
    page.get_by_text("Saved", exact=True).wait_for(timeout=10_000)
    session.refresh_from_db()
    assert session.notes == "Agreed the early theatre slot"
    web.check()


def test_two_coaches_writing_the_same_part_see_both_versions(web, cast, transactional_db, browser):
    session = cast.room.sessions.create(held_on=date(2026, 1, 6), note_keeper=cast.bob)
    page = web.page
    web.sign_in(cast.alice.email, f"/sessions/{session.pk}/notes/")

    other = browser.new_context()
    bob = AccessiblePage(other.new_page(), web.base_url)
    bob.goto(f"/account/sign-in/?next=/sessions/{session.pk}/notes/")
    bob.page.get_by_label("Email address").fill(cast.bob.email)
    bob.page.get_by_label("Password").fill(PASSWORD)
    bob.page.get_by_role("button", name="Sign in").click()
    bob.check()

    page.get_by_label("Notes and decisions").fill("Alice: slot agreed for Monday")
    page.get_by_text("Saved", exact=True).wait_for(timeout=10_000)
    bob.page.get_by_label("Notes and decisions").fill("Bob: slot from Tuesday")
    bob.page.locator("#part-notes-error").wait_for(timeout=10_000)
    assert "Alice: slot agreed for Monday" in bob.page.locator('[data-theirs="notes"]').inner_text()
    assert bob.page.get_by_label("Notes and decisions").input_value() == "Bob: slot from Tuesday"
    bob.check()
    bob.page.get_by_role("button", name="Save the notes").click()  # keep his own
    bob.check()
    session.refresh_from_db()
    assert session.notes == "Bob: slot from Tuesday"
    bob.assert_every_page_checked()
    other.close()


def test_a_session_form_keeps_what_was_typed_when_the_save_cannot_reach_the_server(
    web, cast, transactional_db
):
    page = web.page
    web.sign_in(cast.alice.email, f"/rooms/{cast.room.pk}/sessions/new/")
    page.get_by_label("Notes and decisions").fill("Typed in the basement")
    page.get_by_role("group", name="Bob Brown").get_by_label("Online").check()
    page.context.set_offline(True)
    page.get_by_role("button", name="Save the session").click()  # fails: no connection
    page.context.set_offline(False)
    web.goto(f"/rooms/{cast.room.pk}/sessions/new/")
    assert page.get_by_label("Notes and decisions").input_value() == "Typed in the basement"
    assert page.get_by_role("group", name="Bob Brown").get_by_label("Online").is_checked()
    assert page.get_by_text("What you typed earlier on this device was kept").is_visible()
    page.get_by_role("button", name="Save the session").click()
    web.check()
    assert page.get_by_role("heading", name="Session of").is_visible()
    web.goto(f"/rooms/{cast.room.pk}/sessions/new/")  # saved: the draft is gone
    assert page.get_by_label("Notes and decisions").input_value() == ""
