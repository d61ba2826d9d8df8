"""In a real browser: a page whose chart is behind its data says so, then updates the chart
in place, keeping whatever the person was typing."""

from datetime import date, timedelta

import pytest
from django.db.models import F

from measures import services
from measures.models import DataPoint, Measure

pytestmark = pytest.mark.browser


def test_the_measure_page_refreshes_itself_when_the_chart_is_ready(web, cast, transactional_db):
    services.save_data_points(
        measure=cast.measure,
        rows=[(n, date(2026, 1, 5) + timedelta(weeks=n), (30.0 + n % 3,)) for n in range(14)],
    )
    # A value saved while the worker is away: the data moved on, the chart did not.
    DataPoint.objects.create(measure=cast.measure, period=date(2026, 4, 13), value=41.0)
    Measure.objects.filter(pk=cast.measure.pk).update(data_version=F("data_version") + 1)
    page = web.page

    web.sign_in(cast.dana.email, f"/measures/{cast.measure.pk}/")
    assert page.get_by_test_id("recalculating").is_visible()
    assert "14 weekly points" in page.get_by_test_id("chart-summary").inner_text()

    # Someone starts typing while the chart is recalculating: nothing they type may be lost.
    page.get_by_label("Date", exact=True).fill("20/04/2026")
    services.recompute_chart(measure_id=cast.measure.pk)  # what the worker does
    page.get_by_test_id("recalculating").wait_for(state="detached", timeout=10_000)
    web.check()
    assert page.get_by_label("Date", exact=True).input_value() == "20/04/2026"
    assert "41" in page.get_by_test_id("data-table").locator("tbody tr").first.inner_text()
    assert "at the latest of 15 weekly points (the week starting 13 Apr 2026)." in (
        page.get_by_test_id("chart-summary").inner_text()
    )
