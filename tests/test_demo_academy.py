"""The demo gives the academy and the dashboards something to say: two cohorts, a dozen
coaches, rooms at several stages of the roadmap, one of them stalled."""

from bigrooms import dashboard
from fca.demo import load_demo
from fca.models import Coach, Cohort, Organisation


def test_the_demo_has_cohorts_coaches_and_rooms_at_several_stages(db):
    load_demo()
    load_demo()  # again: nothing doubles
    assert Cohort.objects.count() == 2 and Coach.objects.count() == 12
    assert {c.kind for c in Coach.objects.all()} == {"clinical", "independent"}
    rows = [row for o in Organisation.objects.all() for row in dashboard.room_rows(o)]
    assert len({row.room.stage for row in rows}) >= 4
    assert any(s.kind == "no_sessions" for row in rows for s in row.stalls)
    paired = [row for row in rows if len(row.coaches) == 2]
    assert len(paired) >= 4
