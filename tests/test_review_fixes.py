"""Edge cases found in review: settings against existing data, racing saves, uploads that
must not crash or store identifiers, scope of tokens, and constant query counts."""

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from fca.csvio import safe_cell
from fca.identifiers import is_nhs_number
from fca.tokens import create_token
from measures import services
from measures.models import ChartResult, DataPoint, Measure, MeasureUpload


def _weekly(measure, values, start=date(2025, 1, 6)):
    services.save_data_points(
        measure=measure,
        rows=[(i + 1, start + timedelta(weeks=i), (v,)) for i, v in enumerate(values)],
    )


def test_a_settings_save_never_undoes_a_data_save_made_meanwhile(cast):
    loaded = Measure.objects.get(pk=cast.measure.pk)  # the settings page, opened first
    _weekly(cast.measure, [30, 31])  # a feed saves data meanwhile
    services.update_measure(measure=loaded, target=20.0)
    cast.measure.refresh_from_db()
    assert cast.measure.data_version == 2  # both changes counted
    assert cast.measure.target == 20.0


def test_changing_a_rates_multiplier_rescales_what_is_stored(cast):
    rate = Measure.objects.create(
        room=cast.room, name="Falls", shape="rate", frequency="monthly", chart_type="u"
    )
    services.save_data_points(measure=rate, rows=[(1, date(2025, 1, 1), (3.0, 1000.0))])
    services.update_measure(measure=rate, multiplier=1000)
    assert list(rate.points.values_list("value", flat=True)) == [3.0]


@pytest.mark.parametrize(
    ("shape", "changes", "message"),
    [
        ("proportion", {"target": 950.0}, "A target of 950% is not a percentage"),
        ("value", {"chart_type": "c"}, "A c-chart needs counts"),
        ("value", {"chart_type": "p"}, "does not suit one number per period"),
    ],
)
def test_settings_the_chart_could_not_draw_are_refused(cast, shape, changes, message):
    measure = Measure.objects.create(
        room=cast.room, name="M", shape=shape, frequency="weekly", chart_type="xmr"
    )
    if shape == "value":
        _weekly(measure, [1.5, -2])
    with pytest.raises(services.DataError, match=message):
        services.update_measure(measure=measure, **changes)


def test_data_the_engine_refuses_gives_a_reason_not_endless_recalculating(client, cast):
    _weekly(cast.measure, [3, 4])
    Measure.objects.filter(pk=cast.measure.pk).update(chart_type="c")
    DataPoint.objects.filter(measure=cast.measure).update(value=-1)
    assert services.recompute_chart(measure_id=cast.measure.pk) is True
    chart = ChartResult.objects.get(measure=cast.measure)
    assert chart.data_version == Measure.objects.get(pk=cast.measure.pk).data_version
    client.force_login(cast.alice)
    page = client.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert "The chart cannot be drawn" in page
    assert 'data-testid="recalculating"' not in page


def test_chart_text_is_text_not_html(cast):
    _weekly(cast.measure, [3, 4])
    services.add_annotation(
        measure=cast.measure, on=date(2025, 1, 6), text='<a href="https://x">Sign in</a>', by=None
    )
    _, figure = services.compute_chart(cast.measure)
    assert figure["layout"]["annotations"][0]["text"].startswith("&lt;a href=")


# --- Uploads -----------------------------------------------------------------------------


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


def _upload(client, measure, name, content):
    return client.post(
        reverse("upload_start", args=[measure.pk]), {"file": SimpleUploadedFile(name, content)}
    )


def _workbook(*sheets) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def test_a_heading_row_past_the_last_row_is_an_error_not_a_crash(coach, cast):
    review = _upload(coach, cast.measure, "t.csv", b"Week,Hours\n06/01/2025,30\n")["Location"]
    response = coach.post(review, {"header_row": "9", "date_column": "0", "value_column": "1"})
    assert response.status_code == 400
    assert "less than or equal to 2" in response.content.decode()


def test_an_empty_sheet_is_an_error_not_a_crash(coach, cast):
    content = _workbook(("Data", [["Week", "Hours"], ["2025-01-06", 30]]), ("Empty", []))
    review = _upload(coach, cast.measure, "t.xlsx", content)["Location"]
    response = coach.post(review, {"sheet": "Empty"}, follow=True)
    assert "The sheet “Empty” has no data in it" in response.content.decode()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["Week", "NHS number", "Hours"], ["2025-01-06", "", "30"]], "headed “NHS number”"),
        ([["Patient", "Date of birth"]], "headed “Date of birth”"),
        ([["Ref", "Hours"], *[["943 476 5919", "3"]] * 6], "The file holds NHS numbers"),
    ],
)
def test_a_file_with_patient_identifiers_is_refused_and_not_kept(coach, cast, rows, message):
    content = "\n".join(",".join(row) for row in rows).encode()
    response = _upload(coach, cast.measure, "t.csv", content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not MeasureUpload.objects.exists()


def test_nhs_numbers_are_recognised_by_their_check_digit():
    assert is_nhs_number("943 476 5919")
    assert is_nhs_number("9434765919")
    assert not is_nhs_number("9434765918")  # wrong check digit
    assert not is_nhs_number("12345")


# --- Tokens, CSV, query counts --------------------------------------------------------------


def test_a_rooms_feed_token_outlives_its_creators_account(cast):
    _, text = create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)
    cast.alice.is_active = False
    cast.alice.save()
    response = Client(HTTP_AUTHORIZATION=f"Bearer {text}").get(
        reverse("api_point_list", args=[cast.measure.pk])
    )
    assert response.status_code == 200


def test_spreadsheet_formulas_in_exported_text_are_made_harmless():
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell(-2.0) == "-2"
    assert safe_cell("outside_limits") == "outside_limits"


def test_a_point_of_another_measure_cannot_be_reached_through_yours(coach, cast):
    theirs = cast.other_measure.points.create(period=date(2025, 1, 1), value=3)
    url = reverse("point_remove", args=[cast.measure.pk, theirs.pk])
    assert coach.get(url).status_code == 404
    coach.post(url)
    assert DataPoint.objects.filter(pk=theirs.pk).exists()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_room_page_takes_the_same_queries_however_many_measures(coach, cast):
    url = reverse("room_detail", args=[cast.room.pk])
    services.recompute_chart(measure_id=cast.measure.pk)
    few = _queries(coach, url)
    for n in range(10):
        measure = Measure.objects.create(room=cast.room, name=f"M{n}", frequency="weekly")
        services.recompute_chart(measure_id=measure.pk)
        cast.room.sessions.create(held_on=date(2025, 1, 6) + timedelta(weeks=n))
    assert _queries(coach, url) == few


def test_home_and_the_api_list_take_the_same_queries_however_many_measures(cast):
    _, text = create_token(user=cast.bob, name="Script", kind="personal")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {text}")
    home = Client()
    home.force_login(cast.bob)
    before = (_queries(api, reverse("api_measure_list")), _queries(home, "/"))
    for n in range(10):
        Measure.objects.create(room=cast.room, name=f"M{n}", frequency="weekly")
    assert (_queries(api, reverse("api_measure_list")), _queries(home, "/")) == before
