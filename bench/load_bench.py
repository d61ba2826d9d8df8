"""Load: Locust against gunicorn with the production settings, on PostgreSQL and Redis.

1. A fresh database (fca_load) on the server of DATABASE_URL: migrated, seeded with
   manage.py seed_scale, then the accounts the mix needs (coaches with their rooms, QI
   leads, integration tokens for the feed) written to a JSON file for the locustfile.
2. collectstatic, then gunicorn (production settings, loopback) and a Celery worker on
   Redis database 3 (never 0, the development queues).
3. Locust, headless: 50 users (30 coaches logging sessions, 15 QI leads reading
   dashboards, 5 data feeds), spawned 10 a second, for five minutes (--duration).
   Meanwhile the CPU time of every process involved is sampled, and py-spy records one
   gunicorn worker.
4. Everything is stopped (also on failure or Ctrl+C), the database dropped, and the report
   printed: requests a second, p50/p95/p99 overall and per request, errors, where the CPU
   went, and the hottest code in the sampled worker.

The goal (issue 8): at least 100 requests a second, p95 under 500 ms, no errors, on the
2-core machine shared with the load generator and the services. A report, not a test: it
exits 0 whatever the figures, non-zero only when the set-up fails.

Run:  make load-bench            (LOAD_ARGS="--duration 60s" for a trial)
      .bench-venv/bin/python bench/load_bench.py [--duration 5m] [--users 50] [--workers 3]
"""

import argparse
import csv
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DB_NAME = "fca_load"
REDIS_URL = "redis://127.0.0.1:6379/3"
GOAL_RPS, GOAL_P95_MS = 100, 500
# py-spy names a frame's file relative to its sys.path entry: the project's start so.
PROJECT = tuple(f"{p.name}/" for p in ROOT.iterdir() if (p / "__init__.py").exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default="5m", help="Locust run time: 60s, 5m (default)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--port", type=int, default=8790)
    # Three processes for two cores: Python runs one thread at a time in a process, and a
    # third process keeps a core busy while another waits on PostgreSQL. Four threads
    # each (gthread) keep the load generator's connections open between requests (a sync
    # worker closes every connection and lingers for the client to close its side) and
    # let a slow dashboard share a process with quick pages. Same CPU a request as three
    # sync workers, in trials, with a lower p95.
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker")
    parser.add_argument("--organisations", type=int, default=3)
    parser.add_argument("--rooms", type=int, default=40, help="per organisation")
    parser.add_argument("--measures", type=int, default=10, help="per room")
    parser.add_argument("--points", type=int, default=52)
    parser.add_argument("--sessions", type=int, default=26)
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy sample")
    parser.add_argument(
        "--floor",
        metavar="PATH",
        help="instead of the mix: every user a coach asking for this one page again and "
        "again (/glossary/, say), to measure what the stack costs under the pages",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="for trials: keep fca_load after the run and, when it exists, reuse it "
        "without seeding again (sessions logged by earlier runs stay in it)",
    )
    parser.add_argument("prepare", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("accounts", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare == "prepare":  # inside the production environment, see run()
        prepare(Path(args.accounts), qi_leads=mix(args.users)[1])
        return
    Bench(args).run()


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="fca-load."))
        self.procs: dict[str, subprocess.Popen] = {}
        server = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fca"))
        self.admin_url = server._replace(path="/postgres").geturl()
        self.db_url = server._replace(path=f"/{DB_NAME}").geturl()
        self.base = f"http://127.0.0.1:{args.port}"
        self.env = os.environ | {
            "FCA_ENVIRONMENT": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.db_url,
            # As docker-compose.yml: connections kept for a minute, not one per request.
            "DATABASE_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": REDIS_URL,
            "AXES_PROXY_COUNT": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("DJANGO_DEBUG", None)

    def run(self) -> None:
        # Ctrl+C, TERM and a closed terminal all unwind through the finally below (SIGINT
        # explicitly: a shell starting the runner in the background leaves it ignored).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
        try:
            self.set_up()
            self.start_servers()
            stats = self.load()
            self.report(stats)
        finally:
            self.stop_all()
            if not self.args.reuse_db:
                self.drop_database()
            if not self.args.keep:
                subprocess.run(["rm", "-rf", str(self.work)], check=False)
            else:
                print(f"work directory kept: {self.work}")

    # 1. The database, the data and the accounts ------------------------------------------

    def set_up(self) -> None:
        import psycopg

        a = self.args
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            reuse = a.reuse_db and exists.fetchone() is not None
            if not reuse:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
                conn.execute(f"CREATE DATABASE {DB_NAME}")
        step("migrate")
        self.manage("migrate", "--no-input", "-v0")
        if static_files_stale():
            # Minutes of compressing plotly.js and the NHS.UK assets: done only when a
            # source file is newer than the last collected manifest.
            step("collectstatic")
            self.manage("collectstatic", "--no-input", "-v0")
        else:
            step("collectstatic: staticfiles/ is up to date, skipped")
        if reuse:
            step(f"{DB_NAME} reused as it is (--reuse-db): not seeded again")
        else:
            self.seed()
        step("accounts and feed tokens")
        self.accounts = self.work / "accounts.json"
        subprocess.run(
            [sys.executable, __file__, f"--users={self.args.users}", "prepare",
             str(self.accounts)],
            env=self.env, cwd=ROOT, check=True,
        )  # fmt: skip
        counts = {k: len(v) for k, v in json.loads(self.accounts.read_text()).items()}
        step(f"accounts: {counts}")

    def seed(self) -> None:
        a = self.args
        step(
            f"seed: {a.organisations} organisations × {a.rooms} rooms × {a.measures} measures "
            f"× {a.points} weekly points, {a.sessions} sessions a room"
        )
        started = time.perf_counter()
        self.manage(
            "seed_scale", f"--organisations={a.organisations}", f"--rooms={a.rooms}",
            f"--measures={a.measures}", f"--points={a.points}", f"--sessions={a.sessions}",
            quiet=True, production=False,
        )  # fmt: skip
        step(f"seeded in {time.perf_counter() - started:.0f} s")

    def manage(self, *argv: str, quiet: bool = False, production: bool = True) -> None:
        # seed_scale refuses production settings; it writes to the same database.
        env = self.env if production else self.env | {"FCA_ENVIRONMENT": "development"}
        subprocess.run(
            [sys.executable, "manage.py", *argv],
            env=env, cwd=ROOT, check=True,
            stdout=subprocess.DEVNULL if quiet else None,
        )  # fmt: skip

    def drop_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        except psycopg.Error as error:
            print(f"could not drop {DB_NAME}: {error}", file=sys.stderr)

    # 2. The servers ------------------------------------------------------------------------

    def start_servers(self) -> None:
        a = self.args
        step(f"gunicorn: {a.workers} workers × {a.threads} threads on {self.base}; Celery worker")
        gunicorn = [
            str(BIN / "gunicorn"), "fca.wsgi:application", "--bind", f"127.0.0.1:{a.port}",
            "--workers", str(a.workers), "--timeout", "60", "--no-control-socket",
            "--access-logfile", str(self.work / "access.log"),
        ]  # fmt: skip
        if a.threads > 1:
            gunicorn += ["--worker-class", "gthread", "--threads", str(a.threads)]
        self.start("gunicorn", gunicorn)
        self.start(
            "celery", [str(BIN / "celery"), "-A", "fca", "worker", "-l", "warning",
                       "--concurrency", "1", "-n", f"load-{os.getpid()}@%h"]
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise SystemExit(f"{name} stopped before the app answered: see its log")
            try:
                request = urllib.request.Request(
                    self.base + "/health/", headers={"X-Forwarded-Proto": "https"}
                )
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"{self.base}/health/ did not answer within 60 s")

    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        # A process group of its own: Ctrl+C in the terminal reaches only this runner,
        # which then stops each server in order.
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in 15 s: killed", file=sys.stderr)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    # 3. The load ---------------------------------------------------------------------------

    def load(self) -> dict:
        a = self.args
        sampler = CpuSampler(self)
        sampler.start()
        profile = None
        if not a.no_profile:
            profile = self.start_profile(seconds=duration_seconds(a.duration))
        step(f"locust: {a.users} users, {a.spawn_rate} a second, for {a.duration}")
        locust = self.start(
            "locust",
            [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "-u", str(a.users), "-r", str(a.spawn_rate), "-t", a.duration,
             "--host", self.base, "--csv", str(self.work / "stats"), "--only-summary",
             "--stop-timeout", "5", "--exit-code-on-error", "0",
             *(["FloorCoach"] if a.floor else [])],
            env=self.env | {
                "LOAD_ACCOUNTS": str(self.accounts),
                "LOAD_LOG": str(self.work / "requests.log"),
                "LOAD_MIX": ",".join(map(str, mix(a.users))),
                "LOAD_FLOOR": a.floor or "",
            },
        )  # fmt: skip
        started = time.monotonic()
        locust.wait()
        elapsed = time.monotonic() - started
        sampler.stop()
        if locust.returncode not in (0, 1):
            print((self.work / "locust.log").read_text()[-3000:], file=sys.stderr)
            raise SystemExit(f"locust exited with {locust.returncode}")
        if profile is not None:
            try:
                profile.wait(timeout=30)
            except subprocess.TimeoutExpired:
                profile.terminate()
        return {"elapsed": elapsed, "cpu": sampler.totals(), "cores": os.cpu_count(),
                "sampler": sampler}  # fmt: skip

    def start_profile(self, *, seconds: float):
        """py-spy on the busiest-to-be gunicorn worker (the first), for most of the run."""
        import psutil

        master = psutil.Process(self.procs["gunicorn"].pid)
        workers = master.children()
        if not workers:
            return None
        # Skip the spawn-up: the profile is of the steady load.
        record = [
            str(BIN / "py-spy"), "record", "--pid", str(workers[0].pid), "--rate", "50",
            "--format", "raw", "--output", str(self.work / "profile.txt"), "--nonblocking",
            "--duration", str(max(5, int(seconds) - 15)),
        ]  # fmt: skip
        return self.start("py-spy", ["sh", "-c", f"sleep 8 && exec {' '.join(record)}"])

    # 4. The report -------------------------------------------------------------------------

    def report(self, stats: dict) -> None:
        requests = read_request_log(self.work / "requests.log")
        if not requests:
            print((self.work / "locust.log").read_text()[-3000:], file=sys.stderr)
            raise SystemExit("locust made no requests")
        failures = list(csv.DictReader((self.work / "stats_failures.csv").read_text().splitlines()))
        a = self.args
        print(f"\nload: {a.users} users ({'/'.join(map(str, mix(a.users)))} coaches/QI leads/"
              f"feeds) for {a.duration}, gunicorn {a.workers} workers × {a.threads} threads, "
              "production settings, PostgreSQL, Redis")  # fmt: skip
        # Everyone signs in once, at the start: PBKDF2's million rounds are most of a CPU
        # second each. The steady state is everything after the last sign-in.
        sign_ins = [r for r in requests if "sign in" in r.name]
        settled = max((r.start + r.ms / 1000 for r in sign_ins), default=requests[0].start)
        whole = summarise(requests)
        steady = summarise([r for r in requests if r.start >= settled])
        print(f"\nthe whole run ({whole['seconds']:.0f} s, as the issue measures it):")
        print_table(requests)
        if steady["count"]:
            print(f"\nsteady state: after the last sign-in, {settled - requests[0].start:.0f} s "
                  f"in ({steady['seconds']:.0f} s):")  # fmt: skip
            print_table([r for r in requests if r.start >= settled], totals_only=True)
        for failure in failures[:10]:
            print(f"  error ×{failure['Occurrences']}: {failure['Method']} {failure['Name']}: "
                  f"{failure['Error'][:200]}")  # fmt: skip
        self.report_cpu(stats["cpu"], stats["elapsed"], stats["cores"], whole["count"])
        seconds, cpu = stats["sampler"].since(settled)
        if steady["count"] and seconds > 10:
            steady_count = sum(
                1 for r in requests if settled + 1 <= r.start <= settled + 1 + seconds
            )
            print("\n  the steady state alone (after the last sign-in):", end="")
            self.report_cpu(cpu, seconds, stats["cores"], steady_count)
        report_profile(self.work / "profile.txt")
        if self.args.floor:
            print(f"\nfloor ({self.args.floor} alone, not the goal's mix): {whole['rps']:.1f} "
                  f"req/s, p50 {whole['p50']:.0f} ms, p95 {whole['p95']:.0f} ms, "
                  f"{whole['errors']} errors")  # fmt: skip
            return
        verdict = whole["rps"] >= GOAL_RPS and whole["p95"] < GOAL_P95_MS and not whole["errors"]
        print(
            f"\ngoal: ≥ {GOAL_RPS} req/s, p95 < {GOAL_P95_MS} ms, no errors → "
            f"{whole['rps']:.1f} req/s, p50 {whole['p50']:.0f} ms, p95 {whole['p95']:.0f} ms, "
            f"p99 {whole['p99']:.0f} ms, {whole['errors']} errors: "
            f"{'met' if verdict else 'NOT met'}"
        )
        print(f"load average (1 min) after the run: {os.getloadavg()[0]:.2f}")

    def report_cpu(self, cpu: dict, elapsed: float, cores: int, count: int) -> None:
        cpu = dict(cpu)
        available = elapsed * cores
        print(f"\nCPU over {elapsed:.0f} s ({cores} cores: {available:.0f} core-seconds), "
              "user+system seconds:")  # fmt: skip
        everything = cpu.pop("machine (all processes)")
        for group, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
            print(f"  {group:<34}{seconds:>8.1f} s {seconds / available:>6.0%} of the machine")
        ours = sum(cpu.values())
        print(f"  {'(everything else on the machine)':<34}{everything - ours:>8.1f} s "
              f"{(everything - ours) / available:>6.0%}")  # fmt: skip
        print(f"  {'machine idle':<34}{available - everything:>8.1f} s "
              f"{(available - everything) / available:>6.0%}")  # fmt: skip
        # CPU a request, whatever else the machine was doing: what the two cores could
        # answer if they did nothing else (the servers' share and the load generator's).
        server = ours - cpu.get("locust", 0.0)
        per = 1000 * server / count
        generator = 1000 * cpu.get("locust", 0.0) / count
        print(
            f"  per request: {per:.1f} ms of server CPU (gunicorn, Celery, PostgreSQL, "
            f"Redis) + {generator:.1f} ms of Locust; so at most "
            f"{1000 * cores / (per + generator):.0f} req/s on {cores} idle cores"
        )


def report_profile(path: Path) -> None:
    """py-spy's samples of one worker: by page (the view a sample is under), the hottest
    code, and the project's own functions with what they call."""
    if not path.exists() or not path.stat().st_size:
        print("\nno py-spy profile (--no-profile, or py-spy could not attach)")
        return
    own, ours, pages, total = Counter(), Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        own[short(frames[-1])] += n
        seen = {short(f) for f in frames if f.partition("(")[2].startswith(PROJECT)}
        for frame in seen:
            ours[frame] += n
        pages[page_of(frames)] += n
    print(f"\npy-spy, one gunicorn worker: {total} samples at 50 a second while it ran code")
    print("  by page (the view the sample is under; middleware counts as outside):")
    for page, n in pages.most_common(14):
        print(f"    {n / total:>6.1%}  {page}")
    print("  hottest code (self time):")
    for frame, n in own.most_common(12):
        print(f"    {n / total:>6.1%}  {frame}")
    print("  the project's functions (inclusive time):")
    for frame, n in ours.most_common(15):
        print(f"    {n / total:>6.1%}  {frame}")


def page_of(frames: list[str]) -> str:
    """The view a stack is under: the first frame after Django's _get_response that is
    not a decorator or a dispatcher."""
    for k, frame in enumerate(frames):
        if frame.startswith("BaseHandler._get_response "):
            for inner in frames[k + 1 :]:
                if not inner.partition("(")[2].startswith(DISPATCH):
                    return inner.split(" (")[0]
            return "Django, before the view"
    if any("handle_request" in f for f in frames):
        return "middleware and response writing, outside the view"
    return "gunicorn, between requests"


DISPATCH = (
    "django/utils/decorators.py", "django/views/decorators/", "django/contrib/auth/decorators",
    "django/views/generic/base.py", "rest_framework/views.py", "rest_framework/decorators.py",
    "contextlib.py",
)  # fmt: skip


class Request(NamedTuple):
    start: float  # seconds since the epoch
    name: str
    ms: float
    ok: bool


def read_request_log(path: Path) -> list[Request]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        start, name, ms, ok = line.split("\t")
        rows.append(Request(float(start), name, float(ms), ok == "1"))
    return sorted(rows)


def percentile(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else 0.0


def summarise(rows: list[Request]) -> dict:
    times = sorted(r.ms for r in rows)
    seconds = (max(r.start + r.ms / 1000 for r in rows) - rows[0].start) if rows else 0.0
    return {
        "count": len(rows), "errors": sum(not r.ok for r in rows), "seconds": seconds,
        "rps": len(rows) / seconds if seconds else 0.0, "p50": percentile(times, 50),
        "p95": percentile(times, 95), "p99": percentile(times, 99),
        "max": times[-1] if times else 0.0,
    }  # fmt: skip


def print_table(rows: list[Request], *, totals_only: bool = False) -> None:
    print(f"  {'request':<30}{'count':>7}{'errors':>7}{'req/s':>7}{'p50':>7}{'p95':>7}"
          f"{'p99':>7}{'max':>7}  (ms)")  # fmt: skip
    names = defaultdict(list)
    for r in rows:
        names[r.name].append(r)
    seconds = summarise(rows)["seconds"]
    lines = [] if totals_only else sorted(names.items())
    for label, group in [*lines, ("ALL (the mix)", rows)]:
        s = summarise(group)
        print(f"  {label[:30]:<30}{s['count']:>7}{s['errors']:>7}{s['count'] / seconds:>7.1f}"
              f"{s['p50']:>7.0f}{s['p95']:>7.0f}{s['p99']:>7.0f}{s['max']:>7.0f}")  # fmt: skip


def short(frame: str) -> str:
    """`function (path/to/file.py:12)` with the path made short."""
    text = frame.replace(str(ROOT) + "/", "")
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in text:
            head, _, tail = text.partition("(")
            text = head + "(" + tail.split(marker, 1)[1]
    return text


class CpuSampler:
    """The CPU time of the processes under test, by group, sampled every second.

    PostgreSQL backends come and go (a connection a worker, kept a minute), so each
    process is remembered with its CPU time when first and last seen; one that started
    during the run counts from zero."""

    def __init__(self, bench: Bench):
        import psutil

        self.psutil = psutil
        self.bench = bench
        self.seen: dict[int, tuple[str, float, float]] = {}
        self.started = time.time()
        self.machine_start = self.machine()
        self.machine_end = self.machine_start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._conn = None
        self.history: list[tuple[float, dict[str, float]]] = []

    def machine(self) -> float:
        t = self.psutil.cpu_times()
        return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0)

    def start(self) -> None:
        import psycopg

        self._conn = psycopg.connect(self.bench.admin_url, autocommit=True)
        self.sample(first=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        self.machine_end = self.machine()
        self._conn.close()

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def groups(self) -> dict[int, str]:
        found = {}
        for name, proc in list(self.bench.procs.items()):
            if name == "py-spy" or proc.poll() is not None:
                continue
            try:
                parent = self.psutil.Process(proc.pid)
                found[proc.pid] = f"{name} (master)" if name == "gunicorn" else name
                for child in parent.children(recursive=True):
                    found[child.pid] = "gunicorn workers" if name == "gunicorn" else name
            except self.psutil.NoSuchProcess:
                continue
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB_NAME],
        ).fetchall()
        for (pid,) in rows:
            found[pid] = "postgres (fca_load backends)"
        for proc in self.psutil.process_iter(["name"]):
            if proc.info["name"] == "redis-server":
                found[proc.pid] = "redis (whole server)"
            elif proc.info["name"] in {"postgres", "postmaster"} and proc.pid not in found:
                try:
                    cmd = " ".join(proc.cmdline())
                except self.psutil.Error:
                    continue
                # The server's own processes (WAL writer, checkpointer...), not backends.
                if any(w in cmd for w in ("writer", "checkpointer", "walwriter", "autovacuum")):
                    found[proc.pid] = "postgres (background)"
        return found

    def sample(self, first: bool = False) -> None:
        for pid, group in self.groups().items():
            try:
                proc = self.psutil.Process(pid)
                t = proc.cpu_times()
                now = t.user + t.system
                born = proc.create_time()
            except self.psutil.Error:
                continue
            if pid not in self.seen:
                baseline = 0.0 if (born >= self.started and not first) else now
                self.seen[pid] = (group, baseline, now)
            else:
                g, baseline, _ = self.seen[pid]
                self.seen[pid] = (g, baseline, now)
        # The running totals over time, for the CPU of the steady state alone.
        self.history.append((time.time(), self.totals(running=True)))

    def totals(self, running: bool = False) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for group, first, last in self.seen.values():
            out[group] += last - first
        end = self.machine() if running else self.machine_end
        out["machine (all processes)"] = end - self.machine_start
        return dict(out)

    def since(self, moment: float) -> tuple[float, dict[str, float]]:
        """The seconds and CPU by group from the first sample at or after ``moment``."""
        later = [(t, totals) for t, totals in self.history if t >= moment]
        if not later:
            return 0.0, {}
        start, before = later[0]
        end, after = self.history[-1]
        return end - start, {g: after[g] - before.get(g, 0.0) for g in after}


def mix(users: int) -> tuple[int, int, int]:
    """Coaches, QI leads and feeds among the simulated users: 60%, 30%, 10%."""
    feeds = max(1, round(users * 0.1))
    leads = max(1, round(users * 0.3))
    return users - leads - feeds, leads, feeds


def static_files_stale() -> bool:
    """Whether a static source file is newer than staticfiles/staticfiles.json."""
    import plotly

    manifest = ROOT / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return True
    collected = manifest.stat().st_mtime
    sources = [
        ROOT / "static",
        ROOT / "build" / "css",
        ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk",
        Path(plotly.__file__).parent / "package_data",
    ]
    return any(
        path.stat().st_mtime > collected
        for source in sources
        for path in source.rglob("*")
        if path.is_file()
    )


def duration_seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    total, number = 0.0, ""
    for ch in text:
        if ch.isdigit():
            number += ch
        else:
            total += int(number) * units[ch]
            number = ""
    return total + (int(number) if number else 0)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def prepare(path: Path, qi_leads: int) -> None:
    """Inside the production environment: the accounts the load mix signs in with.

    Coaches: each active room's clinical coach, with the room, its measures, a PDSA cycle
    being done, and the day before the room's first session (new sessions go before it,
    one day each, so they never meet the seeded ones). QI leads: each organisation's, with
    its rooms and measures. Feeds: an integration token for a dozen rooms, minted as a
    coach would on the room's tokens page, with the room's measures and latest week."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fca.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db.models import Max, Min

    from bigrooms.models import PDSA, BigRoom, RoomMembership
    from fca import twofactor
    from fca.management.commands.seed_scale import DEFAULT_PASSWORD
    from fca.models import ApiToken, Organisation, OrganisationMembership, User
    from fca.tokens import create_token
    from measures.models import DataPoint, Measure

    coaches, leads, feeds = [], [], []
    rooms = (
        BigRoom.objects.filter(status=BigRoom.Status.ACTIVE)
        .annotate(first=Min("sessions__held_on"))
        .order_by("host_id", "pk")
    )
    for room in rooms:
        coach = room.memberships.get(role=RoomMembership.Role.CLINICAL_COACH).user
        measures = list(room.measures.values_list("pk", flat=True))
        pdsa = room.pdsas.filter(status=PDSA.Status.DOING).values_list("pk", flat=True).first()
        coaches.append(
            {"email": coach.email, "password": DEFAULT_PASSWORD, "room": room.pk,
             "measures": measures, "pdsa": pdsa, "free_before": room.first.isoformat()}
        )  # fmt: skip
    orgs = list(Organisation.objects.order_by("pk"))
    for number, org in enumerate(orgs):
        lead = User.objects.get(email=f"qi-lead-{number + 1}@seed.example")
        rooms = list(org.big_rooms.values_list("pk", flat=True))
        measures = list(Measure.objects.filter(room__host=org).values_list("pk", flat=True))
        # One account per simulated QI lead: a code from an authenticator app is good
        # once, so two people sharing an account would refuse each other's codes. Each
        # has the demo's known key (fca.twofactor), so the locustfile can make the codes.
        for k in range(number, qi_leads, len(orgs)):
            person = lead
            if k >= len(orgs):
                # The seed's password, hashed once (a new hash is most of a second).
                person, _ = User.objects.get_or_create(
                    email=f"load-qi-lead-{k}@seed.example",
                    defaults={"full_name": f"QI Lead {k}", "password": lead.password},
                )
                OrganisationMembership.objects.get_or_create(
                    user=person, organisation=org, role=OrganisationMembership.Role.QI_LEAD
                )
            twofactor.demo_device(person)
            leads.append(
                {"email": person.email, "password": DEFAULT_PASSWORD, "organisation": org.pk,
                 "rooms": rooms, "measures": measures, "totp_secret": twofactor.DEMO_SECRET}
            )  # fmt: skip
    # Interleave organisations, so a few feeds and coaches spread over all of them.
    coaches = interleave(coaches, key=lambda c: BigRoom.objects.get(pk=c["room"]).host_id)
    for account in coaches[:12]:
        room = BigRoom.objects.get(pk=account["room"])
        coach = room.memberships.get(role=RoomMembership.Role.CLINICAL_COACH).user
        _, text = create_token(
            user=coach, name="Data warehouse feed", kind=ApiToken.Kind.INTEGRATION, room=room
        )
        latest = DataPoint.objects.filter(measure__room=room).aggregate(Max("period"))
        feeds.append(
            {"token": text, "latest_week": latest["period__max"].isoformat(),
             "measures": [{"id": m.pk, "proportion": m.numbers_per_period == 2}
                          for m in room.measures.all()]}
        )  # fmt: skip
    # Coaches with a feed are at the end: a room's feed and its coach rarely run together.
    coaches = coaches[12:] + coaches[:12]
    path.write_text(json.dumps({"coaches": coaches, "qi_leads": leads, "feeds": feeds}))


def interleave(items: list, key) -> list:
    by: dict = defaultdict(list)
    for item in items:
        by[key(item)].append(item)
    lanes = list(by.values())
    out = []
    for k in range(max(map(len, lanes), default=0)):
        out += [lane[k] for lane in lanes if k < len(lane)]
    return out


if __name__ == "__main__":
    main()
