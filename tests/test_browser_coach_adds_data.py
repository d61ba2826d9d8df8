"""In a real browser: the demo coach signs in, adds a value and sees the chart update."""

import pytest

from fca.demo import DEMO_PASSWORD, load_demo

pytestmark = pytest.mark.browser


def test_the_demo_coach_adds_a_value_and_sees_the_chart_update(web, transactional_db):
    load_demo()
    page = web.page

    web.goto("/")
    assert page.get_by_role("heading", name="Sign in to FCA big rooms").is_visible()
    page.get_by_label("Email address").fill("coach@bhr.demo.nhs.uk")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    web.check()
    assert page.get_by_role("heading", name="This week").is_visible()
    assert "Barking, Havering and Redbridge" in page.get_by_test_id("header-context").inner_text()

    page.get_by_role("link", name="Emergency department flow (Queen's Hospital)").click()
    web.check()
    page.get_by_test_id("measure-list").get_by_role(
        "link", name="Patients seen within 4 hours"
    ).click()
    web.check()
    summary = page.get_by_test_id("chart-summary")
    assert "at the latest of 36 monthly points (March 2019)." in summary.inner_text()
    assert _points_drawn(page) == 36

    page.get_by_label("Date", exact=True).fill("01/04/2019")
    page.get_by_label("Numerator", exact=True).fill("20,000")
    page.get_by_label("Denominator", exact=True).fill("22,000")
    page.get_by_role("button", name="Save value").click()
    web.check()
    assert page.get_by_text("Value saved.").is_visible()
    assert _points_drawn(page) == 37
    assert "at the latest of 37 monthly points (April 2019)." in summary.inner_text()
    first_row = page.get_by_test_id("data-table").locator("tbody tr").first.inner_text()
    assert first_row.split()[:3] == ["Apr", "2019", "90.91"]
    icons = page.get_by_test_id("chart-icons").get_by_role("img")
    assert icons.nth(0).get_attribute("aria-label") == "Common cause: no significant change"
    assert icons.nth(1).get_attribute("aria-label") == (
        "Variation indicates consistently failing the target"
    )


def test_a_bad_value_is_explained_on_the_page(web, transactional_db):
    load_demo()
    page = web.page
    web.goto("/account/sign-in/?next=/")
    page.get_by_label("Email address").fill("coach@bhr.demo.nhs.uk")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    web.check()
    page.get_by_role("link", name="Emergency department flow (Queen's Hospital)").click()
    web.check()
    page.get_by_role("link", name="A&E attendances").click()
    web.check()
    page.get_by_label("Date", exact=True).fill("31/04/2019")
    page.get_by_label("Value", exact=True).fill("lots")
    page.get_by_role("button", name="Save value").click()
    web.check()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert page.get_by_role("link", name="“31/04/2019” is not a real date").is_visible()
    assert page.get_by_role("link", name="“lots” is not a number").is_visible()


def _points_drawn(page) -> int:
    """How many points Plotly drew (waiting for it to draw). Polled from here: the page's
    content security policy rightly refuses the eval that in-page waiting would use."""
    page.locator("[data-figure] .main-svg").first.wait_for()
    return page.evaluate(
        "() => [...document.querySelector('[data-figure]').data]"
        ".filter(t => t.mode === 'lines+markers')"
        ".reduce((n, t) => n + t.x.length, 0)"
    )
