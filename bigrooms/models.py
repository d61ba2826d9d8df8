from datetime import date, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from bigrooms import cadence
from fca.dates import format_date
from fca.models import Organisation, OrganisationMembership


class BigRoomQuerySet(models.QuerySet):
    def visible_to(self, user) -> "BigRoomQuerySet":
        """Rooms the person may read: their own rooms, every room of an organisation where
        they are QI lead or viewer, and every room for an academy admin."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_academy_admin:
            return self.all()
        member = RoomMembership.objects.filter(room=OuterRef("pk"), user=user)
        org_reader = OrganisationMembership.objects.filter(
            organisation=OuterRef("host"),
            user=user,
            role__in=[OrganisationMembership.Role.QI_LEAD, OrganisationMembership.Role.VIEWER],
        )
        return self.filter(Exists(member) | Exists(org_reader))


DEFAULT_AGENDA = [
    "Patient story",
    "Last week's actions",
    "Data and PDSA review",
    "Main item",
    "Next actions",
    "Parking lot",
    "Evaluation",
]


class BigRoom(models.Model):
    class Status(models.TextChoices):
        FORMING = "forming", "Forming"
        ACTIVE = "active", "Active"
        STOOD_DOWN = "stood_down", "Stood down for a while"
        CLOSED = "closed", "Closed"

    class Stage(models.TextChoices):
        """The FCA roadmap: a cycle rather than a line, so a room can move back."""

        PRE_PHASE = "pre_phase", "Pre-phase"
        BUILD = "build", "Build the big room (5Vs)"
        THEMES = "themes", "Themes"
        GLOBAL_AIM = "global_aim", "Global aim"
        CHANGE_IDEAS = "change_ideas", "Change ideas"
        DRIVER_DIAGRAM = "driver_diagram", "Driver diagram"
        TESTING = "testing", "Testing (PDSA)"
        STANDARDISE = "standardise", "Standardise"

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    name = models.CharField(max_length=200)
    host = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="big_rooms",
        help_text="The organisation that hosts the room",
    )
    purpose = models.TextField(blank=True)
    pathway = models.ForeignKey(
        "pathways.Pathway",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rooms",
        help_text="The care pathway the room works on",
    )
    sponsor = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.FORMING)
    status_reason = models.CharField(max_length=200, blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PRE_PHASE)
    # When and where the room meets: weekly, for an hour by default.
    meeting_weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, null=True, blank=True
    )
    meeting_time = models.TimeField(null=True, blank=True)
    meeting_minutes = models.PositiveSmallIntegerField(default=60)
    meeting_place = models.CharField(max_length=200, blank=True)
    online_link = models.URLField(blank=True)
    ground_rules = models.TextField(blank=True)
    agenda_template = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BigRoomQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def agenda(self) -> list[str]:
        """The room's agenda template, or FCA's usual one."""
        return self.agenda_template or DEFAULT_AGENDA

    def access_for(self, user) -> "RoomAccess":
        """What this person may do here; one query."""
        return RoomAccess.for_user(self, user)

    def all_measures(self):
        """The room's own measures and the flow measures of the pathway it works on."""
        from measures.models import Measure

        owned = Q(room=self)
        if self.pathway_id:
            owned |= Q(pathway_id=self.pathway_id)
        return Measure.objects.filter(owned)

    def has_measure(self, measure) -> bool:
        return measure.room_id == self.pk or (
            measure.pathway_id is not None and measure.pathway_id == self.pathway_id
        )

    def paused_spans(self) -> list[tuple[date, date | None]]:
        """The spans [from, until) when the room was stood down (until None: still is)."""
        changes = self.status_changes.order_by("changed_on", "pk")
        return cadence.paused_spans(changes.values_list("status", "changed_on"))

    def expected_meetings(self, *, until: date, logged: list[date] | None = None) -> list[date]:
        """The meetings the room was expected to hold, up to ``until`` (``logged``: the
        days of its sessions, when the caller has read them already)."""
        if self.meeting_weekday is None:
            return []
        if logged is None:
            first = self.sessions.order_by("held_on").values_list("held_on", flat=True).first()
        else:
            first = min(logged, default=None)
        start = min(first or self.created_at.date(), self.created_at.date())
        return cadence.expected_meetings(
            weekday=self.meeting_weekday,
            start=start,
            end=until,
            nation=self.host.nation,
            paused=self.paused_spans(),
        )

    def stalls_with_context(self) -> list[dict]:
        """Each stall flag with the latest note a coach gave it, while it is recent: a
        note from an earlier stall has had its day."""
        stalls = self.stalls()
        if not stalls:
            return []
        recent = timezone.now() - timedelta(days=28)
        notes = {}
        for note in self.stall_notes.filter(created_at__gte=recent).select_related("created_by"):
            notes.setdefault(note.kind, note)
        return [{"kind": s.kind, "message": s.message, "note": notes.get(s.kind)} for s in stalls]

    def stalls(self, today: date | None = None) -> list[cadence.Stall]:
        """Why the room looks stalled, in words; none for a room not meeting now."""
        if self.status != self.Status.ACTIVE:
            return []
        today = today or timezone.localdate()
        logged = list(self.sessions.values_list("held_on", flat=True))
        return cadence.stalls(
            expected=self.expected_meetings(until=today - timedelta(days=1), logged=logged),
            logged=logged,
            overdue=self.actions.filter(status="open", due_on__lt=today).count(),
            standstill=self.pdsa_standstill(today),
        )

    TESTING_STAGES = (Stage.TESTING, Stage.STANDARDISE)

    def pdsa_standstill(self, today: date) -> str | None:
        if self.stage not in self.TESTING_STAGES:
            return None
        reached = (
            self.stage_changes.filter(stage__in=self.TESTING_STAGES)
            .order_by("-changed_on")
            .values_list("changed_on", flat=True)
            .first()
        ) or timezone.localdate(self.created_at)
        return cadence.pdsa_standstill(
            testing=True,
            last_move=self.pdsas.aggregate(models.Max("status_changed_on"))[
                "status_changed_on__max"
            ],
            reached=reached,
            today=today,
        )


class RoomMembership(models.Model):
    class Role(models.TextChoices):
        CLINICAL_COACH = "clinical_coach", "Clinical coach"
        INDEPENDENT_COACH = "independent_coach", "Independent coach"
        MEMBER = "member", "Member"
        PARTNER = "partner", "Patient or carer partner"
        VIEWER = "viewer", "Viewer"

    COACH_ROLES = (Role.CLINICAL_COACH, Role.INDEPENDENT_COACH)

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )

    class TeamRole(models.TextChoices):
        DOCTOR = "doctor", "Doctor"
        NURSE = "nurse", "Nurse"
        THERAPIST = "therapist", "Therapist"
        MANAGER = "manager", "Manager"
        ADMINISTRATOR = "administrator", "Administrator"
        SOCIAL_CARE = "social_care", "Social care"
        GP = "gp", "GP"
        PARTNER = "partner", "Patient or carer partner"
        ANALYST = "analyst", "Analyst"
        OTHER = "other", "Other"

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    # Their place on the team, whatever their access.
    team_role = models.CharField(max_length=20, choices=TeamRole.choices, blank=True)
    # The right to upload and enter data for the room's measures.
    can_contribute_data = models.BooleanField("data contributor", default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="one_membership_per_room")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.room}"

    @property
    def is_coach(self) -> bool:
        return self.role in self.COACH_ROLES


class RoomAccess:
    """What one person may do in one room, decided in one place."""

    def __init__(
        self,
        *,
        can_read: bool,
        can_manage: bool,
        can_enter_data: bool,
        can_read_notes: bool = False,
        can_manage_members: bool = False,
        is_partner: bool = False,
        is_member: bool = False,
    ):
        self.can_read = can_read
        self.can_manage = can_manage
        self.can_enter_data = can_enter_data
        # Notes on a chart: whoever may give it data.
        self.can_note = can_enter_data
        # Session notes and patient stories: the room's members and its organisation's QI
        # leads and viewers; not academy admins, who see the room's metadata only.
        self.can_read_notes = can_read_notes
        # Coaches, and QI leads of the host organisation, who manage its rooms' teams.
        self.can_manage_members = can_manage_members
        # A patient or carer partner: pages open their plain-English explanations.
        self.is_partner = is_partner
        # On the team (not a viewer): may vote in the room's multivotes.
        self.is_member = is_member

    @classmethod
    def for_user(cls, room: BigRoom, user) -> "RoomAccess":
        if not user.is_authenticated or not user.is_active:
            return cls(can_read=False, can_manage=False, can_enter_data=False)
        membership = (
            RoomMembership.objects.filter(room=room, user=user)
            .only("role", "can_contribute_data")
            .first()
        )
        if membership is not None:
            coach = membership.is_coach
            return cls(
                can_read=True,
                can_manage=coach,
                can_enter_data=coach or membership.can_contribute_data,
                can_read_notes=True,
                can_manage_members=coach or room_qi_lead(room, user),
                is_partner=membership.role == RoomMembership.Role.PARTNER,
                is_member=membership.role != RoomMembership.Role.VIEWER,
            )
        org_role = (
            OrganisationMembership.objects.filter(user=user, organisation_id=room.host_id)
            .values_list("role", flat=True)
            .first()
        )
        org_reader = org_role in (
            OrganisationMembership.Role.QI_LEAD,
            OrganisationMembership.Role.VIEWER,
        )
        return cls(
            can_read=org_reader or user.is_academy_admin,
            can_manage=False,
            can_enter_data=False,
            can_read_notes=org_reader,
            can_manage_members=org_role == OrganisationMembership.Role.QI_LEAD,
        )


def room_qi_lead(room: BigRoom, user) -> bool:
    """Whether the person is a QI lead of the organisation hosting the room."""
    return OrganisationMembership.objects.filter(
        role=OrganisationMembership.Role.QI_LEAD, user=user, organisation_id=room.host_id
    ).exists()


class StageChange(models.Model):
    """Every move along the roadmap, forwards or back: the room page shows the journey."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="stage_changes")
    stage = models.CharField(max_length=20, choices=BigRoom.Stage.choices)
    changed_on = models.DateField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["changed_on", "pk"]

    def __str__(self) -> str:
        return f"{self.room}: {self.get_stage_display()} from {self.changed_on}"


class StatusChange(models.Model):
    """When a room stood down, came back or closed, and why: stood-down weeks are not
    missed meetings."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=12, choices=BigRoom.Status.choices)
    reason = models.CharField(max_length=200, blank=True)
    changed_on = models.DateField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["changed_on", "pk"]

    def __str__(self) -> str:
        return f"{self.room}: {self.get_status_display()} from {self.changed_on}"


class Session(models.Model):
    """One weekly big room meeting, as the coach logs it."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="sessions")
    held_on = models.DateField()
    guests = models.PositiveSmallIntegerField(default=0)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    timekeeper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note_keeper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    patient_story = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    # Raised on every save of the notes, and of the patient story: a save made from an
    # older version is refused, not lost.
    version = models.PositiveIntegerField(default=1)
    story_version = models.PositiveIntegerField(default=1)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Meeting mode: the agenda item on the room's screen (its order) and when it started.
    screen_item = models.PositiveSmallIntegerField(default=1)
    screen_item_started_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    ROLES = ("chair", "timekeeper", "note_keeper", "facilitator")

    class Meta:
        ordering = ["-held_on"]
        constraints = [
            models.UniqueConstraint(fields=["room", "held_on"], name="one_session_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.room}, {self.held_on}"

    def note_parts(self) -> list[dict]:
        """The parts written as the meeting runs, each with its text and version: the
        names the autosave and the plain form both use."""
        return [
            {"part": "patient_story", "label": "Patient story", "text": self.patient_story,
             "version": self.story_version},
            {"part": "notes", "label": "Notes and decisions", "text": self.notes,
             "version": self.version},
        ] + [
            {"part": f"agenda-{item.pk}", "label": f"{item.order}. {item.title}",
             "text": item.notes, "version": item.version}
            for item in self.agenda.all()
        ]  # fmt: skip

    def writable_by(self, user, access: "RoomAccess") -> bool:
        """Coaches write any session; whoever holds one of its roles writes this one."""
        holders = {getattr(self, f"{role}_id") for role in self.ROLES}
        return access.can_manage or user.pk in holders


class AgendaItem(models.Model):
    """One item of a session's agenda, from the room's template, with its notes."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="agenda")
    order = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=100)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # Raised on every save of the notes: a save from an older version is refused, not lost.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.title


class Attendance(models.Model):
    class Mode(models.TextChoices):
        IN_ROOM = "in_room", "In the room"
        ONLINE = "online", "Online"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.IN_ROOM)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="attended_once")]

    def __str__(self) -> str:
        return f"{self.user} at {self.session}"


class Action(models.Model):
    """An action agreed in a big room: owned by a member, or by a team named in words with
    a member who chases it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="actions")
    raised_in = models.ForeignKey(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions_raised"
    )
    what = models.CharField(max_length=300)
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions_owned",
    )
    owner_text = models.CharField("owner (in words)", max_length=100, blank=True)
    chaser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions_chased",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False) | ~models.Q(owner_text=""),
                name="an_action_has_an_owner",
            )
        ]

    def __str__(self) -> str:
        return self.what

    @property
    def owner_name(self) -> str:
        return self.owner.full_name if self.owner else self.owner_text


class ParkingItem(models.Model):
    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="parking_lot")
    raised_in = models.ForeignKey(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=300)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.text


class Evaluation(models.Model):
    """One anonymous score of a meeting, 0 to 10: no person is recorded."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="evaluations")
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    comment = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=10), name="score_from_0_to_10"
            )
        ]

    def __str__(self) -> str:
        return f"{self.score} for {self.session}"


class MissedMeetingReminder(models.Model):
    """One reminder per missed meeting: the daily job never sends the same one twice."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="+")
    meeting_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "meeting_on"], name="one_reminder_a_meeting")
        ]

    def __str__(self) -> str:
        return f"Reminder for {self.room}, {self.meeting_on}"


class FiveVs(models.Model):
    """The 5Vs assessment of building the big room. Every save is a new version, so the
    earlier ones stay readable with their date and author."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="five_vs")
    value = models.TextField("Value", blank=True)
    involve = models.TextField("inVolve", blank=True)
    visualisation = models.TextField("Visualisation", blank=True)
    evidence = models.TextField("eVidence", blank=True)
    vision = models.TextField("Vision", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    FIELDS = ("value", "involve", "visualisation", "evidence", "vision")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"5Vs of {self.room}, {self.created_at:%d %b %Y}"


def _photo_path(photo: "RoomPhoto", filename: str) -> str:
    return f"rooms/{photo.room_id}/photos/{filename}"


class RoomPhoto(models.Model):
    """A photo of a flipchart or a post-it process map. Served only to people who may see
    the room, never from a public address."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=_photo_path)
    caption = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.caption


class Stakeholder(models.Model):
    """Someone with a stake in the pathway, found in the pre-phase: who, and how involved."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="stakeholders")
    name = models.CharField(max_length=200)
    organisation = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=200, blank=True)
    involvement = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StallNote(models.Model):
    """A coach's context for a stall flag ("theatre closed for refurbishment")."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="stall_notes")
    kind = models.CharField(max_length=20)  # the flag it explains: no_sessions, no_pdsa, …
    note = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.note


# The Model for Improvement: themes → aims → driver diagram → change ideas → PDSA ramps.


class Theme(models.Model):
    """Something the team could work on, found while building the big room (the 5Vs)."""

    class Source(models.TextChoices):
        VALUE = "value", "Value"
        INVOLVE = "involve", "inVolve"
        VISUALISATION = "visualisation", "Visualisation"
        EVIDENCE = "evidence", "eVidence"
        VISION = "vision", "Vision"

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="themes")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(
        "which of the 5Vs it came from", max_length=15, choices=Source.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["room", "title"], name="theme_title_unique_in_room")
        ]

    def __str__(self) -> str:
        return self.title


class Multivote(models.Model):
    """A multivote on the room's themes: each member spreads ``votes_each`` votes over
    them. Closing it keeps the ranked result with its date, even if themes change later."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="multivotes")
    votes_each = models.PositiveSmallIntegerField(
        "votes for each person",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    opened_on = models.DateField(default=timezone.localdate)
    closed_on = models.DateField(null=True, blank=True)
    # [{"theme_id", "title", "votes", "voters"}], highest first: kept as it was on the day.
    result = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-opened_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["room"], condition=Q(closed_on__isnull=True), name="one_open_multivote"
            )
        ]

    def __str__(self) -> str:
        return f"Multivote of {format_date(self.opened_on)}"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class Vote(models.Model):
    """How many of their votes one person gave one theme."""

    multivote = models.ForeignKey(Multivote, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="votes")
    count = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["multivote", "voter", "theme"], name="one_vote_row_per_theme"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} for {self.theme}"


class GlobalAim(models.Model):
    """What the room is trying to accomplish, in words: where, what it will look like, why."""

    room = models.OneToOneField(BigRoom, on_delete=models.CASCADE, related_name="global_aim")
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    where = models.TextField(help_text="The part of the pathway, and for whom")
    looks_like = models.TextField(
        "what it will look like", help_text="How things will be for patients and staff"
    )
    why = models.TextField("why it matters", help_text="For patients, families and staff")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.statement

    @property
    def statement(self) -> str:
        return f"{self.where.strip().rstrip('.')}: {self.looks_like.strip().rstrip('.')}."


class SpecificAim(models.Model):
    """How the room will know: what, how good, by when, read on a named measure."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="specific_aims")
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="specific_aims"
    )
    what = models.CharField("what will improve", max_length=300)
    # An aim must stay readable: a measure named by an aim cannot be deleted from under it
    # (RESTRICT, unlike PROTECT, still lets the whole room go).
    measure = models.ForeignKey(
        "measures.Measure", on_delete=models.RESTRICT, related_name="specific_aims"
    )
    target = models.FloatField("how good")
    target_on = models.DateField("by when")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target_on", "pk"]

    def __str__(self) -> str:
        return self.what


class Driver(models.Model):
    """A node of the driver diagram: a primary driver (no parent) or a secondary driver
    under one. Nodes form a tree; services refuse a node under itself."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="drivers")
    parent = models.ForeignKey(
        "self", on_delete=models.RESTRICT, null=True, blank=True, related_name="children"
    )
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class ChangeIdea(models.Model):
    """Something the team could change, serving one or more drivers, tested in PDSA ramps."""

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="change_ideas")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    drivers = models.ManyToManyField(Driver, blank=True, related_name="change_ideas")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class Ramp(models.Model):
    """A run of PDSA cycles testing one change idea, each building on the last."""

    change_idea = models.ForeignKey(ChangeIdea, on_delete=models.CASCADE, related_name="ramps")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Ramp {self.pk} of {self.change_idea}"


class PDSA(models.Model):
    """One Plan-Do-Study-Act cycle, numbered within its ramp."""

    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        DOING = "doing", "Doing"
        STUDYING = "studying", "Studying"
        ACTING = "acting", "Acting"
        COMPLETE = "complete", "Complete"

    class Purpose(models.TextChoices):
        COLLECT = "collect", "Collect information"
        DEVELOP = "develop", "Develop a change"
        TEST = "test", "Test a change"
        IMPLEMENT = "implement", "Implement a change"

    class Decision(models.TextChoices):
        ADOPT = "adopt", "Adopt"
        ADAPT = "adapt", "Adapt"
        ABANDON = "abandon", "Abandon"

    # The room is the ramp's too: kept here so the room's lists and access need no joins.
    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="pdsas")
    ramp = models.ForeignKey(Ramp, on_delete=models.CASCADE, related_name="cycles")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNING)
    status_changed_on = models.DateField(default=timezone.localdate)
    # Plan
    objective = models.TextField()
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.TEST)
    scale = models.CharField(
        max_length=200, blank=True, help_text="For example: one patient, one ward, one morning"
    )
    what = models.TextField("what will be done", blank=True)
    who = models.CharField(max_length=200, blank=True)
    where = models.CharField(max_length=200, blank=True)
    starts_on = models.DateField("starts on")
    ends_on = models.DateField("ends on", null=True, blank=True)
    measures = models.ManyToManyField("measures.Measure", blank=True, related_name="pdsas")
    # Do
    what_happened = models.TextField(blank=True)
    observations = models.TextField(blank=True)
    problems = models.TextField("problems and surprises", blank=True)
    # Study
    learning = models.TextField("what was learnt", blank=True)
    # Act
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    next_step = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ramp", "number"]
        constraints = [
            models.UniqueConstraint(fields=["ramp", "number"], name="pdsa_number_unique_in_ramp")
        ]
        verbose_name = "PDSA cycle"

    def __str__(self) -> str:
        return f"PDSA {self.number}: {self.objective[:60]}"

    # The part of the record written at each status, and where "move on" goes from it.
    PARTS = {"planning": "plan", "doing": "do", "studying": "study", "acting": "act"}
    MOVES = {
        "planning": "Save and move on to Do",
        "doing": "Save and move on to Study",
        "studying": "Save and move on to Act",
        "acting": "Save and complete the cycle",
    }

    @property
    def current_part(self) -> str | None:
        return self.PARTS.get(self.status)

    def reached(self, part: str) -> bool:
        """Whether the cycle has got as far as ``part``: Study and Act are written once
        the test has happened, so an untested cycle cannot show a decision."""
        order = list(self.PARTS.values())
        if self.status == self.Status.COMPLETE:
            return True
        return order.index(part) <= order.index(self.PARTS[self.status])

    @property
    def move_label(self) -> str:
        return self.MOVES.get(self.status, "")

    @property
    def marker_text(self) -> str:
        """How the cycle shows on a chart: when it started, never what it caused."""
        return f"PDSA {self.number} started: {self.ramp.change_idea.title}"


class PDSAQuestion(models.Model):
    """A question the cycle should answer, the team's prediction, and (at Study) the result."""

    pdsa = models.ForeignKey(PDSA, on_delete=models.CASCADE, related_name="questions")
    question = models.CharField(max_length=300)
    prediction = models.TextField(blank=True)
    result = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.question


class PDSATask(models.Model):
    """A task to get the cycle done: who, by when."""

    pdsa = models.ForeignKey(PDSA, on_delete=models.CASCADE, related_name="tasks")
    task = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_on = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.task


# Board packs: a PDF of the room for its organisation's quality committee.


def _board_pack_path(pack: "BoardPack", filename: str) -> str:
    return f"rooms/{pack.room_id}/board-packs/{filename}"


class BoardPack(models.Model):
    """A board pack asked for by a coach or a QI lead and built by the worker: the aim, the
    driver diagram, the measures' charts, the PDSA cycles and the room's learning, never
    its session notes or patient stories. The rows stay as the record of who made which
    pack and when; a pack's file goes once a newer one is ready."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        WORKING = "working", "Being made"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    IN_FLIGHT = (Status.QUEUED, Status.WORKING)
    UNSENT = timedelta(minutes=1)  # still waiting after this: the queue was away; send again
    STALLED = timedelta(minutes=10)  # "being made" this long without a step: its worker died

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="board_packs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    step = models.CharField("what it is doing", max_length=200, blank=True)
    file = models.FileField(upload_to=_board_pack_path, max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)  # why it failed, in words for the person
    created_at = models.DateTimeField(auto_now_add=True)
    # Moved on by every status and progress change: a pack "being made" whose time stands
    # still has lost its worker.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A second click, or a coach and a QI lead asking at once, make one pack.
            models.UniqueConstraint(
                fields=["room"],
                condition=Q(status__in=["queued", "working"]),
                name="one_board_pack_in_flight",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="progress_to_100"),
        ]

    def __str__(self) -> str:
        return f"Board pack of {self.room}, {self.created_at:%d %b %Y}"

    @property
    def is_in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT

    @property
    def looks_stuck(self) -> bool:
        """Waiting or being made for longer than it should: asking again sends it again,
        or starts a new one."""
        waited = timezone.now() - self.updated_at
        if self.status == self.Status.QUEUED:
            return waited > self.UNSENT
        return self.status == self.Status.WORKING and waited > self.STALLED

    @staticmethod
    def may_make(access: RoomAccess) -> bool:
        """Who may make and read a room's board pack: its coaches and the QI leads of its
        host organisation, who answer for the room to the organisation (the same people
        who manage its team). Not its other members, viewers or academy admins."""
        return access.can_manage_members


class ChangePackage(models.Model):
    """A room's change package in the learning library: what it learnt, a snapshot taken
    when it was published (themes, aims, drivers, change ideas with their PDSA ramps,
    measure definitions, before-and-after charts with their n), for every organisation
    to read and copy as a starting point. Never patient or session data; academy admins
    curate it."""

    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    room = models.ForeignKey(
        BigRoom, on_delete=models.SET_NULL, null=True, blank=True, related_name="packages"
    )
    title = models.CharField(max_length=200)
    summary = models.TextField("what we learnt")
    organisation = models.CharField(max_length=200)  # as it was called when published
    pathway = models.CharField(max_length=200, blank=True)
    specialty = models.CharField(max_length=100, blank=True)
    content = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    featured = models.BooleanField(default=False)
    curator_note = models.CharField(max_length=300, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-featured", "-published_at"]

    def __str__(self) -> str:
        return self.title
