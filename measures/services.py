"""Writes to measures and their data, and the chart recompute the worker runs."""

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from fca import audit
from fca.dates import format_date, parse_date, swappable_example
from fca.enqueue import enqueue_on_commit
from fca.identifiers import identifier_problem
from fca.numbers import parse_number
from fca.spreadsheets import (
    FORMULA,
    SpreadsheetError,
    column_letter,
    is_formula,
    read_spreadsheet,
)
from measures import charts
from measures.models import (
    Annotation,
    ChartResult,
    DataPoint,
    Measure,
    MeasureUpload,
    Phase,
)

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


def mark_charts_stale(measure_ids) -> None:
    """Redraw these measures' charts: something drawn on them (a PDSA marker) changed."""
    for measure in Measure.objects.filter(pk__in=set(measure_ids)).only("pk"):
        _mark_stale(measure)


def chart_markers(measure: Measure) -> list[tuple[date, str]]:
    """What is drawn on the chart at a date: notes, and each PDSA cycle that names the
    measure, at its start (a start, never a claim that it caused what follows)."""
    notes = list(measure.annotations.values_list("on", "text"))
    cycles = measure.pdsas.select_related("ramp__change_idea").order_by("starts_on", "pk")
    notes += [(cycle.starts_on, cycle.marker_text) for cycle in cycles]
    return sorted(notes, key=lambda note: note[0])


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


@dataclass
class Plan:
    """What saving some rows would do: the points to write, and the counts to tell."""

    points: list[DataPoint]
    added: int
    updated: int
    unchanged: int

    def counts(self) -> dict:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}


def plan_data_points(
    *, measure: Measure, rows: Sequence[tuple[int | str, date, tuple[float, ...]]]
) -> Plan:
    """Check (line, date, numbers) rows against the measure and what it holds, saving
    nothing. Every problem is named by its line: two rows for one period, a numerator above
    its denominator… A period that already has a value would take the new one."""
    by_period: dict[date, int | str] = {}
    problems = []
    points = []
    for line, day, numbers in rows:
        where = line if isinstance(line, str) else f"Line {line}"
        try:
            period = measure.period_of(day)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        if period in by_period:
            other = by_period[period]
            other = other if isinstance(other, str) else f"line {other}"
            problems.append(
                f"{where} is for {describe_period(measure, period)}, as {other.lower()} is: "
                "give one value per period"
            )
            continue
        by_period[period] = line
        try:
            value, numerator, denominator = measure.reading(numbers)
        except ValueError as error:
            problems.append(f"{where}: {error}")
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
    existing = {
        period: (value, numerator, denominator)
        for period, value, numerator, denominator in measure.points.filter(
            period__in=list(by_period)
        ).values_list("period", "value", "numerator", "denominator")
    }
    changed = [p for p in points if existing.get(p.period) != (p.value, p.numerator, p.denominator)]
    added = sum(1 for p in changed if p.period not in existing)
    return Plan(changed, added, len(changed) - added, len(points) - len(changed))


def save_data_points(
    *, measure: Measure, rows: Sequence[tuple[int | str, date, tuple[float, ...]]]
) -> dict:
    """Save many (line, date, numbers) rows in one transaction: all of them or none.

    Returns how many points were added, updated and left unchanged; saving the same rows
    again changes nothing."""
    with transaction.atomic():
        plan = plan_data_points(measure=measure, rows=rows)
        if plan.points:
            DataPoint.objects.bulk_create(
                plan.points,
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["measure", "period"],
                update_fields=["value", "numerator", "denominator"],
            )
            _mark_stale(measure)
    return plan.counts()


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


def _mark_few(measure: Measure, rows: list, payload: dict) -> None:
    """A flow measure's weekly percentages of fewer patients than its pathway's smallest n
    are marked (drawn pale, and said), though they still count."""
    if measure.pathway_id is None or measure.shape != Measure.Shape.PROPORTION:
        return
    smallest = measure.pathway.min_weekly_n
    few = 0
    for row, point in zip(rows, payload["points"], strict=True):
        if row.denominator is not None and row.denominator < smallest:
            point["few"] = row.denominator
            few += 1
    if few:
        payload["summary"] += (
            f" {few} week{'s' if few != 1 else ''} had fewer than {smallest} patients: drawn "
            "pale, as their percentages rest on few patients."
        )


def compute_chart(measure: Measure) -> tuple[dict, dict]:
    """The chart's numbers and Plotly figure, from all the measure's rows."""
    rows, provisional = [], []
    for period, value, numerator, denominator, later in measure.points.order_by(
        "period"
    ).values_list("period", "value", "numerator", "denominator", "provisional"):
        (provisional if later else rows).append(charts.Row(period, value, numerator, denominator))
    phase_starts = list(measure.phases.values_list("starts_on", flat=True))
    settings = chart_settings(measure)
    payload = charts.compute(settings, rows, phase_starts)
    _mark_few(measure, rows, payload)
    # Provisional points are drawn, apart, and never tested: rules and icons ignore them.
    payload["provisional"] = [
        {"period": r.period.isoformat(), "value": r.value} for r in provisional
    ]
    if provisional:
        n = len(provisional)
        payload["summary"] += (
            f" The latest {n} week{'s are' if n != 1 else ' is'} provisional (still open, or "
            "times still being entered): drawn in grey and not tested for signals."
        )
    return payload, charts.figure(settings, payload, chart_markers(measure))


def store_chart(*, measure_id: int, data_version: int, result: dict, figure: dict) -> bool:
    """Store a chart computed from ``data_version`` unless a newer one is already stored.

    A conditional update keyed on the version makes duplicate, retried or late tasks
    harmless. Returns whether this result was stored."""
    ChartResult.objects.get_or_create(measure_id=measure_id, defaults={"data_version": -1})
    # A failure recorded for this version or an older one is over; one for a newer
    # version (this is a late task) still stands.
    still_failed = Q(failed_version__gt=data_version)
    updated = ChartResult.objects.filter(
        measure_id=measure_id, data_version__lt=data_version
    ).update(
        data_version=data_version,
        result=result,
        figure=figure,
        variation_icon=result.get("variation_icon") or "",
        assurance_icon=result.get("assurance_icon") or "",
        icons_ready=bool(result.get("icons_ready")),
        computed_at=timezone.now(),
        failed_at=Case(When(still_failed, then=F("failed_at")), default=None),
        failure_reason=Case(When(still_failed, then=F("failure_reason")), default=Value("")),
    )
    return bool(updated)


def _hold_for_tests() -> None:
    """Test-only (tests/test_faults.py): with FCA_TEST_HOLD_RECOMPUTE naming a file that
    exists, a recompute about to store its chart adds a line to ``<file>.reached`` and
    waits while the file exists, so a test can kill the worker or deliver the task again
    at that moment. Never set outside tests: unset, it does nothing."""
    hold = os.environ.get("FCA_TEST_HOLD_RECOMPUTE")
    if not hold or not os.path.exists(hold):
        return
    with open(f"{hold}.reached", "a", encoding="utf-8") as reached:
        reached.write(f"{os.getpid()}\n")
    deadline = time.monotonic() + 120  # a test that died never holds a worker for ever
    while os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)


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
    try:
        result, figure = compute_chart(measure)
    except ValueError as error:
        # Data the engine refuses (saved before a rule existed, say): store the reason at
        # this version, so the page says why instead of recalculating for ever.
        result = {"error": str(error), "summary": f"The chart cannot be drawn: {error}"}
        figure = {}
    _hold_for_tests()
    return store_chart(measure_id=measure_id, data_version=version, result=result, figure=figure)


# A recompute that failed after its retries is sent again by the sweep after this long
# (or at once, when the data changes), not at every sweep.
FAILED_RETRY_AFTER = timedelta(hours=1)


def _failure_reason(error: Exception) -> str:
    """What went wrong, in words for the room's coaches: never the exception's text."""
    if isinstance(error, OperationalError | InterfaceError):
        return "The database was unavailable, or refused to store the chart."
    return (
        "An unexpected error stopped the chart being worked out. The details are in the "
        "worker's log for the app's administrators."
    )


def record_chart_failure(*, measure_id: int, error: Exception, attempts: int) -> bool:
    """A recompute failed after its retries: mark the chart failed at the measure's data
    version, so its room's coaches and the academy's admins see it, and audit it.
    Returns False when the measure is gone or its chart already caught up."""
    from fca import audit

    measure = Measure.objects.select_related("room", "pathway").filter(pk=measure_id).first()
    if measure is None:
        return False
    logger.error(
        "The chart of measure %s could not be recomputed after %s attempts",
        measure_id, attempts, exc_info=error,
    )  # fmt: skip
    ChartResult.objects.get_or_create(measure_id=measure_id, defaults={"data_version": -1})
    marked = ChartResult.objects.filter(
        measure_id=measure_id, data_version__lt=measure.data_version
    ).update(
        failed_at=timezone.now(),
        failed_version=measure.data_version,
        failure_reason=_failure_reason(error),
        attempts=attempts,
    )
    if marked:
        audit.record(
            "task.failed",
            target=measure,
            organisation=(measure.room or measure.pathway).host_id,
            outcome="failure",
            task="recompute_chart",
            attempts=attempts,
        )
    return bool(marked)


def failed_charts():
    """Charts whose latest recompute failed, newest first: the academy admins' list."""
    return (
        ChartResult.objects.filter(
            failed_at__isnull=False, failed_version__gte=F("measure__data_version")
        )
        .select_related("measure__room__host", "measure__pathway__host")
        .order_by("-failed_at")
    )


def charts_to_sweep():
    """Measures whose chart is missing or older than their data, but for a version whose
    recompute failed after its retries: that waits FAILED_RETRY_AFTER."""
    recently_failed = Q(
        chart__failed_version__gte=F("data_version"),
        chart__failed_at__gt=timezone.now() - FAILED_RETRY_AFTER,
    )
    return Measure.objects.stale().exclude(recently_failed)


def enqueue_stale_charts() -> int:
    """Send a recompute for every measure ``charts_to_sweep`` names.

    The periodic sweep: whatever was saved while Redis or the worker was away."""
    from measures.tasks import recompute_chart as task

    sent = 0
    for measure_id in charts_to_sweep().values_list("pk", flat=True).iterator():
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

    try:
        with transaction.atomic():
            measure = Measure.objects.create(room=room, **fields)
            enqueue_on_commit(recompute_chart, measure.pk)
    except IntegrityError:  # the same name saved a moment ago (a double click)
        raise DataError([f"The room already has a measure called “{fields.get('name')}”"]) from None
    return measure


def update_measure(*, measure: Measure, **fields) -> Measure:
    """Change a measure's definition or chart options; its chart is redrawn after commit.

    Refuses options the chart could not draw with the data it holds: a chart type that does
    not suit the data, a percentage target outside 0 to 100, counts that are not counts.
    Only the fields given are written, never the data version from memory."""
    chart_type = fields.get("chart_type", measure.chart_type)
    if chart_type not in Measure.CHARTS_FOR_SHAPE[Measure.Shape(measure.shape)]:
        label = Measure.ChartType(chart_type).label
        raise DataError([f"A {label} does not suit {measure.get_shape_display().lower()}"])
    target = fields.get("target", measure.target)
    if measure.shape == Measure.Shape.PROPORTION and target is not None and not 0 <= target <= 100:
        raise DataError([f"A target of {target:g}% is not a percentage from 0 to 100"])
    if chart_type == Measure.ChartType.C:
        counts = measure.points.values_list("value", flat=True)
        if any(v < 0 or v != int(v) for v in counts):
            raise DataError(
                ["A c-chart needs counts: some values are not whole numbers, 0 or more"]
            )
    multiplier = fields.get("multiplier", measure.multiplier)
    with transaction.atomic():
        for name, value in fields.items():
            setattr(measure, name, value)
        measure.save(update_fields=list(fields))
        if measure.shape == Measure.Shape.RATE:
            # A rate is stored per the multiplier: rescale what is stored with it.
            measure.points.update(value=F("numerator") / F("denominator") * multiplier)
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


def remove_phase(*, measure: Measure, phase_id: int) -> Phase | None:
    """Join a phase back to the one before it; None when it was already gone."""
    with transaction.atomic():
        phase = measure.phases.filter(pk=phase_id).first()
        if phase is None:
            return None
        phase.delete()
        _mark_stale(measure)
    return phase


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


def stage_upload(*, measure: Measure, filename: str, data: bytes, by, sheet: str | None = None):
    """Read an uploaded spreadsheet and keep its cells while the person picks columns."""
    try:
        table, sheets = read_spreadsheet(filename, data, sheet)
    except SpreadsheetError as error:
        raise DataError([str(error)]) from None
    if not any(any(row) for row in table.rows):
        raise DataError(["The file has no data in it"])
    if problem := identifier_problem(table.rows):
        raise DataError([problem])  # refused before anything of it is stored
    return MeasureUpload.objects.create(
        measure=measure,
        created_by=by,
        filename=filename[:255],
        data=data if sheets else b"",
        sheet=table.sheet,
        sheets=sheets,
        rows=table.rows,
    )


def rows_from_upload(
    *, upload: MeasureUpload, header_row: int, columns: Sequence[int]
) -> list[tuple[str, date, tuple[float, ...]]]:
    """The (where, date, numbers) rows below the heading row, from the chosen columns (the
    date's, then the value's or the numerator's and denominator's), checked against the
    measure. Empty rows are skipped. Raises DataError naming every row at fault, its column
    and why, with nothing saved."""
    problems = []
    rows = []
    headings = upload.rows[header_row - 1] if header_row >= 1 else []
    for number, row in enumerate(upload.rows[header_row:], start=header_row + 1):
        cells = [row[c] if c < len(row) else "" for c in columns]
        if not any(cells):
            continue
        where = f"Row {number}"
        found = []
        try:
            day = _parse(parse_date, cells[0]) if cells[0] else None
            if day is None:
                raise ValueError("the date is missing")
        except ValueError as error:
            found.append(f"column {_name(columns[0], headings)}: {error}")
        numbers = []
        for column, cell in zip(columns[1:], cells[1:], strict=True):
            try:
                if not cell:
                    raise ValueError("the value is missing")
                numbers.append(_parse(parse_number, cell))
            except ValueError as error:
                found.append(f"column {_name(column, headings)}: {error}")
        if found:
            problems.append(f"{where}, " + "; ".join(found))
        else:
            rows.append((where, day, tuple(numbers)))
    if not rows and not problems:
        raise DataError(["No rows of data below the headings: check the heading row"])
    try:
        plan_data_points(measure=upload.measure, rows=rows)
    except DataError as error:
        problems.extend(error.problems)
    if problems:
        raise DataError(sorted(problems, key=_row_number))
    return rows


def describe_span(measure: Measure, rows) -> str:
    """The first and last period of (where, date, numbers) rows, in words: "the week
    starting 6 Jan 2025 to the week starting 3 Mar 2025" (one period said once)."""
    periods = sorted(measure.period_of(day) for _, day, _ in rows)
    ends = dict.fromkeys([periods[0], periods[-1]])
    return " to ".join(describe_period(measure, period) for period in ends)


def day_first_warning(measure: Measure, date_texts) -> str:
    """Words for the person when the dates they sent could have been written month first
    and nothing in them says which (see fca.dates.swappable_example); "" otherwise."""
    example = swappable_example(date_texts)
    if example is None:
        return ""
    periods = "weeks" if measure.frequency == Measure.Frequency.WEEKLY else "months"
    return (
        f"Check the dates: each was read day first, as the UK writes them, so “{example}” is "
        f"{format_date(parse_date(example))}. If they were written month first, the values "
        f"are in the wrong {periods}: remove them and send the dates as 2026-03-01 or "
        "1 Mar 2026."
    )


def _parse(parse, cell: str):
    if is_formula(cell):  # in a workbook never opened in Excel
        raise ValueError(f"“{cell}” {FORMULA}")
    return parse(cell)


def _row_number(problem: str) -> int:
    number = problem.split(" ", 2)[1].rstrip(",:")
    return int(number) if number.isdigit() else 0


def _name(column: int, headings: list[str]) -> str:
    heading = headings[column] if column < len(headings) else ""
    return f"{column_letter(column)} ({heading})" if heading else column_letter(column)


def load_upload(*, measure: Measure, upload: MeasureUpload, rows) -> dict:
    """Save an upload's rows (all or none) and let go of the file's cells."""
    with transaction.atomic():
        counts = save_data_points(measure=measure, rows=rows)
        audit.record(
            "upload.measure_data", actor=upload.created_by, target=measure, rows=len(rows),
            **counts,
        )  # fmt: skip
        upload.delete()
    return counts


def choose_sheet(*, upload: MeasureUpload, sheet: str) -> MeasureUpload:
    """Show another sheet of an uploaded workbook."""
    if sheet not in upload.sheets:
        raise DataError([f"The workbook has no sheet called “{sheet}”"])
    try:
        table, _ = read_spreadsheet(upload.filename, bytes(upload.data), sheet)
    except SpreadsheetError as error:
        raise DataError([str(error)]) from None
    if not any(any(row) for row in table.rows):
        raise DataError([f"The sheet “{sheet}” has no data in it"])
    if problem := identifier_problem(table.rows):
        upload.delete()
        raise DataError([problem])
    upload.sheet, upload.rows = table.sheet, table.rows
    upload.save(update_fields=["sheet", "rows"])
    return upload


def delete_old_uploads(*, older_than=timedelta(days=1)) -> int:
    """Uploads nobody loaded: their cells are let go after a day."""
    deleted, _ = MeasureUpload.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


def replace_data_points(*, measure: Measure, values: dict[date, float], periods=None) -> bool:
    """Make a derived measure's points exactly these (period → value), from its source;
    with ``periods``, only the points of those periods (``values`` holds no other), the
    rest kept as they are. Returns whether anything changed; the chart is redrawn only
    then."""
    with transaction.atomic():
        existing = measure.points.all()
        if periods is not None:
            existing = existing.filter(period__in=list(periods))
        current = dict(existing.values_list("period", "value"))
        if current == values:
            return False
        existing.exclude(period__in=list(values)).delete()
        DataPoint.objects.bulk_create(
            [DataPoint(measure=measure, period=p, value=v) for p, v in values.items()],
            update_conflicts=True,
            unique_fields=["measure", "period"],
            update_fields=["value"],
        )
        _mark_stale(measure)
    return True


def replace_worked_out_points(*, measure: Measure, points: dict, keep_before=None) -> bool:
    """Make a worked-out measure's points exactly these: period → (value, numerator,
    denominator, provisional). Points before ``keep_before`` are kept as they are (their
    source rows are gone: retention). Returns whether anything changed; only then is the
    chart redrawn, so a recompute that finds the same numbers costs no chart."""
    fields = ("value", "numerator", "denominator", "provisional")
    with transaction.atomic():
        existing = measure.points.all()
        if keep_before is not None:
            points = {p: v for p, v in points.items() if p >= keep_before}
            existing = existing.filter(period__gte=keep_before)
        current = {row[0]: tuple(row[1:]) for row in existing.values_list("period", *fields)}
        if current == points:
            return False
        existing.exclude(period__in=list(points)).delete()
        DataPoint.objects.bulk_create(
            [DataPoint(measure=measure, period=p, **dict(zip(fields, v, strict=True)))
             for p, v in points.items()],
            update_conflicts=True,
            unique_fields=["measure", "period"],
            update_fields=list(fields),
        )  # fmt: skip
        _mark_stale(measure)
    return True


EXPORT_COLUMNS = (
    "period", "value", "numerator", "denominator", "provisional", "centre", "lower", "upper",
    "rule", "point_type",
)  # fmt: skip


def export_rows(measure: Measure):
    """The measure's data for a download: a heading, then each point, whether it is
    provisional ("yes": a week not yet complete, which the chart does not test), and the
    centre line, limits and signal its chart gave it (blank where it has not drawn it)."""
    chart = ChartResult.objects.filter(measure=measure).only("result").first()
    computed = {p["period"]: p for p in (chart.result.get("points", []) if chart else [])}
    yield EXPORT_COLUMNS
    rows = measure.points.order_by("period").values_list(
        "period", "value", "numerator", "denominator", "provisional"
    )
    for period, value, numerator, denominator, provisional in rows:
        drawn = computed.get(period.isoformat(), {})
        yield (period.isoformat(), value, numerator, denominator, "yes" if provisional else "",
               *(drawn.get(name) for name in EXPORT_COLUMNS[5:]))  # fmt: skip
