"""The big rooms API: rooms, sessions, actions, PDSA cycles and an organisation's dashboard,
read and written through the same access rules and services as the pages."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bigrooms.models import PDSA, Action, BigRoom, GlobalAim, RoomMembership, Session
from fca.tokens import create_token
from measures.models import Measure


def _api(user) -> Client:
    _, text = create_token(user=user, name="Script", kind="personal")
    return Client(HTTP_AUTHORIZATION=f"Bearer {text}")


def _post(client, name, args, body):
    return client.post(reverse(name, args=args), body, content_type="application/json")


def _last_week() -> str:
    return (timezone.localdate() - timedelta(days=7)).isoformat()


# --- Rooms ---------------------------------------------------------------------------------


def test_it_lists_the_rooms_a_person_may_see_a_page_at_a_time(cast):
    rooms = BigRoom.objects.bulk_create(
        BigRoom(name=f"Room {n:03}", host=cast.north) for n in range(100)
    )
    RoomMembership.objects.bulk_create(RoomMembership(room=r, user=cast.bob) for r in rooms)
    first = _api(cast.bob).get(reverse("api_room_list")).json()
    assert first["count"] == 101
    assert len(first["results"]) == 100
    assert "Frailty big room" not in [r["name"] for r in first["results"]]
    second = _api(cast.bob).get(first["next"]).json()
    assert [r["name"] for r in second["results"]] == ["Room 099"]
    assert _api(cast.bob).get(reverse("api_room_list") + "?page=9").status_code == 404


def test_a_room_shows_its_members_by_name_and_role_and_nothing_more(cast):
    body = _api(cast.bob).get(reverse("api_room_detail", args=[cast.room.pk])).json()
    assert {(m["name"], m["role"]) for m in body["members"]} == {
        ("Alice Adams", "clinical_coach"), ("Bob Brown", "member"), ("Dana Dale", "member"),
    }  # fmt: skip
    assert "@" not in str(body)
    assert cast.measure.pk in body["measures"]


def test_it_hides_a_room_from_another_organisation(cast):
    for name in ("api_room_detail", "api_session_list", "api_action_list", "api_pdsa_list"):
        response = _api(cast.charlie).get(reverse(name, args=[cast.room.pk]))
        assert response.status_code == 404, name
        assert response.json() == {"detail": "No such page"}


def test_a_feed_token_cannot_read_rooms(cast):
    _, text = create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)
    feed = Client(HTTP_AUTHORIZATION=f"Bearer {text}")
    assert feed.get(reverse("api_room_detail", args=[cast.room.pk])).status_code == 403
    assert feed.get(reverse("api_room_list")).status_code == 403


def test_a_caller_without_credentials_is_refused(cast):
    response = Client().get(reverse("api_room_list"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


# --- Sessions ------------------------------------------------------------------------------


def _session(cast, **extra):
    return {
        "held_on": _last_week(),
        "attendance": [{"user_id": cast.alice.pk}, {"user_id": cast.bob.pk, "mode": "online"}],
        "guests": 2,
        "roles": {"chair": cast.bob.pk, "note_keeper": cast.dana.pk},
        "notes": "Agreed to trial the early theatre slot.",
        "new_actions": [
            {"what": "Book the slot", "owner_id": cast.dana.pk, "due_on": "2027-01-08"},
            {"what": "Tell the wards", "owner_text": "the ward managers", "chaser_id": cast.bob.pk},
        ],
        "scores": [7, 8, 9],
        "agenda": [{"item": 4, "minutes": 20, "notes": "Theatre list"}],
        "parking_new": ["Weekend cover"],
        **extra,
    }


def test_a_coach_logs_a_session_as_the_session_page_does(cast):
    response = _post(_api(cast.alice), "api_session_log", [cast.room.pk], _session(cast))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["attended"] == 2 and body["guests"] == 2 and body["mean_score"] == 8
    assert body["roles"] == {"chair": cast.bob.pk, "timekeeper": None,
                             "note_keeper": cast.dana.pk, "facilitator": None}  # fmt: skip
    session = Session.objects.get(pk=body["id"])
    assert session.created_by == cast.alice
    assert session.agenda.get(order=4).notes == "Theatre list"
    assert {a.what: a.owner_name for a in session.actions_raised.all()} == {
        "Book the slot": "Dana Dale", "Tell the wards": "the ward managers",
    }  # fmt: skip
    assert cast.room.parking_lot.get().text == "Weekend cover"
    # The same service: attendance becomes a measure of the room.
    attendance = Measure.objects.get(room=cast.room, source="session_attendance")
    assert attendance.points.get().value == 4


def test_a_session_moves_open_actions_on(cast):
    action = cast.room.actions.create(what="Audit the lists", owner=cast.dana)
    body = _session(cast, action_updates=[{"action_id": action.pk, "status": "done"}])
    assert _post(_api(cast.alice), "api_session_log", [cast.room.pk], body).status_code == 201
    action.refresh_from_db()
    assert action.status == "done"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"held_on": "2099-01-01"}, "held_on", "more than a week ahead"),
        ({"held_on": "26/11/2026"}, "held_on", "Date has wrong format"),
        ({"notes": "Mrs X, NHS number 943 476 5919"}, "notes", "NHS number"),
        ({"attendance": [{"user_id": 999999}]}, "attendance", "User 999999 is not on"),
        ({"roles": {"chair": 999999}}, "roles", "chair: user 999999"),
        ({"scores": [11]}, "scores", "less than or equal to 10"),
        ({"agenda": [{"item": 99, "notes": "x"}]}, "agenda", "the room's agenda has 7"),
        ({"action_updates": [{"action_id": 999999, "status": "done"}]}, "action_updates",
         "Action 999999 is not open"),
        ({"new_actions": [{"what": "Tell the wards", "owner_text": "the wards"}]}, "new_actions",
         "New action 1: choose the member who chases the wards"),
        ({"new_actions": [{"what": "Ask", "owner_id": 999999}]}, "new_actions",
         "its owner is not on the room's team"),
        ({"parking_closed": [999999]}, "parking_closed", "Parking lot item 999999"),
    ],
)  # fmt: skip
def test_a_bad_session_is_refused_naming_the_field(cast, change, field, words):
    response = _post(_api(cast.alice), "api_session_log", [cast.room.pk], _session(cast, **change))
    assert response.status_code == 400
    assert words in str(response.json()[field])
    assert not Session.objects.exists()


def test_an_identifier_can_be_confirmed_as_not_about_a_patient(cast):
    body = _session(cast, notes="Ward phone 943 476 5919", no_identifiers=True)
    assert _post(_api(cast.alice), "api_session_log", [cast.room.pk], body).status_code == 201


def test_a_second_session_on_a_day_and_an_empty_session_are_refused(cast):
    client = _api(cast.alice)
    assert _post(client, "api_session_log", [cast.room.pk], _session(cast)).status_code == 201
    again = _post(client, "api_session_log", [cast.room.pk], _session(cast))
    assert again.status_code == 400
    assert "There is already a session on" in again.json()["held_on"][0]
    empty = _post(client, "api_session_log", [cast.room.pk], {"held_on": "2026-01-05"})
    assert empty.status_code == 400
    assert "The session is empty" in empty.json()["non_field_errors"][0]


def test_only_a_coach_logs_a_session(cast):
    assert (
        _post(_api(cast.bob), "api_session_log", [cast.room.pk], _session(cast)).status_code == 403
    )
    charlie = _post(_api(cast.charlie), "api_session_log", [cast.room.pk], _session(cast))
    assert charlie.status_code == 404
    assert not Session.objects.exists()


def test_session_notes_go_only_to_those_who_read_notes(cast):
    session = cast.room.sessions.create(held_on=date(2026, 1, 6), notes="Agreed", patient_story="S")
    session.agenda.create(order=1, title="Patient story", notes="Told")
    url = reverse("api_session_detail", args=[session.pk])
    bob = _api(cast.bob).get(url).json()
    assert (bob["notes"], bob["patient_story"], bob["agenda"][0]["notes"]) == (
        "Agreed",
        "S",
        "Told",
    )
    ada = _api(cast.ada).get(url).json()  # an academy admin: the room, never its notes
    assert (ada["notes"], ada["patient_story"], ada["agenda"][0]["notes"]) == (None, None, None)
    assert _api(cast.charlie).get(url).status_code == 404


def test_sessions_are_listed_newest_first(cast, django_assert_max_num_queries):
    for day in (5, 12, 19):
        cast.room.sessions.create(held_on=date(2026, 1, day))
    client = _api(cast.bob)
    with django_assert_max_num_queries(12):
        body = client.get(reverse("api_session_list", args=[cast.room.pk])).json()
    assert [s["held_on"] for s in body["results"]] == ["2026-01-19", "2026-01-12", "2026-01-05"]


# --- Actions -------------------------------------------------------------------------------


def test_a_coach_agrees_an_action_and_its_owner_completes_it(cast):
    created = _post(_api(cast.alice), "api_action_create", [cast.room.pk],
                    {"what": "Audit the lists", "owner_id": cast.dana.pk, "due_on": "2027-02-01"})  # fmt: skip
    assert created.status_code == 201, created.json()
    action_id = created.json()["id"]
    assert created.json()["owner"] == "Dana Dale"
    assert _post(_api(cast.bob), "api_action_complete", [action_id], {}).status_code == 403
    done = _post(_api(cast.dana), "api_action_complete", [action_id], {})
    assert done.json()["status"] == "done"
    assert Action.objects.get(pk=action_id).status == "done"


def test_only_a_coach_agrees_an_action(cast):
    body = {"what": "Audit the lists", "owner_id": cast.dana.pk}
    assert _post(_api(cast.bob), "api_action_create", [cast.room.pk], body).status_code == 403
    assert _post(_api(cast.charlie), "api_action_create", [cast.room.pk], body).status_code == 404
    refused = _post(_api(cast.alice), "api_action_create", [cast.room.pk],
                    {"what": "Tell the wards", "owner_text": "the wards"})  # fmt: skip
    assert refused.status_code == 400
    assert refused.json() == {"chaser": ["choose the member who chases the wards"]}
    stranger = _post(_api(cast.alice), "api_action_create", [cast.room.pk],
                     {"what": "Ask", "owner_id": cast.dana.pk, "chaser_id": cast.charlie.pk})  # fmt: skip
    assert stranger.json() == {"chaser": ["the member who chases it is not on the room's team"]}
    assert _post(_api(cast.alice), "api_action_create", [cast.room.pk], {}).json() == {
        "what": ["This field is required."]
    }
    assert not Action.objects.exists()


def test_an_owner_moves_their_action_on_and_a_coach_reassigns_it(cast):
    action = cast.room.actions.create(what="Audit the lists", owner=cast.dana)
    dana = _post(_api(cast.dana), "api_action_change", [action.pk],
                 {"status": "dropped", "due_on": "2027-03-01"})  # fmt: skip
    assert dana.status_code == 200
    assert (dana.json()["status"], dana.json()["due_on"]) == ("dropped", "2027-03-01")
    assert _post(_api(cast.dana), "api_action_change", [action.pk],
                 {"owner_id": cast.bob.pk}).status_code == 403  # fmt: skip
    alice = _post(_api(cast.alice), "api_action_change", [action.pk], {"owner_id": cast.bob.pk})
    assert alice.json()["owner"] == "Bob Brown"
    outsider = _post(
        _api(cast.alice), "api_action_change", [action.pk], {"owner_id": cast.charlie.pk}
    )
    assert outsider.status_code == 400
    assert outsider.json() == {"owner": ["its owner is not on the room's team"]}
    bad = _post(_api(cast.alice), "api_action_change", [action.pk], {"status": "finished"})
    assert bad.status_code == 400 and "status" in bad.json()
    assert _post(_api(cast.charlie), "api_action_change", [action.pk], {}).status_code == 404


def test_actions_are_listed_by_room_status_and_owner(cast):
    mine = cast.room.actions.create(
        what="Audit the lists", owner=cast.dana, due_on=date(2026, 2, 1)
    )
    cast.room.actions.create(what="Done already", owner=cast.bob, status="done")
    url = reverse("api_action_list", args=[cast.room.pk])
    assert _api(cast.bob).get(url).json()["count"] == 2
    assert [a["id"] for a in _api(cast.bob).get(url + "?status=open").json()["results"]] == [
        mine.pk
    ]
    assert _api(cast.bob).get(url + "?status=nope").json() == {"status": ["“nope” is not a status"]}
    assert [a["id"] for a in _api(cast.dana).get(reverse("api_my_actions")).json()["results"]] == [
        mine.pk
    ]
    assert _api(cast.charlie).get(reverse("api_my_actions")).json()["count"] == 0
    detail = reverse("api_action_detail", args=[mine.pk])
    assert _api(cast.vera).get(detail).json()["what"] == "Audit the lists"
    assert _api(cast.charlie).get(detail).status_code == 404


# --- PDSA cycles, dashboards, pathways -----------------------------------------------------


def test_pdsa_cycles_are_read_with_their_plan_and_tasks(cast):
    idea = cast.room.change_ideas.create(title="Consultant at the front door")
    pdsa = PDSA.objects.create(room=cast.room, ramp=idea.ramps.create(), number=1,
                               objective="Try it", starts_on=date(2026, 1, 5))  # fmt: skip
    pdsa.tasks.create(task="Book the room", owner=cast.dana)
    pdsa.measures.add(cast.measure)
    listed = _api(cast.bob).get(reverse("api_pdsa_list", args=[cast.room.pk])).json()
    assert listed["results"][0]["change_idea"] == "Consultant at the front door"
    detail = _api(cast.bob).get(reverse("api_pdsa_detail", args=[pdsa.pk])).json()
    assert detail["tasks"][0]["owner"] == "Dana Dale"
    assert detail["measures"] == [cast.measure.pk]
    assert _api(cast.charlie).get(reverse("api_pdsa_detail", args=[pdsa.pk])).status_code == 404


def test_an_organisations_dashboard_is_for_its_qi_leads_and_viewers(cast):
    cast.room.sessions.create(held_on=timezone.localdate() - timedelta(days=3))
    cast.room.actions.create(what="Late", owner=cast.dana, due_on=date(2020, 1, 1))
    url = reverse("api_organisation_dashboard", args=[cast.north.pk])
    row = _api(cast.quinn).get(url).json()["results"][0]
    assert row["room"] == "Hip fracture big room"
    assert row["coaches"] == [{"user_id": cast.alice.pk, "name": "Alice Adams"}]
    assert (row["open_actions"], row["overdue_actions"]) == (1, 1)
    assert _api(cast.vera).get(url).status_code == 200
    assert _api(cast.alice).get(url).status_code == 404
    assert _api(cast.charlie).get(url).status_code == 404


def test_pathways_are_read_with_their_steps_and_flow_measures(cast):
    from pathways.models import Pathway

    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture", metrics=["arrivals"])
    pathway.steps.create(code="theatre", name="Theatre", slot=1, standard_hours=36)
    flow = Measure.objects.create(pathway=pathway, name="Arrivals a week", source="arrivals",
                                  unit="patients", frequency="weekly")  # fmt: skip
    pathway.uploads.create(filename="episodes.csv", status="checked")
    cast.room.pathway = pathway
    cast.room.save()
    assert [
        p["name"] for p in _api(cast.bob).get(reverse("api_pathway_list")).json()["results"]
    ] == ["Hip fracture"]
    detail = _api(cast.bob).get(reverse("api_pathway_detail", args=[pathway.pk])).json()
    assert detail["steps"] == [
        {"code": "theatre", "name": "Theatre", "slot": 1, "standard_hours": 36.0}
    ]
    assert [m["id"] for m in detail["flow_measures"]] == [flow.pk]
    assert detail["rooms"] == [cast.room.pk]
    uploads = reverse("api_episode_upload_list", args=[pathway.pk])
    assert _api(cast.dana).get(uploads).json()["results"][0]["filename"] == "episodes.csv"
    assert _api(cast.bob).get(uploads).status_code == 403
    assert _api(cast.charlie).get(uploads).status_code == 404
    assert (
        _api(cast.charlie).get(reverse("api_pathway_detail", args=[pathway.pk])).status_code == 404
    )


def test_a_pdsa_task_is_ticked_off_by_its_owner_or_a_coach(cast):
    idea = cast.room.change_ideas.create(title="Consultant at the front door")
    pdsa = PDSA.objects.create(room=cast.room, ramp=idea.ramps.create(), number=1,
                               objective="Try it", starts_on=date(2026, 1, 5))  # fmt: skip
    task = pdsa.tasks.create(task="Book the room", owner=cast.dana)
    assert _post(_api(cast.bob), "api_pdsa_task_done", [task.pk], {}).status_code == 403
    assert _post(_api(cast.charlie), "api_pdsa_task_done", [task.pk], {}).status_code == 404
    done = _post(_api(cast.dana), "api_pdsa_task_done", [task.pk], {})
    assert done.json()["done"] is True
    task.refresh_from_db()
    assert task.done


def test_a_coach_sends_a_round_of_scores_all_or_none(cast):
    session = cast.room.sessions.create(held_on=date(2026, 1, 6), guests=1)
    sent = _post(_api(cast.alice), "api_session_scores", [session.pk], {"scores": [7, 9]})
    assert sent.status_code == 201
    assert sent.json() == {"scores": [7, 9], "mean_score": 8.0}
    # The team of three and one guest: four scores at most, so two more of three is too many.
    too_many = _post(_api(cast.alice), "api_session_scores", [session.pk], {"scores": [5, 6, 7]})
    assert too_many.status_code == 400
    assert too_many.json() == {"scores": ["All the scores this meeting can have are in: thank you"]}
    assert session.evaluations.count() == 2
    bad = _post(_api(cast.alice), "api_session_scores", [session.pk], {"scores": [11]})
    assert bad.status_code == 400 and "scores" in bad.json()
    assert (
        _post(_api(cast.bob), "api_session_scores", [session.pk], {"scores": [5]}).status_code
        == 403
    )
    assert (
        _post(_api(cast.charlie), "api_session_scores", [session.pk], {"scores": [5]}).status_code
        == 404
    )
    evaluation = Measure.objects.get(room=cast.room, source="session_evaluation")
    assert evaluation.points.get().value == 8


def test_a_rooms_improvement_work_is_read_whole(cast):
    room = cast.room
    theme = room.themes.create(title="Delays at the front door")
    GlobalAim.objects.create(room=room, theme=theme, where="Front door", looks_like="Seen fast",
                             why="Safer")  # fmt: skip
    primary = room.drivers.create(title="Early senior review")
    secondary = room.drivers.create(title="Rota", parent=primary)
    idea = room.change_ideas.create(title="Consultant at the front door")
    idea.drivers.add(secondary)
    room.specific_aims.create(what="Seen within 14 hours", measure=cast.measure, target=80,
                              target_on=date(2027, 3, 31))  # fmt: skip
    body = _api(cast.vera).get(reverse("api_room_improvement", args=[room.pk])).json()
    assert body["global_aim"]["statement"] == "Front door: Seen fast."
    assert [(d["title"], d["parent_id"]) for d in body["drivers"]] == [
        ("Early senior review", None), ("Rota", primary.pk),
    ]  # fmt: skip
    assert body["change_ideas"][0]["drivers"] == [secondary.pk]
    assert body["specific_aims"][0]["measure_id"] == cast.measure.pk
    assert body["themes"][0]["title"] == "Delays at the front door"
    assert (
        _api(cast.charlie).get(reverse("api_room_improvement", args=[room.pk])).status_code == 404
    )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_lists_take_the_same_queries_for_one_item_or_many(cast):
    client = _api(cast.alice)
    client.get(reverse("api_room_list"))  # the token's first request starts its rate count
    urls = [reverse(name, args=[cast.room.pk]) for name in
            ("api_action_list", "api_pdsa_list", "api_session_list")]  # fmt: skip
    urls += [reverse("api_room_list"), reverse("api_my_actions")]

    def add(n):
        idea = cast.room.change_ideas.create(title=f"Idea {n}")
        pdsa = PDSA.objects.create(room=cast.room, ramp=idea.ramps.create(), number=1,
                                   objective="Try it", starts_on=date(2026, 1, 5))  # fmt: skip
        pdsa.tasks.create(task="Book", owner=cast.dana)
        pdsa.measures.add(cast.measure)
        pdsa.questions.create(question="Does it work?")
        cast.room.actions.create(what=f"Action {n}", owner=cast.alice, chaser=cast.bob)
        cast.room.sessions.create(held_on=date(2026, 1, n))
        BigRoom.objects.create(name=f"Room {n}", host=cast.north).memberships.create(
            user=cast.alice
        )

    add(1)
    one = [_queries(client, url) for url in urls]
    for n in range(2, 7):
        add(n)
    assert [_queries(client, url) for url in urls] == one


def test_a_pathways_feed_token_lists_only_its_own_pathways_files(cast):
    from pathways.models import Pathway

    mine = Pathway.objects.create(host=cast.north, name="Hip fracture")
    other = Pathway.objects.create(host=cast.north, name="Frailty")
    mine.uploads.create(filename="mine.csv", status="checked")
    other.uploads.create(filename="other.csv", status="checked")
    _, text = create_token(user=cast.quinn, name="Warehouse", kind="integration", pathway=mine)
    feed = Client(HTTP_AUTHORIZATION=f"Bearer {text}")
    listed = feed.get(reverse("api_episode_upload_list", args=[mine.pk])).json()
    assert [u["filename"] for u in listed["results"]] == ["mine.csv"]
    assert feed.get(reverse("api_episode_upload_list", args=[other.pk])).status_code == 404
    assert feed.get(reverse("api_pathway_detail", args=[mine.pk])).status_code == 403
    _, room_text = create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)
    room_feed = Client(HTTP_AUTHORIZATION=f"Bearer {room_text}")
    assert room_feed.get(reverse("api_episode_upload_list", args=[mine.pk])).status_code == 404
