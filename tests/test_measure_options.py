"""A coach sets up a measure: definition, target, chart type, options, phases and notes."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from measures import services
from measures.models import ChartResult, Measure, Phase


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


def _weekly(cast, values, start=date(2025, 1, 6)):
    services.save_data_points(
        measure=cast.measure,
        rows=[(i + 1, start + timedelta(weeks=i), (v,)) for i, v in enumerate(values)],
    )


def _settings(cast, **changes):
    data = {
        "name": cast.measure.name,
        "kind": "outcome",
        "unit": "hours",
        "improvement": "decrease",
        "target": "",
        "definition": "",
        "data_source": "",
        "chart_type": "xmr",
        "screen_outliers": "on",
        "rule_length": "7",
        "baseline_points": "",
    }
    data.update(changes)
    return data


def test_a_new_measure_starts_as_a_run_chart(coach, cast):
    response = coach.post(
        reverse("measure_create", args=[cast.room.pk]),
        {
            "name": "Falls per week",
            "kind": "balancing",
            "shape": "value",
            "unit": "falls",
            "improvement": "decrease",
            "frequency": "weekly",
        },
    )
    assert response.status_code == 302
    measure = Measure.objects.get(name="Falls per week")
    assert measure.chart_type == "run"


def test_a_measure_needs_a_direction_and_a_name_the_room_does_not_have(coach, cast):
    response = coach.post(
        reverse("measure_create", args=[cast.room.pk]),
        {"name": "time to THEATRE", "kind": "outcome", "shape": "value", "frequency": "weekly"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The room already has a measure called “time to THEATRE”" in page
    assert "Select which way is better for patients, or neither" in page
    assert 'href="#id_improvement_0"' in page


def test_the_coach_sets_a_target_and_the_chart_shows_assurance(
    coach, cast, django_capture_on_commit_callbacks
):
    _weekly(cast, [30, 32, 29, 31, 30, 33, 28, 31, 30, 32, 29, 31, 30, 31])
    with django_capture_on_commit_callbacks(execute=True):
        response = coach.post(
            reverse("measure_settings", args=[cast.measure.pk]),
            _settings(cast, target="20", definition="From arrival to theatre"),
        )
    assert response.status_code == 302
    result = ChartResult.objects.get(measure=cast.measure).result
    assert result["assurance_icon"] == "fail"  # lower is better, and 20 is below the limits
    page = coach.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert "Variation indicates consistently failing the target" in page
    assert "From arrival to theatre" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"baseline_points": "8"}, "A baseline needs at least 12 points"),
        ({"chart_type": "p"}, "Select a valid choice"),
        ({"target": "lots"}, "“lots” is not a number"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(coach, cast, changes, message):
    response = coach.post(
        reverse("measure_settings", args=[cast.measure.pk]), _settings(cast, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    cast.measure.refresh_from_db()
    assert (cast.measure.baseline_points, cast.measure.target) == (None, None)


def test_a_new_phase_needs_a_data_date_and_a_reason(coach, cast):
    _weekly(cast, [30, 32, 29, 31])
    url = reverse("phase_create", args=[cast.measure.pk])
    no_reason = coach.post(url, {"starts_on": "20/01/2025", "reason": ""})
    assert "Enter why start a new phase?" in no_reason.content.decode()
    not_data = coach.post(url, {"starts_on": "03/03/2025", "reason": "New pathway"})
    assert "There is no point for the week starting 3 Mar 2025" in not_data.content.decode()
    first = coach.post(url, {"starts_on": "06/01/2025", "reason": "New pathway"})
    assert "The first point already starts the first phase" in first.content.decode()
    assert not Phase.objects.exists()
    ok = coach.post(url, {"starts_on": "22/01/2025", "reason": "Discharge lounge opened"})
    assert ok.status_code == 302
    phase = Phase.objects.get()
    assert (phase.starts_on, phase.reason, phase.created_by) == (
        date(2025, 1, 20),
        "Discharge lounge opened",
        cast.alice,
    )


def test_a_phase_splits_the_limits_where_the_person_said(cast):
    _weekly(cast, [30, 32, 29, 31, 30, 33, 20, 21, 19, 22, 20, 21])
    services.start_phase(
        measure=cast.measure, starts_on=date(2025, 2, 17), reason="New pathway", by=cast.alice
    )
    result, _ = services.compute_chart(cast.measure)
    assert [(p["start"], p["end"]) for p in result["phases"]] == [(0, 6), (6, 12)]
    assert result["phases"][1]["centre"] == pytest.approx(20.5)


def test_a_note_is_drawn_on_the_chart(coach, cast):
    _weekly(cast, [30, 32, 29])
    response = coach.post(
        reverse("annotation_create", args=[cast.measure.pk]),
        {"on": "13/01/2025", "text": "PDSA 1 started: early theatre slot"},
    )
    assert response.status_code == 302
    _, figure = services.compute_chart(cast.measure)
    texts = [a["hovertext"] for a in figure["layout"]["annotations"]]
    assert texts == ["PDSA 1 started: early theatre slot"]


def test_the_data_downloads_as_csv_with_formulas_made_harmless(coach, cast):
    _weekly(cast, [30, -2, 29])
    cast.measure.refresh_from_db()
    services.recompute_chart(measure_id=cast.measure.pk)
    Measure.objects.filter(pk=cast.measure.pk).update(name="=HYPERLINK(1)")
    response = coach.get(reverse("measure_csv", args=[cast.measure.pk]))
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("period,value,numerator,denominator,provisional,centre,lower,upper")
    assert lines[2].startswith("2025-01-13,-2,,,,")  # a negative number stays a number
    assert response["Content-Disposition"] == 'attachment; filename="hyperlink1.csv"'


def test_a_coach_removes_a_mistaken_value_after_confirming(coach, cast):
    _weekly(cast, [30, 3000, 29])
    point = cast.measure.points.get(value=3000)
    url = reverse("point_remove", args=[cast.measure.pk, point.pk])
    confirm = coach.get(url).content.decode()
    assert "Remove the value for the week starting 13 Jan 2025?" in confirm
    response = coach.post(url, follow=True)
    assert "The value for the week starting 13 Jan 2025 was removed." in response.content.decode()
    assert list(cast.measure.points.values_list("value", flat=True)) == [30, 29]
    again = coach.post(url, follow=True)
    assert "That value had already been removed." in again.content.decode()


def test_a_coach_removes_a_phase_and_its_points_join_the_one_before(coach, cast):
    _weekly(cast, [30, 32, 29, 31])
    services.start_phase(
        measure=cast.measure, starts_on=date(2025, 1, 20), reason="New pathway", by=cast.alice
    )
    phase = Phase.objects.get()
    response = coach.post(reverse("phase_remove", args=[cast.measure.pk, phase.pk]), follow=True)
    assert "The phase from the week starting 20 Jan 2025 was removed" in response.content.decode()
    assert not Phase.objects.exists()
    result, _ = services.compute_chart(cast.measure)
    assert len(result["phases"]) == 1
