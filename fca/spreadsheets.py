"""Reading a spreadsheet people upload (CSV or Excel) into a plain table of text cells.

Any layout: a title above the headings, blank rows, many columns. The person then picks
which row holds the headings and which columns hold what, so sheets from the Making Data
Count Excel tools and Life QI exports come straight in.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from fca.dates import parse_date
from fca.numbers import parse_number

MAX_ROWS = 50_000
MAX_COLUMNS = 100
MAX_UNZIPPED = 100 * 1024 * 1024  # an .xlsx is a zip: refuse one that swells past this
# A line of a real sheet is far shorter; a longer one may be millions of empty cells, each
# held in memory while its row is read.
MAX_LINE = 1_000_000


# A workbook written by a program, never opened in Excel, has formulas without results:
# their text ("=B2/C2") is read instead, and named as such wherever it is used.
FORMULA = "is a formula with no saved result: open the file in Excel, save it, and upload it again"


def is_formula(text: str) -> bool:
    return text.strip().startswith("=")


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


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str):
    """The text's lines, ends kept, as the csv module reads a file opened with newline="";
    found in place (a StringIO would copy the text at four bytes a character)."""
    for number, line in enumerate(_LINE.finditer(text), start=1):
        if line.end() - line.start() > MAX_LINE:
            raise SpreadsheetError(
                f"Line {number:,} of the file is longer than {MAX_LINE:,} characters: no row "
                "of a spreadsheet is that long. Check it was saved as CSV"
            )
        yield line.group()


def read_csv(data: bytes) -> Table:
    text = _decode(data)
    sample = text[:20_000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    try:
        for number, row in enumerate(csv.reader(_lines(text), dialect), start=1):
            if number > MAX_ROWS:
                raise SpreadsheetError(f"The file has more than {MAX_ROWS:,} rows")
            rows.append([cell.strip() for cell in row[:MAX_COLUMNS]])
    except csv.Error as error:
        raise SpreadsheetError(f"The file is not a CSV file that can be read ({error})") from None
    return Table(rows=rows)


UNREADABLE = (
    "This file could not be read as an Excel workbook (.xlsx): save it again from Excel, or as CSV"
)
MAX_PACKING = 200  # a workbook's XML packs 5 to 50 times smaller; a zip bomb's a thousand


def zip_problem(archive: zipfile.ZipFile, *, limit: int) -> str | None:
    """Why a workbook must not be unpacked: too large once unpacked, or packed so tightly it
    can only be a zip bomb. These are the sizes the zip declares, and zipfile never unpacks
    more than declared (a zip that lies about a size fails its CRC check)."""
    members = archive.infolist()
    if sum(member.file_size for member in members) > limit:
        return f"The workbook is too large once unpacked (over {limit // 1024 // 1024:,} MB)"
    for member in members:
        if member.file_size > 10 * 1024 * 1024 and (
            member.file_size > MAX_PACKING * max(member.compress_size, 1)
        ):
            return (
                f"The workbook is packed too tightly to be a spreadsheet ({member.filename} "
                f"swells {member.file_size // max(member.compress_size, 1):,} times when "
                "unpacked): save it again from Excel, or as CSV"
            )
    return None


def _unreadable(error: Exception) -> SpreadsheetError:
    from defusedxml import DefusedXmlException

    while error is not None:  # openpyxl wraps the XML parser's refusal in its own error
        if isinstance(error, DefusedXmlException):
            return SpreadsheetError(
                "The workbook holds XML entity declarations, which Excel never writes, so it "
                "is not read: save it again from Excel, or as CSV"
            )
        error = error.__cause__ or error.__context__
    return SpreadsheetError(UNREADABLE)


def open_workbook(source, *, limit: int = MAX_UNZIPPED):
    """A workbook (a path or a file) read twice, streamed: once for the results Excel saved
    beside its formulas, once for the formulas, so a formula with no saved result is told
    from an empty cell. Returns both; ``sheet_rows`` reads them and closes them."""
    from openpyxl import load_workbook  # defusedxml, installed, guards its XML parsing

    try:
        with zipfile.ZipFile(source) as archive:
            if problem := zip_problem(archive, limit=limit):
                raise SpreadsheetError(problem)
        if hasattr(source, "seek"):
            source.seek(0)
        values = load_workbook(source, read_only=True, data_only=True)
        if hasattr(source, "seek"):
            source.seek(0)
        formulas = load_workbook(source, read_only=True, data_only=False)
    except SpreadsheetError:
        raise
    except Exception as error:
        raise _unreadable(error) from None
    return values, formulas


def sheet_rows(values, formulas, sheet: str, *, columns: int = MAX_COLUMNS):
    """The cells of a sheet, row by row, as wide as the sheet says it is but at most
    ``columns`` (a sheet may claim 16,384). A formula's cell holds the result Excel saved; a formula with no saved result
    (a program wrote the file, and it was never opened in Excel) holds its text, "=B2/C2",
    which is named as a formula wherever it is used (FORMULA) and harms no
    column that is not used. Reading it as empty would be a guess."""
    try:
        width = min(values[sheet].max_column or columns, columns)
        for workbook in (values, formulas):
            # The rows a sheet claims are not believed: it may claim a million empty ones.
            workbook[sheet].reset_dimensions()
        pairs = zip(
            values[sheet].iter_rows(max_col=width, values_only=True),
            formulas[sheet].iter_rows(max_col=width, values_only=True),
            strict=False,
        )
        for row, written in pairs:
            if row.count(None) != written.count(None):
                row = tuple(
                    value if value is not None or formula is None else _formula_text(formula)
                    for value, formula in zip(row, written, strict=False)
                )
            yield row
    except SpreadsheetError:
        raise
    except Exception as error:  # the sheet's XML is read as the rows are: it may fail late
        raise _unreadable(error) from None
    finally:
        values.close()
        formulas.close()


def _formula_text(formula) -> str:
    text = formula if isinstance(formula, str) else getattr(formula, "text", "") or ""
    return text if text.startswith("=") else f"={text}"


def read_xlsx(data: bytes, sheet: str | None = None) -> tuple[Table, list[str]]:
    """The chosen sheet (the first by default) and the names of all the sheets."""
    values, formulas = open_workbook(io.BytesIO(data))
    # Worksheets only: a chart sheet holds no cells.
    names = [ws.title for ws in values.worksheets]
    if not names:
        values.close()
        formulas.close()
        raise SpreadsheetError("The workbook has no sheets of data")
    chosen = sheet if sheet in names else names[0]
    rows, blank = [], 0
    for number, row in enumerate(sheet_rows(values, formulas, chosen), start=1):
        # Empty rows are kept only once data follows them: formatting may reach far below
        # the data (or a sheet claim a million rows), and that is not data.
        if row.count(None) == len(row):
            blank += 1
            continue
        if number > MAX_ROWS:
            raise SpreadsheetError(f"The sheet has more than {MAX_ROWS:,} rows")
        rows.extend([""] * len(row) for _ in range(blank))
        blank = 0
        rows.append([_cell(value) for value in row])
    # Empty columns on the right are formatting too (a sheet may claim more than it has).
    width = max((max((i + 1 for i, c in enumerate(r) if c), default=0) for r in rows), default=0)
    rows = [row[:width] for row in rows]
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
