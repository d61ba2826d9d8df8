"""CPU and SQL queries a page costs the app server, one request at a time, in process.

The load benchmark (load_bench.py) says how many requests a second the whole machine
answers; this says which page costs what, and why. Against the database load_bench.py
seeds and keeps (`--reuse-db`, database fca_load), with the production settings, signed in
as a seeded coach and a QI lead, each page of the load mix is fetched through Django's
test client: warmed up, then timed (process CPU, so waiting for PostgreSQL is not
counted), with its SQL queries counted on a separate run. `--profile NAME` prints
cProfile's hottest functions for one page.

Run:  .bench-venv/bin/python bench/load_bench.py --duration 10s --reuse-db   (seeds once)
      .bench-venv/bin/python bench/page_cpu.py [--runs 30] [--profile "room page"]
"""

import argparse
import cProfile
import json
import os
import pstats
import secrets
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
# What the run adds, deleted at the end (the session it logs, the feed's token and the
# one value it upserts), so the database stays as load_bench.py left it, but for the Do
# part of one PDSA cycle, saved again with the same words each run.
CLEAN_UP = {"sessions": [], "tokens": [], "points": []}
# The project's own code and templates, in cProfile's file names.
OURS = r"/(fca|bigrooms|measures|pathways)/|templatetags|defaulttags|loader_tags"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", help="a page's name: print cProfile's hottest code")
    parser.add_argument("--only", help="only pages whose name contains this")
    parser.add_argument("--callers", help="with --profile: who calls functions matching this")
    parser.add_argument("--sql", action="store_true", help="print each page's queries")
    args = parser.parse_args()
    server = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fca"))
    os.environ.update(
        FCA_ENVIRONMENT="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="testserver,127.0.0.1",
        DATABASE_URL=server._replace(path="/fca_load").geturl(),
        DATABASE_CONN_MAX_AGE="60",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
        LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="fca.settings",
    )
    os.environ.pop("DJANGO_DEBUG", None)
    import django

    django.setup()
    pages = build_pages()
    try:
        time_pages(pages, args)
    finally:
        from bigrooms.models import Session
        from fca.models import ApiToken
        from measures.models import DataPoint

        Session.objects.filter(pk__in=CLEAN_UP["sessions"]).delete()
        ApiToken.objects.filter(pk__in=CLEAN_UP["tokens"]).delete()
        for measure_id, period in CLEAN_UP["points"]:
            DataPoint.objects.filter(measure_id=measure_id, period=period).delete()


def time_pages(pages, args) -> None:
    if args.only:
        pages = [p for p in pages if args.only in p.name]
    print(f"{'page':<28}{'CPU ms (median)':>16}{'min':>8}{'queries':>9}")
    for page in pages:
        if args.profile and page.name != args.profile:
            continue
        for _ in range(3):
            page.fetch()
        times = []
        for _ in range(args.runs):
            started = time.process_time()
            page.fetch()
            times.append((time.process_time() - started) * 1000)
        times.sort()
        print(
            f"{page.name:<28}{times[len(times) // 2]:>16.1f}{times[0]:>8.1f}{count(page, args.sql):>9}"
        )
        if args.profile:
            profile = cProfile.Profile(time.process_time)  # CPU, not waiting on PostgreSQL
            profile.enable()
            for _ in range(args.runs):
                page.fetch()
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats("cumulative").print_stats(OURS, 40)
            stats.strip_dirs().sort_stats("tottime").print_stats(25)
            if args.callers:
                stats.print_callers(args.callers)


def count(page, show: bool = False) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page.fetch()
    if show:
        for query in queries:
            print("   ", query["sql"][:300])
    return len(queries)


def build_pages() -> list:
    from datetime import timedelta

    from django.db.models import Min
    from django.test import Client

    from bigrooms.models import PDSA, BigRoom, RoomMembership
    from fca.models import User

    room = (
        BigRoom.objects.filter(status=BigRoom.Status.ACTIVE, pdsas__status=PDSA.Status.DOING)
        .order_by("pk")
        .first()
    )
    coach = room.memberships.get(role=RoomMembership.Role.CLINICAL_COACH).user
    pdsa = room.pdsas.filter(status=PDSA.Status.DOING).first()
    measure = room.measures.order_by("pk").first()
    single = room.measures.filter(shape="value", source="entered").order_by("pk").first()
    lead = User.objects.get(email="qi-lead-1@seed.example")
    org = room.host_id

    def client_for(user):
        client = Client(HTTP_X_FORWARDED_PROTO="https")
        client.force_login(user)
        return client

    as_coach, as_lead = client_for(coach), client_for(lead)
    api = Client()  # one client: each new one loads the middleware (WhiteNoise scans)
    # The load mix's form filling, so the session posted is the one the load posts.
    from loadforms import form_on, session_fields

    def get(client, path):
        def fetch():
            response = client.get(path, secure=True)
            assert response.status_code == 200, (path, response.status_code)

        return fetch

    logged = CLEAN_UP["sessions"]

    def save_session():
        new = f"/rooms/{room.pk}/sessions/new/"
        html = as_coach.get(new, secure=True).content.decode()
        # The day before the room's first session: never taken, and a history that
        # grows by a day, not years. The session is deleted again after the run.
        day = room.sessions.aggregate(first=Min("held_on"))["first"] - timedelta(days=1)
        response = as_coach.post(new, dict(session_fields(html, new, day)), secure=True)
        assert response.status_code == 302, response.content.decode()[:2000]
        logged.append(int(response["Location"].strip("/").rsplit("/", 1)[1]))

    def save_do():
        part = f"/pdsas/{pdsa.pk}/do/"
        html = as_coach.get(part, secure=True).content.decode()
        fields = dict(form_on(html, part)["fields"])
        fields["what_happened"] = "Tried it on the ward."
        response = as_coach.post(part, fields, secure=True)
        assert response.status_code == 302

    def upsert():
        from fca.models import ApiToken
        from fca.tokens import create_token

        if not hasattr(upsert, "token"):
            token, upsert.token = create_token(
                user=coach, name="page_cpu", kind=ApiToken.Kind.INTEGRATION, room=room
            )
            CLEAN_UP["tokens"].append(token.pk)
            if not single.points.filter(period="2020-01-06").exists():
                CLEAN_UP["points"].append((single.pk, "2020-01-06"))
        response = api.post(
            f"/api/v1/measures/{single.pk}/points/upsert/",
            json.dumps({"points": [{"period": "2020-01-06", "value": 12.5}]}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {upsert.token}",
            secure=True,
        )
        assert response.status_code == 200, response.content[:500]

    sessions = room.sessions.order_by("-held_on").values_list("pk", flat=True)
    return [
        Page("home (coach)", get(as_coach, "/")),
        Page("room page (coach)", get(as_coach, f"/rooms/{room.pk}/")),
        Page("session form", get(as_coach, f"/rooms/{room.pk}/sessions/new/")),
        Page("session form + save", save_session),
        Page("session summary", get(as_coach, f"/sessions/{sessions[0]}/")),
        Page("PDSA page", get(as_coach, f"/pdsas/{pdsa.pk}/")),
        Page("PDSA do: form", get(as_coach, f"/pdsas/{pdsa.pk}/do/")),
        Page("PDSA do: form + save", save_do),
        Page("measure chart", get(as_coach, f"/measures/{measure.pk}/")),
        Page("home (QI lead)", get(as_lead, "/")),
        Page("dashboard", get(as_lead, f"/organisations/{org}/dashboard/")),
        Page("measures summary", get(as_lead, f"/organisations/{org}/measures/")),
        Page("measures summary p2", get(as_lead, f"/organisations/{org}/measures/?page=2")),
        Page("room page (QI lead)", get(as_lead, f"/rooms/{room.pk}/")),
        Page("feed upsert", upsert),
    ]


class Page(SimpleNamespace):
    def __init__(self, name, fetch):
        super().__init__(name=name, fetch=fetch)


if __name__ == "__main__":
    main()
