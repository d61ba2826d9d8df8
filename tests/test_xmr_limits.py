"""The XmR slice against the NHS reference cases (NHSRplotthedots 0.2.2) in shared/reference."""

import json
from pathlib import Path

import pytest

from measures import spc

# A copy of shared/reference/spc-cases.json, so a fresh clone tests without shared/.
REFERENCE = Path(__file__).parent / "reference" / "spc-cases.json"


def _single_phase_cases():
    cases = json.loads(REFERENCE.read_text())["cases"]
    return [
        pytest.param(case, block, id=case["id"])
        for case in cases
        for block in case["xmr"]
        if not block["options"]["rebase_at"]
        and block["options"]["fix_after_n_points"] is None
        and block["options"]["target"] is None
    ]


@pytest.mark.parametrize(("case", "block"), _single_phase_cases())
def test_limits_and_points_outside_them_match_the_reference(case, block):
    options = block["options"]
    result = spc.xmr(
        case["values"],
        improvement=options["improvement"],
        screen_outliers=options["screen_outliers"],
    )
    [expected] = block["expected"]["groups"]
    [group] = result.groups
    for name in ("mean", "mean_moving_range", "lower", "upper", "lower_2sigma", "upper_2sigma"):
        assert getattr(group, name) == pytest.approx(expected[name], rel=1e-9, abs=1e-12), name
    assert (group.start, group.end, group.short) == (
        expected["start"],
        expected["end"],
        expected["short"],
    )
    for index, (ours, theirs) in enumerate(
        zip(result.points, block["expected"]["points"], strict=True)
    ):
        if theirs["rule"] == "outside_limits" or ours.rule == "outside_limits":
            assert (ours.rule, ours.point_type) == (theirs["rule"], theirs["point_type"]), index


def test_the_reference_cases_are_there():
    assert len(_single_phase_cases()) >= 3


def test_one_point_has_no_limits():
    [group] = spc.xmr([5.0]).groups
    assert group.mean == 5.0 and group.upper is None and group.lower is None
    assert spc.xmr([5.0]).points[0].point_type == "common_cause"


def test_a_constant_series_has_undefined_limits_and_no_signal():
    result = spc.xmr([3.0] * 20, improvement="increase")
    assert result.groups[0].upper is None
    assert {p.point_type for p in result.points} == {"common_cause"}


def test_two_plateaus_give_zero_width_limits_and_every_point_outside():
    result = spc.xmr([1.0] * 10 + [2.0] * 10, improvement="increase")
    group = result.groups[0]
    assert group.mean_moving_range == 0 and group.upper == group.lower == 1.5
    assert all(p.rule == "outside_limits" for p in result.points)


def test_screening_drops_large_moving_ranges_once():
    values = [10, 11, 10, 11, 10, 11, 10, 40, 10, 11, 10, 11, 10]
    screened = spc.xmr(values).groups[0]
    unscreened = spc.xmr(values, screen_outliers=False).groups[0]
    assert screened.mean_moving_range < unscreened.mean_moving_range
    assert screened.mean_moving_range == pytest.approx(1.0)


def test_an_unknown_direction_is_refused_with_a_message():
    with pytest.raises(ValueError, match="direction of improvement"):
        spc.xmr([1, 2, 3], improvement="sideways")
