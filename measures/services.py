"""Writes to measures and their data, and the chart recompute the worker runs."""

import logging
from collections.abc import Sequence
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fca.enqueue import enqueue_on_commit
from measures import charts
from measures.models import Annotation, ChartResult, DataPoint, Measure, Phase

logger = logging.getLogger(__name__)


class DataError(ValueError):
    """Data a person sent that cannot be saved; ``problems`` name each row at fault."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def describe_period(measure: Measure, period: date) -> str:
    return charts.period_words(measure.frequency, period)


def _mark_stale(measure: Measure) -> None:
    """Raise the data version in the caller's transaction and recompute after commit."""
    from measures.tasks import recompute_chart

    Measure.objects.filter(pk=measure.pk).update(data_version=F("data_version") + 1)
    enqueue_on_commit(recompute_chart, measure.pk)


def add_data_point(*, measure: Measure, day: date, numbers: tuple[float, ...]) -> DataPoint:
    """Save one period's value (or numerator and denominator). A period that already has
    one is refused, naming it."""
    try:
        period = measure.period_of(day)
        value, numerator, denominator = measure.reading(numbers)
    except ValueError as error:
        raise DataError([str(error)]) from None
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
                point = DataPoint.objects.create(
                    measure=measure,
                    period=period,
                    value=value,
                    numerator=numerator,
                    denominator=denominator,
                )
        except IntegrityError:  # someone saved the same period a moment ago
            raise DataError(
                [f"There is already a value for {describe_period(measure, period)}"]
            ) from None
        _mark_stale(measure)
    return point


def save_data_points(
    *, measure: Measure, rows: Sequence[tuple[int, date, tuple[float, ...]]]
) -> dict:
    """Save many (line, date, numbers) rows in one transaction: all of them or none.

    Every problem is named by its line: two rows for one period, a numerator above its
    denominator… A period that already has a value takes the new one. Returns how many
    points were added, updated and left unchanged."""
    by_period: dict[date, int] = {}
    problems = []
    points = []
    for line, day, numbers in rows:
        try:
            period = measure.period_of(day)
        except ValueError as error:
            problems.append(f"Line {line}: {error}")
            continue
        if period in by_period:
            problems.append(
                f"Line {line} is for {describe_period(measure, period)}, "
                f"as line {by_period[period]} is: give one value per period"
            )
            continue
        by_period[period] = line
        try:
            value, numerator, denominator = measure.reading(numbers)
        except ValueError as error:
            problems.append(f"Line {line}: {error}")
            continue
        points.append(
            DataPoint(
                measure=measure,
                period=period,
                value=value,
                numerator=numerator,
                denominator=denominator,
            )
        )
    if problems:
        raise DataError(problems)
    with transaction.atomic():
        existing = {
            period: (value, numerator, denominator)
            for period, value, numerator, denominator in measure.points.filter(
                period__in=list(by_period)
            ).values_list("period", "value", "numerator", "denominator")
        }
        changed = [
            p for p in points if existing.get(p.period) != (p.value, p.numerator, p.denominator)
        ]
        if changed:
            DataPoint.objects.bulk_create(
                changed,
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["measure", "period"],
                update_fields=["value", "numerator", "denominator"],
            )
            _mark_stale(measure)
    added = sum(1 for p in changed if p.period not in existing)
    return {
        "added": added,
        "updated": len(changed) - added,
        "unchanged": len(points) - len(changed),
    }


def chart_settings(measure: Measure) -> charts.Settings:
    return charts.Settings(
        name=measure.name,
        unit=measure.unit,
        frequency=measure.frequency,
        shape=measure.shape,
        chart_type=measure.chart_type,
        improvement=measure.improvement,
        target=measure.target,
        screen_outliers=measure.screen_outliers,
        rule_length=measure.rule_length,
        baseline_points=measure.baseline_points,
        laney=measure.laney,
        multiplier=measure.multiplier,
    )


def compute_chart(measure: Measure) -> tuple[dict, dict]:
    """The chart's numbers and Plotly figure, from all the measure's rows."""
    rows = [
        charts.Row(period, value, numerator, denominator)
        for period, value, numerator, denominator in measure.points.order_by("period").values_list(
            "period", "value", "numerator", "denominator"
        )
    ]
    phase_starts = list(measure.phases.values_list("starts_on", flat=True))
    notes = list(measure.annotations.values_list("on", "text"))
    settings = chart_settings(measure)
    payload = charts.compute(settings, rows, phase_starts)
    return payload, charts.figure(settings, payload, notes)


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
    stored = ChartResult.objects.filter(measure_id=measure_id).values_list(
        "data_version", flat=True
    )
    if stored and stored[0] >= version:
        return False  # a burst of saves: an earlier task already drew this version
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


def create_measure(*, room, **fields) -> Measure:
    """A new measure on a room, starting as a run chart; its (empty) chart is computed
    after commit."""
    from measures.tasks import recompute_chart

    with transaction.atomic():
        measure = Measure.objects.create(room=room, **fields)
        enqueue_on_commit(recompute_chart, measure.pk)
    return measure


def update_measure(*, measure: Measure, **fields) -> Measure:
    """Change a measure's definition or chart options; its chart is redrawn after commit.

    A chart type must suit the data (a p-chart needs numerators and denominators)."""
    chart_type = fields.get("chart_type", measure.chart_type)
    if chart_type not in Measure.CHARTS_FOR_SHAPE[Measure.Shape(measure.shape)]:
        raise DataError(
            [
                f"A {Measure.ChartType(chart_type).label} does not suit {measure.get_shape_display().lower()}"
            ]
        )
    with transaction.atomic():
        for name, value in fields.items():
            setattr(measure, name, value)
        measure.save()
        _mark_stale(measure)
    return measure


def start_phase(*, measure: Measure, starts_on: date, reason: str, by) -> Phase:
    """A new phase from a period already on the chart, with the reason a person gave."""
    try:
        period = measure.period_of(starts_on)
    except ValueError as error:
        raise DataError([str(error)]) from None
    periods = list(measure.points.order_by("period").values_list("period", flat=True))
    if period not in periods:
        raise DataError(
            [
                f"There is no point for {describe_period(measure, period)}: a new phase "
                "starts at a point already on the chart"
            ]
        )
    if period == periods[0]:
        raise DataError(["The first point already starts the first phase: choose a later one"])
    if not reason.strip():
        raise DataError(["Say why the new phase starts"])
    with transaction.atomic():
        phase, created = Phase.objects.get_or_create(
            measure=measure, starts_on=period, defaults={"reason": reason.strip(), "created_by": by}
        )
        if not created:
            raise DataError([f"A phase already starts at {describe_period(measure, period)}"])
        _mark_stale(measure)
    return phase


def remove_phase(*, phase: Phase) -> None:
    with transaction.atomic():
        measure = phase.measure
        phase.delete()
        _mark_stale(measure)


def add_annotation(*, measure: Measure, on: date, text: str, by) -> Annotation:
    """A note at a date, drawn on the chart."""
    with transaction.atomic():
        note = Annotation.objects.create(measure=measure, on=on, text=text.strip(), created_by=by)
        _mark_stale(measure)
    return note


def remove_data_point(*, measure: Measure, point_id: int) -> DataPoint | None:
    """Remove one value; None when it was already gone (a second click, another tab)."""
    with transaction.atomic():
        point = measure.points.filter(pk=point_id).first()
        if point is None:
            return None
        point.delete()
        _mark_stale(measure)
    return point
