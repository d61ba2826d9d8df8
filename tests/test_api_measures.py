"""The measures API with tokens: personal tokens act as their owner, integration tokens
reach one room and may be write-only; tokens are stored hashed, revocable, and logged."""

import hashlib

import pytest
from django.test import Client
from django.urls import reverse

from fca.models import ApiToken, AuditEvent
from fca.tokens import create_token, find_token, revoke_token
from measures.models import Measure


def _api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _upsert(client, measure, points):
    return client.post(
        reverse("api_point_upsert", args=[measure.pk]),
        {"points": points},
        content_type="application/json",
    )


BATCH = [
    {"period": "2025-01-06", "value": 30.5},
    {"period": "2025-01-13", "value": 32},
    {"period": "2025-01-20", "value": 29},
]


def test_a_token_is_shown_once_and_stored_only_as_a_hash(client, cast):
    client.force_login(cast.alice)
    page = client.post(reverse("personal_tokens"), {"name": "My script"}).content.decode()
    token = ApiToken.objects.get()
    text = page.split('data-testid="token-text">')[1].split("<")[0]
    assert text.startswith(f"fca_{token.prefix}_")
    secret = text.split("_", 2)[2]
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert find_token(text) == token
    assert text not in client.get(reverse("personal_tokens")).content.decode()


def test_a_personal_token_acts_as_its_owner(cast):
    _, text = create_token(user=cast.bob, name="Bob's script", kind="personal")
    client = _api(text)
    listed = client.get(reverse("api_measure_list")).json()
    assert [m["name"] for m in listed["results"]] == ["Time to theatre"]
    assert (
        client.get(reverse("api_measure_detail", args=[cast.other_measure.pk])).status_code == 404
    )
    # Bob reads the room but has no right to enter data.
    assert _upsert(client, cast.measure, BATCH).status_code == 403


def test_an_integration_token_sends_a_batch_that_saves_whole_and_once(cast):
    _, text = create_token(user=cast.alice, name="Warehouse", kind="integration", room=cast.room)
    client = _api(text)
    first = _upsert(client, cast.measure, BATCH)
    assert first.status_code == 200
    assert first.json() == {"added": 3, "updated": 0, "unchanged": 0}
    again = _upsert(client, cast.measure, BATCH)
    assert again.json() == {"added": 0, "updated": 0, "unchanged": 3}
    points = client.get(reverse("api_point_list", args=[cast.measure.pk])).json()
    assert [p["value"] for p in points["results"]] == [30.5, 32, 29]
    uses = AuditEvent.objects.filter(action="token.used", token__name="Warehouse")
    assert uses.count() == 3
    # Each use says for which organisation, by whose token, what was asked; never the token.
    use = uses.first()
    assert use.organisation_id == cast.room.host_id
    assert use.actor == cast.alice
    assert use.details["path"].endswith("/points/") or "points" in use.details["path"]
    assert text not in str(use.details) and text[4:16] not in str(use.details)


def test_an_integration_token_reaches_only_its_own_room(cast):
    _, text = create_token(user=cast.alice, name="Warehouse", kind="integration", room=cast.room)
    client = _api(text)
    assert (
        client.get(reverse("api_measure_detail", args=[cast.other_measure.pk])).status_code == 404
    )
    assert _upsert(client, cast.other_measure, BATCH).status_code == 404
    assert not cast.other_measure.points.exists()


def test_a_write_only_token_sends_but_cannot_read(cast):
    _, text = create_token(
        user=cast.alice, name="Feed", kind="integration", room=cast.room, write_only=True
    )
    client = _api(text)
    assert _upsert(client, cast.measure, BATCH).status_code == 200
    assert client.get(reverse("api_point_list", args=[cast.measure.pk])).status_code == 403
    assert client.get(reverse("api_measure_list")).status_code == 403


def test_a_revoked_or_forged_token_is_refused(cast):
    token, text = create_token(user=cast.alice, name="Old", kind="personal")
    revoke_token(token=token)
    assert _api(text).get(reverse("api_measure_list")).status_code == 401
    forged = text[:-4] + "AAAA"
    assert _api(forged).get(reverse("api_measure_list")).status_code == 401
    assert Client().get(reverse("api_measure_list")).status_code == 401


@pytest.mark.parametrize(
    ("points", "problem"),
    [
        ([{"period": "2025-01-06", "value": 1}, {"period": "2025-01-08", "value": 2}],
         "Point 2 is for the week starting 6 Jan 2025, as point 1 is"),
        ([{"period": "2025-01-06"}], "Point 1: give value"),
        ([{"period": "2099-01-05", "value": 3}], "Point 1: 5 Jan 2099 is in the future"),
    ],
)  # fmt: skip
def test_a_bad_batch_names_the_point_and_saves_nothing(cast, points, problem):
    _, text = create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)
    response = _upsert(_api(text), cast.measure, points)
    assert response.status_code == 400
    assert any(problem in p for p in response.json()["problems"])
    assert not cast.measure.points.exists()


def test_a_batch_with_text_for_a_number_is_refused_by_field(cast):
    _, text = create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)
    response = _upsert(_api(text), cast.measure, [{"period": "06/01/2025", "value": "lots"}])
    assert response.status_code == 400
    errors = response.json()["points"]["0"]  # the first point, by its index
    assert "period" in errors and "value" in errors


def test_a_proportion_needs_its_numerator_and_denominator(cast):
    measure = Measure.objects.create(
        room=cast.room, name="Screened", shape="proportion", frequency="monthly", chart_type="p"
    )
    _, text = create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)
    bad = _upsert(
        _api(text), measure, [{"period": "2025-01-01", "numerator": 12, "denominator": 10}]
    )
    assert "Point 1: The numerator (12) is more than the denominator (10)" in bad.json()["problems"]
    good = _upsert(
        _api(text), measure, [{"period": "2025-01-01", "numerator": 9, "denominator": 10}]
    )
    assert good.json()["added"] == 1


def test_a_coach_makes_and_revokes_a_room_token(client, cast):
    client.force_login(cast.alice)
    client.post(
        reverse("room_tokens", args=[cast.room.pk]), {"name": "Warehouse", "write_only": "on"}
    )
    token = ApiToken.objects.get()
    assert (token.kind, token.room, token.write_only) == ("integration", cast.room, True)
    client.post(reverse("token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    client.force_login(cast.bob)
    assert client.get(reverse("room_tokens", args=[cast.room.pk])).status_code == 403
