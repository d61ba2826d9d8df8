"""Fragments kept by what they show (fca.fragments): a page read again after its data
changed shows the change, never the fragment kept from before; one read again unchanged
is served from what was kept."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bigrooms.models import BigRoom, Session
from fca.fragments import fingerprint
from measures import services
from measures.models import Measure
from pathways.models import Pathway


@dataclass
class Row:
    room: BigRoom
    counts: list[int]


def test_a_fingerprint_changes_with_any_column_related_row_or_field(cast):
    room = BigRoom.objects.select_related("host").get(pk=cast.room.pk)
    before = fingerprint(Row(room, [1, 2]))
    assert fingerprint(Row(room, [1, 2])) == before
    assert fingerprint(Row(room, [1, 3])) != before
    room.purpose = "Shorter waits for theatre"
    assert fingerprint(Row(room, [1, 2])) != before
    room.refresh_from_db()
    room = BigRoom.objects.select_related("host").get(pk=cast.room.pk)
    room.host.name = "North Acute NHS Foundation Trust"  # a related row, loaded with it
    assert fingerprint(Row(room, [1, 2])) != before


def test_a_fingerprint_never_reads_a_deferred_column_and_survives_a_loop(cast):
    services.recompute_chart(measure_id=cast.measure.pk)
    measure = Measure.objects.select_related("chart").defer("chart__figure").get(pk=cast.measure.pk)
    with CaptureQueriesContext(connection) as queries:
        text = fingerprint(measure)  # measure → chart → back to measure
    assert len(queries) == 0
    assert "(deferred)" in text and "Time to theatre" in text


def _values(measure, values, weeks_ago_first):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    start = monday - timedelta(weeks=weeks_ago_first)
    services.save_data_points(
        measure=measure,
        rows=[(i, start + timedelta(weeks=i), (v,)) for i, v in enumerate(values)],
    )
    services.recompute_chart(measure_id=measure.pk)


def _table(page) -> str:
    page = page if isinstance(page, str) else page.content.decode()
    return page[page.index("<table") : page.index("</table>")]


def test_the_dashboard_shows_a_change_to_a_kept_row(client, cast):
    client.force_login(cast.quinn)
    pathway = Pathway.objects.create(name="Hip fracture pathway", host=cast.north)
    BigRoom.objects.filter(pk=cast.room.pk).update(pathway=pathway)
    url = reverse("organisation_dashboard", args=[cast.north.pk])
    page = client.get(url).content.decode()
    assert "Hip fracture pathway" in page and "None logged" in page
    assert _table(client.get(url)) == _table(page)  # read again, unchanged
    Pathway.objects.filter(pk=pathway.pk).update(name="Fractured neck of femur")
    Session.objects.create(room=cast.room, held_on=timezone.localdate() - timedelta(days=1))
    page = client.get(url).content.decode()
    assert "Fractured neck of femur" in page and "Hip fracture pathway" not in page
    assert "None logged" not in page


def test_the_measures_summary_shows_a_new_latest_value(client, cast):
    client.force_login(cast.quinn)
    _values(cast.measure, [30, 31, 29], weeks_ago_first=4)
    url = reverse("organisation_measures", args=[cast.north.pk])
    assert ">29 hours<" in client.get(url).content.decode().replace("\n", "")
    _values(cast.measure, [30, 31, 29, 27.5], weeks_ago_first=4)
    assert ">27.5 hours<" in client.get(url).content.decode().replace("\n", "")


def test_the_room_page_shows_a_measure_as_its_chart_now_stands(client, cast):
    client.force_login(cast.alice)
    url = reverse("room_detail", args=[cast.room.pk])
    _values(cast.measure, [30, 31, 29], weeks_ago_first=4)
    assert "<strong>29 hours</strong>" in client.get(url).content.decode()
    _values(cast.measure, [30, 31, 29, 26], weeks_ago_first=4)
    page = client.get(url).content.decode()
    assert "<strong>26 hours</strong>" in page and "<strong>29 hours</strong>" not in page
    Measure.objects.filter(pk=cast.measure.pk).update(name="Hours to theatre")
    assert "Hours to theatre" in client.get(url).content.decode()


def test_the_data_table_shows_a_new_value_and_who_may_remove_it(client, cast):
    url = reverse("measure_detail", args=[cast.measure.pk])
    _values(cast.measure, [30, 31, 29], weeks_ago_first=4)
    client.force_login(cast.alice)
    page = client.get(url).content.decode()
    assert page.count(">Remove<") == 3
    client.force_login(cast.bob)  # a member who does not enter data: the same kept rows?
    assert ">Remove<" not in client.get(url).content.decode()
    client.force_login(cast.alice)
    _values(cast.measure, [30, 31, 29, 24], weeks_ago_first=4)
    page = client.get(url).content.decode()
    assert page.count(">Remove<") == 4 and ">24<" in page
