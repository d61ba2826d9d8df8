"""Reading two pasted columns (date, value), as copied from a spreadsheet or typed.

Pure: text in, rows out, or every problem with its line number. Nothing is saved here.
"""

import csv
import math
import re
from dataclasses import dataclass
from datetime import date

from fca.dates import parse_date

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?%?$")


@dataclass(frozen=True)
class PastedRow:
    line: int
    day: date
    value: float


class PasteError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_number(text: str) -> float:
    """A number as people write it: 95.2, 1,234, -3, 87%. Raises ValueError with a message."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned or not _NUMBER.match(cleaned) or cleaned in {"%", "+", "-", "."}:
        raise ValueError(f"“{text.strip()}” is not a number")
    value = float(cleaned.rstrip("%").replace(",", ""))
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"“{text.strip()}” is not a number")
    return value


def _split(line: str) -> list[str]:
    if "\t" in line:
        return [cell.strip() for cell in line.split("\t")]
    if ";" in line:
        return [cell.strip() for cell in line.split(";")]
    if "," in line:
        return [cell.strip() for cell in next(csv.reader([line]))]
    # Typed by hand: the value is the last word, the date everything before it.
    parts = line.strip().rsplit(None, 1)
    return parts


def parse_two_columns(text: str, *, max_rows: int) -> list[PastedRow]:
    """Rows of (date, value); a first line that is not data is taken as a header.

    Raises PasteError listing every problem, each naming its line."""
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise PasteError(["The paste is empty: copy two columns, the date then the value"])
    rows: list[PastedRow] = []
    problems: list[str] = []
    first_data_line = True
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = _split(line)
        while len(cells) > 2 and cells[-1] == "":
            cells.pop()
        if len(cells) < 2 or not cells[1]:
            problems.append(f"Line {number} has one column: paste the date, then the value")
            first_data_line = False
            continue
        if len(cells) > 2:
            problems.append(
                f"Line {number} has {len(cells)} columns: paste two, the date then the value"
            )
            first_data_line = False
            continue
        try:
            day = parse_date(cells[0])
        except ValueError as error:
            day_problem = str(error)
        else:
            day_problem = None
        try:
            value = parse_number(cells[1])
        except ValueError as error:
            value_problem = str(error)
        else:
            value_problem = None
        if first_data_line and day_problem and value_problem:
            first_data_line = False  # a header such as "Month, Attendances"
            continue
        first_data_line = False
        if day_problem or value_problem:
            problems.append(f"Line {number}: {day_problem or value_problem}")
            continue
        rows.append(PastedRow(line=number, day=day, value=value))
    if len(rows) > max_rows:
        problems.insert(0, f"The paste has {len(rows):,} rows: paste at most {max_rows:,} at once")
    if not rows and not problems:
        problems.append("The paste has no data rows: copy two columns, the date then the value")
    if problems:
        raise PasteError(problems)
    return rows
