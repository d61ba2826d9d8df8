"""What the pages show can be read through the API too: how a room was built, its
multivotes and board packs, the learning library and the audit log, each to the same
people as its page."""

from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bigrooms import services
from bigrooms.models import BoardPack, ChangePackage
from fca import audit
from fca.models import Coach, Cohort
from fca.tokens import create_token


def _api(user) -> Client:
    _, text = create_token(user=user, name="Script", kind="personal")
    return Client(HTTP_AUTHORIZATION=f"Bearer {text}")


def _get(user, name, *args, query=""):
    return _api(user).get(reverse(name, args=args) + query)


# --- How the room was built ----------------------------------------------------------------


def test_a_rooms_build_shows_every_5vs_version_newest_first_its_stakeholders_and_photos(cast):
    room = cast.room
    services.save_five_vs(room=room, by=cast.alice, value="Fewer delays")
    services.save_five_vs(room=room, by=cast.bob, value="Fewer delays", vision="Home in 36 h")
    services.add_stakeholder(room=room, name="Ward 7 sister", organisation="North", role="Nurse",
                             involvement="Member")  # fmt: skip
    photo = room.photos.create(caption="Process map", uploaded_by=cast.alice,
                               image=ContentFile(b"\x89PNG", name="map.png"))  # fmt: skip

    body = _get(cast.bob, "api_room_build", room.pk).json()

    assert [(v["created_by"], v["vision"]) for v in body["five_vs"]] == [
        ("Bob Brown", "Home in 36 h"), ("Alice Adams", ""),
    ]  # fmt: skip
    assert body["stakeholders"] == [{
        "id": room.stakeholders.get().pk, "name": "Ward 7 sister", "organisation": "North",
        "role": "Nurse", "involvement": "Member",
    }]  # fmt: skip
    assert body["photos"][0]["caption"] == "Process map"
    assert body["photos"][0]["image"].endswith(reverse("room_photo", args=[room.pk, photo.pk]))


def test_a_rooms_build_is_for_its_members_and_organisation_as_on_its_page(cast):
    assert _get(cast.quinn, "api_room_build", cast.room.pk).status_code == 200
    assert _get(cast.vera, "api_room_build", cast.room.pk).status_code == 200
    refused = _get(cast.ada, "api_room_build", cast.room.pk)  # an academy admin: metadata only
    assert refused.status_code == 403
    assert "members and QI leads" in refused.json()["detail"]
    assert _get(cast.charlie, "api_room_build", cast.room.pk).status_code == 404


# --- Multivotes ----------------------------------------------------------------------------


def test_multivotes_show_the_open_ones_tally_so_far_and_a_closed_ones_kept_result(cast):
    room = cast.room
    front, weekend = (room.themes.create(title=t) for t in ("Front door", "Weekend cover"))
    first = services.open_multivote(room=room, votes_each=3, by=cast.alice)
    services.cast_votes(multivote=first, voter=cast.bob, counts={weekend.pk: 3})
    services.close_multivote(multivote=first)
    room.themes.create(title="Discharge lounge")
    weekend.delete()  # the closed vote keeps its ranking as it was on the day
    second = services.open_multivote(room=room, votes_each=2, by=cast.alice)
    services.cast_votes(multivote=second, voter=cast.dana, counts={front.pk: 2})

    with CaptureQueriesContext(connection) as queries:
        body = _get(cast.bob, "api_multivote_list", room.pk).json()

    latest, earlier = body["results"]
    assert (latest["id"], latest["closed_on"]) == (second.pk, None)
    assert [(r["rank"], r["title"], r["votes"]) for r in latest["ranking"]] == [
        (1, "Front door", 2), (2, "Discharge lounge", 0),
    ]  # fmt: skip
    assert earlier["closed_on"] == timezone.localdate().isoformat()
    assert [(r["title"], r["votes"], r["voters"]) for r in earlier["ranking"]] == [
        ("Weekend cover", 3, 1), ("Front door", 0, 0),
    ]  # fmt: skip
    # Token, person, rate window, audit, room, access, count, page, the open vote's tally.
    assert len(queries) <= 14


def test_a_multivote_closed_before_ranks_were_kept_is_ranked_by_its_order(cast):
    kept = [{"theme_id": 1, "title": "Front door", "votes": 4, "voters": 2},
            {"theme_id": 2, "title": "Weekend cover", "votes": 1, "voters": 1}]  # fmt: skip
    cast.room.multivotes.create(votes_each=3, closed_on=date(2025, 6, 2), result=kept)
    body = _get(cast.bob, "api_multivote_list", cast.room.pk).json()
    assert [(r["rank"], r["title"]) for r in body["results"][0]["ranking"]] == [
        (1, "Front door"), (2, "Weekend cover"),
    ]  # fmt: skip


# --- Board packs ---------------------------------------------------------------------------


def test_board_packs_say_where_each_has_got_to_and_where_a_ready_one_downloads(cast):
    room = cast.room
    ready = BoardPack.objects.create(room=room, requested_by=cast.alice, status="ready",
                                     progress=100, size=4, file=ContentFile(b"%PDF", "p.pdf"))  # fmt: skip
    BoardPack.objects.filter(pk=ready.pk).update(created_at=timezone.now() - timedelta(days=1))
    working = BoardPack.objects.create(room=room, requested_by=cast.quinn, status="working",
                                       progress=40, step="Drawing the charts")  # fmt: skip

    body = _get(cast.quinn, "api_board_pack_list", room.pk).json()

    now, before = body["results"]
    assert (now["id"], now["status"], now["progress"], now["step"], now["download"]) == (
        working.pk, "working", 40, "Drawing the charts", None,
    )  # fmt: skip
    assert before["requested_by"] == "Alice Adams"
    assert before["download"].endswith(reverse("board_pack_download", args=[ready.pk]))


def test_board_packs_are_for_the_rooms_coaches_and_qi_leads_only(cast):
    assert _get(cast.alice, "api_board_pack_list", cast.room.pk).status_code == 200
    assert _get(cast.bob, "api_board_pack_list", cast.room.pk).status_code == 403
    assert _get(cast.charlie, "api_board_pack_list", cast.room.pk).status_code == 404


# --- The learning library ------------------------------------------------------------------


@pytest.fixture
def packages(cast):
    def package(title, **extra):
        fields = {"room": cast.room, "title": title, "summary": "Earlier senior review",
                  "organisation": "North", "pathway": "Hip fracture",
                  "specialty": "Orthogeriatrics",
                  "content": {"change_ideas": [{"title": "Consultant at the front door"}]}}  # fmt: skip
        return ChangePackage.objects.create(**{**fields, **extra})

    return {
        "hips": package("Hips home sooner", featured=True),
        "falls": package("Fewer falls", specialty="Frailty"),
        "gone": package("Withdrawn one", status="withdrawn"),
    }


def test_the_library_lists_published_packages_featured_first_and_searches_them(cast, packages):
    body = _get(cast.charlie, "api_package_list").json()
    assert [p["title"] for p in body["results"]] == ["Hips home sooner", "Fewer falls"]
    assert "content" not in body["results"][0]
    found = _get(cast.charlie, "api_package_list", query="?q=front+door&specialty=frailty")
    assert [p["title"] for p in found.json()["results"]] == ["Fewer falls"]
    every = _get(cast.ada, "api_package_list").json()
    assert {p["title"] for p in every["results"]} == {"Hips home sooner", "Fewer falls",
                                                      "Withdrawn one"}  # fmt: skip


def test_a_package_shows_what_it_published_and_a_withdrawn_one_only_to_academy_admins(
    cast, packages
):
    body = _get(cast.charlie, "api_package_detail", packages["hips"].pk).json()
    assert body["content"] == {"change_ideas": [{"title": "Consultant at the front door"}]}
    assert body["summary"] == "Earlier senior review"
    assert _get(cast.charlie, "api_package_detail", packages["gone"].pk).status_code == 404
    assert _get(cast.ada, "api_package_detail", packages["gone"].pk).status_code == 200


def test_the_library_refuses_a_search_too_long_naming_the_field(cast, packages):
    refused = _get(cast.bob, "api_package_list", query="?q=" + "x" * 101)
    assert refused.status_code == 400
    assert list(refused.json()) == ["q"]


# --- The audit log -------------------------------------------------------------------------


@pytest.fixture
def events(cast):
    north = audit.record("export", actor=cast.alice, target=cast.room, format="csv")
    south = audit.record("export", actor=cast.charlie, target=cast.other_room, format="csv")
    failed = audit.record("sign_in.failed", actor=cast.bob, outcome="failure")
    return {"north": north, "south": south, "failed": failed}


def test_a_qi_lead_reads_their_organisations_events_in_words(cast, events):
    body = _get(cast.quinn, "api_audit_event_list").json()
    ids = [e["id"] for e in body["results"]]
    assert events["north"].pk in ids and events["failed"].pk in ids
    assert events["south"].pk not in ids
    export = next(e for e in body["results"] if e["id"] == events["north"].pk)
    assert (export["who"], export["what"], export["organisation"], export["target_name"]) == (
        "alice@north.nhs.uk", "Data downloaded", "North Acute NHS Trust", "Hip fracture big room",
    )  # fmt: skip
    assert export["details"] == {"format": "csv"}


def test_the_audit_log_filters_as_its_page_does(cast, events):
    failures = _get(cast.quinn, "api_audit_event_list", query="?outcome=failure").json()
    assert [e["id"] for e in failures["results"]] == [events["failed"].pk]
    south = _get(cast.ada, "api_audit_event_list", query=f"?organisation={cast.south.pk}")
    assert events["south"].pk in [e["id"] for e in south.json()["results"]]
    assert events["north"].pk not in [e["id"] for e in south.json()["results"]]


def test_an_empty_filter_filters_nothing_as_on_the_page(cast, events, cohort):
    empty = "?organisation=&group=&outcome=&person=&since=&until="
    assert _get(cast.quinn, "api_audit_event_list", query=empty).status_code == 200
    whole = _get(cast.ada, "api_programme_figures", query="?scope=").json()
    assert whole["scope"] == "The whole academy"


def test_the_audit_log_refuses_bad_filters_naming_the_field_and_value(cast, events):
    other = _get(cast.quinn, "api_audit_event_list", query=f"?organisation={cast.south.pk}")
    assert other.status_code == 400
    assert other.json() == {
        "organisation": [f"{cast.south.pk} is not an organisation whose log you read."]
    }
    today = date.today()
    backwards = _get(cast.quinn, "api_audit_event_list",
                     query=f"?since={today}&until={today - timedelta(days=1)}")  # fmt: skip
    assert backwards.status_code == 400
    assert list(backwards.json()) == ["until"]


def test_the_audit_log_does_not_exist_for_people_who_read_no_log(cast, events):
    refused = _get(cast.bob, "api_audit_event_list")
    assert refused.status_code == 404
    assert refused.json() == {"detail": "No such page"}


# --- The academy ---------------------------------------------------------------------------


@pytest.fixture
def cohort(cast):
    cohort = Cohort.objects.create(name="Cohort 9", academy="North", starts_on=date(2026, 1, 5),
                                   ends_on=date(2026, 6, 30))  # fmt: skip
    Cohort.objects.create(name="Cohort 10", academy="North", starts_on=date(2026, 9, 7))
    alice = Coach.objects.create(cohort=cohort, user=cast.alice, organisation=cast.north,
                                 kind="clinical")  # fmt: skip
    Coach.objects.create(cohort=cohort, user=cast.charlie, organisation=cast.south,
                         kind="independent", status="paused", status_reason="Parental leave")  # fmt: skip
    day = cohort.days.create(held_on=date(2026, 2, 2), title="Flow and the big room")
    day.present.add(alice)
    cast.room.sessions.create(held_on=timezone.localdate() - timedelta(days=3))
    return cohort


def test_an_academy_admin_reads_the_cohorts_and_a_cohorts_coaches_days_and_rooms(cast, cohort):
    listed = _get(cast.ada, "api_cohort_list").json()["results"]
    assert [(c["name"], c["coaches"]) for c in listed] == [("Cohort 10", 0), ("Cohort 9", 2)]

    body = _get(cast.ada, "api_cohort_detail", cohort.pk).json()

    assert body["days"] == [{"id": cohort.days.get().pk, "held_on": "2026-02-02",
                             "title": "Flow and the big room", "present": 1}]  # fmt: skip
    alice, charlie = body["enrolled"]
    assert (alice["name"], alice["shown_status"], alice["rooms"]) == (
        "Alice Adams", "Coaching (logged in the app)",
        [{"id": cast.room.pk, "name": "Hip fracture big room"}],
    )  # fmt: skip
    assert (charlie["organisation"], charlie["shown_status"]) == (
        "South Community Health", "Paused: Parental leave",
    )  # fmt: skip


def test_an_academy_admin_reads_the_programmes_figures_for_a_scope_it_names(cast, cohort):
    whole = _get(cast.ada, "api_programme_figures").json()
    assert whole["scope"] == "The whole academy"
    assert len(whole["quarters"]) == 8
    assert whole["quarters"][-1]["sessions"] == 1
    mine = _get(cast.ada, "api_programme_figures", query=f"?scope=cohort-{cohort.pk}").json()
    assert mine["scope"] == "Cohort 9"
    assert mine["quarters"][-1]["coaching"] == 1
    missing = _get(cast.ada, "api_programme_figures", query="?scope=cohort-999999")
    assert missing.status_code == 400
    assert missing.json() == {"scope": ["No cohort or organisation is cohort-999999."]}


def test_the_academy_does_not_exist_for_anyone_else(cast, cohort):
    for name, args in (("api_cohort_list", []), ("api_cohort_detail", [cohort.pk]),
                       ("api_programme_figures", [])):  # fmt: skip
        refused = _get(cast.quinn, name, *args)
        assert refused.status_code == 404, name
        assert refused.json() == {"detail": "No such page"}


def test_a_feed_token_reads_none_of_these(cast, packages):
    _, text = create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)
    feed = Client(HTTP_AUTHORIZATION=f"Bearer {text}")
    for name, args in (("api_room_build", [cast.room.pk]), ("api_multivote_list", [cast.room.pk]),
                       ("api_board_pack_list", [cast.room.pk]), ("api_package_list", []),
                       ("api_package_detail", [packages["hips"].pk]),
                       ("api_audit_event_list", [])):  # fmt: skip
        assert feed.get(reverse(name, args=args)).status_code == 403, name
