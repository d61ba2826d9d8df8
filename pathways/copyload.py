"""Checking and loading a CSV file of episodes on PostgreSQL, set-based: the same report as
``episodes.check_rows`` gives, and the same episodes stored as ``services.load_upload``
stores, with no Python object per row and no ORM save.

``check_postgres`` and ``load_postgres`` run these stages in the caller's transaction (in
a savepoint of it), on temporary tables dropped at the end:

1. **The file.** ``episodes`` refuses what must not be read at all (empty, too big, not
   UTF-8 or Windows-1252, an identifying heading) and maps the heading row (missing,
   unknown and repeated columns), in its own words.
2. **Staged.** The rows, read as ``episodes`` reads them (the csv module, cells stripped,
   blank lines skipped but counted), stream into a temporary table with ``COPY``: one
   text column for each column of the heading row, unknown ones too (every column is
   scanned for identifiers), numbered in order. The short way, for what a data
   warehouse sends (no quoted cell, no blank or ragged row, every time in UTC as
   ``2024-03-31T00:59:00Z``): blocks of lines go to COPY's own CSV reader, checked first
   in Python (vectorised) to read exactly as the csv module and ``episodes`` read them,
   into a table whose time columns are timestamps; PostgreSQL reads each time once, as a
   bare COPY does, and the checked rows are a view, not a second copy.
3. **Identifiers.** One aggregate query counts, column by column, the values that look
   like NHS numbers, dates of birth or people's names; ``episodes``' own rule then decides
   whether the file is refused.
4. **Validated.** One query parses every time as ``episodes.parse_time`` does (ISO 8601 or
   UK day-first; London wall-clock time unless a ``Z`` or an offset says otherwise; the
   hour the clocks skip or show twice is a problem, never a guess) and checks every row as
   ``episodes._record`` does, into a second temporary table: each row's instants and its
   number of problems. Episodes in the file twice are found among the rows whose ids'
   hashes repeat (kept while streaming), not by grouping every row.
5. **Reported.** Only the rows with problems come back to Python, where
   ``episodes._record`` itself words their problems (and the SQL count of each row's
   problems is checked against it); beyond ``episodes.MAX_LISTED`` problems rows are
   counted, not worded.
6. **Upserted** (``load_postgres``): episodes already stored are updated where something
   changed, new ones inserted, under a per-pathway lock; every column the ORM path writes
   (steps into their ``step_<slot>`` columns, ``loaded_at`` for new episodes only).

CSV only: a workbook (``.xlsx``) still goes through ``episodes.check_rows`` (``handles``
says which way a file goes). The SQL mirrors episodes' rules (its patterns, the identifier
tests, the row checks): tests/test_copy_load.py compares the two on every kind of file, so
a rule changed in one place and not the other fails there.
"""

from __future__ import annotations

import csv
import functools
import logging
import re
import sys
import time
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, islice
from operator import itemgetter, methodcaller
from pathlib import Path

import numpy as np
from django.db import IntegrityError, connection, transaction

from fca.dates import DayFirstWatch
from pathways import episodes
from pathways.models import MAX_STEPS

logger = logging.getLogger(__name__)

STAGING = "episode_staging"
CHECKED = "episode_checked"
BAD = "episode_bad"  # the checked rows with problems: ord, nprob
CHUNK_ROWS = 1000  # rows a COPY write: enough to amortise, few enough to stay in cache
MANY_TWICE = 100_000  # rows whose ids' hashes repeat, beyond which all rows are grouped

# The messages that exist only inline in episodes.check_rows (tests compare them with it).
NO_EPISODES = "The file has a heading row but no episodes"
EMPTY_FILE = "The file is empty"


def _also_on(episode_id: str, others: str) -> str:
    return f"Episode {episode_id} is also on line {others}"


# --- 1. The file ------------------------------------------------------------------------


def handles(path: Path, filename: str) -> bool:
    """Whether this module reads the file: anything ``episodes.read_rows`` would read as CSV
    (a workbook, by name or by its zip signature, keeps the Python path)."""
    if filename.lower().endswith(".xlsx"):
        return False
    with path.open("rb") as handle:
        return handle.read(4) != b"PK\x03\x04"


_CP1252_UNDEFINED = [bytes([b]) for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D)]


def detect_encoding(path: Path) -> str:
    """``episodes.detect_encoding``'s answer (one rule, in one place)."""
    return episodes.detect_encoding(path)


def _encoding(path: Path, filename: str) -> str:
    """As ``episodes.read_rows`` decides for a CSV file: its encoding, or its refusal."""
    if filename.lower().endswith((".xls", ".xlsb", ".ods")):
        episodes.read_rows(path, filename)  # refuses them, in its words
    return detect_encoding(path)


# --- 2. Staged --------------------------------------------------------------------------
# The rows are read as episodes._csv_rows reads them (the csv module; every cell
# stripped; a csv.Error refuses the file), a chunk at a time, and written to COPY with no
# Python code run per row when, as nearly always, no cell needs more than joining: the
# chunk is checked once for what would need work (a cell to strip, a blank row, a row of
# another width, a tab, line break or backslash in a cell) and only such a chunk is
# handled row by row. Rows are numbered by the table (ord, 1, 2, …); their line numbers
# in the file (csv records, as episodes counts them) differ only after blank rows, which
# are noted as they are skipped.

UNREADABLE = "The file is not a CSV file that can be read ({})"  # episodes._csv_rows' words
# What str.strip() strips (str.isspace), but tab, line feed and carriage return.
_RARE_SPACES = [chr(i) for i in range(128) if chr(i).isspace() and chr(i) not in " \t\n\r"]
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Python's \d (in episodes' patterns, and int()) is any Unicode decimal digit; SQL's
# patterns are written for 0-9, so a row holding another script's digits is flagged (u)
# and its digits are made 0-9 in SQL before it is parsed or scanned. Never in practice;
# exact all the same.
_OTHER_DIGIT = re.compile(r"[^\D0-9]")


@functools.cache
def _wide_space() -> re.Pattern:
    """Any whitespace beyond ASCII (no-break space, em space, …)."""
    spaces = [chr(i) for i in range(128, sys.maxunicode + 1) if chr(i).isspace()]
    return re.compile(f"[{''.join(spaces)}]")


# A space beside a cell separator or a line feed. (Starting with a literal space, the
# pattern is searched for at C speed; "[\t\n] |…" would be ten times slower.)
_SPACE_AT_EDGE = {
    "\t": re.compile(" (?:[\t\n]|(?<=[\t\n] ))"),
    ",": re.compile(" (?:[,\n]|(?<=[,\n] ))"),
}


def _edge_space(data: str, separator: str = "\t") -> bool:
    """Whether a cell of the chunk may have whitespace at its edge (cells joined by the
    separator, rows by line feeds, none holding either): a space at a cell's start or
    end, or any rarer whitespace anywhere."""
    return (
        data.startswith(" ") or data.endswith(" ")
        or _SPACE_AT_EDGE[separator].search(data) is not None
        or any(space in data for space in _RARE_SPACES)
        or (not data.isascii() and _wide_space().search(data) is not None)
    )  # fmt: skip


@functools.cache
def _other_digits() -> tuple[str, str]:
    """Every non-ASCII decimal digit, and its value as an ASCII digit (for translate())."""
    digits = [chr(i) for i in range(128, sys.maxunicode + 1) if chr(i).isdecimal()]
    return "".join(digits), "".join(str(int(d)) for d in digits)


_DIGIT_PLACES = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_SEPARATORS = np.frombuffer(b"--T::Z", dtype=np.uint8)
_REAL_MONTH_DAY = np.zeros(1300, dtype=bool)  # month * 100 + day, as _MONTH_DAY (below)
for _m, _days in enumerate((31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1):
    _REAL_MONTH_DAY[_m * 100 + 1 : _m * 100 + _days + 1] = True


def _utc_only(cells: list[str]) -> bool:
    """Whether every cell is empty or a time of the shape _fast calls ISO_Z (such as
    2024-03-31T00:59:00Z: years 1900-2199, a real month and day, a real hour, minute and
    second), or that shape on 29 February of a leap year. PostgreSQL then reads each
    exactly as episodes.parse_time does, by a plain cast: what a data warehouse sends
    takes _validate's short way. Vectorised: a cell costs nanoseconds."""
    if not set(map(len, cells)) <= {0, 20}:
        return False
    text = "".join(cells)
    if not text:
        return True
    if not text.isascii():
        return False
    cell = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(-1, 20)
    digits = cell[:, _DIGIT_PLACES] - np.uint8(48)  # anything but 0-9 wraps past 9
    if (digits > 9).any() or (cell[:, [4, 7, 10, 13, 16, 19]] != _SEPARATORS).any():
        return False
    d = digits.astype(np.int32)
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month_day = d[:, 4] * 1000 + d[:, 5] * 100 + d[:, 6] * 10 + d[:, 7]
    hour, minute, second = (d[:, i] * 10 + d[:, i + 1] for i in (8, 10, 12))
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return bool(
        ((year >= 1900) & (year <= 2199)).all()
        and (_REAL_MONTH_DAY[np.minimum(month_day, 1299)] | ((month_day == 229) & leap)).all()
        and (hour <= 23).all()
        and (minute <= 59).all()
        and (second <= 59).all()
    )


class _Stream:
    """Rows on their way into the staging table, and what is learnt of them on the way:
    the blank rows skipped, the rows with other scripts' digits, and a hash of each
    row's episode id (so that an episode twice in the file is found without a GROUP BY
    of every row)."""

    def __init__(self, copy, width: int, id_position: int | None, times: list[int]):
        self.copy, self.width, self.id_position = copy, width, id_position
        self.times = times  # the time columns' positions
        self.utc = True  # every time cell so far empty or one _utc_only reads
        self.staged = 0  # rows staged: their ords are 1 … staged
        self.blanks: list[int] = []  # for each blank row skipped, the rows staged before it
        self.other_digits: list[int] = []  # ords
        self.ids = array("q")  # hash(episode_id), by ord - 1
        # As episodes.check_rows watches times written day first: row by row, in order.
        self.day_first = DayFirstWatch()
        self.padding = [""] * width

    def write(self, raw: list[list[str]]) -> None:
        data = "\n".join(map("\t".join, raw))
        plain = (
            "\\" not in data
            and "\r" not in data
            and data.count("\n") == len(raw) - 1
            and data.count("\t") == sum(map(len, raw)) - len(raw) + raw.count([])
        )
        if (
            plain
            and not _edge_space(data)
            and all(map(any, raw))  # no blank row (no cell needs stripping to tell)
            and set(map(len, raw)) == {self.width}
        ):
            rows, text = raw, data
        else:
            rows = []
            for row in raw:
                row = [cell.strip() for cell in row]
                if not any(row):
                    self.blanks.append(self.staged + len(rows))  # formatting; counted
                    continue
                if len(row) != self.width:  # cells past the heading row are read by no rule
                    row = (row + self.padding)[: self.width]
                rows.append(row)
            if not rows:
                return
            text = "\n".join("\t".join(cell.translate(_COPY_ESCAPES) for cell in row)
                             for row in rows)  # fmt: skip
        if not text.isascii() and _OTHER_DIGIT.search(text):
            for i, row in enumerate(rows, start=self.staged + 1):
                if any(_OTHER_DIGIT.search(cell) for cell in row):
                    self.other_digits.append(i)
        if self.id_position is not None:
            self.ids.extend(map(hash, map(itemgetter(self.id_position), rows)))
        if self.utc:
            self.utc = all(_utc_only(list(map(itemgetter(p), rows))) for p in self.times)
        if not self.utc and not self.day_first.settled:
            by_row = zip(*(map(itemgetter(p), rows) for p in self.times), strict=True)
            self.day_first.see(chain.from_iterable(by_row))
        self.copy.write(text)
        self.copy.write("\n")
        self.staged += len(rows)

    def write_block(self, block: str) -> bool:
        """Stage a block of whole lines as PostgreSQL's COPY reads CSV, if that reads them
        exactly as the csv module and episodes do, and every time in them is one
        _utc_only reads; False (nothing written) if not. That holds when no cell is
        quoted or needs stripping, every line has the heading row's width and none is
        blank: what a data warehouse sends."""
        if "\r" in block:
            block = block.replace("\r\n", "\n")  # as the csv module ends a record
        if any(c in block for c in '"\r\\\t\x00'):
            return False
        body = block.removesuffix("\n")
        lines = body.split("\n")
        commas = self.width - 1
        if (
            set(map(methodcaller("count", ","), lines)) != {commas}
            or lines.count("," * commas)  # a blank row
            or max(map(len, lines)) > csv.field_size_limit()
            or _edge_space(body, ",")
        ):
            return False
        cells = body.replace("\n", ",").split(",")
        if not all(_utc_only(cells[p :: self.width]) for p in self.times):
            return False
        if not body.isascii() and _OTHER_DIGIT.search(body):
            self.other_digits += [i for i, line in enumerate(lines, start=self.staged + 1)
                                  if _OTHER_DIGIT.search(line)]  # fmt: skip
        if self.id_position is not None:
            self.ids.extend(map(hash, cells[self.id_position :: self.width]))
        self.copy.write(body + "\n")
        self.staged += len(lines)
        return True

    def line(self, ordinal: int) -> int:
        """The row's line number, as episodes numbers it (the heading row is line 1)."""
        return ordinal + 1 + bisect_right(self.blanks, ordinal - 1)

    def maybe_twice(self) -> list[int]:
        """The ords of the rows whose episode id's hash is another row's too: every row
        of an episode that is in the file twice (and, rarely, a few that are not)."""
        hashes = np.frombuffer(self.ids, dtype=np.int64)
        ordered = np.sort(hashes)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        if not len(repeated):
            return []
        return (np.flatnonzero(np.isin(hashes, repeated)) + 1).tolist()


@dataclass
class _Staged:
    report: episodes.Report
    header: list[str]
    columns: episodes.Columns
    stream: _Stream
    typed: bool = False  # staged the short way: time columns are timestamptz (_stage_typed)

    @property
    def other_digits(self) -> bool:
        return bool(self.stream.other_digits)

    @property
    def utc(self) -> bool:
        """Every time in the file empty or in UTC as ISO_Z: validated the short way."""
        return self.stream.utc


def _stage(cursor, path: Path, filename: str, step_codes: Sequence[str]) -> _Staged:
    """Stages 1 and 2: the report so far (heading problems, rows counted), rows staged:
    the short way (_stage_typed) when the file allows it, else row by row as text."""
    encoding = _encoding(path, filename)
    report = episodes.Report(encoding=encoding)
    typed = False
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        try:
            first = next(reader, None)
            header = None if first is None else [cell.strip() for cell in first]
            if header is None or not any(header):
                raise episodes.Refused(EMPTY_FILE)
            columns = episodes.read_header(header, step_codes, report)
            width = len(header)
            times = episodes.time_positions(columns)
            stream = _stage_typed(cursor, handle, width, columns, times)
            typed = stream is not None
        except csv.Error as error:
            raise episodes.Refused(UNREADABLE.format(error)) from None
    if not typed:
        stream = _stage_text(cursor, path, encoding, width, columns, times)
    report.rows, report.day_first = stream.staged, stream.day_first
    if stream.other_digits:
        cursor.execute(f"UPDATE {STAGING} SET u = true WHERE ord = ANY(%s)",
                       [stream.other_digits])  # fmt: skip
    return _Staged(report, header, columns, stream, typed)


class _NotShort(Exception):
    """The file cannot be staged the short way."""


BLOCK_CHARACTERS = 1 << 20  # a block of the short way, completed to the end of its line


def _stage_typed(cursor, handle, width: int, columns, times: list[int]) -> _Stream | None:
    """The short way: the rows (after the heading row, which ``handle`` has passed) go
    straight to COPY's own CSV reader, into a staging table whose time columns are
    timestamptz, so that PostgreSQL reads each time once, as a bare COPY would. Each
    block is first checked by _Stream.write_block; at the first that fails, everything
    staged so far is rolled back and None returned (the file goes row by row)."""
    if width < 2 or not times:
        return None
    kinds = ", ".join(f"c{i} {'timestamptz' if i in times else 'text'}" for i in range(width))
    cells = ", ".join(f"c{i}" for i in range(width))
    texts = ", ".join(f"c{i}" for i in range(width) if i not in times)
    try:
        with transaction.atomic():
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGING} (ord integer GENERATED ALWAYS AS IDENTITY, "
                f"u boolean NOT NULL DEFAULT false, {kinds}) ON COMMIT DROP"
            )
            # An unquoted empty cell is NULL in CSV: an empty time; empty text stays ''.
            with cursor.cursor.copy(
                f"COPY {STAGING} ({cells}) FROM STDIN (FORMAT csv, FORCE_NOT_NULL ({texts}))"
            ) as copy:
                stream = _Stream(copy, width, columns.index.get("episode_id"), times)
                while block := handle.read(BLOCK_CHARACTERS):
                    if not block.endswith("\n"):
                        block += handle.readline()
                    if not stream.write_block(block):
                        raise _NotShort
            return stream
    except _NotShort:
        return None


def _stage_text(cursor, path: Path, encoding: str, width: int, columns, times) -> _Stream:
    """Every cell as text, the rows read by the csv module, a chunk at a time."""
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # the heading row, read already
        cells = ", ".join(f"c{i}" for i in range(width))
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGING} (ord integer GENERATED ALWAYS AS IDENTITY, "
            f"u boolean NOT NULL DEFAULT false, {cells.replace(',', ' text,')} text) "
            "ON COMMIT DROP"
        )
        try:
            with cursor.cursor.copy(f"COPY {STAGING} ({cells}) FROM STDIN") as copy:
                stream = _Stream(copy, width, columns.index.get("episode_id"), times)
                while raw := list(islice(reader, CHUNK_ROWS)):
                    stream.write(raw)
        except csv.Error as error:
            raise episodes.Refused(UNREADABLE.format(error)) from None
    return stream


def _digits(cell: str, staged: _Staged) -> str:
    """SQL for a staged cell with its digits as 0-9 (see _OTHER_DIGIT)."""
    if not staged.other_digits:
        return cell
    return f"CASE WHEN s.u THEN translate({cell}, %(nd)s, %(nd_ascii)s) ELSE {cell} END"


def _params(staged: _Staged, **params) -> dict:
    if staged.other_digits:
        params["nd"], params["nd_ascii"] = _other_digits()
    return params


# --- 3. Identifiers ---------------------------------------------------------------------
# episodes._IdentifierWatch's tests, as SQL. Each cell gets a code (0 nothing, 1 an NHS
# number, 2 a date, 3 a name), cheap tests first so that most cells cost a first letter
# and a length; CASE keeps the casts from ever seeing anything but digits. Only rows with
# a hit reach the counting, and the filled cells of a column are counted only when the
# hits alone could refuse it.

_NHS_SHAPE = r"^[0-9]{3} ?[0-9]{3} ?[0-9]{4}$"
_DATE_ONLY = r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4})$"
_EXCEL_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} 00:00:00$"  # a date as Excel keeps it
_PERSON_NAME = r"^[A-Z][a-z]+(?:[ ''-][A-Z][a-z]+)+$"  # '' : a quote, in SQL
_KINDS = ("NHS numbers", "dates of birth", "names")  # codes 1, 2, 3
_REFUSING = 5  # episodes._IdentifierWatch refuses a column with at least 5 (and a majority)


def _nhs_number(n: str) -> str:
    """fca.identifiers.is_nhs_number, for a cell already known to be 8-12 ASCII characters
    starting with a digit: ten digits (3-3-4 spaces allowed) that pass modulus 11."""
    d = f"replace({n}, ' ', '')"
    weighted = " + ".join(f"substr({d}, {k}, 1)::int * {11 - k}" for k in range(1, 10))
    # 11 - sum mod 11, where 11 means 0, and 10 (no valid number) equals no digit
    return (
        f"CASE WHEN {n} ~ '{_NHS_SHAPE}' "
        f"THEN mod(11 - mod({weighted}, 11), 11) = substr({d}, 10, 1)::int END"
    )


def _identifier(c: str, n: str, names: bool) -> str:
    """The cell's code. NHS numbers and dates are all ASCII (after _digits), so their
    lengths in bytes are their lengths; both start with a digit and cannot overlap (a date
    has a - or a /). A name starts with a capital and a small letter."""
    excel = f"{n} LIKE '____-__-__ 00:00:00' AND {n} ~ '{_EXCEL_DATE}'"
    name = (
        f"WHEN ascii({c}) BETWEEN 65 AND 90 AND ascii(substr({c}, 2, 1)) BETWEEN 97 AND 122 "
        f"AND octet_length({c}) < 40 AND {c} ~ '{_PERSON_NAME}' THEN 3 "
        if names
        else ""
    )
    return (
        f"CASE WHEN ascii({n}) BETWEEN 48 AND 57 AND octet_length({n}) BETWEEN 8 AND 12 THEN "
        f"CASE WHEN octet_length({n}) >= 10 AND {_nhs_number(n)} THEN 1 "
        f"WHEN octet_length({n}) <= 10 AND {n} ~ '{_DATE_ONLY}' THEN 2 ELSE 0 END "
        f"WHEN octet_length({n}) = 19 AND {excel} THEN 2 "
        f"{name}ELSE 0 END"
    )


def _refuse_identifiers(cursor, staged: _Staged) -> None:
    """Stage 3: count, per column, what episodes._IdentifierWatch counts, and let its
    verdict refuse the file (in its words)."""
    header, width = staged.header, len(staged.header)
    # A time column of a file whose times are all ISO_Z (or empty) holds none: no cell
    # starts with a capital, or is 8-12 or 19 characters long.
    times = set(staged.stream.times) if staged.utc else set()
    codes = [
        # "Care Home" is a destination, not a person: names are not counted there
        "0" if i in times else _identifier(f"s.c{i}", _digits(f"s.c{i}", staged),
                                           names=header[i].strip().lower() != "destination")
        for i in range(width)
    ]  # fmt: skip
    counts = [f"count(*) FILTER (WHERE x{i} = {code})" for i in range(width) for code in (1, 2, 3)]
    cursor.execute(
        f"SELECT {', '.join(counts)} FROM "
        f"(SELECT {', '.join(f'{sql} AS x{i}' for i, sql in enumerate(codes))} "
        f"FROM {STAGING} s OFFSET 0) x WHERE {' OR '.join(f'x{i} > 0' for i in range(width))}",
        _params(staged),
    )
    found = cursor.fetchone()
    watch = episodes._IdentifierWatch(width)
    for k, kind in enumerate(_KINDS):
        watch.hits[kind] = list(found[k::3])
    suspects = [i for i in range(width) if any(watch.hits[kind][i] >= _REFUSING for kind in _KINDS)]
    if suspects:
        cursor.execute(
            f"SELECT {', '.join(f'count(*) FILTER (WHERE c{i} <> %s)' for i in suspects)} "
            f"FROM {STAGING}",
            [""] * len(suspects),
        )
        for i, filled in zip(suspects, cursor.fetchone(), strict=True):
            watch.filled[i] = filled
    # Columns with fewer hits keep filled = 0: the verdict needs at least 5 hits anyway.
    watch.verdict(header)


# --- 4. Validated -----------------------------------------------------------------------
# episodes.parse_time as SQL, in steps, each a subquery kept apart by OFFSET 0 (so that
# PostgreSQL computes an expression once a row, however often the next step uses it):
#   fast    the time's shape, when it is one of the common ones and its fields make a real
#           date and time (0 empty; otherwise GENERAL);
#   wall    the wall-clock time, and its offset (minutes east of UTC; NULL: London time);
#   local   PostgreSQL's reading of a London time;
#   instant, in range or not, and the row's problems.
# The common shapes are recognised without a regular expression: LIKE (the cheapest test
# PostgreSQL has) fixes the length and the separators, and every other place is covered
# by a lookup in a small set of valid fields ("07-31", "23:59", "59"), hashed by
# PostgreSQL, so that the digits and the calendar are checked at once. PostgreSQL's own
# input function then reads them. Anything else (fractions, offsets, one-digit days,
# 29 February, mistakes) takes the general way: episodes' patterns, translated, and the
# fields one by one.

_ISO = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
_UK = r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?$"
EMPTY, ISO_Z, ISO_SECONDS, ISO_MINUTES, UK_MINUTES, UK_SECONDS, GENERAL = 0, 1, 2, 3, 4, 5, 9
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29 February: the general way


def _set(values) -> str:
    return "'{" + ",".join(values) + "}'::text[]"


_YEARS = _set(str(year) for year in range(1900, 2200))  # others: the general way
_SIXTY = _set(f"{i:02d}" for i in range(60))
_HOURS_MINUTES = _set(f"{h:02d}:{m:02d}" for h in range(24) for m in range(60))
_MONTH_DAY = _set(f"{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, _DAYS[m - 1] + 1))
_DAY_MONTH = _set(f"{d:02d}/{m:02d}" for m in range(1, 13) for d in range(1, _DAYS[m - 1] + 1))


def _fast(n: str) -> str:
    """The time's fast shape (see above), GENERAL, or EMPTY. LIKE places the separators
    and the length; the lookups cover every other place: the year, month-day (or
    day/month), hour:minute (both families have it in places 12-16, after a
    10-character date) and seconds (18-19)."""
    time = f"substr({n}, 12, 5) = ANY({_HOURS_MINUTES})"
    seconds = f"substr({n}, 18, 2) = ANY({_SIXTY})"
    iso = (
        f"CASE WHEN {n} LIKE '____-__-__T__:__:__Z' AND {seconds} THEN {ISO_Z} "
        f"WHEN ({n} LIKE '____-__-__ __:__:__' OR {n} LIKE '____-__-__T__:__:__') "
        f"AND {seconds} THEN {ISO_SECONDS} "
        f"WHEN {n} LIKE '____-__-__ __:__' OR {n} LIKE '____-__-__T__:__' THEN {ISO_MINUTES} "
        f"ELSE {GENERAL} END"
    )
    uk = (
        f"CASE WHEN octet_length({n}) = 16 THEN {UK_MINUTES} "
        f"WHEN {n} LIKE '__/__/____ __:__:__' AND {seconds} THEN {UK_SECONDS} "
        f"ELSE {GENERAL} END"
    )
    return (
        f"CASE WHEN {n} = '' THEN {EMPTY} "
        f"WHEN {n} LIKE '____-__-__%%' THEN CASE WHEN left({n}, 4) = ANY({_YEARS}) "
        f"AND substr({n}, 6, 5) = ANY({_MONTH_DAY}) AND {time} THEN {iso} ELSE {GENERAL} END "
        f"WHEN {n} LIKE '__/__/____ __:__%%' THEN CASE WHEN left({n}, 5) = ANY({_DAY_MONTH}) "
        f"AND substr({n}, 7, 4) = ANY({_YEARS}) AND {time} THEN {uk} ELSE {GENERAL} END "
        f"ELSE {GENERAL} END"
    )  # (%% is %: these queries are run with parameters)


def _real(y: str, mo: str, d: str, h: str, mi: str, s: str, us: str = "0") -> str:
    """The wall-clock time from these fields when they make a real one (as Python's
    datetime: years 1-9999, no 24:00, no leap second), NULL otherwise: make_timestamp
    raises on what is not real, so the CASE checks first."""
    leap = f"(mod({y}, 4) = 0 AND (mod({y}, 100) <> 0 OR mod({y}, 400) = 0))"
    days = (
        f"CASE WHEN {mo} IN (4, 6, 9, 11) THEN 30 "
        f"WHEN {mo} = 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END ELSE 31 END"
    )
    second = s if us == "0" else f"{s} + {us} / 1000000.0::float8"
    return (
        f"CASE WHEN {y} >= 1 AND {mo} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days} "
        f"AND {h} <= 23 AND {mi} <= 59 AND {s} <= 59 "
        f"THEN make_timestamp({y}, {mo}, {d}, {h}, {mi}, {second}) END"
    )


def _general(n: str) -> tuple[str, str]:
    """The wall-clock time and offset of any time episodes.parse_time reads, the fields
    one by one (the pattern has matched: each is where it is expected, and digits)."""
    fraction = (
        f"rpad(split_part(split_part(split_part(substr({n}, 21), 'Z', 1), '+', 1), '-', 1),"
        " 6, '0')::int"
    )
    iso = _real(
        f"substr({n}, 1, 4)::int", f"substr({n}, 6, 2)::int", f"substr({n}, 9, 2)::int",
        f"substr({n}, 12, 2)::int", f"substr({n}, 15, 2)::int",
        f"CASE WHEN substr({n}, 17, 1) = ':' THEN substr({n}, 18, 2)::int ELSE 0 END",
        f"CASE WHEN substr({n}, 20, 1) = '.' THEN {fraction} ELSE 0 END",
    )  # fmt: skip
    time = f"split_part({n}, ' ', 2)"
    uk = _real(
        f"substr(split_part({n}, '/', 3), 1, 4)::int", f"split_part({n}, '/', 2)::int",
        f"split_part({n}, '/', 1)::int", f"split_part({time}, ':', 1)::int",
        f"split_part({time}, ':', 2)::int",
        f"coalesce(nullif(split_part({time}, ':', 3), '')::int, 0)",
    )  # fmt: skip
    # An offset is the last 6 (+01:00) or 5 (+0100) characters.
    at6, at5 = f"substr({n}, length({n}) - 5, 1)", f"substr({n}, length({n}) - 4, 1)"
    off6 = f"substr({n}, length({n}) - 4, 2)::int * 60 + right({n}, 2)::int"
    off5 = f"substr({n}, length({n}) - 3, 2)::int * 60 + right({n}, 2)::int"
    offset = (
        f"CASE WHEN {n} ~ '{_ISO}' THEN CASE WHEN right({n}, 1) = 'Z' THEN 0 "
        f"WHEN {at6} IN ('+', '-') THEN CASE {at6} WHEN '-' THEN -1 ELSE 1 END * ({off6}) "
        f"WHEN {at5} IN ('+', '-') THEN CASE {at5} WHEN '-' THEN -1 ELSE 1 END * ({off5}) "
        "END END"
    )
    return f"CASE WHEN {n} ~ '{_ISO}' THEN {iso} WHEN {n} ~ '{_UK}' THEN {uk} END", offset


def _wall(n: str, f: str) -> tuple[str, str]:
    """The wall-clock time and offset of a time whose fast shape is f (ISO_Z's instant
    is read at once, see _validate)."""
    general_wall, general_offset = _general(n)
    uk = _real(
        f"substr({n}, 7, 4)::int", f"substr({n}, 4, 2)::int", f"left({n}, 2)::int",
        f"substr({n}, 12, 2)::int", f"substr({n}, 15, 2)::int",
        f"CASE WHEN {f} = {UK_SECONDS} THEN substr({n}, 18, 2)::int ELSE 0 END",
    )  # fmt: skip
    wall = (
        f"CASE {f} WHEN {EMPTY} THEN NULL WHEN {ISO_Z} THEN NULL "
        f"WHEN {ISO_SECONDS} THEN {n}::timestamp WHEN {ISO_MINUTES} THEN {n}::timestamp "
        f"WHEN {UK_MINUTES} THEN {uk} WHEN {UK_SECONDS} THEN {uk} "
        f"ELSE {general_wall} END"
    )
    offset = f"CASE {f} WHEN {GENERAL} THEN {general_offset} END"
    return wall, offset


def _instant(p: str) -> str:
    """The instant of a time; NULL when there is none, or none that is right. London
    time is PostgreSQL's reading of it ({p}i): for a time the clocks skip, an instant
    that reads back as another time; for one they show twice, the later instant (and
    the one an hour before reads back the same)."""
    wall, i = f"{p}w", f"{p}i"
    return (
        f"CASE WHEN {p}z IS NOT NULL THEN {p}z WHEN {p}o = 0 THEN {wall} AT TIME ZONE 'UTC' "
        f"WHEN {p}o IS NOT NULL THEN ({wall} - {p}o * interval '1 minute') AT TIME ZONE 'UTC' "
        f"WHEN ({i} AT TIME ZONE 'Europe/London') = {wall} "
        f"AND (({i} - interval '1 hour') AT TIME ZONE 'Europe/London') <> {wall} THEN {i} END"
    )


@dataclass
class _Plan:
    """What the validating query reads: each time column's staged position (None when the
    file has no such column), in episodes._record's order."""

    times: list[tuple[str, int | None]]  # (column name, position)
    episode_id: int
    destination: int | None


def _plan(staged: _Staged) -> _Plan:
    index, steps = staged.columns.index, staged.columns.steps
    times = [(name, index.get(name)) for name in episodes.TIME_COLUMNS]
    times += list(steps.items())
    return _Plan(times, index["episode_id"], index.get("destination"))


def _validate(cursor, staged: _Staged, plan: _Plan, now: datetime) -> None:
    """Stage 4: the table of checked rows: ord, eid, dest, t0… (each time column's
    instant when it is right, NULL otherwise) and nprob, the number of problems
    episodes._record finds in the row."""
    present = [j for j, (_, p) in enumerate(plan.times) if p is not None]
    keep = ["q.ord", "q.eid", "q.dest"]

    def step(source: str, columns: list[str]) -> str:
        return f"(SELECT {', '.join(columns)} FROM {source} q OFFSET 0)"

    dest = f"s.c{plan.destination}" if plan.destination is not None else "''::text"
    first = ["s.ord", f"s.c{plan.episode_id} AS eid", f"{dest} AS dest"]
    if staged.typed:  # the short way: read by COPY
        first += [f"s.c{plan.times[j][1]} IS NULL AS e{j}" for j in present]
        first += [f"s.c{plan.times[j][1]} AS t{j}at" for j in present]
        q = f"(SELECT {', '.join(first)} FROM {STAGING} s)"
    elif staged.utc:  # every time is empty or ISO_Z: read by a cast
        first += [f"s.c{plan.times[j][1]} = '' AS e{j}" for j in present]
        first += [f"nullif(s.c{plan.times[j][1]}, '')::timestamptz AS t{j}at" for j in present]
        q = f"(SELECT {', '.join(first)} FROM {STAGING} s OFFSET 0)"
    else:
        q = _instants(staged, plan, first, present, keep, step)
    _check(cursor, staged, plan, q, now)


def _instants(staged: _Staged, plan: _Plan, first, present, keep, step) -> str:
    """The general way: the query giving each time's instant (t{j}at), classified by
    _fast and read field by field where it is not ISO_Z."""
    first += [f"{_digits(f's.c{plan.times[j][1]}', staged)} AS n{j}" for j in present]
    q = f"(SELECT {', '.join(first)} FROM {STAGING} s OFFSET 0)"
    q = step(q, ["q.*", *(f"{_fast(f'q.n{j}')} AS f{j}" for j in present)])
    walls = []
    for j in present:
        wall, offset = _wall(f"q.n{j}", f"q.f{j}")
        walls += [
            f"q.f{j} = {EMPTY} AS e{j}",
            f"{wall} AS t{j}w",
            f"{offset} AS t{j}o",
            f"CASE WHEN q.f{j} = {ISO_Z} THEN q.n{j}::timestamptz END AS t{j}z",
        ]
    q = step(q, keep + walls)
    local = [
        f"CASE WHEN q.t{j}o IS NULL AND q.t{j}w IS NOT NULL "
        f"THEN q.t{j}w AT TIME ZONE 'Europe/London' END AS t{j}i"
        for j in present
    ]
    q = step(q, ["q.*", *local])
    return step(q, keep + [f"q.e{j}" for j in present] + [f"{_instant(f'q.t{j}')} AS t{j}at"
                                                          for j in present])  # fmt: skip


def _check(cursor, staged: _Staged, plan: _Plan, q: str, now: datetime) -> None:
    """The checked rows' table from the query of instants: each in range or NULL, and
    the row's problems."""
    # The last step: in range or not, and the row's problems, counted as _record counts.
    values, problems = [], ["(q.eid = '' OR char_length(q.eid) > %(id_length)s)::int"]
    in_range = "BETWEEN %(earliest)s AND %(latest)s"
    for j, (name, p) in enumerate(plan.times):
        if p is None:
            values.append(f"NULL::timestamptz AS t{j}")
            continue
        at = f"q.t{j}at"
        values.append(f"CASE WHEN {at} {in_range} THEN {at} END AS t{j}")
        empty = "1" if name == "arrived_at" else "0"  # only the arrival must be there
        problems.append(f"CASE WHEN q.e{j} THEN {empty} WHEN {at} {in_range} THEN 0 ELSE 1 END")
    arrived = "q.t0at"  # arrived_at: always there when rows are checked
    for j, (name, p) in enumerate(plan.times):
        if p is not None and name not in ("arrived_at", "discharge_ready_at"):
            problems.append(
                f"CASE WHEN q.t{j}at < {arrived} AND q.t{j}at {in_range} "
                f"AND {arrived} {in_range} THEN 1 ELSE 0 END"
            )
    problems.append("(char_length(q.dest) > 100)::int")
    select = ", ".join(["q.ord", "q.eid", "q.dest", *values, f"{' + '.join(problems)} AS nprob"])
    # Staged the short way, the rows are checked as they are read (a few cheap tests on
    # timestamps): a view, not a second copy of every row.
    kind = "VIEW" if staged.typed else "TABLE"
    cursor.execute(
        f"CREATE TEMPORARY {kind} {CHECKED} {'' if staged.typed else 'ON COMMIT DROP'} "
        f"AS SELECT {select} FROM {q} q",
        _params(staged, id_length=episodes.MAX_ID_LENGTH, earliest=episodes.EARLIEST,
                latest=now + _HOUR),
    )  # fmt: skip


def _twice(cursor, staged: _Staged) -> list[tuple[str, list[int]]]:
    """Episodes on more than one otherwise good row, as check_rows lists them: in the
    order their second row comes, each with its rows (ords) in order. Only the rows
    whose ids' hashes repeat are grouped."""
    maybe = staged.stream.maybe_twice()
    if not maybe:
        return []
    few = len(maybe) < MANY_TWICE  # else a file of repeats: group every row
    cursor.execute(
        f"SELECT eid, array_agg(ord ORDER BY ord) FROM {CHECKED} k "
        f"WHERE NOT EXISTS (SELECT FROM {BAD} b WHERE b.ord = k.ord) "
        f"{'AND ord = ANY(%(maybe)s)' if few else ''} GROUP BY eid HAVING count(*) > 1 "
        "ORDER BY (array_agg(ord ORDER BY ord))[2]",
        {"maybe": maybe},
    )
    return cursor.fetchall()


# --- 5. Reported ------------------------------------------------------------------------


def _report(cursor, staged: _Staged, now: datetime, twice) -> episodes.Report:
    """The report, completed: the rows' problems and the episodes twice in the file."""
    report, width, line = staged.report, len(staged.header), staged.stream.line
    # Word the first rows' problems with episodes._record itself, until the list is full.
    cursor.execute(
        f"SELECT ord, nprob FROM {BAD} ORDER BY ord LIMIT %s",
        [episodes.MAX_LISTED],
    )
    first = cursor.fetchall()
    last = 0
    if first:
        times = staged.stream.times if staged.typed else ()
        cells = [
            # a time the short way read, written back as the file had it (ISO_Z's shape)
            f"coalesce(to_char(c{i} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"
            if i in times else f"c{i}"
            for i in range(width)
        ]  # fmt: skip
        cursor.execute(
            f"SELECT ord, {', '.join(cells)} FROM {STAGING} WHERE ord = ANY(%s)",
            [[ordinal for ordinal, _ in first]],
        )
        cells = {ordinal: row for ordinal, *row in cursor.fetchall()}
        for ordinal, count in first:
            if len(report.problems) >= episodes.MAX_LISTED:
                break
            before = report.problem_count
            episodes._record(line(ordinal), cells[ordinal], staged.columns, report, now)
            if report.problem_count - before != count:
                raise RuntimeError(
                    f"Line {line(ordinal)}: SQL counts {count} problems, episodes "
                    f"{report.problem_count - before}"
                )
            last = ordinal
        # The rest are counted, not worded: the report keeps the first MAX_LISTED.
        cursor.execute(
            f"SELECT ord, nprob FROM {BAD} WHERE ord > %s ORDER BY ord",
            [last],
        )
        for ordinal, count in cursor.fetchall():
            report.problem_count += count
            report.bad_lines.add(line(ordinal))
    for episode_id, ordinals in twice:
        lines = [line(ordinal) for ordinal in ordinals]
        for at in lines:
            others = ", ".join(str(other) for other in lines if other != at)
            report.add(at, "episode_id", _also_on(episode_id, others))
    return report


# --- The two entry points ---------------------------------------------------------------

_HOUR = timedelta(hours=1)


class _Clock:
    """Each stage's seconds, added into the caller's dict if it gave one."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings, self.last = timings, time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def _checked(cursor, path, filename, step_codes, max_bytes, now, clock: _Clock):
    """Stages 1-4, and whether the rows were checked at all (not when a required column
    is missing, as in check_rows)."""
    episodes.check_file(path, max_bytes=max_bytes)
    if not handles(path, filename):
        raise ValueError("A workbook is read by episodes.check_rows, not here")
    staged = _stage(cursor, path, filename, step_codes)
    clock.lap("staged")
    _refuse_identifiers(cursor, staged)
    if staged.report.rows == 0:
        raise episodes.Refused(NO_EPISODES)
    clock.lap("identifiers")
    if any(name not in staged.columns.index for name in episodes.REQUIRED):
        staged.report.missing_required = True  # as check_rows: no row can be loaded
        return staged, False
    _validate(cursor, staged, _plan(staged), now)
    cursor.execute(
        f"CREATE TEMPORARY TABLE {BAD} ON COMMIT DROP AS "
        f"SELECT ord, nprob FROM {CHECKED} WHERE nprob > 0"
    )
    clock.lap("validated")
    return staged, True


def _drop(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING} CASCADE")  # the short way's view too
    cursor.execute(f"DROP TABLE IF EXISTS {CHECKED}, {BAD}")


@contextmanager
def _session(cursor):
    """The settings these queries want, for as long as they run: no JIT (compiling their
    long expressions takes longer than running them: 2 s of 5 at a million rows)."""
    cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
    jit = cursor.fetchone()[0]
    yield
    cursor.execute("SELECT set_config('jit', %s, true)", [jit])


def check_postgres(
    path: Path,
    filename: str,
    *,
    pathway_id: int,
    step_codes: Sequence[str],
    max_bytes: int,
    now: datetime,
    timings: dict[str, float] | None = None,
) -> episodes.Report:
    """The report ``episodes.check_rows`` gives for this CSV file, problem for problem;
    ``episodes.Refused`` raised as it raises it. (``pathway_id`` is not needed to check;
    ``timings``, if given, gets each stage's seconds.)"""
    clock = _Clock(timings)
    with transaction.atomic(), connection.cursor() as cursor, _session(cursor):
        staged, checked = _checked(cursor, path, filename, step_codes, max_bytes, now, clock)
        report = _report(cursor, staged, now, _twice(cursor, staged)) if checked else staged.report
        _drop(cursor)
    clock.lap("reported")
    return report


def load_postgres(
    path: Path,
    filename: str,
    *,
    pathway_id: int,
    step_slots: dict[str, int],
    max_bytes: int,
    now: datetime,
    valid_only: bool,
    confirm: Callable[[episodes.Report], object] | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[int, int]:
    """Store the file's valid episodes in the pathway: (added, updated), counted as
    ``services.load_upload`` counts them (an episode already stored counts as updated
    even when nothing in it changes). Run it inside the caller's transaction: it holds
    the pathway's episode lock (``lock_episodes``) until that transaction ends.

    ``confirm``, if given, is called with the file's report (check_postgres's) before
    anything is written: raising there stops the load, with nothing stored (as
    load_upload does when the report is no longer the one the person confirmed).
    Like the Python path it stores the rows that are valid now. A file the person chose
    to load whole (``valid_only`` false) should have none with problems; if it has some,
    that is logged. (``timings``, if given, gets each stage's seconds.)"""
    clock = _Clock(timings)
    with transaction.atomic(), connection.cursor() as cursor, _session(cursor):
        staged, checked = _checked(cursor, path, filename, list(step_slots), max_bytes, now,
                                   clock)  # fmt: skip
        twice = _twice(cursor, staged) if checked else []
        if confirm is not None:
            confirm(_report(cursor, staged, now, twice) if checked else staged.report)
        if not checked:
            _drop(cursor)
            return 0, 0
        # Neither line of an episode that is in the file twice is loaded.
        twice_ids = [episode_id for episode_id, _ in twice]
        cursor.execute(f"SELECT count(*) FROM {BAD}")
        rows = staged.report.rows
        good = rows - cursor.fetchone()[0] - sum(len(ordinals) for _, ordinals in twice)
        if not valid_only and (good < rows or staged.report.problem_count):
            logger.warning("Loading the %s valid rows of %s: the file has problems now",
                           good, rows)  # fmt: skip
        clock.lap("validated")
        added = _upsert(cursor, staged, pathway_id, step_slots, now, twice_ids)
        _drop(cursor)
        clock.lap("upserted")
    return added, good - added


# --- 6. Upserted ------------------------------------------------------------------------

_FIELDS = ["arrived_at", "departed_at", "discharge_ready_at", "destination",
           *(f"step_{slot}" for slot in range(1, MAX_STEPS + 1))]  # fmt: skip
_LOCK_CLASS = 0x45504953  # "EPIS": the high half of the advisory lock's key


def lock_episodes(pathway_id: int) -> None:
    """Take the pathway's episode lock until the transaction ends: loads of one pathway
    then run one after the other. (The ORM path takes it too, so that a load here never
    meets an episode another load has just added and not yet committed.) The pathway's
    row is held FOR KEY SHARE, as a foreign key's check would hold it: it cannot be
    deleted under the load, leaving episodes of no pathway (Episode.pathway)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [(_LOCK_CLASS << 32) | pathway_id])
        cursor.execute("SELECT FROM pathways_pathway WHERE id = %s FOR KEY SHARE", [pathway_id])


def _upsert(cursor, staged: _Staged, pathway_id: int, step_slots, now, twice_ids) -> int:
    """Stage 6: the valid rows into pathways_episode; how many were added. Every column
    services.EPISODE_FIELDS names is written (a step the file does not give is emptied,
    as the ORM path does), loaded_at only when the episode is new; a row that would not
    change is not written at all.

    Episodes already stored are updated with one UPDATE … FROM, and the new ones added
    with a plain INSERT … WHERE NOT EXISTS, under the pathway's episode lock: faster than
    INSERT … ON CONFLICT, whose insertion is speculative row by row (1.7 s more for a
    million new rows). Should another writer that does not take the lock have added one
    of the episodes meanwhile, the INSERT fails on the unique index, and the rows go in
    with INSERT … ON CONFLICT DO UPDATE instead."""
    plan = _plan(staged)
    position = {name: j for j, (name, _) in enumerate(plan.times)}
    value = {"arrived_at": "k.t0", "departed_at": "k.t1", "discharge_ready_at": "k.t2",
             "destination": "k.dest"}  # fmt: skip
    for slot in range(1, MAX_STEPS + 1):
        codes = [code for code, s in step_slots.items() if s == slot and code in position]
        value[f"step_{slot}"] = f"k.t{position[codes[0]]}" if codes else "NULL::timestamptz"
    new = ", ".join(value[c] for c in _FIELDS)
    stored = f"({', '.join(f'e.{c}' for c in _FIELDS)})"
    columns = f"pathway_id, episode_id, {', '.join(_FIELDS)}, loaded_at"
    params = {"pathway": pathway_id, "now": now, "twice": twice_ids}
    # Rows with no problem, of no episode that is in the file twice.
    wanted = f"NOT EXISTS (SELECT FROM {BAD} b WHERE b.ord = k.ord) AND k.eid <> ALL(%(twice)s)"
    lock_episodes(pathway_id)
    cursor.execute(f"ANALYZE {STAGING if staged.typed else CHECKED}")  # the planner's joins
    cursor.execute(
        f"UPDATE pathways_episode e SET {', '.join(f'{c} = {value[c]}' for c in _FIELDS)} "
        f"FROM {CHECKED} k WHERE {wanted} AND e.pathway_id = %(pathway)s "
        f"AND e.episode_id = k.eid AND {stored} IS DISTINCT FROM ({new})",
        params,
    )
    try:
        with transaction.atomic():
            cursor.execute(
                f"INSERT INTO pathways_episode ({columns}) "
                f"SELECT %(pathway)s, k.eid, {new}, %(now)s FROM {CHECKED} k "
                f"WHERE {wanted} AND NOT EXISTS (SELECT FROM pathways_episode e "
                "WHERE e.pathway_id = %(pathway)s AND e.episode_id = k.eid)",
                params,
            )
            return cursor.rowcount
    except IntegrityError:  # another writer added one of them after this UPDATE looked
        logger.info("Pathway %s: an episode was added meanwhile; upserting instead", pathway_id)
    cursor.execute(
        f"WITH upserted AS (INSERT INTO pathways_episode AS e ({columns}) "
        f"SELECT %(pathway)s, k.eid, {new}, %(now)s FROM {CHECKED} k WHERE {wanted} "
        f"ON CONFLICT (pathway_id, episode_id) DO UPDATE "
        f"SET {', '.join(f'{c} = EXCLUDED.{c}' for c in _FIELDS)} "
        f"WHERE {stored} IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in _FIELDS)}) "
        "RETURNING e.xmax = 0 AS added) "
        "SELECT count(*) FILTER (WHERE added) FROM upserted",
        params,
    )
    return cursor.fetchone()[0]
