"""Template tags for the NHS.UK frontend, reading its markup from the npm package."""

import math
import re
from datetime import date
from decimal import Decimal
from functools import cache

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString

from fca.dates import format_date

register = template.Library()

_HEADER_TEMPLATE = "node_modules/nhsuk-frontend/dist/nhsuk/components/header/template.njk"


@cache
def _logo_path() -> str:
    """The NHS logo's outline, taken from the installed package rather than copied here."""
    source = (settings.BASE_DIR / _HEADER_TEMPLATE).read_text(encoding="utf-8")
    match = re.search(
        r'<svg class="nhsuk-header__logo".*?<path fill="currentcolor" d="([^"]+)"', source, re.S
    )
    return match[1] if match else ""


@register.simple_tag
def nhs_logo() -> SafeString:
    return format_html(
        '<svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80"'
        ' height="40" width="100" focusable="false" role="img" aria-label="NHS">'
        '<title>NHS</title><path fill="currentcolor" d="{}"/></svg>',
        _logo_path(),
    )


@register.filter
def nhs_date(value) -> str:
    """26 Nov 2026."""
    return format_date(value) if value else ""


@register.filter
def number(value) -> str:
    """A value as people read it: 18,788, 88.5, 90.91, 0.0123; no float noise, no
    exponents. Two decimal places at most, or three significant figures below 1."""
    if value is None or value == "":
        return ""
    number = float(value)
    if not math.isfinite(number):
        return ""
    if abs(number) >= 1 or number == 0:
        rounded = Decimal(str(round(number, 2)))
    else:
        rounded = Decimal(f"{number:.3g}")
    text = f"{rounded:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def iso_period(value: str, frequency: str) -> str:
    """A stored ISO period as people read it: Mar 2019, or w/c 4 Mar 2019."""
    if not value:
        return ""
    day = date.fromisoformat(value)
    return f"w/c {format_date(day)}" if frequency == "weekly" else day.strftime("%b %Y")


@register.filter
def dictkey(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def mean(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None
