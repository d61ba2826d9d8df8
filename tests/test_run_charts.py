"""Run charts: Anhøj's rules as qicharts2 gives them, the IHI rules worked by hand, and the
properties every run chart must keep. No database needed."""

import itertools
import json
import math
from dataclasses import asdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from measures import runcharts
from measures.runcharts import run_chart

CASES = json.loads((Path(__file__).parent / "reference" / "spc-cases.json").read_text())["cases"]


def _phase(values, **options):
    [phase] = run_chart(values, **options).phases
    return phase


# --- The reference cases ------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=case["id"]) for case in CASES if "run_chart" in case],
)
def test_every_reference_run_chart_matches_qicharts2_and_the_ihi_rules(case):
    block = case["run_chart"]
    result = run_chart(case["values"], **block["options"])
    expected = block["expected"]["phases"]
    assert len(result.phases) == len(expected)
    for ours, theirs in zip(result.phases, expected, strict=True):
        ours = asdict(ours)
        assert ours["median"] == pytest.approx(theirs["median"], rel=1e-9)
        assert {k: v for k, v in ours.items() if k != "median"} == {
            k: v for k, v in theirs.items() if k != "median"
        }


# --- Anhøj's rules ------------------------------------------------------------------------


def test_points_on_the_median_are_dropped_before_runs_and_crossings_are_counted():
    # Median 5: the two 5s are not useful; the 9s either side of one are a single run.
    phase = _phase([9, 9, 5, 9, 1, 1, 5, 1, 9])
    assert phase.median == 5
    assert phase.n_useful == 7
    assert phase.longest_run == 3
    assert phase.crossings == 2
    assert phase.runs == 3


def test_the_longest_run_limit_is_log2_of_the_useful_points_rounded_plus_three():
    limits = {n: runcharts.longest_run_limit(n) for n in (1, 2, 10, 14, 20, 30, 36, 100)}
    assert limits == {1: 3, 2: 4, 10: 6, 14: 7, 20: 7, 30: 8, 36: 8, 100: 10}


def test_the_crossings_limit_is_r_qbinom_of_5_percent_worked_exactly():
    # qbinom(0.05, n - 1, 0.5) in R for these n.
    expected = {1: 0, 2: 0, 5: 0, 6: 1, 10: 2, 12: 3, 14: 4, 20: 6, 26: 8, 30: 10, 36: 13}
    assert {n: runcharts.crossings_limit(n) for n in expected} == expected


def test_the_crossings_limit_agrees_with_a_plain_sum_of_binomial_probabilities():
    for n in range(1, 200):
        m = n - 1
        cdf, k = Fraction(0), -1
        while cdf < Fraction(1, 20):
            k += 1
            cdf += Fraction(math.comb(m, k), 2**m)
        assert runcharts.crossings_limit(n) == k, n


def test_a_long_run_on_one_side_signals_for_the_whole_phase():
    phase = _phase([1, 2] * 5 + [3] * 8 + [1, 2])
    assert phase.longest_run == 8 and phase.longest_run_limit == 7
    assert phase.signal


def test_too_few_crossings_signal_even_when_no_run_is_too_long():
    # 20 useful points in runs of 5: longest 5 (limit 7) but 3 crossings (limit 6).
    phase = _phase(([1] * 5 + [9] * 5) * 2)
    assert (phase.longest_run, phase.crossings, phase.crossings_limit) == (5, 3, 6)
    assert phase.signal


def test_random_looking_data_gives_no_signal():
    phase = _phase([3, 4, 7, 8, 2, 6, 5, 9, 1, 2, 7, 8, 4, 6])
    assert (phase.median, phase.longest_run, phase.runs) == (5.5, 2, 10)
    assert not phase.signal and phase.runs_verdict is None


# --- IHI: shifts --------------------------------------------------------------------------


def test_six_points_on_one_side_are_a_shift_and_a_point_on_the_median_does_not_break_it():
    # Median 5 (the 8th of 15 sorted values). Index 3 is on the median, between two runs of
    # three 9s: six points above, a shift; the on-median point itself is not flagged.
    values = [9, 9, 9, 5, 9, 9, 9, 1, 1, 1, 1, 1, 1, 1, 5]
    phase = _phase(values)
    assert phase.median == 5
    assert phase.shift_points == [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]


def test_five_points_on_one_side_are_not_a_shift_even_around_a_point_on_the_median():
    values = [9, 9, 5, 9, 9, 9, 1, 1, 9, 1, 1, 1, 1, 1, 5]
    phase = _phase(values)
    assert phase.median == 5
    assert phase.shift_points == []


def test_a_shift_is_counted_in_useful_points_not_in_calendar_points():
    # Six above with two on the median among them: still six useful points, a shift.
    values = [1, 1, 1, 1, 1, 1, 1, 9, 5, 9, 9, 5, 9, 9, 9]
    phase = _phase(values)
    assert phase.median == 5
    assert phase.shift_points == [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13, 14]


# --- IHI: trends --------------------------------------------------------------------------


def test_five_points_going_up_are_a_trend_whatever_the_median():
    phase = _phase([5, 5, 5, 1, 2, 3, 4, 5, 5, 5, 5])
    assert phase.trend_points == [3, 4, 5, 6, 7, 8, 9, 10]


def test_four_points_going_down_are_not_a_trend():
    assert _phase([4, 3, 2, 1, 9, 9]).trend_points == []


def test_equal_consecutive_values_count_as_one_point_of_a_trend():
    # 1, 2, 2, 3, 4: only four distinct steps' worth, so no trend...
    assert _phase([1, 2, 2, 3, 4]).trend_points == []
    # ...but 1, 2, 2, 3, 4, 5 is five going up, and both 2s belong to it.
    assert _phase([1, 2, 2, 3, 4, 5]).trend_points == [0, 1, 2, 3, 4, 5]


def test_a_tie_does_not_break_a_trend_that_goes_on_the_same_way():
    assert _phase([9, 8, 8, 8, 7, 6, 5, 9]).trend_points == [0, 1, 2, 3, 4, 5, 6]


def test_a_peak_belongs_to_both_the_rise_and_the_fall():
    values = [1, 2, 3, 4, 5, 4, 3, 2, 1]
    assert _phase(values).trend_points == list(range(9))


def test_a_change_of_direction_ends_a_trend():
    # Up 4 steps but broken after 3 by a fall: 1, 2, 3, 4 then 3 then 4, 5.
    assert _phase([1, 2, 3, 4, 3, 4, 5]).trend_points == []


# --- IHI: the runs test -------------------------------------------------------------------


def test_ten_useful_points_take_two_runs_as_too_few_and_ten_as_too_many():
    # n1 = n2 = 5: C(10, 5) = 252 arrangements; 2 of them have 2 runs (P = 0.8 %), 10 have
    # 3 or fewer (4.0 %); by symmetry 2 have 10 runs and 10 have 9 or more.
    assert runcharts.runs_verdict(10, 2) == "too_few"
    assert runcharts.runs_verdict(10, 3) is None
    assert runcharts.runs_verdict(10, 9) is None
    assert runcharts.runs_verdict(10, 10) == "too_many"


@pytest.mark.parametrize("n", range(1, 15))
def test_the_runs_verdict_agrees_with_counting_every_arrangement(n):
    # Every way to place n // 2 points below and the rest above, and the runs in each.
    runs_of = []
    for below in itertools.combinations(range(n), n // 2):
        sides = [i in below for i in range(n)]
        runs_of.append(1 + sum(a != b for a, b in zip(sides, sides[1:], strict=False)))
    total = len(runs_of)
    for runs in range(1, n + 1):
        few = Fraction(sum(r <= runs for r in runs_of), total) <= Fraction(1, 40)
        many = Fraction(sum(r >= runs for r in runs_of), total) <= Fraction(1, 40)
        expected = "too_few" if few else "too_many" if many else None
        assert runcharts.runs_verdict(n, runs) == expected, runs


def test_perfect_alternation_of_ten_points_is_too_many_runs_but_no_anhoej_signal():
    phase = _phase([1, 3] * 5)
    assert phase.runs == 10 and phase.runs_verdict == "too_many"
    assert not phase.signal


def test_eight_points_are_too_few_for_any_verdict_but_all_on_one_side():
    # n1 = n2 = 4: C(8, 4) = 70; two runs and eight runs each have P = 2/70 = 2.9 % > 2.5 %.
    assert runcharts.runs_verdict(8, 2) is None
    assert runcharts.runs_verdict(8, 8) is None
    assert runcharts.runs_verdict(8, 1) == "too_few"


def test_the_runs_verdict_uses_the_floor_and_ceiling_split_of_an_odd_count():
    # n = 9: n1 = 4, n2 = 5, C(9, 4) = 126. Nine runs: 1 arrangement (0.8 %), too many;
    # eight or more: 1 + 6 = 7 (5.6 %), not. Two runs: 2 (1.6 %), too few; three: 2 + 7.
    assert runcharts.runs_verdict(9, 9) == "too_many"
    assert runcharts.runs_verdict(9, 8) is None
    assert runcharts.runs_verdict(9, 2) == "too_few"
    assert runcharts.runs_verdict(9, 3) is None


def test_the_runs_verdict_matches_the_published_critical_values_at_twenty_points():
    # Swed and Eisenhart, n1 = n2 = 10, 5 % two-sided: too few at 6 or fewer, too many at
    # 16 or more.
    verdicts = {r: runcharts.runs_verdict(20, r) for r in range(2, 21)}
    assert [r for r, v in verdicts.items() if v == "too_few"] == [2, 3, 4, 5, 6]
    assert [r for r, v in verdicts.items() if v == "too_many"] == [16, 17, 18, 19, 20]


# --- Phases and baselines -----------------------------------------------------------------


def test_each_phase_has_its_own_median_and_rules():
    values = [1, 2, 3, 4, 5, 6] + [50, 60, 40, 70]
    result = run_chart(values, rebase_at=[6])
    first, second = result.phases
    assert (first.start, first.end, first.median) == (0, 6, 3.5)
    assert (second.start, second.end, second.median) == (6, 10, 55.0)
    assert first.trend_points == [0, 1, 2, 3, 4, 5]
    assert second.trend_points == []


def test_a_trend_does_not_run_across_a_new_phase():
    result = run_chart([1, 2, 3, 4, 5, 6], rebase_at=[3])
    assert [p.trend_points for p in result.phases] == [[], []]


def test_a_baseline_fixes_the_median_on_the_first_points_of_each_phase():
    values = [1, 2] * 6 + [10] * 8
    phase = _phase(values, baseline=12)
    assert phase.median == 1.5
    assert phase.n_useful == 20
    # The baseline's last point (2) is above 1.5 too: a run of nine from point 11.
    assert phase.shift_points == list(range(11, 20))
    assert phase.signal


def test_a_baseline_longer_than_a_phase_takes_the_whole_phase():
    phase = _phase([3, 1, 2], baseline=12)
    assert phase.median == 2


@pytest.mark.parametrize("baseline", [0, 5, 11, True, 12.0, "12"])
def test_a_baseline_of_fewer_than_twelve_points_is_refused(baseline):
    with pytest.raises(ValueError, match="A baseline needs at least 12 points"):
        run_chart(list(range(20)), baseline=baseline)


@pytest.mark.parametrize("index", [0, 5, -1])
def test_a_new_phase_must_start_inside_the_data_and_the_message_names_the_point(index):
    with pytest.raises(ValueError, match=rf"point {index + 1} is not one \(the data has 5"):
        run_chart([1, 2, 3, 4, 5], rebase_at=[index])


def test_a_repeated_rebase_point_makes_one_new_phase():
    assert len(run_chart([1, 2, 3, 4], rebase_at=[2, 2]).phases) == 2


# --- Input and degenerate series ----------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, None, 3], "Point 2: the value must be a number, not None"),
        ([1, 2, math.nan], "Point 3: the value must be a number, not nan"),
        ([math.inf], "Point 1: the value must be a number, not inf"),
        (["4", 5], "Point 1: the value must be a number, not '4'"),
    ],
)
def test_a_gap_or_anything_but_a_number_is_refused_naming_the_point(values, message):
    with pytest.raises(ValueError, match=message):
        run_chart(values)


def test_decimal_values_from_the_database_are_numbers():
    assert _phase([Decimal("1.5"), Decimal("2.5"), Decimal("3.5")]).median == 2.5


def test_an_empty_series_has_no_phases():
    assert run_chart([]).phases == []


def test_one_point_has_a_median_and_no_useful_points():
    phase = _phase([7.0])
    assert phase.median == 7.0 and phase.n_useful == 0
    assert (phase.longest_run, phase.longest_run_limit) == (0, None)
    assert (phase.crossings, phase.crossings_limit, phase.runs) == (0, None, 0)
    assert not phase.signal and phase.runs_verdict is None


def test_a_constant_series_has_no_useful_points_and_no_signal():
    phase = _phase([4.0] * 20)
    assert phase.n_useful == 0 and not phase.signal
    assert phase.shift_points == [] and phase.trend_points == []
    assert phase.runs == 0 and phase.runs_verdict is None


def test_two_useful_points_on_either_side_are_two_runs_and_no_verdict():
    phase = _phase([1.0, 3.0])
    assert (phase.n_useful, phase.crossings, phase.runs) == (2, 1, 2)
    assert phase.crossings_limit == 0 and not phase.signal and phase.runs_verdict is None


# --- Properties ---------------------------------------------------------------------------

small_values = st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(values=small_values)
def test_useful_points_runs_and_crossings_are_consistent(values):
    phase = _phase(values)
    on_median = sum(v == phase.median for v in values)
    assert phase.n_useful + on_median == len(values)
    if phase.n_useful:
        assert phase.runs == phase.crossings + 1
        assert 1 <= phase.longest_run <= phase.n_useful
        assert phase.crossings <= phase.n_useful - 1
    assert set(phase.shift_points) <= {i for i, v in enumerate(values) if v != phase.median}
    assert phase.signal == bool(
        phase.n_useful
        and (phase.longest_run > phase.longest_run_limit or phase.crossings < phase.crossings_limit)
    )


@settings(max_examples=150, deadline=None)
@given(values=small_values)
def test_reading_a_series_backwards_or_upside_down_finds_the_same_runs(values):
    forward = _phase(values)
    backward = _phase(values[::-1])
    flipped = _phase([-v for v in values])
    for other in (backward, flipped):
        assert (other.n_useful, other.longest_run, other.crossings, other.runs_verdict) == (
            forward.n_useful,
            forward.longest_run,
            forward.crossings,
            forward.runs_verdict,
        )
        assert len(other.shift_points) == len(forward.shift_points)
        assert len(other.trend_points) == len(forward.trend_points)


@settings(max_examples=100, deadline=None)
@given(a=small_values, b=small_values, data=st.data())
def test_changing_a_point_in_one_phase_never_changes_another_phase(a, b, data):
    index = data.draw(st.integers(min_value=0, max_value=len(b) - 1))
    changed = list(b)
    changed[index] = data.draw(st.integers(min_value=-5, max_value=20))
    before = run_chart(a + b, rebase_at=[len(a)]).phases[0]
    after = run_chart(a + changed, rebase_at=[len(a)]).phases[0]
    assert before == after
    alone = _phase(b)
    second = run_chart(a + b, rebase_at=[len(a)]).phases[1]
    shift = len(a)
    assert second.median == alone.median
    assert second.shift_points == [i + shift for i in alone.shift_points]
    assert second.trend_points == [i + shift for i in alone.trend_points]


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=1, max_value=80), data=st.data())
def test_the_runs_verdict_is_never_both_and_mirrors_for_an_even_split(n, data):
    runs = data.draw(st.integers(min_value=1, max_value=n))
    verdict = runcharts.runs_verdict(n, runs)
    assert verdict in (None, "too_few", "too_many")
    if n % 2 == 0 and runs >= 2:
        # With n1 = n2 the number of runs is distributed symmetrically about n / 2 + 1.
        mirror = {"too_few": "too_many", "too_many": "too_few", None: None}
        assert runcharts.runs_verdict(n, n + 2 - runs) == mirror[verdict]
