"""Reading and checking an episode file (pathways/episodes.py): every bad row named by its
line, column and fault; files that must not be loaded refused, saying why."""

from datetime import UTC, datetime

import pytest
from openpyxl import Workbook

from fca.dates import DayFirstWatch
from pathways.episodes import Refused, TimeProblem, check_rows, parse_time, swapped_warning

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HEADER = "episode_id,arrived_at,departed_at,theatre,destination\n"


def _check(tmp_path, text: str | bytes, name="episodes.csv", steps=("theatre",), limit=10**6):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return check_rows(path, name, step_codes=steps, max_bytes=limit, now=NOW)


def _problems(report) -> list[tuple[int, str, str]]:
    return [(p.line, p.column, p.message) for p in report.problems]


def test_good_rows_become_records_in_utc(tmp_path):
    report, records = _check(tmp_path, HEADER + (
        "A1,2026-07-01T09:30,2026-07-03 11:00,01/07/2026 20:15,Home\n"
        "A2,01/12/2025 08:00,,,\n"
    ))  # fmt: skip
    assert (report.rows, report.valid, report.problem_count) == (2, 2, 0)
    first, second = records
    assert first.arrived_at == datetime(2026, 7, 1, 8, 30, tzinfo=UTC)  # BST
    assert first.steps == {"theatre": datetime(2026, 7, 1, 19, 15, tzinfo=UTC)}
    assert (first.destination, second.departed_at) == ("Home", None)
    assert second.arrived_at == datetime(2025, 12, 1, 8, 0, tzinfo=UTC)  # GMT


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-07-01T09:30:15.25", datetime(2026, 7, 1, 8, 30, 15, 250000, tzinfo=UTC)),
        ("2026-07-01T09:30Z", datetime(2026, 7, 1, 9, 30, tzinfo=UTC)),
        ("2026-07-01T09:30+02:00", datetime(2026, 7, 1, 7, 30, tzinfo=UTC)),
        ("2026-10-25T01:30+01:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25T01:30+0000", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        ("29/03/2026 00:59", datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),
        ("29/03/2026 02:00", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        ("25/10/2026 02:00", datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),
    ],
)
def test_times_are_read_as_iso_or_day_first_in_london(text, instant):
    assert parse_time(text, now=NOW) == instant


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("29/03/2026 01:30", "did not happen in the UK: the clocks went forward"),
        ("2026-03-29T01:00", "did not happen in the UK: the clocks went forward"),
        ("25/10/2026 01:30", "happened twice in the UK: the clocks went back"),
        ("2026-10-25 01:00", "happened twice in the UK: the clocks went back"),
        ("31/02/2026 10:00", "is not a real date and time"),
        ("2026-07-01T24:10", "is not a real date and time"),
        ("yesterday", "is not a time: write it as 2026-03-01T14:30 or 01/03/2026 14:30"),
        ("01/07/2026", "has no time of day"),
        ("03/12/2027 10:00", "is impossible: it is in the future"),
        ("1999-12-31T23:00Z", "is impossible: it is before the year 2000"),
    ],
)
def test_a_time_that_cannot_be_read_or_did_not_happen_says_why(text, message):
    with pytest.raises(TimeProblem, match=message):
        parse_time(text, now=NOW)


def test_times_that_could_be_month_first_are_questioned_with_one_read_both_ways(tmp_path):
    report, records = _check(tmp_path, HEADER + (
        "A1,05/05/2026 10:00,06/07/2026 10:00,,\n"  # 05/05 reads the same either way
        "A2,02/03/2026 10:00,,,\n"
    ))  # fmt: skip
    assert len(records) == 2  # questioned, not refused
    example = report.as_dict()["swappable_time"]
    assert example == "06/07/2026 10:00"  # the first in the file, row by row
    words = swapped_warning(example)
    assert "“06/07/2026 10:00” is 6 Jul 2026" in words
    assert "that time is 7 Jun 2026" in words
    assert "ISO 8601" in words


@pytest.mark.parametrize(
    "rows",
    [
        "A1,02/03/2026 10:00,,13/03/2026 10:00,\n",  # a day over 12 settles it
        "A1,2026-03-02T10:00,2026-03-04 10:00,,\n",  # ISO 8601
        "A1,06/06/2026 10:00,,,\nA2,1/01/2026 09:00,,,\n",  # the same read either way
        "A1,03/13/2026 10:00,,,\n",  # no month 13: a problem of its row, not a swap
        "A1,00/05/2026 10:00,,05/00/2026 11:00,\n",  # no day or month 0: the same
    ],
)
def test_times_that_settle_it_or_cannot_swap_are_not_questioned(tmp_path, rows):
    report, _ = _check(tmp_path, HEADER + rows)
    assert report.as_dict()["swappable_time"] is None
    assert swapped_warning(None) == ""


@pytest.mark.parametrize(
    ("texts", "example"),
    [
        (
            ["", "05/05/2026 10:00", " 06/07/2026\t 10:00 ", "02/03/2026 10:00"],
            "06/07/2026\t 10:00",
        ),
        (["02/03/2026 10:00", "2026-03-02T10:00", "12/11/2026 09:00", "13/11/2026 09:00"], None),
        (["03/04/2026\x0014:30", "03/04/2026 14:30 and", "05/04/2026 08:00"], "05/04/2026 08:00"),
        (["13/05/2026 09:00", "a\x00b", "03/05/2026 11:00"], None),
    ],
)
def test_the_watch_reads_a_file_a_block_at_a_time_as_it_would_read_it_whole(texts, example):
    for size in (1, 2, len(texts)):
        watch = DayFirstWatch()
        for start in range(0, len(texts), size):
            watch.see(texts[start : start + size])
        assert watch.example == example, size


def test_every_bad_row_is_named_by_line_and_column_and_the_good_ones_are_kept(tmp_path):
    report, records = _check(tmp_path, HEADER + (
        "A1,2026-07-01T09:30,2026-06-30T09:30,,\n"  # departs before arriving
        "A2,2026-07-01T09:30,,2026-07-01T08:00,\n"  # theatre before arriving
        ",2026-07-01T09:30,,,\n"  # no id
        "A4,,,,\n"  # no arrival
        "A5,29/03/2026 01:30,,,\n"  # a time that did not happen
        "A6,2026-07-02T10:00,,,Home\n"  # good
    ))  # fmt: skip
    assert _problems(report) == [
        (2, "departed_at", "departed_at is before arrived_at"),
        (3, "theatre", "theatre is before arrived_at"),
        (4, "episode_id", "episode_id is empty"),
        (5, "arrived_at", "arrived_at is empty: every episode needs its arrival"),
        (6, "arrived_at", "“29/03/2026 01:30” did not happen in the UK: the clocks went "
         "forward an hour that night. Check the time, or give it in UTC (…Z)"),
    ]  # fmt: skip
    assert (report.rows, report.valid) == (6, 1)
    assert [r.episode_id for r in records] == ["A6"]


def test_an_episode_twice_in_one_file_is_loaded_from_neither_row(tmp_path):
    report, records = _check(tmp_path, HEADER + (
        "A1,2026-07-01T09:30,,,\nA2,2026-07-01T10:30,,,\nA1,2026-07-01T11:30,,,\n"
    ))  # fmt: skip
    assert _problems(report) == [
        (2, "episode_id", "Episode A1 is also on line 4"),
        (4, "episode_id", "Episode A1 is also on line 2"),
    ]
    assert [r.episode_id for r in records] == ["A2"]


def test_unknown_and_missing_columns_are_problems_of_the_heading_row(tmp_path):
    report, records = _check(tmp_path, "episode_id,arrived,ward\nA1,2026-07-01T09:30,7\n")
    assert _problems(report) == [
        (1, "arrived", "The column arrived is not one this pathway knows: it will be left out"),
        (1, "ward", "The column ward is not one this pathway knows: it will be left out"),
        (1, "arrived_at", "The file has no arrived_at column: every episode needs one"),
    ]
    assert records == [] and report.valid == 0  # no row can be loaded without arrivals
    report, records = _check(tmp_path, "episode_id,arrived_at,ward\nA1,2026-07-01T09:30,7\n")
    assert report.ignored_columns == ["ward"] and [r.episode_id for r in records] == ["A1"]


@pytest.mark.parametrize(
    ("column", "values", "kind"),
    [
        ("ref", ["943 476 5919", "9434765870", "401 023 2137", "943 476 5919", "9434765870"],
         "NHS numbers"),
        ("other", ["12/03/1941", "1950-01-02", "03/04/1962", "1977-09-09", "01/01/1933"],
         "dates of birth"),
        ("episode_id", ["Mary Smith", "John Jones", "Ann Lee", "Tom Hardy-Brown", "Sue Ellis"],
         "names"),
    ],
)  # fmt: skip
def test_a_column_of_identifiers_refuses_the_file(tmp_path, column, values, kind):
    rows = "".join(f"{v},2026-07-0{i + 1}T09:30\n" for i, v in enumerate(values))
    header = f"{column},arrived_at\n" if column != "episode_id" else "episode_id,arrived_at\n"
    if column != "episode_id":
        header = f"episode_id,arrived_at,{column}\n"
        rows = "".join(f"E{i},2026-07-0{i + 1}T09:30,{v}\n" for i, v in enumerate(values))
    with pytest.raises(Refused, match=f"The column “{column}” holds {kind}"):
        _check(tmp_path, header + rows)


def test_a_few_nhs_number_like_values_do_not_refuse_a_file(tmp_path):
    rows = "".join(f"E{i},2026-07-01T09:30,{'9434765919' if i < 4 else 'x'}\n" for i in range(9))
    report, records = _check(tmp_path, "episode_id,arrived_at,note\n" + rows)
    assert len(records) == 9


@pytest.mark.parametrize(
    "heading", ["NHS number", "Date of birth", "DOB", "Surname", "Patient name", "Postcode"]
)
def test_an_identifying_heading_refuses_the_file(tmp_path, heading):
    with pytest.raises(Refused, match=f"The file has a column headed “{heading}”"):
        _check(tmp_path, f"episode_id,arrived_at,{heading}\nA1,2026-07-01T09:30,x\n")


def test_windows_1252_is_read_and_other_encodings_are_refused_by_name(tmp_path):
    text = HEADER + "A1,2026-07-01T09:30,,,Hospice – St Mary’s\n"
    report, records = _check(tmp_path, text.encode("cp1252"))
    assert report.encoding == "cp1252" and records[0].destination == "Hospice – St Mary’s"
    report, records = _check(tmp_path, b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert report.encoding == "utf-8-sig" and records[0].episode_id == "A1"
    with pytest.raises(Refused, match="The file is in UTF-16"):
        _check(tmp_path, text.encode("utf-16"))
    with pytest.raises(Refused, match="neither UTF-8 nor Windows-1252 \\(byte 0x81"):
        _check(tmp_path, HEADER.encode() + b"A1,2026-07-01T09:30,,,\x81\xe9\n")


def test_an_empty_or_oversized_file_is_refused(tmp_path):
    with pytest.raises(Refused, match="The file is empty"):
        _check(tmp_path, b"")
    with pytest.raises(Refused, match="no episodes"):
        _check(tmp_path, HEADER)
    with pytest.raises(Refused, match="The file is 77 bytes: the most is 10 bytes"):
        _check(tmp_path, HEADER + "A1,2026-07-01T09:30,,,\n", limit=10)


def test_an_excel_workbook_is_read_like_a_csv(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["episode_id", "arrived_at", "departed_at", "theatre", "destination"])
    sheet.append(["A1", datetime(2026, 7, 1, 9, 30), datetime(2026, 7, 3, 11), None, "Home"])
    sheet.append([1002, "01/07/2026 10:00", None, None, None])
    path = tmp_path / "episodes.xlsx"
    book.save(path)
    report, records = check_rows(path, "episodes.xlsx", step_codes=["theatre"],
                                 max_bytes=10**7, now=NOW)  # fmt: skip
    assert report.encoding == "xlsx"
    assert [(r.episode_id, r.arrived_at.hour) for r in records] == [("A1", 8), ("1002", 9)]


def test_an_excel_column_of_dates_of_birth_refuses_the_workbook(tmp_path):
    from datetime import date

    book = Workbook()
    sheet = book.active
    sheet.append(["episode_id", "arrived_at", "born"])
    for i in range(6):
        sheet.append([f"E{i}", datetime(2026, 7, 1, 9, 30), date(1940 + i, 3, 1)])
    path = tmp_path / "episodes.xlsx"
    book.save(path)
    with pytest.raises(Refused, match="The column “born” holds dates of birth"):
        check_rows(path, "episodes.xlsx", step_codes=[], max_bytes=10**7, now=NOW)


def test_a_files_size_and_its_limit_never_read_the_same():
    from fca.numbers import file_size, sizes_apart

    assert [file_size(n) for n in (1, 512, 4_200, 3_000_000, 200_400_000)] == [
        "1 byte", "512 bytes", "4.2 kB", "3 MB", "200.4 MB"
    ]  # fmt: skip
    assert sizes_apart(1_400_000, 1_000_000) == ("1.4 MB", "1 MB")
    assert sizes_apart(3_040_000, 3_000_000) == ("3,040,000 bytes", "3,000,000 bytes")
