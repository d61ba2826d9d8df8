"""Speed of the chart engine (measures/spc.py) beside the Python packages that do its job.

One run, two workloads, XmR with every Making Data Count rule:

* 10,000 series of 52 weekly points (a whole trust's measures recomputed at once);
* one series of 100,000 points.

The engine is timed on the whole of both workloads (best of N after a warm-up), with its
per-point records built (``result.points``) and, for information, without them. Each peer
package is called the way a user would call it for one series; it is timed on a sample and
extrapolated linearly, and the report says which figures are measured and which are not.
The goal: the engine at least 10x faster than the fastest peer on both workloads.

This is a report, not a test: it exits 0 whatever the verdict, and non-zero only when the
engine itself fails. Answers are not compared with the peers (they implement fewer or
different rules); the engine's answers are checked against the reference cases by
tests/test_spc_reference_cases.py. See bench/README.md.

Run: .bench-venv/bin/python bench/spc_bench.py   (or `make bench`)
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import math
import os
import platform
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Peers import matplotlib (pyqicharts); never open a window.
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from measures import spc  # noqa: E402
from measures.signals import RULES  # noqa: E402

N_SERIES = 10_000
WEEKS = 52
BIG = 100_000
GOAL = 10.0

WORKLOAD_MANY = f"{N_SERIES:,} x {WEEKS}"
WORKLOAD_BIG = f"1 x {BIG:,}"


def log(message: str) -> None:
    """Progress, to stderr, so the report on stdout stays clean."""
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Data: deterministic, seeded, realistic
# --------------------------------------------------------------------------------------


def trust_measures(rng: np.random.Generator, n_series: int, n_points: int) -> list[list[float]]:
    """Weekly measures of a trust: counts (whole numbers), percentages (one decimal place,
    capped at 100) and continuous measures (times, two decimal places) on scales from a few
    units to thousands, with seasonality, and in some series a step shift, a trend or a
    one-off spike. Rounding makes ties (points on the mean, equal neighbours) as real data
    does. Returned as Python lists of floats, as the app hands them to the engine."""
    t = np.arange(n_points)
    kind = rng.choice(3, size=n_series, p=[0.4, 0.3, 0.3])  # 0 count, 1 percent, 2 time
    count_level = np.exp(rng.uniform(np.log(3), np.log(3000), n_series))
    time_level = np.exp(rng.uniform(np.log(1), np.log(10_000), n_series))
    level = np.select(
        [kind == 0, kind == 1], [count_level, rng.uniform(50, 97, n_series)], time_level
    )
    sd = np.select(
        [kind == 0, kind == 1],
        [
            np.maximum(np.sqrt(count_level), count_level * rng.uniform(0.03, 0.15, n_series)),
            rng.uniform(0.5, 5.0, n_series),
        ],
        time_level * rng.uniform(0.03, 0.25, n_series),
    )
    mean = np.repeat(level[:, None], n_points, axis=1)
    # Seasonality over the year.
    amplitude = rng.uniform(0, 0.6, n_series) * sd
    phase = rng.uniform(0, 2 * np.pi, n_series)
    mean += amplitude[:, None] * np.sin(2 * np.pi * t[None, :] / 52.18 + phase[:, None])
    # A step shift (a change that worked, or a new pressure) in about a third of series.
    shifted = rng.random(n_series) < 0.35
    at = rng.integers(n_points // 5, n_points - n_points // 8, n_series)
    size = rng.choice([-1.0, 1.0], n_series) * rng.uniform(1.0, 2.5, n_series) * sd
    mean += np.where(shifted[:, None] & (t[None, :] >= at[:, None]), size[:, None], 0.0)
    # A trend lasting 6 to 15 weeks, moving the level 1.5 to 3.5 sd, in a fifth.
    trending = rng.random(n_series) < 0.2
    start = rng.integers(0, n_points - 8, n_series)
    length = rng.integers(6, 16, n_series)
    rise = rng.choice([-1.0, 1.0], n_series) * rng.uniform(1.5, 3.5, n_series) * sd
    slope = rise / length
    ramp = np.clip(t[None, :] - start[:, None], 0, length[:, None]) * slope[:, None]
    mean += np.where(trending[:, None], ramp, 0.0)
    # A one-off spike (a data-entry error, a bad week) in one in twenty.
    spiked = rng.random(n_series) < 0.05
    week = rng.integers(0, n_points, n_series)
    spike = rng.choice([-1.0, 1.0], n_series) * rng.uniform(4, 6, n_series) * sd
    mean[np.flatnonzero(spiked), week[spiked]] += spike[spiked]

    values = mean + rng.normal(0.0, 1.0, (n_series, n_points)) * sd[:, None]
    values[kind == 0] = np.maximum(np.round(values[kind == 0]), 0)
    values[kind == 1] = np.clip(np.round(values[kind == 1], 1), 0, 100)
    values[kind == 2] = np.maximum(np.round(values[kind == 2], 2), 0)
    return values.tolist()


def long_series(rng: np.random.Generator, n_points: int) -> list[float]:
    """One long series: regimes of a few thousand points at levels wandering about 250
    (noise sd 20), trends of 6-20 points now and then, rare spikes, one decimal place."""
    mean = np.empty(n_points)
    position, level = 0, 250.0
    while position < n_points:
        span = int(rng.integers(2_000, 8_000))
        mean[position : position + span] = level
        position += span
        level = 250.0 + 0.5 * (level - 250.0) + rng.choice([-1.0, 1.0]) * rng.uniform(5, 30)
    for start in rng.integers(0, n_points - 20, n_points // 500):
        length = int(rng.integers(6, 21))
        mean[start : start + length] += np.arange(length) * rng.choice([-1.0, 1.0]) * 4.0
    spikes = rng.random(n_points) < 0.002
    mean[spikes] += rng.choice([-1.0, 1.0], int(spikes.sum())) * rng.uniform(80, 150)
    values = np.round(mean + rng.normal(0.0, 20.0, n_points), 1)
    return values.tolist()


# --------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------


@dataclass
class EngineTiming:
    with_points: float
    arrays_only: float
    peak_bytes: int
    held_bytes: int
    flagged: dict[str, int]
    series_with_signal: int


def time_engine(compute: Callable[[], list], repeats: int) -> EngineTiming:
    """Best of ``repeats`` after one warm-up. Every result's per-point records are built
    (``result.points``); the time before that step is reported as arrays only."""
    for result in compute():  # warm-up
        result.points  # noqa: B018
    best_total = best_arrays = math.inf
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        results = compute()
        arrays_done = time.perf_counter()
        for result in results:
            result.points  # noqa: B018
        done = time.perf_counter()
        best_arrays = min(best_arrays, arrays_done - start)
        best_total = min(best_total, done - start)
        del results
    # Memory on a separate run: tracemalloc slows Python down, so never while timing.
    gc.collect()
    tracemalloc.start()
    results = compute()
    for result in results:
        result.points  # noqa: B018
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    counts = np.zeros(len(RULES), dtype=np.int64)
    with_signal = 0
    for result in results:
        per_rule = np.bincount(result.rule_codes, minlength=len(RULES))
        counts += per_rule
        with_signal += bool(per_rule[1:].any())
    flagged = {RULES[code]: int(counts[code]) for code in range(1, len(RULES))}
    return EngineTiming(best_total, best_arrays, peak, held, flagged, with_signal)


# --------------------------------------------------------------------------------------
# The peers: each package's own XmR / individuals chart with its special-cause rules
# --------------------------------------------------------------------------------------


@dataclass
class Peer:
    label: str
    distribution: str
    call: str  # the call, as a user writes it
    rules: str  # what it computes, in brief
    make: Callable[[], Callable[[list[float]], object]]  # imports; returns f(values)
    check: Callable[[object, int], None]  # raises if the result lacks per-point signals


def _abspc():
    import pandas as pd
    from abspc import (
        calculate_control_limits,
        detect_special_causes,
        determine_point_colours,
        determine_variation_type,
    )

    def run(values):
        frame = pd.DataFrame({"value": values})
        result = calculate_control_limits(frame, chart_type="XmR")
        result = detect_special_causes(result)
        colours = determine_point_colours(result, improvement_direction="high")
        variation = determine_variation_type(result, improvement_direction="high")
        return result, colours, variation

    return run


def _abspc_check(output, n):
    result, colours, _ = output
    for column in ("rule1", "rule2", "rule3", "rule4", "special_cause"):
        if column not in result.columns:
            raise RuntimeError(f"abspc returned no {column!r} column")
    if len(result) != n or len(colours) != n:
        raise RuntimeError("abspc returned the wrong number of points")


def _pyqicharts():
    import pandas as pd
    from pyqicharts import qic_table

    def run(values):
        frame = pd.DataFrame({"week": range(len(values)), "value": values})
        return qic_table(frame, x="week", y="value", chart="i", improvement="high is good")

    return run


def _pyqicharts_check(table, n):
    for column in ("outside_ucl", "shift", "trend", "two_sigma", "special_cause_type"):
        if column not in table.columns:
            raise RuntimeError(f"pyqicharts returned no {column!r} column")
    if len(table) != n:
        raise RuntimeError("pyqicharts returned the wrong number of points")


def _qikit(method):
    def make():
        from qikit import qic

        def run(values):
            return qic(y=values, chart="i", method=method)

        return run

    return make


def _qikit_check(result, n):
    for column in ("sigma_signal", "runs_signal"):
        if column not in result.data.columns:
            raise RuntimeError(f"qikit returned no {column!r} column")
    if len(result.data) != n:
        raise RuntimeError("qikit returned the wrong number of points")


PEERS = [
    Peer(
        "abspc",
        "abspc",
        'calculate_control_limits(df, "XmR") -> detect_special_causes -> '
        'determine_point_colours("high") -> determine_variation_type("high")',
        "outside 3 sigma, shift of 8, trend of 6, two in three (2-3 sigma); "
        "point colours and variation icon; one phase, no moving-range screening",
        _abspc,
        _abspc_check,
    ),
    Peer(
        "pyqicharts",
        "pyqicharts",
        'qic_table(df, x="week", y="value", chart="i", improvement="high is good")',
        "outside limits, shift of 6, trend of 6, two of three beyond 2 sigma; "
        "per-point improvement/concern type (qic() is this plus a matplotlib figure)",
        _pyqicharts,
        _pyqicharts_check,
    ),
    Peer(
        "qikit/anhoej",
        "clinical-qikit",
        'qic(y=values, chart="i")  [default method="anhoej"]',
        "outside 3 sigma; Anhoej runs (longest run, crossings); no direction, no icons",
        _qikit("anhoej"),
        _qikit_check,
    ),
    Peer(
        "qikit/ihi",
        "clinical-qikit",
        'qic(y=values, chart="i", method="ihi")',
        "outside 3 sigma; shift of 8, trend of 6; no direction, no icons",
        _qikit("ihi"),
        _qikit_check,
    ),
    Peer(
        "qikit/weco",
        "clinical-qikit",
        'qic(y=values, chart="i", method="weco")',
        "outside 3 sigma; 2 of 3 beyond 2 sigma, 4 of 5 beyond 1 sigma, 8 on one side",
        _qikit("weco"),
        _qikit_check,
    ),
    Peer(
        "qikit/nelson",
        "clinical-qikit",
        'qic(y=values, chart="i", method="nelson")',
        "Nelson's 8 rules (incl. outside 3 sigma, 9 on one side, trend of 6, 2 of 3 beyond "
        "2 sigma); no direction, no icons",
        _qikit("nelson"),
        _qikit_check,
    ),
]


@dataclass
class Figure:
    """One peer on one workload: seconds for the whole workload, and how they were got."""

    seconds: float | None = None
    how: str = ""  # "measured", "extrapolated" or "scaled"
    detail: str = ""
    error: str | None = None


@dataclass
class PeerResult:
    peer: Peer
    version: str | None = None
    error: str | None = None  # not installed, no such function
    figures: dict[str, Figure] = field(default_factory=dict)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= 300 else text[:297] + "..."


def _call(run, values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(values)


def time_peer_many(run, check, series, sample: int, max_passes: int, budget: float) -> Figure:
    """Per-series calls on the first ``sample`` series (after a warm-up call on a series
    outside the sample); best pass of up to ``max_passes``, fewer once ``budget`` seconds
    are spent; extrapolated linearly to every series."""
    sample_series = series[:sample]
    warm = series[-1]
    try:
        check(_call(run, warm), len(warm))
    except Exception as exc:  # noqa: BLE001 - a peer's failure is reported, not raised
        return Figure(error=f"on a {len(warm)}-point series: {_describe(exc)}")
    best, spent, passes = math.inf, 0.0, 0
    while passes < max_passes and (passes == 0 or spent < budget):
        gc.collect()
        start = time.perf_counter()
        for index, values in enumerate(sample_series):
            try:
                _call(run, values)
            except Exception as exc:  # noqa: BLE001
                return Figure(error=f"on series {index}: {_describe(exc)}")
        elapsed = time.perf_counter() - start
        best, spent, passes = min(best, elapsed), spent + elapsed, passes + 1
    per_series = best / len(sample_series)
    return Figure(
        seconds=per_series * len(series),
        how="extrapolated",
        detail=(
            f"{len(sample_series)} series measured in {best:.3f} s (best of {passes}), "
            f"{per_series * 1e3:.2f} ms each, x {len(series):,}"
        ),
    )


def time_peer_big(
    run, check, big, prefix: int, cap: float, max_repeats: int, budget: float
) -> Figure:
    """One call on a ``prefix``-point prefix first; if the whole series would take longer
    than ``cap`` seconds by linear scaling, report that scaled figure; otherwise time the
    whole series, best of up to ``max_repeats``, fewer once ``budget`` seconds are spent."""
    head = big[:prefix]
    try:
        gc.collect()
        start = time.perf_counter()
        output = _call(run, head)
        prefix_seconds = time.perf_counter() - start
        check(output, len(head))
        del output
    except Exception as exc:  # noqa: BLE001
        return Figure(error=f"on a {len(head):,}-point prefix: {_describe(exc)}")
    estimate = prefix_seconds * len(big) / len(head)
    if estimate > cap:
        return Figure(
            seconds=estimate,
            how="scaled",
            detail=(
                f"one call on the first {len(head):,} points took {prefix_seconds:.2f} s; "
                f"x {len(big) / len(head):g} (the whole series would exceed the "
                f"{cap:g} s cap)"
            ),
        )
    best, runs, spent = math.inf, 0, 0.0
    while runs < max_repeats and (runs == 0 or spent < budget):
        gc.collect()
        start = time.perf_counter()
        try:
            output = _call(run, big)
        except Exception as exc:  # noqa: BLE001
            return Figure(error=f"on the {len(big):,}-point series: {_describe(exc)}")
        elapsed = time.perf_counter() - start
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
        if runs == 1:
            try:
                check(output, len(big))
            except Exception as exc:  # noqa: BLE001
                return Figure(error=f"on the {len(big):,}-point series: {_describe(exc)}")
        del output
    return Figure(seconds=best, how="measured", detail=f"whole series, best of {runs}")


def run_peers(series, big, args) -> list[PeerResult]:
    results = []
    for peer in PEERS:
        outcome = PeerResult(peer)
        results.append(outcome)
        try:
            outcome.version = importlib.metadata.version(peer.distribution)
        except importlib.metadata.PackageNotFoundError:
            outcome.error = (
                f"{peer.distribution} is not installed in this environment "
                f"({sys.executable}); run `make bench`, which installs bench/requirements.txt"
            )
            log(f"  {peer.label}: not installed")
            continue
        try:
            run = peer.make()
        except Exception as exc:  # noqa: BLE001 - e.g. the function is gone from the package
            outcome.error = f"no usable XmR function: {_describe(exc)}"
            log(f"  {peer.label}: {outcome.error}")
            continue
        log(f"  {peer.label} {outcome.version}: {WORKLOAD_MANY} (first {args.sample} series)")
        outcome.figures[WORKLOAD_MANY] = time_peer_many(
            run, peer.check, series, args.sample, args.repeats, args.peer_budget
        )
        log(f"  {peer.label} {outcome.version}: {WORKLOAD_BIG}")
        outcome.figures[WORKLOAD_BIG] = time_peer_big(
            run, peer.check, big, args.prefix, args.cap, args.repeats, args.peer_budget
        )
    return results


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

MARK = {"measured": "m", "extrapolated": "x", "scaled": "s"}


def _seconds(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row):
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def report(args, data_note, engine, peers, total_seconds) -> None:
    out = []
    say = out.append
    say("")
    say("SPC engine benchmark: measures/spc.py beside peer packages, XmR with special-cause rules")
    say("=" * 88)
    say(
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs; numpy {np.__version__}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}"
    )
    say(data_note)
    say("")
    say(
        f'Engine: spc.xmr_many(series, improvement="increase") and '
        f'spc.xmr(big, improvement="increase"), best of {args.repeats} after one warm-up'
    )
    rows = []
    for workload, timing in engine.items():
        rows.append(
            [
                workload,
                f"{_seconds(timing.with_points)} s",
                f"{_seconds(timing.arrays_only)} s",
                f"{timing.peak_bytes / 2**20:,.1f} MiB",
                f"{timing.held_bytes / 2**20:,.1f} MiB",
                ", ".join(f"{name} {count:,}" for name, count in timing.flagged.items()),
            ]
        )
    say(
        _table(
            [
                "workload",
                "with .points",
                "arrays only",
                "peak memory",
                "results hold",
                "points flagged, by rule",
            ],
            rows,
            {1, 2, 3, 4},
        )
    )
    many = engine[WORKLOAD_MANY]
    say(f"  {many.series_with_signal:,} of {N_SERIES:,} series show at least one special cause.")
    say(
        "  Memory: tracemalloc on a separate untimed run with .points built: the peak, and "
        "what the results (with their points) still hold at the end."
    )
    say("")
    say("Peers: what is called, per series, and what it computes")
    for result in peers:
        version = result.version or "-"
        say(f"  {result.peer.label} ({result.peer.distribution} {version})")
        say(f"      call:  {result.peer.call}")
        say(f"      rules: {result.peer.rules}")
        if result.error:
            say(f"      NOT TIMED: {result.error}")
        for workload, figure in result.figures.items():
            if figure.error:
                say(f"      {workload}: FAILED {figure.error}")
            else:
                say(f"      {workload}: {_seconds(figure.seconds)} s {figure.how}: {figure.detail}")
    say("")
    say(
        "Summary: seconds for the whole workload; the engine with every result's .points "
        f"built; goal: engine >= {GOAL:g}x faster than the fastest peer"
    )
    header = ["workload", "engine", *(p.peer.label for p in peers)]
    header += ["fastest peer", "speed-up", "(arrays only)", f">= {GOAL:g}x"]
    rows = []
    verdicts = {}
    for workload, timing in engine.items():
        row = [workload, _seconds(timing.with_points)]
        timed = []
        for result in peers:
            figure = result.figures.get(workload)
            if result.error:
                row.append("n/a")
            elif figure is None or figure.error:
                row.append("FAILED")
            else:
                row.append(f"{_seconds(figure.seconds)} {MARK[figure.how]}")
                timed.append((figure.seconds, result.peer.label))
        if timed:
            fastest_seconds, fastest = min(timed)
            ratio = fastest_seconds / timing.with_points
            ratio_arrays = fastest_seconds / timing.arrays_only
            verdict = "PASS" if ratio >= GOAL else "FAIL"
            row += [fastest, f"{ratio:,.1f}x", f"{ratio_arrays:,.1f}x", verdict]
        else:
            verdict = "NO PEER"
            row += ["none timed", "-", "-", verdict]
        verdicts[workload] = verdict
        rows.append(row)
    say(_table(header, rows, set(range(1, len(header) - 4)) | {len(header) - 3, len(header) - 2}))
    say(
        f"  m = measured on the whole workload; x = extrapolated linearly from the first "
        f"{args.sample} series; s = scaled linearly from one call on a {args.prefix:,}-point "
        f"prefix (a whole call would exceed {args.cap:g} s)."
    )
    say(
        "  speed-up = fastest peer / engine with .points (the verdict); (arrays only) = "
        "fastest peer / engine before building the per-point records."
    )
    say(
        "  Peers implement fewer or different rules (see above): this compares speed only. "
        "Answers are checked against the reference cases (tests/test_spc_reference_cases.py)."
    )
    overall = "PASS" if all(v == "PASS" for v in verdicts.values()) else "FAIL"
    say(f"Overall: {overall} ({'; '.join(f'{w}: {v}' for w, v in verdicts.items())}).")
    say(f"Whole run: {total_seconds:.0f} s.")
    print("\n".join(out), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=20_260_601, help="data seed")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (>= 3)")
    parser.add_argument("--sample", type=int, default=200, help="series each peer is timed on")
    parser.add_argument(
        "--prefix", type=int, default=10_000, help="points of the long series' prefix"
    )
    parser.add_argument("--cap", type=float, default=60.0, help="seconds one peer call may take")
    parser.add_argument(
        "--peer-budget",
        type=float,
        default=15.0,
        help="seconds after which a peer's sample is not timed again",
    )
    parser.add_argument("--no-peers", action="store_true", help="time the engine only")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3")
    began = time.perf_counter()

    rng = np.random.default_rng(args.seed)
    log(f"Generating data (seed {args.seed})")
    series = trust_measures(rng, N_SERIES, WEEKS)
    big = long_series(rng, BIG)
    data_note = (
        f"Data (seed {args.seed}): {N_SERIES:,} weekly series of {WEEKS} points (counts, "
        f"percentages, times; scales 1 to 10,000; shifts, trends, spikes, seasonality) and "
        f"one series of {BIG:,} points (regimes, trends, spikes), as lists of floats."
    )

    log(f"Engine: {WORKLOAD_MANY}")
    engine = {
        WORKLOAD_MANY: time_engine(
            lambda: spc.xmr_many(series, improvement="increase"), args.repeats
        )
    }
    log(f"Engine: {WORKLOAD_BIG}")
    engine[WORKLOAD_BIG] = time_engine(lambda: [spc.xmr(big, improvement="increase")], args.repeats)

    if args.no_peers:
        peers = []
    else:
        log("Peers")
        peers = run_peers(series, big, args)
    report(args, data_note, engine, peers, time.perf_counter() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
