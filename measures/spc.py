"""The chart engine: statistical process control, pure (numpy; no Django).

The public functions: xmr and xmr_many here; run_chart (measures.runcharts) and p_chart,
u_chart, c_chart (measures.attribute), re-exported so callers need only this module.

XmR charts as NHS England's Making Data Count teaches them, computed exactly as the
NHSRplotthedots package (0.2.2) does; shared/SPC.md states the rules. Every series and
phase is laid end to end in flat arrays, so a whole organisation's measures are computed
at once with vectorised numpy rather than a Python loop per series.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from measures.attribute import AttributeResult, c_chart, p_chart, u_chart
from measures.runcharts import RunChartResult, run_chart
from measures.signals import (
    IMPROVEMENTS,
    LIMIT_FACTOR,
    MIN_BASELINE,
    POINT_TYPES,
    RULES,
    SCREEN_FACTOR,
    SHORT_PHASE,
    assurance_icon,
    special_causes,
    variation_icon,
)

TWO_IN_THREE = ("ptd", "mdc2023")
RUN_LENGTHS = (6, 7)


__all__ = [
    "AttributeResult",
    "RunChartResult",
    "XmrGroup",
    "XmrPoint",
    "XmrResult",
    "c_chart",
    "p_chart",
    "run_chart",
    "u_chart",
    "xmr",
    "xmr_many",
]


@dataclass(frozen=True)
class XmrGroup:
    """One phase: its span (0-based, end exclusive) and limits; None where undefined."""

    start: int
    end: int
    mean: float | None
    mean_moving_range: float | None
    lower: float | None
    upper: float | None
    lower_2sigma: float | None
    upper_2sigma: float | None
    short: bool


@dataclass(frozen=True)
class XmrPoint:
    rule: str | None
    point_type: str
    # +1 high or increasing, -1 low or decreasing, 0 for common cause.
    direction: int


# A point is one of 5 rules x 5 types x 3 directions: build each record once, share it.
_POINT_RECORDS = tuple(
    XmrPoint(rule=RULES[r], point_type=POINT_TYPES[t], direction=d - 1)
    for r in range(len(RULES))
    for t in range(len(POINT_TYPES))
    for d in range(3)
)


def _record_codes(rules: np.ndarray, types: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Each point's index into _POINT_RECORDS."""
    return (rules.astype(np.int64) * len(POINT_TYPES) + types) * 3 + (directions + 1)


class XmrResult:
    """An XmR chart. Per-point records are built from the columnar arrays on first use."""

    def __init__(
        self,
        *,
        groups: list[XmrGroup],
        rule_codes: np.ndarray,
        type_codes: np.ndarray,
        directions: np.ndarray,
        variation_icon: str | None,
        assurance_icon: str | None,
        record_codes: np.ndarray | None = None,
    ):
        self.groups = groups
        self.rule_codes = rule_codes
        self.type_codes = type_codes
        self.directions = directions
        self._record_codes = record_codes
        self.variation_icon = variation_icon
        self.assurance_icon = assurance_icon

    @cached_property
    def points(self) -> list[XmrPoint]:
        codes = self._record_codes
        if codes is None:
            codes = _record_codes(self.rule_codes, self.type_codes, self.directions)
        records = _POINT_RECORDS
        return [records[c] for c in codes.tolist()]

    def __repr__(self) -> str:
        return f"XmrResult(groups={self.groups!r}, variation_icon={self.variation_icon!r})"


def xmr(
    values: Sequence[float],
    *,
    improvement: str = "neutral",
    rebase_at: Sequence[int] = (),
    fix_after_n_points: int | None = None,
    screen_outliers: bool = True,
    target: float | None = None,
    shift_length: int = 7,
    trend_length: int = 7,
    two_in_three: str = "ptd",
) -> XmrResult:
    """An XmR chart of one series, with every Making Data Count rule and both icons."""
    return xmr_many(
        [values],
        improvement=improvement,
        rebase_at=rebase_at,
        fix_after_n_points=fix_after_n_points,
        screen_outliers=screen_outliers,
        target=target,
        shift_length=shift_length,
        trend_length=trend_length,
        two_in_three=two_in_three,
    )[0]


@dataclass(frozen=True)
class _Options:
    improvement: int
    rebase_at: tuple[int, ...]
    fix_after_n_points: int | None
    screen_outliers: bool
    target: float | None
    shift_length: int
    trend_length: int
    mdc2023: bool


def _options(n: int, given: Mapping) -> _Options:
    """Check one series' options; ValueError with a message fit to show a person."""
    improvement = given.get("improvement", "neutral")
    if improvement not in IMPROVEMENTS:
        raise ValueError(
            f"The direction of improvement must be increase, decrease or neutral, "
            f"not {improvement!r}"
        )
    fix = given.get("fix_after_n_points")
    if fix is not None and (not isinstance(fix, int | np.integer) or fix < MIN_BASELINE):
        raise ValueError(f"A baseline needs at least {MIN_BASELINE} points, not {fix}")
    rebase = sorted({int(i) for i in given.get("rebase_at", ()) or ()})
    for index in rebase:
        if not 0 < index < n:
            raise ValueError(
                f"A new phase must start at a point of the data after the first; "
                f"point {index + 1} is not one (the data has {n} points)"
            )
    lengths = {}
    for name in ("shift_length", "trend_length"):
        lengths[name] = given.get(name, 7)
        if lengths[name] not in RUN_LENGTHS:
            raise ValueError(f"The {name.replace('_', ' ')} must be 6 or 7 points")
    two_in_three = given.get("two_in_three", "ptd")
    if two_in_three not in TWO_IN_THREE:
        raise ValueError("The two-in-three rule must be 'ptd' or 'mdc2023'")
    target = given.get("target")
    if target is not None:
        target = float(target)
        if not math.isfinite(target):
            raise ValueError("The target must be a number")
    return _Options(
        improvement=IMPROVEMENTS[improvement],
        rebase_at=tuple(rebase),
        fix_after_n_points=fix,
        screen_outliers=bool(given.get("screen_outliers", True)),
        target=target,
        shift_length=lengths["shift_length"],
        trend_length=lengths["trend_length"],
        mdc2023=two_in_three == "mdc2023",
    )


def _as_values(series: Sequence[float]) -> np.ndarray:
    try:
        array = np.asarray(series, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("Every value must be a number") from None
    if array.ndim != 1:
        raise ValueError("Give the values as one list of numbers")
    if not np.isfinite(array).all():
        raise ValueError("Every value must be a number: a measure stores no gaps")
    return array


def xmr_many(
    series: Sequence[Sequence[float]],
    options: Sequence[Mapping] | None = None,
    **common,
) -> list[XmrResult]:
    """XmR charts of many series at once (series may differ in length).

    ``options``, when given, holds one dict per series (improvement, target, rebase_at,
    fix_after_n_points…) laid over the ``common`` keyword options."""
    arrays = [_as_values(s) for s in series]
    if options is not None and len(options) != len(arrays):
        raise ValueError("Give one set of options per series")
    opts = [
        _options(len(a), {**common, **(options[i] if options is not None else {})})
        for i, a in enumerate(arrays)
    ]
    if not arrays:
        return []
    layout = _Layout(arrays, opts)
    limits = _limits(layout, opts)
    rules, types, directions = special_causes(
        layout.values,
        centre=limits.mean[layout.segment],
        lower=limits.lower[layout.segment],
        upper=limits.upper[layout.segment],
        lower_2sigma=limits.lower_2sigma[layout.segment],
        upper_2sigma=limits.upper_2sigma[layout.segment],
        segment=layout.segment,
        improvement=layout.per_point(np.array([o.improvement for o in opts])),
        shift_length=layout.per_point(np.array([o.shift_length for o in opts])),
        trend_length=layout.per_point(np.array([o.trend_length for o in opts])),
        mdc2023=layout.per_point(np.array([o.mdc2023 for o in opts])),
    )
    codes = _record_codes(rules, types, directions)
    return [
        _result(layout, limits, opts[i], i, rules, types, directions, codes)
        for i in range(len(arrays))
    ]


class _Layout:
    """Every series' points end to end; a segment is one phase of one series."""

    def __init__(self, arrays: list[np.ndarray], opts: list[_Options]):
        self.values = np.concatenate(arrays) if arrays else np.empty(0)
        self.lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        self.series_start = np.concatenate(([0], np.cumsum(self.lengths)[:-1]))
        starts, fixes, owners = [], [], []
        # Each series' segments, as a range of segment numbers.
        self.series_segments: list[range] = []
        for i, (a, o) in enumerate(zip(arrays, opts, strict=True)):
            if len(a) == 0:
                self.series_segments.append(range(0))
                continue
            phase_starts = (0, *o.rebase_at)
            self.series_segments.append(range(len(starts), len(starts) + len(phase_starts)))
            starts.extend(self.series_start[i] + np.array(phase_starts))
            fixes.extend([o.fix_after_n_points or 0] * len(phase_starts))
            owners.extend([i] * len(phase_starts))
        self.seg_start = np.array(starts, dtype=np.int64)
        self.seg_end = np.append(self.seg_start[1:], len(self.values)).astype(np.int64)
        self.seg_len = self.seg_end - self.seg_start
        self.seg_series = np.array(owners, dtype=np.int64)
        fix = np.array(fixes, dtype=np.int64)
        self.baseline_len = np.where(fix > 0, np.minimum(fix, self.seg_len), self.seg_len)
        self.segment = np.repeat(np.arange(len(self.seg_start)), self.seg_len)
        self.point_series = np.repeat(np.arange(len(arrays)), self.lengths)

    def per_point(self, per_series: np.ndarray) -> np.ndarray:
        return per_series[self.point_series]


@dataclass
class _Limits:
    mean: np.ndarray
    amr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lower_2sigma: np.ndarray
    upper_2sigma: np.ndarray


def _limits(layout: _Layout, opts: list[_Options]) -> _Limits:
    """Per segment: the mean of the baseline values and the (screened) mean moving range.

    Means use correctly rounded sums (math.fsum), as R's long-double mean effectively is,
    so a point lying exactly on the mean is judged as R judges it."""
    values = layout.values.tolist()
    screen = [opts[s].screen_outliers for s in layout.seg_series.tolist()]
    moving = np.abs(np.diff(layout.values)).tolist() if len(values) > 1 else []
    means, amrs = [], []
    for start, n, screened in zip(
        layout.seg_start.tolist(), layout.baseline_len.tolist(), screen, strict=True
    ):
        means.append(math.fsum(values[start : start + n]) / n)
        # Moving ranges of the baseline: between points start..start+n-1 (n - 1 of them).
        ranges = moving[start : start + n - 1]
        if not ranges:
            amrs.append(math.nan)
            continue
        amr = math.fsum(ranges) / len(ranges)
        if screened:
            kept = [r for r in ranges if r < SCREEN_FACTOR * amr]
            amr = math.fsum(kept) / len(kept) if kept else math.nan
        amrs.append(amr)
    mean = np.array(means)
    amr = np.array(amrs)
    width = LIMIT_FACTOR * amr
    two_sigma = 2 * LIMIT_FACTOR / 3 * amr
    return _Limits(
        mean=mean,
        amr=amr,
        lower=mean - width,
        upper=mean + width,
        lower_2sigma=mean - two_sigma,
        upper_2sigma=mean + two_sigma,
    )


def _defined(x: float) -> float | None:
    return None if math.isnan(x) else x


def _result(layout, limits, opts: _Options, i: int, rules, types, directions, codes) -> XmrResult:
    start = int(layout.series_start[i])
    end = start + int(layout.lengths[i])
    segments = layout.series_segments[i]
    groups = [
        XmrGroup(
            start=int(layout.seg_start[s]) - start,
            end=int(layout.seg_end[s]) - start,
            mean=float(limits.mean[s]),
            mean_moving_range=_defined(float(limits.amr[s])),
            lower=_defined(float(limits.lower[s])),
            upper=_defined(float(limits.upper[s])),
            lower_2sigma=_defined(float(limits.lower_2sigma[s])),
            upper_2sigma=_defined(float(limits.upper_2sigma[s])),
            short=int(layout.seg_len[s]) < SHORT_PHASE,
        )
        for s in segments
    ]
    if not groups:
        return XmrResult(
            groups=[],
            rule_codes=np.empty(0, dtype=np.int8),
            type_codes=np.empty(0, dtype=np.int8),
            directions=np.empty(0, dtype=np.int8),
            variation_icon=None,
            assurance_icon=None,
        )
    last = groups[-1]
    return XmrResult(
        groups=groups,
        rule_codes=rules[start:end],
        type_codes=types[start:end],
        directions=directions[start:end],
        variation_icon=variation_icon(int(types[end - 1]), int(directions[end - 1])),
        record_codes=codes[start:end],
        assurance_icon=assurance_icon(opts.improvement, opts.target, last.lower, last.upper),
    )
