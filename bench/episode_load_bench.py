"""Speed of loading an episode file on PostgreSQL (pathways/copyload.py), beside the floor.

The goal (the issue): loading 1,000,000 episode rows from a CSV file, end to end (upload
stored → staged → validated → upserted), in at most 2× the time of the floor: a bare COPY
of the same file straight into a table of the same column types with the same unique
index, measured side by side in one run.

The script makes a scratch database (``fca_bench`` on the server DATABASE_URL names),
migrates it, writes a synthetic file with ``pathways.synthetic`` (five years, two steps,
ISO 8601 times in UTC, as a data warehouse sends them), then times, after a CHECKPOINT
each, and each including its COMMIT:

- **floor**: ``COPY … FROM STDIN (FORMAT csv)`` of the file's bytes into a table of
  pathways_episode's columns and types with only its unique index (pathway_id,
  episode_id); PostgreSQL parses the times itself.
- **floor, the table as deployed**: the same COPY into a copy of pathways_episode with all
  its indexes (the primary key as well as the unique index): what any load into that
  table pays. (Episode.pathway has no foreign key constraint in the database: see there.)
- **end to end**: the file stored as Django stores an upload (FileSystemStorage, in a
  scratch media directory), then ``copyload.load_postgres`` into the real pathways_episode
  of an empty pathway, stage by stage (the report made before anything is written, as
  services.load_upload has it made), then the COMMIT.

Then, for information: the check alone (``copyload.check_postgres``, what the check task
runs), and loading the same file again (every row already there, nothing changes).

A report, not a test: it exits 0 whatever the verdict. The scratch database is dropped at
the end.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/fca .venv/bin/python \\
         bench/episode_load_bench.py [n]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCRATCH = "fca_bench"
END = datetime(2026, 1, 5, tzinfo=UTC)  # the synthetic file's last day; "now" for the check
GOAL = 2.0
FILE_COLUMNS = "episode_id, arrived_at, departed_at, step_1, step_2, destination"


def scratch_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def make_scratch(url: str) -> str:
    """Create the scratch database (dropping one an earlier run left); its URL."""
    with psycopg.connect(scratch_url(url, "postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {SCRATCH}")
    return scratch_url(url, SCRATCH)


def drop_scratch(url: str) -> None:
    with psycopg.connect(scratch_url(url, "postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def checkpoint() -> None:
    """Start each timed part with no dirty pages waiting: a fairer side by side."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def floor(path: Path, pathway_id: int, *, deployed: bool) -> float:
    """A bare COPY of the file into a table of pathways_episode's column types."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS episode_floor")
        if deployed:  # every index (primary key, the unique index)
            cursor.execute("CREATE TABLE episode_floor (LIKE pathways_episode INCLUDING ALL)")
        else:
            cursor.execute(
                "CREATE TABLE episode_floor (LIKE pathways_episode INCLUDING DEFAULTS "
                "INCLUDING IDENTITY)"
            )
            cursor.execute("CREATE UNIQUE INDEX ON episode_floor (pathway_id, episode_id)")
        cursor.execute(
            f"ALTER TABLE episode_floor ALTER pathway_id SET DEFAULT {int(pathway_id)}, "
            "ALTER loaded_at SET DEFAULT now()"
        )
    checkpoint()
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY episode_floor ({FILE_COLUMNS}) FROM STDIN "
            "(FORMAT csv, HEADER true, FORCE_NOT_NULL (destination))"
        ) as copy,
        path.open("rb") as handle,
    ):
        while block := handle.read(1 << 20):
            copy.write(block)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM episode_floor")
        rows = cursor.fetchone()[0]
        cursor.execute("DROP TABLE episode_floor")
    log(f"  floor ({'deployed' if deployed else 'unique index only'}): {rows:,} rows")
    return seconds


def store(path: Path, media: Path) -> Path:
    """The upload kept as receive_upload keeps it: Django's storage copies it in chunks."""
    from django.core.files import File
    from django.core.files.storage import FileSystemStorage

    storage = FileSystemStorage(location=media)
    with path.open("rb") as handle:
        name = storage.save("episode-uploads/1/upload.csv", File(handle, name=path.name))
    return Path(storage.path(name))


def end_to_end(path: Path, media: Path, pathway, slots: dict[str, int]) -> dict[str, float]:
    from django.db import transaction

    from pathways import copyload

    checkpoint()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    kept = store(path, media)
    timings["stored"] = time.perf_counter() - started
    with transaction.atomic():
        added, updated = copyload.load_postgres(
            kept, "episodes.csv", pathway_id=pathway.pk, step_slots=slots,
            max_bytes=10**10, now=END, valid_only=False, timings=timings,
            confirm=lambda report: None,  # the report made, as services.load_upload has it
        )  # fmt: skip
        committing = time.perf_counter()
    timings["commit"] = time.perf_counter() - committing
    timings["total"] = time.perf_counter() - started
    kept.unlink()
    log(f"  end to end: added {added:,}, updated {updated:,}")
    timings["added"], timings["updated"] = added, updated
    return timings


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (its database is not touched)")
    url = make_scratch(base)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fca.settings")
    work = Path(tempfile.mkdtemp(prefix="episode-bench-"))
    try:
        run(n, work)
    finally:
        from django.db import connections

        connections.close_all()
        drop_scratch(base)
        shutil.rmtree(work, ignore_errors=True)


def run(n: int, work: Path) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from fca.models import Organisation
    from pathways import copyload, synthetic
    from pathways.models import Episode, Pathway, Step

    log(f"Migrating the scratch database {SCRATCH}…")
    call_command("migrate", verbosity=0)
    log(f"Writing {n:,} synthetic episodes…")
    path = work / "episodes.csv"
    shape = synthetic.Shape(steps=[("review", 6.0), ("theatre", 30.0)])
    data = synthetic.columns(n, end=END, days=1825, shape=shape)
    synthetic.write_csv(data, path)
    size = path.stat().st_size
    host = Organisation.objects.create(name="Bench Trust", kind="acute_trust", ods_code="BEN")
    pathway = Pathway.objects.create(host=host, name="Bench pathway")
    for slot, code in enumerate(("review", "theatre"), start=1):
        Step.objects.create(pathway=pathway, code=code, name=code.title(), slot=slot)
    slots = dict(pathway.steps.values_list("code", "slot"))
    media = work / "media"

    log("Timing the floor…")
    floor_seconds = floor(path, pathway.pk, deployed=False)
    log("Timing the end-to-end load…")
    e2e = end_to_end(path, media, pathway, slots)
    log("Timing the floor into the table as deployed…")
    deployed_seconds = floor(path, pathway.pk, deployed=True)

    log("Timing the check alone, and loading the same file again…")
    check: dict[str, float] = {}
    checkpoint()
    started = time.perf_counter()
    report = copyload.check_postgres(path, "episodes.csv", pathway_id=pathway.pk,
                                     step_codes=list(slots), max_bytes=10**10, now=END,
                                     timings=check)  # fmt: skip
    check_total = time.perf_counter() - started
    again = end_to_end(path, media, pathway, slots)
    stored = Episode.objects.filter(pathway=pathway).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]

    total = e2e["total"]
    print(f"\nEpisode file load: {n:,} rows, {size / 1e6:,.1f} MB CSV ({version}, "
          f"{os.cpu_count()} CPUs)\n")  # fmt: skip
    print(f"{'':44} {'seconds':>8}")
    print(f"{'floor: COPY into same types + unique index':44} {floor_seconds:8.2f}")
    print(f"{'floor: COPY into the table as deployed':44} {deployed_seconds:8.2f}   "
          f"({deployed_seconds / floor_seconds:.2f}× the floor: its primary key too)")  # fmt: skip
    print("end to end (copyload.load_postgres):")
    for stage in ("stored", "staged", "identifiers", "validated", "upserted",
                  "commit"):  # fmt: skip
        print(f"  {stage:42} {e2e.get(stage, 0.0):8.2f}")
    print(f"  {'total':42} {total:8.2f}")
    print(f"\n  added {e2e['added']:,}, updated {e2e['updated']:,}; {stored:,} episodes stored")
    print("\nFor information:")
    print(f"  {'check alone (check_postgres)':42} {check_total:8.2f}   "
          + ", ".join(f"{k} {v:.2f}" for k, v in check.items()))  # fmt: skip
    print(
        f"  {'the same file again (nothing changes)':42} {again['total']:8.2f}   "
        f"added {again['added']:,}, updated {again['updated']:,}"
    )
    print(
        f"  report: {report.rows:,} rows, {report.valid:,} valid, {report.problem_count} problems"
    )
    ratio, deployed_ratio = total / floor_seconds, total / deployed_seconds
    verdict = "MET" if ratio <= GOAL else "NOT MET"
    print(f"\nEnd to end / floor: {ratio:.2f}× (goal ≤ {GOAL:g}×): {verdict}")
    print(f"End to end / floor into the table as deployed: {deployed_ratio:.2f}×")


if __name__ == "__main__":
    main()
