"""What an organisation's dashboard shows: every big room it hosts at a glance, and every
measure's icons. Read-only, and built from a fixed number of queries however many rooms
the organisation has (each fact is gathered for all rooms at once, never room by room);
the stall rules are cadence's, the same as on each room's page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Avg, Count, F, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from bigrooms import cadence
from bigrooms.models import (
    PDSA,
    Action,
    Attendance,
    BigRoom,
    Evaluation,
    RoomMembership,
    Session,
    StageChange,
    StatusChange,
)
from fca.models import Organisation
from measures.charts import ASSURANCE_WORDS, VARIATION_WORDS
from measures.models import DataPoint, Measure

TREND_WEEKS = 12  # the sparklines' span: a quarter of weekly sessions
# Meetings missed in a row are counted back over this span at most (a room's page counts
# back to its first session); whether a room is flagged is the same either way.
LOGGED_WEEKS = 104
DECISIONS = (PDSA.Decision.ADOPT, PDSA.Decision.ADAPT, PDSA.Decision.ABANDON)


@dataclass
class MeasureIcons:
    """A measure as the dashboard shows it: its icons, without its chart's points."""

    pk: int
    name: str
    kind: str
    unit: str
    target: float | None
    frequency: str
    variation: str | None
    assurance: str | None
    icons_ready: bool
    chart_type: str
    latest_value: float | None = None
    latest_period: date | None = None
    owner: str = ""  # the room, or the pathway, it belongs to
    room_id: int | None = None
    pathway_id: int | None = None

    @property
    def improving(self) -> bool:
        return bool(self.icons_ready and (self.variation or "").startswith("improvement"))

    @property
    def status_words(self) -> str:
        """What the icons say, in words (for the CSV and the screen reader)."""
        if self.latest_period is None:
            return "No data yet"
        if self.chart_type == "run":
            return "Run chart: no variation icons"
        if not self.icons_ready:
            return "Not enough data yet"
        words = VARIATION_WORDS.get(self.variation, "")
        if self.assurance:
            words += f"; {ASSURANCE_WORDS[self.assurance]}"
        return words


@dataclass
class RoomRow:
    room: BigRoom
    coaches: list[tuple[int, str]] = field(default_factory=list)  # (user id, name)
    last_session: date | None = None
    weeks_since: int | None = None
    attendance: list[int] = field(default_factory=list)  # recent sessions, oldest first
    evaluation: list[float] = field(default_factory=list)
    open_actions: int = 0
    overdue_actions: int = 0
    decisions: dict[str, int] = field(default_factory=dict)  # this quarter, by decision
    outcome: list[MeasureIcons] = field(default_factory=list)
    balancing: list[MeasureIcons] = field(default_factory=list)
    stalls: list[cadence.Stall] = field(default_factory=list)

    @property
    def improving(self) -> bool:
        """Special-cause improvement on an outcome measure."""
        return any(m.improving for m in self.outcome)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def measure_icons(measures) -> list[MeasureIcons]:
    """Each measure's icons and latest complete value, read from its stored chart and
    its points in the one query: no chart's points are loaded."""
    latest = DataPoint.objects.filter(measure=OuterRef("pk"), provisional=False).order_by("-period")
    rows = measures.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_period=Subquery(latest.values("period")[:1]),
    ).values(
        "pk", "name", "kind", "unit", "target", "frequency", "chart_type",
        "chart__variation_icon", "chart__assurance_icon", "chart__icons_ready",
        "latest_value", "latest_period", "room__name",
        "pathway__name", "room_id", "pathway_id",
    )  # fmt: skip
    icons = []
    for row in rows:
        icon = MeasureIcons(
            pk=row["pk"], name=row["name"], kind=row["kind"], unit=row["unit"],
            target=row["target"], frequency=row["frequency"], chart_type=row["chart_type"],
            variation=row["chart__variation_icon"] or None,
            assurance=row["chart__assurance_icon"] or None,
            icons_ready=bool(row["chart__icons_ready"]),
            latest_value=row["latest_value"], latest_period=row["latest_period"],
            owner=row["room__name"] or row["pathway__name"] or "", room_id=row["room_id"],
            pathway_id=row["pathway_id"],
        )  # fmt: skip
        icons.append(icon)
    return icons


def room_rows(organisation: Organisation, today: date | None = None) -> list[RoomRow]:
    """One row per big room the organisation hosts, in name order."""
    today = today or timezone.localdate()
    rooms = list(BigRoom.objects.filter(host=organisation).select_related("pathway"))
    rows = {room.pk: RoomRow(room=room) for room in rooms}
    if not rows:
        return []
    in_org = {"room__host": organisation}

    for m in (
        RoomMembership.objects.filter(role__in=RoomMembership.COACH_ROLES, **in_org)
        .select_related("user")
        .order_by("role", "user__full_name")
    ):
        rows[m.room_id].coaches.append((m.user_id, m.user.full_name or m.user.email))

    # Sessions: first and last, the recent trend, and the weeks logged (for the stalls).
    firsts = {}
    for s in (
        Session.objects.filter(**in_org)
        .values("room")
        .annotate(first=Min("held_on"), last=Max("held_on", filter=Q(held_on__lte=today)))
    ):
        firsts[s["room"]] = s["first"]
        if s["last"] is not None:  # else only sessions planned ahead
            rows[s["room"]].last_session = s["last"]
            rows[s["room"]].weeks_since = (today - s["last"]).days // 7
    present = (
        Attendance.objects.filter(session=OuterRef("pk"))
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    score = (
        Evaluation.objects.filter(session=OuterRef("pk"))
        .values("session")
        .annotate(mean=Avg("score"))
        .values("mean")
    )
    recent = (
        Session.objects.filter(held_on__gt=today - timedelta(weeks=TREND_WEEKS), **in_org)
        .annotate(present=Coalesce(Subquery(present), 0) + F("guests"), score=Subquery(score))
        .order_by("held_on", "pk")
        .values("room", "present", "score")
    )
    for s in recent:
        rows[s["room"]].attendance.append(s["present"])
        if s["score"] is not None:
            rows[s["room"]].evaluation.append(round(s["score"], 1))
    logged = defaultdict(list)
    for room_id, held_on in Session.objects.filter(
        held_on__gt=today - timedelta(weeks=LOGGED_WEEKS), **in_org
    ).values_list("room", "held_on"):
        logged[room_id].append(held_on)

    for a in (
        Action.objects.filter(status=Action.Status.OPEN, **in_org)
        .values("room")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
    ):
        rows[a["room"]].open_actions, rows[a["room"]].overdue_actions = a["n"], a["overdue"]

    quarter = quarter_start(today)
    last_move = {}
    for p in (
        PDSA.objects.filter(**in_org)
        .values("room")
        .annotate(
            last=Max("status_changed_on"),
            **{
                # a decision counts once its cycle is complete, as on the room's page
                d.value: Count(
                    "pk",
                    filter=Q(
                        decision=d, status=PDSA.Status.COMPLETE, status_changed_on__gte=quarter
                    ),
                )  # fmt: skip
                for d in DECISIONS
            },
        )
    ):
        last_move[p["room"]] = p["last"]
        rows[p["room"]].decisions = {d.value: p[d.value] for d in DECISIONS if p[d.value]}
    reached = dict(
        StageChange.objects.filter(stage__in=BigRoom.TESTING_STAGES, **in_org)
        .values("room")
        .annotate(on=Max("changed_on"))
        .values_list("room", "on")
    )
    changes = defaultdict(list)
    for room_id, status, on in (
        StatusChange.objects.filter(**in_org)
        .order_by("changed_on", "pk")
        .values_list("room", "status", "changed_on")
    ):
        changes[room_id].append((status, on))

    _add_measures(rows, rooms)

    for room in rooms:
        if room.status != BigRoom.Status.ACTIVE:
            continue
        row = rows[room.pk]
        expected = []
        if room.meeting_weekday is not None:
            created = timezone.localdate(room.created_at)
            expected = cadence.expected_meetings(
                weekday=room.meeting_weekday,
                start=min(filter(None, (firsts.get(room.pk), created))),
                end=today - timedelta(days=1),
                nation=organisation.nation,
                paused=cadence.paused_spans(changes[room.pk]),
            )
        testing = room.stage in BigRoom.TESTING_STAGES
        row.stalls = cadence.stalls(
            expected=expected,
            logged=logged[room.pk],
            overdue=row.overdue_actions,
            standstill=cadence.pdsa_standstill(
                testing=testing,
                last_move=last_move.get(room.pk),
                reached=reached.get(room.pk) or timezone.localdate(room.created_at),
                today=today,
            ),
        )
    return list(rows.values())


def _add_measures(rows: dict[int, RoomRow], rooms: list[BigRoom]) -> None:
    """Each room's outcome and balancing measures, its own and its pathway's."""
    pathways = defaultdict(list)
    for room in rooms:
        if room.pathway_id:
            pathways[room.pathway_id].append(room.pk)
    kinds = (Measure.Kind.OUTCOME, Measure.Kind.BALANCING)
    measures = Measure.objects.filter(
        Q(room_id__in=list(rows)) | Q(pathway_id__in=list(pathways)), kind__in=kinds
    ).order_by("name", "pk")
    for icon in measure_icons(measures):
        for room_id in [icon.room_id] if icon.room_id else pathways[icon.pathway_id]:
            target = rows[room_id].outcome if icon.kind == "outcome" else rows[room_id].balancing
            target.append(icon)


def summary(organisation: Organisation, rows: list[RoomRow], today: date | None = None) -> dict:
    """The four numbers above the table (of every room, whatever the table shows)."""
    today = today or timezone.localdate()
    month = today.replace(day=1)
    return {
        "running": sum(r.room.status == BigRoom.Status.ACTIVE for r in rows),
        "stalled": sum(bool(r.stalls) for r in rows),
        "improving": sum(r.improving for r in rows),
        "sessions_this_month": Session.objects.filter(
            room__host=organisation, held_on__gte=month, held_on__lte=today
        ).count(),
    }


def organisation_measures(organisation: Organisation) -> list[MeasureIcons]:
    """Every measure of the organisation: its rooms' and its pathways'."""
    measures = Measure.objects.filter(
        Q(room__host=organisation) | Q(pathway__host=organisation)
    ).order_by("room__name", "pathway__name", "name", "pk")
    return measure_icons(measures)


STAGE_ORDER = {stage: i for i, stage in enumerate(BigRoom.Stage.values)}
SORT_KEYS = {
    "name": lambda r: r.room.name.lower(),
    "stage": lambda r: (STAGE_ORDER[r.room.stage], r.room.name.lower()),
    # a room never logged first, then the longest since a session
    "last_session": lambda r: (r.last_session is not None, r.last_session or date.min),
    "overdue": lambda r: (-r.overdue_actions, r.room.name.lower()),
    "stalls": lambda r: (-len(r.stalls), r.room.name.lower()),
}


def choose(rows: list[RoomRow], *, stage="", pathway="", coach="", stalled=False,
           sort="") -> list[RoomRow]:  # fmt: skip
    """The rows the dashboard's filters keep, in the order asked for (name by default)."""
    kept = [
        r for r in rows
        if (not stage or r.room.stage == stage)
        and (not pathway or str(r.room.pathway_id) == pathway)
        and (not coach or any(str(pk) == coach for pk, _ in r.coaches))
        and (not stalled or r.stalls)
    ]  # fmt: skip
    return sorted(kept, key=SORT_KEYS.get(sort or "name", SORT_KEYS["name"]))


def choose_measures(measures: list[MeasureIcons], *, kind="", signal="", search=""):
    """The measures the summary's filters keep."""
    search = search.strip().lower()

    def shows(m: MeasureIcons) -> bool:
        ready = m.icons_ready and m.chart_type != "run"
        return {
            "": True,
            "improvement": ready and (m.variation or "").startswith("improvement"),
            "concern": ready and (m.variation or "").startswith("concern"),
            "common_cause": ready and m.variation == "common_cause",
            "fail": ready and m.assurance == "fail",
            "not_ready": not ready,
        }[signal]

    return [
        m for m in measures
        if (not kind or m.kind == kind) and shows(m)
        and (not search or search in m.name.lower() or search in m.owner.lower())
    ]  # fmt: skip


CSV_COLUMNS = ("measure", "room or pathway", "type", "latest value", "latest period", "target",
               "variation", "assurance", "in words")  # fmt: skip


def measure_csv_rows(measures: list[MeasureIcons]):
    """The summary for a download: a heading, then a row per measure."""
    yield CSV_COLUMNS
    for m in measures:
        ready = m.icons_ready and m.chart_type != "run"
        yield (
            m.name, m.owner, m.kind, m.latest_value,
            m.latest_period.isoformat() if m.latest_period else "", m.target,
            VARIATION_WORDS.get(m.variation, "") if ready else "",
            ASSURANCE_WORDS.get(m.assurance, "") if ready else "", m.status_words,
        )  # fmt: skip
