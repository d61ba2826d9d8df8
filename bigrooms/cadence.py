"""When a room was expected to meet, and whether it has stalled. Pure: dates in, dates out.

A room meets weekly on its meeting day. A bank holiday of the room's nation, or a week when
the room was stood down, is not an expected meeting.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays

MISSED_FOR_A_STALL = 3
PDSA_WEEKS_FOR_A_STALL = 8
_SUBDIVISIONS = {
    "england": "ENG",
    "wales": "WLS",
    "scotland": "SCT",
    "northern_ireland": "NIR",
}


@cache
def _bank_holidays(nation: str, year: int) -> frozenset[date]:
    return frozenset(holidays.UK(subdiv=_SUBDIVISIONS.get(nation, "ENG"), years=year))


def is_bank_holiday(day: date, nation: str) -> bool:
    return day in _bank_holidays(nation, day.year)


def expected_meetings(
    *,
    weekday: int,
    start: date,
    end: date,
    nation: str,
    paused: Sequence[tuple[date, date | None]] = (),
) -> list[date]:
    """Every meeting day from ``start`` to ``end`` (both included) that was neither a bank
    holiday nor inside a paused span [from, until) (until None: still paused)."""
    first = start + timedelta(days=(weekday - start.weekday()) % 7)
    days = []
    day = first
    while day <= end:
        stopped = any(begin <= day and (until is None or day < until) for begin, until in paused)
        if not stopped and not is_bank_holiday(day, nation):
            days.append(day)
        day += timedelta(weeks=1)
    return days


def missed_in_a_row(expected: Sequence[date], logged: Iterable[date]) -> list[date]:
    """The latest expected meetings with no session logged in their week, newest last,
    counting back until one was logged."""
    logged_weeks = {day - timedelta(days=day.weekday()) for day in logged}
    missed = []
    for day in reversed(expected):
        if day - timedelta(days=day.weekday()) in logged_weeks:
            break
        missed.append(day)
    return list(reversed(missed))


@dataclass(frozen=True)
class Stall:
    kind: str  # "no_sessions" or "overdue_actions"
    message: str
