"""The XmR engine's rules, hand-worked, and the properties every chart must keep."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from measures import spc


def _labels(result):
    return [p.rule for p in result.points]


# --- Limits and degenerate input ----------------------------------------------------------


def test_one_point_has_a_mean_but_no_limits():
    [group] = spc.xmr([5.0]).groups
    assert group.mean == 5.0 and group.upper is None and group.mean_moving_range is None
    assert spc.xmr([5.0]).points[0].point_type == "common_cause"


def test_a_constant_series_has_undefined_limits_and_no_signal_from_them():
    result = spc.xmr([3.0] * 6, improvement="increase")
    assert result.groups[0].upper is None
    assert set(_labels(result)) == {None}
    assert result.variation_icon == "common_cause"


def test_two_plateaus_give_zero_width_limits_and_every_point_outside():
    result = spc.xmr([1.0] * 10 + [2.0] * 10, improvement="increase")
    group = result.groups[0]
    assert group.mean_moving_range == 0 and group.upper == group.lower == 1.5
    assert set(_labels(result)) == {"outside_limits"}
    assert result.variation_icon == "improvement_high"


def test_screening_drops_each_large_moving_range_once():
    values = [10, 11, 10, 11, 10, 11, 10, 40, 10, 11, 10, 11, 10]
    screened = spc.xmr(values).groups[0]
    unscreened = spc.xmr(values, screen_outliers=False).groups[0]
    assert unscreened.mean_moving_range == pytest.approx(sum([1] * 10 + [30, 30]) / 12)
    assert screened.mean_moving_range == pytest.approx(1.0)


def test_limits_use_2_66_and_two_thirds_of_it_for_the_2_sigma_lines():
    group = spc.xmr([1, 3, 2, 4, 3, 5], screen_outliers=False).groups[0]
    amr = (2 + 1 + 2 + 1 + 2) / 5
    assert group.upper == pytest.approx(3 + 2.66 * amr)
    assert group.upper_2sigma == pytest.approx(3 + 2 * 2.66 / 3 * amr)


def test_a_baseline_fixes_the_limits_on_the_first_n_points_of_each_phase():
    values = list(range(12)) + [100] * 8
    result = spc.xmr(values, fix_after_n_points=12)
    assert result.groups[0].mean == pytest.approx(5.5)
    assert result.points[-1].rule == "outside_limits"


def test_an_empty_series_gives_an_empty_chart():
    result = spc.xmr([])
    assert result.groups == [] and result.points == [] and result.variation_icon is None


# --- The rules ----------------------------------------------------------------------------
# A fixed baseline of 12 points (mean 10, every moving range 2) gives known limits:
# 10 ± 5.32 (4.68 to 15.32), and 2-sigma lines at 10 ± 3.5467 (6.4533 to 13.5467).
BASE = [9, 11] * 6
NOISE = [10, 12, 9, 11, 10, 12, 9, 11, 10, 12, 9, 11, 10, 12, 9, 11]


def _fixed(tail, **options):
    return spc.xmr(BASE + tail, fix_after_n_points=12, **options)


def test_the_fixed_baseline_gives_the_limits_worked_by_hand():
    group = _fixed([10]).groups[0]
    assert (group.mean, group.mean_moving_range) == (10, 2)
    assert group.upper == pytest.approx(15.32)
    assert group.upper_2sigma == pytest.approx(10 + 2 * 2.66 / 3 * 2)


def test_seven_points_above_the_mean_are_a_shift_and_one_on_the_mean_breaks_it():
    result = _fixed([10.5] * 7, improvement="increase")
    assert _labels(result)[12:] == ["shift"] * 7
    assert {p.point_type for p in result.points[12:]} == {"special_cause_improvement"}
    assert _labels(_fixed([11, 11, 11, 10, 11, 11, 11]))[12:] == [None] * 7


def test_seven_rising_points_are_a_trend_and_an_equal_pair_breaks_it():
    result = _fixed([6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5], improvement="decrease")
    assert _labels(result)[12:] == ["trend"] * 7
    assert {p.point_type for p in result.points[12:]} == {"special_cause_concern"}
    assert "trend" not in _labels(_fixed([6.5, 7.5, 8.5, 8.5, 9.5, 10.5, 11.5]))


def test_a_peak_shared_by_a_rise_and_a_fall_takes_the_direction_of_the_fall():
    result = _fixed([7, 8, 9, 10, 11, 12, 13, 12, 11, 10, 9, 8, 7], improvement="increase")
    assert _labels(result)[12:] == ["trend"] * 13
    assert result.points[17].direction == 1
    assert result.points[18].direction == -1  # the peak
    assert result.points[18].point_type == "special_cause_concern"


def test_the_last_point_of_a_rise_followed_by_an_equal_value_keeps_its_own_direction():
    # NHSRplotthedots labels this point as falling; the engine keeps it rising (SPC.md,
    # case tie_at_peak_quirk).
    result = _fixed([7, 8, 9, 10, 11, 12, 13, 13, 10, 11], improvement="increase")
    assert result.points[18].rule == "trend"
    assert result.points[18].direction == 1


def test_two_of_three_close_to_the_upper_limit_signal_only_the_close_points():
    assert _labels(_fixed([13.6, 11, 13.6]))[12:] == ["two_in_three", None, "two_in_three"]


def test_two_close_points_either_side_of_the_mean_are_not_two_in_three():
    assert _labels(_fixed([13.6, 9, 13.6]))[12:] == [None, None, None]


def test_mdc2023_counts_points_beyond_the_limits_towards_two_in_three():
    assert _labels(_fixed([13.6, 16, 9]))[12:] == [None, "outside_limits", None]
    mdc = _fixed([13.6, 16, 9], two_in_three="mdc2023")
    assert _labels(mdc)[12:] == ["two_in_three", "outside_limits", None]


def test_six_point_rules_are_an_option():
    six_above = [9] + [10.5] * 6 + [9]  # the baseline ends above the mean: start below
    assert "shift" not in _labels(_fixed(six_above))
    assert _labels(_fixed(six_above, shift_length=6))[13:] == ["shift"] * 6 + [None]
    rising = [6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 9]
    assert "trend" not in _labels(_fixed(rising))
    assert _labels(_fixed(rising, trend_length=6))[12:] == ["trend"] * 6 + [None]


def test_outside_the_limits_wins_over_every_other_rule():
    result = _fixed([7, 8, 9, 10, 11, 12, 16], improvement="increase")
    assert _labels(result)[12:] == ["trend"] * 6 + ["outside_limits"]
    assert result.variation_icon == "improvement_high"


def test_neutral_measures_signal_high_and_low_without_judging():
    result = spc.xmr(NOISE + [40], improvement="neutral")
    assert result.points[-1].point_type == "special_cause_neutral_high"
    assert result.variation_icon == "neutral_high"


def test_a_past_special_cause_with_a_common_cause_last_point_shows_common_cause():
    result = spc.xmr(NOISE[:8] + [40] + NOISE, improvement="increase")
    assert result.points[8].rule == "outside_limits"
    assert result.variation_icon == "common_cause"


@pytest.mark.parametrize(
    ("improvement", "target", "icon"),
    [
        ("increase", 20, "fail"),
        ("increase", 2, "pass"),
        ("increase", 10.5, "hit_and_miss"),
        ("decrease", 20, "pass"),
        ("decrease", 2, "fail"),
        ("neutral", 2, None),
        ("increase", None, None),
    ],
)
def test_the_assurance_icon_compares_the_target_with_the_last_phases_limits(
    improvement, target, icon
):
    assert spc.xmr(NOISE, improvement=improvement, target=target).assurance_icon == icon


# --- Phases -------------------------------------------------------------------------------


def test_a_new_phase_gets_its_own_limits_and_runs_never_cross_into_it():
    values = [10, 11, 12, 13, 14, 15] + [16, 17, 18, 19, 20, 21]
    result = spc.xmr(values, rebase_at=[6], screen_outliers=False)
    assert [(g.start, g.end) for g in result.groups] == [(0, 6), (6, 12)]
    assert "trend" not in _labels(result)  # six rising in each phase, twelve overall
    assert result.groups[1].mean == pytest.approx(18.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"improvement": "sideways"}, "direction of improvement"),
        ({"fix_after_n_points": 11}, "A baseline needs at least 12 points"),
        ({"rebase_at": [20]}, "point 21 is not one"),
        ({"rebase_at": [0]}, "point 1 is not one"),
        ({"shift_length": 5}, "shift length must be 6 or 7"),
        ({"two_in_three": "nhs"}, "two-in-three rule"),
    ],
)
def test_invalid_options_are_refused_with_a_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        spc.xmr(NOISE, **kwargs)


@pytest.mark.parametrize("bad", [[1.0, None, 3.0], [1.0, math.nan], ["a", 2]])
def test_gaps_and_text_are_refused(bad):
    with pytest.raises(ValueError, match="number"):
        spc.xmr(bad)


# --- Many series at once, and properties --------------------------------------------------


def test_many_series_at_once_give_what_each_gives_alone():
    rng = np.random.default_rng(7)
    series = [rng.normal(50, 5, size=n).round(1).tolist() for n in (1, 2, 13, 30, 52)]
    options = [{"improvement": "increase", "target": 55}, {}, {"rebase_at": [6]}, {}, {}]
    together = spc.xmr_many(series, options, screen_outliers=True)
    for values, opts, result in zip(series, options, together, strict=True):
        alone = spc.xmr(values, screen_outliers=True, **opts)
        assert result.groups == alone.groups
        assert result.points == alone.points
        assert (result.variation_icon, result.assurance_icon) == (
            alone.variation_icon,
            alone.assurance_icon,
        )


values_strategy = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 2)),
    min_size=2,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(values=values_strategy)
def test_limits_are_symmetric_about_the_mean(values):
    for group in spc.xmr(values).groups:
        if group.upper is not None:
            assert group.upper - group.mean == pytest.approx(group.mean - group.lower, abs=1e-6)
            assert group.lower <= group.lower_2sigma <= group.mean <= group.upper_2sigma


@settings(max_examples=100, deadline=None)
@given(values=values_strategy, data=st.data())
def test_a_change_in_one_phase_never_reaches_another(values, data):
    if len(values) < 4:
        return
    cut = data.draw(st.integers(min_value=1, max_value=len(values) - 1))
    changed = list(values)
    changed[cut:] = [v + 1000 for v in changed[cut:]]
    first = spc.xmr(values, rebase_at=[cut], improvement="increase")
    second = spc.xmr(changed, rebase_at=[cut], improvement="increase")
    assert first.groups[0] == second.groups[0]
    assert first.points[:cut] == second.points[:cut]


@settings(max_examples=60, deadline=None)
@given(a=values_strategy, b=values_strategy)
def test_adding_a_point_to_another_measure_changes_nothing_here(a, b):
    before = spc.xmr_many([a, b], improvement="decrease")[0]
    after = spc.xmr_many([a, [*b, 123.0]], improvement="decrease")[0]
    assert before.groups == after.groups and before.points == after.points
