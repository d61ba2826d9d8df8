"""Entering a measure's data by form or paste: saved whole, or refused with the row named."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from measures.models import ChartResult, DataPoint, Measure


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


def _add(client, measure, day, value):
    return client.post(reverse("add_point", args=[measure.pk]), {"day": day, "value": value})


def _paste(client, measure, rows):
    return client.post(reverse("paste_points", args=[measure.pk]), {"rows": rows})


def test_a_value_is_saved_and_the_chart_recomputed_after_commit(
    coach, cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _add(coach, cast.measure, "03/11/2026", "31.5")
    assert response.status_code == 302
    point = DataPoint.objects.get(measure=cast.measure)
    assert point.period == date(2026, 11, 2)  # the Monday of that week
    assert point.value == 31.5
    chart = ChartResult.objects.get(measure=cast.measure)
    assert chart.data_version == 1 and chart.result["n"] == 1
    page = coach.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert "1 weekly point, the latest for the week starting 2 Nov 2026." in page


def test_the_page_says_recalculating_while_the_chart_is_behind_its_data(coach, cast):
    _add(coach, cast.measure, "03/11/2026", "31.5")  # on-commit work never runs here
    page = coach.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert 'data-testid="recalculating"' in page
    assert "Recalculating the chart" in page


@pytest.mark.parametrize(
    ("day", "value", "message"),
    [
        ("03/11/2026", "thirty", "“thirty” is not a number"),
        ("31/02/2026", "12", "“31/02/2026” is not a real date"),
        ("next week", "12", "“next week” is not a date"),
        ("", "12", "Enter date"),
    ],
)
def test_a_bad_value_gets_a_clear_message_and_saves_nothing(coach, cast, day, value, message):
    response = _add(coach, cast.measure, day, value)
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert message in page
    assert not DataPoint.objects.exists()


def test_a_second_value_for_the_same_week_is_refused(coach, cast):
    _add(coach, cast.measure, "03/11/2026", "31.5")
    response = _add(coach, cast.measure, "05/11/2026", "40")
    assert response.status_code == 400
    assert "There is already a value for the week starting 2 Nov 2026 (31.5)" in (
        response.content.decode()
    )
    assert DataPoint.objects.get(measure=cast.measure).value == 31.5


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("", "The paste is empty"),
        ("   \n\n", "The paste is empty"),
        ("03/11/2026\n10/11/2026", "Line 1 has one column: paste 2, the date then the value"),
        ("03/11/2026\t30\n10/11/2026\tabc", "Line 2: “abc” is not a number"),
        ("03/11/2026\t30\n30/02/2026\t31", "Line 2: “30/02/2026” is not a real date"),
        (
            "Week\tHours\n03/11/2026\t30\n04/11/2026\t31",
            "Line 3 is for the week starting 2 Nov 2026, as line 2 is",
        ),
        ("03/11/2026\t30\t12", "Line 1 has 3 columns: paste 2"),
    ],
)
def test_a_bad_paste_names_the_line_and_saves_nothing(coach, cast, rows, message):
    response = _paste(coach, cast.measure, rows)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DataPoint.objects.exists()
    cast.measure.refresh_from_db()
    assert cast.measure.data_version == 0


def _weekly_rows(count: int, start=date(1830, 1, 4)) -> list[str]:
    return [f"{(start + timedelta(weeks=i)):%d/%m/%Y}\t{i % 97}.5" for i in range(count)]


def test_a_paste_of_ten_thousand_rows_with_one_bad_row_saves_none_of_them(coach, cast):
    rows = _weekly_rows(10_000)
    rows[5_000] = rows[5_000].split("\t")[0] + "\tn/a"
    response = _paste(coach, cast.measure, "\n".join(rows))
    assert response.status_code == 400
    assert "Line 5001: “n/a” is not a number" in response.content.decode()
    assert not DataPoint.objects.exists()


def test_a_good_paste_of_ten_thousand_rows_is_saved_in_one_go(
    coach, cast, django_assert_max_num_queries
):
    # One transaction; SQLite's limit on variables per statement splits it into batches.
    with django_assert_max_num_queries(80):
        response = _paste(coach, cast.measure, "Week\tHours\n" + "\n".join(_weekly_rows(10_000)))
    assert response.status_code == 302
    assert DataPoint.objects.filter(measure=cast.measure).count() == 10_000
    cast.measure.refresh_from_db()
    assert cast.measure.data_version == 1
    page = coach.get(reverse("measure_detail", args=[cast.measure.pk]), follow=True)
    assert "10,000 values added, 0 updated and 0 unchanged" in page.content.decode()


def test_pasting_again_updates_the_values_already_there(coach, cast):
    _paste(coach, cast.measure, "03/11/2026\t30\n10/11/2026\t31")
    response = _paste(coach, cast.measure, "10/11/2026\t35\n17/11/2026\t33")
    assert response.status_code == 302
    values = dict(cast.measure.points.values_list("period", "value"))
    assert values == {date(2026, 11, 2): 30, date(2026, 11, 9): 35, date(2026, 11, 16): 33}


def test_a_member_without_the_data_right_cannot_add_data(client, cast):
    client.force_login(cast.bob)
    assert _add(client, cast.measure, "03/11/2026", "31").status_code == 403
    client.force_login(cast.dana)
    assert _add(client, cast.measure, "03/11/2026", "31").status_code == 302


@pytest.fixture
def proportion(cast):
    return Measure.objects.create(
        room=cast.room,
        name="Screened for delirium",
        unit="%",
        shape="proportion",
        improvement="increase",
        frequency="monthly",
        chart_type="p",
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("Jan 2025\t12\t10", "Line 1: The numerator (12) is more than the denominator (10)"),
        ("Jan 2025\t-1\t10", "Line 1: Counts cannot be negative"),
        ("Jan 2025\t1\t0", "Line 1: The denominator is 0"),
        ("Jan 2025\t5", "Line 1 has 2 columns: paste 3, the date, numerator, denominator"),
        ("Jan 2099\t5\t10", "Line 1: 1 Jan 2099 is in the future"),
    ],
)
def test_a_bad_proportion_is_refused_naming_the_line(coach, proportion, rows, message):
    response = _paste(coach, proportion, rows)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not proportion.points.exists()


def test_a_proportion_is_charted_as_a_percentage(
    coach, proportion, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _paste(coach, proportion, "Month\tYes\tAll\nJan 2025\t45\t50\nFeb 2025\t40\t50")
    assert response.status_code == 302
    assert list(proportion.points.values_list("value", "numerator", "denominator")) == [
        (90.0, 45.0, 50.0),
        (80.0, 40.0, 50.0),
    ]
    chart = ChartResult.objects.get(measure=proportion).result
    assert chart["chart_type"] == "p"
    assert chart["phases"][0]["centre"] == pytest.approx(85.0)


@pytest.mark.parametrize(
    ("day", "value", "message"),
    [
        ("Nov 2026", "12", "Nov 2026 is a month: give a day in the week for a weekly measure"),
        ("01/01/2099", "12", "1 Jan 2099 is in the future"),
        ("03/11/2026", "1" * 20, "is too large to be a measure"),
        ("44470", "12", "looks like a spreadsheet number for a date"),
        ("03/11/2026", "1 2", "“1 2” is not a number"),
    ],
)
def test_implausible_input_is_refused_with_a_reason(coach, cast, day, value, message):
    response = _add(coach, cast.measure, day, value)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DataPoint.objects.exists()


def test_signing_in_again_after_the_session_ran_out_returns_to_the_measure(coach, cast):
    response = coach.get(reverse("add_point", args=[cast.measure.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("measure_detail", args=[cast.measure.pk])


def test_a_form_from_an_expired_page_says_so_and_saves_nothing(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.alice)
    response = _add(client, cast.measure, "03/11/2026", "12")
    assert response.status_code == 403
    assert "This page had expired" in response.content.decode()
    assert not DataPoint.objects.exists()


def test_a_paste_whose_dates_could_be_month_first_is_questioned(coach, cast):
    response = _paste(coach, cast.measure, "03/11/2026\t30\n10/11/2026\t31")
    page = coach.get(response["Location"]).content.decode()
    assert "“03/11/2026” is 3 Nov 2026. If they were written month first, the values are in" in page
    settled = _paste(coach, cast.measure, "10/11/2026\t35\n17/11/2026\t33")
    assert "Check the dates" not in coach.get(settled["Location"]).content.decode()
