"""The programme's figures by quarter, for the academy, a cohort or an organisation:
coaches trained and coaching, rooms running, pathways, sessions, PDSAs by decision, and
rooms with a sustained improvement (counted after a correct rebase too); charted and as CSV."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bigrooms.models import PDSA, BigRoom, ChangeIdea, Ramp, RoomMembership, Session
from fca import programme
from fca.models import Coach, Cohort
from measures import services
from measures.models import Measure
from tests.test_dashboard import _improving, _monday


def _adopted(room, measure, starts_on):
    idea = ChangeIdea.objects.create(room=room, title="Early theatre slot")
    pdsa = PDSA.objects.create(
        room=room, ramp=Ramp.objects.create(change_idea=idea), number=1, objective="Try it",
        starts_on=starts_on, status="complete", decision="adopt",
        status_changed_on=timezone.localdate(),
    )  # fmt: skip
    pdsa.measures.add(measure)
    return pdsa


@pytest.fixture
def academy(cast):
    """A cohort that ended last year; alice (North) coaches the North room, which logs
    sessions and has a sustained improvement on its outcome measure; charlie (South)
    coaches the South room, which logs a session too."""
    today = timezone.localdate()
    cohort = Cohort.objects.create(name="Cohort 13", academy="Sheffield FCA",
                                   starts_on=date(today.year - 1, 1, 10),
                                   ends_on=date(today.year - 1, 6, 30))  # fmt: skip
    Coach.objects.create(cohort=cohort, user=cast.alice, organisation=cast.north, kind="clinical")
    Coach.objects.create(cohort=cohort, user=cast.charlie, organisation=cast.south,
                         kind="independent")  # fmt: skip
    for weeks_ago in (1, 2):
        Session.objects.create(room=cast.room, held_on=_monday(weeks_ago))
    Session.objects.create(room=cast.other_room, held_on=_monday(1))
    _improving(cast.measure)  # 20 weeks at 30 hours, then 8 at 20: improvement
    _adopted(cast.room, cast.measure, starts_on=_monday(12))
    services.start_phase(measure=cast.measure, starts_on=_monday(5),
                         reason="Early theatre slot adopted", by=cast.alice)  # fmt: skip
    services.recompute_chart(measure_id=cast.measure.pk)
    return cohort


def _now(rows):
    return rows[-1]


def test_the_whole_academys_figures_for_this_quarter(cast, academy):
    rows = programme.figures(programme.scope_for(""))
    assert len(rows) == programme.QUARTERS
    this = _now(rows)
    sessions_this_quarter = Session.objects.filter(held_on__gte=programme.quarters(
        timezone.localdate())[-1].start).count()  # fmt: skip
    assert this["coaches_trained"] == 2  # the cohort ended before this quarter
    assert this["sessions"] == sessions_this_quarter
    assert this["adopt"] == 1 and this["adapt"] == this["abandon"] == 0
    assert this["sustained"] == 1
    assert rows[0]["coaches_trained"] == 0  # two years ago, before the cohort ended


def test_a_room_that_rebased_without_an_adopted_pdsa_or_before_any_signal_does_not_count(
    cast, academy
):
    # Another North room: the same improvement and a new phase, but no adopted PDSA.
    room = BigRoom.objects.create(name="Frailty unit big room", host=cast.north)
    measure = Measure.objects.create(room=room, name="Length of stay", improvement="decrease",
                                     frequency="weekly", chart_type="xmr")  # fmt: skip
    _improving(measure)
    services.start_phase(measure=measure, starts_on=_monday(5), reason="Rebased", by=cast.quinn)
    # A third: an adopted PDSA, but the phase starts before any improvement showed.
    early = BigRoom.objects.create(name="Stroke big room", host=cast.north)
    other = Measure.objects.create(room=early, name="Door to needle", improvement="decrease",
                                   frequency="weekly", chart_type="xmr")  # fmt: skip
    _improving(other)
    _adopted(early, other, starts_on=_monday(30))
    services.start_phase(measure=other, starts_on=_monday(25), reason="Too early", by=cast.quinn)
    for m in (measure, other):
        services.recompute_chart(measure_id=m.pk)
    since = programme.sustained_improvements(programme.scope_for(""))
    assert set(since) == {cast.room.pk}
    assert since[cast.room.pk] == _monday(5)


def test_an_organisations_and_a_cohorts_figures_are_their_own(cast, academy):
    north = _now(programme.figures(programme.scope_for(f"organisation-{cast.north.pk}")))
    south = _now(programme.figures(programme.scope_for(f"organisation-{cast.south.pk}")))
    assert (north["coaches_trained"], south["coaches_trained"]) == (1, 1)
    assert north["sustained"] == 1 and south["sustained"] == 0
    assert north["adopt"] == 1 and south["adopt"] == 0
    cohort = programme.scope_for(f"cohort-{academy.pk}")
    assert set(cohort.rooms) == {cast.room, cast.other_room}
    RoomMembership.objects.filter(user=cast.charlie).delete()
    assert set(programme.scope_for(f"cohort-{academy.pk}").rooms) == {cast.room}
    assert programme.scope_for("cohort-999999").label == "The whole academy"


def test_coaching_counts_coaches_whose_rooms_logged_a_session_in_the_last_eight_weeks(
    cast, academy
):
    assert _now(programme.figures(programme.scope_for("")))["coaching"] == 2
    Session.objects.filter(room=cast.other_room).update(
        held_on=timezone.localdate() - timedelta(weeks=9)
    )
    assert _now(programme.figures(programme.scope_for("")))["coaching"] == 1


def test_the_page_charts_the_figures_and_the_csv_holds_them(client, cast, academy):
    client.force_login(cast.ada)
    page = client.get(reverse("programme"), {"scope": f"organisation-{cast.north.pk}"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Programme figures: North Acute NHS Trust" in text
    assert text.count('class="app-chart__plot"') == 4 and 'id="programme-figure-1"' in text
    assert "Rooms with a sustained improvement" in text
    download = client.get(reverse("programme_csv"), {"scope": f"organisation-{cast.north.pk}"})
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:3] == ["scope", "quarter", "Coaches trained"]
    assert len(rows) == programme.QUARTERS + 1
    assert rows[-1][0] == "North Acute NHS Trust" and rows[-1][-1] == "1"
    client.force_login(cast.quinn)
    assert client.get(reverse("programme")).status_code == 404
    assert client.get(reverse("programme_csv")).status_code == 404


def test_quarters_are_calendar_quarters_ending_with_todays():
    periods = programme.quarters(date(2026, 11, 26), n=3)
    assert [(q.start, q.end) for q in periods] == [
        (date(2026, 4, 1), date(2026, 7, 1)),
        (date(2026, 7, 1), date(2026, 10, 1)),
        (date(2026, 10, 1), date(2027, 1, 1)),
    ]
    assert periods[-1].label == "Oct–Dec 2026"


def test_a_scope_that_names_nothing_is_the_whole_academy(client, cast):
    client.force_login(cast.ada)
    for key in ("cohort-²", "organisation-x", "nonsense", "cohort-99999"):
        response = client.get(reverse("programme"), {"scope": key})
        assert response.status_code == 200
        assert "Programme figures: The whole academy" in response.content.decode()
