"""People, organisations and organisation-wide roles.

Room memberships (coach, member, partner, viewer, data contributor) live with the room in
bigrooms.models: room membership, not employer, is what grants access to a room.
"""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Cast, Lower
from django.utils import timezone

from fca import sealing


class OrganisationQuerySet(models.QuerySet):
    def readable_by(self, user) -> "OrganisationQuerySet":
        """Organisations whose dashboard the person may read: where they are QI lead or
        viewer; every one for an academy admin."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_academy_admin:
            return self.all()
        return self.filter(
            memberships__user=user,
            memberships__role__in=[OrganisationMembership.Role.QI_LEAD,
                                   OrganisationMembership.Role.VIEWER],
        ).distinct()  # fmt: skip


class Organisation(models.Model):
    class Kind(models.TextChoices):
        ACUTE_TRUST = "acute_trust", "Acute trust"
        COMMUNITY_TRUST = "community_trust", "Community trust"
        MENTAL_HEALTH_TRUST = "mental_health_trust", "Mental health trust"
        AMBULANCE_TRUST = "ambulance_trust", "Ambulance trust"
        GP_PRACTICE = "gp_practice", "GP practice"
        SOCIAL_CARE = "social_care", "Social care"
        HOSPICE = "hospice", "Hospice"
        ICB = "icb", "Integrated care board"
        HEALTH_BOARD = "health_board", "Health board"
        OTHER = "other", "Other"

    class Nation(models.TextChoices):
        ENGLAND = "england", "England"
        SCOTLAND = "scotland", "Scotland"
        WALES = "wales", "Wales"
        NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"

    name = models.CharField(max_length=200)
    kind = models.CharField("type", max_length=30, choices=Kind.choices)
    nation = models.CharField(max_length=20, choices=Nation.choices, default=Nation.ENGLAND)
    # The NHS Organisation Data Service code, where the organisation has one (RF4, 7A1...).
    ods_code = models.CharField("ODS code", max_length=10, blank=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ods_code"],
                condition=~models.Q(ods_code=""),
                name="organisation_unique_ods_code",
            )
        ]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True, is_academy_admin=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    # Django admin access, for the people who run the service.
    is_staff = models.BooleanField(default=False)
    # The academy admin role is platform-wide: organisations, cohorts, coaches, programme.
    is_academy_admin = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_unique_email_any_case")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class OrganisationMembership(models.Model):
    class Role(models.TextChoices):
        QI_LEAD = "qi_lead", "QI lead"
        VIEWER = "viewer", "Viewer"
        # Works for the organisation; no organisation-wide view of its rooms.
        STAFF = "staff", "Staff"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="org_memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="one_membership_per_organisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.organisation}"

    @property
    def reads_all_rooms(self) -> bool:
        return self.role in {self.Role.QI_LEAD, self.Role.VIEWER}


class ApiToken(models.Model):
    """A key for machine clients of the API, stored hashed and shown once.

    A personal token acts as its owner. An integration token (a data warehouse's nightly
    feed) reaches only one room's measures, or one pathway's episodes, and may be
    write-only."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", "Personal"
        INTEGRATION = "integration", "Integration"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    room = models.ForeignKey(
        "bigrooms.BigRoom",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
    )
    # Or a pathway's: its episodes, sent nightly by the organisation's data warehouse.
    pathway = models.ForeignKey(
        "pathways.Pathway",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
    )
    write_only = models.BooleanField(default=False)
    # The public part, to find the token; the secret is kept only as its SHA-256.
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="personal", room__isnull=True, pathway__isnull=True)
                | models.Q(kind="integration", room__isnull=False, pathway__isnull=True)
                | models.Q(kind="integration", room__isnull=True, pathway__isnull=False),
                name="integration_tokens_have_a_room_or_a_pathway",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        """A personal token lives with its owner's account; a room's feed token belongs to
        the room, and keeps working until a coach revokes it."""
        if self.revoked_at is not None:
            return False
        return self.kind == self.Kind.INTEGRATION or self.user.is_active


# --- The academy: cohorts of coaches, their taught days, their enrolment -------------------


class Cohort(models.Model):
    """A cohort of flow coaches trained together by an academy."""

    name = models.CharField(max_length=200)
    academy = models.CharField("hosting academy", max_length=200)
    starts_on = models.DateField("starts on")
    ends_on = models.DateField("ends on", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="cohort_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TaughtDay(models.Model):
    """One of the cohort's days of teaching, with who came."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="days")
    held_on = models.DateField("date")
    title = models.CharField(max_length=200)
    present = models.ManyToManyField("Coach", blank=True, related_name="days_attended")

    class Meta:
        ordering = ["held_on"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "held_on"], name="one_taught_day_a_date")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on})"


class Coach(models.Model):
    """A person enrolled in a cohort to train as a flow coach, and how they are doing.

    The status an admin sets; what the academy reads is ``Coach.shown_status`` (see
    fca/academy.py): "coaching (logged in the app)" comes from sessions of the rooms they
    coach, and an admin may say "coaching" for a coach whose rooms do not log here."""

    class Kind(models.TextChoices):
        CLINICAL = "clinical", "Clinical coach"
        INDEPENDENT = "independent", "Independent coach"

    class Status(models.TextChoices):
        IN_TRAINING = "in_training", "In training"
        COACHING = "coaching", "Coaching"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="coaches")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="coaching")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_TRAINING)
    status_reason = models.CharField(max_length=300, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["cohort", "user"], name="one_enrolment_a_cohort"),
            # Stopping, pausing or saying "coaching" by hand needs a reason.
            models.CheckConstraint(
                condition=models.Q(status="in_training") | ~models.Q(status_reason=""),
                name="coach_status_has_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.cohort})"


class Enrolment(models.Model):
    """An enrolment list as uploaded: every row with its problems, kept for the preview,
    and what confirming it did. Nothing about the people is saved before it is confirmed."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="enrolments")
    filename = models.CharField(max_length=255)
    rows = models.JSONField(default=list)  # [{line, name, email, organisation_id, kind, problems}]
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(default=dict, blank=True)  # counts once confirmed

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} for {self.cohort}"

    @property
    def problem_rows(self) -> list[dict]:
        return [row for row in self.rows if row["problems"]]


# --- The audit log -------------------------------------------------------------------------


class AuditEventQuerySet(models.QuerySet):
    def readable_by(self, user) -> "AuditEventQuerySet":
        """Academy admins read every event; a QI lead their organisation's: events about
        its rooms and pathways, and what its own people did (their sign-ins, say)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_academy_admin:
            return self.all()
        led = OrganisationMembership.objects.filter(
            user=user, role=OrganisationMembership.Role.QI_LEAD
        ).values("organisation")
        return self.for_organisations(led)

    def for_organisations(self, organisations) -> "AuditEventQuerySet":
        """Events about these organisations' rooms and pathways, and, among events of no
        organisation (signing in, accounts), those of their people: what they did and what
        was done to their accounts. What their people did in another organisation is that
        organisation's to read."""
        people = OrganisationMembership.objects.filter(organisation__in=organisations)
        ids = people.annotate(text=Cast("user_id", models.CharField())).values("text")
        about_people = models.Q(actor__in=people.values("user")) | models.Q(
            target_type="user", target_id__in=ids
        )
        return self.filter(
            models.Q(organisation__in=organisations)
            | (models.Q(organisation__isnull=True) & about_people)
        )


class AuditEvent(models.Model):
    """Who did what, when, to which object, and how it ended.

    Never passwords, tokens, free text or rows of data: only names of actions, ids, the
    names of the objects acted on and counts (see fca/audit.py, the only writer)."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Succeeded"
        FAILURE = "failure", "Failed"
        REFUSED = "refused", "Refused"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Who: kept as their email too, so the record outlives the account.
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True)
    # A data feed's token, when the actor is a machine acting for a person.
    token = models.ForeignKey(
        ApiToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    # The object acted on: its kind, id and name at the time.
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=40, blank=True)
    target_name = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "-at"], name="audit_by_organisation"),
            models.Index(fields=["actor", "-at"], name="audit_by_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email or 'system'} {self.action}"


class ApiRateWindow(models.Model):
    """How many API requests one caller (a token, or a signed-in person) made in one
    minute, counted in the database so every gunicorn process shares the count and no
    save depends on Redis. Written by fca.throttling in one statement a request."""

    key = models.CharField(max_length=60)  # "token:12:write", "user:5:read"
    window = models.BigIntegerField()  # minutes since the epoch
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="one_count_a_key_a_minute")
        ]

    def __str__(self) -> str:
        return f"{self.key} at minute {self.window}: {self.count}"


class TwoFactorDevice(models.Model):
    """A person's authenticator app (TOTP, RFC 6238), made only once they have confirmed it
    with a code. ``last_step`` refuses a code used before; ``failures`` and ``locked_until``
    throttle wrong codes as django-axes throttles wrong passwords."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="two_factor")
    # The key (base32, as authenticator apps take it), sealed: see fca/sealing.py.
    sealed_secret = models.TextField()
    confirmed_at = models.DateTimeField(default=timezone.now)
    last_step = models.BigIntegerField(default=0)  # 30-second steps since the epoch
    failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Two-factor sign-in of {self.user}"

    @property
    def secret(self) -> str:
        """The key, unsealed (sealing.Unreadable when sealed under a key now gone)."""
        return sealing.unseal(self.sealed_secret)

    @secret.setter
    def secret(self, value: str) -> None:
        self.sealed_secret = sealing.seal(value)


class RecoveryCode(models.Model):
    """A one-time code for when the phone is not to hand: stored as a SHA-256 hash (each
    code holds about 80 random bits, so a slow hash adds nothing)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recovery_code_once")
        ]

    def __str__(self) -> str:
        return f"Recovery code of {self.user}{' (used)' if self.used_at else ''}"
