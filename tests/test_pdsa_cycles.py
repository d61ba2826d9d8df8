"""PDSA cycles: plan with predictions, do, study against the predictions, act; ramps of
cycles; markers on the charts of the measures they name; the stall flag."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bigrooms.models import PDSA, BigRoom, ChangeIdea, PDSAQuestion, StageChange
from measures.services import compute_chart


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


@pytest.fixture
def idea(cast):
    # Weekly values around the cycles' dates: markers are drawn within the data's span.
    for week in range(12):
        cast.measure.points.create(period=date(2025, 12, 1) + timedelta(weeks=week), value=30)
    return ChangeIdea.objects.create(room=cast.room, title="Consultant at the front door")


def _plan(**changes) -> dict:
    data = {
        "objective": "Find out whether a consultant can review every hip fracture in the ED",
        "purpose": "test", "scale": "One morning", "what": "Dr Ahmed reviews in the ED",
        "who": "Dr Ahmed", "where": "ED majors", "starts_on": "05/01/2026", "ends_on": "",
        "q_1_question": "Will every patient be reviewed within 2 hours?",
        "q_1_prediction": "Yes, all four expected",
        "q_2_question": "Will the ED team find it helpful?", "q_2_prediction": "",
        "t_1_task": "Tell the ED nurse in charge", "t_1_due": "04/01/2026",
    }  # fmt: skip
    data.update(changes)
    return data


def _start(coach, cast, idea, **changes) -> PDSA:
    data = _plan(**changes)
    data.setdefault("measures", [cast.measure.pk])
    response = coach.post(reverse("pdsa_create", args=[idea.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return PDSA.objects.latest("pk")


def test_a_coach_plans_a_cycle_with_questions_predictions_and_tasks(coach, cast, idea):
    pdsa = _start(coach, cast, idea)
    assert (pdsa.number, pdsa.status, pdsa.starts_on) == (1, "planning", date(2026, 1, 5))
    assert [q.question for q in pdsa.questions.all()] == [
        "Will every patient be reviewed within 2 hours?", "Will the ED team find it helpful?"
    ]  # fmt: skip
    assert pdsa.tasks.get().due_on == date(2026, 1, 4)
    assert list(pdsa.measures.all()) == [cast.measure]
    page = coach.get(reverse("pdsa_detail", args=[pdsa.pk])).content.decode()
    assert "Yes, all four expected" in page and "No prediction" in page


def test_moving_to_do_without_every_prediction_warns_then_moves_when_confirmed(coach, cast, idea):
    pdsa = _start(coach, cast, idea)
    response = coach.post(reverse("pdsa_move", args=[pdsa.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "No prediction for 1 of the 2 questions: Will the ED team find it helpful?" in page
    pdsa.refresh_from_db()
    assert pdsa.status == "planning"
    coach.post(reverse("pdsa_move", args=[pdsa.pk]), {"confirmed": "1"})
    pdsa.refresh_from_db()
    assert pdsa.status == "doing"


def test_a_plan_with_every_prediction_moves_to_do_without_asking(coach, cast, idea):
    pdsa = _start(coach, cast, idea, q_2_prediction="Yes")
    coach.post(reverse("pdsa_move", args=[pdsa.pk]))
    pdsa.refresh_from_db()
    assert pdsa.status == "doing"


def test_a_study_without_results_cannot_move_on_and_what_was_written_is_kept(coach, cast, idea):
    pdsa = _start(coach, cast, idea, q_2_prediction="Yes")
    PDSA.objects.filter(pk=pdsa.pk).update(status="studying", what_happened="Done as planned")
    first, second = pdsa.questions.all()
    response = coach.post(
        reverse("pdsa_edit_study", args=[pdsa.pk]),
        {f"result_{first.pk}": "Three of four within 2 hours", f"result_{second.pk}": "",
         "learning": "", "move": "1"},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 400
    assert "Your changes are saved, but the cycle cannot move on yet" in page
    assert (
        "Give the result for question 2, “Will the ED team find it helpful?” against its "
        "prediction" in page
    )
    assert "Say what was learnt before moving on to Act" in page
    assert "Three of four within 2 hours" in page
    first.refresh_from_db()
    pdsa.refresh_from_db()
    assert first.result == "Three of four within 2 hours"
    assert pdsa.status == "studying"


def test_do_needs_what_happened_and_act_needs_a_decision(coach, cast, idea):
    pdsa = _start(coach, cast, idea)
    PDSA.objects.filter(pk=pdsa.pk).update(status="doing")
    response = coach.post(reverse("pdsa_edit_do", args=[pdsa.pk]), {"observations": "Busy",
                                                                     "move": "1"})  # fmt: skip
    assert "Say what happened before moving on to Study" in response.content.decode()
    PDSA.objects.filter(pk=pdsa.pk).update(status="acting")
    response = coach.post(reverse("pdsa_edit_act", args=[pdsa.pk]), {"next_step": "x",
                                                                      "move": "1"})  # fmt: skip
    assert "Choose adopt, adapt or abandon before completing the cycle" in (
        response.content.decode()
    )
    pdsa.refresh_from_db()
    assert (pdsa.status, pdsa.next_step, pdsa.observations) == ("acting", "x", "Busy")


def _complete(pdsa: PDSA, decision: str, next_step: str = "") -> None:
    for question in pdsa.questions.all():
        question.prediction = question.prediction or "Yes"
        question.result = "As predicted"
        question.save()
    PDSA.objects.filter(pk=pdsa.pk).update(
        status="complete", what_happened="Done", learning="Learnt", decision=decision,
        next_step=next_step,
    )  # fmt: skip


def test_next_cycle_continues_the_ramp_filled_from_the_last(coach, cast, idea):
    first = _start(coach, cast, idea)
    _complete(first, "adapt", "Try it on two mornings, with the trauma coordinator")
    response = coach.post(reverse("pdsa_next", args=[first.pk]))
    second = PDSA.objects.latest("pk")
    assert response["Location"] == reverse("pdsa_edit_plan", args=[second.pk])
    assert (second.ramp, second.number, second.status) == (first.ramp, 2, "planning")
    assert second.objective == "Try it on two mornings, with the trauma coordinator"
    assert (second.scale, second.who, second.where) == ("One morning", "Dr Ahmed", "ED majors")
    assert second.starts_on == timezone.localdate()
    assert list(second.measures.all()) == [cast.measure]
    questions = list(second.questions.values_list("question", "prediction", "result"))
    assert questions == [
        ("Will every patient be reviewed within 2 hours?", "", ""),
        ("Will the ED team find it helpful?", "", ""),
    ]


def test_an_abandoned_or_unfinished_ramp_has_no_next_cycle(coach, cast, idea):
    first = _start(coach, cast, idea)
    response = coach.post(reverse("pdsa_next", args=[first.pk]), follow=True)
    assert "Complete PDSA 1 first" in response.content.decode()
    _complete(first, "abandon")
    response = coach.post(reverse("pdsa_next", args=[first.pk]), follow=True)
    assert "change was abandoned: start a new ramp" in response.content.decode()
    assert PDSA.objects.count() == 1


def test_a_cycle_shows_on_its_measures_charts_as_started_at_its_start_date(coach, cast, idea):
    _start(coach, cast, idea)
    payload, figure = compute_chart(cast.measure)
    notes = [a["hovertext"] for a in figure["layout"]["annotations"]]
    assert notes == ["PDSA 1 started: Consultant at the front door"]
    assert figure["layout"]["annotations"][0]["x"] == "2026-01-05"
    # The measure's data version rose: the stored chart is redrawn with the marker.
    cast.measure.refresh_from_db()
    assert cast.measure.data_version >= 1


def test_a_chart_note_at_a_date_shows_beside_the_pdsa_markers(coach, cast, idea):
    _start(coach, cast, idea)
    coach.post(
        reverse("annotation_create", args=[cast.measure.pk]),
        {"on": "12/01/2026", "text": "New trauma coordinator"},
    )
    figure = compute_chart(cast.measure)[1]
    assert [a["hovertext"] for a in figure["layout"]["annotations"]] == [
        "PDSA 1 started: Consultant at the front door", "New trauma coordinator"
    ]  # fmt: skip


def test_changing_the_plans_measures_moves_the_marker(coach, cast, idea):
    from measures.models import Measure

    other = Measure.objects.create(room=cast.room, name="Reviews in 2 hours", frequency="weekly")
    other.points.create(period=date(2025, 12, 29), value=3)
    other.points.create(period=date(2026, 1, 12), value=4)
    pdsa = _start(coach, cast, idea)
    coach.post(reverse("pdsa_edit_plan", args=[pdsa.pk]), _plan(measures=[other.pk]))
    assert compute_chart(cast.measure)[1]["layout"].get("annotations", []) == []
    assert len(compute_chart(other)[1]["layout"]["annotations"]) == 1


def test_a_testing_room_with_no_pdsa_moved_on_for_eight_weeks_is_flagged(cast, idea):
    room = cast.room
    room.status, room.stage = BigRoom.Status.ACTIVE, BigRoom.Stage.TESTING
    room.save()
    today = timezone.localdate()
    StageChange.objects.create(room=room, stage="testing", changed_on=today - timedelta(weeks=10))
    assert [s.kind for s in room.stalls(today)].count("no_pdsa") == 1
    message = room.pdsa_standstill(today)
    assert message == "No PDSA cycle started in the 10 weeks since testing began"
    pdsa = PDSA.objects.create(room=room, ramp=idea.ramps.create(), number=1, objective="x",
                               starts_on=today, status_changed_on=today - timedelta(weeks=9))  # fmt: skip
    assert room.pdsa_standstill(today).startswith("No PDSA cycle started or moved on for 9 weeks")
    pdsa.status_changed_on = today - timedelta(weeks=7)
    pdsa.save()
    assert room.pdsa_standstill(today) is None
    room.stage = BigRoom.Stage.DRIVER_DIAGRAM  # not testing yet: no flag
    room.save()
    assert room.pdsa_standstill(today) is None


def test_the_room_page_tells_the_pdsas_by_status(coach, cast, idea):
    first = _start(coach, cast, idea)
    _complete(first, "adopt")
    _start(coach, cast, idea)
    page = coach.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    counts = page[page.index('data-testid="pdsa-counts"') :][:1200]
    assert ">1</span> planning" in counts and ">1</span> complete" in counts
    assert "Adopt</strong>" in page
    board = coach.get(reverse("room_pdsas", args=[cast.room.pk])).content.decode()
    assert board.count("PDSA 1: Consultant at the front door") == 2


def test_question_rows_cleared_in_the_plan_are_removed(coach, cast, idea):
    pdsa = _start(coach, cast, idea)
    first, second = pdsa.questions.all()
    data = _plan(q_1_pk=first.pk, q_2_pk=second.pk, q_2_question="", measures=[])
    coach.post(reverse("pdsa_edit_plan", args=[pdsa.pk]), data)
    assert list(PDSAQuestion.objects.values_list("pk", flat=True)) == [first.pk]


def test_a_cycle_outside_the_charts_data_is_listed_but_does_not_stretch_the_chart(
    coach, cast, idea
):
    _start(coach, cast, idea, starts_on="26/11/2026")
    figure = compute_chart(cast.measure)[1]
    assert figure["layout"].get("annotations", []) == []
    page = coach.get(reverse("measure_detail", args=[cast.measure.pk])).content.decode()
    assert "26 Nov 2026: <a" in page
