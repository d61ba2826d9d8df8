"""Weekly flow metrics of a care pathway: pure computation (numpy and zoneinfo; no Django).

``weekly_metrics`` gives one ``WeeklyMetrics`` row a week; ``arrivals_departures_heatmap``
counts arrivals and discharges by local weekday and hour over a chosen period. Episodes come
as records (mappings or objects, timezone-aware datetimes) or as a columnar ``Episodes``.

Definitions (every number below is acted on by clinicians, so each is stated exactly):

* Times are instants. Durations are elapsed time, so a night over a clock change lasts 23 or
  25 hours. Resolution is one microsecond. Naive datetimes are refused (ValueError).
* Weeks are local (``tz``, Europe/London by default): Monday 00:00 to the next Monday 00:00,
  half-open [start, end), so a week over a clock change lasts 167 or 169 hours. An event
  *happens in* the week whose interval holds its instant.
* ``as_of`` is the moment of the extract (default: the latest time anywhere in the data).
  Anything after it has not happened yet: a later arrival drops the episode, a later
  departure leaves it open, later steps and discharge-ready times are ignored. Events at
  ``as_of`` itself have happened. Rows run from the week of the first arrival to the week
  holding ``as_of``; ``complete`` says whether a week ended by ``as_of``.
* An episode is *on the pathway* at t when ``arrived_at <= t < departed_at``; an open
  episode (no departure by ``as_of``) is on it from arrival onwards, and nothing is measured
  after ``as_of``. ``on_pathway`` and its ages (``week_start - arrived_at``, elapsed days)
  are taken at the week's start; ``stranded`` is age >= ``stranded_days[0]`` days and
  ``super_stranded`` age >= ``stranded_days[1]`` days.
* ``departures`` count every departure; ``deaths_or_other`` those whose destination is in
  ``not_discharges`` (compared case-insensitively, by ``str.casefold``); ``discharges`` the
  rest. Length of stay (LOS), long stays, before-noon and discharge delay describe that
  week's discharges only. A long stay has LOS strictly over ``los_threshold_hours``. Before
  noon is a local wall-clock time before 12:00 (12:00 itself is not). Discharge delay is
  ``departed_at - discharge_ready_at`` in days, for ready times within [arrival, departure];
  others are left out.
* Steps: an episode's step counts in the week its time happens in, unless missing, before
  arrival or after ``as_of`` (one after departure still counts). Hours to the step are from arrival; within the standard is
  hours <= the standard. Codes reported: those in the data plus the keys of
  ``step_standards_hours``, sorted. A code without a standard (absent or None) has
  ``step_within_standard`` and ``step_within_standard_pct`` None; its counts are given.
* ``occupancy`` is the time-weighted mean number on the pathway over the week (for the week
  holding ``as_of``, over [week_start, as_of)): the sum of each stay's overlap with that
  span divided by its length, worked in integer microseconds. ``littles_law_occupancy`` is
  the week's arrivals divided by the same hours, times ``los_mean_hours``.
* Medians are ``numpy.median``; 90th percentiles ``numpy.percentile(x, 90)`` (linear
  interpolation, numpy's default). Counts are 0 when there is nothing to count; a statistic
  or percentage of an empty set (or of a span of no length) is None. Percentages are 0-100
  and come with their numerator and denominator (``long_stays``/``discharges``,
  ``before_noon``/``discharges``, ``step_within_standard``/``step_count``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
NAT = np.iinfo(np.int64).min  # numpy's NaT, seen as int64
_OPEN = np.iinfo(np.int64).max  # the departure of an episode still on the pathway
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --- Episodes ------------------------------------------------------------------------


def _instant(value: Any, what: str) -> int:
    """An aware datetime (or None) as integer microseconds since the epoch (NAT for None)."""
    if value is None:
        return NAT
    if not isinstance(value, datetime):
        raise ValueError(f"{what} is not a datetime: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime; times must be timezone-aware")
    # Subtracting aware datetimes is elapsed time, whatever their zones.
    return (value - _EPOCH) // _ONE_US


def _column(values: Any, name: str, n: int | None) -> np.ndarray:
    """A datetime64 column as datetime64[us] (UTC), checked for length."""
    if values is None and n is not None:
        return np.full(n, NAT, np.int64).view("datetime64[us]")
    column = np.asarray(values)
    if column.dtype.kind != "M":
        raise ValueError(f"{name} must be a numpy datetime64 array (UTC), not {column.dtype}")
    if n is not None and column.shape != (n,):
        raise ValueError(f"{name} has shape {column.shape}; expected ({n},)")
    return column.astype("datetime64[us]")


@dataclass(frozen=True, eq=False)
class Episodes:
    """Episodes as columns: UTC datetime64 arrays with NaT for missing times.

    ``destination`` is a sequence of str (None for unknown); ``steps`` maps a step code to a
    datetime64 column. Times are normalised to datetime64[us]; the constructor checks them.
    """

    arrived_at: np.ndarray
    departed_at: np.ndarray
    steps: Mapping[str, np.ndarray] = field(default_factory=dict)
    discharge_ready_at: np.ndarray | None = None
    destination: Any = None
    _destination_codes: np.ndarray = field(init=False, repr=False)  # -1 for unknown
    _destination_keys: list[str] = field(init=False, repr=False)  # casefolded, by code

    def __post_init__(self) -> None:
        arrived = _column(self.arrived_at, "arrived_at", None)
        n = len(arrived)
        departed = _column(self.departed_at, "departed_at", n)
        ready = _column(self.discharge_ready_at, "discharge_ready_at", n)
        steps = {code: _column(t, f"step {code!r}", n) for code, t in self.steps.items()}
        a, d = arrived.view(np.int64), departed.view(np.int64)
        if (bad := np.flatnonzero(a == NAT)).size:
            raise ValueError(f"episode {bad[0]}: arrived_at is missing")
        if (bad := np.flatnonzero((d != NAT) & (d < a))).size:
            raise ValueError(f"episode {bad[0]}: departed_at is before arrived_at")
        codes, keys = _factorise(self.destination, n)
        normalised = {"arrived_at": arrived, "departed_at": departed, "steps": steps}
        normalised |= {"discharge_ready_at": ready, "_destination_codes": codes}
        for name, value in (*normalised.items(), ("_destination_keys", keys)):
            object.__setattr__(self, name, value)  # frozen: set once, here

    def __len__(self) -> int:
        return len(self.arrived_at)

    @classmethod
    def from_records(cls, records: Iterable[Any]) -> Episodes:
        """Columns from records: mappings or objects with the fields named in the module doc."""
        arrived: list[int] = []
        departed: list[int] = []
        ready: list[int] = []
        destination: list[Any] = []
        steps: dict[Any, dict[int, int]] = {}
        for i, record in enumerate(records):
            get = record.get if isinstance(record, Mapping) else partial(getattr, record)
            if get("arrived_at", None) is None:
                raise ValueError(f"episode {i}: arrived_at is missing")
            for name, column in (
                ("arrived_at", arrived),
                ("departed_at", departed),
                ("discharge_ready_at", ready),
            ):
                column.append(_instant(get(name, None), f"episode {i}: {name}"))
            destination.append(get("destination", None))
            for code, when in (get("steps", None) or {}).items():
                steps.setdefault(code, {})[i] = _instant(when, f"episode {i}: step {code!r}")
        n = len(arrived)
        columns = {}
        for code, times in steps.items():
            column = np.full(n, NAT, np.int64)
            column[list(times)] = list(times.values())
            columns[code] = column.view("datetime64[us]")

        def as_times(values: list[int]) -> np.ndarray:
            return np.array(values, np.int64).view("datetime64[us]")

        return cls(as_times(arrived), as_times(departed), columns, as_times(ready), destination)


def _factorise(destination: Any, n: int) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 for unknown) and the casefolded name of each code."""
    if destination is None:
        return np.full(n, -1, np.int32), []
    if len(destination) != n:
        raise ValueError(f"destination has {len(destination)} entries; expected {n}")
    seen: dict[Any, int] = {None: -1, "": -1}
    # A hash per episode, once, at construction; the metrics then compare small integers.
    codes = np.fromiter((seen.setdefault(d, len(seen) - 2) for d in destination), np.int32, n)
    names = [str(d).casefold() for d in seen if d not in (None, "")]
    return codes, names


def _not_discharge_mask(episodes: Episodes, not_discharges: Iterable[str]) -> np.ndarray:
    wanted = {str(name).casefold() for name in not_discharges}
    hits = [k for k, name in enumerate(episodes._destination_keys) if name in wanted]
    return np.isin(episodes._destination_codes, hits)


# --- Local time ----------------------------------------------------------------------


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def _offset_us(second: int, zone: ZoneInfo) -> int:
    return datetime.fromtimestamp(second, zone).utcoffset() // _ONE_US


def _offset_table(lo_us: int, hi_us: int, zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """The UTC offsets in force over [lo, hi]: (instant each starts, offset), in µs.

    zoneinfo does not publish its transitions, so the offset is sampled every six hours and
    each change is pinned to the second by bisection (no zone changes twice in six hours)."""
    step = 6 * 3600
    samples = list(range(lo_us // 1_000_000 - step, hi_us // 1_000_000 + 2 * step, step))
    offsets = [_offset_us(s, zone) for s in samples]
    starts, values = [NAT], [offsets[0]]
    for k in range(1, len(samples)):
        if offsets[k] != offsets[k - 1]:
            before, after = samples[k - 1], samples[k]
            while after - before > 1:
                mid = (before + after) // 2
                if _offset_us(mid, zone) == offsets[k - 1]:
                    before = mid
                else:
                    after = mid
            starts.append(after * 1_000_000)
            values.append(offsets[k])
    return np.array(starts, np.int64), np.array(values, np.int64)


def _wall_clock(t_us: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Local wall-clock time of each instant, in µs since local 1970-01-01 00:00."""
    if t_us.size == 0:
        return t_us
    starts, offsets = _offset_table(int(t_us.min()), int(t_us.max()), zone)
    return t_us + offsets[np.searchsorted(starts, t_us, "right") - 1]


def _local_date(t_us: int, zone: ZoneInfo) -> date:
    return (_EPOCH + timedelta(microseconds=int(t_us))).astimezone(zone).date()


def _week_edges(first_us: int, last_us: int, zone: ZoneInfo) -> tuple[list[date], np.ndarray]:
    """Mondays from the week holding ``first_us`` to the one after ``last_us``'s week, and
    their local midnights as UTC instants (so each week is exactly as long as it lasted)."""
    first, last = (_local_date(t, zone) for t in (first_us, last_us))
    first -= timedelta(days=first.weekday())
    weeks = ((last - first).days // 7) + 1
    mondays = [first + timedelta(weeks=k) for k in range(weeks + 1)]
    midnights = [_instant(datetime.combine(d, time(), zone), "week") for d in mondays]
    return mondays, np.array(midnights, np.int64)


# --- Weekly metrics ------------------------------------------------------------------


@dataclass(frozen=True)
class WeeklyMetrics:
    """One local week [week_start, week_end). See the module docstring for definitions."""

    week_start: date
    week_end: date
    complete: bool  # the week had ended by as_of
    hours: float  # elapsed hours measured: 168 (167/169 over a clock change), less if open
    arrivals: int
    departures: int
    deaths_or_other: int
    discharges: int
    los_mean_hours: float | None
    los_median_hours: float | None
    los_p90_hours: float | None
    long_stays: int
    long_stay_pct: float | None
    before_noon: int
    before_noon_pct: float | None
    on_pathway: int
    on_pathway_age_median_days: float | None
    on_pathway_age_p90_days: float | None
    stranded: int
    super_stranded: int
    step_count: dict[str, int]
    step_within_standard: dict[str, int | None]
    step_within_standard_pct: dict[str, float | None]
    step_median_hours: dict[str, float | None]
    occupancy: float | None
    littles_law_occupancy: float | None
    discharge_delay_median_days: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _median(x: np.ndarray) -> float | None:
    return float(np.median(x)) if x.size else None


def _p90(x: np.ndarray) -> float | None:
    return float(np.percentile(x, 90)) if x.size else None  # numpy's default: linear


def _pct(numerator: int, denominator: int) -> float | None:
    return 100 * numerator / denominator if denominator else None


def _counts(week: np.ndarray, n_weeks: int) -> list[int]:
    return np.bincount(week, minlength=n_weeks).tolist()


def _by_week(week: np.ndarray, values: np.ndarray, n_weeks: int) -> list[np.ndarray]:
    """``values`` split into one array per week index."""
    # Week indices fit in 16 bits for 600 years; numpy radix-sorts those, stably and fast.
    order = np.argsort(week.astype(np.int16 if n_weeks < 2**15 else np.int64), kind="stable")
    bounds = np.searchsorted(week[order], np.arange(n_weeks + 1)).tolist()
    ordered = values[order]
    return [ordered[bounds[w] : bounds[w + 1]] for w in range(n_weeks)]


def _discharge_columns(
    arrived: np.ndarray,
    departed: np.ndarray,
    ready: np.ndarray,
    week: np.ndarray,
    n_weeks: int,
    threshold_hours: float,
    zone: ZoneInfo,
) -> dict[str, list[Any]]:
    """Per-week statistics of discharges (their times and the week each happens in)."""
    los = departed - arrived
    hours = _by_week(week, los / US_PER_HOUR, n_weeks)
    noon = (_wall_clock(departed, zone) % US_PER_DAY) < 12 * US_PER_HOUR
    known = (ready != NAT) & (ready >= arrived) & (ready <= departed)
    delays = _by_week(week[known], (departed - ready)[known] / US_PER_DAY, n_weeks)
    out = {
        "discharges": _counts(week, n_weeks),
        "los_mean_hours": [float(h.mean()) if h.size else None for h in hours],
        "los_median_hours": [_median(h) for h in hours],
        "los_p90_hours": [_p90(h) for h in hours],
        "long_stays": _counts(week[los > threshold_hours * US_PER_HOUR], n_weeks),
        "before_noon": _counts(week[noon], n_weeks),
        "discharge_delay_median_days": [_median(d) for d in delays],
    }
    for name, pct in (("long_stays", "long_stay_pct"), ("before_noon", "before_noon_pct")):
        out[pct] = [_pct(k, n) for k, n in zip(out[name], out["discharges"], strict=True)]
    return out


def _pathway_columns(
    arrived: np.ndarray,
    departed: np.ndarray,
    edges: np.ndarray,
    ends: np.ndarray,
    stranded_days: tuple[float, float],
) -> dict[str, list[Any]]:
    """Arrivals, who is on the pathway at each week's start, and occupancy over the week.

    Walks the weeks once, carrying the episodes on the pathway from one week start to the
    next, so each episode is touched only while it is on the pathway (not once a week)."""
    order = np.argsort(arrived)
    arr, dep = arrived[order], departed[order]
    upto = np.searchsorted(arr, edges, "right").tolist()  # arrived <= each week start
    limits = [days * US_PER_DAY for days in stranded_days]
    here_arr = here_dep = np.empty(0, np.int64)
    names = ("on_pathway", "stranded", "super_stranded", "occupancy")
    out: dict[str, list[Any]] = {name: [] for name in names}
    out["on_pathway_age_median_days"], out["on_pathway_age_p90_days"] = [], []
    for w in range(len(edges) - 1):
        start, end = int(edges[w]), int(ends[w])
        joined = slice(upto[w - 1] if w else 0, upto[w])
        still = np.concatenate((here_dep, dep[joined])) > start
        here_arr = np.concatenate((here_arr, arr[joined]))[still]
        here_dep = np.concatenate((here_dep, dep[joined]))[still]
        ages = start - here_arr
        out["on_pathway"].append(len(here_arr))
        out["on_pathway_age_median_days"].append(_median(ages / US_PER_DAY))
        out["on_pathway_age_p90_days"].append(_p90(ages / US_PER_DAY))
        out["stranded"].append(int(np.count_nonzero(ages >= limits[0])))
        out["super_stranded"].append(int(np.count_nonzero(ages >= limits[1])))
        # Exact overlap with [start, end), in µs: stays under way at the start, then arrivals
        # during the week (one exactly at the next start overlaps for no time).
        later = slice(upto[w], upto[w + 1])
        overlap = np.maximum(np.minimum(dep[later], end) - arr[later], 0).sum()
        overlap += (np.minimum(here_dep, end) - start).sum()
        out["occupancy"].append(int(overlap) / (end - start) if end > start else None)
    out["arrivals"] = np.diff(np.searchsorted(arr, edges)).tolist()  # in [start, next start)
    return out


def _step_columns(
    steps: Mapping[Any, np.ndarray],
    standards: Mapping[Any, float | None],
    arrived: np.ndarray,
    edges: np.ndarray,
    as_of: int,
) -> dict[str, list[dict[Any, Any]]]:
    """Per week, per step code: count, number within the standard, percentage, median hours."""
    n_weeks = len(edges) - 1
    names = ("step_count", "step_within_standard", "step_within_standard_pct", "step_median_hours")
    out: dict[str, list[dict[Any, Any]]] = {name: [{} for _ in range(n_weeks)] for name in names}
    for code in sorted(set(steps) | set(standards)):
        times = steps[code] if code in steps else np.full_like(arrived, NAT)
        valid = (times != NAT) & (times >= arrived) & (times <= as_of)
        week = np.searchsorted(edges, times[valid], "right") - 1
        elapsed = times[valid] - arrived[valid]
        counts = _counts(week, n_weeks)
        standard = standards.get(code)
        within = (
            [None] * n_weeks
            if standard is None
            else _counts(week[elapsed <= standard * US_PER_HOUR], n_weeks)
        )
        medians = [_median(h) for h in _by_week(week, elapsed / US_PER_HOUR, n_weeks)]
        for w in range(n_weeks):
            out["step_count"][w][code] = counts[w]
            out["step_within_standard"][w][code] = within[w]
            out["step_within_standard_pct"][w][code] = (
                None if within[w] is None else _pct(within[w], counts[w])
            )
            out["step_median_hours"][w][code] = medians[w]
    return out


def _latest(episodes: Episodes) -> int:
    columns = [episodes.arrived_at, episodes.departed_at, episodes.discharge_ready_at]
    # NaT is the smallest int64, so it never wins a max.
    return max(int(c.view(np.int64).max()) for c in [*columns, *episodes.steps.values()])


def weekly_metrics(
    episodes: Episodes | Iterable[Any],
    *,
    los_threshold_hours: float = 72,
    stranded_days: tuple[float, float] = (7, 21),
    step_standards_hours: Mapping[str, float | None] | None = None,
    not_discharges: Iterable[str] = (),
    as_of: datetime | None = None,
    tz: str | ZoneInfo = "Europe/London",
) -> list[WeeklyMetrics]:
    """One row per local week, from the first arrival's week to the week holding ``as_of``."""
    eps = episodes if isinstance(episodes, Episodes) else Episodes.from_records(episodes)
    zone = _zone(tz)
    if len(eps) == 0:
        return []
    now = _latest(eps) if as_of is None else _instant(as_of, "as_of")
    arrived = eps.arrived_at.view(np.int64)
    departed = eps.departed_at.view(np.int64)
    ready = eps.discharge_ready_at.view(np.int64)
    other = _not_discharge_mask(eps, not_discharges)
    steps = {code: t.view(np.int64) for code, t in eps.steps.items()}
    if not (keep := arrived <= now).all():  # episodes arriving after as_of have not begun
        arrived, departed, ready, other = arrived[keep], departed[keep], ready[keep], other[keep]
        steps = {code: t[keep] for code, t in steps.items()}
    if arrived.size == 0:
        return []
    departed = np.where((departed == NAT) | (departed > now), _OPEN, departed)

    mondays, edges = _week_edges(int(arrived.min()), now, zone)
    n_weeks = len(mondays) - 1
    ends = np.minimum(edges[1:], now)
    gone = departed != _OPEN
    week_gone = np.searchsorted(edges, departed[gone], "right") - 1
    discharged = gone & ~other
    week_discharged = week_gone[~other[gone]]
    columns: dict[str, list[Any]] = {
        "week_start": mondays[:-1],
        "week_end": mondays[1:],
        "complete": (edges[1:] <= now).tolist(),
        "hours": ((ends - edges[:-1]) / US_PER_HOUR).tolist(),
        "departures": _counts(week_gone, n_weeks),
        "deaths_or_other": _counts(week_gone[other[gone]], n_weeks),
        **_discharge_columns(
            *(arrived[discharged], departed[discharged], ready[discharged], week_discharged),
            n_weeks,
            los_threshold_hours,
            zone,
        ),
        **_pathway_columns(arrived, departed, edges, ends, stranded_days),
        **_step_columns(steps, step_standards_hours or {}, arrived, edges, now),
    }
    # Little's law: arrivals per hour over the hours measured, times the mean stay in hours.
    columns["littles_law_occupancy"] = [
        None if not hours or los is None else arrivals / hours * los
        for arrivals, hours, los in zip(
            columns["arrivals"], columns["hours"], columns["los_mean_hours"], strict=True
        )
    ]
    return [WeeklyMetrics(**{k: v[w] for k, v in columns.items()}) for w in range(n_weeks)]


# --- Demand and activity by hour of day and day of week ------------------------------


@dataclass(frozen=True)
class FlowHeatmap:
    """Counts of events in [start, end) by local weekday (row 0 = Monday) and local hour.

    Demand (arrivals) beside activity (discharges), as the Sheffield flow work drew it."""

    start: datetime
    end: datetime
    arrivals: list[list[int]]  # [7][24]
    discharges: list[list[int]]  # [7][24]
    days: tuple[str, ...] = DAYS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _by_weekday_and_hour(t_us: np.ndarray, zone: ZoneInfo) -> list[list[int]]:
    wall = _wall_clock(t_us, zone)
    day, since_midnight = np.divmod(wall, US_PER_DAY)
    weekday = (day + 3) % 7  # 1 January 1970 was a Thursday
    cell = weekday * 24 + since_midnight // US_PER_HOUR
    return np.bincount(cell, minlength=7 * 24).reshape(7, 24).tolist()


def arrivals_departures_heatmap(
    episodes: Episodes | Iterable[Any],
    *,
    start: datetime,
    end: datetime,
    tz: str | ZoneInfo = "Europe/London",
    not_discharges: Iterable[str] = (),
) -> FlowHeatmap:
    """Arrivals and discharges (departures not to a ``not_discharges`` destination) whose
    times fall in [start, end), by local weekday and local hour. In the repeated hour when
    the clocks go back both hours count under 01:00; the skipped hour in spring is empty."""
    eps = episodes if isinstance(episodes, Episodes) else Episodes.from_records(episodes)
    lo, hi = _instant(start, "start"), _instant(end, "end")
    if hi < lo:
        raise ValueError("end is before start")
    zone = _zone(tz)
    arrived = eps.arrived_at.view(np.int64)
    departed = eps.departed_at.view(np.int64)
    discharged = (departed != NAT) & ~_not_discharge_mask(eps, not_discharges)
    in_period = (departed >= lo) & (departed < hi) & discharged
    return FlowHeatmap(
        start=start,
        end=end,
        arrivals=_by_weekday_and_hour(arrived[(arrived >= lo) & (arrived < hi)], zone),
        discharges=_by_weekday_and_hour(departed[in_period], zone),
    )
