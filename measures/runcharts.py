"""Run charts: the median line, Anhøj's rules and the IHI rules, per phase.

Anhøj's rules are computed as qicharts2 0.8.1 computes them (its ``runs.analysis``); the IHI
rules follow Perla, Provost and Murray (BMJ Qual Saf 2011). shared/SPC.md §2 and §3 state
both. Pure: plain sequences in, frozen dataclasses out; no Django. Every probability is worked
in exact integer arithmetic, so a verdict never hangs on a rounding error.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import numpy as np

MIN_BASELINE = 12
# IHI: a shift is 6 or more points on one side of the median, a trend 5 or more points
# going one way.
SHIFT_LENGTH = 6
TREND_LENGTH = 5
# Anhøj's crossings rule: the lower 5 % quantile of Binomial(n - 1, 1/2), as 1 / 20.
CROSSINGS_QUANTILE = (1, 20)
# The runs test: two-sided 5 %, so 2.5 % (1 / 40) in each tail.
RUNS_TAIL = (1, 40)


@dataclass(frozen=True)
class RunsAnalysis:
    """Anhøj's rules over one phase. Limits are None when no point lies off the centre."""

    n_useful: int
    longest_run: int
    longest_run_limit: int | None
    crossings: int
    crossings_limit: int | None
    signal: bool


@dataclass(frozen=True)
class RunChartPhase:
    """One phase (0-based, end exclusive): its median, Anhøj's rules and the IHI rules."""

    start: int
    end: int
    median: float
    n_useful: int
    longest_run: int
    longest_run_limit: int | None
    crossings: int
    crossings_limit: int | None
    signal: bool
    shift_points: list[int]
    trend_points: list[int]
    runs: int
    runs_verdict: str | None


@dataclass(frozen=True)
class RunChartResult:
    """A run chart has no limits and so no icons: its phases carry every signal."""

    phases: list[RunChartPhase]


def run_chart(
    values: Sequence[float], *, rebase_at: Sequence[int] = (), baseline: int | None = None
) -> RunChartResult:
    """A run chart of one series: per phase, the median of its baseline and every rule."""
    array = as_numbers(values, "value")
    if baseline is not None and (
        isinstance(baseline, bool)
        or not isinstance(baseline, int | np.integer)
        or baseline < MIN_BASELINE
    ):
        raise ValueError(f"A baseline needs at least {MIN_BASELINE} points, not {baseline}")
    phases = []
    for start, end in phase_spans(len(array), rebase_at):
        points = array[start:end]
        base = points if baseline is None else points[:baseline]
        median = float(np.median(base))
        runs = runs_analysis(points, median)
        phases.append(
            RunChartPhase(
                start=start,
                end=end,
                median=median,
                n_useful=runs.n_useful,
                longest_run=runs.longest_run,
                longest_run_limit=runs.longest_run_limit,
                crossings=runs.crossings,
                crossings_limit=runs.crossings_limit,
                signal=runs.signal,
                shift_points=[start + i for i in _shift_points(points, median)],
                trend_points=[start + i for i in _trend_points(points)],
                runs=runs.crossings + 1 if runs.n_useful else 0,
                runs_verdict=runs_verdict(runs.n_useful, runs.crossings + 1),
            )
        )
    return RunChartResult(phases=phases)


def as_numbers(values: Sequence[float], what: str) -> np.ndarray:
    """The values as floats; a gap or anything but a number is refused, naming the point."""
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "iuf":
        array = values.astype(np.float64)
        items: Sequence = values
    else:
        if isinstance(values, str | bytes):
            raise ValueError(f"Give the {what}s as a list of numbers")
        items = list(values)
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, numbers.Real | Decimal):
                raise ValueError(f"Point {i + 1}: the {what} must be a number, not {item!r}")
        array = np.array([float(item) for item in items], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"Point {i + 1}: the {what} must be a number, not {items[i]}")
    return array


def phase_spans(n: int, rebase_at: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) of each phase; a rebase point starts a new phase and belongs to it."""
    starts = set()
    for index in rebase_at or ():
        if isinstance(index, bool) or not isinstance(index, int | np.integer) or not 0 < index < n:
            where = f"point {index + 1}" if isinstance(index, int | np.integer) else repr(index)
            raise ValueError(
                f"A new phase must start at a point of the data after the first; "
                f"{where} is not one (the data has {n} points)"
            )
        starts.add(int(index))
    if n == 0:
        return []
    bounds = [0, *sorted(starts), n]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def runs_analysis(values: np.ndarray, centre: float) -> RunsAnalysis:
    """Anhøj's rules as qicharts2 applies them: points on the centre line (or undefined) are
    dropped, and a run is a stretch of the remaining points on one side."""
    side = np.sign(np.asarray(values, dtype=np.float64) - centre)
    side = side[(side != 0) & ~np.isnan(side)]
    n_useful = len(side)
    if n_useful == 0:
        return RunsAnalysis(0, 0, None, 0, None, False)
    lengths = _run_lengths(side)
    longest = int(lengths.max())
    crossings = len(lengths) - 1
    longest_limit = longest_run_limit(n_useful)
    crossings_min = crossings_limit(n_useful)
    return RunsAnalysis(
        n_useful=n_useful,
        longest_run=longest,
        longest_run_limit=longest_limit,
        crossings=crossings,
        crossings_limit=crossings_min,
        signal=longest > longest_limit or crossings < crossings_min,
    )


def longest_run_limit(n_useful: int) -> int:
    """round(log2(n)) + 3 (Schilling). Python's round and R's both round half to even, and
    log2 of a whole number is never exactly halfway, so they always agree."""
    return round(math.log2(n_useful)) + 3


@lru_cache(maxsize=1024)
def crossings_limit(n_useful: int) -> int:
    """R's qbinom(0.05, n - 1, 0.5), exactly: the smallest k with P(X <= k) >= 0.05.

    With whole numbers, P(X <= k) >= 1/20 is 20 * sum(C(m, i), i <= k) >= 2**m. (R's fuzz of
    64 machine epsilons never matters: up to m = 3,000 no tail lies within 4e-7 of 0.05.)"""
    m = max(n_useful - 1, 0)
    num, den = CROSSINGS_QUANTILE
    target = num * (1 << m)
    term, total = 1, 0
    for k in range(m + 1):
        total += term
        if den * total >= target:
            return k
        term = term * (m - k) // (k + 1)
    return m


@lru_cache(maxsize=1024)
def _runs_counts(n: int) -> tuple[int, list[int]]:
    """Swed and Eisenhart: how many of the C(n, n1) arrangements of n1 = n // 2 points below
    and n2 = n - n1 above have r runs, for r = 0..n."""
    n1, n2 = n // 2, n - n // 2
    counts = [0] * (n + 1)
    if n1 == 0:
        counts[min(n, 1)] = 1
        return 1, counts
    a, b = _binomials(n1 - 1), _binomials(n2 - 1)
    for r in range(2, n + 1):
        k = r // 2
        if r % 2 == 0:
            counts[r] = 2 * a[k - 1] * b[k - 1]
        else:
            counts[r] = a[k - 1] * b[k] + a[k] * b[k - 1]
    return math.comb(n, n1), counts


def _binomials(m: int) -> list[int]:
    """C(m, k) for k = 0..m, then zeros (k > m) far enough for any run count."""
    row = [1]
    for k in range(m):
        row.append(row[-1] * (m - k) // (k + 1))
    return row + [0] * (m + 3)


def runs_verdict(n_useful: int, runs: int) -> str | None:
    """Too few runs when P(R <= runs) <= 2.5 %, too many when P(R >= runs) <= 2.5 %, from the
    exact runs distribution for n1 = floor(n / 2), n2 = ceil(n / 2)."""
    if n_useful == 0:
        return None
    total, counts = _runs_counts(n_useful)
    num, den = RUNS_TAIL
    if den * sum(counts[: runs + 1]) <= num * total:
        return "too_few"
    if den * sum(counts[runs:]) <= num * total:
        return "too_many"
    return None


def _run_lengths(keys: np.ndarray) -> np.ndarray:
    """The lengths of the runs of equal consecutive keys (keys not empty)."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return np.diff(np.r_[starts, len(keys)])


def _shift_points(points: np.ndarray, median: float) -> list[int]:
    """IHI shift: indices of points in a run of 6 or more on one side of the median. Points
    on the median are skipped, neither adding to a run nor breaking it."""
    side = np.sign(points - median)
    useful = np.flatnonzero(side != 0)
    if useful.size == 0:
        return []
    lengths = _run_lengths(side[useful])
    in_shift = np.repeat(lengths >= SHIFT_LENGTH, lengths)
    return useful[in_shift].tolist()


def _trend_points(points: np.ndarray) -> list[int]:
    """IHI trend: indices of points in 5 or more going all up or all down. Equal
    consecutive values count as one point (all of them are flagged with it)."""
    if len(points) < 2:
        return []
    # Collapse each stretch of equal values to one point: group[i] is point i's stretch.
    new = np.r_[True, points[1:] != points[:-1]]
    group = np.cumsum(new) - 1
    distinct = points[new]
    if len(distinct) < TREND_LENGTH:
        return []
    steps = np.sign(np.diff(distinct))
    lengths = _run_lengths(steps)
    # A run of L equal steps joins L + 1 distinct points, from its first step's left end.
    firsts = np.r_[0, np.cumsum(lengths)[:-1]]
    flagged = np.zeros(len(distinct), dtype=bool)
    for first, length in zip(firsts.tolist(), lengths.tolist(), strict=True):
        if length + 1 >= TREND_LENGTH:
            flagged[first : first + length + 1] = True
    return np.flatnonzero(flagged[group]).tolist()
