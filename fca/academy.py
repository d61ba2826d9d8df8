"""The academy's work: enrolling a cohort of coaches from a list, inviting them, following
their status, pairing them into big rooms.

Enrolment has two steps. ``stage_enrolment`` reads the list and keeps every row with its
problems (nothing about the people is saved); ``confirm_enrolment`` then adds them, only
when no row has a problem, and only once: the same list twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from fca import audit
from fca.invitations import invitation_token
from fca.models import Coach, Cohort, Enrolment, Organisation, OrganisationMembership, User
from fca.spreadsheets import FORMULA, SpreadsheetError, is_formula, read_spreadsheet

COACHING_WEEKS = 8  # sessions logged this recently make a coach "coaching (logged in the app)"
MAX_ROWS = 500

# The headings each column may have (lower case, spaces for _ and -).
HEADINGS = {
    "name": ("name", "full name", "coach", "coach name"),
    "email": ("email", "email address", "e mail"),
    "organisation": ("organisation", "organization", "trust", "employer"),
    "ods_code": ("ods code", "ods", "organisation code"),
    "kind": ("type", "coach type", "kind", "clinical or independent", "role"),
}
REQUIRED = ("name", "email", "organisation", "kind")
COLUMN_WORDS = {"name": "name", "email": "email", "organisation": "organisation",
                "kind": "coach type (clinical or independent)"}  # fmt: skip


class EnrolmentError(ValueError):
    """A list that cannot be read at all, with the reason in words fit to show."""


def _heading(cell: str) -> str | None:
    words = " ".join(cell.strip().lower().replace("_", " ").replace("-", " ").split())
    return next((key for key, names in HEADINGS.items() if words in names), None)


def _kind(text: str) -> str | None:
    words = text.strip().lower()
    for kind in Coach.Kind.values:
        if words.startswith(kind):
            return kind
    return None


def read_enrolment(filename: str, data: bytes) -> list[dict]:
    """Every row of an enrolment list with its problems, in words that name the row, the
    column and the value at fault. Raises EnrolmentError for a file that cannot be read,
    or whose headings lack a required column."""
    try:
        table, _ = read_spreadsheet(filename, data)
    except SpreadsheetError as error:
        raise EnrolmentError(str(error)) from None
    rows = [row for row in table.rows if any(cell.strip() for cell in row)]
    if not rows:
        raise EnrolmentError("The file is empty")
    columns = {}
    for index, cell in enumerate(rows[0]):
        key = _heading(cell)
        if key and key not in columns:
            columns[key] = index
    missing = [COLUMN_WORDS[key] for key in REQUIRED if key not in columns]
    if missing:
        raise EnrolmentError(
            "The first row must name the columns. Missing: " + ", ".join(missing)
            + ". Expected headings: name, email, organisation, ODS code (optional) and "
            "coach type"
        )  # fmt: skip
    if len(rows) - 1 > MAX_ROWS:
        raise EnrolmentError(
            f"The list has {len(rows) - 1} people: enrol at most {MAX_ROWS} at once"
        )

    def cell(row, key):
        index = columns.get(key)
        return row[index].strip() if index is not None and index < len(row) else ""

    codes = {o.ods_code.upper(): o for o in Organisation.objects.exclude(ods_code="")}
    names: dict[str, list[Organisation]] = {}
    for o in Organisation.objects.all():
        names.setdefault(o.name.lower(), []).append(o)
    read = []
    for line, row in enumerate(rows[1:], start=2):
        entry = {"line": line, "name": cell(row, "name"), "email": cell(row, "email").lower(),
                 "organisation": cell(row, "organisation"), "ods_code": cell(row, "ods_code"),
                 "kind": _kind(cell(row, "kind")), "organisation_id": None, "problems": []}  # fmt: skip
        problems = entry["problems"]
        # A formula Excel never worked out says nothing of the person: name it, alone.
        formulas = [(key, cell(row, key)) for key in HEADINGS if is_formula(cell(row, key))]
        if formulas:
            problems.extend(f"The {COLUMN_WORDS.get(key, 'ODS code')} “{value}” {FORMULA}"
                            for key, value in formulas)  # fmt: skip
            read.append(entry)
            continue
        if not entry["name"]:
            problems.append("Enter the person's name")
        elif len(entry["name"]) > 200:
            problems.append("The name is longer than 200 characters")
        if not entry["email"]:
            problems.append("Enter an email address")
        else:
            try:
                validate_email(entry["email"])
                if len(entry["email"]) > 254:
                    raise ValidationError("too long")
            except ValidationError:
                problems.append(f"“{cell(row, 'email')}” is not an email address")
        if entry["ods_code"]:
            found = codes.get(entry["ods_code"].upper())
            if found is None:
                problems.append(f"No organisation has the ODS code “{entry['ods_code']}”")
        else:
            named = names.get(entry["organisation"].lower(), [])
            found = named[0] if len(named) == 1 else None
            if len(named) > 1:
                problems.append(
                    f"Several organisations are called “{entry['organisation']}”: give its ODS code"
                )
            elif found is None:
                problems.append(
                    f"No organisation is called “{entry['organisation']}”: check its name, "
                    "give its ODS code, or ask for it to be added"
                    if entry["organisation"]
                    else "Enter the person's organisation"
                )
        if found is not None:
            entry["organisation_id"], entry["organisation"] = found.pk, found.name
        if entry["kind"] is None:
            problems.append(
                f"The coach type must be clinical or independent, not “{cell(row, 'kind')}”"
                if cell(row, "kind")
                else "Enter the coach type: clinical or independent"
            )
        read.append(entry)
    twice = Counter(entry["email"] for entry in read if entry["email"])
    for entry in read:
        if twice[entry["email"]] > 1:
            others = [str(o["line"]) for o in read
                      if o["email"] == entry["email"] and o is not entry]  # fmt: skip
            entry["problems"].append(
                f"{entry['email']} is also on row{'s' if len(others) > 1 else ''} "
                f"{', '.join(others)}: each person once"
            )
    return read


def stage_enrolment(*, cohort: Cohort, filename: str, data: bytes, by: User) -> Enrolment:
    """Read the list and keep it, with its problems, for the preview."""
    rows = read_enrolment(filename, data)
    return Enrolment.objects.create(cohort=cohort, filename=filename, rows=rows, created_by=by)


def confirm_enrolment(*, enrolment: Enrolment, by: User) -> dict:
    """Enrol every person of a list with no problems: a new person gets an account and an
    invitation to set a password (valid for 14 days); a person with an account is added
    to the cohort, not made again; a person already in the cohort is left as they are.
    Returns the counts. Confirming twice changes nothing the second time."""
    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if enrolment.confirmed_at is not None:
            return enrolment.outcome
        if enrolment.problem_rows:
            raise EnrolmentError("Fix the rows with problems and upload the list again")
        counts = Counter()
        invited = []
        for row in enrolment.rows:
            user = User.objects.filter(email__iexact=row["email"]).first()
            if user is None:
                user = User.objects.create_user(row["email"], None, full_name=row["name"])
                counts["accounts"] += 1
            OrganisationMembership.objects.get_or_create(
                user=user, organisation_id=row["organisation_id"]
            )
            coach, created = Coach.objects.get_or_create(
                cohort=enrolment.cohort, user=user,
                defaults={"organisation_id": row["organisation_id"], "kind": row["kind"]},
            )  # fmt: skip
            counts["enrolled" if created else "already"] += 1
            if created and not user.has_usable_password():
                invited.append(coach)
        now = timezone.now()
        Coach.objects.filter(pk__in=[c.pk for c in invited]).update(invited_at=now)
        counts["invited"] = len(invited)
        enrolment.confirmed_at, enrolment.outcome = now, dict(counts)
        enrolment.save(update_fields=["confirmed_at", "outcome"])
        audit.record("enrolment.confirmed", actor=by, target=enrolment.cohort, **counts)
        for coach in invited:
            # robust: a mail server down for one invitation neither stops the others nor
            # undoes the enrolment (the coach's page offers to send it again)
            transaction.on_commit(lambda coach=coach: _invite(coach, by), robust=True)
    return enrolment.outcome


ENROLMENT_KEPT = timedelta(days=1)


def delete_unconfirmed_enrolments(*, now=None) -> int:
    """Let go of lists never confirmed after a day: they hold people's names and emails,
    kept only for their preview. Returns how many were deleted."""
    cut = (now or timezone.now()) - ENROLMENT_KEPT
    deleted, _ = Enrolment.objects.filter(confirmed_at__isnull=True, created_at__lt=cut).delete()
    return deleted


def resend_invitation(*, coach: Coach, by: User) -> bool:
    """Send a new invitation to a coach who has not set a password yet; False for one who
    has (they sign in as usual)."""
    if coach.user.has_usable_password():
        return False
    with transaction.atomic():
        Coach.objects.filter(pk=coach.pk).update(invited_at=timezone.now())
        transaction.on_commit(lambda: _invite(coach, by), robust=True)
    return True


def _invite(coach: Coach, by: User) -> None:
    link = settings.FCA_SITE_URL.rstrip("/") + reverse(
        "accept_invitation", args=[invitation_token(coach.user)]
    )
    context = {"coach": coach, "person": coach.user, "cohort": coach.cohort, "by": by,
               "link": link}  # fmt: skip
    message = EmailMultiAlternatives(
        subject=f"You are enrolled as a flow coach: {coach.cohort.name}",
        body=render_to_string("fca/email/coach_invited.txt", context),
        to=[coach.user.email],
    )
    message.attach_alternative(
        render_to_string("fca/email/coach_invited.html", context), "text/html"
    )
    message.send()


def set_coach_status(*, coach: Coach, status: str, reason: str, by=None) -> Coach:
    """An admin's word on a coach: paused or stopped (with a reason), coaching in rooms
    that do not log here (with a reason), or back in training."""
    reason = reason.strip()
    if status != Coach.Status.IN_TRAINING and not reason:
        raise EnrolmentError("Give a reason")
    coach.status, coach.status_reason = status, reason if status != "in_training" else ""
    was = Coach.objects.filter(pk=coach.pk).values_list("status", flat=True).first()
    coach.save(update_fields=["status", "status_reason"])
    audit.record(
        "coach.status_changed", actor=by, organisation=coach.organisation_id, target=coach,
        status=status, was=was,
    )  # fmt: skip
    return coach


def shown_statuses(coaches) -> dict[int, str]:
    """What the academy reads for each coach, in words, in two queries for any number:
    paused or stopped as an admin said; else coaching (logged in the app) when a room
    they coach logged a session in the last eight weeks; else coaching as an admin said
    (their rooms do not log here); else in training."""
    from bigrooms.models import RoomMembership, Session

    coaches = list(coaches)
    since = timezone.localdate() - timedelta(weeks=COACHING_WEEKS)
    recent = Session.objects.filter(held_on__gte=since).values("room")
    logging = set(
        RoomMembership.objects.filter(
            user__in=[c.user_id for c in coaches],
            role__in=RoomMembership.COACH_ROLES,
            room__in=recent,
        ).values_list("user", flat=True)
    )
    words = {}
    for c in coaches:
        if c.status in (Coach.Status.PAUSED, Coach.Status.STOPPED):
            words[c.pk] = f"{c.get_status_display()}: {c.status_reason}"
        elif c.user_id in logging:
            words[c.pk] = "Coaching (logged in the app)"
        elif c.status == Coach.Status.COACHING:
            words[c.pk] = f"Coaching (an admin's word: {c.status_reason})"
        else:
            words[c.pk] = "In training"
    return words


def assign_pair(*, room, clinical: Coach, independent: Coach, by=None):
    """Make a clinical and an independent coach the room's coach pair: each becomes a
    coach of the room (a member already is made coach)."""
    from bigrooms.models import RoomMembership

    if clinical.kind != Coach.Kind.CLINICAL or independent.kind != Coach.Kind.INDEPENDENT:
        raise EnrolmentError("A pair is a clinical coach and an independent coach")
    if clinical.user_id == independent.user_id:
        raise EnrolmentError("A pair is two people")
    if by is not None and by.pk in (clinical.user_id, independent.user_id):
        # An admin reads a room's notes only as its member: not by pairing themselves in.
        raise EnrolmentError("Another academy admin must pair you into a room")
    roles = {clinical.user_id: RoomMembership.Role.CLINICAL_COACH,
             independent.user_id: RoomMembership.Role.INDEPENDENT_COACH}  # fmt: skip
    with transaction.atomic():
        for user_id, role in roles.items():
            membership, created = RoomMembership.objects.update_or_create(
                room=room, user_id=user_id, defaults={"role": role}
            )
            audit.record(
                "membership.added" if created else "membership.changed", actor=by,
                target=room, person=user_id, role=role,
            )  # fmt: skip
    return room


def coach_rooms(coaches) -> dict[int, list]:
    """The rooms each coach (by user) coaches, in one query."""
    from bigrooms.models import RoomMembership

    rooms: dict[int, list] = {}
    for m in RoomMembership.objects.filter(
        user__in=[c.user_id for c in coaches], role__in=RoomMembership.COACH_ROLES
    ).select_related("room"):
        rooms.setdefault(m.user_id, []).append(m.room)
    return rooms
