"""In a real browser on a phone: a patient partner joins from an emailed link, reads the
room in plain English and scores the meeting."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bigrooms.services import MemberInvite, add_member, scoring_ticket

pytestmark = pytest.mark.browser


def test_a_patient_partner_joins_from_an_email_reads_the_room_and_scores(
    web, cast, transactional_db
):
    add_member(
        room=cast.room,
        invite=MemberInvite(email="pat@example.com", full_name="Pat Jones", role="partner"),
        by=cast.alice,
    )
    session = cast.room.sessions.create(held_on=timezone.localdate(), notes="Agreed a trial.")
    link = re.search(r"http://127.0.0.1:8000(/account/invitation/\S+/)", mail.outbox[-1].body)[1]
    page = web.page
    page.set_viewport_size({"width": 390, "height": 844})

    web.goto(link)
    page.get_by_label("New password", exact=True).fill("a-long-partner-secret")
    page.get_by_label("New password confirmation").fill("a-long-partner-secret")
    page.get_by_role("button", name="Join").click()
    web.check()
    # Invited to one room, they land in it.
    assert page.url.endswith(reverse("room_detail", args=[cast.room.pk]))
    explainer = page.get_by_test_id("what-this-means")
    assert explainer.get_attribute("open") is not None  # open for partners
    explainer.get_by_role("link", name="What the words mean").click()
    web.check()
    assert page.get_by_text("Plan, Do, Study, Act").is_visible()

    web.goto(f"/score/{scoring_ticket(session)}/")
    page.get_by_label("8").check()
    page.get_by_role("button", name="Send my score").click()
    web.check()
    assert page.get_by_test_id("score-thanks").is_visible()
