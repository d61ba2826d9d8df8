"""Writes to big rooms and their weekly sessions."""

import io
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageOps

from bigrooms import boardpack, diagram
from bigrooms.models import (
    PDSA,
    Action,
    AgendaItem,
    Attendance,
    BigRoom,
    BoardPack,
    ChangeIdea,
    Driver,
    Evaluation,
    FiveVs,
    GlobalAim,
    MissedMeetingReminder,
    Multivote,
    ParkingItem,
    PDSAQuestion,
    PDSATask,
    Ramp,
    RoomMembership,
    RoomPhoto,
    Session,
    SpecificAim,
    StageChange,
    Stakeholder,
    StatusChange,
    Theme,
    Vote,
)
from bigrooms.story import in_tree_order
from fca import audit
from fca.dates import format_date

logger = logging.getLogger(__name__)

SESSION_ROLES = {
    "chair": "Chair",
    "timekeeper": "Timekeeper",
    "note_keeper": "Note-keeper",
    "facilitator": "Facilitator",
}


class SessionError(ValueError):
    """What a person sent that cannot be saved; ``problems`` say what, field by field."""

    def __init__(self, problems: dict[str, str], *, existing: Session | None = None):
        super().__init__("; ".join(problems.values()))
        self.problems = problems
        self.existing = existing


def parse_scores(text: str) -> list[int]:
    """A round of scores as the coach heard it: "7 8 9 6 8" (commas or spaces)."""
    scores = []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        if not (word.isascii() and word.isdigit()) or int(word) > 10:
            raise ValueError(f"“{word}” is not a score from 0 to 10")
        scores.append(int(word))
    return scores


def team(room: BigRoom) -> list[RoomMembership]:
    """The people who take part: every member but read-only viewers."""
    return list(
        room.memberships.exclude(role=RoomMembership.Role.VIEWER)
        .select_related("user")
        .order_by("user__full_name")
    )


def suggest_roles(room: BigRoom) -> dict[str, int | None]:
    """The four meeting roles by rotation: for each, the member who held it least recently
    (never before counts as longest ago), one role per person while people remain."""
    people = [m.user_id for m in team(room)]
    last_held: dict[tuple[str, int], date] = {}
    # Plain rows, newest first, not sessions: a room with years of them stays quick.
    held = room.sessions.order_by("-held_on").values_list(
        "held_on", *[f"{r}_id" for r in SESSION_ROLES]
    )
    for held_on, *holders in held:
        for role, holder in zip(SESSION_ROLES, holders, strict=True):
            if holder is not None and (role, holder) not in last_held:
                last_held[(role, holder)] = held_on
    chosen: dict[str, int | None] = {}
    for role in SESSION_ROLES:
        free = [p for p in people if p not in chosen.values()] or people
        chosen[role] = (
            min(free, key=lambda p: (last_held.get((role, p), date.min), people.index(p)))
            if free
            else None
        )
    return chosen


def next_meeting_day(room: BigRoom, today: date | None = None) -> date:
    """This week's meeting day (Monday to Sunday), or today when the room has none set."""
    today = today or timezone.localdate()
    if room.meeting_weekday is None:
        return today
    return today - timedelta(days=today.weekday()) + timedelta(days=room.meeting_weekday)


@dataclass
class NewAction:
    what: str
    due_on: date | None = None
    owner_id: int | None = None
    owner_text: str = ""
    chaser_id: int | None = None


@dataclass
class SessionRecord:
    """Everything a coach logs for one meeting."""

    held_on: date
    attendance: dict[int, str] = field(default_factory=dict)  # user id → in_room / online
    guests: int = 0
    roles: dict[str, int | None] = field(default_factory=dict)
    patient_story: str = ""
    notes: str = ""
    action_updates: dict[int, str] = field(default_factory=dict)  # action id → status
    new_actions: Sequence[NewAction] = ()
    scores: Sequence[int] = ()
    # The agenda, item by item: (title, minutes spent, notes).
    agenda: Sequence[tuple[str, int | None, str]] = ()
    parking_new: Sequence[str] = ()  # items raised, one each
    parking_closed: Sequence[int] = ()  # ids of items taken onto an agenda or closed


def record_session(*, room: BigRoom, record: SessionRecord, by) -> Session:
    """Save a whole session in one transaction, or nothing, naming what is wrong.

    1. The date: not more than a week ahead, and one session per day per room.
    2. Something to log: people present, notes, actions or scores.
    3. The session, its attendance and scores; last week's actions moved on; new actions.
    """
    problems: dict[str, str] = {}
    members = {m.user_id for m in team(room)}
    today = timezone.localdate()
    if record.held_on > today + timedelta(days=7):
        problems["held_on"] = (
            f"{format_date(record.held_on)} is more than a week ahead: log a session on or "
            "after the day it meets"
        )
    existing = room.sessions.filter(held_on=record.held_on).first()
    if existing is not None:
        problems["held_on"] = f"There is already a session on {format_date(record.held_on)}"
    if not (
        record.attendance
        or record.guests
        or record.notes.strip()
        or record.patient_story.strip()
        or record.new_actions
        or record.scores
        or record.parking_new
        or any(notes.strip() for _title, _minutes, notes in record.agenda)
    ):
        problems["__all__"] = "The session is empty: tick who came, or add notes, actions or scores"
    for number, action in enumerate(record.new_actions, start=1):
        for part, problem in _owner_problems(action, members).items():
            problems[f"action_{number}_{part}"] = f"New action {number}: {problem}"
    if problems:
        raise SessionError(problems, existing=existing)
    with transaction.atomic():
        try:
            with transaction.atomic():
                session = Session.objects.create(
                    room=room,
                    held_on=record.held_on,
                    guests=record.guests,
                    patient_story=record.patient_story.strip(),
                    notes=record.notes.strip(),
                    created_by=by,
                    **{
                        f"{role}_id": user_id
                        for role, user_id in record.roles.items()
                        if user_id in members
                    },
                )
        except IntegrityError:  # another coach saved this day a moment ago
            raise SessionError(
                {"held_on": f"There is already a session on {format_date(record.held_on)}"},
                existing=room.sessions.filter(held_on=record.held_on).first(),
            ) from None
        Attendance.objects.bulk_create(
            Attendance(session=session, user_id=user_id, mode=mode)
            for user_id, mode in record.attendance.items()
            if user_id in members
        )
        Evaluation.objects.bulk_create(
            Evaluation(session=session, score=score) for score in record.scores
        )
        AgendaItem.objects.bulk_create(
            AgendaItem(session=session, order=n, title=title, minutes=minutes, notes=notes.strip())
            for n, (title, minutes, notes) in enumerate(record.agenda, start=1)
        )
        for action_id, status in record.action_updates.items():
            room.actions.filter(pk=action_id, status=Action.Status.OPEN).update(status=status)
        Action.objects.bulk_create(
            Action(
                room=room,
                raised_in=session,
                what=action.what.strip(),
                due_on=action.due_on,
                owner_id=action.owner_id,
                owner_text="" if action.owner_id else action.owner_text.strip(),
                chaser_id=action.chaser_id if action.chaser_id in members else None,
            )
            for action in record.new_actions
        )
        room.parking_lot.filter(pk__in=record.parking_closed, closed_on__isnull=True).update(
            closed_on=record.held_on
        )
        ParkingItem.objects.bulk_create(
            ParkingItem(room=room, raised_in=session, text=text[:300])
            for text in record.parking_new
        )
        refresh_session_measures(room=room, week_of=session.held_on)
    return session


def _owner_problems(action: NewAction, members: set[int]) -> dict[str, str]:
    """Who owns an action: a member of the room's team, or a team named in words with a
    member who chases it."""
    if action.owner_id is not None and action.owner_id not in members:
        return {"owner": "its owner is not on the room's team"}
    if action.owner_id is None and not action.owner_text.strip():
        return {"owner": "choose its owner, or name them in words"}
    if action.owner_id is None and action.chaser_id not in members:
        return {"chaser": f"choose the member who chases {action.owner_text.strip()}"}
    if action.chaser_id is not None and action.chaser_id not in members:
        return {"chaser": "the member who chases it is not on the room's team"}
    return {}


def add_action(*, room: BigRoom, action: NewAction, raised_in: Session | None = None) -> Action:
    """An action agreed outside a logged session (from a data system, or between
    meetings), owned as the session page's new actions are."""
    problems = _owner_problems(action, {m.user_id for m in team(room)})
    if not action.what.strip():
        problems["what"] = "Say what the action is"
    if problems:
        raise SessionError(problems)
    return Action.objects.create(
        room=room, raised_in=raised_in, what=action.what.strip(), due_on=action.due_on,
        owner_id=action.owner_id, owner_text="" if action.owner_id else action.owner_text.strip(),
        chaser_id=action.chaser_id,
    )  # fmt: skip


def change_action(*, action: Action, changes: dict) -> Action:
    """Change an action's what, due date, owner (a member, or words with a chaser) or
    status; what is not in ``changes`` stays as it was."""
    if "status" in changes and changes["status"] not in Action.Status.values:
        raise SessionError({"status": f"“{changes['status']}” is not a status of an action"})
    owner = NewAction(
        what=changes.get("what", action.what),
        owner_id=changes.get("owner_id", action.owner_id),
        owner_text=changes.get("owner_text", action.owner_text),
        chaser_id=changes.get("chaser_id", action.chaser_id),
    )
    if "owner_id" in changes and changes["owner_id"] is not None:
        owner.owner_text = ""  # a member now owns it: the words no longer apply
    # Its owners are checked only when they change: a member who has since left the room
    # still owns what they owned.
    moved = (owner.owner_id, owner.owner_text, owner.chaser_id) != (
        action.owner_id, action.owner_text, action.chaser_id,
    )  # fmt: skip
    problems = _owner_problems(owner, {m.user_id for m in team(action.room)}) if moved else {}
    if not owner.what.strip():
        problems["what"] = "Say what the action is"
    if problems:
        raise SessionError(problems)
    action.what = owner.what.strip()
    action.owner_id, action.chaser_id = owner.owner_id, owner.chaser_id
    action.owner_text = "" if owner.owner_id else owner.owner_text.strip()
    action.due_on = changes.get("due_on", action.due_on)
    action.status = changes.get("status", action.status)
    action.save()
    return action


def update_action(*, action: Action, status: str) -> Action:
    """Move an action on (done, dropped, or open again), from a phone or the session."""
    if status not in Action.Status.values:
        raise ValueError(f"“{status}” is not a status of an action")
    action.status = status
    action.save(update_fields=["status", "updated_at"])
    return action


def update_room(*, room: BigRoom, by, **fields) -> BigRoom:
    """Change a room's details; a new roadmap stage or status is kept in its history, with
    the date and who made it, so the room page can show the journey."""
    status = fields.get("status", room.status)
    if (
        status in (BigRoom.Status.STOOD_DOWN, BigRoom.Status.CLOSED)
        and not (fields.get("status_reason", room.status_reason) or "").strip()
    ):
        raise SessionError({"status_reason": "Say why the room is stood down or closed"})
    today = timezone.localdate()
    if status == BigRoom.Status.ACTIVE:
        fields["status_reason"] = ""  # back at work: the old reason no longer applies
    with transaction.atomic():
        if fields.get("stage", room.stage) != room.stage:
            StageChange.objects.create(
                room=room, stage=fields["stage"], changed_on=today, changed_by=by
            )
        if status != room.status:
            StatusChange.objects.create(
                room=room,
                status=status,
                reason=fields.get("status_reason", ""),
                changed_on=today,
                changed_by=by,
            )
        for name, value in fields.items():
            setattr(room, name, value)
        room.save(update_fields=list(fields))
    return room


SESSION_MEASURES = {
    "session_attendance": {
        "name": "Attendance at the big room (from sessions)",
        "unit": "people",
        "kind": "process",
        "definition": "Members and guests at the week's session (the mean, if more than one).",
    },
    "session_evaluation": {
        "name": "Meeting evaluation (from sessions)",
        "unit": "out of 10",
        "kind": "process",
        "definition": "The mean of the anonymous scores, 0 to 10, given for the week's sessions.",
    },
}


def refresh_session_measures(*, room: BigRoom, week_of: date | None = None) -> None:
    """Attendance and mean evaluation per week become measures of the room, charted like
    any other, created on first use: every week worked out from the room's sessions, or
    only the week of ``week_of`` (a session saved or scored changes its own week alone)."""
    from measures.models import Measure
    from measures.services import replace_data_points

    only = None if week_of is None else [week_of - timedelta(days=week_of.weekday())]
    with transaction.atomic():
        # One room at a time: two sessions of one week saved at once each count the other.
        # NO KEY UPDATE, not FOR UPDATE: other writes' foreign-key checks on the room (their
        # KEY SHARE locks, at commit) need not wait for this one.
        BigRoom.objects.select_for_update(no_key=True).filter(pk=room.pk).exists()
        weeks = _session_weeks(room, only)
        for source, defaults in SESSION_MEASURES.items():
            measure, created = Measure.objects.get_or_create(
                room=room,
                source=source,
                defaults={**defaults, "frequency": "weekly", "improvement": "increase"},
            )
            if created and only is not None:  # its first week: the earlier ones are owed too
                refresh_session_measures(room=room)
                return
            if source == "session_attendance":
                values = {week: e["people"] / e["sessions"] for week, e in weeks.items()}
            else:
                values = {week: e["sum"] / e["count"] for week, e in weeks.items() if e["count"]}
            replace_data_points(measure=measure, values=values, periods=only)


def _session_weeks(room: BigRoom, only: list[date] | None) -> dict[date, dict]:
    """Each week's sessions, people there (guests too) and scores: every week, or only
    the week starting on only[0]."""
    sessions = room.sessions.all()
    if only is not None:
        sessions = sessions.filter(held_on__gte=only[0], held_on__lt=only[0] + timedelta(days=7))

    # Each count in a subquery of its own: joining attendances and scores together would
    # count each score once per person there.
    def per_session(model, total):
        rows = model.objects.filter(session=OuterRef("pk")).order_by().values("session")
        return Coalesce(Subquery(rows.annotate(total=total).values("total")), 0)

    weeks: dict[date, dict] = {}
    for session in sessions.annotate(
        people=per_session(Attendance, Count("pk")),
        score_sum=per_session(Evaluation, Sum("score")),
        score_count=per_session(Evaluation, Count("pk")),
    ).order_by("held_on"):
        week = session.held_on - timedelta(days=session.held_on.weekday())
        entry = weeks.setdefault(week, {"people": 0, "sessions": 0, "sum": 0, "count": 0})
        entry["people"] += session.people + session.guests
        entry["sessions"] += 1
        entry["sum"] += session.score_sum
        entry["count"] += session.score_count
    return weeks


def send_missed_session_reminders(*, today: date | None = None) -> int:
    """Email the coaches of each active room whose last expected meeting, in the past week,
    has no session logged: once per missed meeting. Returns how many rooms were reminded."""
    today = today or timezone.localdate()
    sent = 0
    rooms = BigRoom.objects.filter(
        status=BigRoom.Status.ACTIVE, meeting_weekday__isnull=False
    ).select_related("host")
    for room in rooms:
        expected = room.expected_meetings(until=today - timedelta(days=1))
        if not expected or expected[-1] < today - timedelta(days=7):
            continue
        meeting = expected[-1]
        week = meeting - timedelta(days=meeting.weekday())
        if room.sessions.filter(held_on__gte=week, held_on__lt=week + timedelta(days=7)).exists():
            continue
        with transaction.atomic():
            reminder, created = MissedMeetingReminder.objects.get_or_create(
                room=room, meeting_on=meeting
            )
            if not created:
                continue
            coaches = [
                m.user
                for m in room.memberships.filter(role__in=RoomMembership.COACH_ROLES)
                .select_related("user")
                .filter(user__is_active=True)
            ]
            if coaches:
                _email_reminder(room=room, meeting=meeting, coaches=coaches)
                sent += 1
    return sent


def _email_reminder(*, room: BigRoom, meeting: date, coaches) -> None:
    context = {
        "room": room,
        "meeting": meeting,
        "link": settings.FCA_SITE_URL.rstrip("/") + reverse("session_new", args=[room.pk]),
    }
    message = EmailMultiAlternatives(
        subject=f"Log the big room session of {format_date(meeting)}: {room.name}",
        body=render_to_string("bigrooms/email/missed_session.txt", context),
        to=[coach.email for coach in coaches],
    )
    message.attach_alternative(
        render_to_string("bigrooms/email/missed_session.html", context), "text/html"
    )
    message.send()


@dataclass
class MemberInvite:
    email: str
    full_name: str
    role: str
    team_role: str = ""
    can_contribute_data: bool = False


def add_member(*, room: BigRoom, invite: MemberInvite, by) -> RoomMembership:
    """Add someone to the room, from any organisation. A person without an account is
    invited by email to set a password (the link works for 14 days); someone who has one
    is told they were added. Adding a member twice is refused, naming them."""
    from fca.invitations import invitation_token
    from fca.models import User

    email = invite.email.strip().lower()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        new = user is None
        if new and not invite.full_name.strip():
            raise SessionError({"full_name": "Enter their full name: they are new to the app"})
        if new:
            user = User.objects.create_user(email, None, full_name=invite.full_name.strip())
        if room.memberships.filter(user=user).exists():
            raise SessionError({"email": f"{user.full_name} is already a member of the room"})
        membership = RoomMembership.objects.create(
            room=room,
            user=user,
            role=invite.role,
            team_role=invite.team_role,
            can_contribute_data=invite.can_contribute_data,
        )
        audit.record(
            "membership.added", actor=by, target=room, person=user.pk, role=invite.role,
            new_account=new,
        )  # fmt: skip
        link = (
            reverse("accept_invitation", args=[invitation_token(user)])
            if new
            else reverse("room_detail", args=[room.pk])
        )
        context = {
            "room": room,
            "person": user,
            "by": by,
            "new": new,
            "link": settings.FCA_SITE_URL.rstrip("/") + link,
        }
        transaction.on_commit(lambda: _email_member(context, to=user.email))
    return membership


def _email_member(context: dict, *, to: str) -> None:
    subject = (
        f"You are invited to the big room {context['room'].name}"
        if context["new"]
        else f"You have been added to the big room {context['room'].name}"
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("bigrooms/email/member_added.txt", context),
        to=[to],
    )
    message.attach_alternative(
        render_to_string("bigrooms/email/member_added.html", context), "text/html"
    )
    message.send()


def remove_member(*, room: BigRoom, membership_id: int, by=None) -> RoomMembership | None:
    """Take someone off the room; None when they had already gone. The last coach stays."""
    with transaction.atomic():
        membership = room.memberships.select_related("user").filter(pk=membership_id).first()
        if membership is None:
            return None
        coaches = room.memberships.filter(role__in=RoomMembership.COACH_ROLES)
        if membership.is_coach and coaches.count() == 1:
            raise SessionError(
                {"__all__": "A room needs a coach: add another before removing the last"}
            )
        membership.delete()
        audit.record(
            "membership.removed", actor=by, target=room, person=membership.user_id,
            role=membership.role,
        )  # fmt: skip
    return membership


SCORING_DAYS = 7
_SCORE_SALT = "fca.session-score"


def scoring_ticket(session: Session) -> str:
    """The signed part of a session's scoring link: the same link every time it is shown,
    valid for a week from the day the meeting was held."""
    return signing.Signer(salt=_SCORE_SALT).sign_object({"s": session.pk}, compress=True)


def session_for_ticket(ticket: str) -> Session | None:
    """The session a still-valid scoring link is for, or None (expired or forged)."""
    try:
        data = signing.Signer(salt=_SCORE_SALT).unsign_object(ticket)
    except signing.BadSignature:
        return None
    session = Session.objects.select_related("room").filter(pk=data.get("s")).first()
    if session is None or timezone.localdate() > session.held_on + timedelta(days=SCORING_DAYS):
        return None
    return session


def add_score(*, session: Session, score: int, comment: str = "") -> Evaluation:
    """One anonymous score, 0 to 10; the room's evaluation measure follows."""
    if not 0 <= score <= 10:
        raise ValueError(f"{score} is not a score from 0 to 10")
    with transaction.atomic():
        # No more scores than people who could have been there: the team and the guests.
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.evaluations.count() >= len(team(session.room)) + locked.guests:
            raise ValueError("All the scores this meeting can have are in: thank you")
        evaluation = Evaluation.objects.create(
            session=session, score=score, comment=comment.strip()
        )
        refresh_session_measures(room=session.room, week_of=session.held_on)
    return evaluation


def add_scores(*, session: Session, scores: Sequence[int]) -> list[Evaluation]:
    """A round of anonymous scores sent at once (by a data system): all saved, or none."""
    with transaction.atomic():
        return [add_score(session=session, score=score) for score in scores]


def finish_session(*, session: Session, by) -> int:
    """Mark a session finished and email each member a link to its summary: a link, never
    the content, since notes can carry what should not travel by email. Returns how many
    were sent; finishing twice sends nothing more."""
    if session.finished_at is not None:
        return 0
    with transaction.atomic():
        session.finished_at = timezone.now()
        session.save(update_fields=["finished_at"])
        recipients = list(
            session.room.memberships.exclude(role=RoomMembership.Role.VIEWER)
            .filter(user__is_active=True)
            .values_list("user__email", flat=True)
        )
        link = settings.FCA_SITE_URL.rstrip("/") + reverse("session_detail", args=[session.pk])
        context = {"session": session, "room": session.room, "link": link, "by": by}
        transaction.on_commit(lambda: _email_summary_link(context, recipients))
    return len(recipients)


def _email_summary_link(context: dict, recipients: list[str]) -> None:
    subject = f"{context['room'].name}: the summary of {format_date(context['session'].held_on)}"
    body = render_to_string("bigrooms/email/session_summary.txt", context)
    html = render_to_string("bigrooms/email/session_summary.html", context)
    for address in recipients:  # one each: members need not see each other's addresses
        message = EmailMultiAlternatives(subject=subject, body=body, to=[address])
        message.attach_alternative(html, "text/html")
        message.send()


def save_five_vs(*, room: BigRoom, by, **texts: str) -> FiveVs | None:
    """A new version of the room's 5Vs, if anything changed; None when nothing did."""
    latest = room.five_vs.first()
    cleaned = {name: (texts.get(name) or "").strip() for name in FiveVs.FIELDS}
    if latest is not None and all(getattr(latest, n) == v for n, v in cleaned.items()):
        return None
    return FiveVs.objects.create(room=room, created_by=by, **cleaned)


PHOTO_TYPES = {"JPEG": "jpg", "PNG": "png"}
# A 48-megapixel phone camera's photo, with room to spare: drawn again (to drop what the
# camera wrote), a photo is held whole in memory, three bytes a pixel.
PHOTO_MAX_PIXELS = 60_000_000


def add_photo(*, room: BigRoom, image, caption: str, by) -> RoomPhoto:
    """A photo of a flipchart or process map: a real image, within the size limit."""
    if image.size > settings.FCA_MAX_PHOTO_BYTES:
        limit = settings.FCA_MAX_PHOTO_BYTES // (1024 * 1024)
        raise SessionError({"image": f"The photo is larger than {limit} MB: upload a smaller one"})
    try:
        with Image.open(image) as picture:
            kind, (width, height) = picture.format, picture.size
            picture.verify()
    except Exception:
        kind = None
    if kind not in PHOTO_TYPES:
        raise SessionError({"image": "The file is not a photo: upload a JPEG or PNG"})
    if width * height > PHOTO_MAX_PIXELS:
        raise SessionError(
            {"image": f"The photo is {width:,} × {height:,} pixels: the most is "
             f"{PHOTO_MAX_PIXELS // 1_000_000} million. Upload a smaller copy"}
        )  # fmt: skip
    image.seek(0)
    # Our own name and extension: never the uploader's (an "evil.html" stays a picture).
    name = f"{uuid.uuid4().hex}.{PHOTO_TYPES[kind]}"
    return RoomPhoto.objects.create(
        room=room, image=ContentFile(_without_metadata(image, kind), name=name),
        caption=caption.strip(), uploaded_by=by,
    )  # fmt: skip


def _without_metadata(image, kind: str) -> bytes:
    """The picture drawn again with none of what the camera wrote (when, often where, the
    phone's make): turned upright first, as the camera's orientation tag said."""
    with Image.open(image) as picture:
        upright = ImageOps.exif_transpose(picture)
        out = io.BytesIO()
        if kind == "JPEG":
            upright.convert("RGB").save(out, format="JPEG", quality=90)
        else:
            upright.save(out, format="PNG", optimize=True)
    return out.getvalue()


def add_stakeholder(*, room: BigRoom, **fields: str) -> Stakeholder:
    return Stakeholder.objects.create(room=room, **{k: v.strip() for k, v in fields.items()})


class StaleVersion(Exception):
    """A save made from an older version of a part: refused, with the newer text, so the
    person can see both and keep either."""

    def __init__(self, *, theirs: str, version: int):
        super().__init__("This part was changed by someone else meanwhile")
        self.theirs = theirs
        self.version = version


# The parts of a session written while the meeting runs: part → (text, version) fields.
NOTE_PARTS = {"notes": ("notes", "version"), "patient_story": ("patient_story", "story_version")}


def save_session_part(*, session: Session, part: str, text: str, version: int) -> int:
    """Save one part of a session (its notes, patient story, or an agenda item's notes,
    named "agenda-<id>") if ``version`` is still the current one. Returns the new version;
    raises StaleVersion with the other person's text when it is not."""
    with transaction.atomic():
        if part in NOTE_PARTS:
            target = Session.objects.select_for_update().get(pk=session.pk)
            field, counter = NOTE_PARTS[part]
        elif part.startswith("agenda-") and part[7:].isdigit():
            target = session.agenda.select_for_update().filter(pk=int(part[7:])).first()
            field, counter = "notes", "version"
            if target is None:
                raise ValueError("No such agenda item")
        else:
            raise ValueError(f"“{part}” is not a part of a session")
        current = getattr(target, counter)
        if current != version:
            raise StaleVersion(theirs=getattr(target, field), version=current)
        if getattr(target, field) != text:
            setattr(target, field, text)
            setattr(target, counter, current + 1)
            target.save(update_fields=[field, counter])
        return getattr(target, counter)


SCREEN_HOURS = 12
_SCREEN_SALT = "fca.meeting-screen"


def screen_ticket(session: Session) -> str:
    """The signed part of the room's screen link: read-only, valid for the meeting (twelve
    hours), so the projector does not time out mid-meeting."""
    return signing.dumps({"s": session.pk}, salt=_SCREEN_SALT, compress=True)


def session_for_screen(ticket: str) -> Session | None:
    try:
        data = signing.loads(ticket, salt=_SCREEN_SALT, max_age=SCREEN_HOURS * 3600)
    except signing.BadSignature:
        return None
    return Session.objects.select_related("room").filter(pk=data.get("s")).first()


def ensure_agenda(session: Session) -> None:
    """A session logged before it had an agenda gets the room's, for meeting mode."""
    if not session.agenda.exists():
        AgendaItem.objects.bulk_create(
            AgendaItem(session=session, order=n, title=title)
            for n, title in enumerate(session.room.agenda, start=1)
        )


def move_screen(*, session: Session, to: str) -> Session:
    """Meeting mode: go to the next or previous agenda item, or restart its timer."""
    count = session.agenda.count()
    item = session.screen_item
    if to == "next":
        item = min(item + 1, count)
    elif to == "previous":
        item = max(item - 1, 1)
    elif to != "restart":
        raise ValueError(f"“{to}” is not a move")
    Session.objects.filter(pk=session.pk).update(
        screen_item=item, screen_item_started_at=timezone.now()
    )
    session.refresh_from_db()
    return session


def add_meeting_action(*, session: Session, what: str, owner_text: str, by) -> Action:
    """An action agreed on the screen, as the coach types it: owned by a team named in
    words and chased by whoever added it."""
    if not what.strip() or not owner_text.strip():
        raise SessionError({"what": "Say what the action is and who owns it"})
    return Action.objects.create(
        room=session.room, raised_in=session, what=what.strip(),
        owner_text=owner_text.strip(), chaser=by,
    )  # fmt: skip


# The Model for Improvement: themes, multivotes, aims, the driver diagram, PDSA cycles.


class ImprovementError(ValueError):
    """What cannot be saved, field by field; what was already saved stays saved."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class NeedsConfirming(ImprovementError):
    """A move that is allowed, but that the person should confirm knowing why."""


def add_theme(*, room: BigRoom, title: str, description: str = "", source: str = "") -> Theme:
    title = title.strip()
    if room.themes.filter(title__iexact=title).exists():
        raise ImprovementError({"title": f"The room already has a theme called “{title}”"})
    return Theme.objects.create(
        room=room, title=title, description=description.strip(), source=source
    )


def open_multivote(*, room: BigRoom, votes_each: int, by) -> Multivote:
    if room.multivotes.filter(closed_on__isnull=True).exists():
        raise ImprovementError({"votes_each": "A multivote is already open: close it first"})
    if room.themes.count() < 2:
        raise ImprovementError({"votes_each": "Add at least two themes to vote on"})
    try:
        with transaction.atomic():
            return Multivote.objects.create(room=room, votes_each=votes_each, created_by=by)
    except IntegrityError:  # a double click: the constraint allows one open vote a room
        raise ImprovementError(
            {"votes_each": "A multivote is already open: close it first"}
        ) from None


def cast_votes(*, multivote: Multivote, voter, counts: dict[int, int]) -> None:
    """Replace this person's votes. They may give a theme several of their votes."""
    themes = set(multivote.room.themes.values_list("pk", flat=True))
    problems = {}
    for theme_id, count in counts.items():
        if theme_id not in themes:
            problems[f"theme_{theme_id}"] = "That theme is not in this room"
        elif count < 0:
            problems[f"theme_{theme_id}"] = "Votes cannot be fewer than 0"
    total = sum(count for count in counts.values() if count > 0)
    if total > multivote.votes_each:
        problems["__all__"] = f"You gave {total} votes: each person has {multivote.votes_each}"
    if problems:
        raise ImprovementError(problems)
    with transaction.atomic():
        # Locked, so votes and closing the vote happen one after the other.
        if Multivote.objects.select_for_update().get(pk=multivote.pk).closed_on is not None:
            raise ImprovementError({"__all__": "This multivote has closed"})
        multivote.votes.filter(voter=voter).delete()
        Vote.objects.bulk_create(
            Vote(multivote=multivote, voter=voter, theme_id=theme_id, count=count)
            for theme_id, count in counts.items()
            if count > 0
        )


def tally(multivote: Multivote) -> list[dict]:
    """The themes ranked by votes (then by how many people voted for them), highest first;
    the kept result once the vote has closed."""
    if not multivote.is_open:
        return multivote.result
    rows = (
        multivote.room.themes.annotate(
            votes_given=Sum("votes__count", filter=Q(votes__multivote=multivote)),
            voters=Count("votes", filter=Q(votes__multivote=multivote)),
        )
        .values("pk", "title", "votes_given", "voters")
        .order_by("pk")
    )
    ranked = [
        {"theme_id": r["pk"], "title": r["title"], "votes": r["votes_given"] or 0,
         "voters": r["voters"]}
        for r in rows
    ]  # fmt: skip
    ranked.sort(key=lambda r: (-r["votes"], -r["voters"]))
    for i, row in enumerate(ranked):  # ties share a rank: 1, 2, 2, 4
        same = i and (row["votes"], row["voters"]) == (
            ranked[i - 1]["votes"],
            ranked[i - 1]["voters"],
        )
        row["rank"] = ranked[i - 1]["rank"] if same else i + 1
    return ranked


def close_multivote(*, multivote: Multivote) -> Multivote:
    with transaction.atomic():
        multivote = Multivote.objects.select_for_update().get(pk=multivote.pk)
        if multivote.is_open:
            multivote.result = tally(multivote)
            multivote.closed_on = timezone.localdate()
            multivote.save(update_fields=["result", "closed_on"])
    return multivote


def _check_theme(room: BigRoom, theme: Theme | None) -> None:
    if theme is not None and theme.room_id != room.pk:
        raise ImprovementError({"theme": "Choose one of this room's themes"})


def save_global_aim(*, room: BigRoom, by, **fields) -> GlobalAim:
    _check_theme(room, fields.get("theme"))
    aim, _ = GlobalAim.objects.update_or_create(room=room, defaults={**fields, "updated_by": by})
    return aim


def save_specific_aim(*, room: BigRoom, aim: SpecificAim | None = None, **fields) -> SpecificAim:
    """Add or change a specific aim: what, how good, by when, on one of the room's measures."""
    measure = fields["measure"]
    if not room.has_measure(measure):
        raise ImprovementError({"measure": "Choose one of this room's measures"})
    _check_theme(room, fields.get("theme"))
    aim = aim or SpecificAim(room=room)
    for name, value in fields.items():
        setattr(aim, name, value)
    aim.save()
    return aim


def _under_itself(driver: Driver, parent: Driver | None) -> bool:
    """Whether putting ``driver`` under ``parent`` would put it under itself."""
    seen = set()
    while parent is not None and parent.pk not in seen:
        if parent.pk == driver.pk:
            return True
        seen.add(parent.pk)
        parent = parent.parent
    return False


def save_driver(
    *, room: BigRoom, title: str, parent: Driver | None, driver: Driver | None = None
) -> Driver:
    """Add a driver, or change one's words or where it sits. A driver cannot sit under
    itself or under one of its own secondary drivers."""
    if parent is not None and parent.room_id != room.pk:
        raise ImprovementError({"parent": "Choose a driver of this room"})
    with transaction.atomic():
        # One change to a room's tree at a time: two crossed moves cannot make a loop.
        BigRoom.objects.select_for_update().filter(pk=room.pk).first()
        if parent is not None:
            parent = Driver.objects.get(pk=parent.pk)  # its place as it is now
        return _place_driver(room=room, title=title, parent=parent, driver=driver)


def _place_driver(*, room: BigRoom, title: str, parent: Driver | None, driver: Driver | None):
    if driver is not None and _under_itself(driver, parent):
        where = "itself" if parent.pk == driver.pk else f"“{parent.title}”, which is under it"
        raise ImprovementError(
            {"parent": f"“{driver.title}” cannot go under {where}: choose another place"}
        )
    if driver is None:
        last = room.drivers.filter(parent=parent).aggregate(Max("position"))["position__max"]
        return Driver.objects.create(
            room=room, title=title.strip(), parent=parent, position=(last or 0) + 1
        )
    driver.title, driver.parent = title.strip(), parent
    driver.save(update_fields=["title", "parent"])
    return driver


def remove_driver(*, driver: Driver) -> None:
    """Remove a driver nothing hangs on: no driver under it, no change idea or measure
    linked to it (those would silently lose their place in the diagram)."""
    children = driver.children.count()
    if children:
        raise ImprovementError(
            {"__all__": f"“{driver.title}” has {children} driver{'s' if children != 1 else ''} "
             "under it: move or remove them first"}
        )  # fmt: skip
    linked = [f"the change idea “{i.title}”" for i in driver.change_ideas.all()]
    linked += [f"the measure “{m.name}”" for m in driver.measures.all()]
    if linked:
        raise ImprovementError(
            {"__all__": f"“{driver.title}” is linked to {', '.join(linked)}: link "
             f"{'them' if len(linked) > 1 else 'it'} elsewhere first"}
        )  # fmt: skip
    driver.delete()


def remove_change_idea(*, idea: ChangeIdea) -> None:
    """Remove a change idea not yet tested: once it has PDSA cycles they are the room's
    learning, and stay."""
    if idea.ramps.exists():
        raise ImprovementError(
            {"__all__": f"“{idea.title}” has PDSA cycles: it stays, with what they taught"}
        )
    idea.delete()


def save_change_idea(
    *, room: BigRoom, title: str, description: str, drivers, idea: ChangeIdea | None = None
) -> ChangeIdea:
    if any(d.room_id != room.pk for d in drivers):
        raise ImprovementError({"drivers": "Choose drivers of this room"})
    with transaction.atomic():
        renamed = idea is not None and idea.title != title.strip()
        idea = idea or ChangeIdea(room=room)
        idea.title, idea.description = title.strip(), description.strip()
        idea.save()
        idea.drivers.set(drivers)
        if renamed:  # its cycles' markers carry its name
            from measures.services import mark_charts_stale

            mark_charts_stale(
                PDSA.measures.through.objects.filter(pdsa__ramp__change_idea=idea).values_list(
                    "measure_id", flat=True
                )
            )
    return idea


@dataclass
class PlanQuestion:
    question: str
    prediction: str = ""
    pk: int | None = None


@dataclass
class PlanTask:
    task: str
    owner_id: int | None = None
    due_on: date | None = None
    done: bool = False
    pk: int | None = None


PLAN_FIELDS = ("objective", "purpose", "scale", "what", "who", "where", "starts_on", "ends_on")
DO_FIELDS = ("what_happened", "observations", "problems")


def _redraw(pdsa: PDSA, before: set[int]) -> None:
    from measures.services import mark_charts_stale

    now = set(pdsa.measures.values_list("pk", flat=True))
    mark_charts_stale(before | now)


def _save_questions(pdsa: PDSA, questions: Sequence[PlanQuestion]) -> None:
    kept = []
    existing = {q.pk: q for q in pdsa.questions.all()}
    for item in questions:
        row = existing.get(item.pk) or PDSAQuestion(pdsa=pdsa)
        row.question, row.prediction = item.question.strip(), item.prediction.strip()
        row.save()
        kept.append(row.pk)
    pdsa.questions.exclude(pk__in=kept).delete()


def _save_tasks(pdsa: PDSA, tasks: Sequence[PlanTask]) -> None:
    kept = []
    existing = {t.pk: t for t in pdsa.tasks.all()}
    for item in tasks:
        row = existing.get(item.pk) or PDSATask(pdsa=pdsa)
        row.task, row.owner_id, row.due_on = item.task.strip(), item.owner_id, item.due_on
        row.done = item.done
        row.save()
        kept.append(row.pk)
    pdsa.tasks.exclude(pk__in=kept).delete()


def start_pdsa(*, idea: ChangeIdea, plan: dict, questions=(), tasks=(), measures=(), by) -> PDSA:
    """Start a new ramp for a change idea with its first cycle, in planning."""
    if any(not idea.room.has_measure(m) for m in measures):
        raise ImprovementError({"measures": "Choose measures of this room"})
    with transaction.atomic():
        ramp = Ramp.objects.create(change_idea=idea)
        pdsa = PDSA.objects.create(room_id=idea.room_id, ramp=ramp, number=1, created_by=by, **plan)
        pdsa.measures.set(measures)
        _save_questions(pdsa, questions)
        _save_tasks(pdsa, tasks)
        _redraw(pdsa, set())
    return pdsa


def save_plan(*, pdsa: PDSA, plan: dict, questions, tasks, measures) -> PDSA:
    if any(not pdsa.room.has_measure(m) for m in measures):
        raise ImprovementError({"measures": "Choose measures of this room"})
    with transaction.atomic():
        before = set(pdsa.measures.values_list("pk", flat=True))
        moved = plan["starts_on"] != pdsa.starts_on
        for name, value in plan.items():
            setattr(pdsa, name, value)
        pdsa.save(update_fields=list(plan))
        pdsa.measures.set(measures)
        _save_questions(pdsa, questions)
        _save_tasks(pdsa, tasks)
        if moved or before != {m.pk for m in measures}:
            _redraw(pdsa, before)
    return pdsa


def save_do(*, pdsa: PDSA, **fields: str) -> PDSA:
    for name in DO_FIELDS:
        setattr(pdsa, name, fields.get(name, "").strip())
    pdsa.save(update_fields=list(DO_FIELDS))
    return pdsa


def save_study(*, pdsa: PDSA, results: dict[int, str], learning: str) -> PDSA:
    with transaction.atomic():
        for question in pdsa.questions.all():
            if question.pk in results:
                question.result = results[question.pk].strip()
                question.save(update_fields=["result"])
        pdsa.learning = learning.strip()
        pdsa.save(update_fields=["learning"])
    return pdsa


def save_act(*, pdsa: PDSA, decision: str, next_step: str) -> PDSA:
    pdsa.decision, pdsa.next_step = decision, next_step.strip()
    pdsa.save(update_fields=["decision", "next_step"])
    return pdsa


def _blockers(pdsa: PDSA) -> dict[str, str]:
    """What must be filled in before the cycle moves on from where it is."""
    status = PDSA.Status
    if pdsa.status == status.DOING and not pdsa.what_happened.strip():
        return {"what_happened": "Say what happened before moving on to Study"}
    if pdsa.status == status.STUDYING:
        problems = {}
        for i, question in enumerate(pdsa.questions.all(), start=1):
            if not question.result.strip():
                against = " against its prediction" if question.prediction.strip() else ""
                problems[f"result_{question.pk}"] = (
                    f"Give the result for question {i}, “{question.question}”{against}"
                )
        if not pdsa.learning.strip():
            problems["learning"] = "Say what was learnt before moving on to Act"
        return problems
    if pdsa.status == status.ACTING and not pdsa.decision:
        return {"decision": "Choose adopt, adapt or abandon before completing the cycle"}
    return {}


NEXT_STATUS = {
    PDSA.Status.PLANNING: PDSA.Status.DOING,
    PDSA.Status.DOING: PDSA.Status.STUDYING,
    PDSA.Status.STUDYING: PDSA.Status.ACTING,
    PDSA.Status.ACTING: PDSA.Status.COMPLETE,
}


def move_pdsa(*, pdsa: PDSA, expected: str | None = None, confirmed: bool = False) -> PDSA:
    """Move the cycle on one step: planning → doing → studying → acting → complete.

    Study needs a result for every question and Act a decision. Moving to Do with a
    question that has no prediction is allowed once confirmed: predicting is what makes it
    a test, so the person is told which. ``expected`` is the status the person saw: if
    the cycle has moved since (a colleague, a double click), it is not moved again."""
    with transaction.atomic():
        locked = PDSA.objects.select_for_update().get(pk=pdsa.pk)
        if expected and locked.status != expected:
            raise ImprovementError(
                {"__all__": f"This cycle is already at {locked.get_status_display()}: "
                 "nothing was moved"}
            )  # fmt: skip
        _move(locked, confirmed)
    pdsa.status, pdsa.status_changed_on = locked.status, locked.status_changed_on
    return pdsa


def _move(pdsa: PDSA, confirmed: bool) -> None:
    if pdsa.status not in NEXT_STATUS:
        raise ImprovementError({"__all__": "This cycle is complete"})
    problems = _blockers(pdsa)
    if problems:
        raise ImprovementError(problems)
    if pdsa.status == PDSA.Status.PLANNING and not confirmed:
        questions = list(pdsa.questions.all())
        unpredicted = [q.question for q in questions if not q.prediction.strip()]
        if not questions:
            raise NeedsConfirming({"__all__": "The plan has no questions, so no predictions"})
        if unpredicted:
            raise NeedsConfirming(
                {"__all__": f"No prediction for {len(unpredicted)} of the {len(questions)} "
                 f"questions: {'; '.join(unpredicted)}"}
            )  # fmt: skip
    pdsa.status = NEXT_STATUS[pdsa.status]
    pdsa.status_changed_on = timezone.localdate()
    pdsa.save(update_fields=["status", "status_changed_on"])


def finish_pdsa_task(*, task: PDSATask) -> PDSATask:
    PDSATask.objects.filter(pk=task.pk).update(done=True)
    task.done = True
    return task


def next_cycle(*, pdsa: PDSA, by) -> PDSA:
    """The next cycle in the same ramp, filled from the last: its plan, its questions (to
    predict again) and its measures; the objective starts from what the team said to do next."""
    with transaction.atomic():
        # Locked: a double click starts one next cycle, not two.
        Ramp.objects.select_for_update().get(pk=pdsa.ramp_id)
        return _next_cycle(pdsa.ramp.cycles.order_by("-number").first(), by)


def _next_cycle(last: PDSA, by) -> PDSA:
    if last.status != PDSA.Status.COMPLETE:
        raise ImprovementError({"__all__": f"Complete PDSA {last.number} first"})
    if last.decision == PDSA.Decision.ABANDON:
        raise ImprovementError(
            {"__all__": "This ramp's change was abandoned: start a new ramp from a change idea"}
        )
    plan = {name: getattr(last, name) for name in PLAN_FIELDS}
    plan.update(objective=last.next_step or last.objective, starts_on=timezone.localdate(),
                ends_on=None)  # fmt: skip
    cycle = PDSA.objects.create(
        room_id=last.room_id, ramp=last.ramp, number=last.number + 1, created_by=by, **plan
    )
    cycle.measures.set(last.measures.all())
    _save_questions(cycle, [PlanQuestion(q.question) for q in last.questions.all()])
    _redraw(cycle, set())
    return cycle


# --- Board packs: a PDF of the room for its organisation's quality committee ---------------

BOARD_PACK_FAILED = (
    "The board pack could not be made. Try again, or tell your system administrator if it "
    "happens again."
)
BOARD_PACK_STOPPED = "Making the board pack stopped before it finished. Try again."
BOARD_PACK_NO_BROWSER = (
    "The charts could not be drawn: the server has no browser to draw them with. Tell your "
    "system administrator (the worker needs Chromium, at the FCA_BROWSER_PATH setting)."
)


def request_board_pack(*, room: BigRoom, by) -> BoardPack:
    """Ask the worker for the room's board pack, or join the one already on its way: a
    second click, or a coach and a QI lead asking at once, make one pack. (Who may ask is
    BoardPack.may_make, checked by the view: the room's coaches and its host's QI leads.)

    A pack whose worker died is marked failed and a new one started; one still waiting
    after a minute (the queue was away when it was asked for) is sent again."""
    from bigrooms.tasks import build_board_pack
    from fca.enqueue import enqueue_on_commit

    S = BoardPack.Status
    now = timezone.now()
    with transaction.atomic():
        BoardPack.objects.filter(
            room=room, status=S.WORKING, updated_at__lt=now - BoardPack.STALLED
        ).update(status=S.FAILED, error=BOARD_PACK_STOPPED, updated_at=now)
        pack = BoardPack.objects.filter(room=room, status__in=BoardPack.IN_FLIGHT).first()
        if pack is None:
            try:
                with transaction.atomic():
                    pack = BoardPack.objects.create(room=room, requested_by=by)
            except IntegrityError:  # asked for at the same moment by someone else
                return BoardPack.objects.get(room=room, status__in=BoardPack.IN_FLIGHT)
        elif pack.status != S.QUEUED or pack.updated_at >= now - BoardPack.UNSENT:
            return pack
        else:  # sent again: it waits another minute before it looks stuck
            BoardPack.objects.filter(pk=pack.pk).update(updated_at=now)
        enqueue_on_commit(build_board_pack, pack.pk)
    return pack


def build_board_pack(*, pack_id: int) -> bool:
    """The worker's build of a board pack. Returns whether this run made it.

    1. Claim the pack (waiting, or "being made" by a worker that died): a duplicate or
       late task finds it claimed and does nothing.
    2. Read the room (bigrooms.services.board_pack_contents), draw its diagram and charts
       and write the PDF (bigrooms.boardpack), saying how far it has got as it goes.
    3. Keep the file, if the pack is still this run's; older packs' files go.
    A failure is kept with words for the person; a database away for a moment puts the
    pack back to wait and raises, so the task retries."""
    from django.core.files.base import ContentFile
    from django.db import OperationalError
    from django.utils.text import slugify

    S = BoardPack.Status
    now = timezone.now()
    claimable = Q(status=S.QUEUED) | Q(status=S.WORKING, updated_at__lt=now - BoardPack.STALLED)
    if not BoardPack.objects.filter(claimable, pk=pack_id).update(
        status=S.WORKING, progress=2, step="Starting", updated_at=now
    ):
        return False
    pack = BoardPack.objects.select_related("room__host", "room__pathway").get(pk=pack_id)
    working = BoardPack.objects.filter(pk=pack_id, status=S.WORKING)

    def progress(percent: int, words: str) -> None:
        working.update(progress=percent, step=words[:200], updated_at=timezone.now())

    try:
        progress(5, "Reading the room's aim, measures and PDSA cycles")
        contents = board_pack_contents(pack.room)
        browser = settings.FCA_BROWSER_PATH
        pdf = boardpack.build(contents, browser_path=browser, progress=progress)
    except OperationalError:
        working.update(status=S.QUEUED, step="", updated_at=timezone.now())
        raise
    except Exception as error:
        logger.exception("Board pack %s could not be made", pack_id)
        missing = isinstance(error, boardpack.BrowserMissing)
        words = BOARD_PACK_NO_BROWSER if missing else BOARD_PACK_FAILED
        working.update(status=S.FAILED, error=words, updated_at=timezone.now())
        return False
    name = f"{slugify(pack.room.name)[:80] or 'room'}-{contents.made_on.isoformat()}.pdf"
    pack.file.save(name, ContentFile(pdf), save=False)
    if not working.update(status=S.READY, progress=100, step="Ready", file=pack.file.name,
                          size=len(pdf), updated_at=timezone.now()):  # fmt: skip
        pack.file.delete(save=False)  # marked failed meanwhile (it took too long): not kept
        return False
    _drop_older_board_packs(pack)
    return True


def _drop_older_board_packs(pack: BoardPack) -> None:
    """Only the latest pack's file is kept; the older rows stay as the record."""
    older = BoardPack.objects.filter(room_id=pack.room_id, created_at__lte=pack.created_at)
    for old in older.exclude(pk=pack.pk).exclude(file=""):
        old.file.delete(save=False)
        BoardPack.objects.filter(pk=old.pk).update(file="", size=0)


def board_pack_contents(room: BigRoom) -> boardpack.Contents:
    """What goes in the room's board pack, read from its rows: the aim, the diagram, the
    measures' stored charts, the PDSA cycles and their learning. Never the sessions' notes
    or patient stories, which academy admins and QI leads of other rooms may not read."""
    from measures.models import Measure

    aim = GlobalAim.objects.filter(room=room).first()
    drivers = list(room.drivers.all())
    ideas = list(room.change_ideas.prefetch_related("drivers"))
    layout = None
    if drivers or ideas:
        layout = diagram.layout(
            aim.statement if aim else "The aim is not written yet",
            [diagram.Node(d.pk, d.parent_id, d.title) for d in drivers],
            [diagram.Idea(i.pk, i.title, tuple(d.pk for d in i.drivers.all())) for i in ideas],
        )
    coaches = room.memberships.filter(role__in=RoomMembership.COACH_ROLES).select_related("user")
    kinds = {kind: n for n, kind in enumerate(Measure.Kind.values)}
    measures = sorted(
        room.all_measures().select_related("chart").with_denominators(),
        key=lambda m: (kinds[m.kind], m.name),
    )
    cycles = list(
        room.pdsas.select_related("ramp__change_idea").order_by(
            "ramp__change_idea_id", "ramp_id", "number"
        )
    )
    return boardpack.Contents(
        room=room.name,
        organisation=room.host.name,
        pathway=room.pathway.name if room.pathway_id else "",
        made_on=timezone.localdate(),
        stage=room.get_stage_display(),
        status=room.get_status_display(),
        coaches=tuple(f"{m.user.full_name} ({m.get_role_display().lower()})" for m in coaches),
        aim=aim.statement if aim else "",
        why=aim.why.strip() if aim else "",
        specific_aims=tuple(
            f"{s.what}: {_amount(s.target, s.measure.unit)} by {format_date(s.target_on)}, "
            f"read on “{s.measure.name}”"
            for s in room.specific_aims.select_related("measure")
        ),
        diagram=layout,
        diagram_outline=_diagram_outline(drivers, ideas),
        charts=tuple(_chart_part(measure) for measure in measures),
        cycles=_cycle_rows(cycles),
        cycle_counts=_cycle_counts(cycles),
        learning=tuple(
            boardpack.Learning(
                title=f"PDSA {c.number}: {c.ramp.change_idea.title}",
                decided=(
                    f"{c.get_decision_display()}, {format_date(c.status_changed_on)}"
                    if c.decision and c.status == PDSA.Status.COMPLETE
                    else ""
                ),
                learning=c.learning.strip(),
                next_step=c.next_step.strip(),
            )  # fmt: skip
            for c in cycles
            if c.learning.strip() or c.next_step.strip()
        ),
    )


def _amount(value: float, unit: str) -> str:
    return f"{value:g}%" if unit == "%" else f"{value:g} {unit}".strip()


def _diagram_outline(drivers, ideas) -> tuple[tuple[int, str], ...]:

    rows = []
    for driver, depth in in_tree_order(drivers):
        kind = "Primary driver" if depth == 0 else "Secondary driver"
        rows.append((depth, f"{kind}: {driver.title}"))
        served = [i.title for i in ideas if any(d.pk == driver.pk for d in i.drivers.all())]
        if served:
            rows.append((depth + 1, f"Change ideas: {'; '.join(served)}"))
    unplaced = [i.title for i in ideas if not i.drivers.all()]
    if unplaced:
        rows.append((0, f"Change ideas not yet linked to a driver: {'; '.join(unplaced)}"))
    return tuple(rows)


def _chart_part(measure) -> boardpack.ChartPart:
    from measures.templatetags.mdc import assurance_icon, variation_icon

    chart = getattr(measure, "chart", None)
    result, figure = (chart.result, chart.figure) if chart else ({}, {})
    about = [measure.get_frequency_display(), measure.get_chart_type_display(),
             measure.get_improvement_display()]  # fmt: skip
    if measure.target is not None:
        about.append(f"Target {_amount(measure.target, measure.unit)}")
    if measure.pathway_id:
        about.append("From the care pathway's episodes")
    denominators = None  # the queryset's with_denominators: no query a measure
    if measure.shape != measure.Shape.VALUE and result.get("points"):
        denominators = (measure.denominator_total or 0, measure.latest_denominator or 0)
    stale = None
    if chart and not chart.is_current_for(measure) and chart.computed_at:
        stale = timezone.localdate(chart.computed_at)
    icons = {  # drawn as on the app's pages
        "variation": str(variation_icon(result.get("variation_icon"))),
        "assurance": str(assurance_icon(result.get("assurance_icon"))),
    }
    return boardpack.chart_part(
        name=measure.name,
        kind=measure.get_kind_display(),
        frequency=measure.frequency,
        about=" · ".join(about),
        result=result,
        figure=figure,
        denominators=denominators,
        stale_since=stale,
        icon_svgs=icons,
    )


def _cycle_rows(cycles) -> tuple[boardpack.CycleRow, ...]:
    ramps: dict[int, dict[int, int]] = {}  # change idea → ramp → its number within the idea
    rows = []
    for c in cycles:
        numbers = ramps.setdefault(c.ramp.change_idea_id, {})
        numbers.setdefault(c.ramp_id, len(numbers) + 1)
        rows.append(
            boardpack.CycleRow(
                idea=c.ramp.change_idea.title,
                ramp=numbers[c.ramp_id],
                number=c.number,
                starts_on=c.starts_on,
                status=c.get_status_display(),
                decision=c.get_decision_display() if c.status == PDSA.Status.COMPLETE else "",
            )
        )
    return tuple(rows)


def _cycle_counts(cycles) -> str:
    if not cycles:
        return ""
    done = [c for c in cycles if c.status == PDSA.Status.COMPLETE]
    ramps = len({c.ramp_id for c in cycles})
    words = (
        f"{len(cycles)} PDSA cycle{'s' if len(cycles) != 1 else ''} in {ramps} "
        f"ramp{'s' if ramps != 1 else ''}: {len(cycles) - len(done)} under way, "
        f"{len(done)} complete"
    )
    decisions = [
        f"{sum(1 for c in done if c.decision == value)} {label.lower()}ed"
        for value, label in PDSA.Decision.choices
        if any(c.decision == value for c in done)
    ]
    return words + (f" ({', '.join(decisions)})." if decisions else ".")
