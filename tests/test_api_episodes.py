"""The data warehouse sends episodes through the API with its pathway's feed token: streamed
as a multipart file, checked, and loaded when it asked and nothing is wrong."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from fca.tokens import create_token
from pathways.models import Episode, EpisodeUpload, Pathway

GOOD = "episode_id,arrived_at,departed_at\nA1,2026-07-01T09:30,2026-07-03T11:00\n"


@pytest.fixture
def pathways(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ours = Pathway.objects.create(host=cast.north, name="Hip fracture")
    theirs = Pathway.objects.create(host=cast.south, name="Falls")
    cast.room.pathway = ours
    cast.room.save()
    return ours, theirs


def _feed(cast, pathway=None, room=None) -> APIClient:
    _, text = create_token(user=cast.alice, name="Warehouse", kind="integration",
                           pathway=pathway, room=room)  # fmt: skip
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    return client


def _send(client, pathway, text=GOOD, **data):
    return client.post(
        reverse("api_send_episodes", args=[pathway.pk]),
        {"file": SimpleUploadedFile("nightly.csv", text.encode()), **data},
        format="multipart",
    )


def test_a_feed_sends_a_file_that_is_checked_and_loaded(
    cast, pathways, django_capture_on_commit_callbacks
):
    ours, _ = pathways
    client = _feed(cast, pathway=ours)
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, ours, load="all")
    assert response.status_code == 202
    body = client.get(response.json()["url"]).json()
    assert (body["status"], body["rows"], body["valid"], body["added"]) == ("loaded", 1, 1, 1)
    assert Episode.objects.get().episode_id == "A1"
    assert EpisodeUpload.objects.get().via_api
    assert body["date_warning"] is None  # ISO 8601 times: nothing to question


def test_a_file_whose_times_could_be_month_first_is_loaded_with_the_question(
    cast, pathways, django_capture_on_commit_callbacks
):
    ours, _ = pathways
    client = _feed(cast, pathway=ours)
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, ours, "episode_id,arrived_at\nA1,04/07/2026 09:30\n", load="all")
    body = client.get(response.json()["url"]).json()
    assert body["status"] == "loaded"
    assert body["date_warning"].startswith("Check the times: each was read day first")
    assert "“04/07/2026 09:30” is 4 Jul 2026" in body["date_warning"]


def test_a_file_with_problems_waits_for_a_person_even_when_load_was_asked(
    cast, pathways, django_capture_on_commit_callbacks
):
    ours, _ = pathways
    client = _feed(cast, pathway=ours)
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, ours, GOOD + "A2,2026-07-01T09:30,2026-06-01T09:30\n",
                         load="all")  # fmt: skip
    body = client.get(response.json()["url"]).json()
    assert body["status"] == "checked" and body["problem_count"] == 1
    assert body["problems"] == [[3, "departed_at", "departed_at is before arrived_at"]]
    assert not Episode.objects.exists()


def test_a_pathway_token_reaches_its_own_pathway_only(cast, pathways):
    ours, theirs = pathways
    client = _feed(cast, pathway=ours)
    assert _send(client, theirs).status_code == 404
    other_upload = theirs.uploads.create(filename="x.csv", status="checked")
    url = reverse("api_episode_upload", args=[other_upload.pk])
    assert client.get(url).status_code == 404
    # Nor a room's measures: its list holds only its pathway's flow measures.
    listed = client.get(reverse("api_measure_list")).json()
    assert all(m["pathway"] == "Hip fracture" for m in listed["results"])
    assert client.get(reverse("api_measure_detail", args=[cast.measure.pk])).status_code == 404


def test_a_rooms_token_cannot_send_episodes(cast, pathways):
    ours, _ = pathways
    client = _feed(cast, room=cast.room)
    assert _send(client, ours).status_code == 404


def test_a_person_with_the_data_right_sends_with_their_session(cast, pathways):
    ours, theirs = pathways
    client = APIClient()
    client.force_login(cast.dana)
    assert _send(client, ours).status_code == 202
    client.force_login(cast.bob)
    assert _send(client, ours).status_code == 403
    assert _send(client, theirs).status_code == 404


def test_a_send_without_a_file_says_so(cast, pathways):
    ours, _ = pathways
    response = _feed(cast, pathway=ours).post(
        reverse("api_send_episodes", args=[ours.pk]), {}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()
