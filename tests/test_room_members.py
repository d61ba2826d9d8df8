"""The room's team: members from any organisation, invited by email."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from bigrooms.models import RoomMembership
from fca.models import User


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


def _add(client, cast, **changes):
    data = {"email": "gp@surgery.nhs.uk", "full_name": "Gita Patel", "role": "member",
            "team_role": "gp", "can_contribute_data": ""}  # fmt: skip
    data.update(changes)
    return client.post(reverse("room_members", args=[cast.room.pk]), data)


def test_someone_new_is_invited_chooses_a_password_and_lands_signed_in(
    coach, cast, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert _add(coach, cast).status_code == 302
    gita = User.objects.get(email="gp@surgery.nhs.uk")
    assert not gita.has_usable_password()
    assert RoomMembership.objects.get(room=cast.room, user=gita).team_role == "gp"
    [email] = mail.outbox
    assert email.subject == "You are invited to the big room Hip fracture big room"
    link = re.search(r"http://127.0.0.1:8000(/account/invitation/\S+/)", email.body)[1]

    coach.post(reverse("logout"))
    page = client.get(link).content.decode()
    assert "Welcome, Gita" in page
    response = client.post(
        link, {"new_password1": "a-long-new-secret", "new_password2": "a-long-new-secret"}
    )
    assert response.status_code == 302
    assert "Hip fracture big room" in client.get("/").content.decode()
    # The link is spent once the password is set.
    assert "This invitation has expired or been used" in client.get(link).content.decode()


def test_someone_with_an_account_is_added_not_duplicated(
    coach, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _add(coach, cast, email="CHARLIE@south.nhs.uk", full_name="")
    assert User.objects.filter(email__iexact="charlie@south.nhs.uk").count() == 1
    assert cast.room.memberships.filter(user=cast.charlie).exists()
    assert mail.outbox[0].subject == "You have been added to the big room Hip fracture big room"
    again = _add(coach, cast, email="charlie@south.nhs.uk")
    assert "Charlie Cole is already a member of the room" in again.content.decode()


def test_a_member_can_be_removed_but_not_the_last_coach(coach, cast):
    bob = cast.room.memberships.get(user=cast.bob)
    coach.post(reverse("member_remove", args=[cast.room.pk, bob.pk]))
    assert not cast.room.memberships.filter(user=cast.bob).exists()
    alice = cast.room.memberships.get(user=cast.alice)
    response = coach.post(reverse("member_remove", args=[cast.room.pk, alice.pk]), follow=True)
    assert "A room needs a coach" in response.content.decode()
    assert cast.room.memberships.filter(user=cast.alice).exists()


def test_the_host_organisations_qi_lead_manages_the_team_but_members_do_not(client, cast):
    client.force_login(cast.quinn)
    assert client.get(reverse("room_members", args=[cast.room.pk])).status_code == 200
    client.force_login(cast.bob)
    assert client.get(reverse("room_members", args=[cast.room.pk])).status_code == 403
    assert _add(client, cast).status_code == 403
    assert not User.objects.filter(email="gp@surgery.nhs.uk").exists()


def test_a_forged_invitation_is_refused(client, db):
    page = client.get(reverse("accept_invitation", args=["not-a-real-token"])).content.decode()
    assert "This invitation has expired or been used" in page


def test_someone_new_needs_a_name(coach, cast):
    response = _add(coach, cast, email="noname@example.org", full_name="")
    assert "Enter their full name: they are new to the app" in response.content.decode()
    assert not User.objects.filter(email="noname@example.org").exists()
