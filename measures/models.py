from django.db import models
from django.db.models import F, Q

from bigrooms.models import BigRoom


class MeasureQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MeasureQuerySet":
        return self.filter(room__in=BigRoom.objects.visible_to(user))

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

    room = models.ForeignKey(BigRoom, on_delete=models.CASCADE, related_name="measures")
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=50, blank=True, help_text="For example: %, patients, hours")
    improvement = models.CharField(
        "direction of improvement",
        max_length=10,
        choices=Improvement.choices,
        default=Improvement.NEUTRAL,
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    # Raised in the same transaction as every change to the data; a chart result carries
    # the version it was computed from, so a late or duplicate task cannot go backwards.
    data_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DataPoint(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="points")
    # The first day of the week (Monday) or month the value belongs to.
    period = models.DateField()
    value = models.FloatField()

    class Meta:
        ordering = ["period"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "period"], name="one_point_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.measure}: {self.period} = {self.value}"


class ChartResult(models.Model):
    """The stored chart of a measure, as the worker last computed it."""

    measure = models.OneToOneField(Measure, on_delete=models.CASCADE, related_name="chart")
    data_version = models.IntegerField()
    computed_at = models.DateTimeField(null=True)
    # The chart's numbers (centre line, limits, each point's signal) and its summary sentence.
    result = models.JSONField(default=dict)
    # The Plotly figure, built on the server and handed to the page as JSON.
    figure = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"Chart of {self.measure_id} at version {self.data_version}"

    def is_current_for(self, measure: Measure) -> bool:
        return self.data_version >= measure.data_version
