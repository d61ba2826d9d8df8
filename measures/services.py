"""Writes to measures and their data, and the chart recompute the worker runs."""

import logging
from collections.abc import Sequence
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fca.dates import format_date, month_start, week_start
from fca.enqueue import enqueue_on_commit
from measures import charts, spc
from measures.models import ChartResult, DataPoint, Measure

logger = logging.getLogger(__name__)


class DataError(ValueError):
    """Data a person sent that cannot be saved; ``problems`` name each row at fault."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def period_of(measure: Measure, day: date) -> date:
    """The period a date belongs to: its week (from Monday) or its month."""
    if measure.frequency == Measure.Frequency.WEEKLY:
        return week_start(day)
    return month_start(day)


def describe_period(measure: Measure, period: date) -> str:
    if measure.frequency == Measure.Frequency.WEEKLY:
        return f"the week starting {format_date(period)}"
    return period.strftime("%B %Y")


def _mark_stale(measure: Measure) -> None:
    """Raise the data version in the caller's transaction and recompute after commit."""
    from measures.tasks import recompute_chart

    Measure.objects.filter(pk=measure.pk).update(data_version=F("data_version") + 1)
    enqueue_on_commit(recompute_chart, measure.pk)


def add_data_point(*, measure: Measure, day: date, value: float) -> DataPoint:
    """Save one value. A period that already has a value is refused, naming it."""
    period = period_of(measure, day)
    with transaction.atomic():
        existing = measure.points.filter(period=period).first()
        if existing is not None:
            raise DataError(
                [
                    f"There is already a value for {describe_period(measure, period)} "
                    f"({existing.value:g})"
                ]
            )
        try:
            with transaction.atomic():
                point = DataPoint.objects.create(measure=measure, period=period, value=value)
        except IntegrityError:  # someone saved the same period a moment ago
            raise DataError(
                [f"There is already a value for {describe_period(measure, period)}"]
            ) from None
        _mark_stale(measure)
    return point


def save_data_points(*, measure: Measure, rows: Sequence[tuple[int, date, float]]) -> dict:
    """Save many (line, date, value) rows in one transaction: all of them or none.

    Two rows for the same period are refused, naming both lines; a period that already
    has a value takes the new one. Returns how many were added and updated."""
    by_period: dict[date, int] = {}
    problems = []
    for line, day, _value in rows:
        period = period_of(measure, day)
        if period in by_period:
            problems.append(
                f"Line {line} is for {describe_period(measure, period)}, "
                f"as line {by_period[period]} is: give one value per period"
            )
        else:
            by_period[period] = line
    if problems:
        raise DataError(problems)
    points = [
        DataPoint(measure=measure, period=period_of(measure, day), value=value)
        for _line, day, value in rows
    ]
    with transaction.atomic():
        existing = set(
            measure.points.filter(period__in=list(by_period)).values_list("period", flat=True)
        )
        DataPoint.objects.bulk_create(
            points,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["measure", "period"],
            update_fields=["value"],
        )
        _mark_stale(measure)
    return {"added": len(points) - len(existing), "updated": len(existing)}


def compute_chart(measure: Measure) -> tuple[dict, dict]:
    """The chart's numbers and Plotly figure, from all the measure's points."""
    rows = list(measure.points.order_by("period").values_list("period", "value"))
    periods = [period for period, _ in rows]
    values = [value for _, value in rows]
    result = spc.xmr(values, improvement=measure.improvement)
    return (
        charts.xmr_payload(measure, periods, values, result),
        charts.xmr_figure(measure, periods, values, result),
    )


def store_chart(*, measure_id: int, data_version: int, result: dict, figure: dict) -> bool:
    """Store a chart computed from ``data_version`` unless a newer one is already stored.

    A conditional update keyed on the version makes duplicate, retried or late tasks
    harmless. Returns whether this result was stored."""
    ChartResult.objects.get_or_create(measure_id=measure_id, defaults={"data_version": -1})
    updated = ChartResult.objects.filter(
        measure_id=measure_id, data_version__lt=data_version
    ).update(
        data_version=data_version,
        result=result,
        figure=figure,
        computed_at=timezone.now(),
    )
    return bool(updated)


def recompute_chart(*, measure_id: int) -> bool:
    """Recompute one measure's chart from its source rows (the worker's job)."""
    measure = Measure.objects.filter(pk=measure_id).first()
    if measure is None:
        return False  # deleted since the task was sent
    # The version is read before the points: if points change meanwhile, this result is
    # labelled older than its data and the newer task (or the sweep) replaces it.
    version = measure.data_version
    result, figure = compute_chart(measure)
    return store_chart(measure_id=measure_id, data_version=version, result=result, figure=figure)


def enqueue_stale_charts() -> int:
    """Send a recompute for every measure whose chart is missing or older than its data.

    The periodic sweep: whatever was saved while Redis or the worker was away."""
    from measures.tasks import recompute_chart as task

    sent = 0
    for measure_id in Measure.objects.stale().values_list("pk", flat=True).iterator():
        try:
            task.apply_async(args=(measure_id,), retry=False)
        except Exception:
            logger.warning("Could not enqueue the recompute of measure %s", measure_id)
            break
        sent += 1
    return sent


def create_measure(*, room, name: str, unit: str, improvement: str, frequency: str) -> Measure:
    """A new measure on a room; its (empty) chart is computed after commit."""
    from measures.tasks import recompute_chart

    with transaction.atomic():
        measure = Measure.objects.create(
            room=room, name=name, unit=unit, improvement=improvement, frequency=frequency
        )
        enqueue_on_commit(recompute_chart, measure.pk)
    return measure
