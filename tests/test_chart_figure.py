"""The stored figure of a chart is written as plain JSON, not through Plotly's figure
objects (they spent most of a recompute validating): Plotly must read every such figure
back, each property checked, and write it out unchanged."""

import json
from datetime import date, timedelta

import plotly.graph_objects as go
import plotly.io
import pytest

from measures import charts


def _settings(**overrides):
    base = {"name": "Time to theatre", "unit": "hours", "frequency": "weekly",
            "shape": "value", "chart_type": "xmr", "improvement": "decrease"}  # fmt: skip
    return charts.Settings(**{**base, **overrides})


def _rows(values, start=date(2025, 1, 6), denominators=None):
    return [
        charts.Row(
            start + timedelta(weeks=i), v,
            *((v * denominators[i] / 100, denominators[i]) if denominators else ()),
        )
        for i, v in enumerate(values)
    ]  # fmt: skip


STEADY = [30, 31, 29, 30, 32, 29, 30, 31, 28, 30, 31, 29, 30, 33, 29, 30, 31, 29, 30, 31]
SHIFTED = STEADY + [20, 21, 19, 20, 21, 19, 20, 21, 19, 20, 21, 19, 20, 18]


def _case(settings, values, *, phases=(), notes=(), provisional=(), denominators=None):
    payload = charts.compute(settings, _rows(values, denominators=denominators), list(phases))
    payload["provisional"] = [
        {"period": (date(2026, 1, 5) + timedelta(weeks=i)).isoformat(), "value": v}
        for i, v in enumerate(provisional)
    ]
    return settings, payload, list(notes)


CASES = {
    "xmr with a target and a note": _case(
        _settings(target=25.0), STEADY, notes=[(date(2025, 2, 3), "Huddle moved to 8am")]
    ),
    "xmr in two phases, three notes stepped up": _case(
        _settings(),
        SHIFTED,
        phases=[date(2025, 5, 26)],
        notes=[
            (date(2025, 3, 3), "PDSA 1 started: a checklist on every ward round"),
            (date(2025, 3, 10), "PDSA 2"),
            (date(2025, 3, 17), "<b>bold</b> & more"),
        ],
    ),  # fmt: skip
    "run chart, monthly, no unit": _case(
        _settings(chart_type="run", unit="", frequency="monthly"), STEADY[:10]
    ),
    "p chart with few patients and provisional weeks": _case(
        _settings(shape="proportion", chart_type="p", unit="%"),
        STEADY,
        denominators=[4, 40, 40, 5] + [40] * 16,
        provisional=[31.0, 29.5],
    ),  # fmt: skip
    "no points": _case(_settings(), []),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_plotly_reads_the_figure_back_unchanged(case):
    figure = charts.figure(*case)
    # Validation on: an unknown property or a bad value raises.
    again = json.loads(plotly.io.to_json(go.Figure(figure), validate=True))
    assert again == figure


def test_each_figure_has_its_own_copy_of_the_template():
    one = charts.figure(*CASES["no points"])
    one["layout"]["template"]["layout"]["font"] = {"size": 99}
    assert charts.figure(*CASES["no points"])["layout"]["template"] != one["layout"]["template"]


def test_a_measure_without_a_unit_has_its_name_on_the_axis_and_every_line_of_values():
    settings, payload, notes = _case(_settings(unit=""), SHIFTED, phases=[date(2025, 5, 26)])
    figure = charts.figure(settings, payload, notes)
    assert figure["layout"]["yaxis"]["title"]["text"] == "Time to theatre"
    values = [t for t in figure["data"] if t.get("legendgroup") == "values"]
    assert [t["name"] for t in values] == ["Time to theatre", "Time to theatre"]
    assert [t["showlegend"] for t in values] == [True, False]


def test_notes_are_drawn_as_lines_with_their_words_in_three_rows():
    figure = charts.figure(*CASES["xmr in two phases, three notes stepped up"])
    layout = figure["layout"]
    assert [s["x0"] for s in layout["shapes"]] == ["2025-03-03", "2025-03-10", "2025-03-17"]
    assert [a["yshift"] for a in layout["annotations"]] == [0, 18, 36]
    assert layout["margin"]["t"] == 32 + 2 * 18
    assert layout["annotations"][0]["text"] == "PDSA 1 started: a checklist…"
    assert layout["annotations"][2]["hovertext"] == "&lt;b&gt;bold&lt;/b&gt; &amp; more"
