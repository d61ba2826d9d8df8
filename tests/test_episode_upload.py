"""Uploading episodes: kept and checked, a report of every problem, then loaded (all, or
the valid rows only) as the person chooses; loading is idempotent."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from pathways import services
from pathways.models import Episode, EpisodeUpload, Pathway, Step

GOOD = (
    "episode_id,arrived_at,departed_at,theatre,destination\n"
    "A1,2026-07-01T09:30,2026-07-03T11:00,2026-07-01T20:00,Home\n"
    "A2,01/07/2026 10:00,,,\n"
)


@pytest.fixture
def pathway(cast):
    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture")
    Step.objects.create(pathway=pathway, code="theatre", name="Theatre", slot=1)
    cast.room.pathway = pathway
    cast.room.save()
    return pathway


@pytest.fixture
def send(client, cast, pathway, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(cast.dana)  # a data contributor of a room on the pathway

    def send(text: str, name="episodes.csv"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("episode_upload_new", args=[pathway.pk]),
                {"file": SimpleUploadedFile(name, text.encode())},
            )
        assert response.status_code == 302, response.content.decode()[:2000]
        return EpisodeUpload.objects.latest("pk")

    return send


def _load(client, upload, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("episode_upload_confirm", args=[upload.pk]), data)
    upload.refresh_from_db()
    return upload


def test_a_good_file_is_checked_then_loaded_when_the_person_says(
    client, send, pathway, django_capture_on_commit_callbacks
):
    upload = send(GOOD)
    upload.refresh_from_db()
    assert upload.status == "checked" and not Episode.objects.exists()
    page = client.get(reverse("episode_upload", args=[upload.pk])).content.decode()
    assert "Load 2 episodes" in page
    upload = _load(client, upload, django_capture_on_commit_callbacks)
    assert (upload.status, upload.added, upload.updated) == ("loaded", 2, 0)
    first = Episode.objects.get(episode_id="A1")
    assert first.arrived_at == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert first.step_1 == datetime(2026, 7, 1, 19, 0, tzinfo=UTC)
    assert first.destination == "Home"
    pathway.refresh_from_db()
    assert pathway.data_version == 1 and pathway.last_loaded_at is not None
    assert not upload.file  # the file goes once loaded


def test_the_same_file_twice_changes_nothing_and_a_later_file_updates(
    client, send, django_capture_on_commit_callbacks
):
    _load(client, send(GOOD), django_capture_on_commit_callbacks)
    before = list(Episode.objects.order_by("episode_id").values())
    again = _load(client, send(GOOD), django_capture_on_commit_callbacks)
    assert (again.added, again.updated) == (0, 2)
    assert list(Episode.objects.order_by("episode_id").values()) == before
    later = GOOD.replace("A2,01/07/2026 10:00,,,", "A2,01/07/2026 10:00,04/07/2026 15:00,,Home")
    _load(client, send(later), django_capture_on_commit_callbacks)
    assert Episode.objects.get(episode_id="A2").departed_at == datetime(
        2026, 7, 4, 14, 0, tzinfo=UTC
    )
    assert Episode.objects.count() == 2


def test_a_file_with_problems_lists_them_and_loads_only_the_valid_rows_if_chosen(
    client, send, django_capture_on_commit_callbacks
):
    upload = send(GOOD + "A3,2026-07-01T09:30,2026-06-01T09:30,,\n")
    page = client.get(reverse("episode_upload", args=[upload.pk])).content.decode()
    assert "departed_at is before arrived_at" in page and ">4</td>" in page
    assert "Load the 2 valid episodes only" in page
    # Loading it all is refused while it has problems: nothing is stored.
    upload = _load(client, upload, django_capture_on_commit_callbacks)
    assert upload.status == "checked" and not Episode.objects.exists()
    upload = _load(client, upload, django_capture_on_commit_callbacks, valid_only="1")
    assert upload.status == "loaded"
    assert sorted(Episode.objects.values_list("episode_id", flat=True)) == ["A1", "A2"]


def test_times_that_could_be_month_first_are_questioned_before_and_after_loading(
    client, send, django_capture_on_commit_callbacks
):
    upload = send(GOOD)  # 01/07/2026 10:00, and no day over 12
    page = client.get(reverse("episode_upload", args=[upload.pk])).content.decode()
    assert "Day or month first?" in page
    assert "“01/07/2026 10:00” is 1 Jul 2026" in page and "that time is 7 Jan 2026" in page
    upload = _load(client, upload, django_capture_on_commit_callbacks)
    assert upload.status == "loaded"  # a question, not a refusal
    page = client.get(reverse("episode_upload", args=[upload.pk])).content.decode()
    assert "Day or month first?" in page
    settled = send(GOOD + "A3,13/07/2026 10:00,,,\n")
    page = client.get(reverse("episode_upload", args=[settled.pk])).content.decode()
    assert "Day or month first?" not in page


def test_a_refused_file_says_why_and_is_deleted(client, send):
    upload = send("episode_id,arrived_at,NHS number\nA1,2026-07-01T09:30,9434765919\n")
    upload.refresh_from_db()
    assert upload.status == "refused" and not upload.file
    page = client.get(reverse("episode_upload", args=[upload.pk])).content.decode()
    assert "The file was refused" in page and "“NHS number”" in page
    assert not Episode.objects.exists()


def test_an_empty_file_is_refused_at_once(client, cast, pathway):
    client.force_login(cast.alice)
    response = client.post(reverse("episode_upload_new", args=[pathway.pk]),
                           {"file": SimpleUploadedFile("e.csv", b"")})  # fmt: skip
    assert response.status_code == 400
    assert "The submitted file is empty" in response.content.decode() or (
        "The file is empty" in response.content.decode()
    )


def test_discarding_a_checked_file_loads_nothing(client, send):
    upload = send(GOOD)
    client.post(reverse("episode_upload_discard", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.status == "discarded" and not upload.file and not Episode.objects.exists()


def test_files_nobody_confirms_are_let_go_after_a_day(send):
    upload = send(GOOD)
    EpisodeUpload.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert services.sweep_uploads() == 1
    upload.refresh_from_db()
    assert upload.status == "expired" and not upload.file


def test_a_member_without_the_data_right_cannot_upload(client, cast, pathway):
    client.force_login(cast.bob)
    assert client.get(reverse("episode_upload_new", args=[pathway.pk])).status_code == 403


def test_episodes_older_than_the_pathway_keeps_them_are_deleted(
    cast, pathway, django_capture_on_commit_callbacks
):
    from pathways.models import Episode

    now = timezone.now()
    pathway.keep_episodes_months = 12
    pathway.save()
    old, recent, still_here = (
        now - timedelta(days=400),
        now - timedelta(days=100),
        now - timedelta(days=500),
    )
    for episode_id, arrived, departed in (("OLD", old, old + timedelta(days=2)),
                                          ("NEW", recent, recent + timedelta(days=2)),
                                          ("OPEN", still_here, None)):  # fmt: skip
        Episode.objects.create(pathway=pathway, episode_id=episode_id, arrived_at=arrived,
                               departed_at=departed, loaded_at=now)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert services.apply_retention() == {pathway.pk: 1}
    assert sorted(Episode.objects.values_list("episode_id", flat=True)) == ["NEW", "OPEN"]
    pathway.refresh_from_db()
    assert pathway.data_version == pathway.metrics_version == 1
