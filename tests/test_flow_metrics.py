"""Weekly flow metrics (pathways/flow.py): hand-worked cases, each value worked out by hand,
and a slow reference written straight from the definitions with Python datetimes.

No database: plain functions. Dates in 2026: the clocks go forward on Sunday 29 March
(01:00 UTC) and back on Sunday 25 October (01:00 UTC); Monday 5 January is a Monday.
"""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from pathways.flow import (
    Episodes,
    WeeklyMetrics,
    arrivals_departures_heatmap,
    weekly_metrics,
)

LONDON = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

CONTRACT_FIELDS = {
    "week_start",
    "arrivals",
    "departures",
    "deaths_or_other",
    "discharges",
    "los_mean_hours",
    "los_median_hours",
    "los_p90_hours",
    "long_stays",
    "long_stay_pct",
    "before_noon",
    "before_noon_pct",
    "on_pathway",
    "on_pathway_age_median_days",
    "on_pathway_age_p90_days",
    "stranded",
    "super_stranded",
    "step_count",
    "step_within_standard",
    "step_within_standard_pct",
    "step_median_hours",
    "occupancy",
    "littles_law_occupancy",
    "discharge_delay_median_days",
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def episode(arrived, departed=None, **more):
    return {"arrived_at": arrived, "departed_at": departed, **more}


def week(rows: list[WeeklyMetrics], monday: date) -> WeeklyMetrics:
    (row,) = [r for r in rows if r.week_start == monday]
    return row


# --------------------------------------------------------------------------------------
# Clock changes
# --------------------------------------------------------------------------------------


def test_a_stay_over_the_night_the_clocks_go_forward_is_an_hour_shorter():
    # Saturday noon GMT to Sunday noon BST: 23 elapsed hours in a 167-hour week.
    rows = weekly_metrics(
        [episode(local(2026, 3, 28, 12), local(2026, 3, 29, 12))], as_of=local(2026, 4, 1)
    )
    row = week(rows, date(2026, 3, 23))
    assert (row.discharges, row.los_mean_hours, row.los_median_hours) == (1, 23.0, 23.0)
    assert row.los_p90_hours == 23.0
    assert row.hours == 167.0
    assert row.complete is True
    assert row.occupancy == 23 / 167


def test_a_night_with_the_clocks_going_back_is_25_hours():
    rows = weekly_metrics(
        [episode(local(2026, 10, 24, 12), local(2026, 10, 25, 12))], as_of=local(2026, 10, 28)
    )
    row = week(rows, date(2026, 10, 19))
    assert row.los_mean_hours == 25.0
    assert row.hours == 169.0
    assert row.occupancy == 25 / 169


def test_weeks_start_at_local_midnight_on_monday_either_side_of_a_clock_change():
    # Monday 30 March 00:00 BST is Sunday 23:00 UTC; Monday 19 October 00:00 BST is
    # Sunday 18 October 23:00 UTC; Monday 26 October 00:00 GMT is 00:00 UTC.
    arrivals = [
        utc(2026, 3, 29, 22, 59),  # Sunday 29 March 23:59 BST: the week of 23 March
        utc(2026, 3, 29, 23, 0),  # Monday 30 March 00:00 BST: the week of 30 March
        utc(2026, 10, 18, 22, 59),  # Sunday 23:59 BST: the week of 12 October
        utc(2026, 10, 18, 23, 0),  # Monday 19 October 00:00 BST
        utc(2026, 10, 25, 23, 30),  # Sunday 25 October 23:30 GMT: still the week of 19th
        utc(2026, 10, 26, 0, 0),  # Monday 26 October 00:00 GMT
    ]
    rows = weekly_metrics([episode(a, a + HOUR) for a in arrivals], as_of=utc(2026, 10, 27))
    counts = {r.week_start: r.arrivals for r in rows if r.arrivals}
    assert counts == {
        date(2026, 3, 23): 1,
        date(2026, 3, 30): 1,
        date(2026, 10, 12): 1,
        date(2026, 10, 19): 2,
        date(2026, 10, 26): 1,
    }
    assert week(rows, date(2026, 3, 30)).hours == 168.0
    assert week(rows, date(2026, 10, 19)).hours == 169.0


def test_before_noon_is_local_wall_clock_time_in_summer():
    arrived = utc(2026, 6, 1, 9)
    rows = weekly_metrics(
        [
            episode(arrived, utc(2026, 6, 3, 10, 30)),  # 11:30 BST: before noon
            episode(arrived, utc(2026, 6, 3, 11, 0)),  # 12:00 BST: not before noon
            episode(
                arrived, datetime(2026, 6, 4, 10, 59, 59, 999999, tzinfo=UTC)
            ),  # 11:59:59.999999
        ],
        as_of=utc(2026, 6, 8),
    )
    row = week(rows, date(2026, 6, 1))
    assert (row.before_noon, row.discharges) == (2, 3)
    assert row.before_noon_pct == 100 * 2 / 3


def test_before_noon_in_winter_is_the_same_as_utc():
    rows = weekly_metrics(
        [
            episode(utc(2026, 1, 5), utc(2026, 1, 6, 11, 30)),
            episode(utc(2026, 1, 5), utc(2026, 1, 6, 12, 0)),
        ],
        as_of=utc(2026, 1, 12),
    )
    assert (rows[0].before_noon, rows[0].before_noon_pct) == (1, 50.0)


# --------------------------------------------------------------------------------------
# On the pathway, open episodes, occupancy
# --------------------------------------------------------------------------------------


def open_and_closed():
    return [
        episode(utc(2026, 1, 5)),  # A: open, from Monday 5 January 00:00
        episode(utc(2026, 1, 6, 12), utc(2026, 1, 13, 12), destination="Home"),  # C: 168 h
        episode(utc(2026, 1, 21)),  # B: open, from Wednesday 21 January
    ]


def test_open_episodes_are_on_the_pathway_until_as_of_and_never_discharged():
    rows = weekly_metrics(open_and_closed(), as_of=utc(2026, 1, 22, 12))
    assert [r.week_start for r in rows] == [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]
    first, second, last = rows
    # Week of 5 January: A arrived at its very start (age 0); C arrived on the Tuesday.
    assert (first.arrivals, first.on_pathway, first.stranded) == (2, 1, 0)
    assert first.on_pathway_age_median_days == 0.0
    assert first.occupancy == (168 + 132) / 168
    assert (first.departures, first.discharges, first.los_mean_hours) == (0, 0, None)
    # Week of 12 January: A is exactly 7 days in (stranded), C 5.5 days; C leaves.
    assert (second.on_pathway, second.stranded, second.super_stranded) == (2, 1, 0)
    assert second.on_pathway_age_median_days == 6.25
    assert second.on_pathway_age_p90_days == np.percentile([5.5, 7.0], 90)
    assert second.on_pathway_age_p90_days == pytest.approx(6.85)
    assert (second.departures, second.discharges, second.los_mean_hours) == (1, 1, 168.0)
    assert second.occupancy == (168 + 36) / 168
    assert second.littles_law_occupancy == 0.0
    # The week holding as_of: measured over Monday 00:00 to Thursday 12:00 (84 hours).
    assert (last.complete, last.hours, last.arrivals) == (False, 84.0, 1)
    assert (last.on_pathway, last.stranded, last.on_pathway_age_median_days) == (1, 1, 14.0)
    assert last.occupancy == (84 + 36) / 84
    assert last.discharges == 0


def test_a_week_with_no_departures_counts_zero_and_has_no_statistics():
    row = weekly_metrics(open_and_closed(), as_of=utc(2026, 1, 22, 12))[0]
    assert (row.departures, row.deaths_or_other, row.discharges) == (0, 0, 0)
    assert (row.long_stays, row.before_noon) == (0, 0)
    assert (row.los_mean_hours, row.los_median_hours, row.los_p90_hours) == (None, None, None)
    assert (row.long_stay_pct, row.before_noon_pct) == (None, None)
    assert row.discharge_delay_median_days is None
    assert row.littles_law_occupancy is None


def test_an_episode_over_many_weeks_is_counted_at_each_week_start_until_it_leaves():
    records = [
        # Sunday 4 January 12:00 to Monday 2 February 00:00 exactly: 28.5 days.
        episode(utc(2026, 1, 4, 12), utc(2026, 2, 2), destination="Home"),
        episode(utc(2026, 1, 12)),  # open, from Monday 12 January 00:00
    ]
    rows = weekly_metrics(records, as_of=utc(2026, 2, 4))
    assert [r.week_start for r in rows][0] == date(2025, 12, 29)
    assert [r.on_pathway for r in rows] == [0, 1, 2, 2, 2, 1]
    assert [r.stranded for r in rows] == [0, 0, 1, 2, 2, 1]
    assert [r.super_stranded for r in rows] == [0, 0, 0, 0, 1, 1]  # 21 days exactly
    assert [r.on_pathway_age_median_days for r in rows] == [None, 0.5, 3.75, 10.75, 17.75, 21.0]
    week_19 = week(rows, date(2026, 1, 19))
    assert week_19.on_pathway_age_p90_days == np.percentile([14.5, 7.0], 90)
    assert week_19.on_pathway_age_p90_days == pytest.approx(13.75)
    # It leaves at the very start of the week of 2 February: not there at that start.
    last = rows[-1]
    assert (last.departures, last.discharges, last.los_mean_hours) == (1, 1, 684.0)
    assert (last.long_stays, last.long_stay_pct) == (1, 100.0)


def test_one_patient_there_for_exactly_half_a_week_is_an_occupancy_of_a_half():
    rows = weekly_metrics([episode(utc(2026, 1, 12), utc(2026, 1, 15, 12))], as_of=utc(2026, 1, 19))
    assert rows[0].occupancy == 0.5
    # as_of is the first instant of the next week: measured over no time at all.
    assert (rows[1].week_start, rows[1].hours, rows[1].occupancy) == (date(2026, 1, 19), 0.0, None)
    assert rows[1].littles_law_occupancy is None


def test_littles_law_is_arrivals_per_hour_times_mean_stay():
    stays = [episode(utc(2026, 3, 2), utc(2026, 3, 5, 12)) for _ in range(2)]  # 84 h each
    row = weekly_metrics(stays, as_of=utc(2026, 3, 9))[0]
    assert (row.arrivals, row.los_mean_hours) == (2, 84.0)
    assert row.littles_law_occupancy == 2 / 168 * 84 == 1.0
    assert row.occupancy == 1.0


def test_littles_law_in_the_week_holding_as_of_uses_the_hours_so_far():
    stays = [episode(utc(2026, 3, 2), utc(2026, 3, 2, 6)), episode(utc(2026, 3, 2, 1))]
    row = weekly_metrics(stays, as_of=utc(2026, 3, 3))[0]  # 24 hours of the week
    assert (row.hours, row.arrivals, row.los_mean_hours) == (24.0, 2, 6.0)
    assert row.littles_law_occupancy == 2 / 24 * 6
    assert row.occupancy == (6 + 23) / 24


def test_events_after_as_of_have_not_happened_yet():
    records = [
        episode(utc(2026, 1, 5), utc(2026, 1, 9), steps={"assessed": utc(2026, 1, 8, 6)}),
        episode(utc(2026, 1, 8, 6)),
    ]
    row = weekly_metrics(records, as_of=utc(2026, 1, 8))[0]
    assert (row.arrivals, row.departures, row.discharges) == (1, 0, 0)
    assert row.occupancy == 1.0  # still there, from Monday to Thursday 00:00
    assert row.step_count == {"assessed": 0}


def test_as_of_defaults_to_the_latest_time_in_the_data():
    records = [episode(utc(2026, 1, 5), steps={"assessed": utc(2026, 1, 7, 12)})]
    (row,) = weekly_metrics(records)
    assert (row.hours, row.occupancy, row.complete) == (60.0, 1.0, False)
    assert row.step_count == {"assessed": 1}


# --------------------------------------------------------------------------------------
# Discharges and what is not a discharge
# --------------------------------------------------------------------------------------


def mixed_departures():
    monday = utc(2026, 3, 2)
    return [
        episode(monday + 8 * HOUR, monday + 33 * HOUR, destination="Died"),  # 25 h
        episode(
            monday + 8 * HOUR,
            monday + 4 * DAY + 10 * HOUR,  # Friday 10:00, 98 h
            destination="DIED",
            discharge_ready_at=monday + 3 * DAY + 10 * HOUR,
        ),
        episode(
            monday + 10 * HOUR,
            monday + 3 * DAY + 14 * HOUR,  # Thursday 14:00, 76 h
            destination="Home",
            discharge_ready_at=monday + 2 * DAY + 14 * HOUR,  # a day before
        ),
        episode(monday + 10 * HOUR, monday + DAY + 10 * HOUR),  # 24 h, destination unknown
    ]


def test_departures_to_a_not_discharge_destination_are_left_out_of_discharge_metrics():
    rows = weekly_metrics(mixed_departures(), not_discharges=("died",), as_of=utc(2026, 3, 9))
    row = rows[0]
    assert (row.departures, row.deaths_or_other, row.discharges) == (4, 2, 2)
    assert (row.los_mean_hours, row.los_median_hours) == (50.0, 50.0)
    assert row.los_p90_hours == np.percentile([76.0, 24.0], 90)
    assert row.los_p90_hours == pytest.approx(70.8)
    assert (row.long_stays, row.long_stay_pct) == (1, 50.0)
    assert (row.before_noon, row.before_noon_pct) == (1, 50.0)
    assert row.discharge_delay_median_days == 1.0


def test_without_not_discharges_every_departure_is_a_discharge():
    row = weekly_metrics(mixed_departures(), as_of=utc(2026, 3, 9))[0]
    assert (row.departures, row.deaths_or_other, row.discharges) == (4, 0, 4)
    assert (row.long_stays, row.before_noon) == (2, 3)
    assert row.discharge_delay_median_days == 1.0  # median of 1 day and 1 day
    assert row.los_mean_hours == (25 + 98 + 76 + 24) / 4


def test_a_long_stay_is_strictly_over_the_threshold():
    monday = utc(2026, 3, 2)
    records = [
        episode(monday, monday + 72 * HOUR),
        episode(monday, monday + 72 * HOUR + timedelta(microseconds=1)),
    ]
    row = weekly_metrics(records, as_of=utc(2026, 3, 9))[0]
    assert (row.long_stays, row.long_stay_pct) == (1, 50.0)
    assert weekly_metrics(records, los_threshold_hours=24, as_of=utc(2026, 3, 9))[0].long_stays == 2


def test_discharge_delay_leaves_out_ready_times_outside_the_stay():
    monday = utc(2026, 3, 2)
    records = [
        episode(monday, monday + 2 * DAY, discharge_ready_at=monday - HOUR),
        episode(monday, monday + 2 * DAY, discharge_ready_at=monday + 3 * DAY),
        episode(monday, monday + 2 * DAY, discharge_ready_at=monday + 12 * HOUR),
        episode(monday, monday + 2 * DAY, discharge_ready_at=monday),
    ]
    row = weekly_metrics(records, as_of=utc(2026, 3, 9))[0]
    assert row.discharge_delay_median_days == np.median([1.5, 2.0])


def test_statistics_of_stays_equal_numpys_default_percentiles_on_a_hand_list():
    monday = utc(2026, 3, 2)
    hours = [7, 2, 100, 4, 1, 9, 3, 8, 6, 5]
    rows = weekly_metrics(
        [episode(monday, monday + h * HOUR) for h in hours], as_of=utc(2026, 3, 9)
    )
    row = rows[0]
    assert row.los_mean_hours == 14.5
    assert row.los_median_hours == np.median(hours) == 5.5
    assert row.los_p90_hours == np.percentile(hours, 90)
    assert row.los_p90_hours == pytest.approx(18.1)


# --------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------


def test_step_standards_are_met_at_or_within_the_standard():
    monday = utc(2026, 3, 2, 8)
    records = [
        episode(monday, steps={"assessed": monday + 4 * HOUR, "plan": monday + 10 * HOUR}),
        episode(monday, steps={"assessed": monday + 4 * HOUR + timedelta(minutes=1)}),
        episode(monday, steps={"assessed": monday - HOUR}),  # before arrival: not counted
        episode(monday, steps={"assessed": None}),
        episode(monday),
        # Sunday 23:00 arrival, assessed on Monday 01:00: the next week's step.
        episode(utc(2026, 3, 8, 23), steps={"assessed": utc(2026, 3, 9, 1)}),
        # After as_of: not yet happened.
        episode(utc(2026, 3, 9, 10), steps={"assessed": utc(2026, 3, 9, 13)}),
    ]
    rows = weekly_metrics(
        records, step_standards_hours={"assessed": 4, "review": 2}, as_of=utc(2026, 3, 9, 12)
    )
    first, second = rows
    assert first.step_count == {"assessed": 2, "plan": 1, "review": 0}
    assert first.step_within_standard == {"assessed": 1, "plan": None, "review": 0}
    assert first.step_within_standard_pct == {"assessed": 50.0, "plan": None, "review": None}
    assert first.step_median_hours == {
        "assessed": np.median([4.0, 4 + 1 / 60]),
        "plan": 10.0,
        "review": None,
    }
    assert list(first.step_count) == ["assessed", "plan", "review"]
    assert second.step_count == {"assessed": 1, "plan": 0, "review": 0}
    assert second.step_within_standard_pct == {"assessed": 100.0, "plan": None, "review": None}
    assert second.step_median_hours["assessed"] == 2.0


def test_a_step_standard_of_none_gives_counts_but_no_verdict():
    monday = utc(2026, 3, 2)
    records = [episode(monday, steps={"assessed": monday + HOUR})]
    row = weekly_metrics(records, step_standards_hours={"assessed": None})[0]
    assert (row.step_count, row.step_within_standard) == ({"assessed": 1}, {"assessed": None})
    assert row.step_within_standard_pct == {"assessed": None}


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def rich_records():
    return [
        episode(
            local(2026, 3, 27, 9),
            local(2026, 3, 30, 11),
            steps={"assessed": local(2026, 3, 27, 12)},
            discharge_ready_at=local(2026, 3, 30, 8),
            destination="Home",
        ),
        episode(local(2026, 3, 28, 22), local(2026, 4, 1, 10), destination="died"),
        episode(local(2026, 3, 18, 14), steps={"assessed": local(2026, 3, 19, 1)}),
    ]


def test_records_as_mappings_objects_and_columns_give_the_same_rows():
    options = {
        "step_standards_hours": {"assessed": 4},
        "not_discharges": ["Died"],
        "as_of": local(2026, 4, 2, 18),
    }
    records = rich_records()
    as_objects = [SimpleNamespace(**r) for r in records]
    bare = [
        SimpleNamespace(arrived_at=r["arrived_at"], departed_at=r["departed_at"]) for r in records
    ]
    columns = Episodes(
        arrived_at=np.array(
            ["2026-03-27T09:00", "2026-03-28T22:00", "2026-03-18T14:00"], "datetime64[m]"
        ),
        departed_at=np.array(["2026-03-30T10:00", "2026-04-01T09:00", "NaT"], "datetime64[s]"),
        steps={"assessed": np.array(["2026-03-27T12:00", "NaT", "2026-03-19T01:00"], "M8[ns]")},
        discharge_ready_at=np.array(["2026-03-30T07:00", "NaT", "NaT"], "datetime64[us]"),
        destination=["Home", "died", None],
    )
    expected = [r.as_dict() for r in weekly_metrics(records, **options)]
    assert [r.as_dict() for r in weekly_metrics(as_objects, **options)] == expected
    assert [
        r.as_dict() for r in weekly_metrics(Episodes.from_records(records), **options)
    ] == expected
    assert [r.as_dict() for r in weekly_metrics(columns, **options)] == expected
    bare_rows = weekly_metrics(bare, as_of=options["as_of"])
    assert [r.discharges for r in bare_rows] == [0, 0, 2]
    assert week(weekly_metrics(records, **options), date(2026, 3, 30)).discharges == 1


def test_every_contract_field_is_on_each_row():
    (row, *_) = weekly_metrics(rich_records())
    assert {f.name for f in fields(WeeklyMetrics)} >= CONTRACT_FIELDS
    assert set(row.as_dict()) >= CONTRACT_FIELDS


def test_naive_datetimes_are_refused_with_a_clear_error():
    with pytest.raises(ValueError, match=r"episode 1: arrived_at is a naive datetime"):
        weekly_metrics([episode(utc(2026, 1, 5)), episode(datetime(2026, 1, 5))])
    with pytest.raises(ValueError, match=r"step 'assessed' is a naive datetime"):
        weekly_metrics([episode(utc(2026, 1, 5), steps={"assessed": datetime(2026, 1, 5, 3)})])
    with pytest.raises(ValueError, match=r"as_of is a naive datetime"):
        weekly_metrics([episode(utc(2026, 1, 5))], as_of=datetime(2026, 1, 6))
    with pytest.raises(ValueError, match=r"start is a naive datetime"):
        arrivals_departures_heatmap([], start=datetime(2026, 1, 5), end=utc(2026, 1, 12))


def test_a_departure_before_arrival_is_refused_naming_the_episode():
    records = [episode(utc(2026, 1, 5), utc(2026, 1, 6)), episode(utc(2026, 1, 5), utc(2026, 1, 4))]
    with pytest.raises(ValueError, match=r"episode 1: departed_at is before arrived_at"):
        weekly_metrics(records)
    with pytest.raises(ValueError, match=r"episode 0: arrived_at is missing"):
        Episodes(np.array(["NaT"], "M8[us]"), np.array(["NaT"], "M8[us]"))


def test_no_episodes_or_none_begun_by_as_of_give_no_rows():
    assert weekly_metrics([]) == []
    assert weekly_metrics([episode(utc(2026, 1, 5))], as_of=utc(2026, 1, 4)) == []


# --------------------------------------------------------------------------------------
# Heatmap
# --------------------------------------------------------------------------------------


def test_the_heatmap_buckets_by_local_weekday_and_hour_around_the_spring_clock_change():
    records = [
        episode(utc(2026, 3, 29, 0, 30)),  # Sunday 00:30 GMT
        episode(utc(2026, 3, 29, 1, 30)),  # Sunday 02:30 BST
        episode(utc(2026, 3, 29, 23, 30)),  # Monday 30 March 00:30 BST
        episode(utc(2026, 3, 30, 10, 30), utc(2026, 3, 31, 11), destination="Home"),  # 12:00 BST
        episode(utc(2026, 3, 30, 10, 45), utc(2026, 3, 31, 10), destination="Died"),
        episode(utc(2026, 3, 22, 23, 59)),  # Sunday 22 March 23:59 GMT: before the period
        episode(utc(2026, 4, 5, 23, 0)),  # Monday 6 April 00:00 BST: the period's end
    ]
    heat = arrivals_departures_heatmap(
        records, start=local(2026, 3, 23), end=local(2026, 4, 6), not_discharges=["DIED"]
    )
    arrivals = {(d, h): n for d, row in enumerate(heat.arrivals) for h, n in enumerate(row) if n}
    assert arrivals == {(6, 0): 1, (6, 2): 1, (0, 0): 1, (0, 11): 2}
    discharges = {
        (d, h): n for d, row in enumerate(heat.discharges) for h, n in enumerate(row) if n
    }
    assert discharges == {(1, 12): 1}
    assert len(heat.arrivals) == 7 and all(len(r) == 24 for r in heat.arrivals)
    assert heat.days[0] == "Monday"


def test_the_repeated_hour_in_autumn_counts_twice_under_one_oclock():
    records = [
        episode(utc(2026, 10, 25, 0, 30)),  # 01:30 BST
        episode(utc(2026, 10, 25, 1, 30)),  # 01:30 GMT
        episode(utc(2026, 10, 25, 23, 30)),  # Sunday 23:30 GMT
    ]
    heat = arrivals_departures_heatmap(records, start=local(2026, 10, 19), end=local(2026, 10, 26))
    assert heat.arrivals[6][1] == 2
    assert heat.arrivals[6][23] == 1
    assert sum(map(sum, heat.arrivals)) == 3
    assert sum(map(sum, heat.discharges)) == 0


# --------------------------------------------------------------------------------------
# Against a slow reference, written straight from the definitions
# --------------------------------------------------------------------------------------


def reference(records, *, as_of, standards, not_discharges, threshold=72, stranded=(7, 21)):
    """Every metric from Python datetimes, one week and one episode at a time."""
    wanted = {n.casefold() for n in not_discharges}
    codes = sorted({c for r in records for c in r.get("steps", {})} | set(standards))
    eps = []
    for r in records:
        if r["arrived_at"] > as_of:
            continue
        d = r["departed_at"]
        eps.append(
            {
                "a": r["arrived_at"],
                "d": None if d is None or d > as_of else d,
                "ready": r.get("discharge_ready_at"),
                "other": (r.get("destination") or "").casefold() in wanted,
                "steps": r.get("steps", {}),
            }
        )
    monday = min(e["a"] for e in eps).astimezone(LONDON).date()
    monday -= timedelta(days=monday.weekday())
    rows = []
    # In UTC: Python subtracts two datetimes of one zone as wall-clock times, not elapsed.
    while (start := datetime.combine(monday, time(), LONDON).astimezone(UTC)) <= as_of:
        next_start = datetime.combine(monday + timedelta(7), time(), LONDON).astimezone(UTC)
        end = min(next_start, as_of)

        def within(t, start=start, next_start=next_start):
            return t is not None and start <= t < next_start

        gone = [e for e in eps if within(e["d"])]
        dis = [e for e in gone if not e["other"]]
        los = [(e["d"] - e["a"]) / HOUR for e in dis]
        delays = [
            (e["d"] - e["ready"]) / DAY
            for e in dis
            if e["ready"] and e["a"] <= e["ready"] <= e["d"]
        ]
        on = [e for e in eps if e["a"] <= start and (e["d"] is None or start < e["d"])]
        ages = [(start - e["a"]) / DAY for e in on]
        overlap = sum(
            (max(min(e["d"] or end, end) - max(e["a"], start), timedelta(0)) for e in eps),
            timedelta(0),
        )
        stat = lambda f, xs: float(f(xs)) if xs else None  # noqa: E731
        row = {
            "week_start": monday,
            "arrivals": sum(within(e["a"]) for e in eps),
            "departures": len(gone),
            "deaths_or_other": len(gone) - len(dis),
            "discharges": len(dis),
            "los_mean_hours": stat(np.mean, los),
            "los_median_hours": stat(np.median, los),
            "los_p90_hours": stat(lambda x: np.percentile(x, 90), los),
            "long_stays": sum(h > threshold for h in los),
            "before_noon": sum(e["d"].astimezone(LONDON).hour < 12 for e in dis),
            "on_pathway": len(on),
            "on_pathway_age_median_days": stat(np.median, ages),
            "on_pathway_age_p90_days": stat(lambda x: np.percentile(x, 90), ages),
            "stranded": sum(a >= stranded[0] for a in ages),
            "super_stranded": sum(a >= stranded[1] for a in ages),
            "occupancy": overlap / (end - start) if end > start else None,
            "discharge_delay_median_days": stat(np.median, delays),
        }
        steps = {}
        for c in codes:
            hours = [
                (t - e["a"]) / HOUR
                for e in eps
                if (t := e["steps"].get(c)) is not None and e["a"] <= t <= as_of and within(t)
            ]
            std = standards.get(c)
            ok = None if std is None else sum(h <= std for h in hours)
            steps[c] = (len(hours), ok, None if ok is None or not hours else 100 * ok / len(hours))
            steps[c] += (stat(np.median, hours),)
        row["steps"] = steps
        rows.append(row)
        monday += timedelta(7)
    return rows


def random_records(seed: int) -> tuple[list[dict], datetime]:
    """Episodes around both 2026 clock changes, on awkward instants (midnights, noon)."""
    rng = random.Random(seed)
    origin = local(2026, 3, 9) if seed % 2 else local(2026, 10, 5)
    as_of = origin + timedelta(days=rng.choice([30, 35, 35.5, 41]))
    marks = [
        datetime.combine(origin.date() + timedelta(d), time(h), LONDON)
        for d in range(40)
        for h in (0, 12)
    ]

    def instant() -> datetime:
        if rng.random() < 0.3:
            return rng.choice(marks).astimezone(UTC)
        return (origin + timedelta(minutes=rng.randrange(40 * 24 * 60))).astimezone(UTC)

    records = []
    for _ in range(rng.randrange(1, 60)):
        a = instant()
        d = (
            None
            if rng.random() < 0.15
            else a + rng.choice([timedelta(0), 72 * HOUR, rng.random() * 20 * DAY])
        )
        steps = {}
        for code in ("assessed", "plan"):
            if rng.random() < 0.7:
                steps[code] = a + timedelta(hours=rng.choice([-1, 2, 4, 4, 30 * rng.random()]))
        records.append(
            {
                "arrived_at": a,
                "departed_at": d,
                "steps": steps,
                "discharge_ready_at": rng.choice([None, a + HOUR, a + rng.random() * 10 * DAY]),
                "destination": rng.choice([None, "Home", "died", "DIED", "Care home"]),
            }
        )
    return records, as_of


@pytest.mark.parametrize("seed", range(12))
def test_random_pathways_match_a_slow_reference_built_from_the_definitions(seed):
    records, as_of = random_records(seed)
    standards = {"assessed": 4, "triage": 1}
    rows = weekly_metrics(
        records, as_of=as_of, step_standards_hours=standards, not_discharges=["Died"]
    )
    expected = reference(records, as_of=as_of, standards=standards, not_discharges=["Died"])
    assert [r.week_start for r in rows] == [e["week_start"] for e in expected]
    for row, want in zip(rows, expected, strict=True):
        steps = want.pop("steps")
        got = {k: getattr(row, k) for k in want}
        mean, want_mean = got.pop("los_mean_hours"), want.pop("los_mean_hours")
        assert got == want, row.week_start
        # The mean alone may differ in its last bit (summation order), never more.
        assert mean == (None if want_mean is None else pytest.approx(want_mean, rel=1e-15))
        for c, (count, ok, pct, median) in steps.items():
            assert row.step_count[c] == count
            assert row.step_within_standard[c] == ok
            assert row.step_within_standard_pct[c] == pct
            assert row.step_median_hours[c] == median
