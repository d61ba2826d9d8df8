"""In a real browser: a coach publishes the room's change package, a coach of another
organisation finds it by its pathway, reads its charts and copies it into their room.
Every page passes axe, on a desktop and on a phone."""

import pytest
from django.urls import reverse

from tests.test_library import adopted  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser


def test_a_package_is_published_found_read_and_copied(web, cast, adopted, transactional_db):  # noqa: F811
    page = web.page
    web.sign_in(cast.alice.email, next_path=reverse("room_detail", args=[cast.room.pk]))
    page.get_by_role(
        "link", name="Publish the room's change package in the learning library"
    ).click()
    web.check()
    page.get_by_label("Title").fill("Early theatre slot for hip fractures")
    page.get_by_role("button", name="Publish").click()
    web.check()
    assert "Learnt 2" in page.get_by_test_id("package-summary").inner_text()
    page.get_by_role("button", name="Sign out").click()
    web.check()

    web.sign_in(cast.charlie.email, next_path=reverse("library_list"))
    page.get_by_label("Specialty").select_option("Orthopaedics")
    page.get_by_role("button", name="Search").click()
    web.check()
    page.get_by_role("link", name="Early theatre slot for hip fractures").click()
    web.check()
    page.wait_for_selector("#package-chart-1 .main-svg")
    assert "n = 28 points" in page.get_by_test_id("package-n").inner_text()
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()  # drawn at this width (a resize redraws the charts a moment later)
        page.wait_for_selector("#package-chart-1 .main-svg")
        web.check()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{overflow}px wider than a {width}px screen"
    page.get_by_role("button", name="Copy into my room").click()
    web.check()
    assert "Copied into Frailty big room" in page.content()
