"""Checking and loading episode files on PostgreSQL (pathways/copyload.py): the same report
as the Python path (pathways/episodes.py), problem for problem, on every file that path
reads as CSV; the same episodes stored as the ORM path stores; loading idempotent."""

import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pathways import copyload, episodes, services
from pathways.models import Episode, Pathway, Step

pytestmark = pytest.mark.postgres_only

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HEADER = "episode_id,arrived_at,departed_at,theatre,destination\n"
STEPS = ("theatre",)


def _write(tmp_path: Path, content: str | bytes, name: str) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def _outcome(check, path: Path, name: str, steps, limit: int):
    """What a checker makes of a file: its report (and bad lines), or its refusal."""
    try:
        report = check(path, name, steps, limit)
    except episodes.Refused as refusal:
        return ("refused", str(refusal))
    return ("report", report.as_dict(), sorted(report.bad_lines))


def _python(path, name, steps, limit):
    return episodes.check_rows(path, name, step_codes=steps, max_bytes=limit, now=NOW)[0]


def _postgres(path, name, steps, limit):
    return copyload.check_postgres(path, name, pathway_id=0, step_codes=steps,
                                   max_bytes=limit, now=NOW)  # fmt: skip


def assert_same(tmp_path, content, name="episodes.csv", steps=STEPS, limit=10**7):
    path = _write(tmp_path, content, name)
    python = _outcome(_python, path, name, steps, limit)
    postgres = _outcome(_postgres, path, name, steps, limit)
    assert postgres == python
    return python


# --- The cases of tests/test_episode_files.py that are CSV, and harder ones ---------------

ISO_AND_UK = [
    "2026-07-01T09:30:15.25", "2026-07-01T09:30Z", "2026-07-01T09:30+02:00",
    "2026-10-25T01:30+01:00", "2026-10-25T01:30+0000", "29/03/2026 00:59", "29/03/2026 02:00",
    "25/10/2026 02:00", "29/03/2026 01:30", "2026-03-29T01:00", "25/10/2026 01:30",
    "2026-10-25 01:00", "31/02/2026 10:00", "2026-07-01T24:10", "yesterday", "01/07/2026",
    "03/12/2027 10:00", "1999-12-31T23:00Z", "2026-07-01T09:30", "2026-07-03 11:00",
    "01/07/2026 20:15", "01/12/2025 08:00",
]  # fmt: skip

CASES = {
    "good rows": HEADER
    + ("A1,2026-07-01T09:30,2026-07-03 11:00,01/07/2026 20:15,Home\nA2,01/12/2025 08:00,,,\n"),
    "every bad row": HEADER
    + (
        "A1,2026-07-01T09:30,2026-06-30T09:30,,\n"
        "A2,2026-07-01T09:30,,2026-07-01T08:00,\n"
        ",2026-07-01T09:30,,,\n"
        "A4,,,,\n"
        "A5,29/03/2026 01:30,,,\n"
        "A6,2026-07-02T10:00,,,Home\n"
    ),
    # The first time that could be month first is the first row's departure (row by row,
    # not column by column); one with a day over 12 settles it.
    "day first, none over 12": HEADER
    + (
        "A1,05/05/2026 10:00,06/07/2026 10:00,,\n"
        "A2,02/03/2026 10:00,,\t03/04/2026   11:00 ,\n"
        '"A3","1/2/26 10:00",,,\n'
    ),
    "day first, settled": HEADER
    + "A1,05/05/2026 10:00,06/07/2026 10:00,,\nA2,02/03/2026 10:00,,13/04/2026 11:00,\n",
    "twice": HEADER + "A1,2026-07-01T09:30,,,\nA2,2026-07-01T10:30,,,\nA1,2026-07-01T11:30,,,\n",
    "three times, and two interleaved": HEADER
    + (
        "A1,2026-07-01T09:30,,,\nB1,2026-07-01T09:30,,,\nB1,2026-07-01T09:30,,,\n"
        "A1,2026-07-01T10:30,,,\nC1,2026-07-01T10:30,,,\nA1,2026-07-01T11:30,,,\n"
        "C1,2026-07-01T10:30,2026-07-01T09:00,,\n"  # a bad line is no second copy
    ),
    "unknown and missing columns": "episode_id,arrived,ward\nA1,2026-07-01T09:30,7\n",
    "an unknown column": "episode_id,arrived_at,ward\nA1,2026-07-01T09:30,7\n",
    "columns twice, blank and shouting": (
        " Episode_ID ,ARRIVED_AT,arrived_at,,theatre,Theatre,destination\n"
        "A1,2026-07-01T09:30,bad,x,2026-07-01T10:00,bad,Home\n"
        "A2,2026-07-01T09:30,,,2026-07-01T08:00,,\n"
    ),
    "no arrived_at column, rows kept": "episode_id,departed_at\nA1,x\n\nA2,y\n",
    "a few NHS-number-like values": "episode_id,arrived_at,note\n"
    + "".join(f"E{i},2026-07-01T09:30,{'9434765919' if i < 4 else 'x'}\n" for i in range(9)),
    "windows-1252": (HEADER + "A1,2026-07-01T09:30,,,Hospice – St Mary’s\n").encode("cp1252"),
    "a byte-order mark": b"\xef\xbb\xbf" + (HEADER + "A1,2026-07-01T09:30,,,\n").encode(),
    "UTF-16": (HEADER + "A1,2026-07-01T09:30,,,\n").encode("utf-16"),
    "neither UTF-8 nor Windows-1252": HEADER.encode() + b"A1,2026-07-01T09:30,,,\x81\xe9\n",
    "binary": HEADER.encode() + b"A1,2026-07-01T09:30,,,\x00\n",
    "empty": b"",
    "an empty heading row": "\n\nA1,2026-07-01T09:30\n",
    "a heading row only": HEADER,
    "blank lines only": HEADER + "\n , ,\n,,,,\n",
    "ragged rows": HEADER
    + (
        "A1,2026-07-01T09:30\n"  # short: the rest is empty
        "A2,2026-07-01T09:30,,,,Home,extra,more\n"  # long: the extra cells are read by no rule
        ",,,,,,,x\n"  # not blank (something past the heading row), so a row with problems
        "A3\n"
    ),
    "blank lines, counted": HEADER + "\nA1,2026-07-01T09:30,,,\n\n\n , \nA2,2026-07-01T09:30,,,\n",
    "quotes, commas, line breaks, tabs and backslashes": HEADER
    + (
        'A1,2026-07-01T09:30,,,"Home, at last"\n'
        'A2,2026-07-01T09:30,,,"Care\nhome"\n'  # one record over two lines
        'A3,2026-07-01T09:30,,,"tab\there \\ and \\\\ back\\slash"\n'
        '"A4","2026-07-01T09:30","","",""\n'
        'A5,"2026-07-01T09:30\n",,,\n'  # stripped: the line break goes
        "A6,2026-07-01T09:30,,,\r\n"
        'A7,2026-07-01T09:30,,,"say ""hello"""\n'
    ),
    "whitespace of every kind": HEADER
    + (
        " A1 ,\t2026-07-01T09:30\t,\u00a02026-07-02T09:30\u2003,,\u3000Home\u00a0\n"
        "\u00a0,\u2028,,,\n"  # blank once stripped
    ),
    "lengths": HEADER
    + (
        f"{'x' * 100},2026-07-01T09:30,,,{'é' * 100}\n"
        f"{'x' * 101},2026-07-01T09:30,,,{'é' * 101}\n"
        f"{'é' * 101},2026-07-01T09:30,,,\n"
    ),
    "every time in every column": "episode_id,arrived_at,departed_at,discharge_ready_at,"
    "theatre,destination\n"
    + "".join(f"T{i},2026-07-01T09:30,{t},{t},{t},\n" for i, t in enumerate(ISO_AND_UK))
    + "".join(f"U{i},{t},2026-07-01T09:30,,2026-07-01T09:30,\n" for i, t in enumerate(ISO_AND_UK)),
    "other scripts' digits": HEADER
    + (
        "A1,٢٠٢٦-٠٧-٠١T٠٩:٣٠,2026-07-01T10:00,,\n"  # Arabic-Indic
        "A2,２０２６-０７-０１ ０９:３０,,,\n"  # full-width
        "A3,०१/०७/२०२६ ०९:३०,,,\n"  # Devanagari
        "A4,2026-07-01T09:30,٣١/٠٢/٢٠٢٦ ١٠:٠٠,,\n"
        "A5,2026-07-01T09:30,,²⁰²⁶-07-01T10:00,\n"  # superscripts are not digits
        "٣٤,2026-07-01T09:30,,,\n"
    ),
    "odd offsets and fractions": HEADER
    + "".join(
        f"O{i},{t},,,\n"
        for i, t in enumerate(
            [
                "2026-07-01T09:30:15.123456Z",
                "2026-07-01T09:30:15.1234567Z",
                "2026-07-01T09:30.5",
                "2026-07-01T09:30:15+05:75",
                "2026-07-01T09:30-0000",
                "2026-07-01T09:30+23:59",
                "2026-07-01T09:30:15-12:00",
                "2026-07-01 09:30:15.000001+01:00",
                "2026-07-01T9:30",
                "2026-07-01t09:30",
                "2026-07-01T09:30z",
                "2026-07-01T09:30 Z",
                "2026-07-01T09:30:60",
                "2026-07-01T23:59:59.999999",
                "2026-11-26T13:00Z",
                "2026-11-26T13:00:01Z",
                "2026-11-26T12:59:59.999999Z",
                "2000-01-01T00:00Z",
                "1999-12-31T23:59:59.999999Z",
                "2000-01-01T00:00",
                "2000-01-01T00:00+00:01",
                "2000-01-01T00:00-00:01",
                "1/7/2026 9:30",
                "1/7/2026 9:30:59",
                "01/07/2026 9:30:60",
                "001/07/2026 09:30",
                "01/07/2026  09:30",
                "01-07-2026 09:30",
                "2026/07/01 09:30",
            ]
        )
    ),
    "calendar": HEADER
    + "".join(
        f"D{i},{t},,,\n"
        for i, t in enumerate(
            [
                "2024-02-29T10:00",
                "2023-02-29T10:00",
                "2000-02-29T10:00Z",
                "2100-02-29T10:00",
                "29/02/2024 10:00",
                "29/02/2025 10:00",
                "2026-00-10T10:00",
                "2026-13-10T10:00",
                "2026-01-00T10:00",
                "2026-01-32T10:00",
                "2026-04-31T10:00",
                "31/04/2026 10:00",
                "0000-01-01T10:00",
                "01/01/0000 10:00",
                "2026-07-01T24:00",
                "2026-07-01T23:60",
                "2026-07-01T00:00",
                "00/07/2026 10:00",
                "10/00/2026 10:00",
                "10/13/2026 10:00",
                "9999-12-31T23:59Z",
                "0001-01-01T00:00Z",
                "1847-12-01T00:00:30",
                "1941-05-04T02:30",
            ]
        )
    ),
    "before arrival": "episode_id,arrived_at,departed_at,discharge_ready_at,theatre,review,"
    "destination\n"
    + (
        "B1,2026-07-01T09:30,2026-07-01T09:29,2026-07-01T09:00,2026-07-01T09:00,"
        "2026-07-01T09:31,\n"
        "B2,bad,2026-07-01T09:29,,2026-07-01T09:00,,\n"  # no arrival: nothing is before it
        "B3,2026-07-01T09:30,2026-07-01T09:30,,2026-07-01T09:30Z,2026-07-01T08:29Z,\n"
        "B4,2026-07-01T09:30Z,2026-07-01T09:29:59.999999Z,,,,\n"
        "B5,2026-07-01T09:30,2030-07-01T09:30,,2026-07-01T09:00,,\n"
    ),
    "more problems than are listed": HEADER
    + "".join(f"M{i},2026-02-30T10:00,nope,2026-07-01T09:30,{'x' * 101}\n" for i in range(1100))
    + "M5,2026-07-01T09:30,,,\nM5,2026-07-01T09:30,,,\nZ1,2026-07-01T09:30,,,\n",
    "a field too long for the csv module": HEADER + f"A1,2026-07-01T09:30,,,{'x' * 200_000}\n",
    "a field too long, after identifiers": "episode_id,arrived_at,ref\n"
    + "".join(f"E{i},2026-07-01T09:30,943 476 5919\n" for i in range(9))
    + f"E9,2026-07-01T09:30,{'x' * 200_000}\n",
    # Every time in UTC (as a data warehouse sends them): _validate's short way.
    "every time in UTC": HEADER
    + (
        "U1,2026-07-01T09:30:00Z,2026-07-03T11:00:00Z,2026-07-01T20:00:00Z,Home\n"
        "U2,2026-07-01T09:30:00Z,2026-06-30T09:30:00Z,,\n"  # departed before arriving
        "U3,2026-07-01T09:30:00Z,,2026-07-01T08:00:00Z,\n"  # step before arrival
        ",2026-07-01T09:30:00Z,,,\n"
        "U5,,,,\n"
        "U6,1999-12-31T23:59:59Z,2026-11-26T13:00:01Z,,\n"  # before 2000; the future
        "U7,2026-11-26T13:00:00Z,,,Home\n"  # an hour ahead: allowed
        "U8,2026-10-25T00:30:00Z,2026-10-25T01:30:00Z,,\n"  # the clocks went back meanwhile
        "U9,2024-02-29T00:00:00Z,2024-03-01T00:00:00Z,,\n"  # a leap day
        "U1,2026-07-02T09:30:00Z,,,\n"  # twice
        f"U{'0' * 120},2026-07-01T09:30:00Z,,,{'x' * 101}\n"
    ),
    "UTC, with a BOM, CRLF and other digits": "\ufeff"
    + (
        HEADER + "U1,2026-07-01T09:30:00Z,,,Home\nU٣,2026-07-01T09:30:00Z,,,\n"
        "U3,2026-07-01T09:30:00Z,2026-06-01T09:30:00Z,,\n" * 3
    ).replace("\n", "\r\n"),
    "UTC, then a quoted cell": HEADER
    + "".join(f"U{i},2026-07-01T09:30:00Z,,,\n" for i in range(20))
    + 'U20,2026-07-01T09:30:00Z,,,"Care home, nursing"\nU21,2026-07-01T09:30:00Z,,,\n',
    "UTC, then a blank row and a ragged row": HEADER
    + "".join(f"U{i},2026-07-01T09:30:00Z,,,\n" for i in range(20))
    + "\n,,,,\nU21,2026-07-01T09:30:00Z,,\nU22,2026-07-01T09:30:00Z,,,,\n",
    "UTC, then a spaced cell": HEADER
    + "".join(f"U{i},2026-07-01T09:30:00Z,,,\n" for i in range(20))
    + "U21 ,2026-07-01T09:30:00Z,,,\n",
    "UTC but for one time": HEADER
    + "U1,2026-07-01T09:30:00Z,,,\nU2,2026-07-01T09:30:00Z,2026-07-01 10:30,,\n",
}


@pytest.mark.parametrize("chunk", [copyload.CHUNK_ROWS, 2])
@pytest.mark.parametrize("case", list(CASES))
def test_the_report_is_the_python_paths(tmp_path, db, monkeypatch, case, chunk):
    monkeypatch.setattr(copyload, "CHUNK_ROWS", chunk)  # 2: rows handled across chunks
    monkeypatch.setattr(copyload, "BLOCK_CHARACTERS", 40 if chunk == 2 else 1 << 20)
    monkeypatch.setattr(copyload, "MANY_TWICE", 3 if chunk == 2 else copyload.MANY_TWICE)
    assert_same(tmp_path, CASES[case], steps=("theatre", "review"))


def _never(what):
    def never(*args):
        raise AssertionError(what)

    return never


@pytest.mark.parametrize("block", [40, 1 << 20])
def test_a_file_of_utc_times_takes_the_short_way(tmp_path, db, monkeypatch, block):
    """Staged by COPY's own reader into timestamps, whatever the blocks' size."""
    monkeypatch.setattr(copyload, "BLOCK_CHARACTERS", block)
    monkeypatch.setattr(copyload, "_stage_text", _never("staged as text"))
    report = assert_same(tmp_path, CASES["every time in UTC"])
    assert report[0] == "report" and report[2] == [2, 3, 4, 5, 6, 7, 11, 12]
    assert_same(tmp_path, CASES["UTC, with a BOM, CRLF and other digits"])


def test_quoted_utc_times_are_read_by_a_cast_and_others_field_by_field(tmp_path, db, monkeypatch):
    monkeypatch.setattr(copyload, "_instants", _never("read field by field"))
    quoted = re.sub(r"([0-9T:-]+Z)", r'"\1"', CASES["every time in UTC"])
    assert '"2026-07-01T09:30:00Z"' in quoted
    assert assert_same(tmp_path, quoted)[2] == [2, 3, 4, 5, 6, 7, 11, 12]
    with pytest.raises(AssertionError, match="field by field"):
        _postgres(_write(tmp_path, CASES["UTC but for one time"], "episodes.csv"),
                  "episodes.csv", STEPS, 10**7)  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["2026-02-29T10:00:00Z", "2100-02-29T10:00:00Z", "2026-04-31T10:00:00Z",
     "2026-13-01T10:00:00Z", "2026-07-01T24:00:00Z", "2026-07-01T23:60:00Z",
     "2026-07-01T23:59:60Z", "2026-07-01T09:30:00z", "2026-07-01 09:30:00Z",
     "1899-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "2026-07-01T09:30:00.5Z",
     "٢٠٢٦-07-01T09:30:00Z", "2026-07-01T09:30:0Z", "+026-07-01T09:30:00Z"],
)  # fmt: skip
def test_a_time_the_short_way_does_not_read_is_read_the_general_way(tmp_path, db, text):
    """Each of these is not ISO_Z's shape (or is 29 February): the file goes the general
    way, and reads as the Python path reads it."""
    assert not copyload._utc_only([text])
    assert copyload._utc_only(["2026-07-01T09:30:00Z", "", "2024-02-29T23:59:59Z",
                               "2000-02-29T00:00:00Z"])  # fmt: skip
    assert_same(tmp_path, HEADER + f"A1,2026-07-01T09:30:00Z,{text},,\n")


@pytest.mark.parametrize("text", ISO_AND_UK)
def test_each_time_reads_as_the_python_path_reads_it(tmp_path, db, text):
    assert_same(tmp_path, HEADER + f"A1,{text},,,\nA2,2026-07-01T09:30,{text},{text},\n")


def test_an_oversized_file_is_refused_in_the_same_words(tmp_path, db):
    outcome = assert_same(tmp_path, HEADER + "A1,2026-07-01T09:30,,,\n", limit=10)
    assert outcome == (
        "refused",
        "The file is 77 bytes: the most is 10 bytes. Send fewer weeks at a time",
    )


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("ref", ["943 476 5919", "9434765870", "401 023 2137", "943 476 5919", "9434765870"]),
        ("other", ["12/03/1941", "1950-01-02", "03/04/1962", "1977-09-09", "01/01/1933"]),
        ("episode_id", ["Mary Smith", "John Jones", "Ann Lee", "Tom Hardy-Brown", "Sue Ellis"]),
        ("note", ["٩٤٣٤٧٦٥٩١٩", "٩٤٣٤٧٦٥٩١٩", "٩٤٣٤٧٦٥٩١٩", "٩٤٣٤٧٦٥٩١٩", "٩٤٣٤٧٦٥٩١٩"]),
        ("note", ["O'Brien Kelly", "Mary-Jane Smith", "Ann Lee", "Bo Li", "Xi Yu", "x", "y"]),
        ("destination", ["Mary Smith", "John Jones", "Ann Lee", "Tom Hardy-Brown", "Sue Ellis"]),
        ("", ["943 476 5919", "9434765870", "401 023 2137", "943 476 5919", "9434765870"]),
        ("note", ["9434765919", "9434765919", "9434765919", "9434765919", "x", "y", "z", "w"]),
        ("note", ["9434765918", "9434765918", "9434765918", "9434765918", "9434765918"]),
        ("note", ["1/2/1950", "01/02/1950", "1950-02-01", "1950-2-01", "12/12/1950 10:00",
                  "31/02/1950", "01/01/1950", "02/02/1950"]),
    ],
)  # fmt: skip
def test_identifiers_are_found_as_the_python_path_finds_them(tmp_path, db, column, values):
    rows = "".join(f"E{i},2026-07-01T09:30,{v}\n" for i, v in enumerate(values))
    if column == "episode_id":
        text = "episode_id,arrived_at\n" + "".join(f"{v},2026-07-01T09:30\n" for v in values)
    else:
        text = f"episode_id,arrived_at,{column}\n" + rows
    assert_same(tmp_path, text)


def _identifier_values(rng: random.Random) -> list[str]:
    """Values near NHS numbers, dates (of birth, and as Excel keeps them) and names."""

    def nhs() -> str:
        while True:
            digits = [rng.randrange(10) for _ in range(9)]
            check = (11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11) % 11
            if check != 10:
                return "".join(map(str, digits + [check]))

    values = []
    for _ in range(3000):
        kind = rng.randrange(6)
        if kind == 0:
            text = nhs()
            if rng.random() < 0.5:
                text = f"{text[:3]} {text[3:6]} {text[6:]}"
        elif kind == 1:
            text = "".join(rng.choice("0123456789 ") for _ in range(rng.randrange(8, 14)))
        elif kind == 2:
            at = date(1930, 1, 1) + timedelta(days=rng.randrange(40_000))
            text = at.strftime(rng.choice(["%Y-%m-%d", "%d/%m/%Y", "%-d/%-m/%Y",
                                           "%Y-%m-%d 00:00:00", "%Y-%m-%d 00:00:01"]))  # fmt: skip
        elif kind == 3:
            parts = [rng.choice(["Mary", "Jo", "O", "Ann", "McDonald", "li", "X"])
                     for _ in range(rng.randrange(1, 4))]  # fmt: skip
            text = "".join(p + rng.choice(" '-_") for p in parts)[:-1]
        elif kind == 4:
            text = "A" * rng.randrange(1, 3) + "b" * rng.randrange(0, 45) + " Cd"
        else:
            text = "".join(rng.choice("0123456789-/ :٣９aZ") for _ in range(rng.randrange(1, 20)))
        if rng.random() < 0.05:  # a character changed
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice("0٣９ -/A") + text[i + 1 :]
        values.append(text.strip())
    return [value for value in values if value]


def test_each_value_counts_as_the_python_watch_counts_it(db):
    """The SQL code of each value (0 nothing, 1 an NHS number, 2 a date, 3 a name) is
    the count episodes._IdentifierWatch adds it to."""
    from django.db import connection

    values = _identifier_values(random.Random(11))
    expected = []
    for value in values:
        watch = episodes._IdentifierWatch(1)
        watch.see([value])
        hit = [k for k, kind in enumerate(copyload._KINDS, start=1) if watch.hits[kind][0]]
        expected.append(hit[0] if hit else 0)
    nd, nd_ascii = copyload._other_digits()
    code = copyload._identifier("v", "translate(v, %(nd)s, %(nd_ascii)s)", names=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {code} FROM unnest(%(values)s::text[]) WITH ORDINALITY AS t(v, i) "
                       "ORDER BY i", {"values": values, "nd": nd, "nd_ascii": nd_ascii})  # fmt: skip
        found = [row[0] for row in cursor.fetchall()]
    assert sum(1 for e in expected if e) > 500
    assert [(v, f) for v, f, e in zip(values, found, expected, strict=True) if f != e] == []


@pytest.mark.parametrize(
    "heading", ["NHS number", "Date of birth", "DOB", "Surname", "Patient name", "Postcode"]
)
def test_an_identifying_heading_is_refused_in_the_same_words(tmp_path, db, heading):
    outcome = assert_same(tmp_path, f"episode_id,arrived_at,{heading}\nA1,2026-07-01T09:30,x\n")
    assert outcome[0] == "refused"


def test_the_inline_messages_are_the_python_paths(tmp_path, db):
    """Messages copyload has to write itself (episodes has them inline only)."""
    path = _write(tmp_path, HEADER, "e.csv")
    with pytest.raises(episodes.Refused) as refusal:
        _python(path, "e.csv", STEPS, 10**6)
    assert str(refusal.value) == copyload.NO_EPISODES
    path = _write(tmp_path, "\nA1\n", "e.csv")
    with pytest.raises(episodes.Refused) as refusal:
        _python(path, "e.csv", STEPS, 10**6)
    assert str(refusal.value) == copyload.EMPTY_FILE
    path = _write(tmp_path, HEADER + "A1,2026-07-01T09:30,,,\n" * 3, "e.csv")
    problems = _python(path, "e.csv", STEPS, 10**6).problems
    assert problems[0].message == copyload._also_on("A1", "3, 4")


def test_other_spreadsheets_are_refused_and_workbooks_are_not_read_here(tmp_path, db):
    assert_same(tmp_path, HEADER + "A1,2026-07-01T09:30,,,\n", name="episodes.xls")
    path = _write(tmp_path, b"PK\x03\x04 a workbook", "episodes.csv")
    assert not copyload.handles(path, "episodes.csv")
    assert not copyload.handles(path, "Episodes.XLSX")
    with pytest.raises(ValueError, match="workbook"):
        _postgres(path, "episodes.csv", STEPS, 10**6)
    assert copyload.handles(_write(tmp_path, HEADER, "e.csv"), "e.csv")


@pytest.mark.parametrize(
    "content",
    [
        b"", b"abc", b"\xef\xbb\xbfabc", "Hospice – St Mary’s".encode("cp1252"),
        "Hospice – St Mary’s".encode(), b"\xff\xfea\x00", b"\xfe\xff\x00a", b"a\x00b",
        b"abc\x81", b"\xe9\x8d", b"abc\xe2\x82",  # UTF-8 cut short at the very end
        b"x" * (1 << 20) + b"\xe2\x82\xac" + b"\x9d",
        b"x" * ((1 << 20) - 1) + b"\xe2\x82\xac",  # a character across two chunks
        bytes(range(1, 256)),
    ],
)  # fmt: skip
def test_the_encoding_is_the_python_paths(tmp_path, content):
    path = _write(tmp_path, content, "e.csv")

    def detect(function):
        try:
            return function(path)
        except episodes.Refused as refusal:
            return ("refused", str(refusal))

    assert detect(copyload.detect_encoding) == detect(episodes.detect_encoding)


# --- Times around every change of the clocks, and times that are nearly times ------------

LONDON = ZoneInfo("Europe/London")


def _clock_changes() -> list[date]:
    """Days on which London's offset from UTC changed, 1847 to 2100 and a few beyond."""
    days = []
    for year in [*range(1847, 1848), *range(1916, 2101), 2200, 2500, 9998]:
        day = date(year, 1, 1)
        while day.year == year:
            before = datetime(day.year, day.month, day.day, tzinfo=LONDON).utcoffset()
            after = datetime(day.year, day.month, day.day, 23, tzinfo=LONDON).utcoffset()
            if before != after:
                days.append(day)
            day += timedelta(days=1)
    return days


def test_times_around_every_change_of_the_clocks_read_as_the_python_path_reads_them(tmp_path, db):
    lines = []
    for day in _clock_changes():
        for minutes in range(0, 4 * 60, 15):
            at = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
            lines.append(at.strftime("%Y-%m-%dT%H:%M"))
            lines.append(at.strftime("%d/%m/%Y %H:%M"))
        lines += [f"{day.isoformat()} 00:00:{s:02d}" for s in (0, 30, 59)]
        lines += [f"{day.isoformat()} 00:01:{s:02d}" for s in (14, 15, 16)]
    assert len(lines) > 5000
    for start in range(0, len(lines), 1500):  # within episodes.MAX_LISTED problems a file
        chunk = lines[start : start + 1500]
        text = "episode_id,arrived_at\n" + "".join(f"C{i},{t}\n" for i, t in enumerate(chunk))
        assert_same(tmp_path, text, steps=())


def _nearly_a_time(rng: random.Random) -> str:
    """A time, or something close to one: every shape, with a character changed,
    dropped or added, and digits of every script."""
    at = datetime(2026, 1, 1) + timedelta(minutes=rng.randrange(-40 * 525_600, 2 * 525_600))
    shapes = ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
              "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M%z",
              "%Y-%m-%d"]  # fmt: skip
    text = at.replace(tzinfo=UTC).strftime(rng.choice(shapes))
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        i = rng.randrange(len(text) + 1)
        change = rng.choice("0123456789-/: TZ+.x٣９")
        what = rng.random()
        if what < 0.4 and i < len(text):
            text = text[:i] + change + text[i + 1 :]
        elif what < 0.7:
            text = text[:i] + change + text[i:]
        else:
            text = text[:i] + text[i + 1 :]
    return text.strip()


def test_nearly_times_read_as_the_python_path_reads_them(tmp_path, db):
    rng = random.Random(20261126)
    for _ in range(3):
        rows = "".join(
            f"R{i},{_nearly_a_time(rng)},{_nearly_a_time(rng)},{_nearly_a_time(rng)},\n"
            for i in range(600)
        )
        assert_same(tmp_path, HEADER + rows)


# --- Loading ------------------------------------------------------------------------------

GOOD = (
    "episode_id,arrived_at,departed_at,theatre,destination\n"
    "A1,2026-07-01T09:30,2026-07-03T11:00,2026-07-01T20:00,Home\n"
    "A2,01/07/2026 10:00,,,\n"
)


@pytest.fixture
def pathway(cast):
    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture")
    Step.objects.create(pathway=pathway, code="review", name="Review", slot=3)
    Step.objects.create(pathway=pathway, code="theatre", name="Theatre", slot=1)
    return pathway


def _load(tmp_path, pathway, text: str, *, valid_only=True, now=NOW, **options):
    path = _write(tmp_path, text, "episodes.csv")
    slots = dict(pathway.steps.values_list("code", "slot"))
    return copyload.load_postgres(path, "episodes.csv", pathway_id=pathway.pk, step_slots=slots,
                                  max_bytes=10**7, now=now, valid_only=valid_only,
                                  **options)  # fmt: skip


def _stored(pathway) -> list[dict]:
    fields = ["episode_id", *services.EPISODE_FIELDS, "loaded_at"]
    return list(Episode.objects.filter(pathway=pathway).order_by("episode_id").values(*fields))


def test_loading_the_same_file_twice_changes_nothing_and_a_later_file_updates(tmp_path, pathway):
    assert _load(tmp_path, pathway, GOOD) == (2, 0)
    first = Episode.objects.get(pathway=pathway, episode_id="A1")
    assert first.arrived_at == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)  # BST
    assert first.step_1 == datetime(2026, 7, 1, 19, 0, tzinfo=UTC)
    assert (first.destination, first.step_3, first.loaded_at) == ("Home", None, NOW)
    before = list(Episode.objects.filter(pathway=pathway).order_by("episode_id").values())
    assert _load(tmp_path, pathway, GOOD) == (0, 2)
    assert list(Episode.objects.filter(pathway=pathway).order_by("episode_id").values()) == before
    later = GOOD.replace("A2,01/07/2026 10:00,,,", "A2,01/07/2026 10:00,04/07/2026 15:00,,Home")
    tomorrow = NOW + timedelta(days=1)
    assert _load(tmp_path, pathway, later + "A3,2026-07-05T10:00,,,\n", now=tomorrow) == (1, 2)
    second = Episode.objects.get(pathway=pathway, episode_id="A2")
    assert second.departed_at == datetime(2026, 7, 4, 14, 0, tzinfo=UTC)
    assert second.destination == "Home" and second.loaded_at == NOW  # loaded_at: when added
    assert Episode.objects.get(pathway=pathway, episode_id="A3").loaded_at == tomorrow
    assert Episode.objects.filter(pathway=pathway).count() == 3


def test_the_load_shows_its_report_before_it_stores_anything(tmp_path, pathway):
    """load_upload stops a load whose report is not the one the person confirmed."""
    text = GOOD + "A3,2026-07-01T09:30,2026-06-01T09:30,,\n"
    reports = []

    def confirm(report):
        reports.append(report.as_dict())
        raise ValueError("not the report confirmed")

    with pytest.raises(ValueError, match="not the report confirmed"):
        _load(tmp_path, pathway, text, confirm=confirm)
    assert not Episode.objects.filter(pathway=pathway).exists()
    path = _write(tmp_path, text, "episodes.csv")
    assert reports == [_python(path, "episodes.csv", ["review", "theatre"], 10**7).as_dict()]
    timings = {}
    assert _load(tmp_path, pathway, text, confirm=reports.append, timings=timings) == (2, 0)
    assert list(timings) == ["staged", "identifiers", "validated", "upserted"]
    path = _write(tmp_path, "episode_id,arrival\nA1,2026-07-01T09:30\n", "episodes.csv")
    assert _load(tmp_path, pathway, path.read_text(), confirm=reports.append) == (0, 0)
    assert (reports[-1].valid, reports[-1].rows) == (0, 1)  # no arrived_at column


def test_only_the_valid_rows_are_loaded(tmp_path, pathway):
    text = GOOD + (
        "A3,2026-07-01T09:30,2026-06-01T09:30,,\n"  # departs before arriving
        "A4,2026-07-01T09:30,,,\nA4,2026-07-01T09:30,,,\n"  # twice
        "A5,2026-07-01T09:30,,,\n"
    )
    assert _load(tmp_path, pathway, text) == (3, 0)
    assert [e["episode_id"] for e in _stored(pathway)] == ["A1", "A2", "A5"]


def test_a_whole_file_with_problems_loads_its_valid_rows_as_the_orm_path_does(
    tmp_path, pathway, caplog
):
    """confirm_upload lets nobody load a file with problems whole; should the check and
    the load differ, the valid rows are loaded (as load_upload's ORM path) and it is
    logged."""
    text = GOOD + "A3,2026-07-01T09:30,2026-06-01T09:30,,\n"
    assert _load(tmp_path, pathway, text, valid_only=False) == (2, 0)
    assert "the file has problems now" in caplog.text


def test_a_step_the_file_leaves_out_is_emptied_as_the_orm_path_does(tmp_path, pathway):
    text = "episode_id,arrived_at,review,theatre\nA1,2026-07-01T09:30,2026-07-01T10:00,2026-07-01T11:00\n"
    assert _load(tmp_path, pathway, text) == (1, 0)
    stored = Episode.objects.get(pathway=pathway, episode_id="A1")
    assert (stored.step_1.hour, stored.step_3.hour) == (10, 9)  # theatre is slot 1, review 3
    assert _load(tmp_path, pathway, "episode_id,arrived_at\nA1,2026-07-01T09:30\n") == (0, 1)
    stored.refresh_from_db()
    assert (stored.step_1, stored.step_3, stored.destination) == (None, None, "")


def test_an_episode_another_writer_adds_meanwhile_is_updated_not_refused(
    tmp_path, transactional_db, cast
):
    """A writer that does not take the episode lock (the ORM path, say) adds A2 while this
    load runs: the plain INSERT waits for it, meets it on the unique index, and the rows
    go in with ON CONFLICT instead. The other writer commits only once the load is seen
    waiting on its lock, so the order is certain, not a matter of timing."""
    import threading
    import time

    import psycopg
    from django.db import connection, transaction

    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture")
    Step.objects.create(pathway=pathway, code="theatre", name="Theatre", slot=1)
    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"],
              "port": db["PORT"] or None, "password": db["PASSWORD"] or None}  # fmt: skip
    other = psycopg.connect(**params)
    watcher = psycopg.connect(**params, autocommit=True)
    result = {}

    def load():
        try:
            with transaction.atomic():
                result["counts"] = _load(tmp_path, pathway, GOOD)
        finally:
            connection.close()

    try:
        other.execute(
            "INSERT INTO pathways_episode (pathway_id, episode_id, arrived_at, destination, "
            "loaded_at) VALUES (%s, 'A2', now(), 'meanwhile', now())",
            [pathway.pk],
        )
        loader = threading.Thread(target=load)
        loader.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock'",
                [db["NAME"]],
            ).fetchone()[0]
            if waiting:
                break
            time.sleep(0.05)
        other.commit()
        loader.join(timeout=60)
    finally:
        other.close()
        watcher.close()
    assert result["counts"] == (1, 1)
    assert [e["destination"] for e in _stored(pathway)] == ["Home", ""]


@pytest.mark.parametrize("case", ["every bad row", "three times, and two interleaved",
                                  "quotes, commas, line breaks, tabs and backslashes",
                                  "other scripts' digits", "odd offsets and fractions",
                                  "calendar", "before arrival", "ragged rows", "lengths",
                                  "every time in UTC", "UTC, then a quoted cell",
                                  "UTC, with a BOM, CRLF and other digits"])  # fmt: skip
def test_the_episodes_stored_are_the_orm_paths(tmp_path, cast, case):
    """The same file loaded both ways, into two pathways: the same episodes."""
    orm, sql = (Pathway.objects.create(host=cast.north, name=name) for name in ("orm", "sql"))
    for pathway in (orm, sql):
        Step.objects.create(pathway=pathway, code="theatre", name="Theatre", slot=2)
        Step.objects.create(pathway=pathway, code="review", name="Review", slot=5)
    path = _write(tmp_path, CASES[case], "episodes.csv")
    _, records = episodes.check_rows(path, "episodes.csv", step_codes=["theatre", "review"],
                                     max_bytes=10**7, now=NOW)  # fmt: skip
    slots = dict(orm.steps.values_list("code", "slot"))
    Episode.objects.bulk_create(
        [services._episode(orm, r, slots, NOW) for r in records],
        update_conflicts=True, unique_fields=["pathway", "episode_id"],
        update_fields=services.EPISODE_FIELDS,
    )  # fmt: skip
    added, updated = _load(tmp_path, sql, CASES[case])
    assert (added, updated) == (len(records), 0)
    assert _stored(sql) == _stored(orm)


def test_a_pathway_being_loaded_cannot_be_deleted_under_the_load(tmp_path, transactional_db, cast):
    """Episodes have no foreign key in the database (Episode.pathway): the load holds the
    pathway's row FOR KEY SHARE instead, so a delete waits for it (here: gives up at once)."""
    import psycopg
    from django.db import connection, transaction

    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture")
    db = connection.settings_dict
    other = psycopg.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"],
                            port=db["PORT"] or None, password=db["PASSWORD"] or None)  # fmt: skip
    try:
        with transaction.atomic():
            assert _load(tmp_path, pathway, GOOD) == (2, 0)
            other.execute("SET lock_timeout = '100ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM pathways_pathway WHERE id = %s", [pathway.pk])
            other.rollback()
    finally:
        other.close()
    pathway.delete()  # Django's cascade takes the episodes with it
    assert not Episode.objects.filter(pathway_id=pathway.pk).exists()
