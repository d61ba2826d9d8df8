"""The learning library: a room that adopted a change publishes its change package; every
organisation's users read it, search it by pathway, and copy it into a room they coach
as a starting point (never another organisation's data); academy admins curate it."""

import pytest
from django.urls import reverse

from bigrooms import library
from bigrooms.models import (
    PDSA,
    BigRoom,
    ChangeIdea,
    ChangePackage,
    Driver,
    GlobalAim,
    Ramp,
    RoomMembership,
    Theme,
)
from measures.models import Measure
from pathways.models import Pathway
from tests.test_dashboard import _improving, _monday


@pytest.fixture
def adopted(cast):
    """The North room's story: a theme, an aim, a driver tree, a change idea adopted after
    two cycles, and its improving outcome measure with a chart note."""
    room = cast.room
    room.pathway = Pathway.objects.create(host=cast.north, name="Hip fracture",
                                          specialty="Orthopaedics")  # fmt: skip
    room.save()
    Theme.objects.create(room=room, title="Waiting for theatre")
    GlobalAim.objects.create(room=room, where="Hip fracture patients at North",
                             looks_like="Theatre within 36 hours", why="Fewer complications")  # fmt: skip
    primary = Driver.objects.create(room=room, title="Theatre capacity")
    secondary = Driver.objects.create(room=room, title="Morning list", parent=primary)
    idea = ChangeIdea.objects.create(room=room, title="Early theatre slot")
    idea.drivers.set([secondary])
    ramp = Ramp.objects.create(change_idea=idea)
    for number, decision in ((1, "adapt"), (2, "adopt")):
        PDSA.objects.create(room=room, ramp=ramp, number=number, objective=f"Cycle {number}",
                            starts_on=_monday(20 - number), status="complete",
                            decision=decision, learning=f"Learnt {number}")  # fmt: skip
    _improving(cast.measure)
    cast.measure.annotations.create(on=_monday(10), text="Mrs Smith's fall")  # a chart note
    from measures import services

    services.recompute_chart(measure_id=cast.measure.pk)
    return room


def _publish(client, cast, room, **data):
    client.force_login(cast.alice)
    return client.post(reverse("room_publish", args=[room.pk]),
                       {"title": "Early theatre slot", "summary": "It works", **data})  # fmt: skip


def test_a_coach_publishes_a_change_package_everyone_can_read_with_its_n(client, cast, adopted):
    response = _publish(client, cast, adopted)
    package = ChangePackage.objects.get()
    assert response["Location"] == reverse("library_detail", args=[package.pk])
    assert (package.organisation, package.pathway, package.specialty) == (
        "North Acute NHS Trust",
        "Hip fracture",
        "Orthopaedics",
    )
    content = package.content
    assert [i["title"] for i in content["change_ideas"]] == ["Early theatre slot"]
    assert content["change_ideas"][0]["adopted"] is True
    assert [c["decision"] for c in content["change_ideas"][0]["ramps"][0]] == ["adapt", "adopt"]
    [measure] = content["measures"]
    assert measure["points"] == 28 and measure["variation"] == "improvement_low"
    assert "annotations" not in measure["figure"]["layout"]  # chart notes stay in the room
    client.force_login(cast.charlie)  # another organisation reads it
    page = client.get(reverse("library_detail", args=[package.pk])).content.decode()
    assert "Early theatre slot" in page and "n = 28 points" in page
    assert "Mrs Smith" not in page
    listing = client.get(reverse("library_list"), {"q": "theatre"}).content.decode()
    assert "Early theatre slot" in listing
    by_specialty = client.get(reverse("library_list"), {"specialty": "Cardiology"})
    assert "Early theatre slot" not in by_specialty.content.decode()


def test_a_room_that_has_adopted_nothing_cannot_publish_and_members_may_not(client, cast):
    response = _publish(client, cast, cast.room)
    assert response.status_code == 400
    assert "once a PDSA cycle has adopted a change" in response.content.decode()
    client.force_login(cast.bob)
    assert client.get(reverse("room_publish", args=[cast.room.pk])).status_code == 403
    client.force_login(cast.charlie)
    assert client.get(reverse("room_publish", args=[cast.room.pk])).status_code == 404
    assert not ChangePackage.objects.exists()


def test_a_package_copies_into_another_organisations_room_without_any_data(client, cast, adopted):
    _publish(client, cast, adopted)
    package = ChangePackage.objects.get()
    client.force_login(cast.charlie)
    response = client.post(reverse("library_copy", args=[package.pk]),
                           {"room": cast.other_room.pk}, follow=True)  # fmt: skip
    assert (
        "Copied into Frailty big room: 1 themes, 1 aim, 2 drivers, 1 change ideas, 1 measures"
        in (response.content.decode())
    )
    room = cast.other_room
    assert list(room.themes.values_list("title", flat=True)) == ["Waiting for theatre"]
    assert room.global_aim.looks_like == "Theatre within 36 hours"
    morning = room.drivers.get(title="Morning list")
    assert morning.parent.title == "Theatre capacity"
    assert list(room.change_ideas.get().drivers.all()) == [morning]
    copied = room.measures.get(name="Time to theatre")
    assert not copied.points.exists() and not room.pdsas.exists()  # never the data
    # Again: what the room already has is left alone.
    again = library.copy_package(package=package, room=room)
    assert again == {"themes": 0, "aim": 0, "drivers": 0, "change_ideas": 0, "measures": 0}


def test_only_a_coach_copies_and_only_into_their_own_room(client, cast, adopted):
    _publish(client, cast, adopted)
    package = ChangePackage.objects.get()
    client.force_login(cast.charlie)
    refused = client.post(reverse("library_copy", args=[package.pk]), {"room": cast.room.pk})
    assert refused.status_code == 400  # not one of the rooms charlie coaches
    assert "Select a valid choice" in refused.content.decode()
    client.force_login(cast.bob)  # coaches no room
    page = client.get(reverse("library_detail", args=[package.pk])).content.decode()
    assert "Copy into my room" not in page
    assert client.post(reverse("library_copy", args=[package.pk]), {"room": cast.room.pk}
                       ).status_code == 400  # fmt: skip
    assert Measure.objects.filter(name="Time to theatre").count() == 1


def test_academy_admins_feature_and_withdraw_packages(client, cast, adopted):
    _publish(client, cast, adopted)
    package = ChangePackage.objects.get()
    client.force_login(cast.alice)
    assert client.post(reverse("library_curate", args=[package.pk]),
                       {"withdrawn": "on"}).status_code == 404  # fmt: skip
    client.force_login(cast.ada)
    client.post(reverse("library_curate", args=[package.pk]),
                {"withdrawn": "on", "note": "Being checked"})  # fmt: skip
    package.refresh_from_db()
    assert package.status == "withdrawn" and package.curator_note == "Being checked"
    client.force_login(cast.charlie)
    assert client.get(reverse("library_detail", args=[package.pk])).status_code == 404
    assert "Early theatre slot" not in client.get(reverse("library_list")).content.decode()
    client.force_login(cast.ada)
    assert client.get(reverse("library_detail", args=[package.pk])).status_code == 200


def test_a_driver_whose_parent_is_missing_is_not_copied_floating(cast):
    package = ChangePackage.objects.create(
        title="Odd", summary="x", organisation="Elsewhere",
        content={"drivers": [{"key": 1, "parent": 99, "title": "Orphan", "position": 0},
                             {"key": 2, "parent": None, "title": "Root", "position": 0}]},
    )  # fmt: skip
    room = BigRoom.objects.create(name="New room", host=cast.north)
    RoomMembership.objects.create(room=room, user=cast.alice, role="clinical_coach")
    assert library.copy_package(package=package, room=room)["drivers"] == 1
    assert list(room.drivers.values_list("title", flat=True)) == ["Root"]


def test_a_proportion_says_its_n_and_a_copy_minds_the_case_of_names(client, cast, adopted):
    from datetime import timedelta

    from measures import services

    share = Measure.objects.create(room=adopted, name="Theatre within 36 hours", kind="process",
                                   shape="proportion", unit="%", frequency="weekly",
                                   chart_type="p")  # fmt: skip
    services.save_data_points(measure=share, rows=[
        (i, _monday(10) + timedelta(weeks=i), (7, 10)) for i in range(5)])  # fmt: skip
    services.recompute_chart(measure_id=share.pk)
    _publish(client, cast, adopted)
    content = ChangePackage.objects.get().content
    assert {m["name"]: m["n"] for m in content["measures"]} == {
        "Time to theatre": None,
        "Theatre within 36 hours": 50,
    }
    page = client.get(reverse("library_detail", args=[ChangePackage.objects.get().pk]))
    assert "n = 5 points, 50 in all" in page.content.decode()
    other = cast.other_room
    Measure.objects.create(room=other, name="TIME TO THEATRE", frequency="weekly")
    added = library.copy_package(package=ChangePackage.objects.get(), room=other)
    assert added["measures"] == 1  # the other one: "Time to theatre" is there already
    assert sorted(other.measures.values_list("name", flat=True)) == [
        "Falls", "TIME TO THEATRE", "Theatre within 36 hours"]  # fmt: skip


def test_a_search_with_a_nul_is_answered_and_change_ideas_are_searched(client, cast, adopted):
    _publish(client, cast, adopted, title="Hip pathway")
    assert client.get(reverse("library_list"), {"q": "a\x00b"}).status_code == 200
    page = client.get(reverse("library_list"), {"q": "theatre slot"}).content.decode()
    assert "Hip pathway" in page  # found by its change idea's title
