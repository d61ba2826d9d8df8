"""In a real browser: a coach asks for the room's board pack, watches the progress bar move
by itself while the worker makes it, and downloads the PDF; axe checks every page."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from bigrooms import boardpack
from bigrooms.models import BoardPack
from bigrooms.tasks import build_board_pack
from fca.celery import app as celery_app
from tests.test_board_pack import _chart

pytestmark = pytest.mark.browser


def test_a_coach_makes_the_board_pack_sees_its_progress_and_downloads_it(
    web, cast, transactional_db, monkeypatch
):
    weeks = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(15)]
    _chart(cast.measure, [{"period": w, "value": 30 + n % 3} for n, w in enumerate(weeks)])
    # The worker makes the pack, not the request: here the test plays the worker, and looks
    # at the page while the worker is part-way through drawing the charts.
    celery_app.conf.task_always_eager = False
    page = web.page
    seen: dict = {}
    draw = boardpack.ChartRenderer.png

    def look_then_draw(renderer, figure):
        try:
            page.get_by_text("Drawing the chart of Time to theatre (1 of 1)").wait_for()
            seen["progress"] = int(page.locator("#board-pack-progress").get_attribute("value"))
            web.check()
        except Exception as error:  # said after the build, which would keep it quiet
            seen["error"] = error
            raise
        return draw(renderer, figure)

    monkeypatch.setattr(boardpack.ChartRenderer, "png", look_then_draw)

    web.sign_in(cast.alice.email, f"/rooms/{cast.room.pk}/")
    page.get_by_role("link", name="Board pack: a PDF of the room for the quality committee").click()
    web.check()
    page.get_by_role("button", name="Make the board pack").click()
    web.check()
    status = page.get_by_test_id("board-pack-status")
    assert status.get_attribute("data-status") == "queued"
    assert page.get_by_test_id("board-pack-step").inner_text() == (
        "Waiting for the server to start on it"
    )

    pack = BoardPack.objects.get(room=cast.room)
    build_board_pack.apply(args=(pack.pk,))

    assert "error" not in seen, seen.get("error")
    assert 15 <= seen["progress"] < 100
    pack.refresh_from_db()
    assert pack.status == "ready", pack.error
    download_link = page.get_by_role("link", name="Download the board pack")
    download_link.wait_for()
    assert page.locator("#board-pack-announce").inner_text() == (
        "The board pack is ready to download."
    )
    assert status.get_attribute("data-status") == "ready"
    web.check()
    with page.expect_download() as download:
        download_link.click()
    made_on = timezone.localdate().isoformat()
    assert download.value.suggested_filename == f"board-pack-hip-fracture-big-room-{made_on}.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    web.assert_every_page_checked()
