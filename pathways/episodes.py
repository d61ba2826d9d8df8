"""Reading and checking a file of pseudonymised episodes: files in, records and problems out.

No ORM here: the services store what this module reads. A file is refused outright
(``Refused``) when it cannot or must not be loaded at all: empty, too big, not UTF-8 or
Windows-1252, or holding patient identifiers. Otherwise every row is checked, and each
problem names its line, its column and what is wrong; the person then fixes the file or
loads only the valid rows.

Times are ISO 8601 (``2026-03-01T14:30``, with seconds, fractions, ``Z`` or an offset if
wanted) or UK day-first (``01/03/2026 14:30``). A time without an offset is Europe/London
wall-clock time; one that does not exist (the hour skipped when the clocks go forward) or
happens twice (when they go back) is a row problem, never a guess.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fca.dates import DayFirstWatch, format_date, parse_date
from fca.identifiers import IDENTIFYING_HEADING, is_nhs_number
from fca.numbers import sizes_apart
from fca.spreadsheets import FORMULA, is_formula

LONDON = ZoneInfo("Europe/London")
REQUIRED = ("episode_id", "arrived_at")
OPTIONAL = ("departed_at", "discharge_ready_at", "destination")
TIME_COLUMNS = ("arrived_at", "departed_at", "discharge_ready_at")
MAX_ID_LENGTH = 100
MAX_LISTED = 2000  # problems kept for the report; the count says how many more there were
MAX_UNZIPPED = 2 * 1024 * 1024 * 1024
MAX_COLUMNS = 200  # a workbook may claim 16,384; known columns are far fewer
MAX_LINE = 1_000_000  # characters: an episode's line is a few hundred
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DATE_ONLY = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})$")
# Excel keeps a date as a datetime at midnight: a column of them is dates, as a watch sees.
_EXCEL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} 00:00:00$")
_PERSON_NAME = re.compile(r"^[A-Z][a-z]+(?:[ '-][A-Z][a-z]+)+$")
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


class Refused(ValueError):
    """A file that is not loaded at all; the message says why, fit to show a person."""


class TimeProblem(ValueError):
    """A time that cannot be read, or that is impossible; the message says which."""


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str


@dataclass
class Record:
    line: int
    episode_id: str
    arrived_at: datetime
    departed_at: datetime | None = None
    discharge_ready_at: datetime | None = None
    destination: str = ""
    steps: dict[str, datetime] = field(default_factory=dict)


@dataclass
class Report:
    encoding: str = ""
    rows: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    bad_lines: set[int] = field(default_factory=set)
    missing_required: bool = False  # no row can be loaded at all
    # Times written day first whose day and month could be swapped, none settling which.
    day_first: DayFirstWatch = field(default_factory=DayFirstWatch)

    def add(self, line: int, column: str, message: str) -> None:
        self.problem_count += 1
        self.bad_lines.add(line)
        if len(self.problems) < MAX_LISTED:
            self.problems.append(Problem(line, column, message))

    @property
    def valid(self) -> int:
        if self.missing_required:
            return 0
        return self.rows - len({line for line in self.bad_lines if line > 1})

    def as_dict(self) -> dict:
        return {
            "encoding": self.encoding, "rows": self.rows, "valid": self.valid,
            "problem_count": self.problem_count, "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "problems": [[p.line, p.column, p.message] for p in self.problems],
            "swappable_time": None if self.missing_required else self.day_first.example,
        }  # fmt: skip


# --- The file --------------------------------------------------------------------------


def check_file(path: Path, *, max_bytes: int) -> None:
    """Refuse an empty or oversized file before reading a row of it."""
    size = path.stat().st_size
    if size == 0:
        raise Refused("The file is empty")
    if size > max_bytes:
        words, most = sizes_apart(size, max_bytes)
        raise Refused(f"The file is {words}: the most is {most}. Send fewer weeks at a time")


def _check_lines(handle, chunk_size: int = MAX_LINE) -> None:
    """Refuse a line longer than MAX_LINE: the csv module holds a whole row in memory, and
    a line of one file's size may be a hundred million empty cells. Read in chunks no longer
    than MAX_LINE, so only a line running across chunks can be too long: a few searches in C
    per chunk (both Python and PostgreSQL loads call this, through detect_encoding)."""
    run, lines = 0, 1
    while chunk := handle.read(chunk_size):
        first = min((i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0), default=-1)
        if first < 0:
            run += len(chunk)
        else:
            run += first
            last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if run > MAX_LINE:
            raise Refused(
                f"Line {lines:,} of the file is longer than {MAX_LINE:,} characters: no "
                "episode is that long. Check the file is a CSV file with a line per episode"
            )
        if first >= 0:
            lines += chunk.count(b"\n")
            run = len(chunk) - last - 1


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` (UTF-8, with or without a byte-order mark) or ``cp1252`` (Windows-1252,
    as Excel saves CSV); anything else is refused, naming what was found."""
    with path.open("rb") as handle:
        _check_lines(handle)
        handle.seek(0)
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise Refused(
                "The file is in UTF-16: save it as “CSV UTF-8” from your spreadsheet and "
                "upload it again"
            )
        handle.seek(0)
        utf8 = codecs.getincrementaldecoder("utf-8-sig")()
        try:
            while chunk := handle.read(1 << 20):
                if b"\x00" in chunk:
                    raise Refused(
                        "The file holds binary data, not text: upload a CSV or .xlsx file"
                    )
                utf8.decode(chunk)
            utf8.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        # Not UTF-8: Windows-1252, unless it holds one of the five bytes that leaves
        # undefined (looked for with bytes.find, in C, from the start again).
        handle.seek(0)
        offset, bad_byte = 0, None
        while bad_byte is None and (chunk := handle.read(1 << 20)):
            if b"\x00" in chunk:
                raise Refused("The file holds binary data, not text: upload a CSV or .xlsx file")
            found = [(chunk.find(bytes([b])), b) for b in _CP1252_UNDEFINED]
            found = [(i, b) for i, b in found if i >= 0]
            if found:
                i, byte = min(found)
                bad_byte = (byte, offset + i)
            offset += len(chunk)
        if bad_byte is None:
            return "cp1252"
    byte, position = bad_byte
    raise Refused(
        f"The file is neither UTF-8 nor Windows-1252 (byte 0x{byte:02X} at position "
        f"{position:,} belongs to neither): save it as “CSV UTF-8” and upload it again"
    )


def read_rows(path: Path, filename: str) -> tuple[str, Iterator[list[str]]]:
    """The file's encoding (or "xlsx") and its rows as lists of text cells, streamed."""
    with path.open("rb") as handle:
        zipped = handle.read(4) == b"PK\x03\x04"
    if filename.lower().endswith(".xlsx") or zipped:
        return "xlsx", _xlsx_rows(path)
    if filename.lower().endswith((".xls", ".xlsb", ".ods")):
        raise Refused("Save the file as an Excel workbook (.xlsx) or as CSV, then upload it")
    encoding = detect_encoding(path)
    return encoding, _csv_rows(path, encoding)


def _csv_rows(path: Path, encoding: str) -> Iterator[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        try:
            for row in csv.reader(handle):
                yield [cell.strip() for cell in row]
        except csv.Error as error:
            raise Refused(f"The file is not a CSV file that can be read ({error})") from None


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from fca.spreadsheets import SpreadsheetError, open_workbook, sheet_rows

    try:
        values, formulas = open_workbook(path, limit=MAX_UNZIPPED)
        sheet = values.worksheets[0].title if values.worksheets else None
        if sheet is None:
            values.close()
            formulas.close()
            raise SpreadsheetError("The workbook has no sheets of data")
        for row in sheet_rows(values, formulas, sheet, columns=MAX_COLUMNS):
            # An empty row (a claimed million of them, even) costs nothing to read.
            yield [] if row.count(None) == len(row) else [_excel_cell(value) for value in row]
    except SpreadsheetError as error:
        raise Refused(str(error)) from None


def _excel_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # Excel keeps wall-clock times, without a zone
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- Times -----------------------------------------------------------------------------


def parse_time(text: str, *, now: datetime) -> datetime:
    """An instant, in UTC, from ISO 8601 or UK day-first text; local times are London's."""
    if is_formula(text):
        raise TimeProblem(f"“{text}” {FORMULA}")
    if match := _ISO.match(text):
        year, month, day, hour, minute, second, fraction, offset = match.groups()
        micro = int((fraction or "0").ljust(6, "0"))
    elif match := _UK.match(text):
        day, month, year, hour, minute, second = match.groups()
        micro, offset = 0, None
    elif _DATE_ONLY.match(text):
        raise TimeProblem(f"“{text}” has no time of day: give it as {text} 14:30")
    else:
        raise TimeProblem(
            f"“{text}” is not a time: write it as 2026-03-01T14:30 or 01/03/2026 14:30"
        )
    try:
        wall = datetime(int(year), int(month), int(day), int(hour), int(minute),
                        int(second or 0), micro)  # fmt: skip
    except ValueError:
        raise TimeProblem(f"“{text}” is not a real date and time") from None
    if offset == "Z":
        instant = wall.replace(tzinfo=UTC)
    elif offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        try:
            instant = (wall - sign * shift).replace(tzinfo=UTC)
        except OverflowError:  # an offset past the first or last day there is
            raise TimeProblem(f"“{text}” is not a real date and time") from None
    else:
        instant = _london(wall, text)
    if not EARLIEST <= instant <= now + timedelta(hours=1):
        raise TimeProblem(f"“{text}” is impossible: it is {_when(instant, now)}")
    return instant


def _london(wall: datetime, text: str) -> datetime:
    """A London wall-clock time as an instant: one that the clocks skip, or show twice, is
    refused rather than guessed."""
    early = wall.replace(tzinfo=LONDON, fold=0)
    late = wall.replace(tzinfo=LONDON, fold=1)
    exists = early.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) == wall
    if not exists:
        raise TimeProblem(
            f"“{text}” did not happen in the UK: the clocks went forward an hour that night. "
            "Check the time, or give it in UTC (…Z)"
        )
    if early.utcoffset() != late.utcoffset():
        raise TimeProblem(
            f"“{text}” happened twice in the UK: the clocks went back an hour that night. "
            "Give it in UTC (…Z) or with its offset (+01:00 or +00:00)"
        )
    return early.astimezone(UTC)


def _when(instant: datetime, now: datetime) -> str:
    return "in the future" if instant > now else "before the year 2000"


# --- Rows ------------------------------------------------------------------------------


@dataclass
class Columns:
    """Where each known column is in the file."""

    index: dict[str, int]
    steps: dict[str, int]


def read_header(header: Sequence[str], step_codes: Sequence[str], report: Report) -> Columns:
    """Map the heading row; refuse identifying headings; note missing, unknown and repeated
    columns as problems of line 1."""
    names = [cell.strip().lower() for cell in header]
    for cell in header:
        if cell and IDENTIFYING_HEADING.search(cell):
            raise Refused(
                f"The file has a column headed “{cell}”: episode files hold the "
                "organisation's pseudonymised reference only, never names, NHS numbers or "
                "dates of birth"
            )
    report.columns = [name for name in names if name]
    known = {*REQUIRED, *OPTIONAL, *step_codes}
    index, steps = {}, {}
    for position, name in enumerate(names):
        if not name:
            continue
        if name in index or name in steps:
            report.add(1, name, f"The column {name} appears twice: keep one")
        elif name in step_codes:
            steps[name] = position
        elif name in known:
            index[name] = position
        else:
            report.ignored_columns.append(name)
            report.add(
                1, name, f"The column {name} is not one this pathway knows: it will be left out"
            )
    for name in REQUIRED:
        if name not in index:
            report.add(1, name, f"The file has no {name} column: every episode needs one")
    return Columns(index, steps)


def time_positions(columns: Columns) -> list[int]:
    """Where the time columns are, in the order a row's times are read."""
    return [columns.index[name] for name in TIME_COLUMNS if name in columns.index] + list(
        columns.steps.values()
    )


def swapped_warning(example: str | None) -> str:
    """Words for the person when a file's times could have been written month first and
    nothing in them says which (Report.day_first); "" otherwise."""
    if not example:
        return ""
    try:
        read = parse_date(example)
        swapped = date(read.year, read.day, read.month)
    except ValueError:  # a report kept from before a rule changed: no question to put
        return ""
    return (
        f"Check the times: each was read day first, as the UK writes them, so “{example}” "
        f"is {format_date(read)}. If the file was written month first (as systems set up "
        f"for the US write dates), that time is {format_date(swapped)}, and every episode "
        "would be loaded in the wrong month: then discard the file, and send the times in "
        "ISO 8601, as 2026-03-01T14:30."
    )


def check_rows(
    path: Path,
    filename: str,
    *,
    step_codes: Sequence[str],
    max_bytes: int,
    now: datetime | None = None,
) -> tuple[Report, list[Record]]:
    """Read and check the whole file: the report, and the records of the valid rows.

    Refused (raised) for an empty, oversized or undecodable file, identifying headings, or
    a column of which more than half the values (and at least 5) are NHS numbers, dates of
    birth or people's names."""
    now = now or datetime.now(UTC)
    check_file(path, max_bytes=max_bytes)
    encoding, rows = read_rows(path, filename)
    report = Report(encoding=encoding)
    header = next(rows, None)
    if header is None or not any(header):
        raise Refused("The file is empty")
    columns = read_header(header, step_codes, report)
    watch = _IdentifierWatch(len(header))
    times = time_positions(columns)
    records: list[Record] = []
    first_line: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}
    missing_required = report.missing_required = any(name not in columns.index for name in REQUIRED)
    for line, row in enumerate(rows, start=2):
        if not any(row):
            continue  # a blank line is formatting
        report.rows += 1
        watch.see(row)
        if missing_required:
            continue
        report.day_first.see(row[p] if p < len(row) else "" for p in times)
        record = _record(line, row, columns, report, now, workbook=encoding == "xlsx")
        if record is None:
            continue
        if record.episode_id in first_line:
            duplicates.setdefault(record.episode_id, [first_line[record.episode_id]]).append(line)
        else:
            first_line[record.episode_id] = line
        records.append(record)
    watch.verdict(header)
    if report.rows == 0:
        raise Refused("The file has a heading row but no episodes")
    # An episode twice in one file: which is right cannot be told, so neither is loaded.
    for episode_id, lines in duplicates.items():
        for line in lines:
            others = ", ".join(str(other) for other in lines if other != line)
            report.add(line, "episode_id", f"Episode {episode_id} is also on line {others}")
    bad = report.bad_lines
    return report, [r for r in records if r.line not in bad]


def _record(
    line: int, row: list[str], columns: Columns, report: Report, now, *, workbook: bool = False
) -> Record | None:
    """The row as a record, or None with its problems added to the report. In a workbook,
    text starting with = is a formula Excel never worked out (in a CSV file it is text)."""

    def cell(position: int | None) -> str:
        return row[position] if position is not None and position < len(row) else ""

    problems_before = report.problem_count
    episode_id = cell(columns.index.get("episode_id"))
    if not episode_id:
        report.add(line, "episode_id", "episode_id is empty")
    elif workbook and is_formula(episode_id):
        report.add(line, "episode_id", f"“{episode_id}” {FORMULA}")
    elif len(episode_id) > MAX_ID_LENGTH:
        report.add(line, "episode_id", f"episode_id is longer than {MAX_ID_LENGTH} characters")
    times: dict[str, datetime | None] = {}
    for name in (*TIME_COLUMNS, *columns.steps):
        position = columns.index.get(name, columns.steps.get(name))
        text = cell(position)
        times[name] = None
        if not text:
            if name == "arrived_at":
                report.add(line, name, "arrived_at is empty: every episode needs its arrival")
            continue
        try:
            times[name] = parse_time(text, now=now)
        except TimeProblem as problem:
            report.add(line, name, str(problem))
    arrived = times["arrived_at"]
    if arrived is not None:
        for name in ("departed_at", *columns.steps):
            if times[name] is not None and times[name] < arrived:
                report.add(line, name, f"{name} is before arrived_at")
    destination = cell(columns.index.get("destination"))
    if len(destination) > 100:
        report.add(line, "destination", "destination is longer than 100 characters")
    elif workbook and is_formula(destination):
        report.add(line, "destination", f"“{destination}” {FORMULA}")
    if report.problem_count > problems_before:
        return None
    return Record(
        line=line, episode_id=episode_id, arrived_at=arrived, departed_at=times["departed_at"],
        discharge_ready_at=times["discharge_ready_at"], destination=destination,
        steps={code: times[code] for code in columns.steps if times[code] is not None},
    )  # fmt: skip


class _IdentifierWatch:
    """Counts, column by column, values that look like NHS numbers, dates of birth or
    people's names; a column mostly of them (and at least 5) refuses the file."""

    def __init__(self, width: int):
        self.filled = [0] * width
        self.hits = {kind: [0] * width for kind in ("NHS numbers", "dates of birth", "names")}

    def see(self, row: list[str]) -> None:
        for i, value in enumerate(row[: len(self.filled)]):
            if not value:
                continue
            self.filled[i] += 1
            if is_nhs_number(value):
                self.hits["NHS numbers"][i] += 1
            elif _DATE_ONLY.match(value) or _EXCEL_DATE.match(value):
                self.hits["dates of birth"][i] += 1
            elif _PERSON_NAME.match(value) and len(value) < 40:
                self.hits["names"][i] += 1

    def verdict(self, header: Sequence[str]) -> None:
        for kind, hits in self.hits.items():
            for i, count in enumerate(hits):
                if kind == "names" and header[i].strip().lower() == "destination":
                    continue  # "Care Home" is a destination, not a person
                if count >= 5 and count * 2 > self.filled[i]:
                    raise Refused(
                        f"The column “{header[i]}” holds {kind}: episode files hold the "
                        "organisation's pseudonymised reference only, never anything that "
                        "identifies a patient"
                    )
