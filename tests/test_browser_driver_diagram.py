"""In a real browser: a coach writes the aim, builds a driver diagram of two primary and
three secondary drivers with two change ideas, plans a PDSA cycle and moves it on; axe
checks every page on the way."""

import pytest

from bigrooms.models import ChangeIdea, Driver

pytestmark = pytest.mark.browser


def test_a_coach_builds_a_driver_diagram_and_plans_a_cycle(web, cast, transactional_db):
    page = web.page
    web.sign_in(cast.alice.email, f"/rooms/{cast.room.pk}/")

    # Themes, then the aim.
    page.get_by_role("link", name="Themes and multivotes").click()
    web.check()
    for title in ("Waits for theatre", "Weekend discharges"):
        page.get_by_label("Theme", exact=True).fill(title)
        page.get_by_role("button", name="Add the theme").click()
        web.check()
    page.get_by_role("button", name="Start a multivote").click()
    web.check()
    page.get_by_label("Waits for theatre").fill("3")
    page.get_by_role("button", name="Save my votes").click()
    web.check()
    page.get_by_role("button", name="Close the vote and keep the result").click()
    web.check()
    assert "Waits for theatre" in page.get_by_test_id("ranking").inner_text()

    web.goto(f"/rooms/{cast.room.pk}/aims/")
    page.get_by_label("Where").fill("Hip fracture patients at North General")
    page.get_by_label("What it will look like").fill("Everyone reaches theatre within 36 hours")
    page.get_by_label("Why it matters").fill("Waiting longer raises the risk of dying")
    page.get_by_role("button", name="Save the global aim").click()
    web.check()
    page.get_by_role("link", name="Add a specific aim").click()
    web.check()
    page.get_by_label("What will improve").fill("Mean hours to theatre")
    page.get_by_label("Read on the measure").select_option(label=cast.measure.name)
    page.get_by_label("By when").fill("31/12/2026")
    page.get_by_role("button", name="Save the specific aim").click()
    web.check()
    assert page.get_by_role("link", name="Enter how good, as a number, for example 80").is_visible()
    assert page.get_by_label("What will improve").input_value() == "Mean hours to theatre"
    page.get_by_label("How good").fill("30")
    page.get_by_role("button", name="Save the specific aim").click()
    web.check()

    # The driver diagram: two primary drivers, three secondary drivers, two change ideas.
    web.goto(f"/rooms/{cast.room.pk}/driver-diagram/")
    drivers = [
        ("Early senior review", None),
        ("Theatre capacity", None),
        ("Consultant rota", "Early senior review"),
        ("Trauma list planning", "Theatre capacity"),
        ("Anaesthetic cover", "Theatre capacity"),
    ]
    for title, parent in drivers:
        page.get_by_label("Driver", exact=True).fill(title)
        if parent:
            page.get_by_label("Where it goes").select_option(label=f"Under “{parent}”")
        page.get_by_role("button", name="Add the driver").click()
        web.check()
    ideas = [
        ("Daily trauma huddle", ["Consultant rota", "Trauma list planning"]),
        ("Protected morning slot", ["Trauma list planning", "Anaesthetic cover"]),
    ]
    for title, serves in ideas:
        page.get_by_label("Change idea", exact=True).fill(title)
        for driver in serves:
            page.get_by_label(driver).check()
        page.get_by_role("button", name="Add the change idea").click()
        web.check()
    assert Driver.objects.filter(parent__isnull=True).count() == 2
    assert Driver.objects.filter(parent__isnull=False).count() == 3
    drawing = page.get_by_test_id("driver-diagram").locator("svg")
    assert drawing.get_attribute("role") == "img"
    assert drawing.locator("g[data-key^='driver-']").count() == 5
    assert drawing.locator("g[data-key^='idea-']").count() == 2
    outline = page.get_by_test_id("driver-outline").inner_text()
    assert outline.count("Change idea: Trauma") == 0 and outline.count("Daily trauma huddle") == 2

    # A node under itself is refused, with the reason, and nothing moves.
    page.get_by_role("link", name="Change “Early senior review”").click()
    web.check()
    page.get_by_label("Where it goes").select_option(label="Under “Consultant rota”")
    page.get_by_role("button", name="Save the driver").click()
    web.check()
    assert page.get_by_role(
        "link", name="“Early senior review” cannot go under “Consultant rota”, which is under it"
    ).is_visible()
    assert Driver.objects.get(title="Early senior review").parent is None

    # Plan a cycle of one change idea and move it on to Do.
    idea = ChangeIdea.objects.get(title="Protected morning slot")
    web.goto(f"/change-ideas/{idea.pk}/")
    page.get_by_role("link", name="Plan a PDSA cycle").click()
    web.check()
    page.get_by_label("Objective").fill("Keep the first slot for a hip fracture")
    page.get_by_label("Scale").fill("One Monday")
    page.get_by_label("Question 1", exact=True).fill("Will the slot be used?")
    page.get_by_label(cast.measure.name).check()
    page.get_by_role("button", name="Save the plan").click()
    web.check()
    page.get_by_role("button", name="Move on to Do").click()
    web.check()
    assert page.get_by_test_id("prediction-warning").is_visible()
    page.get_by_role("link", name="Add the predictions").click()
    web.check()
    page.get_by_label("Prediction for question 1").fill("Yes, every Monday")
    page.get_by_role("button", name="Save and move on to Do").click()
    web.check()
    assert page.get_by_text("The cycle is now Doing").is_visible()

    web.goto(f"/rooms/{cast.room.pk}/pdsas/")
    web.goto(f"/rooms/{cast.room.pk}/")
    assert page.get_by_test_id("story-diagram").is_visible()
    web.goto(f"/measures/{cast.measure.pk}/")
    assert (
        "PDSA 1 started: Protected morning slot"
        in page.get_by_test_id("chart-markers").inner_text()
    )
    web.assert_every_page_checked()
