"""In a real browser: a data contributor uploads a file of episodes (a progress bar while it
goes), reads the problems found, loads the valid rows, and the pathway's flow measures and
heatmap appear; axe checks every page, and the pathway page fits a phone."""

import pytest

from pathways.models import Pathway, Step

pytestmark = pytest.mark.browser

ROWS = [
    "episode_id,arrived_at,departed_at,theatre,destination",
    *(f"E{i},2026-0{6 + i // 20}-{1 + i % 20:02d}T09:30,2026-0{6 + i // 20}-{3 + i % 20:02d}T"
      f"11:00,2026-0{6 + i // 20}-{1 + i % 20:02d}T20:00,Home" for i in range(60)),
    "BAD1,29/03/2026 01:30,,,",
    "BAD2,2026-07-01T09:30,2026-06-01T09:30,,",
]  # fmt: skip


def test_a_data_contributor_uploads_episodes_and_the_flow_measures_appear(
    web, cast, transactional_db, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    pathway = Pathway.objects.create(
        host=cast.north, name="Hip fracture", not_discharges=["died"],
        metrics=["arrivals", "los_median_hours", "step_within_standard_pct"],
    )  # fmt: skip
    Step.objects.create(pathway=pathway, code="theatre", name="Theatre", standard_hours=36,
                        slot=1)  # fmt: skip
    cast.room.pathway = pathway
    cast.room.save()
    data = tmp_path / "nightly.csv"
    data.write_text("\n".join(ROWS) + "\n")

    page = web.page
    web.sign_in(cast.dana.email, f"/pathways/{pathway.pk}/")
    page.get_by_role("link", name="Upload episodes").click()
    web.check()
    page.get_by_label("Upload a file of episodes").set_input_files(str(data))
    page.get_by_role("button", name="Upload and check").click()
    page.wait_for_url("**/episode-uploads/**")
    web.check()
    page.get_by_test_id("upload-status").and_(page.locator("[data-status=checked]")).wait_for()
    problems = page.get_by_test_id("problems").inner_text()
    assert "did not happen in the UK" in problems and "departed_at is before arrived_at" in problems
    web.check()
    page.get_by_role("button", name="Load the 60 valid episodes only").click()
    web.check()
    assert page.get_by_test_id("loaded").inner_text().startswith("Loaded")

    web.goto(f"/pathways/{pathway.pk}/")
    assert "Theatre within 36 hours" in page.get_by_test_id("flow-measures").inner_text()
    assert page.get_by_test_id("heatmap-arrivals").is_visible()
    page.set_viewport_size({"width": 390, "height": 900})
    web.goto(f"/pathways/{pathway.pk}/")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 8).map(e => e.tagName + '.' + e.className)"""
    )
    assert overflow <= 0, wide
    web.assert_every_page_checked()
