"""Every answer the service gives carries its security headers: a Content-Security-Policy
that runs no inline script and lets no site frame the page, no MIME sniffing, a referrer
policy, frame denial, and no-store for anything shown to a signed-in person. Walked over
every URL the access walker walks (as anonymous, as someone the page serves and as
someone it refuses), the API with a token, static files, error pages and a server error.
In production, HTTPS answers carry HSTS with the configured max-age.

Meeting mode is a full page on the room's screen, never framed (no template or script
embeds a frame), so frames are denied everywhere."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse
from rest_framework.test import APIClient

from fca.tokens import create_token
from tests import walker
from tests.test_security import PRODUCTION, ROOT


def _directives(policy: str) -> dict[str, list[str]]:
    found = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0].lower()] = words[1:]
    return found


def header_problems(response, *, signed_in: bool) -> list[str]:
    """What is missing or wrong in one response's headers, in words."""
    problems = []
    policy = response.get("Content-Security-Policy")
    if policy is None:
        problems.append("no Content-Security-Policy")
    else:
        directives = _directives(policy)
        script = directives.get("script-src", directives.get("default-src", []))
        if not script or {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(script):
            problems.append(f"script-src is {' '.join(script) or 'missing'}")
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append(f"frame-ancestors is {directives.get('frame-ancestors')}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"X-Content-Type-Options is {response.get('X-Content-Type-Options')}")
    if response.get("Referrer-Policy") != settings.SECURE_REFERRER_POLICY:
        problems.append(f"Referrer-Policy is {response.get('Referrer-Policy')}")
    if response.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options is {response.get('X-Frame-Options')}")
    if signed_in and "no-store" not in response.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {response.get('Cache-Control')} for a signed-in person")
    return problems


def _roles_for(kind: str | None) -> list[str]:
    """Anonymous, someone the page serves, and someone it refuses (403 and 404 if any)."""
    if kind is None:  # a method the page does not take: 405
        return ["anonymous", "alice"]
    chosen = ["anonymous"]
    for wanted in ("ok", 403, 404):
        role = next((r for r in walker.ROLES[1:] if walker.KINDS[kind](r) == wanted), None)
        if role is not None:
            chosen.append(role)
    return chosen


def walk_headers(cast) -> list[str]:
    problems = []
    ids = walker.ids_for(cast)
    for route in walker.routes():
        if route.name not in walker.RULES or any(p not in ids for p in route.params):
            continue  # the access walker fails these itself
        clients = walker._clients(cast)  # afresh for each page: signing out ends a session
        for method in walker.METHODS:
            kind = walker.RULES[route.name].get(method)
            for role in _roles_for(kind):
                values = {**ids, **walker.FRESH[route.name](cast)} if route.name in (
                    walker.FRESH) else ids  # fmt: skip
                url = reverse(route.name, kwargs={p: values[p] for p in route.params})
                response = clients[role].generic(method, url)
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)  # a download: read it to its end
                signed_in = role != "anonymous" and response.wsgi_request.user.is_authenticated
                for problem in header_problems(response, signed_in=signed_in):
                    problems.append(f"{method} {url} as {role} ({response.status_code}): {problem}")
    return problems


def test_every_page_of_the_walk_carries_the_security_headers(cast):
    assert walk_headers(cast) == []


def test_the_api_with_a_token_carries_them_and_is_not_stored(cast):
    _, token = create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for url in (reverse("api_room_detail", args=[cast.room.pk]),
                reverse("api_measure_detail", args=[cast.measure.pk]),
                reverse("api_room_detail", args=[cast.other_room.pk])):  # fmt: skip
        response = client.get(url)
        assert header_problems(response, signed_in=True) == [], (url, response.status_code)
    # No API view answers an unknown path: Django's 404, which holds nothing to store.
    assert header_problems(client.get("/api/v1/nowhere/"), signed_in=False) == []
    anonymous = APIClient().get(reverse("api_room_detail", args=[cast.room.pk]))
    assert anonymous.status_code == 401
    assert header_problems(anonymous, signed_in=False) == []


@pytest.mark.parametrize("who", ["anonymous", "alice"])
@pytest.mark.parametrize(
    ("url", "status"),
    [("/no/such/page/", 404), ("/media/rooms/1/flipchart.png", 404),
     ("/static/js/app.js", 200), ("/static/no-such-file.js", 404)],
)  # fmt: skip
def test_static_files_media_and_missing_pages_carry_them(cast, url, status, who):
    client = Client()
    if who == "alice":
        client.force_login(cast.alice)
    response = client.get(url)
    assert response.status_code == status
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    # A static file is the same for everyone, and may be cached; a page may not.
    signed_in = who == "alice" and not url.startswith("/static/")
    assert header_problems(response, signed_in=signed_in) == []


def broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("", include("fca.urls")),
    path("broken/", broken_view),
]


@pytest.mark.urls("tests.test_security_headers")
def test_the_server_error_page_carries_them(cast):
    client = Client(raise_request_exception=False)
    client.force_login(cast.alice)
    response = client.get("/broken/")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()
    assert header_problems(response, signed_in=True) == []


def test_the_checker_catches_a_page_without_its_headers(db):
    bare = HttpResponse("framed and sniffed")
    assert header_problems(bare, signed_in=True) == [
        "no Content-Security-Policy", "X-Content-Type-Options is None",
        "Referrer-Policy is None", "X-Frame-Options is None",
        "Cache-Control is None for a signed-in person",
    ]  # fmt: skip
    bare["Content-Security-Policy"] = "default-src 'self'; script-src 'self' 'unsafe-inline'"
    assert header_problems(bare, signed_in=False)[:2] == [
        "script-src is 'self' 'unsafe-inline'",
        "frame-ancestors is None",
    ]


# --- Production: HSTS over HTTPS ---------------------------------------------------------

PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
out = {}
# The health check draws no page, so no collected static files are needed (a clean
# checkout has none); plain http asks for a page, to be sent to https.
for name, secure, path in (("https", "https", "/health/"), ("http", "http", "/account/sign-in/")):
    response = client.get(path, HTTP_HOST="bigrooms.example.nhs.uk",
                          HTTP_X_FORWARDED_PROTO=secure)
    out[name] = {"status": response.status_code, "headers": dict(response.headers)}
print(json.dumps(out))
"""


def test_production_sends_hsts_over_https_with_the_configured_max_age():
    env = {**PRODUCTION, "SECURE_HSTS_SECONDS": "12345", "DJANGO_SETTINGS_MODULE": "fca.settings"}
    unwanted = ("DJANGO_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL")
    clean = {k: v for k, v in os.environ.items() if k not in unwanted}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env},
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    https = answers["https"]
    assert https["status"] == 200
    hsts = https["headers"]["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=12345; includeSubDomains", hsts), hsts
    assert https["headers"]["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in https["headers"]["Content-Security-Policy"]
    # Plain HTTP is sent to HTTPS, and never told HSTS (browsers ignore it there).
    assert answers["http"]["status"] == 301
    assert answers["http"]["headers"]["Location"].startswith("https://bigrooms.example.nhs.uk/")
    assert "Strict-Transport-Security" not in answers["http"]["headers"]
