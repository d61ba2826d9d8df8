"""From a pathway's episodes to its flow measures: the one function that loads rows, calls
pathways/flow.py, and writes what it returns as the data points of the pathway's measures.

Which weekly figure becomes which measure, with its chart and which way is better, is set
out once here (FLOW_MEASURES)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection, transaction
from django.db.models import F

from measures.models import Measure
from measures.services import replace_worked_out_points
from pathways import flow
from pathways.models import MAX_STEPS, Episode, Pathway


@dataclass(frozen=True)
class FlowMeasure:
    name: str
    unit: str
    improvement: str
    chart_type: str
    shape: str = "value"
    kind: str = "process"
    # the weekly figure; for a proportion, the numerator and denominator fields
    field: str = ""
    numerator: str = ""
    denominator: str = ""


FLOW_MEASURES = {
    "arrivals": FlowMeasure("Arrivals a week", "patients", "neutral", "xmr", field="arrivals"),
    "discharges": FlowMeasure("Discharges a week", "patients", "neutral", "xmr",
                              field="discharges"),
    "deaths_or_other": FlowMeasure("Deaths and other departures a week", "patients",
                                   "decrease", "c", field="deaths_or_other", kind="balancing"),
    "los_median_hours": FlowMeasure("Median length of stay", "hours", "decrease", "xmr",
                                    field="los_median_hours", kind="outcome"),
    "los_mean_hours": FlowMeasure("Mean length of stay", "hours", "decrease", "xmr",
                                  field="los_mean_hours", kind="outcome"),
    "long_stay_pct": FlowMeasure("Discharges after a long stay", "%", "decrease", "p",
                                 shape="proportion", numerator="long_stays",
                                 denominator="discharges", kind="outcome"),
    "before_noon_pct": FlowMeasure("Discharges before noon", "%", "increase", "p",
                                   shape="proportion", numerator="before_noon",
                                   denominator="discharges"),
    "on_pathway": FlowMeasure("Patients on the pathway at the start of the week", "patients",
                              "decrease", "xmr", field="on_pathway"),
    "stranded": FlowMeasure("Stranded patients", "patients", "decrease", "xmr",
                            field="stranded"),
    "super_stranded": FlowMeasure("Super-stranded patients", "patients", "decrease", "xmr",
                                  field="super_stranded"),
    "occupancy": FlowMeasure("Occupancy (mean on the pathway)", "patients", "neutral", "xmr",
                             field="occupancy"),
    "discharge_delay_median_days": FlowMeasure(
        "Median delay once ready to go", "days", "decrease", "xmr",
        field="discharge_delay_median_days"),
}  # fmt: skip


def _step_measures(pathway: Pathway, key: str) -> list[tuple[str, FlowMeasure]]:
    """A step's measures: within its standard (steps with one), and median hours to it."""
    measures = []
    for step in pathway.steps.all():
        if key == "step_within_standard_pct" and step.standard_hours is not None:
            name = f"{step.name} within {step.standard_words}"
            spec = FlowMeasure(name, "%", "increase", "p", shape="proportion",
                               numerator="step_within_standard", denominator="step_count")  # fmt: skip
            measures.append((step.code, spec))
        elif key == "step_median_hours":
            spec = FlowMeasure(f"Median hours to {step.name.lower()}", "hours", "decrease",
                               "xmr", field="step_median_hours")  # fmt: skip
            measures.append((step.code, spec))
    return measures


NAT = np.iinfo(np.int64).min  # numpy's NaT, as int64


def episodes_of(pathway: Pathway) -> flow.Episodes:
    """The pathway's episodes as columns for flow.py (UTC, NaT for missing)."""
    slots = dict(pathway.steps.values_list("code", "slot"))
    if connection.vendor == "postgresql":
        return _episodes_from_postgres(pathway, slots)
    names = ["arrived_at", "departed_at", "discharge_ready_at", "destination",
             *(f"step_{slot}" for slot in range(1, MAX_STEPS + 1))]  # fmt: skip
    rows = list(Episode.objects.filter(pathway=pathway).values_list(*names))
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)

    def times(column) -> np.ndarray:
        naive = [t.replace(tzinfo=None) if t is not None else None for t in column]
        return np.array(naive, dtype="datetime64[us]")

    return flow.Episodes(
        arrived_at=times(columns[0]),
        departed_at=times(columns[1]),
        discharge_ready_at=times(columns[2]),
        destination=[d or None for d in columns[3]],
        steps={code: times(columns[4 + slot - 1]) for code, slot in slots.items()},
    )


def _episodes_from_postgres(pathway: Pathway, slots: dict[str, int]) -> flow.Episodes:
    """The same columns, read fast: each time as integer microseconds since 1970 (exact:
    PostgreSQL's epoch is numeric), NULL as NaT, straight into numpy."""
    times = ["arrived_at", "departed_at", "discharge_ready_at",
             *(f"step_{slot}" for slot in slots.values())]  # fmt: skip
    select = ", ".join(
        f"COALESCE((EXTRACT(EPOCH FROM {name}) * 1000000)::bigint, {NAT})" for name in times
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {select}, destination FROM pathways_episode WHERE pathway_id = %s",  # noqa: S608
            [pathway.pk],
        )
        rows = cursor.fetchall()
    if not rows:
        micro = np.empty((0, len(times)), dtype=np.int64)
        destination = []
    else:
        micro = np.array([row[:-1] for row in rows], dtype=np.int64)
        destination = [row[-1] or None for row in rows]
    column = {name: micro[:, i].view("datetime64[us]") for i, name in enumerate(times)}
    return flow.Episodes(
        arrived_at=column["arrived_at"],
        departed_at=column["departed_at"],
        discharge_ready_at=column["discharge_ready_at"],
        destination=destination,
        steps={code: column[f"step_{slot}"] for code, slot in slots.items()},
    )


def recompute_flow(*, pathway_id: int) -> bool:
    """Work out the pathway's weekly flow figures again, from all its episodes, and write
    them to its chosen flow measures (created on first use). Coalesced: a version already
    worked out is not worked out again. Returns whether it ran."""
    pathway = Pathway.objects.filter(pk=pathway_id).first()
    if pathway is None or pathway.metrics_version >= pathway.data_version:
        return False
    version = pathway.data_version  # read first: newer episodes make a newer version
    episodes = episodes_of(pathway)
    rows = []
    if len(episodes):
        rows = flow.weekly_metrics(
            episodes,
            los_threshold_hours=pathway.los_threshold_hours,
            stranded_days=(pathway.stranded_days, pathway.super_stranded_days),
            step_standards_hours={s.code: s.standard_hours for s in pathway.steps.all()},
            not_discharges=pathway.not_discharges,
            # The moment of the last load: its week is the unfinished one.
            as_of=_as_of(pathway, episodes),
        )
    provisional = _provisional_weeks(rows, pathway.data_lag_weeks)
    heatmap = _heatmap(episodes, rows, pathway)
    with transaction.atomic():
        # Locked, and checked again: an older recompute finishing late must not write its
        # figures over a newer one's.
        locked = Pathway.objects.select_for_update().get(pk=pathway.pk)
        if locked.metrics_version >= version:
            return False
        for key in pathway.metrics:
            specs = (
                _step_measures(pathway, key) if key.startswith("step_")
                else [("", FLOW_MEASURES[key])] if key in FLOW_MEASURES else []
            )  # fmt: skip
            for step_code, spec in specs:
                measure = _measure(pathway, key, step_code, spec)
                points = _points(rows, spec, step_code, provisional)
                replace_worked_out_points(
                    measure=measure, points=points, keep_before=pathway.history_until
                )
        Pathway.objects.filter(pk=pathway.pk, metrics_version__lt=version).update(
            metrics_version=version, heatmap=heatmap
        )
    return True


HEATMAP_WEEKS = 12
LONDON = ZoneInfo("Europe/London")


def _heatmap(episodes, rows, pathway: Pathway) -> dict:
    """Arrivals against discharges by local weekday and hour, over the latest complete
    weeks (demand against activity, as the Sheffield flow work drew it)."""
    complete = [r for r in rows if r.complete]
    if not complete:
        return {}
    start, end = complete[max(0, len(complete) - HEATMAP_WEEKS)].week_start, complete[-1].week_end
    counts = flow.arrivals_departures_heatmap(
        episodes, start=_midnight(start), end=_midnight(end), not_discharges=pathway.not_discharges
    )
    return {"start": start.isoformat(), "end": end.isoformat(),
            "weeks": (end - start).days // 7,
            "arrivals": counts.arrivals, "discharges": counts.discharges}  # fmt: skip


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON)


def _provisional_weeks(rows, lag: int) -> set[date]:
    """The unfinished week, and the ``lag`` latest complete weeks whose times may still
    be arriving."""
    weeks = {r.week_start for r in rows if not r.complete}
    complete = [r.week_start for r in rows if r.complete]
    weeks.update(complete[-lag:] if lag else [])
    return weeks


def _as_of(pathway: Pathway, episodes: flow.Episodes):
    """The moment the data describes: the last load (a nightly file that ends on Sunday
    and arrives on Monday has a complete week), but at most a day after its latest time,
    so an old file's weeks do not run on, empty, to today."""
    latest = max(
        np.max(column[~np.isnat(column)]).astype("datetime64[us]").item()
        for column in (episodes.arrived_at, episodes.departed_at)
        if (~np.isnat(column)).any()
    ).replace(tzinfo=UTC)
    loaded = pathway.last_loaded_at
    if loaded is None:
        return latest
    return min(max(loaded, latest), latest + timedelta(days=1))


def _measure(pathway: Pathway, key: str, step_code: str, spec: FlowMeasure) -> Measure:
    measure, created = Measure.objects.get_or_create(
        pathway=pathway, flow_metric=key, step_code=step_code,
        defaults={
            "name": spec.name, "unit": spec.unit, "improvement": spec.improvement,
            "chart_type": spec.chart_type, "shape": spec.shape, "kind": spec.kind,
            "frequency": "weekly", "source": Measure.Source.FLOW,
            "definition": f"Worked out every week from the pathway's episodes ({key}).",
        },
    )  # fmt: skip
    if not created and step_code and measure.name != spec.name:
        # A step renamed, or its standard changed: the name says what is counted now.
        Measure.objects.filter(pk=measure.pk).update(name=spec.name)
    return measure


def _points(rows, spec: FlowMeasure, step_code: str, provisional: set) -> dict:
    def pick(row, name):
        value = getattr(row, name)
        return value.get(step_code) if isinstance(value, dict) else value

    points = {}
    for row in rows:
        late = row.week_start in provisional
        if spec.shape == "proportion":
            numerator, denominator = pick(row, spec.numerator), pick(row, spec.denominator)
            if not denominator or numerator is None:
                continue  # a percentage of nobody is no point at all
            points[row.week_start] = (100 * numerator / denominator, float(numerator),
                                      float(denominator), late)  # fmt: skip
        else:
            value = pick(row, spec.field)
            if value is not None:
                points[row.week_start] = (float(value), None, None, late)
    return points


def stale_pathways() -> list[int]:
    """Pathways whose flow measures are older than their episodes or settings."""
    return list(
        Pathway.objects.filter(metrics_version__lt=F("data_version")).values_list("pk", flat=True)
    )
