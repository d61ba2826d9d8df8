"""Bad input at scale: one corpus of awkward files (tests/upload_corpus.py) pushed through
every upload a person or a feed can make: a measure's data, a pathway's episodes (the page
and the API), and an academy's enrolment list.

Each file is loaded with the right values, or refused with a reason that names what is
wrong with the file; never a server error, never half of it saved; and the zip bombs and
oversized files are refused within a bounded amount of memory."""

import html
import io
import re
import resource
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from fca.models import Coach, Cohort, Enrolment, User
from fca.tokens import create_token
from measures.models import DataPoint, MeasureUpload
from pathways.models import Episode, EpisodeUpload, Pathway
from tests import upload_corpus as corpus

MEMORY_BOUND = 100 * 1024 * 1024

# The same awkward characters in every kind of file: Windows-1252 has all of them.
ROWS = {
    "measure": [
        ["Week commencing", "Hours", "Notes"],
        ["06/01/2025", "30.5", "Zoë – £5"],
        ["13/01/2025", "32", "St Mary’s"],
    ],
    "episodes": [
        ["episode_id", "arrived_at", "departed_at", "destination"],
        ["A1", "2026-07-01T09:30", "2026-07-03T11:00", "Zoë’s – £ ward"],
        ["A2", "01/07/2026 10:00", "", "Home"],
    ],
    "enrolment": [
        ["Name", "Email", "Organisation", "ODS code", "Coach type"],
        ["Zoë O’Brien – £", "zoe@nhs.net", "North Acute NHS Trust", "RXN", "Clinical"],
        ["Sam Smith", "sam@nhs.net", "", "RYS", "independent"],
    ],
}
# One cell of each a formula: (row, column), the formula, the result Excel saves.
FORMULAS = {
    "measure": ((1, 1), "29+1.5", 30.5),
    "episodes": ((1, 2), 'TEXT(B2+2.0625,"yyyy-mm-ddThh:mm")', "2026-07-03T11:00"),
    "enrolment": ((1, 1), 'LOWER("ZOE@NHS.NET")', "zoe@nhs.net"),
}
LIMITS = {"measure": 10 * 1024 * 1024, "enrolment": 5 * 1024 * 1024, "episodes": 3_500_000}


def _oversized(kind: str) -> bytes:
    body = corpus.text(ROWS[kind], encoding="utf-8")
    return body + b"," * (LIMITS[kind] + 1 - len(body))


def _just_under(kind: str) -> bytes:
    """Up to the limit, in rows of half a million empty cells."""
    body = corpus.text(ROWS[kind], encoding="utf-8")
    limit = 3_000_000 if kind == "episodes" else LIMITS[kind]
    line = b"," * 499_998 + b"\r\n"
    return body + line * ((limit - len(body)) // len(line))


def _long_line(kind: str) -> bytes:
    return corpus.text(ROWS[kind], encoding="utf-8") + b"," * 2_000_000 + b"\r\n"


@cache
def _bomb(kind: str) -> bytes:
    return corpus.zip_bomb_xlsx(ROWS[kind])


def _formula(kind: str, saved: bool) -> bytes:
    at, expression, result = FORMULAS[kind]
    return corpus.formula_xlsx(
        ROWS[kind], at=at, expression=expression, saved=result if saved else None
    )


LOADED = "loaded"
UNREADABLE = "This file could not be read as an Excel workbook (.xlsx): save it again from Excel"
ENTITIES = "The workbook holds XML entity declarations, which Excel never writes, so it is not read"
NOT_TEXT = {
    "measure": "This is not a text file: upload a CSV or an Excel workbook",
    "enrolment": "This is not a text file: upload a CSV or an Excel workbook",
    "episodes": "The file holds binary data, not text: upload a CSV or .xlsx file",
}
UTF16 = "The file is in UTF-16: save it as “CSV UTF-8” from your spreadsheet and upload it again"


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    make: object  # kind -> bytes
    # what a person is told: LOADED, or words of the refusal (one for all, or by kind)
    expect: object
    heavy: bool = False  # its memory is measured
    cell: bool = False  # loaded, but one cell refused by name


def _by_kind(**words):
    return lambda kind, api=False: words.get(f"{kind}_api" if api else kind, words.get(kind))


CASES = [
    Case("UTF-8", "data.csv", lambda k: corpus.text(ROWS[k], encoding="utf-8"), LOADED),
    Case("UTF-8 with a BOM", "data.csv",
         lambda k: corpus.text(ROWS[k], encoding="utf-8", bom=True), LOADED),
    Case("Windows-1252", "data.csv", lambda k: corpus.text(ROWS[k], encoding="cp1252"), LOADED),
    Case("UTF-16 LE with a BOM", "data.txt",
         lambda k: corpus.text(ROWS[k], encoding="utf-16-le", delimiter="\t"), UTF16),
    Case("UTF-16 BE with a BOM", "data.csv",
         lambda k: corpus.text(ROWS[k], encoding="utf-16-be"), UTF16),
    Case("xlsx with a formula and its saved result", "data.xlsx",
         lambda k: _formula(k, saved=True), LOADED),
    Case("xlsx with a formula never calculated", "data.xlsx",
         lambda k: _formula(k, saved=False), "is a formula with no saved result", cell=True),
    Case("xlsx zip bomb (150 MB of sheet in 150 kB)", "data.xlsx", _bomb,
         _by_kind(measure="The workbook is too large once unpacked (over 100 MB)",
                  enrolment="The workbook is too large once unpacked (over 100 MB)",
                  episodes="The workbook is packed too tightly to be a spreadsheet "
                  "(xl/worksheets/sheet1.xml swells"), heavy=True),
    Case("xlsx zip bomb that declares its sheet small", "data.xlsx",
         lambda k: corpus.lying_zip_bomb(_bomb(k)), UNREADABLE, heavy=True),
    Case("xlsx claiming a million rows of 16,384 columns", "data.xlsx",
         lambda k: corpus.dimension_bomb_xlsx(ROWS[k]), LOADED, heavy=True),
    Case("a file up to the size limit in rows of half a million empty cells", "data.csv",
         _just_under, LOADED, heavy=True),
    Case("a line of two million empty cells", "data.csv", _long_line,
         _by_kind(measure="Line 4 of the file is longer than 1,000,000 characters: no row",
                  enrolment="Line 4 of the file is longer than 1,000,000 characters: no row",
                  episodes="Line 4 of the file is longer than 1,000,000 characters: no "
                  "episode is that long"), heavy=True),
    Case("a file over the size limit", "data.csv", _oversized,
         _by_kind(measure="The file is larger than 10 MB: upload a smaller one",
                  enrolment="The file is 5.0 MB: a list of coaches is at most 5 MB",
                  episodes="The file is 3.5 MB: the most is 3 MB"), heavy=True),
    Case("xlsx billion laughs in the sheet", "data.xlsx",
         lambda k: corpus.entity_xlsx(ROWS[k], doctype=corpus.LAUGHS, entity="lol9",
                                      part="sheet"), ENTITIES, heavy=True),
    Case("xlsx billion laughs in the shared strings", "data.xlsx",
         lambda k: corpus.entity_xlsx(ROWS[k], doctype=corpus.LAUGHS, entity="lol9",
                                      part="shared"), ENTITIES, heavy=True),
    Case("xlsx external entity (file:///etc/passwd) in the sheet", "data.xlsx",
         lambda k: corpus.entity_xlsx(ROWS[k], doctype=corpus.EXTERNAL, entity="xxe",
                                      part="sheet"), ENTITIES),
    Case("xlsx external entity in the shared strings", "data.xlsx",
         lambda k: corpus.entity_xlsx(ROWS[k], doctype=corpus.EXTERNAL, entity="xxe",
                                      part="shared"), ENTITIES),
    Case("xlsx external entity in the workbook part", "data.xlsx",
         lambda k: corpus.entity_xlsx(ROWS[k], doctype=corpus.EXTERNAL, entity="xxe",
                                      part="workbook"), ENTITIES),
    Case("a Linux program renamed .csv", "data.csv", lambda k: corpus.ELF,
         lambda kind, api=False: NOT_TEXT[kind]),
    Case("a Windows program renamed .csv", "data.csv", lambda k: corpus.PE,
         lambda kind, api=False: NOT_TEXT[kind]),
    Case("a Linux program renamed .xlsx", "data.xlsx", lambda k: corpus.ELF, UNREADABLE),
    Case("a Windows program renamed .xlsx", "data.xlsx", lambda k: corpus.PE, UNREADABLE),
    Case("an empty file", "data.csv", lambda k: b"",
         _by_kind(measure="The file is empty", enrolment="The file is empty",
                  episodes="The file is empty", episodes_api="The submitted file is empty")),
    Case("a truncated xlsx", "data.xlsx", lambda k: corpus.truncated_xlsx(ROWS[k]), UNREADABLE),
]  # fmt: skip


def _expected(case: Case, kind: str, api: bool = False) -> str:
    return case.expect(kind, api) if callable(case.expect) else case.expect


@dataclass
class Outcome:
    status: str  # loaded, refused, or cell (read, but a cell refused by name)
    words: str = ""  # what the person is shown
    values: list = field(default_factory=list)


def _shown(response) -> str:
    """The page's text as a person reads it (entities unescaped, tags dropped)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


# --- The entry points ----------------------------------------------------------------------


def upload_measure_data(client, cast, filename, data, **_) -> Outcome:
    client.force_login(cast.alice)
    response = client.post(reverse("upload_start", args=[cast.measure.pk]),
                           {"file": SimpleUploadedFile(filename, data)})  # fmt: skip
    if response.status_code == 400:
        assert not MeasureUpload.objects.exists()
        return Outcome("refused", _shown(response))
    assert response.status_code == 302, response.status_code
    review = response["Location"]
    preview = _shown(client.get(review))
    columns = {"header_row": "1", "date_column": "0", "value_column": "1"}
    response = client.post(review, {**columns, "load": "1"})
    if response.status_code == 400:
        return Outcome("cell", _shown(response))
    assert response.status_code == 302
    values = list(cast.measure.points.order_by("period").values_list("value", flat=True))
    return Outcome(LOADED, preview, values)


def _episodes_outcome(client, upload, django_capture_on_commit_callbacks) -> Outcome:
    upload.refresh_from_db()
    page = _shown(client.get(reverse("episode_upload", args=[upload.pk])))
    if upload.status == "refused":
        assert upload.reason in page and not upload.file  # shown, and the file gone
        return Outcome("refused", upload.reason)
    assert upload.status == "checked", (upload.status, upload.reason)
    if upload.report["problem_count"]:
        return Outcome("cell", page)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("episode_upload_confirm", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.status == "loaded", upload.reason
    values = list(Episode.objects.order_by("episode_id")
                  .values_list("episode_id", "departed_at", "destination"))  # fmt: skip
    return Outcome(LOADED, page, values)


def upload_episodes_page(client, cast, filename, data, *, pathway, capture) -> Outcome:
    client.force_login(cast.dana)
    with capture(execute=True):
        response = client.post(reverse("episode_upload_new", args=[pathway.pk]),
                               {"file": SimpleUploadedFile(filename, data)})  # fmt: skip
    if response.status_code == 400:
        assert not EpisodeUpload.objects.exists()
        return Outcome("refused", _shown(response))
    assert response.status_code == 302
    return _episodes_outcome(client, EpisodeUpload.objects.get(), capture)


def upload_episodes_api(client, cast, filename, data, *, pathway, capture) -> Outcome:
    _, token = create_token(user=cast.quinn, name="Warehouse", kind="integration",
                            pathway=pathway)  # fmt: skip
    feed = APIClient()
    feed.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with capture(execute=True):
        response = feed.post(reverse("api_send_episodes", args=[pathway.pk]),
                             {"file": SimpleUploadedFile(filename, data)}, format="multipart")  # fmt: skip
    if response.status_code == 400:
        assert not EpisodeUpload.objects.exists()
        return Outcome("refused", " ".join(response.json()["file"]))
    assert response.status_code == 202, response.content
    body = feed.get(response.json()["url"]).json()
    if body["status"] == "refused":
        assert not EpisodeUpload.objects.get().file
        return Outcome("refused", body["reason"])
    client.force_login(cast.dana)  # a person looks at what the feed sent, and loads it
    return _episodes_outcome(client, EpisodeUpload.objects.get(), capture)


def upload_enrolment_list(client, cast, filename, data, **_) -> Outcome:
    client.force_login(cast.ada)
    cohort = Cohort.objects.create(name="Cohort 14", academy="Sheffield FCA",
                                   starts_on=datetime(2026, 9, 1).date())  # fmt: skip
    users = User.objects.count()
    response = client.post(reverse("enrolment_new", args=[cohort.pk]),
                           {"file": SimpleUploadedFile(filename, data)})  # fmt: skip
    if response.status_code == 400:
        assert not Enrolment.objects.exists()
        return Outcome("refused", _shown(response))
    assert response.status_code == 302
    preview = _shown(client.get(response["Location"]))
    client.post(response["Location"])  # confirm: refused while a row has a problem
    if Enrolment.objects.get().problem_rows:
        assert User.objects.count() == users and not Coach.objects.exists()
        return Outcome("cell", preview)
    names = sorted(Coach.objects.values_list("user__full_name", flat=True))
    return Outcome(LOADED, preview, names)


ENTRY_POINTS = {
    "measure data": ("measure", upload_measure_data),
    "episodes page": ("episodes", upload_episodes_page),
    "episodes API": ("episodes", upload_episodes_api),
    "enrolment list": ("enrolment", upload_enrolment_list),
}

A1_DEPARTED = datetime(2026, 7, 3, 10, 0, tzinfo=UTC)  # 11:00 in London, summer time
LOADED_VALUES = {
    "measure": [30.5, 32.0],
    "episodes": [("A1", A1_DEPARTED, "Zoë’s – £ ward"), ("A2", None, "Home")],
    "enrolment": ["Sam Smith", "Zoë O’Brien – £"],
}
SHOWN = {"measure": "Zoë – £5", "episodes": "Load 2 episodes", "enrolment": "Zoë O’Brien – £"}


@pytest.fixture
def pathway(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.FCA_MAX_EPISODE_FILE_MB = 3  # the limit is a setting: 3 MB keeps the test small
    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture")
    cast.room.pathway = pathway
    cast.room.save()
    return pathway


def _run_measured(upload, *args, **kwargs) -> tuple[Outcome, int, int]:
    """The outcome, the peak of Python's heap during it, and the growth of the process's
    peak resident memory (kB on Linux): together they bound what the upload took. A
    refused workbook goes through first, so that imports and templates are not counted."""
    client, cast, *_ = args
    upload(client, cast, "warm-up.xlsx", corpus.truncated_xlsx([["x"]]), **kwargs)
    EpisodeUpload.objects.all().delete()
    Cohort.objects.all().delete()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    try:
        outcome = upload(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    return outcome, peak, rss_growth


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_file_is_loaded_right_or_refused_with_its_reason(
    client, cast, pathway, django_capture_on_commit_callbacks, case, entry
):
    kind, upload = ENTRY_POINTS[entry]
    data = case.make(kind)
    if case.name == "a file over the size limit":
        assert len(data) > LIMITS[kind]
    args = (client, cast, case.filename, data)
    kwargs = {"pathway": pathway, "capture": django_capture_on_commit_callbacks}
    if case.heavy:
        outcome, heap, rss = _run_measured(upload, *args, **kwargs)
        print(f"{case.name} / {entry}: heap peak {heap / 2**20:.1f} MB, "
              f"RSS peak growth {rss / 2**20:.1f} MB")  # fmt: skip
        assert heap < MEMORY_BOUND, f"{heap / 2**20:.0f} MB of Python heap"
        assert rss < MEMORY_BOUND, f"the process grew by {rss / 2**20:.0f} MB"
    else:
        outcome = upload(*args, **kwargs)

    expected = _expected(case, kind, api=entry == "episodes API")
    assert "root:" not in outcome.words  # nothing of /etc/passwd, anywhere
    if expected == LOADED:
        assert outcome.status == LOADED, outcome.words[:3000]
        assert outcome.values == LOADED_VALUES[kind]
        assert SHOWN[kind] in outcome.words
        return
    if case.cell:
        assert outcome.status == "cell", outcome
        _, formula, _ = FORMULAS[kind]
        assert f"“={formula}” {expected}" in outcome.words, outcome.words[:3000]
    else:
        assert outcome.status == "refused", outcome
        assert expected in outcome.words, outcome.words[:3000]
    # Nothing of a refused file is kept.
    assert not DataPoint.objects.exists() and not Episode.objects.exists()
    assert not Coach.objects.exists()


def test_a_formula_never_calculated_is_named_with_its_row_and_column(
    client, cast, pathway, django_capture_on_commit_callbacks
):
    kwargs = {"pathway": pathway, "capture": django_capture_on_commit_callbacks}
    measure = upload_measure_data(client, cast, "data.xlsx", _formula("measure", False))
    assert (
        "Row 2, column B (Hours): “=29+1.5” is a formula with no saved result: open the file "
        "in Excel, save it, and upload it again" in measure.words
    )
    episodes = upload_episodes_page(client, cast, "data.xlsx", _formula("episodes", False),
                                    **kwargs)  # fmt: skip
    upload = EpisodeUpload.objects.get()
    assert upload.report["problems"] == [
        [2, "departed_at", f"“={FORMULAS['episodes'][1]}” is a formula with no saved result: "
         "open the file in Excel, save it, and upload it again"]
    ]  # fmt: skip
    assert "Load the 1 valid episode" in episodes.words or upload.report["valid"] == 1
    enrolment = upload_enrolment_list(client, cast, "data.xlsx", _formula("enrolment", False))
    assert 'The email “=LOWER("ZOE@NHS.NET")” is a formula with no saved result' in (
        enrolment.words
    )


def test_an_unused_column_of_formulas_never_calculated_does_not_stop_a_load(client, cast):
    rows = [row + [cell] for row, cell in zip(ROWS["measure"], ["Double", "", ""], strict=True)]
    rows[1][3] = corpus.Formula("B2*2", None)
    rows[2][3] = corpus.Formula("B3*2", None)
    outcome = upload_measure_data(client, cast, "data.xlsx", corpus.xlsx(rows))
    assert outcome.status == LOADED and outcome.values == [30.5, 32.0]
    assert "=B2*2" in outcome.words  # the preview shows the formula, not an empty cell


# --- Photos of flipcharts: the room's other upload -------------------------------------------

PHOTO_CASES = [
    ("a real PNG", "flipchart.png", lambda: corpus.png(), None),
    ("an empty file", "flipchart.png", lambda: b"", "The file is empty"),
    ("a file over the size limit", "flipchart.png",
     lambda: corpus.png() + b"\x00" * (1024 * 1024), "The photo is larger than 1 MB"),
    ("a PNG claiming 2.5 billion pixels", "flipchart.png", lambda: corpus.png(50_000, 50_000),
     "The file is not a photo: upload a JPEG or PNG"),
    ("a Linux program renamed .png", "flipchart.png", lambda: corpus.ELF,
     "The file is not a photo: upload a JPEG or PNG"),
    ("a Windows program renamed .jpg", "flipchart.jpg", lambda: corpus.PE,
     "The file is not a photo: upload a JPEG or PNG"),
    ("an SVG with a script renamed .png", "flipchart.png", lambda: corpus.SVG_WITH_SCRIPT,
     "The file is not a photo: upload a JPEG or PNG"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "filename", "make", "words"), PHOTO_CASES,
                         ids=[case[0] for case in PHOTO_CASES])  # fmt: skip
def test_a_photo_is_kept_only_when_it_is_a_real_picture(
    client, cast, settings, name, filename, make, words
):
    from bigrooms.models import RoomPhoto

    settings.FCA_MAX_PHOTO_BYTES = 1024 * 1024
    client.force_login(cast.alice)
    data = make()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    response = client.post(
        reverse("room_build", args=[cast.room.pk]),
        {"form": "photo", "caption": "Post-it map", "image": SimpleUploadedFile(filename, data)},
    )
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before < MEMORY_BOUND
    if words is None:
        assert response.status_code == 302
        photo = RoomPhoto.objects.get()
        assert photo.image.name.endswith(".png")
        # Drawn again without the camera's metadata: the same picture, pixel for pixel.
        with (
            Image.open(io.BytesIO(photo.image.read())) as kept,
            Image.open(io.BytesIO(data)) as sent,
        ):
            assert kept.tobytes() == sent.tobytes()
        return
    assert words in _shown(response)
    assert not RoomPhoto.objects.exists()


def test_a_sheet_is_read_as_wide_and_as_long_as_its_data_whatever_it_claims():
    from fca.spreadsheets import read_xlsx

    for data in (corpus.xlsx(ROWS["measure"]), corpus.dimension_bomb_xlsx(ROWS["measure"])):
        table, _ = read_xlsx(data)
        assert table.rows == ROWS["measure"]
