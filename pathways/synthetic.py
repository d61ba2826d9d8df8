"""Realistic synthetic episodes, for the demo, the benchmarks and trying the app: arrivals
with a weekly and daily rhythm, lognormal stays, steps after arrival, a few deaths, and
episodes still on the pathway at the end. Deterministic for a given seed. No Django."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HOUR_US = 3_600_000_000
# Arrivals by hour of the week: quieter at weekends, busiest from late morning.
DAY_WEIGHT = np.array([1.1, 1.05, 1.0, 1.0, 1.05, 0.85, 0.75])
HOUR_WEIGHT = 0.3 + np.exp(-(((np.arange(24) - 14) / 5.0) ** 2))
DESTINATIONS = np.array(["Home", "Care home", "Community hospital", "Hospice"], dtype=object)


@dataclass(frozen=True)
class Shape:
    """What the pathway is like: stays, and each step's median hours after arrival."""

    median_stay_hours: float = 72.0
    stay_spread: float = 0.8  # the sigma of log(stay)
    steps: Sequence[tuple[str, float]] = ()
    died_share: float = 0.03


def columns(n: int, *, end: datetime, days: int, shape: Shape, seed: int = 1) -> dict:
    """n episodes arriving over the ``days`` before ``end``: UTC datetime64 columns. A
    departure (or step) after ``end`` has not happened yet: empty."""
    rng = np.random.default_rng(seed)
    cut = np.datetime64(end.astimezone(UTC).replace(tzinfo=None), "us")
    # From midnight, so the hour index is the hour of the day (UTC, near enough to London's).
    first_day = cut.astype("datetime64[D]") - np.timedelta64(days, "D")
    start = first_day.astype("datetime64[us]")
    hours = days * 24
    week = (DAY_WEIGHT[:, None] * HOUR_WEIGHT[None, :]).ravel()
    weekday = int(first_day.astype(int) + 3) % 7  # 1970-01-01 was a Thursday
    weight = np.roll(week, -weekday * 24)[np.arange(hours) % 168]
    hour = np.sort(rng.choice(hours, size=n, p=weight / weight.sum()))
    arrived = start + (hour * HOUR_US + rng.integers(0, HOUR_US, n)).astype("timedelta64[us]")
    stay = np.exp(rng.normal(np.log(shape.median_stay_hours), shape.stay_spread, n)) * HOUR_US
    departed = arrived + stay.astype(np.int64).astype("timedelta64[us]")
    departed[departed > cut] = np.datetime64("NaT")
    destination = DESTINATIONS[rng.choice(4, size=n, p=[0.75, 0.12, 0.09, 0.04])]
    destination[rng.random(n) < shape.died_share] = "Died"
    destination[np.isnat(departed)] = ""
    steps = {}
    for code, median in shape.steps:
        delay = np.exp(rng.normal(np.log(median), 0.6, n)) * HOUR_US
        times = arrived + delay.astype(np.int64).astype("timedelta64[us]")
        times[(times > departed) | (times > cut) | (rng.random(n) < 0.03)] = np.datetime64("NaT")
        steps[code] = times
    return {"arrived_at": arrived, "departed_at": departed, "destination": destination,
            "steps": steps}  # fmt: skip


def records(data: dict, *, prefix: str = "SYN") -> Iterator[dict]:
    """The columns as rows: episode_id, aware UTC datetimes (None when empty), destination."""

    def aware(value) -> datetime | None:
        if np.isnat(value):
            return None
        return value.astype("datetime64[us]").item().replace(tzinfo=UTC)

    codes = list(data["steps"])
    for i in range(len(data["arrived_at"])):
        yield {
            "episode_id": f"{prefix}{i + 1:07d}",
            "arrived_at": aware(data["arrived_at"][i]),
            "departed_at": aware(data["departed_at"][i]),
            "destination": data["destination"][i],
            "steps": {code: aware(data["steps"][code][i]) for code in codes},
        }


def write_csv(data: dict, path: Path, *, prefix: str = "SYN") -> int:
    """An episode file as a data warehouse would send it (ISO 8601 times in UTC)."""
    codes = list(data["steps"])
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["episode_id", "arrived_at", "departed_at", *codes, "destination"])
        for row in records(data, prefix=prefix):
            writer.writerow([
                row["episode_id"], _iso(row["arrived_at"]), _iso(row["departed_at"]),
                *(_iso(row["steps"][code]) for code in codes), row["destination"],
            ])  # fmt: skip
            count += 1
    return count


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
