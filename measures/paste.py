"""Reading pasted columns (a date, then one or two numbers), as copied from a spreadsheet.

Pure: text in, rows out, or every problem with its line number. Nothing is saved here.
"""

import csv
from dataclasses import dataclass
from datetime import date

from fca.dates import parse_date
from fca.numbers import parse_number


@dataclass(frozen=True)
class PastedRow:
    line: int
    day: date
    numbers: tuple[float, ...]
    date_text: str = ""


class PasteError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


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


def parse_rows(text: str, *, numbers: int = 1, max_rows: int) -> list[PastedRow]:
    """Rows of a date then ``numbers`` numbers (the value, or a numerator and denominator);
    a first line that is not data is taken as a header.

    Raises PasteError listing every problem, each naming its line."""
    columns = numbers + 1
    what = "the date then the value" if numbers == 1 else "the date, numerator, denominator"
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise PasteError([f"The paste is empty: copy {columns} columns, {what}"])
    rows: list[PastedRow] = []
    problems: list[str] = []
    first_data_line = True
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = _split(line)
        while len(cells) > columns and cells[-1] == "":
            cells.pop()
        if len(cells) == columns and cells[0] and not all(cells[1:]):
            problems.append(f"Line {number}: a value is missing")
            first_data_line = False
            continue
        if len(cells) != columns or not all(cells):
            count = len([c for c in cells if c])
            problems.append(
                f"Line {number} has {'one column' if count == 1 else f'{count} columns'}: "
                f"paste {columns}, {what}"
            )
            first_data_line = False
            continue
        cell_problems = []
        try:
            day = parse_date(cells[0])
        except ValueError as error:
            cell_problems.append(str(error))
        parsed = []
        for cell in cells[1:]:
            try:
                parsed.append(parse_number(cell))
            except ValueError as error:
                cell_problems.append(str(error))
        if first_data_line and len(cell_problems) == columns:
            first_data_line = False  # a header such as "Month, Attendances"
            continue
        first_data_line = False
        if cell_problems:
            problems.append(f"Line {number}: {'; '.join(cell_problems)}")
            continue
        rows.append(PastedRow(line=number, day=day, numbers=tuple(parsed), date_text=cells[0]))
    if len(rows) > max_rows:
        problems.insert(0, f"The paste has {len(rows):,} rows: paste at most {max_rows:,} at once")
    if not rows and not problems:
        problems.append(f"The paste has no data rows: copy {columns} columns, {what}")
    if problems:
        raise PasteError(problems)
    return rows
