from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Lower
from django.utils import timezone

from bigrooms.models import BigRoom
from fca.dates import MonthDate, format_date, month_start, week_start

# Beyond this a value is a typing slip, not a measurement (and would wreck the chart).
MAX_VALUE = 1e12


class MeasureQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MeasureQuerySet":
        from pathways.models import Pathway

        return self.filter(
            Q(room__in=BigRoom.objects.visible_to(user))
            | Q(pathway__in=Pathway.objects.visible_to(user))
        )

    def with_denominators(self) -> "MeasureQuerySet":
        """Each measure with ``denominator_total`` (its complete periods' denominators
        added up: the n of a proportion or a rate) and ``latest_denominator``; None for a
        measure of values. The n a figure leaving the room must say."""
        complete = DataPoint.objects.filter(measure=OuterRef("pk"), provisional=False)
        return self.annotate(
            denominator_total=Subquery(
                complete.values("measure").annotate(total=Sum("denominator")).values("total")
            ),
            latest_denominator=Subquery(complete.order_by("-period").values("denominator")[:1]),
        )

    def stale(self) -> "MeasureQuerySet":
        """Measures whose stored chart is missing or older than their data."""
        return self.filter(
            Q(chart__isnull=True) | Q(chart__data_version__lt=F("data_version")),
        )


class Measure(models.Model):
    class Improvement(models.TextChoices):
        INCREASE = "increase", "Up is better"
        DECREASE = "decrease", "Down is better"
        NEUTRAL = "neutral", "Neither"

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"

    class Kind(models.TextChoices):
        OUTCOME = "outcome", "Outcome"
        PROCESS = "process", "Process"
        BALANCING = "balancing", "Balancing"

    class Shape(models.TextChoices):
        VALUE = "value", "One number per period"
        PROPORTION = "proportion", "A numerator and a denominator (a percentage)"
        RATE = "rate", "A count and an exposure (a rate, such as falls per 1,000 bed days)"

    class ChartType(models.TextChoices):
        RUN = "run", "Run chart"
        XMR = "xmr", "XmR chart (Making Data Count)"
        P = "p", "p-chart (proportions)"
        U = "u", "u-chart (rates)"
        C = "c", "c-chart (counts)"

    class Source(models.TextChoices):
        ENTERED = "entered", "Entered by people or systems"
        SESSION_ATTENDANCE = "session_attendance", "Attendance at the room's sessions"
        SESSION_EVALUATION = "session_evaluation", "The room's meeting evaluations"
        FLOW = "flow", "The pathway's episodes"

    # Which charts suit which data: a run chart and an XmR chart suit any measure.
    CHARTS_FOR_SHAPE = {
        Shape.VALUE: (ChartType.RUN, ChartType.XMR, ChartType.C),
        Shape.PROPORTION: (ChartType.RUN, ChartType.XMR, ChartType.P),
        Shape.RATE: (ChartType.RUN, ChartType.XMR, ChartType.U),
    }

    # A measure belongs to a room (typed, uploaded, or from its sessions) or to a pathway
    # (a flow measure, worked out from its episodes and shown in every room working on it).
    room = models.ForeignKey(
        BigRoom, on_delete=models.CASCADE, related_name="measures", null=True, blank=True
    )
    pathway = models.ForeignKey(
        "pathways.Pathway",
        on_delete=models.CASCADE,
        related_name="measures",
        null=True,
        blank=True,
    )
    # For a flow measure: which of pathways/flow.py's weekly figures, and of which step.
    flow_metric = models.CharField(max_length=40, blank=True)
    step_code = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=50, blank=True, help_text="For example: %, patients, hours")
    improvement = models.CharField(
        "direction of improvement",
        max_length=10,
        choices=Improvement.choices,
        default=Improvement.NEUTRAL,
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    # Where the data comes from: typed, uploaded and sent in, or worked out by the app.
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ENTERED)
    kind = models.CharField("type", max_length=10, choices=Kind.choices, default=Kind.OUTCOME)
    shape = models.CharField("data", max_length=12, choices=Shape.choices, default=Shape.VALUE)
    definition = models.TextField(
        "operational definition",
        blank=True,
        help_text="Exactly what is counted or measured, so anyone would get the same number",
    )
    numerator_definition = models.TextField(blank=True)
    denominator_definition = models.TextField(blank=True)
    data_source = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who makes sure the data arrives",
    )
    # What the measure tells about: the aim (no driver) or one driver of the diagram.
    driver = models.ForeignKey(
        "bigrooms.Driver",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="measures",
        verbose_name="linked to",
    )
    target = models.FloatField(null=True, blank=True)
    # A new measure starts as a run chart; XmR or an attribute chart is offered from 20 points.
    chart_type = models.CharField(max_length=5, choices=ChartType.choices, default=ChartType.RUN)
    # Making Data Count options.
    screen_outliers = models.BooleanField("screen large moving ranges", default=True)
    rule_length = models.PositiveSmallIntegerField(
        "points in a shift or trend", choices=[(7, "7 points"), (6, "6 points")], default=7
    )
    baseline_points = models.PositiveSmallIntegerField(
        "fix the limits after this many points of each phase",
        null=True,
        blank=True,
        validators=[MinValueValidator(12)],
    )
    laney = models.BooleanField(
        "Laney's adjustment",
        default=False,
        help_text="For p and u charts with large denominators, where limits come out too narrow",
    )
    # For rates: per how many units of exposure (1,000 bed days).
    multiplier = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    # Raised in the same transaction as every change to the data; a chart result carries
    # the version it was computed from, so a late or duplicate task cannot go backwards.
    data_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(F("room"), Lower("name"), name="measure_unique_name_in_room"),
            models.UniqueConstraint(
                fields=["pathway", "flow_metric", "step_code"],
                condition=Q(pathway__isnull=False),
                name="one_measure_per_flow_metric",
            ),
            models.CheckConstraint(
                condition=Q(room__isnull=True) ^ Q(pathway__isnull=True),
                name="measure_of_a_room_or_a_pathway",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def numbers_per_period(self) -> int:
        """1 for a value; 2 for a numerator and denominator."""
        return 1 if self.shape == self.Shape.VALUE else 2

    @property
    def is_derived(self) -> bool:
        """Worked out by the app (from sessions or episodes): nobody types its data."""
        return self.source != self.Source.ENTERED

    @property
    def chart_failed(self) -> bool:
        """The recompute of its latest data failed after its retries (see ChartResult)."""
        chart = getattr(self, "chart", None)  # None when never drawn
        return chart is not None and chart.failed_for(self)

    @property
    def owner_name(self) -> str:
        """The room or pathway it belongs to, for captions."""
        return self.room.name if self.room_id else self.pathway.name

    def access_for(self, user):
        """What the person may do with it: their access to its room or its pathway."""
        return (self.room or self.pathway).access_for(user)

    @property
    def entry_columns(self) -> list[str]:
        """What each period's row holds, in order."""
        if self.shape == self.Shape.VALUE:
            return ["date", "value"]
        return ["date", "numerator", "denominator"]

    def period_of(self, day: date) -> date:
        """The period a date belongs to: its week (from Monday) or its month.

        Refuses a month alone for a weekly measure, and a period still to come."""
        if self.frequency == self.Frequency.WEEKLY:
            if isinstance(day, MonthDate):
                raise ValueError(
                    f"{day:%b %Y} is a month: give a day in the week for a weekly measure"
                )
            period, this_period = week_start(day), week_start(timezone.localdate())
        else:
            period, this_period = month_start(day), month_start(timezone.localdate())
        if period > this_period:
            raise ValueError(f"{format_date(day)} is in the future")
        return period

    def reading(self, numbers: tuple[float, ...]) -> tuple[float, float | None, float | None]:
        """The (value, numerator, denominator) stored for what a person entered.

        Raises ValueError with a message fit to show them."""
        if self.is_derived:
            raise ValueError(
                f"This measure is worked out by the app, from {self.get_source_display().lower()}: it takes no values by hand"
            )
        if self.shape == self.Shape.VALUE:
            [value] = numbers
            if abs(value) > MAX_VALUE:
                raise ValueError(f"{value:g} is too large to be a measure's value")
            if self.chart_type == self.ChartType.C and (value < 0 or value != int(value)):
                raise ValueError(f"{value:g} is not a count: a count is a whole number, 0 or more")
            return value, None, None
        if any(abs(n) > MAX_VALUE for n in numbers):
            raise ValueError("The number is too large to be a measure's value")
        numerator, denominator = numbers
        if numerator < 0 or denominator < 0:
            raise ValueError("Counts cannot be negative")
        if denominator == 0:
            raise ValueError("The denominator is 0: leave this period out until it has data")
        if self.shape == self.Shape.PROPORTION:
            if numerator > denominator:
                raise ValueError(
                    f"The numerator ({numerator:g}) is more than the denominator ({denominator:g})"
                )
            return 100 * numerator / denominator, numerator, denominator
        return numerator / denominator * self.multiplier, numerator, denominator


class DataPoint(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="points")
    # The first day of the week (Monday) or month the value belongs to.
    period = models.DateField()
    # The number charted: for a proportion, the percentage; for a rate, per the multiplier.
    value = models.FloatField()
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    # A week still open, or whose times are still being entered: drawn, never tested.
    provisional = models.BooleanField(default=False)

    class Meta:
        ordering = ["period"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "period"], name="one_point_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.measure}: {self.period} = {self.value}"


class Phase(models.Model):
    """A new phase of a measure's chart: limits start again from this period, because a
    person decided so and said why (limits are never rebased automatically)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="phases")
    starts_on = models.DateField(help_text="The period of the first point of the new phase")
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "starts_on"], name="one_phase_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.measure}: new phase from {self.starts_on}"


class Annotation(models.Model):
    """A note at a date, drawn on the chart."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="annotations")
    on = models.DateField()
    text = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.measure}: {self.on} {self.text}"


class ChartResult(models.Model):
    """The stored chart of a measure, as the worker last computed it."""

    measure = models.OneToOneField(Measure, on_delete=models.CASCADE, related_name="chart")
    data_version = models.IntegerField()
    computed_at = models.DateTimeField(null=True)
    # The chart's numbers (centre line, limits, each point's signal) and its summary sentence.
    result = models.JSONField(default=dict)
    # The Plotly figure, built on the server and handed to the page as JSON.
    figure = models.JSONField(default=dict)
    # The icons, also in the result, as columns of their own: lists of hundreds of measures
    # read these without unpacking each chart's result.
    variation_icon = models.CharField(max_length=20, blank=True)
    assurance_icon = models.CharField(max_length=20, blank=True)
    icons_ready = models.BooleanField(default=False)
    # A recompute that still failed after its retries: when, at which data version, why
    # (plain words, never a traceback) and after how many attempts. Cleared by a later
    # successful recompute.
    failed_at = models.DateTimeField(null=True, blank=True)
    failed_version = models.IntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"Chart of {self.measure_id} at version {self.data_version}"

    def is_current_for(self, measure: Measure) -> bool:
        return self.data_version >= measure.data_version

    def failed_for(self, measure: Measure) -> bool:
        """The recompute of the measure's latest data failed (not merely still running)."""
        return self.failed_at is not None and (self.failed_version or 0) >= measure.data_version


class MeasureUpload(models.Model):
    """A spreadsheet uploaded for a measure, kept while the person picks its columns and
    checks what will change; deleted once loaded (or after a day by the sweep)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="uploads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filename = models.CharField(max_length=255)
    # The file itself, so the person can switch to another sheet of a workbook.
    data = models.BinaryField(default=bytes)
    sheet = models.CharField(max_length=255, blank=True)
    sheets = models.JSONField(default=list)
    # Every cell as text, row by row: what the person sees while choosing columns.
    rows = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.filename} for {self.measure}"
