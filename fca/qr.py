"""QR codes as inline SVG (segno, from PyPI): a phone's camera opens the link."""

import io
from functools import lru_cache

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(url: str, *, scale: int = 5, title: str = "QR code for the scoring link") -> SafeString:
    if url.startswith("otpauth:"):
        # A two-factor key: drawn each time, never kept in the process's memory.
        return _draw(url, scale, title)
    # A link to the app (a session's scoring link) is the same every time its page is
    # shown; drawing it costs about 10 ms (segno tries eight masks), so each worker keeps
    # the latest few hundred.
    return _remembered(url, scale, title)


@lru_cache(maxsize=256)
def _remembered(url: str, scale: int, title: str) -> SafeString:
    return _draw(url, scale, title)


def _draw(url: str, scale: int, title: str) -> SafeString:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=scale, xmldecl=False, svgns=True, svgclass="app-qr",
        title=title, border=2,
    )  # fmt: skip
    # segno writes only its own markup and the escaped title: safe to place in the page.
    svg = buffer.getvalue().decode().replace("<svg ", '<svg role="img" ', 1)
    return mark_safe(svg)
