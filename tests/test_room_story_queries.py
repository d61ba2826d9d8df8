"""The room page tells the improvement story in the same number of queries however much
of it there is."""

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bigrooms.models import PDSA, ChangeIdea, Driver, GlobalAim, SpecificAim
from measures.models import Measure


def _grow(cast, n: int) -> None:
    room = cast.room
    for i in range(n):
        measure = Measure.objects.create(room=room, name=f"Measure {n}-{i}", frequency="weekly")
        primary = Driver.objects.create(room=room, title=f"Primary {n}-{i}")
        secondary = Driver.objects.create(room=room, title=f"Secondary {n}-{i}", parent=primary)
        idea = ChangeIdea.objects.create(room=room, title=f"Idea {n}-{i}")
        idea.drivers.set([primary, secondary])
        ramp = idea.ramps.create()
        for number, status in enumerate(("complete", "doing"), start=1):
            pdsa = PDSA.objects.create(room=room, ramp=ramp, number=number, objective="x",
                                       starts_on=date(2026, 1, 5), status=status,
                                       decision="adapt" if status == "complete" else "")  # fmt: skip
            pdsa.measures.add(measure)
        SpecificAim.objects.create(room=room, what=f"Aim {n}-{i}", measure=measure, target=1,
                                   target_on=date(2027, 1, 1))  # fmt: skip


def _queries(client, cast) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("room_detail", args=[cast.room.pk]))
    assert response.status_code == 200
    return len(queries)


def test_the_room_page_costs_the_same_queries_for_a_small_and_a_big_story(client, cast):
    GlobalAim.objects.create(room=cast.room, where="Here", looks_like="Better", why="Patients")
    client.force_login(cast.alice)
    _grow(cast, 1)
    small = _queries(client, cast)
    _grow(cast, 8)
    assert _queries(client, cast) == small
