"""The API's OpenAPI schema and Swagger UI (the explorer at /api/docs/try/): generated,
valid, and for signed-in people."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import PASSWORD


def test_the_schema_generates_valid_without_a_warning():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--format=openapi-json",
                 stdout=out)  # fmt: skip
    assert '"operationId": "session_log"' in out.getvalue()


def test_the_schema_and_docs_are_behind_sign_in(client, db):
    assert client.get(reverse("api_schema")).status_code == 401
    for name in ("api_docs", "api_docs_try"):
        docs = client.get(reverse(name))
        assert docs.status_code == 302
        assert docs["Location"].startswith(reverse("login"))
    assert client.get(reverse("api_docs_try") + "?script=").status_code == 302


def test_a_signed_in_person_reads_the_schema_and_docs(client, cast):
    client.force_login(cast.bob)
    schema = client.get(reverse("api_schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    body = schema.json()
    assert body["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    paths = body["paths"]
    assert "/api/v1/rooms/{room_id}/sessions/new/" in paths
    log = paths["/api/v1/rooms/{room_id}/sessions/new/"]["post"]
    assert {"201", "400", "401", "403", "404", "429"} <= set(log["responses"])
    assert log["parameters"][0]["schema"] == {"type": "integer", "minimum": 1}
    docs = client.get(reverse("api_docs_try"))
    assert docs.status_code == 200
    page = docs.content.decode()
    # No inline script for the content security policy to refuse, and nothing from a CDN.
    assert "<script>" not in page and "cdn" not in page.lower()
    assert "swagger-ui-dist/swagger-ui-bundle.js" in page
    script = client.get(reverse("api_docs_try") + "?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.browser
def test_the_explorer_draws_under_the_content_security_policy(browser, live_server, cast):
    """Swagger UI (/api/docs/try/), from our own static files, draws every operation in a
    real browser with no script error and no content security policy refusal. (Not through
    the ``web`` fixture: Swagger UI's own markup has axe findings that are not ours to fix;
    our own reference at /api/docs/ is axe-checked in tests/test_api_docs.py.)"""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(live_server.url + reverse("api_docs_try"))
    page.get_by_label("Email address").fill(cast.bob.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator(".opblock").first.wait_for(timeout=15_000)
    operations = page.locator(".opblock").count()
    assert page.evaluate("document.documentElement.lang") == "en-GB"
    context.close()
    assert operations >= 20
    assert errors == []
