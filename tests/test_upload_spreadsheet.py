"""Uploading a spreadsheet: any layout, columns picked by the person, every problem shown
with its row and column before anything is saved."""

import io
import re
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from measures.models import ChartResult, DataPoint, Measure, MeasureUpload


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


def _upload(client, measure, name, content):
    return client.post(
        reverse("upload_start", args=[measure.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


def _review_url(response):
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


MDC_STYLE = (
    "Time to theatre (hours),,\r\n"
    "Exported from the hip fracture database,,\r\n"
    "Week commencing,Hours,Notes\r\n"
    "06/01/2025,30.5,\r\n"
    "13/01/2025,32,late list\r\n"
    "20/01/2025,29.25,\r\n"
).encode("cp1252")


def test_a_csv_with_a_title_above_its_headings_loads_after_choosing_columns(
    coach, cast, django_capture_on_commit_callbacks
):
    review = _review_url(_upload(coach, cast.measure, "theatre.csv", MDC_STYLE))
    page = coach.get(review).content.decode()
    assert "Choose the columns" in page
    assert 'value="2"' in page  # the heading row guessed: row 3 holds the first dates
    check = coach.post(
        review, {"header_row": "3", "date_column": "0", "value_column": "1", "check": "1"}
    )
    assert "3 new values, 0 changed values and 0 unchanged." in check.content.decode()
    assert not DataPoint.objects.exists()  # checking saves nothing
    with django_capture_on_commit_callbacks(execute=True):
        loaded = coach.post(
            review, {"header_row": "3", "date_column": "0", "value_column": "1", "load": "1"}
        )
    assert loaded.status_code == 302
    assert list(cast.measure.points.values_list("value", flat=True)) == [30.5, 32, 29.25]
    assert not MeasureUpload.objects.exists()
    assert ChartResult.objects.get(measure=cast.measure).result["n"] == 3

    # The same file again changes nothing.
    again = _review_url(_upload(coach, cast.measure, "theatre.csv", MDC_STYLE))
    check = coach.post(
        again, {"header_row": "3", "date_column": "0", "value_column": "1", "check": "1"}
    )
    assert "0 new values, 0 changed values and 3 unchanged." in check.content.decode()
    version = Measure.objects.get(pk=cast.measure.pk).data_version
    coach.post(again, {"header_row": "3", "date_column": "0", "value_column": "1", "load": "1"})
    assert Measure.objects.get(pk=cast.measure.pk).data_version == version


def test_an_excel_workbook_with_dates_and_a_proportion_loads(coach, cast):
    measure = Measure.objects.create(
        room=cast.room, name="Screened", shape="proportion", frequency="monthly", chart_type="p"
    )
    book = Workbook()
    sheet = book.active
    sheet.append(["Month", "Screened", "Eligible", "%"])
    sheet.append([datetime(2025, 1, 1), 45, 50, "=B2/C2"])
    sheet.append([datetime(2025, 2, 1), 40, 50, "=B3/C3"])
    data = io.BytesIO()
    book.save(data)
    review = _review_url(_upload(coach, measure, "screening.xlsx", data.getvalue()))
    coach.post(
        review,
        {"header_row": "1", "date_column": "0", "numerator_column": "1",
         "denominator_column": "2", "load": "1"},
    )  # fmt: skip
    assert list(measure.points.values_list("numerator", "denominator", "value")) == [
        (45, 50, 90.0),
        (40, 50, 80.0),
    ]


def test_every_bad_row_is_named_with_its_column_and_nothing_is_saved(coach, cast):
    content = (
        b"Week,Hours\n06/01/2025,30\n13/01/2025,lots\n31/02/2025,29\n27/01/2025,\n"
        b"20/01/2025,31\n21/01/2025,32\n"
    )
    review = _review_url(_upload(coach, cast.measure, "bad.csv", content))
    response = coach.post(
        review, {"header_row": "1", "date_column": "0", "value_column": "1", "load": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "4 rows cannot be loaded" in page
    assert "Row 3, column B (Hours): “lots” is not a number" in page
    assert "Row 4, column A (Week): “31/02/2025” is not a real date" in page
    assert "Row 5, column B (Hours): the value is missing" in page
    assert "Row 7 is for the week starting 20 Jan 2025, as row 6 is" in page
    assert not DataPoint.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "The file is empty"),
        ("data.pdf", b"%PDF-1.4", "Upload a CSV file or an Excel workbook (.xlsx)"),
        ("old.xls", b"\xd0\xcf\x11\xe0", "Save the file as an Excel workbook (.xlsx) or as CSV"),
        ("wide.csv", "Week,Hours\n".encode("utf-16"), "The file is in UTF-16"),
        ("fake.xlsx", b"PK\x03\x04not really a zip", "could not be read as an Excel workbook"),
        ("program.csv", b"MZ\x90\x00\x03\x00\x00\x00", "This is not a text file"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_saying_why(coach, cast, name, content, message):
    response = _upload(coach, cast.measure, name, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MeasureUpload.objects.exists()


def test_a_member_without_the_data_right_cannot_upload(client, cast):
    client.force_login(cast.bob)
    assert _upload(client, cast.measure, "theatre.csv", MDC_STYLE).status_code == 403
    assert (
        re.search(
            "Upload", client.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
        )
        is None
    )


def test_the_person_picks_the_sheet_of_a_workbook(coach, cast):
    book = Workbook()
    book.active.title = "Read me"
    book.active.append(["This workbook holds the theatre times on the Data sheet"])
    data_sheet = book.create_sheet("Data")
    data_sheet.append(["Week", "Hours"])
    data_sheet.append([datetime(2025, 1, 6), 30])
    data_sheet.append([datetime(2025, 1, 13), 31])
    content = io.BytesIO()
    book.save(content)
    review = _review_url(_upload(coach, cast.measure, "mdc-tool.xlsx", content.getvalue()))
    assert "sheet “Read me”" in coach.get(review).content.decode()
    coach.post(review, {"sheet": "Data"})
    assert "sheet “Data”" in coach.get(review).content.decode()
    coach.post(review, {"header_row": "1", "date_column": "0", "value_column": "1", "load": "1"})
    assert cast.measure.points.count() == 2


def test_uploads_nobody_loaded_are_let_go_after_a_day(cast):
    from datetime import timedelta

    from django.utils import timezone

    from measures.services import delete_old_uploads

    old = cast.measure.uploads.create(filename="old.csv", rows=[["a"]])
    MeasureUpload.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    cast.measure.uploads.create(filename="new.csv", rows=[["a"]])
    assert delete_old_uploads() == 1
    assert list(MeasureUpload.objects.values_list("filename", flat=True)) == ["new.csv"]


def test_dates_that_could_be_month_first_are_questioned_with_the_span_in_words(coach, cast):
    # Every day is 12 or less: 03/02/2025 is 3 Feb to a UK file, 2 Mar to a US one.
    content = b"Week,Hours\r\n06/01/2025,30\r\n03/02/2025,31\r\n03/03/2025,29\r\n"
    review = _review_url(_upload(coach, cast.measure, "maybe-us.csv", content))
    check = coach.post(
        review, {"header_row": "1", "date_column": "0", "value_column": "1", "check": "1"}
    ).content.decode()
    assert "From the week starting 6 Jan 2025 to the week starting 3 Mar 2025." in check
    assert "Day or month first?" in check
    assert "“06/01/2025” is 6 Jan 2025. If they were written month first" in check
    loaded = coach.post(
        review, {"header_row": "1", "date_column": "0", "value_column": "1", "load": "1"},
        follow=True,
    )  # fmt: skip
    assert "Check the dates: each was read day first" in loaded.content.decode()


def test_dates_that_settle_it_or_cannot_swap_are_not_questioned():
    from fca.dates import swappable_example

    assert swappable_example(["06/01/2025", "13/01/2025"]) is None  # 13 is no month
    assert swappable_example(["01/01/2025", "02/02/2025"]) is None  # the same either way
    assert swappable_example(["2025-01-06", "6 Jan 2025"]) is None  # words and ISO
    assert swappable_example(["Week", "", "01/01/2025", " 03/02/25 "]) == "03/02/25"
