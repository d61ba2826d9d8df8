"""Writing the notes as the meeting runs: each part has a version; a save from an older
version is refused without losing it, and both are shown."""

from datetime import date

import pytest
from django.urls import reverse

from bigrooms import services


@pytest.fixture
def session(cast):
    return cast.room.sessions.create(held_on=date(2026, 1, 6), note_keeper=cast.bob)


def test_a_part_saves_only_from_its_current_version(session):
    assert services.save_session_part(session=session, part="notes", text="A", version=1) == 2
    with pytest.raises(services.StaleVersion) as stale:
        services.save_session_part(session=session, part="notes", text="B", version=1)
    assert (stale.value.theirs, stale.value.version) == ("A", 2)
    # Another part keeps its own version.
    assert (
        services.save_session_part(session=session, part="patient_story", text="S", version=1) == 2
    )


def test_the_autosave_answers_with_the_version_or_the_other_text(client, cast, session):
    client.force_login(cast.alice)
    url = reverse("session_autosave", args=[session.pk])
    first = client.post(url, {"part": "notes", "text": "Early slot agreed", "version": "1"})
    assert first.json() == {"version": 2, "warnings": []}
    stale = client.post(url, {"part": "notes", "text": "Mine", "version": "1"})
    assert stale.status_code == 409
    assert stale.json() == {"theirs": "Early slot agreed", "version": 2}
    assert client.post(url, {"part": "nonsense", "text": "x", "version": "1"}).status_code == 400


def test_the_plain_form_shows_both_versions_on_a_clash(client, cast, session):
    client.force_login(cast.alice)
    url = reverse("session_notes", args=[session.pk])
    services.save_session_part(session=session, part="notes", text="Theirs", version=1)
    response = client.post(url, {"notes": "Mine", "notes__version": "1"})
    page = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this meanwhile" in page
    assert ">Mine</textarea>" in page and ">Theirs</p>" in page
    # Saving again from the page keeps mine, now based on their version.
    again = client.post(url, {"notes": "Mine", "notes__version": "2"})
    assert again.status_code == 302
    session.refresh_from_db()
    assert session.notes == "Mine"


def test_the_note_keeper_writes_this_session_other_members_do_not(client, cast, session):
    client.force_login(cast.bob)  # note-keeper of this session
    url = reverse("session_autosave", args=[session.pk])
    assert client.post(url, {"part": "notes", "text": "x", "version": "1"}).status_code == 200
    client.force_login(cast.dana)
    assert client.post(url, {"part": "notes", "text": "y", "version": "2"}).status_code == 403


def test_notes_that_look_like_an_identifier_are_saved_with_a_warning(client, cast, session):
    client.force_login(cast.alice)
    saved = client.post(
        reverse("session_autosave", args=[session.pk]),
        {"part": "notes", "text": "Patient 943 476 5919 waited", "version": "1"},
    )
    assert saved.json() == {"version": 2, "warnings": ["looks like it holds an NHS number"]}
    page = client.post(
        reverse("session_notes", args=[session.pk]),
        {"patient_story": "Born 03/04/1941", "patient_story__version": "1"},
        follow=True,
    ).content.decode()
    assert "looks like it holds a date of birth: if it is about a patient, remove it now" in page
