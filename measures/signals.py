"""Making Data Count's special-cause rules and icons, shared by every chart with limits.

Pure numpy over flat per-point arrays (shared/SPC.md §1 and §4): the XmR engine in
measures.spc and the attribute charts (p, u, c) call the same rules.
"""

import numpy as np

# Making Data Count's constants: 2.66 exactly (not 3 / 1.128), and the screening factor.
LIMIT_FACTOR = 2.66
SCREEN_FACTOR = 3.267
SHORT_PHASE = 13
MIN_BASELINE = 12

IMPROVEMENTS = {"increase": 1, "decrease": -1, "neutral": 0}

# Codes in the flat arrays, and the labels the contract names.
RULES = (None, "outside_limits", "trend", "two_in_three", "shift")
NO_RULE, OUTSIDE, TREND, TWO_IN_3, SHIFT = range(5)
POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
COMMON, IMPROVING, CONCERNING, NEUTRAL_HIGH, NEUTRAL_LOW = range(5)
_VARIATION_ICONS = {
    COMMON: "common_cause",
    NEUTRAL_HIGH: "neutral_high",
    NEUTRAL_LOW: "neutral_low",
}


def _run_lengths(keys: np.ndarray, breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each position: the id of the run of equal ``keys`` it belongs to (a run also
    ends wherever ``breaks`` is true), and that run's length."""
    n = len(keys)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    starts[1:] = keys[1:] != keys[:-1]
    starts |= breaks
    run_id = np.cumsum(starts) - 1
    return run_id, np.bincount(run_id)[run_id]


def special_causes(
    values: np.ndarray,
    *,
    centre: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    lower_2sigma: np.ndarray,
    upper_2sigma: np.ndarray,
    segment: np.ndarray,
    improvement: np.ndarray,
    shift_length: np.ndarray,
    trend_length: np.ndarray,
    mdc2023: np.ndarray,
    included: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Making Data Count's four rules over flat per-point arrays (shared/SPC.md §1).

    Every argument holds one entry per point; ``segment`` numbers the phases, and no run,
    trend or window crosses from one to the next. NaN limits never signal. Points not
    ``included`` (a zero denominator) take no part. Returns per point: the winning rule's
    code (outside limits > trend > two in three > shift), its point type code, and its
    direction (+1 high or rising, -1 low or falling, 0 none)."""
    if included is not None and not included.all():
        keep = np.flatnonzero(included)
        parts = special_causes(
            values[keep],
            centre=centre[keep],
            lower=lower[keep],
            upper=upper[keep],
            lower_2sigma=lower_2sigma[keep],
            upper_2sigma=upper_2sigma[keep],
            segment=segment[keep],
            improvement=improvement[keep],
            shift_length=shift_length[keep],
            trend_length=trend_length[keep],
            mdc2023=mdc2023[keep],
        )
        out = [np.zeros(len(values), dtype=np.int8) for _ in range(3)]
        for full, part in zip(out, parts, strict=True):
            full[keep] = part
        return tuple(out)

    n = len(values)
    first = np.ones(n, dtype=bool)  # the first point of its phase
    first[1:] = segment[1:] != segment[:-1]
    side = np.sign(values - centre).astype(np.int8)

    # 1. Outside the limits (strict).
    above = values > upper
    below = values < lower
    outside = above | below

    # 2. Trend: trend_length points whose successive differences share one strict sign.
    step = np.zeros(n, dtype=np.int8)
    step[1:] = np.sign(values[1:] - values[:-1])
    step[first] = 0
    run_id, run_len = _run_lengths(step, first)
    rising = (step != 0) & (run_len >= trend_length - 1)
    trend_dir = np.where(rising, step, 0).astype(np.int8)
    # The point before a qualifying run belongs to it too; where it ends an earlier run
    # going the other way (a peak or trough) the later run's direction wins.
    run_first = np.flatnonzero(rising & np.r_[True, run_id[1:] != run_id[:-1]])
    trend_dir[run_first - 1] = step[run_first]

    # 3. Two in three: a window of three points of one phase, all on one side of the
    # centre, at least two of them close to the limits. Only the close points signal.
    beyond_2sigma = (values > upper_2sigma) | (values < lower_2sigma)
    close = beyond_2sigma & (mdc2023 | ~outside)
    window = np.zeros(n, dtype=bool)
    if n >= 3:
        same_phase = segment[:-2] == segment[2:]
        close_count = close[:-2].astype(int) + close[1:-1] + close[2:]
        side_sum = side[:-2].astype(int) + side[1:-1] + side[2:]
        window[:-2] = same_phase & (close_count >= 2) & (np.abs(side_sum) == 3)
    in_window = window.copy()
    in_window[1:] |= window[:-1]
    in_window[2:] |= window[:-2]
    two_in_three = close & in_window

    # 4. Shift: shift_length points in a row on one side of the centre (on it breaks).
    _, side_len = _run_lengths(side, first)
    shift = (side != 0) & (side_len >= shift_length)

    rule = np.full(n, NO_RULE, dtype=np.int8)
    direction = np.zeros(n, dtype=np.int8)
    for code, hit, sign in (
        (SHIFT, shift, side),
        (TWO_IN_3, two_in_three, side),
        (TREND, trend_dir != 0, trend_dir),
        (OUTSIDE, outside, np.where(above, 1, -1)),
    ):  # lowest precedence first: a later rule overwrites an earlier one
        rule[hit] = code
        direction[hit] = sign[hit]

    signed = direction * improvement
    types = np.full(n, COMMON, dtype=np.int8)
    types[signed > 0] = IMPROVING
    types[signed < 0] = CONCERNING
    neutral = (rule != NO_RULE) & (improvement == 0)
    types[neutral & (direction > 0)] = NEUTRAL_HIGH
    types[neutral & (direction < 0)] = NEUTRAL_LOW
    return rule, types, direction


def variation_icon(point_type: int, direction: int) -> str:
    """From the last point only: a special cause in the past shows common cause."""
    if point_type in _VARIATION_ICONS:
        return _VARIATION_ICONS[point_type]
    kind = "improvement" if point_type == IMPROVING else "concern"
    return f"{kind}_{'high' if direction > 0 else 'low'}"


def assurance_icon(
    improvement: int, target: float | None, lower: float | None, upper: float | None
) -> str | None:
    """From the last phase's limits and the target (strict comparisons)."""
    if target is None or improvement == 0 or lower is None or upper is None:
        return None
    if improvement > 0:
        return "fail" if target > upper else "pass" if target < lower else "hit_and_miss"
    return "fail" if target < lower else "pass" if target > upper else "hit_and_miss"
