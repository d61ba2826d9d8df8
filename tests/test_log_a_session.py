"""A coach logs the weekly session on one page: attendance, roles, last week's actions,
notes, new actions and the evaluation round."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bigrooms.models import Action, Session
from bigrooms.services import parse_scores, suggest_roles


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


def _form(cast, **changes):
    data = {
        "held_on": "06/01/2026",
        f"attended_{cast.alice.pk}": "in_room",
        f"attended_{cast.bob.pk}": "online",
        f"attended_{cast.dana.pk}": "absent",
        "guests": "2",
        "role_chair": str(cast.bob.pk),
        "role_timekeeper": str(cast.dana.pk),
        "role_note_keeper": str(cast.alice.pk),
        "role_facilitator": "",
        "patient_story": "Waited two days for theatre.",
        "notes": "Agreed to test an early theatre slot.",
        "new_1_what": "Book the early slot",
        "new_1_due": "13/01/2026",
        "new_1_owner": str(cast.dana.pk),
        "new_2_what": "Ask the theatre team",
        "new_2_owner": "other",
        "new_2_owner_text": "the theatre team",
        "new_2_chaser": str(cast.bob.pk),
        "scores": "7 8 9 6 8",
    }
    data.update(changes)
    return data


NO_NEW_ACTIONS = {
    "new_1_what": "", "new_1_due": "", "new_1_owner": "",
    "new_2_what": "", "new_2_owner": "", "new_2_owner_text": "", "new_2_chaser": "",
}  # fmt: skip


def test_a_coach_logs_a_whole_session(coach, cast):
    response = coach.post(reverse("session_new", args=[cast.room.pk]), _form(cast))
    assert response.status_code == 302
    session = Session.objects.get()
    assert session.held_on == date(2026, 1, 6)
    assert {(a.user, a.mode) for a in session.attendances.all()} == {
        (cast.alice, "in_room"),
        (cast.bob, "online"),
    }
    assert (session.chair, session.timekeeper, session.note_keeper) == (
        cast.bob,
        cast.dana,
        cast.alice,
    )
    assert sorted(session.evaluations.values_list("score", flat=True)) == [6, 7, 8, 8, 9]
    assert [(a.owner_name, a.chaser) for a in session.actions_raised.order_by("pk")] == [
        ("Dana Dale", None),
        ("the theatre team", cast.bob),
    ]
    page = coach.get(response["Location"]).content.decode()
    assert "2 members and 2 guests" in page
    assert "5 scores, mean 7.6 out of 10" in page
    assert "Agreed to test an early theatre slot." in page


def test_last_weeks_open_actions_come_back_to_be_ticked_off(coach, cast):
    done = Action.objects.create(room=cast.room, what="Audit the lists", owner=cast.bob)
    still = Action.objects.create(room=cast.room, what="Call the ward", owner=cast.dana)
    form = coach.get(reverse("session_new", args=[cast.room.pk])).content.decode()
    assert "Audit the lists (Bob Brown)" in form and "Call the ward (Dana Dale)" in form
    coach.post(
        reverse("session_new", args=[cast.room.pk]),
        _form(cast, **{f"action_{done.pk}": "done", f"action_{still.pk}": "open"}),
    )
    done.refresh_from_db()
    still.refresh_from_db()
    assert (done.status, still.status) == ("done", "open")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scores": "7 11 8"}, "“11” is not a score from 0 to 10"),
        ({"scores": "seven"}, "“seven” is not a score from 0 to 10"),
        ({"new_2_owner": "", "new_2_owner_text": ""}, "New action 2: choose its owner"),
        ({"new_2_chaser": ""}, "New action 2: choose the member who chases the theatre team"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(coach, cast, changes, message):
    response = coach.post(reverse("session_new", args=[cast.room.pk]), _form(cast, **changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Agreed to test an early theatre slot." in page  # what was typed is kept
    assert not Session.objects.exists() and not Action.objects.exists()


def test_a_session_more_than_a_week_ahead_is_refused(coach, cast):
    ahead = (timezone.localdate() + timedelta(days=9)).strftime("%d/%m/%Y")
    response = coach.post(reverse("session_new", args=[cast.room.pk]), _form(cast, held_on=ahead))
    assert "is more than a week ahead" in response.content.decode()
    assert not Session.objects.exists()


def test_a_second_session_on_the_same_day_offers_the_first(coach, cast):
    first = cast.room.sessions.create(held_on=date(2026, 1, 6))
    response = coach.post(reverse("session_new", args=[cast.room.pk]), _form(cast))
    page = response.content.decode()
    assert "There is already a session on 6 Jan 2026" in page
    assert reverse("session_detail", args=[first.pk]) in page


def test_an_empty_session_is_refused(coach, cast):
    empty = {"held_on": "06/01/2026"}
    response = coach.post(reverse("session_new", args=[cast.room.pk]), empty)
    assert "The session is empty" in response.content.decode()


def test_roles_rotate_to_whoever_held_them_least_recently(cast):
    cast.room.sessions.create(held_on=date(2026, 1, 6), chair=cast.alice)
    cast.room.sessions.create(held_on=date(2026, 1, 13), chair=cast.bob)
    assert suggest_roles(cast.room)["chair"] == cast.dana.pk
    cast.room.sessions.create(held_on=date(2026, 1, 20), chair=cast.dana)
    assert suggest_roles(cast.room)["chair"] == cast.alice.pk


def test_scores_are_read_as_heard():
    assert parse_scores("7 8, 9;6  8") == [7, 8, 9, 6, 8]
    assert parse_scores("") == []


def test_a_member_ticks_off_their_action_from_their_list(client, cast):
    action = Action.objects.create(room=cast.room, what="Book the slot", owner=cast.dana)
    client.force_login(cast.dana)
    page = client.get(reverse("my_actions")).content.decode()
    assert "Book the slot" in page
    client.post(reverse("action_status", args=[action.pk]), {"status": "done"})
    action.refresh_from_db()
    assert action.status == "done"
    client.force_login(cast.bob)  # a member who neither owns nor chases it
    assert (
        client.post(reverse("action_status", args=[action.pk]), {"status": "open"}).status_code
        == 403
    )


def test_academy_admins_see_a_session_but_not_its_notes(client, cast):
    session = cast.room.sessions.create(held_on=date(2026, 1, 6), notes="Secret ward talk")
    client.force_login(cast.ada)
    page = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert "Secret ward talk" not in page
    assert "Session notes are for the room's members" in page
    client.force_login(cast.quinn)
    assert (
        "Secret ward talk"
        in client.get(reverse("session_detail", args=[session.pk])).content.decode()
    )


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("Mrs A, NHS no 943 476 5919, waited", "looks like it holds an NHS number"),
        ("Patient born 03/04/1941 waited", "looks like it holds a date of birth"),
    ],
)
def test_notes_that_look_like_they_identify_a_patient_are_questioned(coach, cast, text, warning):
    response = coach.post(reverse("session_new", args=[cast.room.pk]), _form(cast, notes=text))
    page = response.content.decode()
    assert response.status_code == 400
    assert f"What is in “Notes and decisions” {warning}" in page
    assert "I have checked: nothing here identifies a patient" in page
    assert not Session.objects.exists()
    confirmed = coach.post(
        reverse("session_new", args=[cast.room.pk]),
        _form(cast, notes="Ward phone 943 476 5919", no_identifiers="on"),
    )
    assert confirmed.status_code == 302


def test_a_coach_moves_the_room_along_the_roadmap_and_stands_it_down(coach, cast):
    url = reverse("room_settings", args=[cast.room.pk])
    data = {
        "name": cast.room.name, "purpose": "", "sponsor": "", "stage": "testing",
        "status": "stood_down", "status_reason": "", "meeting_weekday": "1",
        "meeting_time": "13:00", "meeting_minutes": "60", "meeting_place": "", "online_link": "",
        "ground_rules": "",
    }  # fmt: skip
    refused = coach.post(url, data)
    assert "Say why the room is stood down or closed" in refused.content.decode()
    data["status_reason"] = "Winter pressures"
    assert coach.post(url, data).status_code == 302
    cast.room.refresh_from_db()
    assert (cast.room.stage, cast.room.status) == ("testing", "stood_down")
    assert [(c.stage, c.changed_by) for c in cast.room.stage_changes.all()] == [
        ("testing", cast.alice)
    ]
    assert cast.room.status_changes.get().reason == "Winter pressures"
    page = coach.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert 'aria-current="step">Testing (PDSA)' in page
    assert "Stood down for a while</strong> (Winter pressures)" in page
    assert "stood down for a while (Winter pressures)" in page  # the journey keeps it


def test_attendance_and_evaluation_become_measures_of_the_room(coach, cast):
    from measures.models import Measure

    coach.post(reverse("session_new", args=[cast.room.pk]), _form(cast))
    coach.post(
        reverse("session_new", args=[cast.room.pk]),
        _form(cast, held_on="13/01/2026", scores="10 9", guests="0", **NO_NEW_ACTIONS),
    )
    attendance = Measure.objects.get(room=cast.room, source="session_attendance")
    evaluation = Measure.objects.get(room=cast.room, source="session_evaluation")
    assert list(attendance.points.values_list("period", "value")) == [
        (date(2026, 1, 5), 4.0),  # two members and two guests
        (date(2026, 1, 12), 2.0),
    ]
    assert list(evaluation.points.values_list("value", flat=True)) == [7.6, 9.5]
    page = coach.get(reverse("measure_detail", args=[attendance.pk])).content.decode()
    assert "Worked out by the app from attendance at the room" in page
    assert "Add a value" not in page
    refused = coach.post(
        reverse("add_point", args=[attendance.pk]), {"day": "20/01/2026", "value": "5"}
    )
    assert "worked out by the app, from attendance" in refused.content.decode()


def test_attendees_score_from_a_signed_link_for_a_week(client, cast):
    from bigrooms.services import scoring_ticket
    from measures.models import Measure

    session = cast.room.sessions.create(held_on=timezone.localdate())
    client.force_login(cast.alice)
    detail = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert 'class="app-qr"' in detail
    url = reverse("score_session", args=[scoring_ticket(session)])
    assert url in detail

    phone = Client()  # no sign-in needed
    assert "Score the meeting" in phone.get(url).content.decode()
    bad = phone.post(url, {"score": "11"})
    assert bad.status_code == 400
    assert phone.post(url, {"score": "8", "comment": "Useful"}).status_code == 302
    assert phone.post(url, {"score": "6"}).status_code == 302  # the next person on a tablet
    assert sorted(session.evaluations.values_list("score", flat=True)) == [6, 8]
    evaluation = Measure.objects.get(room=cast.room, source="session_evaluation")
    assert list(evaluation.points.values_list("value", flat=True)) == [7.0]

    # The team is three: a third score is the last one taken.
    assert phone.post(url, {"score": "9"}).status_code == 302
    full = phone.post(url, {"score": "10"})
    assert "All the scores this meeting can have are in" in full.content.decode()
    assert session.evaluations.count() == 3
    # A week after the meeting, the link no longer works.
    old = cast.room.sessions.create(held_on=timezone.localdate() - timedelta(days=8))
    old_url = reverse("score_session", args=[scoring_ticket(old)])
    assert "This scoring link has expired" in phone.get(old_url).content.decode()


def test_finishing_emails_members_a_link_never_the_notes(
    coach, cast, django_capture_on_commit_callbacks
):
    from django.core import mail

    session = cast.room.sessions.create(held_on=date(2026, 1, 6), notes="Bed 4 waited")
    with django_capture_on_commit_callbacks(execute=True):
        response = coach.post(reverse("session_finish", args=[session.pk]), follow=True)
    assert "3 members were emailed a link to this summary" in response.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.alice.email, cast.bob.email, cast.dana.email]
    )
    for message in mail.outbox:
        assert f"/sessions/{session.pk}/" in message.body
        assert "Bed 4" not in message.body and "Bed 4" not in message.alternatives[0][0]
    with django_capture_on_commit_callbacks(execute=True):
        coach.post(reverse("session_finish", args=[session.pk]))
    assert len(mail.outbox) == 3  # finishing twice sends nothing more


def test_the_parking_lot_keeps_items_until_they_are_closed(coach, cast):
    url = reverse("session_new", args=[cast.room.pk])
    coach.post(url, _form(cast, parking_new="Discharge lounge hours\nWeekend physio"))
    assert list(cast.room.parking_lot.values_list("text", flat=True)) == [
        "Discharge lounge hours",
        "Weekend physio",
    ]
    room_page = coach.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert "Weekend physio" in room_page
    first = cast.room.parking_lot.get(text="Discharge lounge hours")
    coach.post(
        url,
        _form(cast, held_on="13/01/2026", parking_closed=[str(first.pk)], **NO_NEW_ACTIONS),
    )  # fmt: skip
    first.refresh_from_db()
    assert first.closed_on == date(2026, 1, 13)
    room_page = coach.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert "Discharge lounge hours" not in room_page and "Weekend physio" in room_page


def test_each_agenda_item_keeps_its_notes_and_minutes(coach, cast):
    response = coach.post(
        reverse("session_new", args=[cast.room.pk]),
        _form(cast, agenda_4_notes="Early slot: start on Monday", agenda_4_minutes="20"),
    )
    session = Session.objects.get()
    items = list(session.agenda.values_list("order", "title", "minutes", "notes"))
    assert len(items) == 7
    assert items[3] == (4, "Main item", 20, "Early slot: start on Monday")
    page = coach.get(response["Location"]).content.decode()
    assert "Main item</strong> (20 min)" in page


def test_the_session_page_takes_the_same_queries_however_full(coach, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(session):
        with CaptureQueriesContext(connection) as captured:
            coach.get(reverse("session_detail", args=[session.pk]))
        return len(captured)

    small = cast.room.sessions.create(held_on=date(2026, 1, 6))
    coach.post(reverse("session_new", args=[cast.room.pk]), _form(cast, held_on="13/01/2026"))
    full = Session.objects.get(held_on=date(2026, 1, 13))
    assert queries(small) == queries(full)


def test_the_screen_link_is_read_only_and_lasts_the_meeting(client, cast, monkeypatch):
    import time

    from bigrooms.services import screen_ticket

    session = cast.room.sessions.create(held_on=date(2026, 1, 6))
    screen = Client()
    url = reverse("meeting_screen", args=[screen_ticket(session)])
    assert "Patient story" in screen.get(url).content.decode()
    # It cannot drive the meeting: moving needs a coach signed in.
    move = screen.post(reverse("meeting_move", args=[session.pk]), {"to": "next"})
    assert move.status_code == 302 and "/account/sign-in/" in move["Location"]
    later = time.time() + 13 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert "This screen link has expired" in screen.get(url).content.decode()


def test_the_data_item_of_meeting_mode_shows_the_rooms_measures(client, cast):
    from bigrooms.services import move_screen, screen_ticket
    from measures.services import recompute_chart

    recompute_chart(measure_id=cast.measure.pk)
    session = cast.room.sessions.create(held_on=date(2026, 1, 6))
    url = reverse("meeting_screen", args=[screen_ticket(session)])
    assert 'data-testid="meeting-measures"' not in Client().get(url).content.decode()
    move_screen(session=session, to="next")
    move_screen(session=session, to="next")  # 3. Data and PDSA review
    page = Client().get(url).content.decode()
    assert 'data-testid="meeting-measures"' in page and "Time to theatre" in page


def test_a_member_from_another_organisation_reaches_the_room_and_nothing_else_of_its_host(
    client, cast
):
    from bigrooms.models import BigRoom, RoomMembership

    RoomMembership.objects.create(room=cast.room, user=cast.charlie, role="member")
    second = BigRoom.objects.create(name="Stroke big room", host=cast.north)
    client.force_login(cast.charlie)
    assert client.get(reverse("room_detail", args=[cast.room.pk])).status_code == 200
    assert client.get(reverse("room_detail", args=[second.pk])).status_code == 404
    assert "Stroke big room" not in client.get("/").content.decode()


def test_a_half_filled_action_is_pointed_out_not_dropped(coach, cast):
    response = coach.post(
        reverse("session_new", args=[cast.room.pk]),
        _form(cast, new_2_what="", new_2_owner_text="the theatre team"),
    )
    assert "New action 2: say what the action is" in response.content.decode()
    assert not Session.objects.exists()


def test_a_score_in_superscript_is_not_a_score():
    with pytest.raises(ValueError, match="is not a score"):
        parse_scores("7 ²")


def test_a_session_saved_or_scored_reworks_its_week_as_a_full_rebuild_would(cast):
    from bigrooms.services import (
        SessionRecord,
        add_score,
        record_session,
        refresh_session_measures,
    )

    room, bob, dana = cast.room, cast.bob.pk, cast.dana.pk
    logged = [
        (date(2026, 1, 5), {bob: "in_room"}, [7]),
        (date(2026, 1, 7), {bob: "in_room", dana: "online"}, [9, 5]),
        (date(2026, 1, 14), {dana: "in_room"}, []),
    ]
    sessions = [
        record_session(room=room, by=cast.alice,
                       record=SessionRecord(held_on=day, attendance=there, scores=scores))
        for day, there, scores in logged
    ]  # fmt: skip
    add_score(session=sessions[0], score=10)

    def points():
        measures = room.measures.filter(source__startswith="session_").order_by("source")
        return {m.source: dict(m.points.values_list("period", "value")) for m in measures}

    saved = points()
    assert saved == {
        "session_attendance": {date(2026, 1, 5): 1.5, date(2026, 1, 12): 1.0},
        "session_evaluation": {date(2026, 1, 5): 7.75},
    }
    refresh_session_measures(room=room)
    assert points() == saved


def test_the_migration_recounts_evaluation_means_counted_once_per_person_there(migrate_to):
    from measures.models import Measure

    apps = migrate_to([("bigrooms", "0013_learning_library"),
                       ("measures", "0012_chart_icon_columns")])  # fmt: skip
    host = apps.get_model("fca", "Organisation").objects.create(name="North")
    room = apps.get_model("bigrooms", "BigRoom").objects.create(name="Hips", host=host)
    people = [apps.get_model("fca", "User").objects.create(email=f"p{n}@north.nhs.uk")
              for n in range(2)]  # fmt: skip
    Session = apps.get_model("bigrooms", "Session")
    one = Session.objects.create(room=room, held_on=date(2026, 1, 5))
    two = Session.objects.create(room=room, held_on=date(2026, 1, 7))
    for person in people:
        two.attendances.create(user=person)
    one.evaluations.create(score=6)
    two.evaluations.create(score=9)
    measure = apps.get_model("measures", "Measure").objects.create(
        room=room, source="session_evaluation", name="Meeting evaluation", frequency="weekly"
    )
    measure.points.create(period=date(2026, 1, 5), value=8.0)  # 6 once, 9 twice: wrong

    migrate_to([("bigrooms", "0014_evaluation_means_recounted")])

    fixed = Measure.objects.get(pk=measure.pk)
    assert fixed.points.get().value == 7.5
    assert fixed.data_version == measure.data_version + 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sessions_of_one_week_saved_at_once_each_count_the_other(cast, monkeypatch):
    import threading

    from django.db import connection

    from bigrooms import services

    room, bob, dana = cast.room, cast.bob.pk, cast.dana.pk
    services.record_session(room=room, by=cast.alice, record=services.SessionRecord(
        held_on=date(2026, 1, 5), attendance={bob: "in_room"}))  # fmt: skip
    # Both saves have stored their session before either works its week out.
    both_stored = threading.Barrier(2, timeout=10)
    refresh = services.refresh_session_measures

    def after_both(**kwargs):
        both_stored.wait()
        refresh(**kwargs)

    monkeypatch.setattr(services, "refresh_session_measures", after_both)
    failures = []

    def save(day, there):
        try:
            services.record_session(room=room, by=cast.alice,
                                    record=services.SessionRecord(held_on=day, attendance=there))  # fmt: skip
        except Exception as error:  # noqa: BLE001 - a deadlock is the failure looked for
            failures.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(date(2026, 1, 13), {bob: "in_room"})),
        threading.Thread(target=save, args=(date(2026, 1, 15), {bob: "in_room", dana: "online"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    attendance = room.measures.get(source="session_attendance")
    assert dict(attendance.points.values_list("period", "value")) == {
        date(2026, 1, 5): 1.0, date(2026, 1, 12): 1.5,
    }  # fmt: skip
