"""Writing CSV that is safe to open in a spreadsheet."""

from decimal import Decimal

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell as text; text a spreadsheet would run as a formula is quoted with '.

    Numbers stay numbers: a negative value is not a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return f"{value:.15g}"
    if isinstance(value, Decimal):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
