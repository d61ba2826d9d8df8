"""Turning the engine's results into what pages show: a stored summary and a Plotly figure
in the Making Data Count look (shared/SPC.md §5)."""

import json
from collections import Counter
from datetime import date

import plotly.graph_objects as go
import plotly.io

from fca.dates import format_date
from measures.spc import XmrResult

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
POINT_TYPE_WORDS = {  # for each point, in the chart's hover text
    "common_cause": "common cause",
    "special_cause_improvement": "special cause of improving nature",
    "special_cause_concern": "special cause of concerning nature",
    "special_cause_neutral_high": "special cause, high",
    "special_cause_neutral_low": "special cause, low",
}


def _period_words(measure, period: date) -> str:
    if measure.frequency == "weekly":
        return f"the week starting {format_date(period)}"
    return period.strftime("%B %Y")


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


def summary_sentence(measure, periods: list[date], result: XmrResult) -> str:
    """What the rules found, on how many points, up to which date; never a cause."""
    n = len(periods)
    if n == 0:
        return "No data yet."
    frequency = "weekly" if measure.frequency == "weekly" else "monthly"
    latest = _period_words(measure, periods[-1])
    if result.groups[-1].upper is None:
        return (
            f"{n} {frequency} point{'s' if n != 1 else ''}, the latest for {latest}. "
            "The process limits cannot be calculated yet: they need at least two points "
            "that are not all the same."
        )
    sentence = f"{VARIATION_WORDS[result.variation_icon]}, at the latest of {n} {frequency} "
    sentence += f"points ({latest})."
    rules = Counter(p.rule for p in result.points if p.rule)
    if rules:
        parts = [f"{count} {RULE_WORDS[rule]}" for rule, count in sorted(rules.items())]
        total = sum(rules.values())
        sentence += (
            f" {total} point{'s' if total != 1 else ''} show special cause variation: "
            f"{', '.join(parts)}."
        )
    if result.assurance_icon:
        sentence += f" {ASSURANCE_WORDS[result.assurance_icon]}."
    if result.groups[-1].short:
        sentence += " Fewer than 13 points: read the limits with caution."
    return sentence


def xmr_payload(measure, periods: list[date], values: list[float], result: XmrResult) -> dict:
    group = result.groups[0] if result.groups else None
    return {
        "chart_type": "xmr",
        "n": len(values),
        "summary": summary_sentence(measure, periods, result),
        "mean": group.mean if group else None,
        "lower": group.lower if group else None,
        "upper": group.upper if group else None,
        "mean_moving_range": group.mean_moving_range if group else None,
        "short": group.short if group else True,
        "points": [
            {
                "period": period.isoformat(),
                "value": value,
                "rule": point.rule,
                "point_type": point.point_type,
            }
            for period, value, point in zip(periods, values, result.points, strict=True)
        ],
    }


def xmr_figure(measure, periods: list[date], values: list[float], result: XmrResult) -> dict:
    x = [period.isoformat() for period in periods]
    kinds = [point.point_type for point in result.points]
    unit = f" ({measure.unit})" if measure.unit else ""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=values,
            mode="lines+markers",
            name=measure.name,
            line={"color": "#a6a6a6", "width": 2},
            marker={
                "color": [COLOURS[k] for k in kinds],
                "symbol": [SYMBOLS[k] for k in kinds],
                "size": 9,
                "line": {"color": "#425563", "width": 1},
            },
            customdata=[POINT_TYPE_WORDS[k] for k in kinds],
            hovertemplate="%{x|%d %b %Y}: %{y}<br>%{customdata}<extra></extra>",
        )
    )
    group = result.groups[0] if result.groups else None
    if group is not None and group.mean is not None and x:
        fig.add_trace(_line(x, group.mean, "Mean", "#000000", "solid"))
    if group is not None and group.upper is not None:
        fig.add_trace(_line(x, group.upper, "Upper process limit", "#768692", "dash"))
        fig.add_trace(_line(x, group.lower, "Lower process limit", "#768692", "dash"))
    fig.update_layout(
        margin={"l": 56, "r": 16, "t": 16, "b": 48},
        height=380,
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        font={"family": "Arial, sans-serif", "size": 14, "color": "#212b32"},
        legend={"orientation": "h", "y": -0.2},
        xaxis={"showgrid": False, "linecolor": "#4c6272", "tickformat": "%b %Y"},
        yaxis={"title": {"text": f"{measure.name}{unit}"}, "gridcolor": "#e8edee"},
    )
    # Through JSON, so the stored figure holds only plain types (no numpy arrays).
    return json.loads(plotly.io.to_json(fig, validate=False))


def _line(x: list[str], y: float, name: str, colour: str, dash: str) -> go.Scatter:
    return go.Scatter(
        x=[x[0], x[-1]],
        y=[y, y],
        mode="lines",
        name=name,
        line={"color": colour, "width": 1.5, "dash": dash},
        hoverinfo="skip",
    )
