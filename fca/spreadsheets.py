"""Reading a spreadsheet people upload (CSV or Excel) into a plain table of text cells.

Any layout: a title above the headings, blank rows, many columns. The person then picks
which row holds the headings and which columns hold what, so sheets from the Making Data
Count Excel tools and Life QI exports come straight in.
"""

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from fca.dates import parse_date
from fca.numbers import parse_number

MAX_ROWS = 50_000
MAX_COLUMNS = 100
MAX_UNZIPPED = 100 * 1024 * 1024  # an .xlsx is a zip: refuse one that swells past this


class SpreadsheetError(ValueError):
    """A file that cannot be read, with the reason in words fit to show a person."""


@dataclass
class Table:
    rows: list[list[str]]  # every cell as text; dates as ISO 8601
    sheet: str = ""

    @property
    def width(self) -> int:
        return max((len(row) for row in self.rows), default=0)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else (value.isoformat(sep=" "))
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.15g}"
    return str(value).strip()


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252, as Excel saves CSV."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpreadsheetError(
            "The file is in UTF-16: save it as “CSV UTF-8” from your spreadsheet and upload it again"
        )
    if b"\x00" in data[:4096]:
        raise SpreadsheetError("This is not a text file: upload a CSV or an Excel workbook")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise SpreadsheetError(
            "The text of the file is neither UTF-8 nor Windows-1252: save it as "
            "“CSV UTF-8” and upload it again"
        ) from None


def read_csv(data: bytes) -> Table:
    text = _decode(data)
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            if number > MAX_ROWS:
                raise SpreadsheetError(f"The file has more than {MAX_ROWS:,} rows")
            rows.append([cell.strip() for cell in row[:MAX_COLUMNS]])
    except csv.Error as error:
        raise SpreadsheetError(f"The file is not a CSV file that can be read ({error})") from None
    return Table(rows=rows)


def read_xlsx(data: bytes, sheet: str | None = None) -> tuple[Table, list[str]]:
    """The chosen sheet (the first by default) and the names of all the sheets."""
    from openpyxl import load_workbook  # defusedxml, installed, guards its XML parsing

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
            raise SpreadsheetError("The workbook is too large once unpacked")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SpreadsheetError:
        raise
    except Exception:
        raise SpreadsheetError(
            "This file could not be read as an Excel workbook (.xlsx): save it again from "
            "Excel, or as CSV"
        ) from None
    # Worksheets only: a chart sheet holds no cells.
    names = [ws.title for ws in workbook.worksheets]
    if not names:
        raise SpreadsheetError("The workbook has no sheets of data")
    chosen = sheet if sheet in names else names[0]
    rows = []
    for number, row in enumerate(workbook[chosen].iter_rows(values_only=True), start=1):
        if number > MAX_ROWS:
            raise SpreadsheetError(f"The sheet has more than {MAX_ROWS:,} rows")
        rows.append([_cell(value) for value in row[:MAX_COLUMNS]])
    workbook.close()
    # Trailing empty rows and columns are formatting, not data.
    while rows and not any(rows[-1]):
        rows.pop()
    return Table(rows=rows, sheet=chosen), names


def read_spreadsheet(name: str, data: bytes, sheet: str | None = None) -> tuple[Table, list[str]]:
    """A CSV or Excel file as a table, and its sheet names (none for CSV)."""
    if not data:
        raise SpreadsheetError("The file is empty")
    lower = name.lower()
    if lower.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return read_xlsx(data, sheet)
    if lower.endswith((".xls", ".xlsb", ".ods")):
        raise SpreadsheetError(
            "Save the file as an Excel workbook (.xlsx) or as CSV, then upload it"
        )
    if lower.endswith((".csv", ".txt", ".tsv")):
        return read_csv(data), []
    raise SpreadsheetError("Upload a CSV file or an Excel workbook (.xlsx)")


def column_letter(index: int) -> str:
    """A, B, … Z, AA: how spreadsheets name columns (0-based index)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def guess_layout(rows: list[list[str]], numbers: int) -> tuple[int, list[int]]:
    """A first guess at the heading row (1-based; 0 for none) and the columns: the date's,
    then ``numbers`` numeric ones. The person can change both before anything is saved."""

    def kind(cell: str) -> str:
        if not cell:
            return ""
        for name, parse in (("date", parse_date), ("number", parse_number)):
            try:
                parse(cell)
            except ValueError:
                continue
            return name
        return "text"

    for index, row in enumerate(rows[:50]):
        kinds = [kind(cell) for cell in row]
        if "date" in kinds and kinds.count("number") >= numbers:
            date_column = kinds.index("date")
            numeric = [c for c, k in enumerate(kinds) if k == "number" and c != date_column]
            return index, [date_column, *numeric[:numbers]]
    return (1 if rows else 0), list(range(numbers + 1))
