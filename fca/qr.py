"""QR codes as inline SVG (segno, from PyPI): a phone's camera opens the link."""

import io

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(url: str, *, scale: int = 5, title: str = "QR code for the scoring link") -> SafeString:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=scale, xmldecl=False, svgns=True, svgclass="app-qr",
        title=title, border=2,
    )  # fmt: skip
    # segno writes only its own markup and the escaped title: safe to place in the page.
    svg = buffer.getvalue().decode().replace("<svg ", '<svg role="img" ', 1)
    return mark_safe(svg)
