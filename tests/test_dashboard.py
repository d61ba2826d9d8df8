"""The organisation dashboard: a QI lead sees every big room their organisation hosts at a
glance (coaches, stage, sessions, actions, PDSAs, outcome and balancing icons, stall
flags), filters and orders them, and reads every measure's icons, as a page and a CSV;
nobody else's organisation; the same few queries for 10 rooms as for 1,000."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bigrooms import dashboard
from bigrooms.models import (
    PDSA,
    Action,
    Attendance,
    BigRoom,
    ChangeIdea,
    Evaluation,
    Ramp,
    RoomMembership,
    Session,
)
from measures import services
from measures.charts import VARIATION_WORDS
from measures.models import Measure


def _monday(weeks_ago: int) -> date:
    today = timezone.localdate()
    return today - timedelta(days=today.weekday(), weeks=weeks_ago)


def _session(room, weeks_ago: int, *, present=(), scores=(), guests=0) -> Session:
    session = Session.objects.create(room=room, held_on=_monday(weeks_ago), guests=guests)
    Attendance.objects.bulk_create([Attendance(session=session, user=u) for u in present])
    Evaluation.objects.bulk_create([Evaluation(session=session, score=s) for s in scores])
    return session


def _improving(measure) -> None:
    """Twenty weeks at about 30 hours, then eight at about 20: special-cause improvement
    (time to theatre, lower is better)."""
    values = [30, 31, 29, 30, 32, 28, 30, 31, 29, 30, 31, 30, 29, 30, 31, 29, 30, 32, 28, 30]
    values += [20, 21, 19, 20, 21, 19, 20, 20]
    start = _monday(len(values) + 1)
    services.save_data_points(
        measure=measure,
        rows=[(i, start + timedelta(weeks=i), (v,)) for i, v in enumerate(values)],
    )
    services.recompute_chart(measure_id=measure.pk)


@pytest.fixture
def busy(cast):
    """The North room meeting on Mondays: sessions 5, 4 and 3 weeks ago (so the last three
    meetings were missed), an overdue action, an adopted PDSA this quarter, an improving
    outcome measure; and a second North room at the build stage, meeting every week."""
    room = cast.room
    BigRoom.objects.filter(pk=room.pk).update(
        status="active", meeting_weekday=0, stage="testing", pathway=None,
        created_at=timezone.now() - timedelta(weeks=10),
    )  # fmt: skip
    room.refresh_from_db()
    RoomMembership.objects.create(room=room, user=cast.quinn, role="independent_coach")
    for weeks_ago, scores in ((5, (7, 8)), (4, (8, 9)), (3, (9, 9, 10))):
        _session(room, weeks_ago, present=[cast.alice, cast.bob], scores=scores, guests=1)
    Action.objects.create(room=room, what="Ask theatres", due_on=_monday(1), owner=cast.bob)
    Action.objects.create(room=room, what="Map the pathway", due_on=_monday(-1),
                          owner_text="the discharge team", chaser=cast.alice)  # fmt: skip
    idea = ChangeIdea.objects.create(room=room, title="Early theatre slot")
    ramp = Ramp.objects.create(change_idea=idea)
    PDSA.objects.create(
        room=room, ramp=ramp, number=1, objective="Try it", starts_on=_monday(6),
        status="complete", decision="adopt", status_changed_on=timezone.localdate(),
    )  # fmt: skip
    _improving(cast.measure)
    second = BigRoom.objects.create(
        name="Ambulance handover big room", host=cast.north, status="active", stage="build",
        meeting_weekday=0,
    )  # fmt: skip
    RoomMembership.objects.create(room=second, user=cast.bob, role="clinical_coach")
    for weeks_ago in range(3):
        _session(second, weeks_ago, present=[cast.bob])
    return room, second


def _page(client, user, name="organisation_dashboard", org=None, **query):
    client.force_login(user)
    return client.get(reverse(name, args=[org.pk]), query)


def test_a_qi_lead_sees_each_room_of_their_organisation_at_a_glance(client, cast, busy):
    room, second = busy
    response = _page(client, cast.quinn, org=cast.north)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Hip fracture big room" in page and "Ambulance handover big room" in page
    assert "Frailty big room" not in page  # another organisation's
    stats = response.context["summary"]
    assert stats == {"running": 2, "stalled": 1, "improving": 1,
                     "sessions_this_month": stats["sessions_this_month"]}  # fmt: skip
    [row] = [r for r in response.context["rows"] if r.room == room]
    assert [name for _, name in row.coaches] == ["Alice Adams", "Quinn Quayle"]
    assert (row.last_session, row.weeks_since) == (_monday(3), 3)
    assert row.attendance == [3, 3, 3]  # two members and a guest
    assert row.evaluation == [7.5, 8.5, 9.3]
    assert (row.open_actions, row.overdue_actions) == (2, 1)
    assert row.decisions == {"adopt": 1}
    assert [m.name for m in row.outcome] == ["Time to theatre"] and row.improving
    # The same flags, word for word, as the room's own page gives.
    assert [s.message for s in row.stalls] == [s.message for s in room.stalls()]
    assert {s.kind for s in row.stalls} == {"no_sessions", "overdue_actions"}
    assert "No session logged for the last 3 meetings" in page
    assert f'aria-label="{VARIATION_WORDS["improvement_low"]}"' in page
    assert reverse("measure_detail", args=[cast.measure.pk]) in page  # drill down to the chart
    assert reverse("room_detail", args=[room.pk]) in page


def test_the_dashboard_filters_to_stalled_rooms_and_orders_them(client, cast, busy):
    room, second = busy
    stalled = _page(client, cast.quinn, org=cast.north, stalled="on").context["rows"]
    assert [r.room for r in stalled] == [room]
    building = _page(client, cast.quinn, org=cast.north, stage="build").context["rows"]
    assert [r.room for r in building] == [second]
    coached = _page(client, cast.quinn, org=cast.north, coach=str(cast.bob.pk)).context["rows"]
    assert [r.room for r in coached] == [second]
    ordered = _page(client, cast.quinn, org=cast.north, sort="last_session").context["rows"]
    assert [r.room for r in ordered] == [room, second]  # longest since a session first
    page = _page(client, cast.quinn, org=cast.north, stalled="on").content.decode()
    assert "Showing 1 of 2 big rooms" in page and "Clear filters" in page


def test_an_unknown_filter_value_shows_every_room_and_says_nothing_breaks(client, cast, busy):
    response = _page(client, cast.quinn, org=cast.north, stage="nonsense", sort="x")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 2
    assert "Select a valid choice" in response.content.decode()


def test_only_the_organisations_readers_and_academy_admins_see_its_dashboard(client, cast):
    for user in (cast.quinn, cast.vera, cast.ada):
        assert _page(client, user, org=cast.north).status_code == 200
    for user in (cast.alice, cast.bob, cast.charlie):  # room members, another organisation
        for name in ("organisation_dashboard", "organisation_measures",
                     "organisation_measures_csv"):  # fmt: skip
            assert _page(client, user, name, org=cast.north).status_code == 404
    # A QI lead never sees another organisation's rooms, measures or figures.
    for name in ("organisation_dashboard", "organisation_measures", "organisation_measures_csv"):
        assert _page(client, cast.quinn, name, org=cast.south).status_code == 404
    client.logout()
    response = client.get(reverse("organisation_dashboard", args=[cast.north.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def test_academy_admins_choose_any_organisation_and_a_qi_lead_goes_to_theirs(client, cast):
    client.force_login(cast.ada)
    page = client.get(reverse("organisations")).content.decode()
    assert "North Acute NHS Trust" in page and "South Community Health" in page
    client.force_login(cast.quinn)
    response = client.get(reverse("organisations"))
    assert response["Location"] == reverse("organisation_dashboard", args=[cast.north.pk])
    client.force_login(cast.alice)
    assert "do not read any organisation" in client.get(reverse("organisations")).content.decode()


def test_every_measure_of_the_organisation_reads_by_its_icons_and_as_csv(client, cast, busy):
    room, _ = busy
    Measure.objects.create(room=room, name="=Falls on the ward", kind="balancing",
                           improvement="decrease", frequency="weekly", chart_type="xmr")  # fmt: skip
    response = _page(client, cast.quinn, "organisation_measures", org=cast.north)
    names = [m.name for m in response.context["measures"]]
    assert names == ["=Falls on the ward", "Time to theatre"]
    page = response.content.decode()
    assert "No data yet" in page
    theatre = response.context["measures"][1]
    assert (theatre.latest_period, theatre.latest_value) == (_monday(2), 20.0)
    assert theatre.improving
    improving = _page(client, cast.quinn, "organisation_measures", org=cast.north,
                      signal="improvement").context["measures"]  # fmt: skip
    assert [m.name for m in improving] == ["Time to theatre"]
    balancing = _page(client, cast.quinn, "organisation_measures", org=cast.north,
                      kind="balancing").context["measures"]  # fmt: skip
    assert [m.name for m in balancing] == ["=Falls on the ward"]
    download = _page(client, cast.quinn, "organisation_measures_csv", org=cast.north)
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:3] == ["measure", "room or pathway", "type"]
    assert rows[1][0] == "'=Falls on the ward"  # a formula made harmless
    assert rows[1][-1] == "No data yet"
    assert rows[2][:5] == ["Time to theatre", "Hip fracture big room", "outcome", "20",
                           _monday(2).isoformat()]  # fmt: skip
    assert rows[2][6].startswith("Special cause")
    assert all(r[1] != "Frailty big room" for r in rows)  # never another organisation's


def _rooms(organisation, coach, n: int, start: int = 0) -> None:
    """n rooms with a coach, a session, an action, a PDSA and a measure with a chart."""
    rooms = BigRoom.objects.bulk_create(
        BigRoom(
            name=f"Room {start + i:04d}",
            host=organisation,
            status="active",
            stage="testing",
            meeting_weekday=i % 5,
        )  # fmt: skip
        for i in range(n)
    )
    RoomMembership.objects.bulk_create(
        RoomMembership(room=r, user=coach, role="clinical_coach") for r in rooms
    )
    sessions = Session.objects.bulk_create(Session(room=r, held_on=_monday(1)) for r in rooms)
    Attendance.objects.bulk_create(Attendance(session=s, user=coach) for s in sessions)
    Evaluation.objects.bulk_create(Evaluation(session=s, score=8) for s in sessions)
    Action.objects.bulk_create(
        Action(room=r, what="Chase", due_on=_monday(2), owner=coach) for r in rooms
    )
    ideas = ChangeIdea.objects.bulk_create(ChangeIdea(room=r, title="Idea") for r in rooms)
    ramps = Ramp.objects.bulk_create(Ramp(change_idea=i) for i in ideas)
    PDSA.objects.bulk_create(
        PDSA(
            room=r,
            ramp=ramp,
            number=1,
            objective="Try",
            starts_on=_monday(3),
            decision="adapt",
            status="complete",
        )  # fmt: skip
        for r, ramp in zip(rooms, ramps, strict=True)
    )
    Measure.objects.bulk_create(
        Measure(room=r, name="Outcome", frequency="weekly", chart_type="xmr") for r in rooms
    )


def test_the_dashboard_makes_the_same_queries_for_10_rooms_as_for_1000(client, cast):
    client.force_login(cast.quinn)
    url = reverse("organisation_dashboard", args=[cast.north.pk])
    measures_url = reverse("organisation_measures", args=[cast.north.pk])
    _rooms(cast.north, cast.alice, 10)
    counts = []
    for more in (0, 990):
        _rooms(cast.north, cast.alice, more, start=10)
        with CaptureQueriesContext(connection) as page:
            response = client.get(url, {"sort": "stalls"})
        with CaptureQueriesContext(connection) as summary:
            listed = client.get(measures_url)
        counts.append((len(page), len(summary)))
        assert len(response.context["rows"]) == 11 + more  # and the cast's own room
        assert response.context["summary"]["stalled"] == 10 + more  # overdue actions
    assert counts[0] == counts[1], counts
    assert counts[0][0] <= 20, counts
    # A thousand and one measures: a hundred to a page, the CSV has them all.
    assert len(listed.context["measures"]) == 100
    assert "Showing 1 to 100 of 1001 matching of 1001 measures" in listed.content.decode()
    second = client.get(measures_url, {"page": 2})
    assert second.context["measures"][0].owner == "Room 0099"  # after the cast's own room


def test_the_stall_rules_are_the_rooms_own(cast, busy):
    room, second = busy
    rows = {r.room.pk: r for r in dashboard.room_rows(cast.north)}
    for each in (room, second):
        assert [s.message for s in rows[each.pk].stalls] == [s.message for s in each.stalls()]


def test_a_session_planned_ahead_is_not_the_last_session(cast):
    Session.objects.create(room=cast.room, held_on=timezone.localdate() + timedelta(days=6))
    [row] = [r for r in dashboard.room_rows(cast.north) if r.room == cast.room]
    assert (row.last_session, row.weeks_since) == (None, None)
    Session.objects.create(room=cast.room, held_on=_monday(2))
    [row] = [r for r in dashboard.room_rows(cast.north) if r.room == cast.room]
    assert (row.last_session, row.weeks_since) == (_monday(2), 2)
