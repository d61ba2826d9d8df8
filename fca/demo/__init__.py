"""The demo: two acute trusts, their people and big rooms, with real A&E figures, and the
academy's cohorts and coaches.

For `make run` and trying the app; the management command refuses production settings."""

import csv
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from bigrooms.models import BigRoom, RoomMembership
from fca import twofactor
from fca.models import Organisation, OrganisationMembership, User
from measures.models import Measure
from measures.services import save_data_points

DEMO_PASSWORD = "bigroom-demo-2026"
DATA = Path(__file__).parent / "ae_attendances_rf4_rr8.csv"

TRUSTS = [
    {
        "ods_code": "RF4",
        "name": "Barking, Havering and Redbridge University Hospitals NHS Trust",
        "room": "Emergency department flow (Queen's Hospital)",
        "people": {
            "coach": ("coach@bhr.demo.nhs.uk", "Amira Khan"),
            "member": ("member@bhr.demo.nhs.uk", "Ben Clarke"),
            "qi_lead": ("qilead@bhr.demo.nhs.uk", "Grace Obi"),
        },
    },
    {
        "ods_code": "RR8",
        "name": "Leeds Teaching Hospitals NHS Trust",
        "room": "Emergency department flow (Leeds General Infirmary)",
        "people": {
            "coach": ("coach@leeds.demo.nhs.uk", "Owen Davies"),
            "member": ("member@leeds.demo.nhs.uk", "Priya Shah"),
            "qi_lead": ("qilead@leeds.demo.nhs.uk", "Harriet Moore"),
        },
    },
]
ACADEMY_ADMIN = ("admin@academy.demo.nhs.uk", "Sam Patel")


def demo_sign_ins() -> list[tuple[str, str, str]]:
    """(role, email, organisation) of each demo person; all share DEMO_PASSWORD."""
    rows = []
    for trust in TRUSTS:
        for role, (email, _name) in trust["people"].items():
            rows.append((role.replace("_", " ").replace("qi", "QI"), email, trust["name"]))
    rows.append(("academy admin", ACADEMY_ADMIN[0], "the academy"))
    return rows


def _monthly_totals(ods_code: str) -> list[tuple[date, int, int]]:
    """(month, attendances, breaches) of every department type of one trust."""
    totals: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    with DATA.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["org_code"] == ods_code:
                month = date.fromisoformat(row["period"])
                totals[month][0] += int(row["attendances"])
                totals[month][1] += int(row["breaches"])
    return [(month, a, b) for month, (a, b) in sorted(totals.items())]


def _person(email: str, name: str, **fields) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name, **fields)
    return user


def load_demo() -> None:
    with transaction.atomic():
        # Two-factor sign-in for the admin and the QI leads, with the demo's known key.
        twofactor.demo_device(_person(*ACADEMY_ADMIN, is_academy_admin=True))
        for trust in TRUSTS:
            organisation, _ = Organisation.objects.get_or_create(
                ods_code=trust["ods_code"],
                defaults={"name": trust["name"], "kind": Organisation.Kind.ACUTE_TRUST},
            )
            people = {role: _person(*who) for role, who in trust["people"].items()}
            twofactor.demo_device(people["qi_lead"])
            for role, user in people.items():
                OrganisationMembership.objects.get_or_create(
                    user=user,
                    organisation=organisation,
                    defaults={"role": "qi_lead" if role == "qi_lead" else "staff"},
                )
            room, _ = BigRoom.objects.get_or_create(
                host=organisation,
                name=trust["room"],
                defaults={
                    "purpose": "Patients are seen, treated and admitted or discharged within "
                    "four hours of arriving in the emergency department."
                },
            )
            RoomMembership.objects.get_or_create(
                room=room,
                user=people["coach"],
                defaults={"role": RoomMembership.Role.CLINICAL_COACH},
            )
            RoomMembership.objects.get_or_create(
                room=room, user=people["member"], defaults={"role": RoomMembership.Role.MEMBER}
            )
            _load_measures(room, trust["ods_code"])
            _load_sessions(room, people, year=trust["ods_code"] == "RF4")
            if trust["ods_code"] == "RF4":
                _load_story(room, people)
                _load_pathway(organisation, room)
        _load_academy()


def _load_measures(room: BigRoom, ods_code: str) -> None:
    months = _monthly_totals(ods_code)
    source = "NHS England A&E Attendances and Emergency Admissions"
    performance, _ = Measure.objects.get_or_create(
        room=room,
        name="Patients seen within 4 hours",
        defaults={
            "kind": Measure.Kind.OUTCOME,
            "shape": Measure.Shape.PROPORTION,
            "unit": "%",
            "improvement": Measure.Improvement.INCREASE,
            "frequency": Measure.Frequency.MONTHLY,
            "target": 95,
            "chart_type": Measure.ChartType.P,
            # Tens of thousands of attendances a month: plain p-chart limits are too narrow.
            "laney": True,
            "definition": "Of all attendances at the trust's A&E departments in the month "
            "(every type), the percentage who left within four hours of arriving.",
            "numerator_definition": "Attendances that left A&E within 4 hours",
            "denominator_definition": "All A&E attendances",
            "data_source": source,
        },
    )
    attendances, _ = Measure.objects.get_or_create(
        room=room,
        name="A&E attendances",
        defaults={
            "kind": Measure.Kind.BALANCING,
            "unit": "attendances",
            "improvement": Measure.Improvement.NEUTRAL,
            "frequency": Measure.Frequency.MONTHLY,
            "chart_type": Measure.ChartType.XMR,
            "definition": "Attendances at all the trust's A&E departments in the month.",
            "data_source": source,
        },
    )
    lines = enumerate(months, start=2)
    rows = [(line, month, total, breaches) for line, (month, total, breaches) in lines]
    save_data_points(
        measure=performance,
        rows=[
            (line, month, (float(total - breaches), float(total)))
            for line, month, total, breaches in rows
        ],
    )
    save_data_points(
        measure=attendances,
        rows=[(line, month, (float(total),)) for line, month, total, _ in rows],
    )


def _load_sessions(room: BigRoom, people: dict, *, year: bool) -> None:
    """Weekly Tuesday sessions with attendance, roles, actions and evaluations. With
    ``year``: a year of them, stood down for August, and the last three meetings missed,
    so the room shows a stall; otherwise the last three weeks."""
    from bigrooms.models import Action, Attendance, Evaluation, Session, StatusChange
    from bigrooms.services import refresh_session_measures

    if room.sessions.exists():
        return
    today = timezone.localdate()
    last_tuesday = today - timedelta(days=(today.weekday() - 1) % 7)
    room.meeting_weekday, room.status, room.stage = 1, "active", "testing"
    room.ground_rules = "Start and finish on time. Every voice counts. Data, not anecdote."
    room.save(update_fields=["meeting_weekday", "status", "stage", "ground_rules"])
    coach, member = people["coach"], people["member"]
    if year:
        weeks = [last_tuesday - timedelta(weeks=n) for n in range(52, 2, -1)]
        august = [d for d in weeks if d.month == 8]
        if august:
            start = august[0].replace(day=1)
            StatusChange.objects.create(
                room=room, status="stood_down", reason="August", changed_on=start
            )
            StatusChange.objects.create(
                room=room, status="active", changed_on=start.replace(month=9)
            )
        weeks = [d for d in weeks if d.month != 8]
    else:
        weeks = [last_tuesday - timedelta(weeks=n) for n in (2, 1, 0)]
    for n, held_on in enumerate(weeks):
        session = Session.objects.create(
            room=room,
            held_on=held_on,
            guests=n % 3,
            chair=(member, coach)[n % 2],
            timekeeper=(coach, member)[n % 2],
            notes="Reviewed the 4-hour chart and the ambulance handover PDSA.",
            created_by=coach,
            finished_at=timezone.now(),
        )
        Attendance.objects.create(session=session, user=coach, mode="in_room")
        if n % 4:
            Attendance.objects.create(session=session, user=member, mode="online")
        Evaluation.objects.bulk_create(
            Evaluation(session=session, score=score)
            for score in (7 + (n + k) % 3 for k in range(3 + n % 3))
        )
        Action.objects.create(
            room=room,
            raised_in=session,
            what=f"Share the week's breach reasons ({held_on:%d %b})",
            owner=member,
            due_on=held_on + timedelta(weeks=1),
            status="done" if held_on < weeks[-1] - timedelta(weeks=3) else "open",
        )
    refresh_session_measures(room=room)


def _load_story(room: BigRoom, people: dict) -> None:
    """The Model for Improvement, whole, through the same services a coach's pages use:
    themes and a multivote, the aims, a driver diagram, change ideas, and PDSA ramps whose
    starts show on the 4-hour chart. Months fall inside the demo's A&E data."""
    from bigrooms import services
    from bigrooms.models import PDSA, Multivote

    if room.themes.exists():
        return
    coach, member = people["coach"], people["member"]
    themes = {
        title: services.add_theme(room=room, title=title, source=source)
        for title, source in [
            ("Ambulance handover delays", "evidence"),
            ("Waits for a senior review", "value"),
            ("Beds not ready until the afternoon", "vision"),
        ]
    }
    vote = services.open_multivote(room=room, votes_each=3, by=coach)
    titles = list(themes)
    for voter, counts in ((coach, (1, 2, 0)), (member, (0, 2, 1))):
        services.cast_votes(
            multivote=vote, voter=voter,
            counts={themes[t].pk: n for t, n in zip(titles, counts, strict=True)},
        )  # fmt: skip
    services.close_multivote(multivote=vote)
    Multivote.objects.filter(pk=vote.pk).update(opened_on=date(2017, 9, 5),
                                                closed_on=date(2017, 9, 5))  # fmt: skip
    services.save_global_aim(
        room=room, by=coach, theme=themes["Waits for a senior review"],
        where="Everyone who comes to the emergency department at Queen's Hospital",
        looks_like="People are seen, treated and admitted or sent home within four hours, "
        "with a senior decision early in their stay",
        why="Long waits in a crowded department harm patients, older people most, and leave "
        "ambulances queuing outside when they are needed for 999 calls",
    )  # fmt: skip
    performance = room.measures.get(name="Patients seen within 4 hours")
    services.save_specific_aim(
        room=room, theme=themes["Waits for a senior review"], measure=performance,
        what="Patients who leave the department within 4 hours of arriving", target=95.0,
        target_on=date(2019, 3, 31),
    )  # fmt: skip

    def driver(title, parent=None):
        return services.save_driver(room=room, title=title, parent=parent)

    handover, review, flow = (
        driver("Timely ambulance handover"), driver("Early senior review"),
        driver("Flow out of the department"),
    )  # fmt: skip
    cohort = driver("Space and staff to receive ambulances", handover)
    triage = driver("Senior assessment at the front door", review)
    sdec = driver("Same day emergency care used to the full", flow)
    noon = driver("Beds ready before noon", flow)

    def idea(title, *drivers):
        return services.save_change_idea(room=room, title=title, description="",
                                         drivers=list(drivers))  # fmt: skip

    idea("Ambulance cohort area staffed by a paramedic", cohort)
    consultant = idea("Consultant-led triage in the morning peak", triage, sdec)
    direct = idea("Direct referral from triage to same day emergency care", triage, sdec)
    idea("Discharge lounge open from 8am", noon)
    performance.driver, performance.owner = None, coach
    performance.save(update_fields=["driver", "owner"])
    room.measures.filter(name="A&E attendances").update(owner=member)

    ramp = [
        ("One weekday, medical patients only", date(2017, 10, 9), "adapt",
         "Add surgical patients, and give the SDEC nurse the referral criteria card"),
        ("Every weekday for two weeks, medical and surgical", date(2018, 1, 8), "adapt",
         "Run it at weekends too, with the weekend SDEC rota"),
        ("Seven days a week", date(2018, 4, 2), "adopt",
         "Standard practice: in the triage protocol from May; audit monthly"),
    ]  # fmt: skip
    questions = [
        services.PlanQuestion("How many triaged patients will go straight to SDEC?",
                              "About one in ten"),
        services.PlanQuestion("Will any need to come back to the department?", "Fewer than 1 in 20"),
    ]  # fmt: skip
    cycle = None
    for n, (scale, starts_on, decision, next_step) in enumerate(ramp, start=1):
        plan = {
            "objective": "Send suitable patients from triage straight to same day emergency "
            "care", "purpose": "test", "scale": scale, "what": "The triage nurse refers "
            "using the SDEC criteria; the SDEC nurse accepts without a doctor's call",
            "who": "Triage and SDEC nurses", "where": "ED triage and the SDEC unit",
            "starts_on": starts_on, "ends_on": starts_on + timedelta(weeks=2),
        }  # fmt: skip
        if cycle is None:
            cycle = services.start_pdsa(idea=direct, plan=plan, questions=questions,
                                        measures=[performance], by=coach)  # fmt: skip
        else:
            cycle = services.next_cycle(pdsa=cycle, by=coach)
            kept = [services.PlanQuestion(q.question, p.prediction, q.pk)
                    for q, p in zip(cycle.questions.all(), questions, strict=True)]  # fmt: skip
            services.save_plan(pdsa=cycle, plan=plan, questions=kept, tasks=[],
                               measures=[performance])  # fmt: skip
        services.move_pdsa(pdsa=cycle)
        services.save_do(pdsa=cycle, what_happened="Ran as planned",
                         observations="Referrals rose through the fortnight")  # fmt: skip
        services.move_pdsa(pdsa=cycle)
        services.save_study(
            pdsa=cycle,
            results=dict(zip(
                cycle.questions.values_list("pk", flat=True),
                [f"{8 + 3 * n} in 100 went straight to SDEC", f"{4 - n} in 100 came back"],
                strict=True,
            )),
            learning="Nurses refer with confidence once the criteria are on a card",
        )  # fmt: skip
        services.move_pdsa(pdsa=cycle)
        services.save_act(pdsa=cycle, decision=decision, next_step=next_step)
        services.move_pdsa(pdsa=cycle)
        # Decided when the cycle ended, not today: the room lists its latest decisions.
        PDSA.objects.filter(pk=cycle.pk).update(status_changed_on=plan["ends_on"])
    # A cycle under way on another idea, moved on recently, so the room is not stuck.
    doing = services.start_pdsa(
        idea=consultant, by=coach, measures=[performance],
        plan={"objective": "Find out whether a consultant at triage from 8 to 12 shortens "
              "the wait for a decision", "purpose": "test", "scale": "Two Mondays",
              "what": "", "who": "Dr Khan", "where": "ED triage", "starts_on":
              date(2018, 11, 5), "ends_on": None},
        questions=[services.PlanQuestion("Will the median wait for a decision fall?",
                                         "From about 90 to 45 minutes")],
    )  # fmt: skip
    services.move_pdsa(pdsa=doing)
    PDSA.objects.filter(pk=doing.pk).update(
        status_changed_on=timezone.localdate() - timedelta(weeks=2)
    )


def _load_pathway(organisation: Organisation, room: BigRoom) -> None:
    """The emergency department's pathway, behind the room: a year of synthetic episodes
    (about 120 arrivals a day), whose weekly flow measures and heatmap the worker works
    out as it would after a nightly load."""
    from pathways import services, synthetic
    from pathways.models import Pathway, Step

    if room.pathway_id:
        return
    pathway = Pathway.objects.create(
        host=organisation, name="Emergency department (Queen's Hospital)",
        specialty="Emergency medicine", description="From arrival at the front door to "
        "leaving the department: home, admitted, or transferred. Synthetic episodes.",
        los_threshold_hours=4, not_discharges=["died"],
        metrics=["arrivals", "los_median_hours", "long_stay_pct", "occupancy",
                 "step_within_standard_pct", "step_median_hours"],
    )  # fmt: skip
    Step.objects.create(pathway=pathway, code="triage", name="Triage", standard_hours=0.25,
                        slot=1)  # fmt: skip
    Step.objects.create(pathway=pathway, code="clinician", name="Seen by a clinician",
                        standard_hours=1, slot=2)  # fmt: skip
    room.pathway = pathway
    room.save(update_fields=["pathway"])
    shape = synthetic.Shape(median_stay_hours=3.2, stay_spread=0.55,
                            steps=[("triage", 0.2), ("clinician", 1.1)], died_share=0.002)  # fmt: skip
    data = synthetic.columns(120 * 365, end=timezone.now(), days=365, shape=shape, seed=4)
    services.load_synthetic(pathway=pathway, data=data, prefix="QH")


# The academy: two cohorts, a dozen coaches, and their rooms at several stages of the
# roadmap (one stalled), so the dashboards and programme figures have something to say.
COACHES = [
    # (email, name, ODS code, kind, cohort, room it coaches or None)
    ("coach@bhr.demo.nhs.uk", "Amira Khan", "RF4", "clinical", 0, None),
    ("ivy.grant@bhr.demo.nhs.uk", "Ivy Grant", "RF4", "independent", 0, None),
    ("coach@leeds.demo.nhs.uk", "Owen Davies", "RR8", "clinical", 0, None),
    ("tom.hale@leeds.demo.nhs.uk", "Tom Hale", "RR8", "independent", 0, None),
    ("nadia.rahman@bhr.demo.nhs.uk", "Nadia Rahman", "RF4", "clinical", 0, "Hip fracture"),
    ("leo.burns@bhr.demo.nhs.uk", "Leo Burns", "RF4", "independent", 0, "Hip fracture"),
    ("ruth.okafor@leeds.demo.nhs.uk", "Ruth Okafor", "RR8", "clinical", 0, "Frailty"),
    ("sean.walsh@leeds.demo.nhs.uk", "Sean Walsh", "RR8", "independent", 0, "Frailty"),
    ("maya.singh@bhr.demo.nhs.uk", "Maya Singh", "RF4", "clinical", 1, "Stroke"),
    ("joe.evans@bhr.demo.nhs.uk", "Joe Evans", "RF4", "independent", 1, "Stroke"),
    ("zara.ali@leeds.demo.nhs.uk", "Zara Ali", "RR8", "clinical", 1, "Maternity triage"),
    ("dan.price@leeds.demo.nhs.uk", "Dan Price", "RR8", "independent", 1, "Maternity triage"),
]
ROOMS = {
    # name: (ODS code, stage, weeks since the last session (None: none yet), sessions)
    "Hip fracture": ("RF4", "standardise", 0, 20),
    "Frailty": ("RR8", "driver_diagram", 5, 12),  # stalled: three meetings missed
    "Stroke": ("RF4", "themes", 1, 6),
    "Maternity triage": ("RR8", "build", None, 0),
}


def _load_academy() -> None:
    from bigrooms.models import Action, Attendance, Evaluation, Session
    from fca.models import Coach, Cohort, TaughtDay

    today = timezone.localdate()
    cohorts = [
        Cohort.objects.get_or_create(
            name=name,
            defaults={"academy": "Demo Flow Coaching Academy", "starts_on": start, "ends_on": end},
        )[0]  # fmt: skip
        for name, start, end in (
            ("Cohort 12", today - timedelta(weeks=60), today - timedelta(weeks=34)),
            ("Cohort 13", today - timedelta(weeks=10), None),
        )
    ]
    organisations = {
        o.ods_code: o for o in Organisation.objects.filter(ods_code__in=["RF4", "RR8"])
    }
    rooms = {}
    for name, (code, stage, weeks_since, count) in ROOMS.items():
        room, created = BigRoom.objects.get_or_create(
            host=organisations[code], name=f"{name} big room",
            defaults={"stage": stage, "status": "active", "meeting_weekday": 2},
        )  # fmt: skip
        rooms[name] = (room, created, weeks_since, count)
    for email, name, code, kind, cohort, room_name in COACHES:
        user = _person(email, name)
        OrganisationMembership.objects.get_or_create(user=user, organisation=organisations[code])
        Coach.objects.get_or_create(
            cohort=cohorts[cohort], user=user,
            defaults={"organisation": organisations[code], "kind": kind},
        )  # fmt: skip
        if room_name:
            RoomMembership.objects.get_or_create(
                room=rooms[room_name][0], user=user,
                defaults={"role": f"{kind}_coach"},
            )  # fmt: skip
    for cohort in cohorts:
        coaches = list(cohort.coaches.all())
        for n in range(3):
            held_on = cohort.starts_on + timedelta(weeks=4 * n)
            if held_on > today:
                break
            day, created = TaughtDay.objects.get_or_create(
                cohort=cohort, held_on=held_on, defaults={"title": f"Day {n + 1}"}
            )
            if created:
                day.present.set(coaches[: len(coaches) - n])  # one fewer each day
    for room, created, weeks_since, count in rooms.values():
        if not created or weeks_since is None:
            continue
        coach = room.memberships.filter(role__in=RoomMembership.COACH_ROLES).first().user
        last = today - timedelta(days=(today.weekday() - 2) % 7, weeks=weeks_since)
        for n in range(count):
            session = Session.objects.create(room=room, held_on=last - timedelta(weeks=n),
                                             guests=n % 2, created_by=coach,
                                             finished_at=timezone.now())  # fmt: skip
            Attendance.objects.create(session=session, user=coach)
            Evaluation.objects.bulk_create(Evaluation(session=session, score=7 + (n + k) % 3)
                                           for k in range(4))  # fmt: skip
        Action.objects.create(room=room, what="Map the pathway with the ward team",
                              owner=coach, due_on=last - timedelta(weeks=1))  # fmt: skip
