"""The fixed cast of the tests, and the real services some tests need.

alice: clinical coach of the North room; bob: member of it (reads, cannot enter data);
dana: member with the data-contributor right; charlie: coach of a room in another
organisation; quinn: QI lead of North; vera: organisation viewer of North; ada: academy admin.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from functools import cache

import pytest
from django.core.cache import caches
from django.db import connection

from bigrooms.models import BigRoom, RoomMembership
from fca import twofactor
from fca.celery import app as celery_app
from fca.models import Organisation, OrganisationMembership, User
from measures.models import Measure

PASSWORD = "correct-horse-battery"


def pytest_configure(config):
    # Each test process (xdist worker) sends to and consumes its own queue, set before the
    # app first builds its queues, so parallel live workers never take each other's tasks
    # (nor those of another run sharing the Redis: hence the process id).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    celery_app.conf.task_default_queue = f"fca-test-{worker}-{os.getpid()}"


def pytest_collection_modifyitems(config, items):
    """On SQLite, tests that need PostgreSQL (and the live worker) are skipped, visibly."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        skip = pytest.mark.skip(reason="needs PostgreSQL and Redis: run by .ci/run")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    """With FCA_FAIL_ON_SKIP set (the PostgreSQL run in CI), any skipped test fails the run."""
    if os.environ.get("FCA_FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"FCA_FAIL_ON_SKIP: {len(skipped)} test(s) skipped", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _fast_and_eager(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"  # photos uploaded by a test stay in the test
    # Kept fragments (fca.fragments) are keyed by content, but SQLite may give a deleted
    # row's id to the next test's row: each test starts with nothing kept.
    caches["default"].clear()
    # Tasks run in-process unless a test starts the live worker.
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = True


@dataclass
class Cast:
    north: Organisation
    south: Organisation
    room: BigRoom
    other_room: BigRoom
    measure: Measure
    other_measure: Measure
    alice: User
    bob: User
    dana: User
    charlie: User
    quinn: User
    vera: User
    ada: User

    def people(self) -> dict[str, User]:
        return {
            name: getattr(self, name)
            for name in ("alice", "bob", "dana", "charlie", "quinn", "vera", "ada")
        }


def next_demo_code(user: User) -> str:
    """A code of the demo's known key that the person has not used yet: now's, or the next
    step's (also accepted); when both are spent, the one after, once its time comes."""
    device = twofactor.device_for(user)
    code = twofactor.demo_code(after_step=device.last_step)
    if code is None:
        time.sleep(twofactor.STEP_SECONDS - time.time() % twofactor.STEP_SECONDS + 0.1)
        code = twofactor.demo_code(after_step=device.last_step)
    return code


def enter_demo_code(client, user: User):
    """The code step of two-factor sign-in in the test client."""
    from django.urls import reverse

    return client.post(reverse("two_factor_code"), {"code": next_demo_code(user)})


def make_user(email: str, name: str, **fields) -> User:
    return User.objects.create_user(email, PASSWORD, full_name=name, **fields)


@pytest.fixture
def cast(db) -> Cast:
    north = Organisation.objects.create(
        name="North Acute NHS Trust", kind="acute_trust", ods_code="RXN"
    )
    south = Organisation.objects.create(
        name="South Community Health", kind="community_trust", ods_code="RYS"
    )
    alice = make_user("alice@north.nhs.uk", "Alice Adams")
    bob = make_user("bob@north.nhs.uk", "Bob Brown")
    dana = make_user("dana@north.nhs.uk", "Dana Dale")
    charlie = make_user("charlie@south.nhs.uk", "Charlie Cole")
    quinn = make_user("quinn@north.nhs.uk", "Quinn Quayle")
    vera = make_user("vera@north.nhs.uk", "Vera Vane")
    ada = make_user("ada@academy.nhs.uk", "Ada Admin", is_academy_admin=True)
    for user in (alice, bob, dana):
        OrganisationMembership.objects.create(user=user, organisation=north, role="staff")
    OrganisationMembership.objects.create(user=quinn, organisation=north, role="qi_lead")
    OrganisationMembership.objects.create(user=vera, organisation=north, role="viewer")
    OrganisationMembership.objects.create(user=charlie, organisation=south, role="staff")
    for user in (quinn, ada):  # two-factor sign-in: the known demo key (fca.twofactor)
        twofactor.demo_device(user)
    room = BigRoom.objects.create(name="Hip fracture big room", host=north)
    other_room = BigRoom.objects.create(name="Frailty big room", host=south)
    RoomMembership.objects.create(room=room, user=alice, role="clinical_coach")
    RoomMembership.objects.create(room=room, user=bob, role="member")
    RoomMembership.objects.create(room=room, user=dana, role="member", can_contribute_data=True)
    RoomMembership.objects.create(room=other_room, user=charlie, role="clinical_coach")
    measure = Measure.objects.create(
        room=room,
        name="Time to theatre",
        unit="hours",
        improvement="decrease",
        frequency="weekly",
        chart_type="xmr",
    )
    other_measure = Measure.objects.create(
        room=other_room, name="Falls", unit="falls", improvement="decrease", frequency="monthly"
    )
    return Cast(
        north, south, room, other_room, measure, other_measure, alice, bob, dana, charlie,
        quinn, vera, ada,
    )  # fmt: skip


# --- Real services ------------------------------------------------------------------------

REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
    "--save", "", "--appendonly", "no",
]  # fmt: skip


def redis_up() -> bool:
    result = subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True)
    return result.stdout.strip() == "PONG"


def stop_redis() -> None:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    deadline = time.monotonic() + 10
    while redis_up() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not redis_up(), "Redis did not stop"


def start_redis() -> None:
    if not redis_up():
        subprocess.run(REDIS_START, check=True, capture_output=True)
    deadline = time.monotonic() + 10
    while not redis_up() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert redis_up(), "Redis did not start"


@pytest.fixture
def live_worker(transactional_db):
    """A real Celery worker, in this process, consuming this test process's own queue on
    the real Redis, and writing to this test process's database."""
    from celery.contrib.testing.worker import start_worker

    assert connection.vendor == "postgresql", "the live worker runs against PostgreSQL"
    assert celery_app.conf.broker_url.startswith("redis://"), "set CELERY_BROKER_URL to Redis"
    start_redis()
    celery_app.control.purge()  # what an earlier run left in this process's queue
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(
            celery_app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as worker:
            yield worker
    finally:
        celery_app.conf.task_always_eager = True
        start_redis()


def wait_for(condition, *, timeout: float = 60, interval: float = 0.2, message: str = ""):
    """Poll until ``condition()`` is truthy; fail with ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(message or f"gave up after {timeout} s")


# --- A real browser -----------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
AXE = os.path.join(os.path.dirname(__file__), "..", "node_modules", "axe-core", "axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM must still work.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@cache
def _axe_source() -> str:
    with open(AXE, encoding="utf-8") as handle:
        return handle.read()


class AccessiblePage:
    """A browser tab that runs axe on every page it lands on, and fails the test on any
    WCAG 2.2 A or AA violation, or on a page that was never checked."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.visited: list[str] = []
        self.checked: set[str] = set()
        self.console_errors: list[str] = []
        page.on("framenavigated", self._navigated)
        # Script errors and CSP refusals fail the test; a 400 answer to a bad form does not.
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on(
            "console",
            lambda m: "Content Security Policy" in m.text and self.console_errors.append(m.text),
        )

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.visited.append(frame.url)

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)
        self.check()

    def sign_in(self, email: str, next_path: str = "/", password: str = PASSWORD) -> None:
        """Through the sign-in page, as a person does, then on to ``next_path``; a QI lead
        or academy admin enters a code from the known demo key (fca.twofactor)."""
        person = User.objects.filter(email__iexact=email).first()
        needs_key = person is not None and twofactor.required_for(person)
        if needs_key and twofactor.device_for(person) is None:
            twofactor.demo_device(person)
        self.goto(f"/account/sign-in/?next={next_path}")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.check()
        if "/account/two-factor/code/" in self.page.url:
            self.enter_code(email)

    def enter_code(self, email: str) -> None:
        """Two-factor sign-in's code step, with the known demo key (fca.twofactor)."""
        code = next_demo_code(User.objects.get(email__iexact=email))
        self.page.get_by_label("Security code").fill(code)
        self.page.get_by_role("button", name="Continue").click()
        self.check()

    def check(self) -> None:
        """Run axe on the page as it is now."""
        self.page.wait_for_load_state("load")
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            # Evaluated through the debugging protocol, so the page's CSP stays as strict.
            self.page.evaluate(_axe_source())
        result = self.page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            AXE_TAGS,
        )
        problems = [
            f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
            for v in result["violations"]
        ]
        assert not problems, f"axe on {self.page.url}:\n" + "\n".join(problems)
        self.checked.add(self.page.url)

    def assert_every_page_checked(self) -> None:
        # The browser's own pages (blank, "no connection") are not ours to check.
        missed = [
            url
            for url in self.visited
            if url not in self.checked and not url.startswith(("about:", "chrome-error:"))
        ]
        assert not missed, f"pages visited without an axe check: {missed}"
        assert not self.console_errors, f"errors in the browser console: {self.console_errors}"


@pytest.fixture
def web(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    accessible = AccessiblePage(page, live_server.url)
    yield accessible
    context.close()
    accessible.assert_every_page_checked()


@pytest.fixture
def migrate_to(transactional_db):
    """Move the test database to some migrations (a list of (app, name)) and back to the
    latest after the test, whatever happens in it; returns the apps as they were then."""
    from django.db.migrations.executor import MigrationExecutor

    def to(targets):
        executor = MigrationExecutor(connection)
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield to
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
