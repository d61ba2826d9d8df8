"""In a real browser: a QI lead sets up a care pathway with its steps and settings, and a
coach links their room to it; axe checks every page, on a desktop and on a phone."""

import pytest

from pathways.models import Pathway

pytestmark = pytest.mark.browser


def test_a_qi_lead_sets_up_a_pathway_and_a_coach_links_the_room(web, cast, transactional_db):
    page = web.page
    web.sign_in(cast.quinn.email)
    page.get_by_role("link", name="Add a care pathway").click()
    web.check()
    page.get_by_role("button", name="Add the pathway").click()
    web.check()
    assert page.get_by_role("link", name="Enter the name of the pathway").is_visible()
    page.get_by_label("Name of the pathway").fill("Hip fracture")
    page.get_by_role("button", name="Add the pathway").click()
    web.check()
    for name, code, hours in (("Orthogeriatric review", "ortho_review", "72"),
                              ("Theatre", "theatre", "36")):  # fmt: skip
        page.get_by_label("Name of the step").fill(name)
        page.get_by_label("Column name").fill(code)
        page.get_by_label("Standard (hours from arrival)").fill(hours)
        page.get_by_role("button", name="Add the step").click()
        web.check()
    page.get_by_role("link", name="Change Theatre").click()
    web.check()
    page.get_by_label("Standard (hours from arrival)").fill("thirty-six")
    page.get_by_role("button", name="Save the step").click()
    web.check()
    assert page.get_by_role("link", name="“thirty-six” is not a number").is_visible()
    page.get_by_label("Standard (hours from arrival)").fill("36")
    page.get_by_role("button", name="Save the step").click()
    web.check()
    page.get_by_role("link", name="Change Theatre").click()
    web.check()
    page.get_by_role("link", name="Remove “Theatre”").click()
    web.check()
    assert page.get_by_text("No episode holds a time for this step yet.").is_visible()
    page.get_by_role("link", name="Keep it").click()
    web.check()

    pathway = Pathway.objects.get()
    web.goto(f"/pathways/{pathway.pk}/settings/")
    page.get_by_label("Median length of stay (hours)").check()
    page.get_by_label("Stranded patients", exact=True).check()
    page.get_by_role("button", name="Save the settings").click()
    web.check()
    steps = page.get_by_test_id("pathway-steps").inner_text()
    assert steps.index("Orthogeriatric review") < steps.index("Theatre")
    page.get_by_role("link", name="Data feed tokens").click()
    web.check()
    page.get_by_label("What will use the token?").fill("Data warehouse")
    page.get_by_role("button", name="Make the token").click()
    web.check()
    assert page.get_by_test_id("token-text").inner_text().startswith("fca_")
    assert "send this pathway's episodes" in page.locator("main").inner_text()

    page.context.clear_cookies()  # the coach, on the same tablet
    web.sign_in(cast.alice.email, f"/rooms/{cast.room.pk}/settings/")
    page.get_by_label("Pathway").select_option(label="Hip fracture")
    page.get_by_role("button", name="Save the room").click()
    web.check()
    page.get_by_role("link", name="Hip fracture").click()
    web.check()
    page.set_viewport_size({"width": 390, "height": 900})
    web.goto(f"/pathways/{pathway.pk}/")
    web.goto(f"/pathways/{pathway.pk}/steps/")
    web.assert_every_page_checked()
