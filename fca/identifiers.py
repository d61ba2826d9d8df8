"""Spotting patient identifiers in what people upload, so it can be refused: the app never
needs names, NHS numbers or dates of birth (DESIGN.md, information governance)."""

import re

_NHS_NUMBER = re.compile(r"^\d{3} ?\d{3} ?\d{4}$")
IDENTIFYING_HEADING = re.compile(
    r"nhs\s*(no|num|number)|date\s*of\s*birth|\bdob\b|\bd\.o\.b\b|forename|surname|"
    r"first\s*name|last\s*name|family\s*name|given\s*name|full\s*name|patient\s*name|^name$|"
    r"postcode|address",
    re.IGNORECASE,
)


def is_nhs_number(text: str) -> bool:
    """Ten digits (spaces allowed 3-3-4) that pass the NHS number's modulus 11 check."""
    text = text.strip()
    if not _NHS_NUMBER.match(text):
        return False
    digits = [int(d) for d in text.replace(" ", "")]
    check = 11 - sum(d * (10 - i) for i, d in enumerate(digits[:9])) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == digits[9]


def identifier_problem(rows: list[list[str]]) -> str | None:
    """Why these cells look like patient identifiers, or None.

    A heading naming an identifier anywhere in the first rows, or a column in which more
    than half of the filled cells (and at least 5) are NHS numbers."""
    for row in rows[:20]:
        for cell in row:
            if cell and len(cell) < 60 and IDENTIFYING_HEADING.search(cell):
                return (
                    f"The file has a column headed “{cell}”: upload counts and totals only, "
                    "never names, NHS numbers, dates of birth or addresses"
                )
    width = max(map(len, rows), default=0)
    for column in range(width):
        cells = [row[column] for row in rows if column < len(row) and row[column]]
        hits = sum(1 for cell in cells if is_nhs_number(cell))
        if hits >= 5 and hits * 2 > len(cells):
            return (
                "The file holds NHS numbers: upload counts and totals only, never anything "
                "that identifies a patient"
            )
    return None


_NUMBER_RUN = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
_DATE_OF_BIRTH = re.compile(
    r"\b(dob|d\.o\.b|born|date of birth)\b|(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-](19|20)\d{2}(?!\d)",
    re.IGNORECASE,
)


def text_warnings(text: str) -> list[str]:
    """What in free text looks like a patient identifier: a warning, not a refusal (a ward
    phone number or a meeting date can look alike)."""
    warnings = []
    if any(is_nhs_number(m.replace("-", " ")) for m in _NUMBER_RUN.findall(text)):
        warnings.append("looks like it holds an NHS number")
    if _DATE_OF_BIRTH.search(text):
        warnings.append("looks like it holds a date of birth")
    return warnings
