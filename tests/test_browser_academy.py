"""In a real browser: an academy admin adds a cohort, enrols 24 coaches from a file with
three bad rows, fixes them, confirms, pairs two coaches into a big room, and an invited
coach sets a password and lands in their room. Every page passes axe."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.test_academy import coach_list
from tests.test_programme import academy  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser


def _bad_list() -> str:
    """coach_list's 24, with three bad rows: an organisation nobody has, an email that
    is not one, and no coach type."""
    lines = coach_list().splitlines()
    lines[4] = "Coach 03,coach03@nhs.net,Nowhere Hospital,,Clinical"
    lines[8] = "Coach 07,coach07-at-nhs.net,,RYS,independent"
    lines[12] = "Coach 11,coach11@nhs.net,,RYS,"
    return "\n".join(lines) + "\n"


def test_an_admin_enrols_a_cohort_and_an_invited_coach_lands_in_their_room(
    web, cast, transactional_db, tmp_path
):
    page = web.page
    web.sign_in(cast.ada.email, next_path="/academy/")
    page.get_by_role("link", name="Add a cohort").click()
    web.check()
    page.get_by_label("Cohort name").fill("Cohort 14")
    page.get_by_label("Hosting academy").fill("Sheffield FCA")
    page.get_by_label("Starts on").fill("12/01/2027")
    page.get_by_role("button", name="Add the cohort").click()
    web.check()
    page.get_by_role("link", name="Enrol coaches from a list").click()
    web.check()

    bad = tmp_path / "cohort-14.csv"
    bad.write_text(_bad_list())
    page.get_by_label("The list of coaches").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    web.check()
    problems = page.get_by_test_id("row-problems").inner_text()
    assert "3 rows of 24 have problems" in problems
    assert "Row 5: No organisation is called “Nowhere Hospital”" in problems
    assert "Row 9: “coach07-at-nhs.net” is not an email address" in problems
    assert "Row 13: Enter the coach type: clinical or independent" in problems

    page.get_by_role("link", name="Upload the corrected list").click()
    web.check()
    good = tmp_path / "cohort-14-fixed.csv"
    good.write_text(coach_list())
    page.get_by_label("The list of coaches").set_input_files(str(good))
    page.get_by_role("button", name="Upload and check").click()
    web.check()
    page.get_by_role("button", name="Enrol 24 coaches and send invitations").click()
    web.check()
    assert "24 coaches enrolled; 24 invited by email" in page.content()
    assert page.get_by_test_id("coach-row").count() == 24
    assert len(mail.outbox) == 24

    page.get_by_role("link", name="Coach 00").click()
    web.check()
    page.get_by_label("Paired with").select_option(label="Coach 01 (South Community Health)")
    page.get_by_label("Big room", exact=True).select_option(
        label="Hip fracture big room (North Acute NHS Trust)"
    )
    page.get_by_role("button", name="Pair them in the room").click()
    web.check()
    assert "Coach 00 and Coach 01 now coach Hip fracture big room." in page.content()

    invitation = next(m for m in mail.outbox if m.to == ["coach00@nhs.net"])
    link = re.search(r"https?://[^/\s]+(/account/invitation/\S+/)", invitation.body)[1]
    page.get_by_role("button", name="Sign out").click()
    web.check()
    web.goto(link)
    page.get_by_label("New password", exact=True).fill("a-long-coach-secret")
    page.get_by_label("New password confirmation").fill("a-long-coach-secret")
    page.get_by_role("button", name="Join").click()
    web.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Hip fracture big room"


def test_the_academy_pages_pass_axe_and_fit_a_phone(web, cast, academy, transactional_db):  # noqa: F811
    coach = academy.coaches.first()
    day = academy.days.create(held_on=academy.starts_on, title="Day 1")
    urls = [reverse("academy_home"), reverse("cohort_detail", args=[academy.pk]),
            reverse("coach_detail", args=[coach.pk]), reverse("programme"),
            reverse("taught_day_attendance", args=[day.pk]),
            reverse("enrolment_new", args=[academy.pk]), reverse("cohort_create")]  # fmt: skip
    web.sign_in(cast.ada.email)
    for width in (1280, 390):
        web.page.set_viewport_size({"width": width, "height": 900})
        for url in urls:
            web.goto(url)
            overflow = web.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{url} is {overflow}px wider than a {width}px screen"
    web.goto(reverse("programme"))
    web.page.wait_for_selector("#programme-chart-1 .main-svg")  # the charts are drawn
