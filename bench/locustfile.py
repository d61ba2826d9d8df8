"""The load mix of bench/load_bench.py: coaches, QI leads and a data feed, as Locust users.

Run by bench/load_bench.py, which seeds the database and writes the accounts file this
reads (LOAD_ACCOUNTS, JSON: coaches, QI leads and feed tokens, see prepare() there). By
hand, against a server already seeded that way:

    LOAD_ACCOUNTS=accounts.json locust -f bench/locustfile.py --headless -u 50 -r 10 \
        -t 60s --host http://127.0.0.1:8790

Every request goes as the reverse proxy in front of gunicorn would send it: with
`X-Forwarded-Proto: https` (production settings redirect plain http), and forms with an
Origin header for the CSRF check. Redirects are not followed by the client: each step
checks the 3xx it expects and fetches the next page itself, so every HTTP request the
server answers is one request in the figures.

Think times are short: a person's requests within one round (one task) follow each other
at once, and they pause 0.2 to 0.8 s between rounds (``wait_time`` comes between tasks).
So 50 simulated users keep the server saturated: the benchmark asks how many requests the
server can answer, not how a real week's traffic is spread. Real people pause far longer,
so 50 simulated users stand for a few hundred real ones. A feed waits 1 to 3 s between
batches (each batch also costs the Celery worker a chart recompute).
"""

import itertools
import json
import os
import random
import re
import threading
from datetime import date, timedelta
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlencode

import pyotp
from loadforms import NOTES, form_on, session_fields
from locust import FastHttpUser, between, constant, events, task

ACCOUNTS = json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text(encoding="utf-8"))
# How many of each: coaches, QI leads, feeds (load_bench.py's mix(): 30, 15, 5 of 50).
COACHES, QI_LEADS, FEEDS = map(int, os.environ.get("LOAD_MIX", "30,15,5").split(","))
THINK = between(0.2, 0.8)
# Every request, one line each (start time, name, milliseconds, ok), for the runner's own
# percentiles: over the whole run, and after the last sign-in (LOAD_LOG, when set).
_log = open(os.environ["LOAD_LOG"], "a", buffering=1 << 16) if os.environ.get("LOAD_LOG") else None  # noqa: SIM115


@events.request.add_listener
def _record(request_type, name, response_time, exception, start_time=None, **kwargs):
    if _log is not None:
        ok = 0 if exception else 1
        _log.write(f"{start_time or 0:.3f}\t{request_type} {name}\t{response_time:.1f}\t{ok}\n")


@events.quitting.add_listener
def _close(**kwargs):
    if _log is not None:
        _log.close()


# Each simulated user takes the next account of its kind; several users may share an
# account (one person signed in on two devices), but each coach logs sessions for a room
# of their own so that two never pick the same date for the same room.
_next = {kind: itertools.count() for kind in ("coaches", "qi_leads", "feeds")}
_lock = threading.Lock()


def next_account(kind: str) -> dict:
    with _lock:
        number = next(_next[kind])
    accounts = ACCOUNTS[kind]
    return accounts[number % len(accounts)] | {"round": number // len(accounts)}


class BehindTheProxy(DefaultCookiePolicy):
    """Production cookies are Secure. The browser gets them over https from the reverse
    proxy; here the bench is the proxy and speaks plain http to gunicorn on loopback, so
    it sends them back over http, as the proxy would pass them on."""

    def return_ok_secure(self, cookie, request):
        return True


class Person(FastHttpUser):
    """Someone signed in through the sign-in page, once, who keeps their session."""

    abstract = True
    wait_time = THINK
    kind = ""

    def on_start(self):
        self.origin = "https://" + self.host.split("://", 1)[1]
        self.account = next_account(self.kind)
        self.client.cookiejar.set_policy(BehindTheProxy())
        self.sign_in()

    def get(self, path: str, name: str, expect: int = 200, **kwargs):
        with self.client.get(
            path,
            name=name,
            headers={"X-Forwarded-Proto": "https"},
            allow_redirects=False,
            catch_response=True,
            **kwargs,
        ) as response:
            if response.status_code != expect:
                response.failure(f"{path}: {response.status_code}, not {expect}")
            return response

    def post(self, path: str, data: dict | list, name: str, referer: str, then: str):
        """A form as the browser posts it; a success is a redirect to a path matching the
        regular expression ``then``."""
        with self.client.post(
            path,
            data=urlencode(data),
            name=name,
            headers={
                "X-Forwarded-Proto": "https",
                "Origin": self.origin,
                "Referer": self.origin + referer,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            allow_redirects=False,
            catch_response=True,
        ) as response:
            where = response.headers.get("Location", "")
            if response.status_code != 302:
                found = re.search(r'class="nhsuk-error-summary.*?</div>', response.text or "", re.S)
                problem = re.sub(r"<[^>]+>|\s+", " ", found.group(0))[:300] if found else ""
                response.failure(f"{path}: {response.status_code}, not 302 {problem}")
            elif not re.fullmatch(then, where):
                response.failure(f"{path}: redirected to {where}, not {then}")
            return response

    def sign_in(self):
        """The sign-in page, then the code from the authenticator app when asked (QI
        leads), as the demo's known key makes it."""
        page = self.get("/account/sign-in/", "sign in: page")
        fields = dict(form_on(page.text, "")["fields"])
        fields.update(username=self.account["email"], password=self.account["password"])
        signed_in = self.post(
            "/account/sign-in/", fields, "sign in: password", "/account/sign-in/",
            then=r"/|/account/two-factor/code/",
        )  # fmt: skip
        code_page = signed_in.headers.get("Location", "")
        if code_page != "/account/two-factor/code/":
            return
        page = self.get(code_page, "sign in: code page")
        fields = dict(form_on(page.text, "")["fields"])
        fields["code"] = pyotp.TOTP(self.account.get("totp_secret", "")).now()
        self.post(code_page, fields, "sign in: code", code_page, then="/")


class Coach(Person):
    """A clinical coach: their home page, their room, logs this week's session on the
    session form (attendance, last week's actions, agenda notes, a new action, scores),
    reads it back, moves a PDSA cycle's write-up on and looks at a chart."""

    kind = "coaches"
    fixed_count = COACHES

    def on_start(self):
        super().on_start()
        room = self.account
        # Days before anything seeded, one a session, a separate run of days for each
        # user sharing this room, so no two sessions ever collide on a date.
        self.next_day = date.fromisoformat(room["free_before"]) - timedelta(
            days=1 + 2000 * room["round"]
        )

    @task
    def week(self):
        room = self.account
        self.get("/", "home")
        self.get(f"/rooms/{room['room']}/", "room page")
        new = f"/rooms/{room['room']}/sessions/new/"
        page = self.get(new, "session form")
        if page.status_code != 200:
            return
        saved = self.post(
            new, self.session_fields(page.text, new), "session form: save", new,
            then=r"/sessions/\d+/",
        )  # fmt: skip
        where = saved.headers.get("Location", "")
        if saved.status_code == 302 and "/sessions/" in where:
            self.get(where, "session summary")
        if room.get("pdsa"):
            pdsa = f"/pdsas/{room['pdsa']}/"
            self.get(pdsa, "PDSA page")
            part = f"{pdsa}do/"
            page = self.get(part, "PDSA do: form")
            if page.status_code == 200:
                fields = dict(form_on(page.text, part)["fields"])
                fields["what_happened"] = random.choice(NOTES)
                self.post(part, fields, "PDSA do: save", part, then=r"/pdsas/\d+/")
        self.get(f"/measures/{random.choice(room['measures'])}/", "measure chart")

    def session_fields(self, html: str, action: str) -> list[tuple[str, str]]:
        self.next_day -= timedelta(days=1)
        return session_fields(html, action, self.next_day)


class QILead(Person):
    """A QI lead: the organisation dashboard, the measures summary (two pages of it), and
    one room and one chart picked from it."""

    kind = "qi_leads"
    fixed_count = QI_LEADS

    @task
    def review(self):
        org = self.account
        self.get("/", "home")
        self.get(f"/organisations/{org['organisation']}/dashboard/", "dashboard")
        measures = f"/organisations/{org['organisation']}/measures/"
        self.get(measures, "measures summary")
        self.get(measures + "?page=2", "measures summary")
        self.get(f"/rooms/{random.choice(org['rooms'])}/", "room page")
        self.get(f"/measures/{random.choice(org['measures'])}/", "measure chart")


class FloorCoach(Person):
    """``load_bench.py --floor PATH``: a coach asking for one page again and again, with no
    pause, so the figures say what the stack itself (gunicorn, middleware, session, the
    base template) costs a request under the pages. Never in the mix: it exists only when
    LOAD_FLOOR is set, and then the runner names it alone."""

    abstract = not os.environ.get("LOAD_FLOOR")
    kind = "coaches"
    wait_time = constant(0)

    @task
    def again(self):
        self.get(os.environ["LOAD_FLOOR"], "floor: " + os.environ["LOAD_FLOOR"])


class Feed(FastHttpUser):
    """A data warehouse's feed: a room's integration token upserting the last few weeks
    of one of its measures (values revised, a new week added), as JSON."""

    fixed_count = FEEDS
    # A warehouse sends a batch every few seconds at most, not twice a second: each
    # batch also costs the Celery worker a chart recompute.
    wait_time = between(1, 3)

    def on_start(self):
        self.feed = next_account("feeds")
        self.week = date.fromisoformat(self.feed["latest_week"])

    @task
    def upsert(self):
        measure = random.choice(self.feed["measures"])
        weeks = [self.week - timedelta(weeks=k) for k in range(random.randint(1, 4))]
        points = []
        for week in weeks:
            if measure["proportion"]:
                denominator = random.randint(30, 80)
                numerator = random.randint(0, denominator)
                points.append(
                    {"period": week.isoformat(), "numerator": numerator, "denominator": denominator}
                )
            else:
                points.append(
                    {"period": week.isoformat(), "value": round(random.uniform(5, 50), 1)}
                )
        with self.client.post(
            f"/api/v1/measures/{measure['id']}/points/upsert/",
            json={"points": points},
            name="feed: upsert points",
            headers={
                "Authorization": f"Bearer {self.feed['token']}",
                "X-Forwarded-Proto": "https",
            },
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"upsert: {response.status_code} {response.text[:200]}")
