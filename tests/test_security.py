"""Security from day one: deploy checks, refusing unsafe production settings, CSP."""

import os
import re
import subprocess
import sys
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "FCA_ENVIRONMENT": "production",
    "SECRET_KEY": "x" * 20 + "a-long-random-secret-for-the-deploy-check-0123456789",
    "ALLOWED_HOSTS": "bigrooms.example.nhs.uk",
    "DATABASE_URL": "sqlite:////tmp/fca-deploy-check.sqlite3",
}


def _manage(*args, env):
    # The browser tests' async switch belongs to the test process, not to a deployment.
    unwanted = ("DJANGO_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in unwanted}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_passes_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", env={**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _manage("check", env={**PRODUCTION, "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set in production" in result.stderr


def test_a_malformed_setting_fails_loudly():
    result = _manage("check", env={"DJANGO_DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false, not 'perhaps'" in result.stderr


def test_the_demo_refuses_production_settings():
    result = _manage("load_demo", env=PRODUCTION)
    assert result.returncode != 0
    assert "refuses production settings" in result.stderr


def test_pages_carry_a_policy_that_allows_no_inline_script(client, cast):
    client.force_login(cast.alice)
    for url in ("/", reverse("login"), reverse("measure_detail", args=[cast.measure.pk])):
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", policy)[1]
        assert script_src.strip() == "'self'"
        assert "frame-ancestors 'none'" in policy
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_error_pages_use_the_service_layout(client, cast):
    client.force_login(cast.charlie)
    response = client.get(reverse("room_detail", args=[cast.room.pk]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    client.force_login(cast.bob)
    response = client.get(reverse("measure_create", args=[cast.room.pk]))
    assert response.status_code == 403
    assert "You cannot do this" in response.content.decode()


def test_the_health_check_answers_without_sign_in(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_server_error_page_renders_even_without_the_request_context(rf, db):
    from fca.errors import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()
