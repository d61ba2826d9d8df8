"""When a room was expected to meet, and whether it has stalled. Pure: dates in, dates out.

A room meets weekly on its meeting day. A bank holiday of the room's nation, or a week when
the room was stood down, is not an expected meeting.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays

from fca.dates import format_date

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
    kind: str  # "no_sessions", "overdue_actions" or "no_pdsa"
    message: str


def paused_spans(changes: Iterable[tuple[str, date]]) -> list[tuple[date, date | None]]:
    """The spans [from, until) a room was stood down (until None: still is), from its
    status changes (status, date) in the order they were made."""
    spans, begun = [], None
    for status, on in changes:
        if status == "stood_down" and begun is None:
            begun = on
        elif status != "stood_down" and begun is not None:
            spans.append((begun, on))
            begun = None
    if begun is not None:
        spans.append((begun, None))
    return spans


def pdsa_standstill(
    *, testing: bool, last_move: date | None, reached: date, today: date
) -> str | None:
    """Why a room testing changes looks stuck: no PDSA cycle started or moved on for
    eight weeks (counted from when it reached testing, if it has no cycles yet)."""
    if not testing:
        return None
    since = max(filter(None, (last_move, reached)))
    weeks = (today - since).days // 7
    if weeks < PDSA_WEEKS_FOR_A_STALL:
        return None
    if last_move is None:
        return f"No PDSA cycle started in the {weeks} weeks since testing began"
    return f"No PDSA cycle started or moved on for {weeks} weeks, since {format_date(since)}"


def stalls(
    *, expected: Sequence[date], logged: Iterable[date], overdue: int, standstill: str | None
) -> list[Stall]:
    """Why a room that is meeting looks stalled, in words: meetings missed in a row,
    overdue actions, and PDSA testing at a standstill. One rule for the room's page and
    the organisation's dashboard, which gathers the facts for many rooms at once."""
    flags = []
    missed = missed_in_a_row(expected, logged)
    if len(missed) >= MISSED_FOR_A_STALL:
        flags.append(
            Stall(
                "no_sessions",
                f"No session logged for the last {len(missed)} meetings, since "
                f"{format_date(missed[0])}",
            )
        )
    if overdue:
        flags.append(
            Stall("overdue_actions", f"{overdue} action{'s' if overdue != 1 else ''} overdue")
        )
    if standstill is not None:
        flags.append(Stall("no_pdsa", standstill))
    return flags
