"""What the programme achieves, quarter by quarter: for the whole academy, one cohort, or
one organisation. A fixed number of queries whatever the size of the programme (each
figure is counted for every quarter at once), and the figures only: no session notes,
no episode data.

Definitions (each quarter runs from its first day to the next quarter's):
- coaches trained: enrolled in a cohort that had ended by the quarter's end (for the
  quarter under way, by today);
- coaching: coaches of a room that logged a session in the eight weeks to the quarter's
  end (or to today);
- big rooms running: rooms that logged a session in the quarter; pathways covered: the
  pathways those rooms work on;
- sessions logged, and PDSA cycles completed in the quarter, by their decision;
- rooms with a sustained improvement, by the quarter's end: a room whose outcome measure
  had special-cause improvement, then a new phase started (with its reason) after it,
  the measure named by an adopted PDSA cycle that started before that phase. So a room
  that rebased its limits after a lasting change still counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from bigrooms.models import PDSA, BigRoom, RoomMembership, Session
from fca.models import Coach, Cohort, Organisation
from measures.models import Measure, Phase

QUARTERS = 8
COACHING_WEEKS = 8
DECISIONS = ("adopt", "adapt", "abandon")
COLUMNS = [
    ("coaches_trained", "Coaches trained"),
    ("coaching", "Coaching"),
    ("rooms_running", "Big rooms running"),
    ("pathways", "Pathways covered"),
    ("sessions", "Sessions logged"),
    ("adopt", "PDSAs adopted"),
    ("adapt", "PDSAs adapted"),
    ("abandon", "PDSAs abandoned"),
    ("sustained", "Rooms with a sustained improvement"),
]


@dataclass(frozen=True)
class Quarter:
    start: date
    end: date  # the next quarter's first day

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        return f"{self.start:%b}–{last:%b %Y}"


def quarters(today: date, n: int = QUARTERS) -> list[Quarter]:
    """The last n calendar quarters, ending with the one holding today."""
    month = 3 * ((today.month - 1) // 3) + 1
    starts = []
    year = today.year
    for _ in range(n):
        starts.append(date(year, month, 1))
        month -= 3
        if month < 1:
            month, year = month + 12, year - 1
    starts.reverse()
    ends = starts[1:] + [_next_quarter(starts[-1])]
    return [Quarter(s, e) for s, e in zip(starts, ends, strict=True)]


def _next_quarter(start: date) -> date:
    return date(start.year + (start.month > 9), (start.month + 2) % 12 + 1, 1)


@dataclass(frozen=True)
class Scope:
    """Whose figures: everyone's, a cohort's (the rooms its coaches coach) or an
    organisation's (the rooms it hosts, the coaches it employs)."""

    label: str
    rooms: object  # a BigRoom queryset
    coaches: object  # a Coach queryset
    key: str = ""


def scope_for(key: str) -> Scope:
    """The scope named in a request ("", "cohort-3", "organisation-5"); everyone's for a
    key that names nothing."""
    kind, _, pk = key.partition("-")
    if kind == "cohort" and pk.isdecimal() and pk.isascii():
        cohort = Cohort.objects.filter(pk=pk).first()
        if cohort:
            coaches = Coach.objects.filter(cohort=cohort)
            rooms = BigRoom.objects.filter(
                memberships__user__in=coaches.values("user"),
                memberships__role__in=RoomMembership.COACH_ROLES,
            ).distinct()
            return Scope(cohort.name, rooms, coaches, key)
    if kind == "organisation" and pk.isdecimal() and pk.isascii():
        organisation = Organisation.objects.filter(pk=pk).first()
        if organisation:
            return Scope(
                organisation.name,
                BigRoom.objects.filter(host=organisation),
                Coach.objects.filter(organisation=organisation),
                key,
            )
    return Scope("The whole academy", BigRoom.objects.all(), Coach.objects.all())


def figures(scope: Scope, today: date | None = None) -> list[dict]:
    """One row per quarter: its label and each figure of COLUMNS."""
    today = today or timezone.localdate()
    periods = quarters(today)
    rows = [{"quarter": q.label, "start": q.start} for q in periods]
    # The quarter under way is counted to today, not to its end.
    until = [min(q.end, today + timedelta(days=1)) for q in periods]

    trained = scope.coaches.aggregate(
        **{f"t{i}": Count("pk", filter=Q(cohort__ends_on__lt=end)) for i, end in enumerate(until)}
    )
    sessions = Session.objects.filter(room__in=scope.rooms.values("pk"))
    held = {i: Q(held_on__gte=q.start, held_on__lt=q.end) for i, q in enumerate(periods)}
    activity = sessions.aggregate(
        **{f"s{i}": Count("pk", filter=held[i]) for i in held},
        **{f"r{i}": Count("room", distinct=True, filter=held[i]) for i in held},
        **{f"p{i}": Count("room__pathway", distinct=True, filter=held[i]) for i in held},
    )
    coaching = sessions.filter(
        room__memberships__role__in=RoomMembership.COACH_ROLES,
        room__memberships__user__in=scope.coaches.values("user"),
    ).aggregate(
        **{f"c{i}": Count("room__memberships__user", distinct=True, filter=Q(
            held_on__gte=end - timedelta(weeks=COACHING_WEEKS), held_on__lt=end))
           for i, end in enumerate(until)}
    )  # fmt: skip
    decided = PDSA.objects.filter(
        room__in=scope.rooms.values("pk"), status=PDSA.Status.COMPLETE
    ).aggregate(
        **{
            f"{d}{i}": Count(
                "pk",
                filter=Q(decision=d, status_changed_on__gte=q.start, status_changed_on__lt=q.end),
            )  # fmt: skip
            for d in DECISIONS
            for i, q in enumerate(periods)
        }
    )
    sustained_since = sustained_improvements(scope)
    for i, (row, q) in enumerate(zip(rows, periods, strict=True)):
        row.update(
            coaches_trained=trained[f"t{i}"], coaching=coaching[f"c{i}"],
            rooms_running=activity[f"r{i}"], pathways=activity[f"p{i}"],
            sessions=activity[f"s{i}"],
            sustained=sum(1 for since in sustained_since.values() if since < q.end),
            **{d: decided[f"{d}{i}"] for d in DECISIONS},
        )  # fmt: skip
    return rows


def sustained_improvements(scope: Scope) -> dict[int, date]:
    """Each room of the scope with a sustained improvement, and since when (the start of
    the first new phase that makes it one)."""
    measures = Measure.objects.filter(
        kind=Measure.Kind.OUTCOME, room__in=scope.rooms.values("pk")
    ).values_list("pk", "room_id")
    room_of = dict(measures)
    phases = list(
        Phase.objects.filter(measure__in=list(room_of)).exclude(reason="")
        .select_related("measure__chart").only("starts_on", "measure__chart__result")
    )  # fmt: skip
    adopted: dict[int, list[date]] = {}
    for measure_id, starts_on in PDSA.measures.through.objects.filter(
        measure__in=list(room_of),
        pdsa__decision=PDSA.Decision.ADOPT,
        pdsa__status=PDSA.Status.COMPLETE,
    ).values_list("measure_id", "pdsa__starts_on"):
        adopted.setdefault(measure_id, []).append(starts_on)
    since: dict[int, date] = {}
    for phase in phases:
        chart = getattr(phase.measure, "chart", None)
        points = chart.result.get("points", []) if chart else []
        before = phase.starts_on.isoformat()
        improved = any(
            p.get("point_type") == "special_cause_improvement" and p["period"] < before
            for p in points
        )
        linked = any(start <= phase.starts_on for start in adopted.get(phase.measure_id, []))
        if improved and linked:
            room = room_of[phase.measure_id]
            since[room] = min(since.get(room, phase.starts_on), phase.starts_on)
    return since


def chart(rows: list[dict], keys: list[str], *, kind: str = "lines") -> dict:
    """A Plotly figure (as the chart pages hand them over) of some figures by quarter.
    The table beside it holds the same numbers."""
    names = dict(COLUMNS)
    colours = ["#005eb8", "#007f3b", "#330072", "#ae2573", "#ed8b00"]
    data = []
    for n, key in enumerate(keys):
        trace = {"name": names[key], "x": [r["quarter"] for r in rows],
                 "y": [r[key] for r in rows], "marker": {"color": colours[n % len(colours)]}}  # fmt: skip
        if kind == "bars":
            trace["type"] = "bar"
        else:
            trace.update(type="scatter", mode="lines+markers")
        data.append(trace)
    layout = {
        "barmode": "stack", "height": 320, "margin": {"l": 48, "r": 16, "t": 16, "b": 48},
        "legend": {"orientation": "h", "y": -0.2}, "yaxis": {"rangemode": "tozero"},
        "font": {"family": "Arial, sans-serif", "size": 14},
        "plot_bgcolor": "#ffffff", "paper_bgcolor": "#ffffff",
    }  # fmt: skip
    return {"data": data, "layout": layout}


def csv_rows(scope: Scope, rows: list[dict]):
    yield ["scope", "quarter", *(label for _, label in COLUMNS)]
    for row in rows:
        yield [scope.label, row["quarter"], *(row[key] for key, _ in COLUMNS)]
