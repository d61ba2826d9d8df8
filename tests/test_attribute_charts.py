"""p, u and c charts: qicharts2's limits, Making Data Count's rules and icons against each
point's own limits, and the properties every attribute chart must keep. No database needed."""

import json
import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from measures.attribute import c_chart, p_chart, u_chart

CASES = json.loads((Path(__file__).parent / "reference" / "spc-cases.json").read_text())["cases"]


def _close(ours, theirs) -> bool:
    if theirs is None or ours is None:
        return ours is None and theirs is None
    return ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def _limits(result):
    return [(p.lower, p.upper) for p in result.points]


def _rules(result):
    return [p.rule for p in result.points]


# --- The reference cases ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "key"),
    [
        pytest.param(case, key, id=f"{case['id']}-{key}")
        for case in CASES
        for key in ("p_chart", "p_chart_laney")
        if key in case
    ],
)
def test_every_reference_p_chart_matches_qicharts2(case, key):
    block = case[key]
    result = p_chart(case["numerators"], case["denominators"], **block["options"])
    expected = block["expected"]
    assert len(result.points) == len(expected["centre"])
    for name in ("centre", "lower", "upper"):
        for i, (point, theirs) in enumerate(zip(result.points, expected[name], strict=True)):
            assert _close(getattr(point, name), theirs), (name, i)
    assert [i for i, p in enumerate(result.points) if p.beyond] == expected["beyond"]


# --- p charts, worked by hand -------------------------------------------------------------
# 200 of 400 is p̄ = 0.5; with 100 in every subgroup σ = √(0.25 / 100) = 0.05, so the limits
# are 0.35 and 0.65.


def test_a_p_chart_centres_on_the_pooled_proportion_with_three_sigma_limits():
    result = p_chart([45, 55, 50, 50], [100] * 4)
    assert [g.centre for g in result.groups] == [0.5]
    assert [p.value for p in result.points] == [0.45, 0.55, 0.5, 0.5]
    for lower, upper in _limits(result):
        assert (lower, upper) == (pytest.approx(0.35), pytest.approx(0.65))


def test_each_point_gets_limits_from_its_own_denominator_clamped_to_zero_and_one():
    # 65 of 130 is 0.5 again. σ: 0.05 (n 100), 0.1 (n 25), 0.25 (n 4), 0.5 (n 1).
    result = p_chart([50, 12, 2, 1], [100, 25, 4, 1])
    expected = [(0.35, 0.65), (0.2, 0.8), (0.0, 1.0), (0.0, 1.0)]
    for (lower, upper), (low, high) in zip(_limits(result), expected, strict=True):
        assert (lower, upper) == (pytest.approx(low), pytest.approx(high))


def test_the_2_sigma_line_is_two_thirds_of_the_way_to_a_clamped_limit():
    # n = 4 and p̄ = 0.5: the limits 0.5 ± 0.75 clamp to 0 and 1, so the 2-sigma lines are at
    # 1/6 and 5/6 (not 0.5 ± 0.5, which would clamp to 0 and 1 as well and never be passed).
    # 0, 0, 0.25 is a window below the centre with two points close to the limit; so is
    # 1, 1, 0.75 above it. A point on a clamped limit is not beyond it.
    result = p_chart([0, 0, 1, 3, 2, 2, 4, 4, 3, 1], [4] * 10, improvement="increase")
    assert result.groups[0].centre == 0.5
    assert not any(p.beyond for p in result.points)
    close = "two_in_three"
    assert _rules(result) == [close, close, None, None, None, None, close, close, None, None]
    assert [p.point_type for p in result.points[:2]] == ["special_cause_concern"] * 2
    assert result.points[6].point_type == "special_cause_improvement"


def test_a_point_beyond_its_limit_is_a_special_cause_and_sets_the_icon():
    numerators = [50, 48, 52, 49, 51, 50, 47, 53, 50, 50, 49, 51, 80]
    result = p_chart(numerators, [100] * 13, improvement="increase")
    last = result.points[-1]
    assert last.beyond and last.rule == "outside_limits"
    assert last.point_type == "special_cause_improvement"
    assert result.variation_icon == "improvement_high"
    worse = p_chart(numerators, [100] * 13, improvement="decrease")
    assert worse.variation_icon == "concern_high"
    neutral = p_chart(numerators, [100] * 13)
    assert neutral.points[-1].point_type == "special_cause_neutral_high"
    assert neutral.variation_icon == "neutral_high"


def test_a_value_on_a_limit_is_not_beyond_it():
    # Every numerator 0: p̄ = 0, σ = 0, the limits sit on the centre and on every point.
    result = p_chart([0, 0, 0], [10, 20, 30], improvement="decrease")
    assert _limits(result) == [(0.0, 0.0)] * 3
    assert not any(p.beyond for p in result.points)
    assert set(_rules(result)) == {None} and result.variation_icon == "common_cause"


def test_every_subgroup_all_yes_gives_zero_width_limits_at_one():
    result = p_chart([5, 8], [5, 8])
    assert _limits(result) == [(1.0, 1.0)] * 2 and not result.signal


@pytest.mark.parametrize(
    ("improvement", "target", "icon"),
    [
        ("increase", 0.3, "pass"),
        ("increase", 0.7, "fail"),
        ("increase", 0.5, "hit_and_miss"),
        ("decrease", 0.7, "pass"),
        ("decrease", 0.3, "fail"),
        ("neutral", 0.3, None),
        ("increase", None, None),
    ],
)
def test_the_assurance_icon_reads_a_proportion_target_against_the_last_limits(
    improvement, target, icon
):
    result = p_chart([45, 55, 50, 50], [100] * 4, improvement=improvement, target=target)
    assert result.assurance_icon == icon


# --- Laney's p′ ---------------------------------------------------------------------------


def test_laney_widens_the_limits_by_the_spread_of_the_z_scores():
    # z = -1, 1, -1, 1: every moving range is 2, σz = 2 / 1.128.
    result = p_chart([45, 55, 45, 55], [100] * 4, laney=True)
    width = 3 * 0.05 * 2 / 1.128
    for lower, upper in _limits(result):
        assert (lower, upper) == (pytest.approx(0.5 - width), pytest.approx(0.5 + width))


def test_laney_screens_each_large_moving_range_of_z_once():
    # z = -1, 1 five times, then 9, -9 (numerators 50 + 5z; p̄ stays 0.5). The moving ranges:
    # nine 2s, 8 and 18, mean 4. Only 18 is not below 3.267 × 4, so σz = (18 + 8) / 10 / 1.128.
    numerators = [45, 55] * 5 + [95, 5]
    result = p_chart(numerators, [100] * 12, laney=True)
    width = 3 * 0.05 * 2.6 / 1.128
    assert result.points[0].upper == pytest.approx(0.5 + width)


def test_laney_limits_are_narrower_than_the_p_limits_for_under_dispersed_data():
    numerators = [49, 51] * 8
    plain = p_chart(numerators, [100] * 16)
    laney = p_chart(numerators, [100] * 16, laney=True)
    # z = ±0.2, moving ranges 0.4: σz = 0.4 / 1.128 ≈ 0.35, not floored at 1.
    assert laney.points[0].upper - 0.5 == pytest.approx((plain.points[0].upper - 0.5) * 0.4 / 1.128)


def test_laney_has_no_limits_where_z_is_undefined():
    assert _limits(p_chart([0, 0, 0], [5, 6, 7], laney=True)) == [(None, None)] * 3
    assert _limits(p_chart([3], [5], laney=True)) == [(None, None)]


def test_laney_leaves_out_the_moving_ranges_either_side_of_an_excluded_point():
    # z = -1, 1 five times, then 1, 3, (excluded), -3. The moving ranges touching the
    # excluded point are left out (qicharts2's NaN moving ranges), not bridged from 3 to -3,
    # so every moving range taken is 2 and σz = 2 / 1.128.
    numerators = [45, 55] * 5 + [65, 0, 35]
    denominators = [100] * 11 + [0, 100]
    result = p_chart(numerators, denominators, laney=True)
    assert result.groups[0].centre == pytest.approx(0.5)
    assert result.points[0].upper == pytest.approx(0.5 + 3 * 0.05 * 2 / 1.128)


# --- u and c charts -----------------------------------------------------------------------


def test_a_u_chart_per_thousand_bed_days_scales_values_centre_and_limits():
    # ū = 12 / 6000 = 0.002, 2 per 1,000; σ per 1,000: √2, 1 and √(2/3).
    result = u_chart([2, 4, 6], [1000, 2000, 3000], multiply=1000)
    assert result.groups[0].centre == pytest.approx(2.0)
    assert [p.value for p in result.points] == [pytest.approx(2.0)] * 3
    expected_upper = [2 + 3 * math.sqrt(2), 5.0, 2 + 3 * math.sqrt(2 / 3)]
    assert [p.upper for p in result.points] == [pytest.approx(u) for u in expected_upper]
    assert [p.lower for p in result.points] == [0.0] * 3


def test_numbers_from_the_database_may_be_decimals():
    plain = u_chart([2, 4, 6], [1000, 2000, 3000], multiply=1000, target=5)
    decimal = u_chart(
        [Decimal(2), Decimal(4), Decimal(6)],
        [Decimal("1000.0"), Decimal(2000), Decimal(3000)],
        multiply=Decimal(1000),
        target=Decimal(5),
    )
    assert decimal == plain


@pytest.mark.parametrize(
    ("improvement", "target", "icon"),
    [("decrease", 5, "pass"), ("increase", 5, "fail"), ("increase", 3, "hit_and_miss")],
)
def test_a_u_chart_target_is_read_on_the_scale_shown(improvement, target, icon):
    # The last point's limits per 1,000: 0 to 2 + 3√(2/3) ≈ 4.45.
    result = u_chart(
        [2, 4, 6], [1000, 2000, 3000], multiply=1000, improvement=improvement, target=target
    )
    assert result.assurance_icon == icon


def test_laney_u_prime_widens_the_u_limits_by_sigma_z():
    # ū = 1 per unit over 100 units: σ = 0.1; counts 90, 110 give z = -1, 1, σz = 2 / 1.128.
    result = u_chart([90, 110, 90, 110], [100] * 4, laney=True)
    width = 3 * 0.1 * 2 / 1.128
    assert _limits(result)[0] == (pytest.approx(1 - width), pytest.approx(1 + width))


def test_a_c_chart_has_limits_three_root_c_bar_either_side():
    result = c_chart([12, 16, 20, 16])
    assert result.groups[0].centre == 16
    assert _limits(result) == [(4.0, 28.0)] * 4


def test_a_c_chart_clamps_its_lower_limit_at_zero():
    assert _limits(c_chart([1, 0, 2, 1])) == [(0.0, 4.0)] * 4


def test_a_c_chart_flags_a_count_beyond_its_limit():
    result = c_chart([4] * 9 + [20], improvement="decrease")
    # c̄ = 5.6, upper 5.6 + 3√5.6 ≈ 12.7.
    assert result.points[-1].beyond and result.points[-1].rule == "outside_limits"
    assert result.variation_icon == "concern_high"


def test_a_c_chart_of_zeros_has_zero_width_limits_and_no_signal():
    result = c_chart([0, 0, 0, 0])
    assert _limits(result) == [(0.0, 0.0)] * 4 and not result.signal
    assert result.variation_icon == "common_cause"


# --- Zero denominators --------------------------------------------------------------------


def test_a_zero_denominator_is_excluded_from_limits_and_rules():
    result = p_chart([5, 0, 6], [10, 0, 12])
    excluded = result.points[1]
    assert excluded.excluded and excluded.value is None
    assert (excluded.lower, excluded.upper, excluded.beyond, excluded.rule) == (
        None,
        None,
        False,
        None,
    )
    assert excluded.point_type == "common_cause"
    assert result.groups[0].centre == pytest.approx(11 / 22)
    assert not result.points[0].excluded and result.points[0].upper is not None


def test_an_excluded_point_neither_adds_to_nor_breaks_a_shift():
    # Seven at 0.55 with a zero denominator among them, then seven at 0.45: p̄ = 0.5, every
    # point inside the 2-sigma lines (0.4 to 0.6), so the rule that fires is the shift.
    numerators = [55, 55, 55, 0, 55, 55, 55, 55] + [45] * 7
    denominators = [100, 100, 100, 0] + [100] * 11
    result = p_chart(numerators, denominators, improvement="increase")
    rules = _rules(result)
    assert rules[3] is None
    assert rules[:3] + rules[4:] == ["shift"] * 14
    # Anhøj: 14 useful points, one crossing (fewer than 4): a signal.
    assert result.signal and result.groups[0].signal


def test_the_icons_come_from_the_last_point_that_is_not_excluded():
    numerators = [50, 48, 52, 49, 51, 50, 47, 53, 50, 50, 49, 51, 80, 0]
    denominators = [100] * 13 + [0]
    result = p_chart(numerators, denominators, improvement="increase", target=0.99)
    assert result.points[-1].excluded
    assert result.variation_icon == "improvement_high"
    assert result.assurance_icon == "fail"


def test_zero_denominators_everywhere_give_an_empty_chart_not_an_error():
    result = p_chart([0, 0, 0], [0, 0, 0], improvement="increase", target=0.5)
    assert result.groups[0].centre is None
    assert all(p.excluded and p.centre is None for p in result.points)
    assert (result.variation_icon, result.assurance_icon, result.signal) == (None, None, False)


def test_a_u_chart_excludes_a_point_with_no_exposure():
    result = u_chart([3, 0, 5], [10.0, 0, 12.5])
    assert result.points[1].excluded and result.points[1].value is None
    assert result.groups[0].centre == pytest.approx(8 / 22.5)


# --- Degenerate input ---------------------------------------------------------------------


def test_an_empty_series_gives_an_empty_chart():
    for result in (p_chart([], []), u_chart([], []), c_chart([])):
        assert result.groups == [] and result.points == []
        assert (result.variation_icon, result.assurance_icon, result.signal) == (None, None, False)


def test_one_point_gets_limits_and_a_common_cause_icon():
    result = p_chart([3], [10], improvement="increase")
    [point] = result.points
    assert point.value == 0.3 and point.lower == 0.0
    assert point.upper == pytest.approx(0.3 + 3 * math.sqrt(0.21 / 10))
    assert result.variation_icon == "common_cause" and not result.signal


# --- Phases -------------------------------------------------------------------------------


def test_each_phase_has_its_own_centre_and_limits():
    result = p_chart([10, 12, 8, 40, 44, 36], [100] * 6, rebase_at=[3])
    assert [(g.start, g.end) for g in result.groups] == [(0, 3), (3, 6)]
    assert [g.centre for g in result.groups] == [pytest.approx(0.1), pytest.approx(0.4)]
    assert result.points[2].upper == pytest.approx(0.1 + 3 * math.sqrt(0.09 / 100))
    assert result.points[3].upper == pytest.approx(0.4 + 3 * math.sqrt(0.24 / 100))


def test_a_shift_does_not_run_across_a_new_phase():
    counts = [9, 11] * 3 + [10] + [12] * 7
    assert "shift" in _rules(c_chart(counts))
    assert "shift" not in _rules(c_chart(counts, rebase_at=[9]))


# --- Input errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: p_chart([1, 2], [3]), "Give one denominator for each numerator: there are 2 "),
        (lambda: u_chart([1], [3, 4]), "there are 1 count and 2 exposures"),
        (
            lambda: p_chart([1, 2, 3, 4, 12], [10] * 5),
            r"^Point 5: 12 is more than its denominator 10$",
        ),
        (lambda: p_chart([1, -2], [10, 10]), r"Point 2: the numerator cannot be negative \(-2\)"),
        (lambda: p_chart([1, 2], [10, -1]), "Point 2: the denominator cannot be negative"),
        (lambda: c_chart([3, -1]), "Point 2: the count cannot be negative"),
        (lambda: u_chart([1, 2], [1, -0.5]), r"the exposure cannot be negative \(-0.5\)"),
        (lambda: u_chart([1, 2], [1, 0]), r"Point 2: 2 counted with no exposure"),
        (lambda: p_chart([1, None], [2, 2]), "Point 2: the numerator must be a number, not None"),
        (lambda: c_chart([1, math.nan]), "Point 2: the count must be a number"),
        (lambda: c_chart([1, 2], improvement="up"), "must be increase, decrease or neutral"),
        (lambda: p_chart([1], [2], target=85), "between 0 and 1 .for 85% give 0.85."),
        (lambda: u_chart([1], [2], multiply=0), "The multiplier must be a positive number"),
        (lambda: c_chart([1, 2], rebase_at=[2]), "point 3 is not one"),
        (lambda: c_chart([1, 2], target="high"), "The target must be a number"),
    ],
)
def test_bad_input_gets_a_message_fit_to_show_a_person(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- Properties ---------------------------------------------------------------------------


@st.composite
def proportions(draw, min_size=1, max_size=30):
    denominators = draw(
        st.lists(st.integers(min_value=0, max_value=200), min_size=min_size, max_size=max_size)
    )
    numerators = [draw(st.integers(min_value=0, max_value=n)) for n in denominators]
    return numerators, denominators


@settings(max_examples=150, deadline=None)
@given(data=proportions(), laney=st.booleans())
def test_limits_are_symmetric_about_the_centre_until_clamped(data, laney):
    result = p_chart(*data, laney=laney)
    for point in result.points:
        if point.lower is None:
            continue
        assert 0 <= point.lower <= point.centre <= point.upper <= 1
        if point.lower > 0 and point.upper < 1:
            assert point.upper - point.centre == pytest.approx(point.centre - point.lower)
        elif point.lower == 0 and point.upper < 1:
            assert point.upper - point.centre >= point.centre - 1e-12
        elif point.upper == 1 and point.lower > 0:
            assert point.centre - point.lower >= 1 - point.centre - 1e-12


@settings(max_examples=100, deadline=None)
@given(first=proportions(), second=proportions(), data=st.data(), laney=st.booleans())
def test_changing_a_point_in_one_phase_never_changes_another_phase(first, second, data, laney):
    numerators = first[0] + second[0]
    denominators = first[1] + second[1]
    split = len(first[0])
    index = data.draw(st.integers(min_value=split, max_value=len(numerators) - 1))
    denominator = data.draw(st.integers(min_value=0, max_value=300))
    changed_den = list(denominators)
    changed_den[index] = denominator
    changed_num = list(numerators)
    changed_num[index] = data.draw(st.integers(min_value=0, max_value=denominator))
    before = p_chart(numerators, denominators, laney=laney, rebase_at=[split])
    after = p_chart(changed_num, changed_den, laney=laney, rebase_at=[split])
    assert before.points[:split] == after.points[:split]
    assert before.groups[0] == after.groups[0]


@settings(max_examples=100, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=25),
    data=st.data(),
    multiply=st.sampled_from([10, 100, 1000, 0.5]),
    laney=st.booleans(),
)
def test_multiplying_a_u_chart_scales_it_and_changes_no_rule(counts, data, multiply, laney):
    exposures = data.draw(
        st.lists(
            st.floats(min_value=0.5, max_value=500), min_size=len(counts), max_size=len(counts)
        )
    )
    plain = u_chart(counts, exposures, laney=laney, improvement="increase")
    scaled = u_chart(counts, exposures, laney=laney, improvement="increase", multiply=multiply)
    for ours, base in zip(scaled.points, plain.points, strict=True):
        for name in ("value", "centre", "lower", "upper"):
            if getattr(base, name) is None:
                assert getattr(ours, name) is None
            else:
                assert getattr(ours, name) == pytest.approx(getattr(base, name) * multiply)
        assert (ours.rule, ours.point_type, ours.beyond) == (
            base.rule,
            base.point_type,
            base.beyond,
        )
    assert (scaled.variation_icon, scaled.signal) == (plain.variation_icon, plain.signal)


@st.composite
def middling_proportions(draw):
    """Proportions near the middle from subgroups of 50 or more: limits rarely clamp."""
    denominators = draw(st.lists(st.integers(min_value=50, max_value=400), min_size=3, max_size=30))
    numerators = [
        draw(st.integers(min_value=n * 3 // 10, max_value=n * 7 // 10)) for n in denominators
    ]
    return numerators, denominators


@settings(max_examples=100, deadline=None)
@given(data=middling_proportions())
def test_laney_limits_are_the_p_limits_widened_by_one_factor_per_phase(data):
    plain = p_chart(*data)
    laney = p_chart(*data, laney=True)
    ratios = [
        (lp.upper - lp.centre) / (pp.upper - pp.centre)
        for pp, lp in zip(plain.points, laney.points, strict=True)
        if lp.upper is not None and lp.lower > 0 and lp.upper < 1
    ]
    assume(ratios)
    assert ratios == [pytest.approx(ratios[0])] * len(ratios)


@settings(max_examples=100, deadline=None)
@given(counts=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=30))
def test_a_c_chart_is_a_u_chart_with_every_exposure_one(counts):
    c = c_chart(counts, improvement="decrease")
    u = u_chart(counts, [1] * len(counts), improvement="decrease")
    assert c == u
