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
