"""Faults against the real services: Redis killed mid-save, a worker killed mid-recompute,
a task delivered twice, a load's database connection cut, a task that always fails.

Workers here are real `celery -A fca worker` processes, each in its own process group,
on the real Redis and this test's PostgreSQL database (committed data: transactional_db).
Run alone (they stop Redis and kill workers): `pytest -p no:xdist -m serial`.
"""

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from fca.celery import app as celery_app
from fca.models import AuditEvent
from measures import services
from measures.models import ChartResult, DataPoint, Measure
from measures.tasks import recompute_chart
from tests.conftest import start_redis, stop_redis, wait_for

pytestmark = [pytest.mark.postgres_only, pytest.mark.serial]

ROOT = Path(__file__).resolve().parent.parent


class Worker:
    """A `celery -A fca worker` process (and its pool, and beat with ``beat``), in a
    process group of its own so that it can be killed whole."""

    def __init__(self, tmp_path: Path, name: str, *, concurrency: int, beat: bool, hold, media):
        db = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "FCA_CELERY_QUEUE": celery_app.conf.task_default_queue,  # this test run's queue
            "FCA_STALE_SWEEP_SECONDS": "2",  # the sweep's interval in tests: seconds
            "PYTHONUNBUFFERED": "1",
        }
        if media is not None:
            env["MEDIA_ROOT"] = str(media)
        env.pop("FCA_TEST_HOLD_RECOMPUTE", None)
        if hold is not None:
            env["FCA_TEST_HOLD_RECOMPUTE"] = str(hold)
        command = [
            sys.executable, "-m", "celery", "-A", "fca", "worker", "--loglevel", "INFO",
            "--pool", "prefork", "--concurrency", str(concurrency), "--hostname", f"{name}@%h",
            "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / f"{name}-beat-schedule")]
        self.log_path = tmp_path / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_for(
            lambda: " ready." in self.log() or self.process.poll() is not None,
            timeout=60,
            message=f"worker {name} never started",
        )
        assert self.process.poll() is None, f"worker {name} exited:\n{self.log()}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole group: the worker, its pool processes and its beat."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        # Killed rather than shut down warmly: nothing here needs its tasks finished, and
        # a warm shutdown of a prefork pool takes seconds.
        self.kill()


@pytest.fixture
def workers(transactional_db, tmp_path):
    """Start real workers on this test's queue; every one is stopped, and Redis is up,
    when the test ends (before the database is flushed), however it ends."""
    assert connection.vendor == "postgresql", "the workers run against PostgreSQL"
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "set CELERY_BROKER_URL to Redis"
    started: list[Worker] = []

    def start(*, concurrency: int = 1, beat: bool = False, hold=None, media=None) -> Worker:
        start_redis()
        if not started:
            celery_app.control.purge()  # whatever an earlier run left in the queue
        celery_app.conf.task_always_eager = False
        worker = Worker(
            tmp_path, f"worker{len(started) + 1}", concurrency=concurrency, beat=beat, hold=hold,
            media=media,
        )  # fmt: skip
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = True
        for worker in started:
            # Its log as the test left it: stopping adds kombu's shutdown tracebacks, which
            # would push what went wrong out of the last 6,000 characters.
            during = worker.log()
            worker.stop()
            print(f"--- {worker.log_path.name} (shown if the test failed) ---\n{during[-6000:]}")
        start_redis()
        connections.close_all()


def _current(measure_id: int) -> bool:
    version = Measure.objects.filter(pk=measure_id).values_list("data_version", flat=True)[0]
    chart = ChartResult.objects.filter(measure_id=measure_id).first()
    return chart is not None and chart.data_version == version


def _reached(hold: Path) -> list[int]:
    """The processes that reached the test hold in a recompute, in order."""
    reached = Path(f"{hold}.reached")
    return [int(pid) for pid in reached.read_text().split()] if reached.exists() else []


def _fill(measure: Measure, weeks: int = 26) -> None:
    """Half a year of weekly values with a shift, a note and a new phase: a chart with
    something to draw. (Run eagerly, before any worker starts.)"""
    rows = [
        (i + 1, date(2025, 1, 6) + timedelta(weeks=i), (30.0 + (i % 5) - (8 if i >= 16 else 0),))
        for i in range(weeks)
    ]
    services.save_data_points(measure=measure, rows=rows)
    services.add_annotation(measure=measure, on=date(2025, 4, 28), text="New pathway", by=None)
    services.start_phase(
        measure=measure, starts_on=date(2025, 4, 28), reason="New pathway", by=None
    )


def _clean_run(measure: Measure) -> ChartResult:
    """The chart as an uninterrupted recompute by a worker draws it."""
    services.mark_charts_stale([measure.pk])
    wait_for(lambda: _current(measure.pk), message="the clean recompute never landed")
    return ChartResult.objects.get(measure=measure)


# --- Redis killed while 200 saves are under way --------------------------------------------


def test_saves_succeed_while_redis_is_killed_and_every_chart_catches_up(cast, workers):
    workers(concurrency=2, beat=True)  # the sweep runs every 2 s, on the worker's beat
    measures = [cast.measure] + [
        Measure.objects.create(room=cast.room, name=f"Ward {i} falls", frequency="weekly")
        for i in range(1, 20)
    ]
    monday = date(2025, 1, 6)
    saves = [
        (m.pk, monday + timedelta(weeks=w), 20 + (3 * w + i) % 11)
        for i, m in enumerate(measures)
        for w in range(10)
    ]
    random.Random(8).shuffle(saves)
    done: list[int] = []
    lock = threading.Lock()
    here = threading.local()
    redis_killed = threading.Event()

    def save(job) -> tuple[int, str]:
        measure_id, day, value = job
        if len(done) >= 30:  # the rest start once Redis is gone; those under way go on
            redis_killed.wait(timeout=60)
        try:
            if not hasattr(here, "client"):  # one signed-in browser a thread
                here.client = Client()
                here.client.force_login(cast.alice)
            response = here.client.post(
                reverse("add_point", args=[measure_id]),
                {"day": day.strftime("%d/%m/%Y"), "value": str(value)},
            )
            with lock:
                done.append(measure_id)
            return response.status_code, response.get("Location", "")
        finally:
            connections.close_all()  # this thread's own database connection

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(save, job) for job in saves]
            wait_for(lambda: len(done) >= 30, message="the first saves never finished")
            stop_redis()
            saved_before_the_kill = len(done)
            redis_killed.set()
            results = [future.result() for future in futures]
        print(
            f"200 saves in {time.monotonic() - started:.1f} s, Redis killed after {saved_before_the_kill}"
        )
        assert not any(f.exception() for f in futures)
        assert saved_before_the_kill < 100, "Redis went only after most saves"
        for (measure_id, _, _), (status, location) in zip(saves, results, strict=True):
            assert (status, location) == (302, reverse("measure_detail", args=[measure_id]))
        assert DataPoint.objects.filter(measure__in=measures).count() == 200
        assert not all(_current(m.pk) for m in measures)
    finally:
        start_redis()
    back = time.monotonic()

    wait_for(
        lambda: all(_current(m.pk) for m in measures),
        timeout=120,
        interval=0.5,
        message="not every chart was current within two minutes of Redis coming back",
    )
    print(f"every chart current {time.monotonic() - back:.1f} s after Redis came back")
    for measure in measures:
        chart = ChartResult.objects.get(measure=measure)
        assert chart.result["n"] == 10
        assert len(chart.result["points"]) == 10


# --- A worker killed in the middle of a recompute ------------------------------------------


def test_a_worker_killed_mid_recompute_leaves_the_chart_as_a_clean_run_does(
    cast, workers, tmp_path
):
    measure = cast.measure
    _fill(measure)
    hold = tmp_path / "hold"
    hold.touch()
    first = workers(hold=hold)
    services.add_data_point(measure=measure, day=date(2025, 7, 7), numbers=(19.5,))
    wait_for(lambda: _reached(hold), message="the recompute never reached the hold")

    first.kill()  # the worker, its pool process and all, mid-recompute
    hold.unlink()
    assert not _current(measure.pk), "the killed recompute stored its chart"

    workers(beat=True)  # a new worker; its beat's sweep finds the stale chart
    wait_for(lambda: _current(measure.pk), message="the chart never caught up after the kill")
    recovered = ChartResult.objects.get(measure=measure)
    assert recovered.result["n"] == 27
    assert len(recovered.result["phases"]) == 2

    clean = _clean_run(measure)
    assert clean.data_version > recovered.data_version
    assert clean.result == recovered.result
    assert clean.figure == recovered.figure
    assert ChartResult.objects.filter(measure=measure).count() == 1


def test_a_pool_process_killed_mid_recompute_has_its_task_delivered_again(cast, workers, tmp_path):
    measure = cast.measure
    _fill(measure)
    hold = tmp_path / "hold"
    hold.touch()
    worker = workers(hold=hold)  # no beat: only the redelivery can bring the chart up
    services.add_data_point(measure=measure, day=date(2025, 7, 7), numbers=(19.5,))
    wait_for(lambda: _reached(hold), message="the recompute never reached the hold")
    [pool_process] = _reached(hold)
    assert pool_process != worker.pid

    os.kill(pool_process, signal.SIGKILL)
    # acks_late with reject_on_worker_lost: the message goes back on the queue and the
    # worker's new pool process takes it, reaching the hold again.
    wait_for(lambda: len(_reached(hold)) == 2, message="the task was never delivered again")
    assert _reached(hold)[1] != pool_process
    assert not _current(measure.pk)
    hold.unlink()
    wait_for(lambda: _current(measure.pk), message="the redelivered recompute never landed")
    assert "WorkerLostError" in worker.log()

    recovered = ChartResult.objects.get(measure=measure)
    clean = _clean_run(measure)
    assert (clean.result, clean.figure) == (recovered.result, recovered.figure)
    assert clean.result["n"] == 27


# --- The same recompute delivered twice at once --------------------------------------------


def test_the_same_recompute_delivered_twice_at_once_stores_one_chart(cast, workers, tmp_path):
    measure = cast.measure
    rows = [(i + 1, date(2025, 1, 6) + timedelta(weeks=i), (40.0 - i % 7,)) for i in range(20)]
    hold = tmp_path / "hold"
    hold.touch()
    worker = workers(concurrency=2, hold=hold)
    assert not ChartResult.objects.filter(measure=measure).exists()
    services.save_data_points(measure=measure, rows=rows)  # the first delivery, after commit
    recompute_chart.apply_async(args=(measure.pk,))  # and the same again
    # Both pool processes hold the same recompute, computed, about to store it.
    wait_for(lambda: len(set(_reached(hold))) == 2, message="both deliveries never ran at once")
    hold.unlink()

    wait_for(
        lambda: (
            worker.log().count("measures.tasks.recompute_chart[") >= 4
            and worker.log().count(" succeeded in ") >= 2
        ),
        message="the two deliveries never both finished",
    )
    assert " raised " not in worker.log() and "Retry in" not in worker.log()
    assert ChartResult.objects.filter(measure=measure).count() == 1
    assert DataPoint.objects.filter(measure=measure).count() == 20
    chart = ChartResult.objects.get(measure=measure)
    measure.refresh_from_db()
    assert chart.data_version == measure.data_version
    result, figure = services.compute_chart(measure)
    assert (chart.result, chart.figure) == (result, figure)


# --- A task that always fails ---------------------------------------------------------------

# A fault in the database, not in our code: storing a new chart for one measure fails as a
# full disk would (SQLSTATE 53100, an OperationalError), every time.
BREAK_STORING = """
CREATE FUNCTION fault_disk_full() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER fault_disk_full BEFORE UPDATE ON measures_chartresult FOR EACH ROW
  WHEN (NEW.measure_id = %s AND NEW.data_version IS DISTINCT FROM OLD.data_version)
  EXECUTE FUNCTION fault_disk_full();
"""
MEND_STORING = """
DROP TRIGGER IF EXISTS fault_disk_full ON measures_chartresult;
DROP FUNCTION IF EXISTS fault_disk_full();
"""


def test_a_recompute_that_always_fails_is_marked_failed_and_other_work_flows(cast, workers):
    broken, other = (
        cast.measure,
        Measure.objects.create(room=cast.room, name="Delirium screening", frequency="weekly"),
    )
    _fill(broken)
    before = ChartResult.objects.get(measure=broken)
    with connection.cursor() as cursor:
        cursor.execute(BREAK_STORING % int(broken.pk))
    try:
        workers()  # one pool process: a task waiting to retry must not hold it
        client = Client()
        client.force_login(cast.alice)
        day = {"day": "07/07/2025", "value": "19.5"}
        assert client.post(reverse("add_point", args=[broken.pk]), day).status_code == 302
        assert client.post(reverse("add_point", args=[other.pk]), day).status_code == 302
        wait_for(lambda: _current(other.pk), message="other work stopped behind the failing task")
        wait_for(
            lambda: ChartResult.objects.filter(measure=broken, failed_at__isnull=False).exists(),
            timeout=60,
            message="the failing recompute was never marked failed",
        )
        chart = ChartResult.objects.get(measure=broken)
        done_meanwhile = ChartResult.objects.get(measure=other).computed_at
        assert done_meanwhile < chart.failed_at, "the other chart waited for the retries"
        assert chart.attempts == 4  # the first try and three retries
        assert chart.data_version == before.data_version  # the last good chart still shown
        assert (
            chart.failure_reason == "The database was unavailable, or refused to store the chart."
        )
        event = AuditEvent.objects.get(action="task.failed")
        assert (event.outcome, event.organisation_id, event.target_id) == (
            "failure", cast.north.pk, str(broken.pk)
        )  # fmt: skip
        assert event.details == {"task": "recompute_chart", "attempts": 4}
        # The sweep leaves a failed version alone for a while, rather than fail it again.
        sweep = set(services.charts_to_sweep().values_list("pk", flat=True))
        assert broken.pk not in sweep and cast.other_measure.pk in sweep  # (never drawn)

        page = client.get(reverse("measure_detail", args=[broken.pk])).content.decode()
        assert "This chart could not be updated" in page
        assert "The database was unavailable" in page and "Traceback" not in page
        assert "hx-trigger" not in page  # no longer polling for a chart that failed
        room = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
        assert f"This chart could not be updated: {broken.name}" in room
        assert f"could not be updated: {other.name}" not in room
        client.force_login(cast.bob)  # a member: told, without the reason
        page = client.get(reverse("measure_detail", args=[broken.pk])).content.decode()
        assert "could not be updated with the latest data yet" in page
        assert "The database was unavailable" not in page
        room = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
        assert "could not be updated" not in room  # for the room's coaches
        assert client.get(reverse("failed_work")).status_code == 404
        client.force_login(cast.ada)
        listing = client.get(reverse("failed_work")).content.decode()
        assert broken.name in listing and other.name not in listing
        assert "after 4 attempts" in listing
    finally:
        with connection.cursor() as cursor:
            cursor.execute(MEND_STORING)

    # Mended: the next change recomputes, and the failure is over.
    client.force_login(cast.alice)
    day = {"day": "14/07/2025", "value": "21"}
    assert client.post(reverse("add_point", args=[broken.pk]), day).status_code == 302
    wait_for(lambda: _current(broken.pk), message="the mended chart never caught up")
    chart = ChartResult.objects.get(measure=broken)
    assert chart.failed_at is None and chart.failure_reason == ""
    assert chart.result["n"] == 28
    page = client.get(reverse("measure_detail", args=[broken.pk])).content.decode()
    assert "could not be updated" not in page
    room = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert "could not be updated" not in room
    client.force_login(cast.ada)
    listing = client.get(reverse("failed_work")).content.decode()
    assert broken.name not in listing


# --- A load's database connection cut mid-load ---------------------------------------------

EPISODES = 100_000  # a file of ~12 MB: its load takes seconds, time enough to cut it


def _loading_backend(killed: set[int], statement: str) -> int | None:
    """The process id of the worker's database session while it runs ``statement`` (a
    LIKE pattern) in its load transaction; not a session already cut."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND xact_start IS NOT NULL "
            "AND query ILIKE %s AND NOT (pid = ANY(%s))",
            [statement, list(killed)],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# The load's two long statements: the file streamed into its staging table, and the
# episodes written into the pathway (some rows in, not yet committed, when it is cut).
STAGING = "COPY %"
WRITING = "INSERT INTO pathways_episode %"


def _cut(killed: set[int], statement: str) -> None:
    """Terminate the load's database session in the middle of ``statement``."""
    pid = wait_for(
        lambda: _loading_backend(killed, statement),
        interval=0.02,
        message=f"the load never ran {statement}",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0], "the load's session was already gone"
    killed.add(pid)


def test_a_load_whose_connection_is_cut_stores_nothing_and_can_be_sent_again(
    cast, workers, tmp_path, settings
):
    from pathways import synthetic
    from pathways.models import Episode, EpisodeUpload, Pathway, Step
    from pathways.services import LOST_WORDS

    settings.MEDIA_ROOT = tmp_path / "media"  # the worker finds the file by its path
    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture")
    Step.objects.create(pathway=pathway, code="theatre", name="Theatre", slot=1)
    cast.room.pathway = pathway
    cast.room.save()
    data = synthetic.columns(
        EPISODES, end=datetime(2026, 6, 1, tzinfo=UTC), days=365,
        shape=synthetic.Shape(steps=[("theatre", 30)]), seed=8,
    )  # fmt: skip
    path = tmp_path / "episodes.csv"
    assert synthetic.write_csv(data, path) == EPISODES
    workers(media=settings.MEDIA_ROOT)
    client = Client()
    client.force_login(cast.dana)  # a data contributor of a room on the pathway

    def send_and_load() -> EpisodeUpload:
        with path.open("rb") as handle:
            response = client.post(
                reverse("episode_upload_new", args=[pathway.pk]), {"file": handle}
            )
        assert response.status_code == 302
        upload = EpisodeUpload.objects.latest("pk")
        wait_for(
            lambda: EpisodeUpload.objects.get(pk=upload.pk).status == "checked",
            message="the file was never checked",
        )
        response = client.post(reverse("episode_upload_confirm", args=[upload.pk]))
        assert response.status_code == 302
        return upload

    # Cut at every try (the first and three retries): the upload fails, saying why.
    first = send_and_load()
    killed: set[int] = set()
    for statement in (STAGING, WRITING, WRITING, STAGING):
        _cut(killed, statement)
    wait_for(
        lambda: EpisodeUpload.objects.get(pk=first.pk).status == "failed",
        message="the upload was left loading",
    )
    first.refresh_from_db()
    assert first.reason == LOST_WORDS
    assert not Episode.objects.filter(pathway=pathway).exists()
    page = client.get(reverse("episode_upload", args=[first.pk])).content.decode()
    assert "nothing from it was stored" in page
    client.force_login(cast.ada)
    assert "Send the file again" in client.get(reverse("failed_work")).content.decode()
    client.force_login(cast.dana)

    # Sent again, and cut once: the retry loads it all, and the cut try stored nothing
    # (every episode is added by the retry, none updated).
    again = send_and_load()
    _cut(killed, WRITING)
    wait_for(
        lambda: EpisodeUpload.objects.get(pk=again.pk).status == "loaded",
        timeout=120,
        message="the upload sent again never loaded",
    )
    again.refresh_from_db()
    assert (again.added, again.updated) == (EPISODES, 0)
    assert Episode.objects.filter(pathway=pathway).count() == EPISODES
