"""In a real browser: a coach sets up a measure, uploads its data and reads its icons."""

import pytest

pytestmark = pytest.mark.browser


def test_a_coach_sets_up_a_measure_and_uploads_a_spreadsheet(web, cast, transactional_db, tmp_path):
    page = web.page
    web.sign_in(cast.alice.email, f"/measures/{cast.measure.pk}/")

    page.get_by_role("link", name="Change the measure's definition, target or chart").click()
    web.check()
    page.get_by_label("Target").fill("lots")
    page.get_by_role("button", name="Save the measure").click()
    web.check()
    assert page.get_by_role("link", name="“lots” is not a number").is_visible()
    page.get_by_label("Target").fill("24")
    page.get_by_label("Operational definition").fill("Hours from arrival to theatre, mean per week")
    page.get_by_role("button", name="Save the measure").click()
    web.check()

    page.get_by_role("link", name="Upload a spreadsheet (CSV or Excel)").click()
    web.check()
    data = tmp_path / "theatre.csv"
    weeks = [f"{(5 + 7 * i) % 28 + 1:02d}/{1 + (5 + 7 * i) // 28:02d}/2025" for i in range(14)]
    data.write_text("Hip fracture theatre times\nWeek,Hours\n" + "\n".join(
        f"{w},{30 + (i * 7) % 5}" for i, w in enumerate(weeks)
    ))  # fmt: skip
    page.get_by_label("Upload a file").set_input_files(str(data))
    page.get_by_role("button", name="Upload and choose columns").click()
    web.check()
    page.get_by_role("button", name="Check the rows").click()
    web.check()
    assert "14 new values" in page.get_by_test_id("upload-plan").inner_text()
    page.get_by_role("button", name="Load 14 values").click()
    web.check()
    assert page.get_by_text("From theatre.csv: 14 values added").is_visible()
    icons = page.get_by_test_id("chart-icons").get_by_role("img")
    assert icons.count() == 2
    assert icons.nth(1).get_attribute("aria-label").startswith("Variation indicates")

    # Mend a slip: remove the newest value, after confirming.
    page.get_by_test_id("data-table").get_by_role("link", name="Remove").first.click()
    web.check()
    assert page.get_by_role("heading", name="Remove the value for").is_visible()
    page.get_by_role("button", name="Remove the value").click()
    web.check()
    assert page.get_by_text("was removed").is_visible()

    # A token for the data warehouse's feed, shown once.
    page.get_by_role("link", name=cast.room.name).first.click()
    web.check()
    page.get_by_role("link", name="Data feed tokens").click()
    web.check()
    page.get_by_label("What will use the token?").fill("Data warehouse")
    page.get_by_label("It only sends data").check()
    page.get_by_role("button", name="Make the token").click()
    web.check()
    assert page.get_by_test_id("token-text").inner_text().startswith("fca_")
