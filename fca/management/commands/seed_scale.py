"""Realistic data at any scale, for dashboards and benchmarks (never in production).

manage.py seed_scale --organisations 1 --rooms 100 --sessions 26 --measures 10 --points 52

Each organisation gets a QI lead, a pool of staff and its big rooms; each room a team,
weekly sessions with attendance and scores, actions, change ideas with PDSA ramps, and
weekly measures whose charts are computed as the worker computes them. Seed organisations'
ODS codes start with SEED and their people's emails end @seed.example, so a second run is
refused rather than mixed in; --force adds more organisations with fresh numbers.
"""

import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock

import numpy as np
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from bigrooms.models import (
    PDSA,
    Action,
    Attendance,
    BigRoom,
    ChangeIdea,
    Evaluation,
    GlobalAim,
    PDSAQuestion,
    Ramp,
    RoomMembership,
    Session,
    StageChange,
    StatusChange,
)
from fca import twofactor
from fca.dates import week_start
from fca.models import Organisation, OrganisationMembership, User
from measures.models import Annotation, ChartResult, DataPoint, Measure, Phase
from measures.services import recompute_chart
from measures.spc import SHORT_PHASE

ODS_PREFIX = "SEED"
EMAIL_DOMAIN = "seed.example"
DEFAULT_PASSWORD = "seed-scale-big-rooms"
TEAM_MEMBERS = 6  # besides the two coaches
STAGES = list(BigRoom.Stage)
# Most rooms a year into the programme are testing changes; a few are just starting.
STAGE_WEIGHTS = [4, 7, 7, 8, 12, 10, 36, 16]

TOWNS = [
    "Ashford", "Barnsley", "Bedford", "Bolton", "Carlisle", "Chester", "Colchester", "Derby",
    "Dorset", "Durham", "Exeter", "Gateshead", "Harrogate", "Hull", "Kettering", "Lancaster",
    "Luton", "Norfolk", "Oxford", "Plymouth", "Salford", "Stockport", "Torbay", "Wirral",
]  # fmt: skip
FIRST_NAMES = [
    "Aisha", "Ben", "Chloe", "Daniel", "Efua", "Fiona", "Gareth", "Hannah", "Imran", "Jess",
    "Kwame", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Sophie", "Tom", "Zara",
]  # fmt: skip
LAST_NAMES = [
    "Ahmed", "Brown", "Campbell", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Morgan", "Nwosu", "Owen", "Patel", "Quinn", "Roberts", "Singh",
    "Taylor", "Walsh", "Young",
]  # fmt: skip
TOPICS = [
    "Hip fracture", "Frailty", "Stroke", "Sepsis", "Emergency department flow",
    "Discharge before noon", "Heart failure", "COPD", "Diabetic foot", "Maternity triage",
    "Children's asthma", "Elective orthopaedics", "Cancer 62-day pathway",
    "Outpatient follow-up", "Theatre productivity", "Acute kidney injury", "End of life care",
    "Delirium", "Falls prevention", "Same day emergency care", "Ambulance handover",
    "Medicines at discharge", "Mental health crisis", "Virtual wards",
]  # fmt: skip
NOTES = [
    "Reviewed the charts: no change yet, keep collecting.",
    "The new huddle time is working; the night team want to join.",
    "Data delayed this week: the warehouse feed failed on Monday.",
    "Agreed to test the checklist on one more ward.",
    "Patient partner asked for the discharge leaflet in plain English.",
]
STORIES = [
    "A daughter described waiting two days for her father's discharge letter.",
    "A patient told us nobody explained why his operation was cancelled twice.",
    "",
    "",
]
ACTIONS = [
    "Share the week's breach reasons with the site team",
    "Ask pharmacy for the TTO turnaround figures",
    "Draft the ward round checklist",
    "Book the room for the next quarter",
    "Invite the discharge coordinator to the next session",
    "Check the data definition with the information team",
    "Write up the patient story for the newsletter",
]
IDEAS = [
    ("Senior review at the front door", "Get a senior decision in the first hour"),
    ("Criteria-led discharge", "Nurses discharge against criteria the consultant sets"),
    ("Board round before 9am", "A short board round so the day's discharges are known early"),
    ("Discharge lounge from 8am", "Free beds in the morning, not the evening"),
    ("Therapy at weekends", "Keep patients moving on Saturdays and Sundays"),
    ("Medicines prepared the day before", "Discharge medicines ready when the patient is"),
]
STATUS_REASONS = ["Winter pressures", "Coach on leave", "Waiting for a new sponsor"]


@dataclass(frozen=True)
class Kind:
    """A kind of measure the seeder knows how to make data for."""

    name: str
    unit: str
    improvement: str
    proportion: bool
    base: float  # the usual proportion (0 to 1), or the usual value
    spread: float = 0.0  # the week-to-week standard deviation of a value
    size: int = 60  # the usual weekly denominator of a proportion
    target: float | None = None


OUTCOMES = [
    Kind("Patients reaching the ward within 4 hours", "%", "increase", True, 0.62, target=80),
    Kind("Length of stay", "days", "decrease", False, 9.5, 1.1, target=7),
    Kind("Patients home before noon", "%", "increase", True, 0.21, size=70, target=35),
]
BALANCING = [
    Kind("Readmissions within 30 days", "%", "decrease", True, 0.08, size=80),
    Kind("Staff sickness absence", "%", "decrease", False, 5.2, 0.6),
    Kind("Patients moved at night", "patients", "decrease", False, 6, 2),
]
PROCESSES = [
    Kind("Senior review within 1 hour", "%", "increase", True, 0.55, size=50, target=75),
    Kind("Time to first assessment", "minutes", "decrease", False, 48, 7),
    Kind("Board rounds started by 9am", "%", "increase", True, 0.4, size=20),
    Kind("Discharge date set on day 1", "%", "increase", True, 0.35, size=45, target=60),
    Kind("Medicines ready by 11am", "%", "increase", True, 0.3, size=30),
    Kind("Patients waiting for a bed", "patients", "decrease", False, 14, 3, target=25),
    Kind("Therapy assessment within 24 hours", "%", "increase", True, 0.5, size=35),
    Kind("Huddle attendance", "people", "increase", False, 9, 1.5, target=5),
    Kind("Referrals returned incomplete", "%", "decrease", True, 0.15, size=40),
    Kind("Ambulance handover time", "minutes", "decrease", False, 38, 6, target=30),
    Kind("Discharge letters within 24 hours", "%", "increase", True, 0.7, size=55, target=90),
    Kind("Delayed transfers of care", "patients", "decrease", False, 11, 2.5),
]

EMAIL_NUMBER = re.compile(rf"-(\d+)(?:-\d+)?@{re.escape(EMAIL_DOMAIN)}$")


@dataclass
class Plan:
    """One room as planned, before its rows exist."""

    room: BigRoom
    topic: str
    team: list[User]  # clinical coach, independent coach, then members
    held_on: list[date]  # oldest first


class Command(BaseCommand):
    help = "Seed organisations, big rooms, sessions, PDSA cycles and measures at any scale."

    def add_arguments(self, parser):
        parser.add_argument("--organisations", type=int, required=True)
        parser.add_argument("--rooms", type=int, required=True, help="per organisation")
        parser.add_argument("--sessions", type=int, required=True, help="per room")
        parser.add_argument("--measures", type=int, required=True, help="per room")
        parser.add_argument("--points", type=int, required=True, help="weekly, per measure")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="for every seeded person")
        parser.add_argument(
            "--force", action="store_true", help="add more when seed organisations exist"
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Seeding is for trying and timing the app: it refuses production.")
        for name in ("organisations", "rooms", "sessions", "measures", "points"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1, not {options[name]}")
        if not options["password"]:
            raise CommandError("--password cannot be empty")
        existing = Organisation.objects.filter(ods_code__startswith=ODS_PREFIX).count()
        if existing and not options["force"]:
            raise CommandError(
                f"{existing} seed organisation{'s' if existing != 1 else ''} (ODS codes "
                f"{ODS_PREFIX}…) already exist{'s' if existing == 1 else ''}: use --force to "
                "add more with fresh numbers"
            )
        started = time.perf_counter()
        seeder = Seeder(
            rooms=options["rooms"],
            sessions=options["sessions"],
            measures=options["measures"],
            points=options["points"],
            seed=options["seed"],
            password_hash=make_password(options["password"]),
        )
        first = first_free_number()
        for number in range(first, first + options["organisations"]):
            with transaction.atomic():
                seeder.organisation(number)
        self.report(seeder, options["password"], time.perf_counter() - started)

    def report(self, seeder: "Seeder", password: str, seconds: float) -> None:
        self.stdout.write(self.style.SUCCESS(f"Seeded in {seconds:.1f} s:"))
        for label, count in seeder.counts.items():
            self.stdout.write(f"  {label:<20}{count:>10,}")
        self.stdout.write("QI leads, who see their organisation's rooms:")
        for email, organisation in seeder.qi_leads:
            self.stdout.write(f"  {email:<32}{organisation}")
        self.stdout.write(f"  password for all: {password}")
        self.stdout.write(
            f"  two-factor key for all: {twofactor.grouped(twofactor.DEMO_SECRET)} "
            "(or `manage.py demo_code`)"
        )


def first_free_number() -> int:
    """The next organisation number: past every seed organisation and seed email, so
    people left behind by deleted organisations never collide with new ones."""
    codes = Organisation.objects.filter(ods_code__startswith=ODS_PREFIX)
    numbers = [int(c[len(ODS_PREFIX) :]) for c in codes.values_list("ods_code", flat=True)
               if c[len(ODS_PREFIX) :].isdigit()]  # fmt: skip
    emails = User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").values_list("email", flat=True)
    numbers += [int(m[1]) for e in emails.iterator() if (m := EMAIL_NUMBER.search(e))]
    return max(numbers, default=0) + 1


class Seeder:
    """Makes one organisation at a time, counting what it made.

    Rows are made with bulk_create, a few statements per kind of row for the whole
    organisation, so the time goes on computing charts rather than on round trips."""

    def __init__(self, *, rooms, sessions, measures, points, seed, password_hash):
        self.rooms, self.sessions, self.measures, self.points = rooms, sessions, measures, points
        self.seed = seed
        self.password_hash = password_hash
        self.today = timezone.localdate()
        self.counts: Counter[str] = Counter()
        self.qi_leads: list[tuple[str, str]] = []

    def organisation(self, number: int) -> Organisation:
        # Each organisation's data depends on the seed and its number alone, so a run with
        # --force makes the same organisation whatever came before it.
        self.rnd = random.Random(f"{self.seed}:{number}")
        self.np = np.random.default_rng([self.seed, number])
        town = TOWNS[(number - 1) % len(TOWNS)]
        org = Organisation.objects.create(
            name=f"{town} Hospitals NHS Foundation Trust (seed {number})",
            kind=Organisation.Kind.ACUTE_TRUST,
            ods_code=f"{ODS_PREFIX}{number:04d}",
        )
        self.counts["organisations"] += 1
        lead, pool = self.people(org, number)
        plans = self.plan_rooms(org, pool)
        self.team_rows(plans)
        sessions = self.session_rows(plans)
        self.action_rows(plans, sessions)
        measures = self.measure_rows(plans)
        self.improvement_rows(plans, measures)
        for measure in measures:
            recompute_chart(measure_id=measure.pk)
        self.counts["charts"] += ChartResult.objects.filter(measure__room__host=org).count()
        self.qi_leads.append((lead.email, org.name))
        return org

    def person(self, email: str) -> User:
        name = f"{self.rnd.choice(FIRST_NAMES)} {self.rnd.choice(LAST_NAMES)}"
        return User(email=email, full_name=name, password=self.password_hash)

    def people(self, org: Organisation, number: int) -> tuple[User, list[User]]:
        """The QI lead, and a pool of staff the rooms' teams are drawn from: people sit in
        a few rooms each, as they do, which keeps the number of users sane."""
        lead = self.person(f"qi-lead-{number}@{EMAIL_DOMAIN}")
        pool = [
            self.person(f"person-{number}-{k}@{EMAIL_DOMAIN}")
            for k in range(1, 2 + TEAM_MEMBERS + 2 * self.rooms + 1)
        ]
        User.objects.bulk_create([lead, *pool])
        roles = OrganisationMembership.Role
        OrganisationMembership.objects.bulk_create(
            [OrganisationMembership(user=lead, organisation=org, role=roles.QI_LEAD)]
            + [OrganisationMembership(user=u, organisation=org, role=roles.STAFF) for u in pool]
        )
        self.counts["users"] += 1 + len(pool)
        # Two-factor sign-in, as QI leads must: the demo's known key (see the report).
        twofactor.demo_device(User.objects.get(email=lead.email))
        return lead, pool

    def meeting_days(self, weekday: int, status: str) -> list[date]:
        """The room's session dates, oldest first: weekly on its day, back from today, some
        weeks skipped; a stood-down room, and a few others, stopped meeting weeks ago."""
        latest = self.today - timedelta(days=(self.today.weekday() - weekday) % 7)
        if status == BigRoom.Status.STOOD_DOWN or self.rnd.random() < 0.15:
            latest -= timedelta(weeks=self.rnd.randint(4, 12))
        days, week = [], 0
        while len(days) < self.sessions:
            if not days or self.rnd.random() > 0.12:
                days.append(latest - timedelta(weeks=week))
            week += 1
        return days[::-1]

    def plan_rooms(self, org: Organisation, pool: list[User]) -> list[Plan]:
        plans = []
        for i in range(self.rooms):
            stage = self.rnd.choices(STAGES, STAGE_WEIGHTS)[0]
            roll = self.rnd.random()
            if roll < 0.08:
                status = BigRoom.Status.STOOD_DOWN
            elif roll < 0.14:
                status, stage = BigRoom.Status.FORMING, self.rnd.choice(STAGES[:2])
            else:
                status = BigRoom.Status.ACTIVE
            topic = TOPICS[i % len(TOPICS)]
            lap = i // len(TOPICS)
            weekday = self.rnd.choice([0, 1, 1, 2, 3, 3, 4])
            room = BigRoom(
                name=f"{topic} big room" + (f" {lap + 1}" if lap else ""),
                host=org,
                purpose=f"Patients on the {topic.lower()} pathway get the right care, "
                "first time, without waiting.",
                sponsor="Chief Operating Officer",
                status=status,
                status_reason=self.rnd.choice(STATUS_REASONS) if status == "stood_down" else "",
                stage=stage,
                meeting_weekday=weekday,
                meeting_time=clock(self.rnd.choice([8, 12, 13, 16]), self.rnd.choice([0, 30])),
                meeting_place=f"Seminar room {self.rnd.randint(1, 6)}, education centre",
            )
            team = self.rnd.sample(pool, 2 + TEAM_MEMBERS)
            plans.append(Plan(room, topic, team, self.meeting_days(weekday, status)))
        BigRoom.objects.bulk_create([p.room for p in plans])
        # created_at is set on insert: backdate it to before the room's first session.
        for plan in plans:
            plan.room.created_at = self.moment(plan.held_on[0] - timedelta(days=14), 9)
        BigRoom.objects.bulk_update([p.room for p in plans], ["created_at"], batch_size=500)
        self.counts["big rooms"] += len(plans)
        return plans

    def moment(self, day: date, hour: int) -> datetime:
        return timezone.make_aware(datetime.combine(day, clock(hour)))

    def team_rows(self, plans: list[Plan]) -> None:
        """Memberships, and each room's journey along the roadmap and its status changes."""
        roles, team_roles = RoomMembership.Role, list(RoomMembership.TeamRole)[:6]
        memberships, stages, statuses, aims = [], [], [], []
        for plan in plans:
            room, (clinical, independent, *members) = plan.room, plan.team
            memberships += [
                RoomMembership(room=room, user=clinical, role=roles.CLINICAL_COACH,
                               team_role="doctor", can_contribute_data=True),
                RoomMembership(room=room, user=independent, role=roles.INDEPENDENT_COACH,
                               team_role="manager", can_contribute_data=True),
            ] + [
                RoomMembership(room=room, user=user, role=roles.MEMBER,
                               team_role=self.rnd.choice(team_roles),
                               can_contribute_data=self.rnd.random() < 0.3)
                for user in members
            ]  # fmt: skip
            reached = STAGES.index(room.stage)
            start, end = plan.held_on[0] - timedelta(weeks=2), plan.held_on[-1]
            step = (end - start) / (reached + 1)
            stages += [
                StageChange(room=room, stage=stage, changed_on=start + step * k,
                            changed_by=clinical)
                for k, stage in enumerate(STAGES[: reached + 1])
            ]  # fmt: skip
            if room.status != BigRoom.Status.FORMING:
                statuses.append(StatusChange(room=room, status="active", changed_on=start))
            if room.status == BigRoom.Status.STOOD_DOWN:
                statuses.append(
                    StatusChange(room=room, status="stood_down", reason=room.status_reason,
                                 changed_on=end + timedelta(weeks=1), changed_by=clinical)
                )  # fmt: skip
            if reached >= STAGES.index(BigRoom.Stage.GLOBAL_AIM):
                aims.append(
                    GlobalAim(
                        room=room, updated_by=clinical,
                        where=f"Everyone on the {plan.topic.lower()} pathway",
                        looks_like="Care without waits that do nothing for the patient",
                        why="Every day spent waiting in hospital costs older people "
                        "their strength and independence",
                    )
                )  # fmt: skip
        RoomMembership.objects.bulk_create(memberships, batch_size=2000)
        StageChange.objects.bulk_create(stages, batch_size=2000)
        StatusChange.objects.bulk_create(statuses, batch_size=2000)
        GlobalAim.objects.bulk_create(aims, batch_size=2000)
        self.counts["room memberships"] += len(memberships)

    def session_rows(self, plans: list[Plan]) -> dict[int, list[Session]]:
        """Sessions with their attendance and anonymous scores; the room's sessions by
        room id, oldest first."""
        sessions: dict[int, list[Session]] = {}
        for plan in plans:
            room, team = plan.room, plan.team
            start = room.meeting_time
            sessions[room.pk] = [
                Session(
                    room=room,
                    held_on=day,
                    guests=self.rnd.randint(0, 3),
                    chair=team[0],
                    timekeeper=self.rnd.choice(team[2:]),
                    note_keeper=self.rnd.choice(team[2:]),
                    facilitator=team[1],
                    patient_story=self.rnd.choice(STORIES),
                    notes=self.rnd.choice(NOTES),
                    created_by=team[0],
                    finished_at=self.moment(day, start.hour + 1),
                )
                for day in plan.held_on
            ]
        made = [s for room_sessions in sessions.values() for s in room_sessions]
        Session.objects.bulk_create(made, batch_size=2000)
        attendances, scores = [], []
        for plan in plans:
            # Some rooms run better meetings than others: their scores say so.
            usual = self.rnd.uniform(6, 9)
            for session in sessions[plan.room.pk]:
                for k, user in enumerate(plan.team):
                    if self.rnd.random() < (0.92 if k < 2 else 0.7):
                        mode = "online" if self.rnd.random() < 0.3 else "in_room"
                        attendances.append(Attendance(session=session, user=user, mode=mode))
                scores += [
                    Evaluation(session=session,
                               score=min(10, max(0, round(self.rnd.gauss(usual, 1.3)))))
                    for _ in range(self.rnd.randint(3, 8))
                ]  # fmt: skip
        Attendance.objects.bulk_create(attendances, batch_size=5000)
        Evaluation.objects.bulk_create(scores, batch_size=5000)
        self.counts["sessions"] += len(made)
        self.counts["attendances"] += len(attendances)
        self.counts["evaluations"] += len(scores)
        return sessions

    def action_rows(self, plans: list[Plan], sessions: dict[int, list[Session]]) -> None:
        """A few actions a room: done, dropped, due, and some open past their date."""
        actions = []
        for plan in plans:
            recent = sessions[plan.room.pk][-6:]
            for what in self.rnd.sample(ACTIONS, self.rnd.randint(2, 5)):
                raised = self.rnd.choice(recent)
                due = raised.held_on + timedelta(weeks=self.rnd.randint(1, 4))
                if due >= self.today:
                    status = Action.Status.OPEN
                else:
                    status = self.rnd.choices(list(Action.Status), [35, 55, 10])[0]
                actions.append(
                    Action(room=plan.room, raised_in=raised, what=what, due_on=due,
                           status=status, owner=self.rnd.choice(plan.team),
                           chaser=plan.team[0])
                )  # fmt: skip
        Action.objects.bulk_create(actions, batch_size=2000)
        self.counts["actions"] += len(actions)

    def measure_rows(self, plans: list[Plan]) -> list[Measure]:
        """M measures a room: an outcome, a balancing measure, then process measures, with
        a weekly point for each of the last P weeks; about half show a real change."""
        measures, kinds = [], []
        for plan in plans:
            chosen = [(Measure.Kind.OUTCOME, self.rnd.choice(OUTCOMES))]
            if self.measures >= 2:
                chosen.append((Measure.Kind.BALANCING, self.rnd.choice(BALANCING)))
            offset = self.rnd.randrange(len(PROCESSES))
            for k in range(self.measures - len(chosen)):
                chosen.append((Measure.Kind.PROCESS, PROCESSES[(offset + k) % len(PROCESSES)]))
            for k, (role, kind) in enumerate(chosen):
                lap = (k - 2) // len(PROCESSES) if role == Measure.Kind.PROCESS else 0
                measures.append(
                    Measure(
                        room=plan.room,
                        name=kind.name + (f" ({lap + 1})" if lap else ""),
                        unit=kind.unit,
                        improvement=kind.improvement,
                        frequency=Measure.Frequency.WEEKLY,
                        kind=role,
                        shape=Measure.Shape.PROPORTION if kind.proportion else Measure.Shape.VALUE,
                        chart_type=Measure.ChartType.P if kind.proportion else Measure.ChartType.XMR,
                        definition=f"{kind.name}, each week from Monday to Sunday.",
                        numerator_definition="Patients who met the standard" if kind.proportion else "",
                        denominator_definition="All eligible patients" if kind.proportion else "",
                        data_source="The trust's data warehouse, weekly extract",
                        owner=self.rnd.choice(plan.team[:2]),
                        target=kind.target,
                        data_version=1,  # as the first save of its data would have left it
                    )
                )  # fmt: skip
                kinds.append(kind)
        Measure.objects.bulk_create(measures, batch_size=2000)
        last = week_start(self.today) - timedelta(weeks=1)
        periods = [last - timedelta(weeks=k) for k in range(self.points - 1, -1, -1)]
        points, phases, notes = [], [], []
        for measure, kind in zip(measures, kinds, strict=True):
            step = self.series(measure, kind, periods, points)
            if step is None:
                continue
            by = measure.owner
            notes.append(Annotation(measure=measure, on=periods[step], text="New process began",
                                    created_by=by))  # fmt: skip
            # A coach sometimes starts a new phase at a lasting change, when both sides
            # are long enough to have limits of their own.
            enough = step >= SHORT_PHASE and self.points - step >= SHORT_PHASE
            if enough and self.rnd.random() < 0.5:
                phases.append(Phase(measure=measure, starts_on=periods[step], created_by=by,
                                    reason="The new process is now standard"))  # fmt: skip
        DataPoint.objects.bulk_create(points, batch_size=5000)
        Annotation.objects.bulk_create(notes, batch_size=2000)
        Phase.objects.bulk_create(phases, batch_size=2000)
        self.counts["measures"] += len(measures)
        self.counts["data points"] += len(points)
        return measures

    def series(self, measure: Measure, kind: Kind, periods: list[date], out: list) -> int | None:
        """Append the measure's points to ``out``; returns where its step change falls."""
        n = len(periods)
        better = 1 if kind.improvement == Measure.Improvement.INCREASE else -1
        shift = np.zeros(n)
        step = None
        roll = self.rnd.random()
        if roll < 0.5 and n >= 4:
            # A step change: mostly for the better, sometimes not.
            step = self.rnd.randint(n // 2, max(n // 2, n - 4))
            sign = better if self.rnd.random() < 0.8 else -better
            shift[step:] = sign * self.rnd.uniform(2, 4)
        elif roll < 0.6 and n >= 8:
            shift[-8:] = better * np.linspace(0.5, 4, 8)  # drifting the right way
        if kind.proportion:
            p = np.clip(kind.base + shift * 0.04, 0.01, 0.99)
            denominators = np.maximum(1, self.np.poisson(kind.size, n))
            numerators = self.np.binomial(denominators, p)
            for period, num, den in zip(periods, numerators, denominators, strict=True):
                out.append(DataPoint(measure=measure, period=period, value=100 * num / den,
                                     numerator=float(num), denominator=float(den)))  # fmt: skip
        else:
            values = kind.base + kind.spread * (shift + self.np.standard_normal(n))
            decimals = 0 if kind.unit in {"patients", "people"} else 1
            values = np.maximum(0, values).round(decimals)
            out.extend(
                DataPoint(measure=measure, period=period, value=float(value))
                for period, value in zip(periods, values, strict=True)
            )
        return step

    def improvement_rows(self, plans: list[Plan], measures: list[Measure]) -> None:
        """Change ideas for rooms that have reached them; PDSA ramps for those testing,
        each cycle linked to the room's outcome measure, so its start shows on the chart."""
        outcome = {m.room_id: m for m in measures if m.kind == Measure.Kind.OUTCOME}
        idea_rows, ramp_rows, cycles = [], [], []
        testing_from = STAGES.index(BigRoom.Stage.CHANGE_IDEAS)
        for plan in plans:
            reached = STAGES.index(plan.room.stage)
            if reached < testing_from:
                continue
            for title, description in self.rnd.sample(IDEAS, self.rnd.randint(1, 3)):
                idea = ChangeIdea(room=plan.room, title=title, description=description)
                idea_rows.append(idea)
                if plan.room.stage in BigRoom.TESTING_STAGES or self.rnd.random() < 0.3:
                    ramp = Ramp(change_idea=idea)
                    ramp_rows.append(ramp)
                    cycles += self.ramp_cycles(plan, ramp)
        # bulk_create fills in each row's foreign key from its parent saved just before.
        ChangeIdea.objects.bulk_create(idea_rows, batch_size=2000)
        Ramp.objects.bulk_create(ramp_rows, batch_size=2000)
        PDSA.objects.bulk_create(cycles, batch_size=2000)
        Link = PDSA.measures.through
        Link.objects.bulk_create(
            [Link(pdsa=c, measure=outcome[c.room_id]) for c in cycles], batch_size=5000
        )
        reached = {PDSA.Status.ACTING, PDSA.Status.COMPLETE}
        PDSAQuestion.objects.bulk_create(
            [
                PDSAQuestion(pdsa=c, question="How many patients will the change reach?",
                             prediction="About half in the first week",
                             result="Two in five" if c.status in reached else "")
                for c in cycles
            ],
            batch_size=5000,
        )  # fmt: skip
        self.counts["change ideas"] += len(idea_rows)
        self.counts["PDSA cycles"] += len(cycles)

    def ramp_cycles(self, plan: Plan, ramp: Ramp) -> list[PDSA]:
        """One to four cycles, each starting after the last ended, spread over the last
        year. Every cycle but the last is complete (adapted); the last is anywhere."""
        count = self.rnd.randint(1, 4)
        starts = self.today - timedelta(days=self.rnd.randint(30 * count, 360))
        statuses = list(PDSA.Status)
        cycles = []
        for number in range(1, count + 1):
            last = number == count
            ends = min(starts + timedelta(weeks=self.rnd.randint(1, 4)), self.today)
            status = self.rnd.choice(statuses) if last else PDSA.Status.COMPLETE
            done = status == PDSA.Status.COMPLETE
            decision = ""
            if done:
                options = list(PDSA.Decision) if last else [PDSA.Decision.ADAPT]
                decision = self.rnd.choices(options, [3, 5, 2][: len(options)])[0]
            moved = ends if done else min(starts + timedelta(days=self.rnd.randint(0, 21)), ends)
            underway = status != PDSA.Status.PLANNING
            cycles.append(
                PDSA(
                    room=plan.room, ramp=ramp, number=number, status=status,
                    status_changed_on=moved, objective="Find out whether the change "
                    "works on a small scale", scale=self.rnd.choice(
                        ["One patient", "One ward, one morning", "Every weekday for a week"]),
                    what="Try the change and count who it reached", who=plan.team[0].full_name,
                    where="Ward 7", starts_on=starts, ends_on=ends if done else None,
                    what_happened="Ran as planned, with two misses" if underway else "",
                    learning="It works when the senior nurse leads it"
                    if status in {PDSA.Status.ACTING, PDSA.Status.COMPLETE} else "",
                    decision=decision, next_step="Try it on a second ward" if done else "",
                    created_by=plan.team[0],
                )
            )  # fmt: skip
            starts = ends + timedelta(days=self.rnd.randint(3, 14))
            if starts > self.today:
                break
        return cycles
