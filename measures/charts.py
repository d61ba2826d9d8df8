"""From a measure's rows to what its pages show: the chart's numbers and summary (stored as
JSON) and a Plotly figure in the Making Data Count look (shared/SPC.md §5).

Pure: plain values in, plain dicts out. The engine does the statistics; this module picks
the chart, lays out its phases and says what it found in Making Data Count's words.
"""

import html
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import plotly.graph_objects as go
import plotly.io

from fca.dates import format_date
from measures import spc

SHORT_PHASE = spc.SHORT_PHASE
OFFER_CONTROL_CHART_FROM = 20
# Below about ten points the run chart rules cannot signal: say so rather than "random".
RUN_CHART_MINIMUM = 10

COLOURS = {
    "common_cause": "#a6a6a6",
    "special_cause_improvement": "#00b0f0",
    "special_cause_concern": "#e46c0a",
    "special_cause_neutral_high": "#490092",
    "special_cause_neutral_low": "#490092",
}
# Shapes as well as colours, so a signal reads without colour vision and on a projector.
SYMBOLS = {
    "common_cause": "circle",
    "special_cause_improvement": "diamond",
    "special_cause_concern": "square",
    "special_cause_neutral_high": "triangle-up",
    "special_cause_neutral_low": "triangle-down",
}
POINT_TYPE_WORDS = {  # for each point, in the chart's hover text and the data table
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause: improving",
    "special_cause_concern": "Special cause: concerning",
    "special_cause_neutral_high": "Special cause: high",
    "special_cause_neutral_low": "Special cause: low",
}
VARIATION_WORDS = {
    "common_cause": "Common cause: no significant change",
    "improvement_high": "Special cause of improving nature: high",
    "improvement_low": "Special cause of improving nature: low",
    "concern_high": "Special cause of concerning nature: high",
    "concern_low": "Special cause of concerning nature: low",
    "neutral_high": "Special cause: high",
    "neutral_low": "Special cause: low",
}
ASSURANCE_WORDS = {
    "pass": "Variation indicates consistently passing the target",
    "fail": "Variation indicates consistently failing the target",
    "hit_and_miss": (
        "Variation indicates inconsistently hitting and missing the target "
        "(subject to random variation)"
    ),
}
RULE_WORDS = {
    "outside_limits": "outside the process limits",
    "trend": "in a run rising or falling",
    "two_in_three": "close to a process limit (two of three)",
    "shift": "in a run on one side of the mean",
}


@dataclass(frozen=True)
class Row:
    period: date
    value: float
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class Settings:
    """What the chart needs to know of its measure."""

    name: str
    unit: str
    frequency: str  # weekly or monthly
    shape: str  # value, proportion or rate
    chart_type: str  # run, xmr, p, u or c
    improvement: str
    target: float | None = None
    screen_outliers: bool = True
    rule_length: int = 7
    baseline_points: int | None = None
    laney: bool = False
    multiplier: int = 1


def period_words(frequency: str, period: date) -> str:
    if frequency == "weekly":
        return f"the week starting {format_date(period)}"
    return period.strftime("%B %Y")


def rebase_indices(periods: list[date], phase_starts: list[date]) -> list[int]:
    """Where each phase starts among the points: its first period on or after the date."""
    indices = []
    for start in phase_starts:
        index = next((i for i, p in enumerate(periods) if p >= start), None)
        if index:  # a phase at the first point, or after the last, changes nothing
            indices.append(index)
    return sorted(set(indices))


def compute(settings: Settings, rows: list[Row], phase_starts: list[date]) -> dict:
    """The chart's numbers, one entry per point and per phase, and its summary."""
    periods = [row.period for row in rows]
    rebase = rebase_indices(periods, phase_starts)
    chart_type = settings.chart_type
    if not rows:
        payload = _empty(chart_type)
    elif chart_type == "run":
        payload = _run(settings, rows, rebase)
    elif chart_type == "xmr":
        payload = _xmr(settings, rows, rebase)
    else:
        payload = _attribute(settings, rows, rebase)
    payload["n"] = len(rows)
    payload["periods"] = [p.isoformat() for p in periods]
    payload["target"] = settings.target
    last_phase = payload["phases"][-1] if payload["phases"] else None
    payload["phase_points"] = last_phase["end"] - last_phase["start"] if last_phase else 0
    payload["icons_ready"] = payload["phase_points"] >= SHORT_PHASE and chart_type != "run"
    payload["offer_control_chart"] = chart_type == "run" and len(rows) >= OFFER_CONTROL_CHART_FROM
    payload["summary"] = summary_sentence(settings, periods, payload)
    return payload


def _empty(chart_type: str) -> dict:
    return {
        "chart_type": chart_type,
        "phases": [],
        "points": [],
        "variation_icon": None,
        "assurance_icon": None,
    }


def _point(period, value, *, centre, lower=None, upper=None, rule=None, kind="common_cause"):
    return {
        "period": period.isoformat(),
        "value": value,
        "centre": centre,
        "lower": lower,
        "upper": upper,
        "rule": rule,
        "point_type": kind,
    }


def _run(settings: Settings, rows: list[Row], rebase: list[int]) -> dict:
    result = spc.run_chart(
        [row.value for row in rows], rebase_at=rebase, baseline=settings.baseline_points
    )
    points = []
    phases = []
    for phase in result.phases:
        signalled = set(phase.shift_points) | set(phase.trend_points)
        phases.append(
            {
                "start": phase.start,
                "end": phase.end,
                "centre": phase.median,
                "signal": phase.signal,
                "longest_run": phase.longest_run,
                "longest_run_limit": phase.longest_run_limit,
                "crossings": phase.crossings,
                "crossings_limit": phase.crossings_limit,
                "runs_verdict": phase.runs_verdict,
                "shift_points": list(phase.shift_points),
                "trend_points": list(phase.trend_points),
            }
        )
        for i in range(phase.start, phase.end):
            rule = (
                "shift" if i in phase.shift_points else "trend" if i in phase.trend_points else None
            )
            point = _point(rows[i].period, rows[i].value, centre=phase.median, rule=rule)
            point["signal"] = i in signalled
            points.append(point)
    return {
        "chart_type": "run",
        "phases": phases,
        "points": points,
        "variation_icon": None,
        "assurance_icon": None,
    }


def _xmr(settings: Settings, rows: list[Row], rebase: list[int]) -> dict:
    result = spc.xmr(
        [row.value for row in rows],
        improvement=settings.improvement,
        rebase_at=rebase,
        fix_after_n_points=settings.baseline_points,
        screen_outliers=settings.screen_outliers,
        target=settings.target,
        shift_length=settings.rule_length,
        trend_length=settings.rule_length,
    )
    points = []
    for group in result.groups:
        for i in range(group.start, group.end):
            p = result.points[i]
            points.append(
                _point(
                    rows[i].period,
                    rows[i].value,
                    centre=group.mean,
                    lower=group.lower,
                    upper=group.upper,
                    rule=p.rule,
                    kind=p.point_type,
                )
            )
    return {
        "chart_type": "xmr",
        "phases": [
            {
                "start": g.start,
                "end": g.end,
                "centre": g.mean,
                "lower": g.lower,
                "upper": g.upper,
                "mean_moving_range": g.mean_moving_range,
                "short": g.short,
            }
            for g in result.groups
        ],
        "points": points,
        "variation_icon": result.variation_icon,
        "assurance_icon": result.assurance_icon,
    }


def _attribute(settings: Settings, rows: list[Row], rebase: list[int]) -> dict:
    """p, u and c charts. Proportions are shown as percentages, rates per the multiplier."""
    common = {"improvement": settings.improvement, "rebase_at": rebase}
    if settings.chart_type == "p":
        scale = 100.0
        target = settings.target / 100 if settings.target is not None else None
        result = spc.p_chart(
            [row.numerator for row in rows],
            [row.denominator for row in rows],
            laney=settings.laney,
            target=target,
            **common,
        )
    elif settings.chart_type == "u":
        scale = 1.0
        result = spc.u_chart(
            [row.numerator for row in rows],
            [row.denominator for row in rows],
            multiply=settings.multiplier,
            laney=settings.laney,
            target=settings.target,
            **common,
        )
    else:
        scale = 1.0
        result = spc.c_chart([row.value for row in rows], target=settings.target, **common)

    def scaled(x):
        return None if x is None else x * scale

    points = []
    for row, p in zip(rows, result.points, strict=True):
        point = _point(
            row.period,
            row.value,
            centre=scaled(p.centre),
            lower=scaled(p.lower),
            upper=scaled(p.upper),
            rule=p.rule,
            kind=p.point_type,
        )
        point["excluded"] = p.excluded
        points.append(point)
    return {
        "chart_type": settings.chart_type,
        "phases": [
            {"start": g.start, "end": g.end, "centre": scaled(g.centre)} for g in result.groups
        ],
        "points": points,
        "variation_icon": result.variation_icon,
        "assurance_icon": result.assurance_icon,
        "signal": result.signal,
    }


def summary_sentence(settings: Settings, periods: list[date], payload: dict) -> str:
    """What the rules found, on how many points, up to which date; never a cause."""
    n = len(periods)
    if n == 0:
        return "No data yet."
    plural = "s" if n != 1 else ""
    points = f"{n} {settings.frequency} point{plural}"
    latest = period_words(settings.frequency, periods[-1])
    if payload["chart_type"] == "run":
        phase = payload["phases"][-1]
        if phase["signal"]:
            found = "A run chart signal (non-random variation)"
        elif phase["end"] - phase["start"] < RUN_CHART_MINIMUM:
            found = "Too few points yet to test for non-random variation"
        else:
            found = "No run chart signal (random variation only)"
        sentence = f"{found}, on {points}; the latest for {latest}."
        if payload["offer_control_chart"]:
            sentence += " There are enough points for a control chart with process limits."
        return sentence
    if payload["variation_icon"] is None or (
        payload["chart_type"] == "xmr" and payload["phases"][-1]["upper"] is None
    ):
        return (
            f"{points}, the latest for {latest}. The process limits cannot be calculated "
            "yet: they need at least two points that are not all the same."
        )
    if not payload["icons_ready"]:
        return (
            f"Not enough data yet ({payload['phase_points']} point"
            f"{'s' if payload['phase_points'] != 1 else ''} in this phase): "
            f"icons show from {SHORT_PHASE}. The latest point is for {latest}."
        )
    sentence = f"{VARIATION_WORDS[payload['variation_icon']]}, at the latest of {points} "
    sentence += f"({latest})."
    rules = Counter(p["rule"] for p in payload["points"] if p["rule"])
    if rules:
        parts = [f"{count} {RULE_WORDS[rule]}" for rule, count in sorted(rules.items())]
        total = sum(rules.values())
        sentence += (
            f" {total} point{'s' if total != 1 else ''} show special cause variation: "
            f"{', '.join(parts)}."
        )
    if payload["assurance_icon"]:
        sentence += f" {ASSURANCE_WORDS[payload['assurance_icon']]}."
    return sentence


def figure(settings: Settings, payload: dict, annotations: list[tuple[date, str]]) -> dict:
    """A Plotly figure: each phase its own line, centre and limits, so phases show as
    breaks; the target dashed red; notes as markers along the top.

    Written as the JSON Plotly's figure objects produce (with the default template), not
    through them: validating every property took most of a recompute's time.
    tests/test_chart_figure.py checks that Plotly reads each figure back unchanged."""
    # Plotly reads a subset of HTML in its text (links, bold): names and notes are text.
    name = html.escape(settings.name)
    day_format = "%d %b %Y" if settings.frequency == "weekly" else "%b %Y"
    centre_name = "Median" if payload["chart_type"] == "run" else "Mean"
    if payload["chart_type"] in ("p", "u", "c"):
        centre_name = "Centre line"
    traces = []
    first = True
    for phase in payload["phases"]:
        chunk = payload["points"][phase["start"] : phase["end"]]
        x = [p["period"] for p in chunk]
        kinds = [p["point_type"] for p in chunk]
        # A percentage of few patients is drawn pale, and says so, but still counts.
        few = [p.get("few") for p in chunk]
        words = [POINT_TYPE_WORDS[k] + (f" (only {n:g} patients)" if n else "")
                 for k, n in zip(kinds, few, strict=True)]  # fmt: skip
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": [p["value"] for p in chunk],
                "mode": "lines+markers",
                "name": name,
                "legendgroup": "values",
                "showlegend": first,
                "line": {"color": "#a6a6a6", "width": 2},
                "marker": {
                    "color": [
                        "#e8edee" if n else COLOURS[k] for k, n in zip(kinds, few, strict=True)
                    ],
                    "symbol": [SYMBOLS[k] for k in kinds],
                    "size": 9,
                    "line": {"color": "#425563", "width": 1},
                },
                "customdata": words,
                "hovertemplate": "%{x|" + day_format + "}: %{y}<br>%{customdata}<extra></extra>",
            }
        )
        traces.append(
            _line(x, [p["centre"] for p in chunk], centre_name, "#000000", "solid", first)
        )
        if any(p["upper"] is not None for p in chunk):
            shape = "hv" if payload["chart_type"] in ("p", "u") else "linear"
            for key, limit in (("upper", "Upper process limit"), ("lower", "Lower process limit")):
                traces.append(
                    _line(x, [p[key] for p in chunk], limit, "#768692", "dash", first, shape)
                )
        first = False
    if payload.get("provisional"):
        traces.append(
            {
                "type": "scatter",
                "x": [p["period"] for p in payload["provisional"]],
                "y": [p["value"] for p in payload["provisional"]],
                "mode": "markers",
                "name": "Provisional",
                "marker": {"color": "#ffffff", "size": 9,
                           "line": {"color": "#768692", "width": 2}},
                "hovertemplate": "%{x|" + day_format + "}: %{y}<br>Provisional<extra></extra>",
            }
        )  # fmt: skip
    if settings.target is not None and payload["points"]:
        x = [payload["points"][0]["period"], payload["points"][-1]["period"]]
        traces.append(_line(x, [settings.target] * 2, "Target", "#de1b1b", "dash", True))
    if payload["points"]:
        # A note or cycle outside the data would stretch the axis until the data is a strip:
        # those are listed under the chart instead.
        first_day = date.fromisoformat(payload["points"][0]["period"])
        last_period = date.fromisoformat(payload["points"][-1]["period"])
        last_day = last_period + timedelta(days=6 if settings.frequency == "weekly" else 30)
        annotations = [(on, t) for on, t in annotations if first_day <= on <= last_day]
    else:
        annotations = []
    layout = {
        "template": _template(),
        "margin": {"l": 56, "r": 16, "t": 32 + 18 * max(min(len(annotations), 3) - 1, 0),
                   "b": 48},
        "height": 400,
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "font": {"family": "Arial, sans-serif", "size": 14, "color": "#212b32"},
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {"showgrid": False, "linecolor": "#4c6272", "tickformat": day_format},
        "yaxis": {
            "title": {"text": html.escape(settings.unit) or name},
            "gridcolor": "#e8edee",
            "automargin": True,
        },
    }  # fmt: skip
    if annotations:
        # Each note a dotted line up the plot and its words above it, stepped up in three
        # rows, so notes a few points apart do not print over each other.
        layout["shapes"] = [
            {"type": "line", "x0": on.isoformat(), "x1": on.isoformat(), "xref": "x",
             "y0": 0, "y1": 1, "yref": "y domain",
             "line": {"color": "#005eb8", "width": 1, "dash": "dot"}}
            for on, _ in annotations
        ]  # fmt: skip
        layout["annotations"] = [
            {"x": on.isoformat(), "y": 1, "yref": "paper", "yshift": 18 * (i % 3),
             "text": html.escape(text if len(text) <= 28 else f"{text[:27]}…"),
             "hovertext": html.escape(text), "showarrow": False, "yanchor": "bottom",
             "font": {"size": 12, "color": "#005eb8"}}
            for i, (on, text) in enumerate(annotations)
        ]  # fmt: skip
    return {"data": traces, "layout": layout}


@cache
def _template_json() -> str:
    """Plotly's default template, as its figure objects write it into every figure."""
    empty = json.loads(plotly.io.to_json(go.Figure(), validate=False))
    return json.dumps(empty["layout"]["template"])


def _template() -> dict:
    return json.loads(_template_json())  # a copy of its own for each figure


def _line(x, y, name, colour, dash, legend, shape="linear") -> dict:
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "lines",
        "name": name,
        "legendgroup": name,
        "showlegend": legend,
        "line": {"color": colour, "width": 1.5, "dash": dash, "shape": shape},
        "hoverinfo": "skip",
    }
