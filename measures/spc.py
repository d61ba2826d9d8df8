"""The chart engine: statistical process control, pure Python (no Django).

XmR charts as NHS England's Making Data Count teaches them, computed exactly as the
NHSRplotthedots package does (see shared/SPC.md §1). This first version gives the limits
and the points outside them; the other special-cause rules, phases and icons follow.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# Constants of the XmR chart as Making Data Count uses them (2.66, not 3 / 1.128).
LIMIT_FACTOR = 2.66
SCREEN_FACTOR = 3.267
SHORT_PHASE = 13

IMPROVEMENTS = ("increase", "decrease", "neutral")


@dataclass(frozen=True)
class XmrGroup:
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


@dataclass(frozen=True)
class XmrResult:
    groups: list[XmrGroup]
    points: list[XmrPoint] = field(default_factory=list)


def _direction_sign(improvement: str) -> int:
    return {"increase": 1, "decrease": -1, "neutral": 0}[improvement]


def _limits(values: Sequence[float], *, screen_outliers: bool) -> XmrGroup:
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return XmrGroup(0, n, mean, None, None, None, None, None, n < SHORT_PHASE)
    ranges = [abs(values[i] - values[i - 1]) for i in range(1, n)]
    amr = math.fsum(ranges) / len(ranges)
    if screen_outliers:
        kept = [r for r in ranges if r < SCREEN_FACTOR * amr]
        # A constant series screens out every range: the limits are undefined.
        amr = math.fsum(kept) / len(kept) if kept else None
    if amr is None:
        return XmrGroup(0, n, mean, None, None, None, None, None, n < SHORT_PHASE)
    width = LIMIT_FACTOR * amr
    two_sigma = 2 * LIMIT_FACTOR / 3 * amr
    return XmrGroup(
        start=0,
        end=n,
        mean=mean,
        mean_moving_range=amr,
        lower=mean - width,
        upper=mean + width,
        lower_2sigma=mean - two_sigma,
        upper_2sigma=mean + two_sigma,
        short=n < SHORT_PHASE,
    )


def xmr(
    values: Sequence[float],
    *,
    improvement: str = "neutral",
    screen_outliers: bool = True,
) -> XmrResult:
    """An XmR chart of one phase: mean, limits and the points outside them."""
    if improvement not in IMPROVEMENTS:
        raise ValueError(f"The direction of improvement must be one of {', '.join(IMPROVEMENTS)}")
    values = [float(v) for v in values]
    if not values:
        return XmrResult(groups=[], points=[])
    if any(math.isnan(v) or math.isinf(v) for v in values):
        raise ValueError("Every value must be a number")
    group = _limits(values, screen_outliers=screen_outliers)
    sign = _direction_sign(improvement)
    points = []
    for value in values:
        side = 0
        if group.upper is not None and value > group.upper:
            side = 1
        elif group.lower is not None and value < group.lower:
            side = -1
        points.append(_point(side, sign))
    return XmrResult(groups=[group], points=points)


def _point(side: int, sign: int) -> XmrPoint:
    if side == 0:
        return XmrPoint(rule=None, point_type="common_cause")
    if sign == 0:
        kind = "special_cause_neutral_high" if side > 0 else "special_cause_neutral_low"
    elif side * sign > 0:
        kind = "special_cause_improvement"
    else:
        kind = "special_cause_concern"
    return XmrPoint(rule="outside_limits", point_type=kind)
