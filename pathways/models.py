from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from fca.models import Organisation, OrganisationMembership

# The columns an episode file always has; a step's code may not take one of these names.
EPISODE_COLUMNS = ("episode_id", "arrived_at", "departed_at", "discharge_ready_at", "destination")
MAX_STEPS = 8  # each step's time is a column of its own (step_1 … step_8): fast to load


class PathwayQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PathwayQuerySet":
        """Pathways the person may read: their organisations' (as QI lead or viewer), those
        of the rooms they are members of, or all of them for an academy admin."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_academy_admin:
            return self
        readers = OrganisationMembership.objects.filter(
            user=user,
            role__in=(OrganisationMembership.Role.QI_LEAD, OrganisationMembership.Role.VIEWER),
        ).values("organisation_id")
        return self.filter(
            models.Q(host_id__in=readers) | models.Q(rooms__memberships__user=user)
        ).distinct()


class Pathway(models.Model):
    """A care pathway an organisation hosts, with its ordered steps; big rooms work on it."""

    class Metric(models.TextChoices):
        ARRIVALS = "arrivals", "Arrivals a week"
        DISCHARGES = "discharges", "Discharges a week"
        DEATHS_OR_OTHER = "deaths_or_other", "Deaths and other departures a week"
        LOS_MEDIAN = "los_median_hours", "Median length of stay (hours)"
        LOS_MEAN = "los_mean_hours", "Mean length of stay (hours)"
        LONG_STAY_PCT = "long_stay_pct", "Discharges after a long stay (%)"
        BEFORE_NOON_PCT = "before_noon_pct", "Discharges before noon (%)"
        ON_PATHWAY = "on_pathway", "Patients on the pathway (backlog)"
        STRANDED = "stranded", "Stranded patients"
        SUPER_STRANDED = "super_stranded", "Super-stranded patients"
        OCCUPANCY = "occupancy", "Occupancy (mean on the pathway)"
        DISCHARGE_DELAY = "discharge_delay_median_days", "Median delay once ready to go (days)"
        STEP_WITHIN_STANDARD = "step_within_standard_pct", "Each step within its standard (%)"
        STEP_MEDIAN = "step_median_hours", "Median hours to each step"

    host = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="pathways")
    name = models.CharField(max_length=200)
    specialty = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    metrics = models.JSONField(
        "flow measures to chart",
        default=list,
        blank=True,
        help_text="An inpatient pathway wants length of stay and stranded patients; a clinic "
        "or maternity pathway wants waits, backlog and steps",
    )
    los_threshold_hours = models.PositiveSmallIntegerField(
        "a long stay is over (hours)", default=72, validators=[MinValueValidator(1)]
    )
    stranded_days = models.PositiveSmallIntegerField(
        "stranded after (days)", default=7, validators=[MinValueValidator(1)]
    )
    super_stranded_days = models.PositiveSmallIntegerField(
        "super-stranded after (days)", default=21, validators=[MinValueValidator(1)]
    )
    not_discharges = models.JSONField(
        "departures that are not discharges",
        default=list,
        blank=True,
        help_text="Destinations, for example died: they still leave the pathway, and are "
        "counted on their own",
    )
    data_lag_weeks = models.PositiveSmallIntegerField(
        "data lag (weeks)",
        default=1,
        validators=[MaxValueValidator(12)],
        help_text="Recent weeks whose times are still being entered: shown as provisional",
    )
    min_weekly_n = models.PositiveSmallIntegerField(
        "smallest weekly count for a percentage",
        default=10,
        help_text="A percentage of fewer patients than this in a week is shown greyed",
    )
    keep_episodes_months = models.PositiveSmallIntegerField(
        "keep episode data for (months)",
        default=36,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    # Raised with every load; the worker's flow recompute is keyed on it.
    data_version = models.PositiveIntegerField(default=0)
    metrics_version = models.PositiveIntegerField(default=0)
    # Weeks before this lost episodes to retention: their figures are kept as last worked
    # out, never worked out again from what is left.
    history_until = models.DateField(null=True, blank=True)
    # Arrivals and discharges by weekday and hour over the latest weeks, worked out with
    # the flow measures: {"start", "end", "arrivals": 7×24, "discharges": 7×24}.
    heatmap = models.JSONField(default=dict, blank=True)
    last_loaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PathwayQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["host", "name"], name="pathway_name_unique_in_host")
        ]

    def __str__(self) -> str:
        return self.name

    def access_for(self, user) -> "PathwayAccess":
        return PathwayAccess.for_user(self, user)


class PathwayAccess:
    """What one person may do with one pathway, decided in one place.

    Read: the host's QI leads and viewers, members of any room working on it, academy
    admins (what is computed, never episode rows: no page shows those). Manage (steps,
    settings, feed tokens): the host's QI leads only, since a room's coach chooses which
    pathway the room works on. Load data: QI leads, and the coaches and data contributors
    of its rooms."""

    def __init__(self, *, can_read: bool, can_manage: bool, can_load: bool):
        self.can_read, self.can_manage, self.can_load = can_read, can_manage, can_load
        # As a room's access reads, for the measure pages a flow measure shares: nobody
        # types a flow measure's data; it comes from the episodes.
        self.can_enter_data = False
        # Notes on a flow chart ("new discharge lounge opened"): whoever may load its data.
        self.can_note = can_load
        self.is_partner = False

    @classmethod
    def for_user(cls, pathway: Pathway, user) -> "PathwayAccess":
        from bigrooms.models import RoomMembership

        if not user.is_authenticated or not user.is_active:
            return cls(can_read=False, can_manage=False, can_load=False)
        org_role = (
            OrganisationMembership.objects.filter(user=user, organisation_id=pathway.host_id)
            .values_list("role", flat=True)
            .first()
        )
        qi_lead = org_role == OrganisationMembership.Role.QI_LEAD
        memberships = list(
            RoomMembership.objects.filter(room__pathway=pathway, user=user).only(
                "role", "can_contribute_data"
            )
        )
        coach = any(m.is_coach for m in memberships)
        contributor = any(m.can_contribute_data for m in memberships)
        readers = (OrganisationMembership.Role.QI_LEAD, OrganisationMembership.Role.VIEWER)
        return cls(
            can_read=bool(org_role in readers or memberships) or user.is_academy_admin,
            can_manage=qi_lead,
            can_load=qi_lead or coach or contributor,
        )


class Step(models.Model):
    """A step of the pathway (specialist review, ward, theatre…), in order. Its code is the
    column that holds its time in an episode file."""

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="steps")
    code = models.CharField(
        max_length=40,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$",
                "Use lower-case letters, digits and underscores, starting with a letter",
            )
        ],
        help_text="The column name in episode files, for example specialist_review",
    )
    name = models.CharField(max_length=100)
    standard_hours = models.FloatField(
        "standard (hours from arrival)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Optional: for example 14 for “specialist review within 14 hours”",
    )
    slot = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_STEPS)]
    )

    class Meta:
        ordering = ["slot"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "code"], name="step_code_unique"),
            models.UniqueConstraint(fields=["pathway", "slot"], name="step_slot_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def standard_words(self) -> str:
        """The standard as people say it: 15 minutes, 1 hour, 36 hours."""
        hours = self.standard_hours
        if hours is None:
            return ""
        if hours < 1:
            return f"{hours * 60:g} minutes"
        return f"{hours:g} hour{'s' if hours != 1 else ''}"


class Episode(models.Model):
    """One patient's pass along the pathway, under the organisation's pseudonymised
    reference. Never shown in a page or an export: only what is computed from it."""

    # No foreign key or index of its own in the database: the unique index leads with it,
    # and every load holds the pathway row FOR KEY SHARE once (copyload.lock_episodes), as
    # the constraint's trigger would per row (a third of a million-row load). Deleting a
    # pathway deletes its episodes through Django's cascade.
    pathway = models.ForeignKey(
        Pathway, on_delete=models.CASCADE, related_name="episodes",
        db_constraint=False, db_index=False,
    )  # fmt: skip
    episode_id = models.CharField(max_length=100)
    arrived_at = models.DateTimeField()
    departed_at = models.DateTimeField(null=True, blank=True)
    discharge_ready_at = models.DateTimeField(null=True, blank=True)
    destination = models.CharField(max_length=100, blank=True)
    step_1 = models.DateTimeField(null=True, blank=True)
    step_2 = models.DateTimeField(null=True, blank=True)
    step_3 = models.DateTimeField(null=True, blank=True)
    step_4 = models.DateTimeField(null=True, blank=True)
    step_5 = models.DateTimeField(null=True, blank=True)
    step_6 = models.DateTimeField(null=True, blank=True)
    step_7 = models.DateTimeField(null=True, blank=True)
    step_8 = models.DateTimeField(null=True, blank=True)
    loaded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pathway", "episode_id"], name="episode_id_unique")
        ]

    def __str__(self) -> str:
        return self.episode_id


def _upload_path(upload: "EpisodeUpload", filename: str) -> str:
    return f"episode-uploads/{upload.pathway_id}/{filename}"


class EpisodeUpload(models.Model):
    """A file of episodes on its way in: kept, with its check's report, until the person
    loads it (all of it, or its valid rows only) or a day passes."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Waiting to be checked"
        CHECKING = "checking", "Being checked"
        CHECKED = "checked", "Checked"
        REFUSED = "refused", "Refused"
        LOADING = "loading", "Being loaded"
        LOADED = "loaded", "Loaded"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded"
        EXPIRED = "expired", "Expired"

    WAITING = (Status.RECEIVED, Status.CHECKING, Status.LOADING)

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="uploads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    via_api = models.BooleanField(default=False)
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=_upload_path, max_length=300, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    reason = models.TextField(blank=True)  # why it was refused or failed
    report = models.JSONField(default=dict, blank=True)
    valid_only = models.BooleanField(default=False)
    # Sent by a data system that asked for it to be loaded once checked: "all" (only when
    # nothing is wrong) or "valid" (its valid rows); empty waits for a person.
    auto_load = models.CharField(max_length=5, blank=True)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_waiting(self) -> bool:
        return self.status in self.WAITING
