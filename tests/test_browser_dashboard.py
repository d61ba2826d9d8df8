"""In a real browser: a QI lead opens their organisation's dashboard from This week,
filters it to stalled rooms, and drills into one and into its outcome measure's chart;
every page passes axe, on a desktop and on a phone, and none is wider than the screen."""

import pytest
from django.urls import reverse

from tests.test_dashboard import busy  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser


def test_a_qi_lead_filters_to_stalled_rooms_and_drills_into_one(web, cast, busy):  # noqa: F811
    room, _ = busy
    web.sign_in(cast.quinn.email)
    web.page.get_by_role("link", name="North Acute NHS Trust: every big room at a glance").click()
    web.check()
    rows = web.page.get_by_test_id("room-row")
    assert rows.count() == 2
    web.page.get_by_label("Stalled rooms only").check()
    web.page.get_by_role("button", name="Show rooms").click()
    web.check()
    assert rows.count() == 1
    assert "Showing 1 of 2 big rooms" in web.page.get_by_test_id("showing").inner_text()
    assert "No session logged for the last 3 meetings" in rows.first.inner_text()
    rows.first.get_by_role("link", name="Hip fracture big room").click()
    web.check()
    assert web.page.url.endswith(reverse("room_detail", args=[room.pk]))
    web.page.go_back()
    web.check()
    rows.first.get_by_role("link", name="Time to theatre: Special cause").click()
    web.check()
    assert web.page.url.endswith(reverse("measure_detail", args=[cast.measure.pk]))


def test_the_dashboards_fit_a_phone(web, cast, busy):  # noqa: F811
    web.sign_in(cast.quinn.email)
    for width in (1280, 390):
        web.page.set_viewport_size({"width": width, "height": 900})
        for name in ("organisation_dashboard", "organisation_measures"):
            web.goto(reverse(name, args=[cast.north.pk]))
            overflow = web.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} is {overflow}px wider than a {width}px screen"


def test_an_academy_admin_chooses_an_organisation(web, cast, busy):  # noqa: F811
    web.sign_in(cast.ada.email, next_path=reverse("organisations"))
    web.page.get_by_role("link", name="North Acute NHS Trust").click()
    web.check()
    assert web.page.get_by_test_id("room-row").count() == 2
