"""Making Data Count's variation and assurance icons, drawn as inline SVG (SPC.md §5).

Each icon is a round badge whose ring colour, dots and letter say what it means, so it
reads without colour too; its words are its accessible name."""

import functools

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from measures.charts import ASSURANCE_WORDS, POINT_TYPE_WORDS, RULE_WORDS, VARIATION_WORDS

register = template.Library()

GREY, BLUE, ORANGE, PURPLE, RED = "#a6a6a6", "#00b0f0", "#e46c0a", "#490092", "#de1b1b"
_VARIATION = {
    "common_cause": (GREY, ""),
    "improvement_high": (BLUE, "H"),
    "improvement_low": (BLUE, "L"),
    "concern_high": (ORANGE, "H"),
    "concern_low": (ORANGE, "L"),
    "neutral_high": (PURPLE, "H"),
    "neutral_low": (PURPLE, "L"),
}
_ASSURANCE = {"pass": (BLUE, "P", 34), "fail": (ORANGE, "F", 16), "hit_and_miss": (GREY, "?", 25)}


def _badge(colour: str, words: str, inner: SafeString, size: int) -> SafeString:
    return format_html(
        '<svg class="app-icon" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 50 50" '
        'width="{}" height="{}" role="img" aria-label="{}" focusable="false">'
        "<title>{}</title>"
        '<circle cx="25" cy="25" r="22" fill="#ffffff" stroke="{}" stroke-width="4"/>{}</svg>',
        size,
        size,
        words,
        words,
        colour,
        inner,
    )


@register.simple_tag
def variation_icon(code: str | None, size: int = 44) -> SafeString:
    return _variation_icon(code, size)


@register.simple_tag
def assurance_icon(code: str | None, size: int = 44) -> SafeString:
    return _assurance_icon(code, size)


# An icon is the same picture every time for its code and size: drawn once (a dashboard
# shows hundreds).
@functools.cache
def _variation_icon(code: str | None, size: int) -> SafeString:
    if code not in _VARIATION:
        return SafeString("")
    colour, letter = _VARIATION[code]
    heights = (30, 27, 31, 28, 30, 26, 29) if not letter else (31, 30, 31, 29, 26, 23, 20)
    if letter == "L":
        heights = (19, 20, 19, 21, 24, 27, 30)
    dots = SafeString(
        "".join(
            format_html(
                '<circle cx="{}" cy="{}" r="2.6" fill="{}"/>',
                9 + i * 5.3,
                y,
                colour if letter and i >= 4 else GREY,
            )
            for i, y in enumerate(heights)
        )
    )
    text = (
        format_html(
            '<text x="25" y="{}" text-anchor="middle" font-family="Arial, sans-serif" '
            'font-size="13" font-weight="bold" fill="{}">{}</text>',
            16 if letter == "H" else 43,
            colour,
            letter,
        )
        if letter
        else SafeString("")
    )
    return _badge(colour, VARIATION_WORDS[code], dots + text, size)


@functools.cache
def _assurance_icon(code: str | None, size: int) -> SafeString:
    if code not in _ASSURANCE:
        return SafeString("")
    colour, letter, target_y = _ASSURANCE[code]
    inner = format_html(
        '<path d="M7 25 q4 -6 8 0 t8 0 t8 0 t8 0 t4 0" fill="none" stroke="{}" '
        'stroke-width="2.2"/>'
        '<line x1="6" y1="{}" x2="44" y2="{}" stroke="{}" stroke-width="2" '
        'stroke-dasharray="3 2"/>'
        '<text x="25" y="{}" text-anchor="middle" font-family="Arial, sans-serif" '
        'font-size="13" font-weight="bold" fill="{}">{}</text>',
        GREY,
        target_y,
        target_y,
        RED,
        43 if letter != "F" else 40,
        colour,
        letter,
    )
    return _badge(colour, ASSURANCE_WORDS[code], inner, size)


_RUN_CHART_WORDS = {
    "shift": "Shift: 6 or more points on one side of the median",
    "trend": "Trend: 5 or more points rising or falling",
}


@register.filter
def signal_words(point: dict) -> str:
    """A point's finding for the data table: its type and the rule that found it."""
    if point.get("excluded"):
        return "Left out (no denominator)"
    rule = point.get("rule")
    if not rule:
        return ""
    if point.get("point_type") == "common_cause":  # a run chart's IHI rules
        return _RUN_CHART_WORDS.get(rule, "")
    return f"{POINT_TYPE_WORDS[point['point_type']]}: {RULE_WORDS[rule]}"


@register.simple_tag
def sparkline(result: dict, width: int = 120, height: int = 32) -> SafeString:
    """The last 26 points as a small line, its latest point marked in its signal colour.
    Decorative: the value and icons beside it say the same in words."""
    points = [p for p in (result or {}).get("points", []) if p.get("value") is not None][-26:]
    if len(points) < 2:
        return SafeString("")
    values = [p["value"] for p in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 6) / (len(values) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return 3 + i * step, height - 3 - (v - low) / span * (height - 6)

    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in enumerate(values)))
    last_x, last_y = xy(len(values) - 1, values[-1])
    colour = {"special_cause_improvement": BLUE, "special_cause_concern": ORANGE}.get(
        points[-1].get("point_type", ""), "#425563"
    )
    return format_html(
        '<svg class="app-sparkline" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}" aria-hidden="true" focusable="false">'
        '<polyline points="{}" fill="none" stroke="#768692" stroke-width="1.5"/>'
        '<circle cx="{}" cy="{}" r="3" fill="{}"/></svg>',
        width, height, width, height, line, f"{last_x:.1f}", f"{last_y:.1f}", colour,
    )  # fmt: skip


@register.simple_tag
def trend_line(values, width: int = 80, height: int = 24) -> SafeString:
    """A small line of a few numbers (a room's attendance at its recent sessions, say).
    Decorative: the page gives the numbers in words beside it."""
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return SafeString("")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 6) / (len(values) - 1)
    line = " ".join(
        f"{3 + i * step:.1f},{height - 3 - (v - low) / span * (height - 6):.1f}"
        for i, v in enumerate(values)
    )
    return format_html(
        '<svg class="app-sparkline" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}" aria-hidden="true" focusable="false">'
        '<polyline points="{}" fill="none" stroke="#005eb8" stroke-width="1.5"/></svg>',
        width, height, width, height, line,
    )  # fmt: skip


@register.simple_tag
def icon_links(measures) -> SafeString:
    """Measures by their icons (bigrooms.dashboard.MeasureIcons), each a link to its
    chart; their words for screen readers, or shown where there are no icons. Built here
    rather than in a template: a dashboard draws hundreds."""
    if not measures:
        return SafeString('<span class="nhsuk-body-s">None</span>')
    links = []
    for m in measures:
        href = reverse("measure_detail", args=[m.pk])
        if m.icons_ready and m.chart_type != "run":
            inner = format_html(
                '{}{}<span class="nhsuk-u-visually-hidden">{}: {}</span>',
                _variation_icon(m.variation, 32), _assurance_icon(m.assurance, 32), m.name,
                m.status_words,
            )  # fmt: skip
        else:
            inner = format_html('<span class="nhsuk-body-s">{}: {}</span>', m.name,
                                m.status_words.lower())  # fmt: skip
        links.append(format_html('<a href="{}" class="app-icon-link">{}</a>', href, inner))
    return SafeString("<br>".join(links))
