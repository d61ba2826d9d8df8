"""Saving data reaches the chart through the real queue: Redis and a live Celery worker."""

import pytest
from django.urls import reverse

from measures.models import ChartResult, Measure
from tests.conftest import start_redis, stop_redis, wait_for

pytestmark = pytest.mark.postgres_only


def _chart_current(measure_id: int) -> bool:
    measure = Measure.objects.get(pk=measure_id)
    chart = ChartResult.objects.filter(measure_id=measure_id).first()
    return chart is not None and chart.data_version == measure.data_version


def test_a_saved_value_reaches_the_chart_page_through_the_worker(client, cast, live_worker):
    client.force_login(cast.alice)
    url = reverse("paste_points", args=[cast.measure.pk])
    rows = "\n".join(f"{day:02d}/01/2026\t{value}" for day, value in [(5, 30), (12, 32)])
    assert client.post(url, {"rows": rows}).status_code == 302
    response = client.post(
        reverse("add_point", args=[cast.measure.pk]), {"day": "19/01/2026", "value": "29.5"}
    )
    assert response.status_code == 302

    wait_for(lambda: _chart_current(cast.measure.pk), message="the worker never stored the chart")
    chart = ChartResult.objects.get(measure=cast.measure)
    assert chart.result["n"] == 3
    assert chart.result["phases"][0]["centre"] == pytest.approx((30 + 32 + 29.5) / 3)

    page = client.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert 'data-testid="recalculating"' not in page
    assert "Not enough data yet (3 points in this phase)" in page
    assert "The latest point is for the week starting 19 Jan 2026." in page
    assert 'id="chart-figure-' in page


@pytest.mark.serial
def test_saves_succeed_while_redis_is_down_and_the_sweep_catches_up(client, cast, live_worker):
    from measures.services import enqueue_stale_charts

    second = Measure.objects.create(
        room=cast.room, name="Delirium screening", unit="%", frequency="monthly"
    )
    client.force_login(cast.alice)
    stop_redis()
    try:
        for day in ("05/05/2025", "12/05/2025", "19/05/2025", "26/05/2025"):
            response = client.post(
                reverse("add_point", args=[cast.measure.pk]), {"day": day, "value": day[:2]}
            )
            assert response.status_code == 302, response.content.decode()[:500]
        response = client.post(
            reverse("paste_points", args=[second.pk]),
            {"rows": "Month\tScreened\nJan 2025\t81\nFeb 2025\t84\nMar 2025\t79"},
        )
        assert response.status_code == 302
        assert cast.measure.points.count() == 4
        assert second.points.count() == 3
        assert not _chart_current(cast.measure.pk)
        assert not _chart_current(second.pk)
    finally:
        start_redis()

    assert enqueue_stale_charts() >= 2
    wait_for(
        lambda: _chart_current(cast.measure.pk) and _chart_current(second.pk),
        message="the sweep never brought the charts up to date",
    )
    assert ChartResult.objects.get(measure=cast.measure).result["n"] == 4
    assert ChartResult.objects.get(measure=second).result["n"] == 3


def test_an_upload_reaches_the_chart_page_and_the_icon_summary_through_the_worker(
    client, cast, live_worker
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(cast.alice)
    rows = "\n".join(f"{5 + 7 * (i % 4):02d}/{1 + i // 4:02d}/2025,{30 + i % 3}" for i in range(16))
    response = client.post(
        reverse("upload_start", args=[cast.measure.pk]),
        {"file": SimpleUploadedFile("theatre.csv", f"Week,Hours\n{rows}\n".encode())},
    )
    review = response["Location"]
    loaded = client.post(
        review, {"header_row": "1", "date_column": "0", "value_column": "1", "load": "1"}
    )
    assert loaded.status_code == 302
    wait_for(lambda: _chart_current(cast.measure.pk), message="the worker never drew the upload")
    page = client.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert "at the latest of 16 weekly points" in page
    assert 'aria-label="Common cause: no significant change"' in page
    room = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert 'aria-label="Common cause: no significant change"' in room
