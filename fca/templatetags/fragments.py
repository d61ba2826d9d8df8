"""The key parts of a kept fragment (fca.fragments)."""

from django import template

from fca.fragments import fingerprint as _fingerprint

register = template.Library()


@register.filter
def fingerprint(value) -> str:
    return _fingerprint(value)
