"""Speed and memory of the weekly flow metrics (pathways/flow.py) on a large pathway.

Builds N synthetic episodes (default 1,000,000) over five years: about 550 arrivals a day
with a weekly and a daily pattern, length of stay lognormal with a median of 3 days, 2 %
still open, 3 % died, two steps and a discharge-ready time for most. It then times the
construction of the columnar ``Episodes`` and ``weekly_metrics`` (best of three after a
warm-up), and measures the peak memory of one more ``weekly_metrics`` call with tracemalloc
(numpy's allocations included) and the process's peak resident size.

The goal: ``weekly_metrics`` within 3 s and under 1 GB at 1,000,000 episodes. A report, not
a test: it exits 0 whatever the verdict.

Run: .venv/bin/python bench/flow_bench.py [n]
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pathways.flow import Episodes, weekly_metrics  # noqa: E402

HOUR_US = 3_600_000_000
START = np.datetime64("2021-01-04T00:00", "us")  # a Monday
YEARS = 5
GOAL_SECONDS = 3.0
GOAL_BYTES = 1 << 30


def synthetic(n: int, seed: int = 20260329) -> dict[str, object]:
    """Columns of n episodes arriving over five years, as the worker would pass them."""
    rng = np.random.default_rng(seed)
    hours = YEARS * 365 * 24 + 24  # five years and a leap day
    # Arrivals by hour of the week: quieter at weekends, a peak from late morning.
    day_weight = np.array([1.1, 1.05, 1.0, 1.0, 1.05, 0.85, 0.75])
    hour_weight = 0.3 + np.exp(-(((np.arange(24) - 14) / 5.0) ** 2))
    week = (day_weight[:, None] * hour_weight[None, :]).ravel()
    weight = week[np.arange(hours) % 168]
    hour = rng.choice(hours, size=n, p=weight / weight.sum())
    arrived = START + (hour * HOUR_US + rng.integers(0, HOUR_US, n)).astype("timedelta64[us]")
    los = np.exp(rng.normal(np.log(72), 0.8, n)) * HOUR_US
    departed = arrived + los.astype(np.int64).astype("timedelta64[us]")
    departed[rng.random(n) < 0.02] = np.datetime64("NaT")
    destination = np.array(["Home", "Care home", "Community hospital", "Hospice"], object)[
        rng.choice(4, size=n, p=[0.7, 0.15, 0.1, 0.05])
    ]
    destination[rng.random(n) < 0.03] = "Died"

    def after_arrival(median_hours: float, missing: float) -> np.ndarray:
        delay = np.exp(rng.normal(np.log(median_hours), 0.7, n)) * HOUR_US
        times = arrived + delay.astype(np.int64).astype("timedelta64[us]")
        times[rng.random(n) < missing] = np.datetime64("NaT")
        return times

    ready = departed - (np.exp(rng.normal(np.log(20), 1.0, n)) * HOUR_US).astype("timedelta64[us]")
    ready = np.maximum(ready, arrived)
    ready[rng.random(n) < 0.4] = np.datetime64("NaT")
    return {
        "arrived_at": arrived,
        "departed_at": departed,
        "steps": {"assessed": after_arrival(4, 0.05), "plan_agreed": after_arrival(24, 0.1)},
        "discharge_ready_at": ready,
        "destination": destination,
    }


def best_of(runs: int, call) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    started = time.perf_counter()
    columns = synthetic(n)
    print(f"episodes:               {n:,} over {YEARS} years")
    print(f"synthetic data:         {time.perf_counter() - started:.2f} s (not judged)")
    as_of = datetime(2021, 1, 4, tzinfo=UTC) + timedelta(days=YEARS * 365 + 1)  # the end
    options = {
        "step_standards_hours": {"assessed": 4, "plan_agreed": 48},
        "not_discharges": ("died",),
        "as_of": as_of,
    }
    build_s, episodes = best_of(3, lambda: Episodes(**columns))
    weekly_metrics(episodes, **options)  # warm-up
    metrics_s, rows = best_of(3, lambda: weekly_metrics(episodes, **options))
    tracemalloc.start()
    weekly_metrics(episodes, **options)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    busiest = max(rows, key=lambda r: r.on_pathway)
    print(f"Episodes(...) build:    {build_s:.3f} s (best of 3)")
    print(f"weekly_metrics:         {metrics_s:.3f} s (best of 3, after a warm-up)")
    print(
        f"  rows:                 {len(rows)} weeks, {rows[0].week_start} to {rows[-1].week_start}"
    )
    print(f"  most on the pathway:  {busiest.on_pathway:,} (week of {busiest.week_start})")
    print(f"peak traced memory:     {peak / 2**20:.1f} MiB in weekly_metrics (tracemalloc)")
    print(f"peak resident size:     {max_rss / 2**20:.1f} MiB for the whole process")
    verdict = metrics_s <= GOAL_SECONDS and max_rss < GOAL_BYTES
    print(f"goal (<= 3 s, < 1 GB):  {'met' if verdict else 'NOT met'}")


if __name__ == "__main__":
    main()
