"""The engine against every reference case computed by the NHS reference implementations
(shared/reference/spc-cases.json, copied to tests/reference)."""

import json
from pathlib import Path

import pytest

from measures import spc

CASES = json.loads((Path(__file__).parent / "reference" / "spc-cases.json").read_text())["cases"]
LIMIT_FIELDS = ("mean", "mean_moving_range", "lower", "upper", "lower_2sigma", "upper_2sigma")


def _close(ours, theirs) -> bool:
    if theirs is None or ours is None:
        return ours is None and theirs is None
    return ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("case", "block"),
    [
        pytest.param(case, block, id=f"{case['id']}-{n}")
        for case in CASES
        for n, block in enumerate(case["xmr"])
    ],
)
def test_xmr_matches_nhsrplotthedots(case, block):
    result = spc.xmr(case["values"], **block["options"])
    expected = block["expected"]
    assert len(result.groups) == len(expected["groups"])
    for ours, theirs in zip(result.groups, expected["groups"], strict=True):
        assert (ours.start, ours.end, ours.short) == (
            theirs["start"],
            theirs["end"],
            theirs["short"],
        )
        for name in LIMIT_FIELDS:
            assert _close(getattr(ours, name), theirs[name]), name
    labels = [(p.rule, p.point_type) for p in result.points]
    assert labels == [(p["rule"], p["point_type"]) for p in expected["points"]]
    assert result.variation_icon == expected["variation_icon"]
    assert result.assurance_icon == expected["assurance_icon"]
