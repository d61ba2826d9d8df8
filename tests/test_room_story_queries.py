"""The room page tells the improvement story in the same number of queries however much
of it there is."""

from datetime import date, timedelta

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


def test_the_room_page_lists_its_latest_ten_sessions_with_who_came_and_the_mean_score(client, cast):
    from bigrooms.models import Attendance, Evaluation, Session

    for week in range(12):
        day = date(2026, 1, 5) + timedelta(weeks=week)
        session = Session.objects.create(room=cast.room, held_on=day, guests=1)
        Attendance.objects.bulk_create(
            [Attendance(session=session, user=u) for u in (cast.alice, cast.bob)[: week % 3]]
        )
        Evaluation.objects.bulk_create([Evaluation(session=session, score=s) for s in (7, 10)])
    client.force_login(cast.alice)
    sessions = list(client.get(reverse("room_detail", args=[cast.room.pk])).context["sessions"])
    assert len(sessions) == 10
    assert [s.held_on for s in sessions] == sorted((s.held_on for s in sessions), reverse=True)
    assert sessions[0].held_on == date(2026, 3, 23)  # the newest, week 11
    assert [(s.attended, s.mean_score) for s in sessions[:3]] == [(2, 8.5), (1, 8.5), (0, 8.5)]
