"""Attribute charts: p (proportions), u (rates), c (counts), with Laney's p′ and u′.

Limits as qicharts2 0.8.1 computes them (shared/SPC.md §4); point types and icons from Making
Data Count's rules (measures.signals), applied against each point's own limits, so the room
cards read the same whichever chart a measure uses. Pure numpy; no Django.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from measures.runcharts import as_numbers, phase_spans, runs_analysis
from measures.signals import (
    IMPROVEMENTS,
    POINT_TYPES,
    RULES,
    SCREEN_FACTOR,
    assurance_icon,
    special_causes,
    variation_icon,
)

SIGMAS = 3
# d2 for moving ranges of two: Laney's sigma_z is the mean moving range of z over 1.128.
D2 = 1.128
RULE_LENGTH = 7  # shift and trend, as for XmR charts


@dataclass(frozen=True)
class AttributeGroup:
    """One phase (0-based, end exclusive), its centre line (None when every point of it is
    excluded) and whether Anhøj's runs analysis against that centre signals."""

    start: int
    end: int
    centre: float | None
    signal: bool


@dataclass(frozen=True)
class AttributePoint:
    """One plotted point. An excluded point (nothing to divide by) has no value or limits."""

    value: float | None
    centre: float | None
    lower: float | None
    upper: float | None
    beyond: bool
    excluded: bool
    rule: str | None
    point_type: str
    # +1 high or increasing, -1 low or decreasing, 0 for common cause.
    direction: int


@dataclass(frozen=True)
class AttributeResult:
    groups: list[AttributeGroup]
    points: list[AttributePoint]
    variation_icon: str | None
    assurance_icon: str | None
    signal: bool


def p_chart(
    numerators: Sequence[float],
    denominators: Sequence[float],
    *,
    laney: bool = False,
    improvement: str = "neutral",
    target: float | None = None,
    rebase_at: Sequence[int] = (),
) -> AttributeResult:
    """A p chart (Laney's p′ with ``laney``) of numerators over denominators; the target is a
    proportion from 0 to 1, as the points are."""
    num = as_numbers(numerators, "numerator")
    den = as_numbers(denominators, "denominator")
    _same_length(num, den, "numerator", "denominator")
    _not_negative(num, "numerator")
    _not_negative(den, "denominator")
    over = np.flatnonzero(num > den)
    if over.size:
        i = int(over[0])
        raise ValueError(
            f"Point {i + 1}: {_show(num[i])} is more than its denominator {_show(den[i])}"
        )
    if target is not None and not 0 <= _target(target) <= 1:
        raise ValueError(
            f"A target for a proportion must be between 0 and 1 (for 85% give 0.85), not {target}"
        )
    return _chart(
        num,
        den,
        sigma=lambda centre, n: np.sqrt(centre * (1 - centre) / n),
        ceiling=1.0,
        laney=laney,
        multiply=1.0,
        improvement=improvement,
        target=target,
        rebase_at=rebase_at,
    )


def u_chart(
    counts: Sequence[float],
    exposures: Sequence[float],
    *,
    multiply: float = 1,
    laney: bool = False,
    improvement: str = "neutral",
    target: float | None = None,
    rebase_at: Sequence[int] = (),
) -> AttributeResult:
    """A u chart (Laney's u′ with ``laney``) of counts per unit of exposure. ``multiply``
    scales what is shown (1000 for a rate per 1,000 bed days); the target is on that scale."""
    count = as_numbers(counts, "count")
    exposure = as_numbers(exposures, "exposure")
    _same_length(count, exposure, "count", "exposure")
    _not_negative(count, "count")
    _not_negative(exposure, "exposure")
    orphan = np.flatnonzero((exposure == 0) & (count > 0))
    if orphan.size:
        i = int(orphan[0])
        raise ValueError(f"Point {i + 1}: {_show(count[i])} counted with no exposure (0)")
    if (
        isinstance(multiply, bool)
        or not isinstance(multiply, numbers.Real | Decimal)
        or not math.isfinite(multiply)
        or multiply <= 0
    ):
        raise ValueError(f"The multiplier must be a positive number, not {multiply!r}")
    return _chart(
        count,
        exposure,
        sigma=lambda centre, n: np.sqrt(centre / n),
        ceiling=math.inf,
        laney=laney,
        multiply=float(multiply),
        improvement=improvement,
        target=target,
        rebase_at=rebase_at,
    )


def c_chart(
    counts: Sequence[float],
    *,
    improvement: str = "neutral",
    target: float | None = None,
    rebase_at: Sequence[int] = (),
) -> AttributeResult:
    """A c chart of counts of events in equal areas of opportunity: limits c̄ ± 3√c̄."""
    count = as_numbers(counts, "count")
    _not_negative(count, "count")
    # A c chart is a u chart with every exposure 1: c̄ = Σc / n, σ = √(c̄ / 1).
    return _chart(
        count,
        np.ones_like(count),
        sigma=lambda centre, n: np.sqrt(centre / n),
        ceiling=math.inf,
        laney=False,
        multiply=1.0,
        improvement=improvement,
        target=target,
        rebase_at=rebase_at,
    )


def _show(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _same_length(a: np.ndarray, b: np.ndarray, what_a: str, what_b: str) -> None:
    if len(a) != len(b):
        raise ValueError(
            f"Give one {what_b} for each {what_a}: there are {_count(len(a), what_a)} "
            f"and {_count(len(b), what_b)}"
        )


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _not_negative(values: np.ndarray, what: str) -> None:
    negative = np.flatnonzero(values < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(f"Point {i + 1}: the {what} cannot be negative ({_show(values[i])})")


def _target(target: float) -> float:
    try:
        value = float(target)
    except (TypeError, ValueError):
        raise ValueError(f"The target must be a number, not {target!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"The target must be a number, not {target!r}")
    return value


def _chart(
    num: np.ndarray,
    den: np.ndarray,
    *,
    sigma: Callable[[np.ndarray, np.ndarray], np.ndarray],
    ceiling: float,
    laney: bool,
    multiply: float,
    improvement: str,
    target: float | None,
    rebase_at: Sequence[int],
) -> AttributeResult:
    """Limits per phase, then the rules over every point at once.

    1. Per phase: centre = Σnum / Σden; σᵢ from the centre and each denominator.
    2. Laney: σᵢ × σz, σz from the screened moving ranges of zᵢ = (yᵢ − centre) / σᵢ.
    3. Limits centre ± 3σ, clamped to [0, ceiling]; "2 sigma" lines two thirds of the way.
    4. Making Data Count's rules and icons; Anhøj's runs analysis per phase.
    Everything is worked before ``multiply`` scales it, as qicharts2 does."""
    if improvement not in IMPROVEMENTS:
        raise ValueError(
            f"The direction of improvement must be increase, decrease or neutral, "
            f"not {improvement!r}"
        )
    target = None if target is None else _target(target)
    spans = phase_spans(len(num), rebase_at)
    n = len(num)
    excluded = den == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(excluded, np.nan, num / np.where(excluded, 1, den))
    centre = np.full(n, np.nan)
    width = np.full(n, np.nan)
    segment = np.zeros(n, dtype=np.int64)
    for phase, (start, end) in enumerate(spans):
        part = slice(start, end)
        segment[part] = phase
        total = math.fsum(den[part])
        if total == 0:
            continue
        centre[part] = math.fsum(num[part]) / total
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma_i = np.where(excluded[part], np.nan, sigma(centre[part], den[part]))
            if laney:
                sigma_i = sigma_i * _sigma_z((values[part] - centre[part]) / sigma_i)
        width[part] = SIGMAS * sigma_i
    lower = np.maximum(centre - width, 0.0)
    upper = np.minimum(centre + width, ceiling)
    lower_2sigma = centre - 2 / 3 * (centre - lower)
    upper_2sigma = centre + 2 / 3 * (upper - centre)
    beyond = (values > upper) | (values < lower)

    sign = IMPROVEMENTS[improvement]
    rules, types, directions = special_causes(
        np.where(excluded, 0.0, values),
        centre=centre,
        lower=lower,
        upper=upper,
        lower_2sigma=lower_2sigma,
        upper_2sigma=upper_2sigma,
        segment=segment,
        improvement=np.full(n, sign, dtype=np.int8),
        shift_length=np.full(n, RULE_LENGTH),
        trend_length=np.full(n, RULE_LENGTH),
        mdc2023=np.zeros(n, dtype=bool),
        included=~excluded,
    )
    groups = [
        AttributeGroup(
            start=start,
            end=end,
            centre=_defined(centre[start] * multiply),
            signal=runs_analysis(values[start:end][~excluded[start:end]], centre[start]).signal,
        )
        for start, end in spans
    ]
    rule_codes, type_codes = rules.tolist(), types.tolist()
    points = [
        AttributePoint(
            value=None if excluded[i] else float(values[i] * multiply),
            centre=_defined(centre[i] * multiply),
            lower=_defined(lower[i] * multiply),
            upper=_defined(upper[i] * multiply),
            beyond=bool(beyond[i]),
            excluded=bool(excluded[i]),
            rule=RULES[rule_codes[i]],
            point_type=POINT_TYPES[type_codes[i]],
            direction=int(directions[i]),
        )
        for i in range(n)
    ]
    shown = np.flatnonzero(~excluded)
    if shown.size == 0:
        return AttributeResult(groups, points, None, None, False)
    last = points[int(shown[-1])]
    return AttributeResult(
        groups=groups,
        points=points,
        variation_icon=variation_icon(type_codes[shown[-1]], last.direction),
        assurance_icon=assurance_icon(sign, target, last.lower, last.upper),
        signal=any(group.signal for group in groups),
    )


def _sigma_z(z: np.ndarray) -> float:
    """Laney's σz: the mean moving range of z over d2, after dropping, once, every moving
    range not strictly below 3.267 × their mean. A moving range touching an excluded point
    (or an undefined z, when σᵢ is 0) is left out, as qicharts2's ``na.rm`` leaves it out.
    Not floored at 1: under-dispersed data get narrower limits. NaN when nothing is left."""
    ranges = np.abs(np.diff(z))
    ranges = ranges[~np.isnan(ranges)].tolist()
    if not ranges:
        return math.nan
    mean = math.fsum(ranges) / len(ranges)
    kept = [r for r in ranges if r < SCREEN_FACTOR * mean]
    return math.fsum(kept) / len(kept) / D2 if kept else math.nan


def _defined(x: float) -> float | None:
    return None if math.isnan(x) else float(x)
