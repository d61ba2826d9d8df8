"""The session form's cost does not grow with the room's history: suggesting the meeting
roles by rotation reads every past session in one query, not one query a session."""

from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bigrooms.models import Session


def _log_sessions(cast, count: int, *, before: date) -> None:
    Session.objects.bulk_create(
        Session(room=cast.room, held_on=before - timedelta(weeks=k), chair=cast.bob,
                timekeeper=cast.dana, note_keeper=cast.alice, created_by=cast.alice)
        for k in range(1, count + 1)
    )  # fmt: skip


def _queries_for_the_form(client, cast) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("session_new", args=[cast.room.pk]))
    assert response.status_code == 200
    return len(captured)


def test_the_session_form_takes_the_same_queries_for_two_sessions_or_forty(client, cast):
    client.force_login(cast.alice)
    _log_sessions(cast, 2, before=date(2026, 1, 5))
    with_two = _queries_for_the_form(client, cast)
    _log_sessions(cast, 38, before=date(2025, 12, 1))
    assert Session.objects.filter(room=cast.room).count() == 40
    assert _queries_for_the_form(client, cast) == with_two


def test_the_roles_are_still_suggested_by_rotation(client, cast):
    client.force_login(cast.alice)
    # Bob chaired last week: the chair goes to someone who has not chaired lately.
    _log_sessions(cast, 1, before=date(2026, 1, 12))
    response = client.get(reverse("session_new", args=[cast.room.pk]))
    chair = response.context["form"].initial["role_chair"]
    assert chair is not None and chair != cast.bob.pk
