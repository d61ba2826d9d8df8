"""The organisation dashboard and measures pages at scale, timed as a QI lead sees them.

Creates a scratch database (fca_dashboard_bench) on the server of DATABASE_URL, migrates
it, seeds one organisation with 100 rooms × 10 measures × 52 weekly points and 26 sessions
a room (manage.py seed_scale), then, signed in as its QI lead, GETs each page 5 times to
warm up and 100 times timed. It reports the p50, p95 and slowest server time and the SQL
queries of one request, against the goal: p95 ≤ 150 ms at 100 rooms × 10 measures. A page
whose URL does not exist yet is reported as such. A report, not a test: it exits 0
whatever the figures, and drops the database at the end.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/fca .venv/bin/python bench/dashboard_bench.py
     [--rooms 100] [--measures 10] [--points 52] [--sessions 26] [--runs 100]
"""

import argparse
import logging
import math
import os
import sys
import time
from io import StringIO
from pathlib import Path
from urllib.parse import urlparse

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
SCRATCH = "fca_dashboard_bench"
GOAL_MS = 150
PAGES = ("organisation_dashboard", "organisation_measures")
WARM_UP = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--measures", type=int, default=10)
    parser.add_argument("--points", type=int, default=52)
    parser.add_argument("--sessions", type=int, default=26)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    server = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fca"))
    admin = server._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        conn.execute(f"CREATE DATABASE {SCRATCH}")
    os.environ["DATABASE_URL"] = server._replace(path=f"/{SCRATCH}").geturl()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fca.settings")
    # Timings with DEBUG on would include its query log and debug pages: never.
    os.environ["DJANGO_DEBUG"] = "false"
    import django

    django.setup()
    # force_login's sign-in is logged by django-axes: not part of the report.
    logging.getLogger("axes").setLevel(logging.WARNING)
    try:
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")


def run(args) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from fca.models import Organisation, OrganisationMembership

    assert not settings.DEBUG, "DEBUG must be off for timings"
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command(
        "seed_scale", organisations=1, rooms=args.rooms, measures=args.measures,
        points=args.points, sessions=args.sessions, stdout=StringIO(),
    )  # fmt: skip
    print(
        f"seeded:   1 organisation × {args.rooms} rooms × {args.measures} measures × "
        f"{args.points} points, {args.sessions} sessions a room, in "
        f"{time.perf_counter() - started:.1f} s (setup, not judged)"
    )
    org = Organisation.objects.get(ods_code__startswith="SEED")
    lead = OrganisationMembership.objects.get(organisation=org, role="qi_lead").user
    client = Client()
    client.force_login(lead)
    print(f"goal:     p95 ≤ {GOAL_MS} ms at {args.rooms} rooms × {args.measures} measures")
    for name in PAGES:
        time_page(client, name, org.pk, args.runs)


def time_page(client, name: str, org_id: int, runs: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    try:
        url = reverse(name, kwargs={"org_id": org_id})
    except NoReverseMatch:
        print(f"{name}: no such URL yet, not timed")
        return
    response = client.get(url)
    if response.status_code != 200:
        print(f"{name} ({url}): answered {response.status_code}, not timed")
        return
    for _ in range(WARM_UP - 1):
        client.get(url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Counted now: the next request's request_started signal empties the query log.
    queries = len(captured)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p50, p95 = percentile(times, 50), percentile(times, 95)
    verdict = "met" if p95 <= GOAL_MS else "NOT met"
    print(
        f"{name} ({url}): p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms "
        f"over {runs} requests; {queries} SQL queries a request; "
        f"{len(response.content) / 1024:.0f} KB; goal {verdict}"
    )


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


if __name__ == "__main__":
    main()
