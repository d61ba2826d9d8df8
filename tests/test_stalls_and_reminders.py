"""Stall flags and the daily reminder: expected meetings skip bank holidays of the room's
nation and stood-down weeks; a reminder goes once per missed meeting."""

from datetime import UTC, date, datetime, timedelta

from django.core import mail
from django.urls import reverse

from bigrooms import cadence
from bigrooms.models import Action, BigRoom, StatusChange
from bigrooms.services import send_missed_session_reminders

MONDAY = 0


def test_bank_holidays_of_the_rooms_nation_are_not_expected_meetings():
    # 4 May 2026 is the Early May bank holiday across the UK; 3 Aug 2026 only in Scotland.
    england = cadence.expected_meetings(
        weekday=MONDAY, start=date(2026, 4, 27), end=date(2026, 8, 10), nation="england"
    )
    scotland = cadence.expected_meetings(
        weekday=MONDAY, start=date(2026, 4, 27), end=date(2026, 8, 10), nation="scotland"
    )
    assert date(2026, 5, 4) not in england and date(2026, 5, 4) not in scotland
    assert date(2026, 8, 3) in england and date(2026, 8, 3) not in scotland


def test_stood_down_weeks_are_not_expected_meetings():
    days = cadence.expected_meetings(
        weekday=MONDAY,
        start=date(2026, 7, 6),
        end=date(2026, 9, 14),
        nation="england",
        paused=[(date(2026, 8, 1), date(2026, 9, 1))],
    )
    assert not [d for d in days if d.month == 8]
    assert date(2026, 9, 7) in days


def test_missed_meetings_count_back_to_the_last_logged_one():
    expected = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(6)]
    # A session on the Wednesday counts for the week of the Monday meeting.
    assert cadence.missed_in_a_row(expected, [date(2026, 1, 14)]) == expected[2:]
    assert cadence.missed_in_a_row(expected, [expected[-1]]) == []


def _active(cast, **fields):
    BigRoom.objects.filter(pk=cast.room.pk).update(
        status="active",
        meeting_weekday=MONDAY,
        created_at=datetime(2025, 12, 1, tzinfo=UTC),
        **fields,
    )
    cast.room.refresh_from_db()
    return cast.room


def test_a_room_that_missed_three_meetings_shows_a_stall(client, cast):
    room = _active(cast)
    room.sessions.create(held_on=date(2026, 1, 5))
    Action.objects.create(room=room, what="Audit", owner=cast.bob, due_on=date(2026, 1, 12))
    assert [s.message for s in room.stalls(today=date(2026, 2, 3))] == [
        "No session logged for the last 4 meetings, since 12 Jan 2026",
        "1 action overdue",
    ]
    assert room.stalls(today=date(2026, 1, 20)) == [room.stalls(today=date(2026, 1, 20))[0]]
    client.force_login(cast.alice)
    page = client.get(reverse("room_detail", args=[room.pk])).content.decode()
    assert "This room may be stalling" in page


def test_a_stood_down_room_does_not_stall(cast):
    room = _active(cast)
    room.sessions.create(held_on=date(2026, 1, 5))
    StatusChange.objects.create(room=room, status="stood_down", changed_on=date(2026, 1, 6))
    BigRoom.objects.filter(pk=room.pk).update(status="stood_down")
    room.refresh_from_db()
    assert room.stalls(today=date(2026, 3, 2)) == []


def test_the_coaches_are_reminded_once_per_missed_meeting(cast, settings):
    settings.FCA_SITE_URL = "https://bigrooms.example.nhs.uk"
    room = _active(cast)
    today = date(2026, 1, 14)  # the Monday 12 Jan meeting passed with nothing logged
    assert send_missed_session_reminders(today=today) == 1
    [email] = mail.outbox
    assert email.to == [cast.alice.email]
    assert "12 January 2026" in email.body
    assert f"https://bigrooms.example.nhs.uk/rooms/{room.pk}/sessions/new/" in email.body
    assert email.alternatives[0][1] == "text/html"
    assert send_missed_session_reminders(today=today) == 0  # never twice
    room.sessions.create(held_on=date(2026, 1, 19))
    assert send_missed_session_reminders(today=date(2026, 1, 21)) == 0  # it met


def test_no_reminder_for_a_closed_room(cast):
    _active(cast)
    BigRoom.objects.filter(pk=cast.room.pk).update(status="closed")
    assert send_missed_session_reminders(today=date(2026, 1, 14)) == 0
    assert mail.outbox == []


def test_a_coach_adds_context_to_a_stall_flag(client, cast):
    room = _active(cast)
    Action.objects.create(room=room, what="Audit", owner=cast.bob, due_on=date(2025, 12, 1))
    client.force_login(cast.alice)
    client.post(
        reverse("stall_note", args=[room.pk]),
        {"kind": "overdue_actions", "note": "Theatre closed for refurbishment"},
    )
    page = client.get(reverse("room_detail", args=[room.pk])).content.decode()
    assert "Context from Alice Adams: Theatre closed for refurbishment" in page
