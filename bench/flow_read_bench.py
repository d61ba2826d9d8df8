"""Reading a large pathway's episodes from PostgreSQL into flow.py's columns, then working
out its weekly metrics: the worker's whole recompute, timed stage by stage.

Creates a scratch database (fca_flow_bench) on the server of DATABASE_URL, migrates it,
fills one pathway with N synthetic episodes over five years (default 1,000,000) by COPY,
then times ``recompute.episodes_of`` (the read) and ``flow.weekly_metrics`` separately,
and drops the database. A report, not a test: it exits 0 whatever the figures.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/fca .venv/bin/python bench/flow_read_bench.py [n]
"""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SCRATCH = "fca_flow_bench"


def main() -> None:
    server = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fca"))
    admin = server._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")
        conn.execute(f"CREATE DATABASE {SCRATCH}")
    os.environ["DATABASE_URL"] = server._replace(path=f"/{SCRATCH}").geturl()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fca.settings")
    import django

    django.setup()
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {SCRATCH}")


def run() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fca.models import Organisation
    from pathways import flow, synthetic
    from pathways.models import Pathway, Step
    from pathways.recompute import episodes_of

    call_command("migrate", verbosity=0)
    host = Organisation.objects.create(name="Bench Trust", kind="acute_trust")
    pathway = Pathway.objects.create(host=host, name="Bench", not_discharges=["died"])
    for slot, code in enumerate(("review", "theatre"), start=1):
        Step.objects.create(pathway=pathway, code=code, name=code.title(), slot=slot)
    shape = synthetic.Shape(steps=[("review", 6.0), ("theatre", 30.0)])
    data = synthetic.columns(N, end=timezone.now(), days=5 * 365, shape=shape, seed=3)
    now = timezone.now()
    columns = (
        "episode_id, arrived_at, departed_at, step_1, step_2, destination, pathway_id, loaded_at"
    )
    started = time.perf_counter()
    sql = f"COPY pathways_episode ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in synthetic.records(data):
            copy.write_row((
                row["episode_id"], row["arrived_at"], row["departed_at"],
                row["steps"]["review"], row["steps"]["theatre"], row["destination"],
                pathway.pk, now,
            ))  # fmt: skip
    print(
        f"episodes stored:        {N:,} in {time.perf_counter() - started:.1f} s (setup, not judged)"
    )
    connection.close()  # a fresh connection, as a worker's would be

    started = time.perf_counter()
    episodes = episodes_of(pathway)
    read = time.perf_counter() - started
    started = time.perf_counter()
    rows = flow.weekly_metrics(episodes, not_discharges=["died"],
                               step_standards_hours={"review": 12, "theatre": 36})  # fmt: skip
    worked = time.perf_counter() - started
    print(f"read from PostgreSQL:   {read:.2f} s ({len(episodes):,} episodes into columns)")
    print(f"weekly_metrics:         {worked:.2f} s ({len(rows)} weeks)")
    print(f"recompute, both:        {read + worked:.2f} s")


if __name__ == "__main__":
    main()
