"""The board pack: a PDF of a big room for its organisation's quality committee, made by the
worker with a progress bar, downloaded when ready; never its session notes or patient
stories, and never another organisation's."""

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from bigrooms import services
from bigrooms.models import PDSA, BoardPack, GlobalAim
from fca.dates import format_date
from measures.models import DataPoint, Measure
from measures.services import recompute_chart
from pathways.models import Pathway
from tests.conftest import wait_for

SESSION_NOTES = "Mr Example in bay 4 said the wait was awful"
PATIENT_STORY = "Mrs Sample waited 41 hours for theatre"


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _chart(measure: Measure, rows) -> None:
    """Give a measure its points and draw its chart, as the worker would."""
    DataPoint.objects.bulk_create(DataPoint(measure=measure, **row) for row in rows)
    Measure.objects.filter(pk=measure.pk).update(data_version=1)
    assert recompute_chart(measure_id=measure.pk)


def _room_story(cast) -> None:
    """The North room's aim, diagram, three measures with their charts, a completed PDSA
    cycle on the time to theatre, and a session whose notes must never leave the room."""
    room = cast.room
    room.pathway = Pathway.objects.create(host=cast.north, name="Hip fracture pathway")
    room.stage = "testing"
    room.save()
    GlobalAim.objects.create(
        room=room, where="Older people with a broken hip at North", why="Delay harms",
        looks_like="Every patient reaches theatre within 36 hours",
    )  # fmt: skip
    primary = room.drivers.create(title="Early senior review")
    idea = room.change_ideas.create(title="Consultant at the front door")
    idea.drivers.add(primary)
    cycle = PDSA.objects.create(
        room=room, ramp=idea.ramps.create(), number=1, objective="Try it for a week",
        starts_on=date(2026, 2, 2), status="complete", decision="adapt",
        learning="Patients were seen sooner when the consultant met the ambulance",
        next_step="Try it on weekends as well",
    )  # fmt: skip
    cycle.measures.add(cast.measure)
    measure = cast.measure  # Time to theatre: XmR, weekly, down is better
    Measure.objects.filter(pk=measure.pk).update(kind="outcome", target=40)
    room.specific_aims.create(what="Theatre within 36 hours", measure=measure, target=36,
                              target_on=date(2027, 3, 31))  # fmt: skip
    weeks = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(20)]
    _chart(measure, [{"period": w, "value": 30 + (n % 4)} for n, w in enumerate(weeks)])
    seen = Measure.objects.create(
        room=room, name="Seen by a consultant within 14 hours", kind="process", unit="%",
        shape="proportion", chart_type="p", frequency="monthly", improvement="increase",
    )  # fmt: skip
    months = [date(2025, m, 1) for m in range(1, 13)]
    _chart(seen, [{"period": m, "value": 100 * (40 + n) / 60, "numerator": 40 + n,
                   "denominator": 60} for n, m in enumerate(months)])  # fmt: skip
    Measure.objects.create(room=room, name="Readmitted within 30 days", kind="balancing",
                           frequency="monthly")  # fmt: skip
    room.sessions.create(held_on=date(2026, 2, 3), notes=SESSION_NOTES, patient_story=PATIENT_STORY)


def _make(cast, django_capture_on_commit_callbacks, by=None) -> BoardPack:
    """Ask for the pack; the task runs once the request commits (in-process here)."""
    with django_capture_on_commit_callbacks(execute=True):
        pack = services.request_board_pack(room=cast.room, by=by or cast.alice)
    pack.refresh_from_db()
    return pack


def test_the_pack_holds_the_aim_diagram_charts_pdsas_and_learning_never_the_notes(
    cast, django_capture_on_commit_callbacks
):
    _room_story(cast)

    pack = _make(cast, django_capture_on_commit_callbacks)

    assert pack.status == "ready", pack.error
    assert (pack.progress, pack.step) == (100, "Ready")
    pdf = pack.file.read()
    assert pdf.startswith(b"%PDF") and pack.size == len(pdf)
    text = _text(pdf)
    for words in [
        "Board pack", "Hip fracture big room", "North Acute NHS Trust", "Hip fracture pathway",
        f"Made on {format_date(timezone.localdate())}", "Testing (PDSA)", "Alice Adams",
        "Older people with a broken hip at North: Every patient reaches theatre within 36 hours.",
        "Theatre within 36 hours: 36 hours by 31 Mar 2027",
        "Primary driver: Early senior review", "Change ideas: Consultant at the front door",
        # The outcome measure: its icons in words, its summary sentence and its n.
        "Outcome measures", "Time to theatre",
        "Variation: Common cause: no significant change.",
        "Assurance: Variation indicates consistently passing the target.",
        "n = 20 weekly points, from 5 Jan 2026 to 18 May 2026.",
        "2 Feb 2026: PDSA 1 started: Consultant at the front door",
        # The process measure: too few points for icons, and the size of its denominators.
        "Process measures", "Seen by a consultant within 14 hours",
        "No icons yet: they show from 13 points in a phase, and this one has 12.",
        "n = 12 monthly points, from Jan 2025 to Dec 2025.",
        "The denominators add up to 720 (60 in December 2025).",
        "Balancing measures", "Readmitted within 30 days", "n = 0: no data yet.",
        "1 PDSA cycle in 1 ramp: 0 under way, 1 complete (1 adapted).",
        "PDSA 1: Consultant at the front door", "Adapt",
        "What was learnt: Patients were seen sooner when the consultant met the ambulance",
        "Next step: Try it on weekends as well",
    ]:  # fmt: skip
        assert words in text, words
    assert SESSION_NOTES not in text and PATIENT_STORY not in text
    assert "Mr Example" not in text and "Mrs Sample" not in text


def test_the_pdf_is_titled_in_british_english_with_bookmarks_and_described_images(
    cast, django_capture_on_commit_callbacks
):
    _room_story(cast)
    pdf = _make(cast, django_capture_on_commit_callbacks).file.read()

    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert reader.metadata.title.startswith("Board pack: Hip fracture big room, North Acute")
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root
    bookmarks = [item.title for item in reader.outline if not isinstance(item, list)]
    assert {"Aim", "Driver diagram", "Measures", "PDSA cycles", "Learning"} <= set(bookmarks)
    images = sum(len(page.images) for page in reader.pages)
    assert images == 3  # the driver diagram and the two charts with data


def test_a_coach_makes_the_pack_from_its_page_and_downloads_it(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    room = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert reverse("board_pack", args=[cast.room.pk]) in room
    url = reverse("board_pack", args=[cast.room.pk])
    page = client.get(url).content.decode()
    assert "Make the board pack" in page and "no session notes or patient stories" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"] == url

    pack = BoardPack.objects.get(room=cast.room)
    assert pack.status == "ready" and pack.requested_by == cast.alice
    page = client.get(url).content.decode()
    assert "Download the board pack" in page and "asked for by Alice Adams" in page
    download = client.get(reverse("board_pack_download", args=[pack.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    made_on = timezone.localdate().isoformat()
    assert download["Content-Disposition"] == (
        f'attachment; filename="board-pack-hip-fracture-big-room-{made_on}.pdf"'
    )
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_a_qi_lead_of_the_host_organisation_makes_and_downloads_it(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.quinn)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("board_pack", args=[cast.room.pk]))
    pack = BoardPack.objects.get(room=cast.room)
    assert pack.status == "ready" and pack.requested_by == cast.quinn
    assert client.get(reverse("board_pack_download", args=[pack.pk])).status_code == 200


@pytest.mark.parametrize("who", ["bob", "dana", "vera", "ada"])
def test_the_rooms_other_readers_get_403_and_no_pack(client, cast, who):
    """Members and viewers read the room but do not answer for it; an academy admin reads
    its metadata, not its working (DESIGN: not session notes unless a member)."""
    pack = BoardPack.objects.create(room=cast.room, status="ready")
    client.force_login(getattr(cast, who))
    room = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert reverse("board_pack", args=[cast.room.pk]) not in room
    assert client.get(reverse("board_pack", args=[cast.room.pk])).status_code == 403
    assert client.post(reverse("board_pack", args=[cast.room.pk])).status_code == 403
    assert client.get(reverse("board_pack_status", args=[pack.pk])).status_code == 403
    assert client.get(reverse("board_pack_download", args=[pack.pk])).status_code == 403
    assert BoardPack.objects.count() == 1


def test_outsiders_get_404_and_a_qi_lead_never_gets_another_organisations_pack(client, cast):
    south = BoardPack.objects.create(room=cast.other_room, status="ready")
    client.force_login(cast.quinn)  # QI lead of North
    assert client.get(reverse("board_pack", args=[cast.other_room.pk])).status_code == 404
    assert client.post(reverse("board_pack", args=[cast.other_room.pk])).status_code == 404
    assert client.get(reverse("board_pack_status", args=[south.pk])).status_code == 404
    assert client.get(reverse("board_pack_download", args=[south.pk])).status_code == 404
    north = BoardPack.objects.create(room=cast.room, status="ready")
    client.force_login(cast.charlie)
    assert client.get(reverse("board_pack", args=[cast.room.pk])).status_code == 404
    assert client.get(reverse("board_pack_status", args=[north.pk])).status_code == 404
    assert client.get(reverse("board_pack_download", args=[north.pk])).status_code == 404
    assert BoardPack.objects.count() == 2


def test_a_second_request_joins_the_pack_already_on_its_way(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as sent:
        first = services.request_board_pack(room=cast.room, by=cast.alice)
        second = services.request_board_pack(room=cast.room, by=cast.quinn)
    assert first.pk == second.pk and len(sent) == 1
    assert BoardPack.objects.filter(room=cast.room).count() == 1


def test_a_pack_left_waiting_while_the_queue_was_away_can_be_asked_for_again(
    client, cast, django_capture_on_commit_callbacks
):
    pack = BoardPack.objects.create(room=cast.room, requested_by=cast.alice)
    client.force_login(cast.alice)
    url = reverse("board_pack", args=[cast.room.pk])
    assert "Ask for it again" not in client.get(url).content.decode()
    BoardPack.objects.filter(pk=pack.pk).update(updated_at=timezone.now() - timedelta(minutes=2))
    assert "It has not moved on for a while" in client.get(url).content.decode()

    with django_capture_on_commit_callbacks(execute=True) as sent:
        client.post(url)
    assert len(sent) == 1
    assert BoardPack.objects.get().status == "ready"


def test_a_pack_whose_worker_died_is_failed_with_words_and_a_new_one_started(
    cast, django_capture_on_commit_callbacks
):
    dead = BoardPack.objects.create(room=cast.room, status="working", progress=40)
    BoardPack.objects.filter(pk=dead.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    pack = _make(cast, django_capture_on_commit_callbacks)

    assert pack.pk != dead.pk and pack.status == "ready"
    dead.refresh_from_db()
    assert dead.status == "failed"
    assert dead.error == "Making the board pack stopped before it finished. Try again."


def test_a_duplicate_or_late_task_does_nothing(cast, django_capture_on_commit_callbacks):
    pack = _make(cast, django_capture_on_commit_callbacks)
    assert services.build_board_pack(pack_id=pack.pk) is False
    assert BoardPack.objects.get(pk=pack.pk).file.name == pack.file.name


def test_a_failure_is_marked_failed_with_words_the_page_shows(
    client, cast, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.FCA_BROWSER_PATH = str(tmp_path / "no-chromium-here")
    _chart(cast.measure, [{"period": date(2026, 1, 5), "value": 30}])

    pack = _make(cast, django_capture_on_commit_callbacks)

    assert pack.status == "failed" and not pack.file
    assert pack.error.startswith("The charts could not be drawn: the server has no browser")
    client.force_login(cast.alice)
    page = client.get(reverse("board_pack", args=[cast.room.pk])).content.decode()
    assert "The board pack could not be made" in page and pack.error in page
    assert "Make a new board pack" in page
    assert client.get(reverse("board_pack_download", args=[pack.pk])).status_code == 404


def test_any_other_failure_is_marked_failed_with_plain_words(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    from bigrooms import boardpack

    def broken(*args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(boardpack, "write_pdf", broken)
    pack = _make(cast, django_capture_on_commit_callbacks)
    assert pack.status == "failed"
    assert pack.error == (
        "The board pack could not be made. Try again, or tell your system administrator if "
        "it happens again."
    )


def test_the_page_shows_progress_and_polls_until_the_pack_is_ready(client, cast):
    pack = BoardPack.objects.create(
        room=cast.room, status="working", progress=40,
        step="Drawing the chart of Time to theatre (1 of 2)",
    )  # fmt: skip
    client.force_login(cast.alice)
    page = client.get(reverse("board_pack", args=[cast.room.pk])).content.decode()
    assert (
        '<progress class="nhsuk-u-width-full" id="board-pack-progress" max="100" value="40">'
        in page
    )
    assert "Drawing the chart of Time to theatre (1 of 2)" in page
    status = reverse("board_pack_status", args=[pack.pk])
    assert f'hx-get="{status}" hx-trigger="every 2s"' in page
    assert 'role="status" aria-live="polite"' in page
    assert "Make a new board pack" not in page

    BoardPack.objects.filter(pk=pack.pk).update(status="ready", progress=100, file="x.pdf")
    fragment = client.get(status, headers={"HX-Request": "true"}).content.decode()
    assert "The board pack is ready to download." in fragment  # said by the live region
    assert "hx-trigger" not in fragment
    assert reverse("board_pack_download", args=[pack.pk]) in fragment


def test_a_newer_pack_replaces_the_older_file_and_keeps_the_record(
    cast, django_capture_on_commit_callbacks
):
    first = _make(cast, django_capture_on_commit_callbacks)
    second = _make(cast, django_capture_on_commit_callbacks, by=cast.quinn)
    first.refresh_from_db()
    assert second.status == "ready" and second.file
    assert first.status == "ready" and not first.file
    assert BoardPack.objects.filter(room=cast.room).count() == 2


def test_the_builder_works_from_plain_values_and_without_a_unicode_font(monkeypatch):
    """The PDF is written from plain values (no database); on a machine without Liberation
    or DejaVu fonts it falls back to Helvetica, with look-alikes for what Latin-1 lacks."""
    from bigrooms import boardpack

    monkeypatch.setattr(boardpack, "FONTS", (("/nowhere/regular.ttf", "/nowhere/bold.ttf"),))
    contents = boardpack.Contents(
        room="St Ōmer’s “frailty” room", organisation="West Health Board", pathway="",
        made_on=date(2026, 11, 26), stage="Themes", status="Active",
        charts=(boardpack.chart_part(name="Falls – monthly", kind="Outcome", frequency="monthly",
                                     about="Monthly", result={}, figure={}),),
    )  # fmt: skip
    text = _text(boardpack.build(contents, browser_path="/nowhere/chromium"))
    assert 'St ?mer\'s "frailty" room' in text and "Falls - monthly" in text
    assert "No care pathway named" in text and "n = 0: no data yet." in text
    assert "The global aim is not written yet." in text and "No PDSA cycles yet." in text


@pytest.mark.postgres_only
def test_the_pack_is_made_by_the_live_worker_through_the_queue(client, cast, live_worker):
    _chart(cast.measure, [{"period": date(2026, 1, 5) + timedelta(weeks=n), "value": 30 + n % 3}
                          for n in range(15)])  # fmt: skip
    client.force_login(cast.alice)
    assert client.post(reverse("board_pack", args=[cast.room.pk])).status_code == 302

    pack = wait_for(
        lambda: BoardPack.objects.filter(room=cast.room, status__in=["ready", "failed"]).first(),
        timeout=120,
        message="the worker never finished the board pack",
    )
    assert pack.status == "ready", pack.error
    download = client.get(reverse("board_pack_download", args=[pack.pk]))
    text = _text(b"".join(download.streaming_content))
    assert "Time to theatre" in text and "n = 15 weekly points" in text
