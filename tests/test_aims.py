"""The global aim in words, and specific aims: what, how good, by when, on a measure."""

from datetime import date

import pytest
from django.urls import reverse

from bigrooms.models import GlobalAim, SpecificAim


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


def test_a_coach_writes_the_global_aim(coach, cast):
    theme = cast.room.themes.create(title="Waits for theatre")
    response = coach.post(
        reverse("room_aims", args=[cast.room.pk]),
        {"where": "Hip fracture patients at North General", "theme": theme.pk,
         "looks_like": "Every patient reaches theatre within 36 hours of arrival",
         "why": "Waiting longer raises the risk of dying"},
    )  # fmt: skip
    assert response.status_code == 302
    aim = GlobalAim.objects.get()
    assert aim.statement == (
        "Hip fracture patients at North General: Every patient reaches theatre within 36 hours "
        "of arrival."
    )
    page = coach.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert aim.statement in page


def test_a_specific_aim_names_a_measure_a_number_and_a_date(coach, cast):
    response = coach.post(
        reverse("specific_aim_create", args=[cast.room.pk]),
        {"what": "Mean hours from arrival to theatre", "measure": cast.measure.pk,
         "target": "24", "target_on": "31/03/2027"},
    )  # fmt: skip
    assert response.status_code == 302
    aim = SpecificAim.objects.get()
    assert (aim.target, aim.target_on, aim.measure) == (24, date(2027, 3, 31), cast.measure)
    page = coach.get(reverse("room_aims", args=[cast.room.pk])).content.decode()
    assert "24 hours by 31 Mar 2027" in page


@pytest.mark.parametrize(
    ("target", "target_on", "message"),
    [
        ("", "31/03/2027", "Enter how good, as a number, for example 80"),
        ("most of them", "31/03/2027", "“most of them” is not a number"),
        ("24", "", "Enter by when, as a date, for example 31/03/2027"),
        ("24", "soon", "soon"),
    ],
)
def test_a_specific_aim_without_a_number_or_a_date_says_which(
    coach, cast, target, target_on, message
):
    response = coach.post(
        reverse("specific_aim_create", args=[cast.room.pk]),
        {"what": "Mean hours to theatre", "measure": cast.measure.pk, "target": target,
         "target_on": target_on},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page and message in page
    assert 'value="Mean hours to theatre"' in page  # nothing typed is lost
    assert not SpecificAim.objects.exists()


def test_a_specific_aim_cannot_use_another_rooms_measure(coach, cast):
    response = coach.post(
        reverse("specific_aim_create", args=[cast.room.pk]),
        {"what": "Falls", "measure": cast.other_measure.pk, "target": "2",
         "target_on": "31/03/2027"},
    )  # fmt: skip
    assert response.status_code == 400
    assert not SpecificAim.objects.exists()


def test_a_coach_changes_a_specific_aim(coach, cast):
    aim = SpecificAim.objects.create(
        room=cast.room, what="Hours to theatre", measure=cast.measure, target=30,
        target_on=date(2027, 3, 31),
    )  # fmt: skip
    response = coach.post(
        reverse("specific_aim_edit", args=[aim.pk]),
        {"what": "Hours to theatre", "measure": cast.measure.pk, "target": "24",
         "target_on": "30/06/2027"},
    )  # fmt: skip
    assert response.status_code == 302
    aim.refresh_from_db()
    assert (aim.target, aim.target_on) == (24, date(2027, 6, 30))
