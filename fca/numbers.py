"""Reading the numbers people type or paste: 95.2, 1,234, 1 234, −5, 87%."""

import math
import re

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?%?$")
# Spaces (ordinary, no-break, thin) are thousands separators only between groups of three.
_SPACED_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([ \u00a0\u202f]\d{3})+([.]\d+)?%?$")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2013": "-"})


def parse_number(text: str) -> float:
    """A number as people write it: 95.2, 1,234, -3, 87%. Raises ValueError with a message."""
    cleaned = text.strip().strip('"').strip().translate(_MINUS_SIGNS)
    if _SPACED_THOUSANDS.match(cleaned):
        cleaned = re.sub(r"[ \u00a0\u202f]", "", cleaned)
    if not cleaned or not _NUMBER.match(cleaned) or cleaned in {"%", "+", "-", "."}:
        raise ValueError(f"“{text.strip()}” is not a number")
    value = float(cleaned.rstrip("%").replace(",", ""))
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"“{text.strip()}” is not a number")
    return value


def file_size(size: int) -> str:
    """A file's size as people read it: 512 bytes, 4.2 kB, 3 MB, 200.4 MB."""
    if size < 1000:
        return f"{size:,} byte{'' if size == 1 else 's'}"
    unit, scale = ("kB", 1000) if size < 1_000_000 else ("MB", 1_000_000)
    return f"{size / scale:,.1f}".removesuffix(".0") + f" {unit}"


def sizes_apart(size: int, limit: int) -> tuple[str, str]:
    """A file's size and the limit it broke, in words that never read the same (a 3.04 MB
    file over a 3 MB limit is told so in bytes, not as "3 MB: the most is 3 MB")."""
    words, most = file_size(size), file_size(limit)
    return (words, most) if words != most else (f"{size:,} bytes", f"{limit:,} bytes")
