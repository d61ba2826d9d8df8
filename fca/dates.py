"""Reading the dates people type or paste, the British way (day first), and showing them."""

import re
from datetime import date, datetime, timedelta

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}

_ISO = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[t ][\d:.]+z?)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?: [\d:]+)?$")
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})[ \-]([a-z]+)[ \-,]+(\d{2}|\d{4})$")
_MONTH_NAME_YEAR = re.compile(r"^([a-z]+)[ \-,]+(\d{2}|\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")


class MonthDate(date):
    """A date given only as a month (Nov 2026): its first day, marked as such, so a weekly
    measure can refuse it rather than guess the week."""


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


class UnknownMonth(ValueError):
    """A month name nobody uses: said as such, not as an impossible date."""


def _month(name: str) -> int:
    try:
        return _MONTHS[name]
    except KeyError:
        raise UnknownMonth(f"“{name}” is not a month") from None


def parse_date(text: str) -> date:
    """A date from what a person typed: 2024-03-01, 01/03/2024 (day first), 1 Mar 2024,
    or a month alone, Mar 2024 or 2024-03 (a MonthDate: the first of the month). Raises
    ValueError with a message fit to show the person."""
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise ValueError("The date is empty")
    try:
        if m := _ISO.match(cleaned):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DAY_FIRST.match(cleaned):
            return date(_year(m[3]), int(m[2]), int(m[1]))
        if m := _DAY_MONTH_NAME.match(cleaned):
            return date(_year(m[3]), _month(m[2]), int(m[1]))
        if m := _MONTH_NAME_YEAR.match(cleaned):
            return MonthDate(_year(m[2]), _month(m[1]), 1)
        if m := _YEAR_MONTH.match(cleaned):
            return MonthDate(int(m[1]), int(m[2]), 1)
    except UnknownMonth:
        raise
    except ValueError:
        raise ValueError(f"“{text.strip()}” is not a real date") from None
    if _SERIAL.match(cleaned):
        raise ValueError(
            f"“{text.strip()}” looks like a spreadsheet number for a date: format the "
            "column as dates, then copy it again"
        )
    raise ValueError(f"“{text.strip()}” is not a date: write it as 01/03/2024 or 1 Mar 2024")


def swappable_example(texts) -> str | None:
    """A date among ``texts`` written in numbers whose day and month could be swapped
    (03/04/2026: both 12 or under, and not the same), when no date among them settles
    which comes first (none has a first number over 12, as 13/04/2026 would): then a
    file written month first would be read wrongly without a word. None when a date
    settles it or none could be swapped."""
    watch = DayFirstWatch()
    watch.see(str(text) for text in texts)
    return watch.example


class DayFirstWatch:
    """``swappable_example`` for texts seen a block at a time, as a large file streams
    by: ``example`` answers for everything seen so far. A block is searched by one regular
    expression over its texts joined, not text by text, so a million times cost little;
    once a date has settled it, nothing more is read."""

    # _DAY_FIRST, matched against a whole text (each follows a NUL, and a NUL or the end
    # follows it) that may have spaces around it and any run of them between date and
    # time, as the text collapsed would. Starting with a NUL lets the search skip ahead.
    _TEXTS = re.compile(
        r"\x00\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](?:\d{2}|\d{4})(?:\s+[\d:]+)?\s*(?=\x00|\Z)"
    )

    def __init__(self):
        self.example: str | None = None
        self.settled = False  # a first number over 12: day first, whatever comes after

    def see(self, texts) -> None:
        """Texts in the order they come (a file's rows, each row's time columns in turn)."""
        if self.settled:
            return
        texts = list(texts)
        joined = "\x00" + "\x00".join(texts)
        if joined.count("\x00") != len(texts):  # a text holding the separator itself
            for text in texts:
                if self.settled:
                    break
                self._search("\x00" + text.replace("\x00", "\x01"))  # never part of a date
        else:
            self._search(joined)

    def _search(self, joined: str) -> None:
        for m in self._TEXTS.finditer(joined):
            if int(m[1]) > 12:
                self.settled, self.example = True, None
                return
            day, month = int(m[1]), int(m[2])
            if self.example is None and day != month and 1 <= day <= 12 and 1 <= month <= 12:
                self.example = m[0][1:].strip()


def week_start(day: date) -> date:
    """The Monday of the week holding ``day``."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def format_date(value: date | datetime) -> str:
    """26 Nov 2026, as the NHS writes dates."""
    return f"{value.day} {value.strftime('%b %Y')}"
