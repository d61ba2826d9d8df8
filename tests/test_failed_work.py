"""A chart whose recompute failed after its retries: what coaches, members and academy
admins see, and how a later success clears it. (tests/test_faults.py makes a recompute
fail for real, against PostgreSQL and a worker; this runs on either database.)"""

from datetime import date

from django.db import OperationalError
from django.db.models import F
from django.urls import reverse

from fca.models import AuditEvent
from measures import services
from measures.models import ChartResult, Measure


def _fail(measure, commit) -> ChartResult:
    """Two points drawn (version 2); then two changes, the recompute of the latest of
    which (version 4) the worker gave up on."""
    with commit(execute=True):  # the recomputes run in-process, after commit
        services.add_data_point(measure=measure, day=date(2025, 3, 3), numbers=(30.0,))
        services.add_data_point(measure=measure, day=date(2025, 3, 10), numbers=(31.0,))
    Measure.objects.filter(pk=measure.pk).update(data_version=F("data_version") + 2)
    assert services.record_chart_failure(
        measure_id=measure.pk, error=OperationalError("no space left"), attempts=4
    )
    return ChartResult.objects.get(measure=measure)


def test_the_rooms_coaches_see_why_a_chart_could_not_be_updated(
    client, cast, django_capture_on_commit_callbacks
):
    chart = _fail(cast.measure, django_capture_on_commit_callbacks)
    assert chart.failure_reason == "The database was unavailable, or refused to store the chart."
    client.force_login(cast.alice)
    page = client.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert "This chart could not be updated" in page
    assert "4 attempts" in page and "no space left" not in page
    assert "hx-trigger" not in page
    room = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert "This chart could not be updated: Time to theatre" in room
    event = AuditEvent.objects.get(action="task.failed")
    assert (event.outcome, event.organisation_id) == ("failure", cast.north.pk)


def test_members_are_told_without_the_reason(client, cast, django_capture_on_commit_callbacks):
    _fail(cast.measure, django_capture_on_commit_callbacks)
    client.force_login(cast.bob)
    page = client.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert "could not be updated with the latest data yet" in page
    assert "The database was unavailable" not in page
    room = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert "could not be updated" not in room


def test_academy_admins_see_the_failed_work_and_no_one_else_does(
    client, cast, django_capture_on_commit_callbacks
):
    _fail(cast.measure, django_capture_on_commit_callbacks)
    client.force_login(cast.ada)
    page = client.get(reverse("failed_work")).content.decode()
    assert "Time to theatre" in page and "Hip fracture big room" in page
    assert "after 4 attempts" in page
    assert "No episode file failed to load" in page
    for person in (cast.alice, cast.quinn, cast.charlie):
        client.force_login(person)
        assert client.get(reverse("failed_work")).status_code == 404


def test_a_later_successful_recompute_clears_the_failure(
    client, cast, django_capture_on_commit_callbacks
):
    _fail(cast.measure, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_data_point(measure=cast.measure, day=date(2025, 3, 17), numbers=(29.0,))
    chart = ChartResult.objects.get(measure=cast.measure)
    assert chart.failed_at is None and chart.failure_reason == ""
    assert chart.result["n"] == 3 and chart.data_version == 5
    client.force_login(cast.ada)
    assert "Time to theatre" not in client.get(reverse("failed_work")).content.decode()


def test_a_late_success_of_an_older_version_leaves_a_newer_failure(
    cast, django_capture_on_commit_callbacks
):
    chart = _fail(cast.measure, django_capture_on_commit_callbacks)
    assert not services.store_chart(
        measure_id=cast.measure.pk, data_version=chart.data_version, result={}, figure={}
    )
    assert (chart.data_version, chart.failed_version) == (2, 4)
    assert services.store_chart(  # a late recompute of version 3
        measure_id=cast.measure.pk, data_version=3, result={}, figure={}
    )
    chart.refresh_from_db()
    assert chart.failed_at is not None  # the failed version is still newer than the chart
