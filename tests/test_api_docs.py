"""The API reference at /api/docs/: our own page, made from the generated OpenAPI schema,
for signed-in people, accessible (axe) and usable on a phone."""

import re

import pytest
from django.urls import reverse

from fca import api_docs

METHODS = {"get", "post", "put", "patch", "delete"}


def _schema_operations() -> set[tuple[str, str, str]]:
    """(method, path, operationId) for every operation the generated schema holds."""
    return {
        (method.upper(), path, spec["operationId"])
        for path, methods in api_docs.openapi_schema()["paths"].items()
        for method, spec in methods.items()
        if method in METHODS
    }


def test_the_reference_needs_sign_in(client, db):
    for name in ("api_docs", "api_docs_try"):
        answer = client.get(reverse(name))
        assert answer.status_code == 302
        assert answer["Location"].startswith(reverse("login"))


def test_the_reference_lists_every_operation_in_the_schema(client, cast):
    client.force_login(cast.bob)
    answer = client.get(reverse("api_docs"))
    assert answer.status_code == 200
    page = answer.content.decode()
    shown = set(
        re.findall(
            r'data-operation-id="([^"]+)">\s*<h3[^>]*>[^<]*</h3>\s*'
            r'<p class="app-api-endpoint" data-testid="endpoint">'
            r'<strong class="nhsuk-tag[^"]*">(\w+)</strong> <code>([^<]+)</code>',
            page,
        )
    )
    expected = {(op_id, method, path) for method, path, op_id in _schema_operations()}
    assert len(expected) >= 20
    assert shown == expected
    # Each operation is in the contents, linked to its own heading.
    for _, _, op_id in _schema_operations():
        assert f'href="#op-{op_id}"' in page and f'id="op-{op_id}"' in page


def test_an_operation_shows_its_parameters_body_responses_and_an_example(client, cast):
    client.force_login(cast.alice)
    page = client.get(reverse("api_docs")).content.decode()
    start = page.index('data-operation-id="session_log"')
    log = page[start : page.index('data-testid="operation"', start)]
    assert "/api/v1/rooms/{room_id}/sessions/new/" in log
    assert "Log a session, as the room&#x27;s coach does on the session page" in log
    assert "<code>room_id</code>" in log  # a path parameter
    assert "<code>attendance[].user_id</code>" in log  # a nested body field, flattened
    assert "date (YYYY-MM-DD)" in log
    assert "From 0 to 200. Default 0." in log  # guests' limits
    assert "Default &quot;in_room&quot;." in log  # escaped once, not twice
    assert "or <code>problems</code>, a list of messages" in log  # `problems` as code
    assert "<strong>201</strong>" in log and "<strong>429</strong>" in log
    assert "Refused (403): use a personal token" in log
    assert "Authorization: Bearer $TOKEN" in log
    assert "http://testserver/api/v1/rooms/1/sessions/new/" in log
    # Who may call it, where the schema says; and feed tokens where the view allows them.
    start = page.index('data-operation-id="session_scores"')
    scores = page[start : page.index('data-testid="operation"', start)]
    assert "Its coaches and whoever held one of its roles" in scores
    start = page.index('data-operation-id="point_upsert"')
    upsert = page[start : page.index('data-testid="operation"', start)]
    assert "Accepted, for their own room or pathway" in upsert
    assert "&quot;value&quot;: 31.5" in upsert


def test_the_reference_links_the_explorer_and_the_raw_schema(client, cast):
    client.force_login(cast.bob)
    page = client.get(reverse("api_docs")).content.decode()
    assert f'href="{reverse("api_docs_try")}"' in page
    assert "may not meet accessibility standards" in page
    for fmt, kind in (("json", "application/vnd.oai.openapi+json"),
                      ("yaml", "application/vnd.oai.openapi")):  # fmt: skip
        link = f"{reverse('api_schema')}?format={fmt}"
        assert f'href="{link}"' in page
        raw = client.get(link)
        assert raw.status_code == 200 and raw["Content-Type"].startswith(kind)
    # No inline script or style for the content security policy to refuse.
    assert "<script>" not in page and "style=" not in page


def test_the_schema_is_generated_once_a_process(db):
    first = api_docs.openapi_schema()
    assert api_docs.openapi_schema() is first
    assert "session_log" in {op for _, _, op in _schema_operations()}


@pytest.mark.browser
def test_the_reference_passes_axe_and_fits_a_phone(web, cast):
    web.sign_in(cast.bob.email, next_path=reverse("api_docs"))
    page = web.page
    assert page.get_by_role("heading", level=1, name="API reference").is_visible()
    page.get_by_role(
        "link", name="Log a session, as the room's coach does on the session page"
    ).click()
    heading = page.locator("#op-session_log")
    heading.wait_for()
    assert heading.is_visible()
    endpoint = page.locator('[data-operation-id="session_log"] [data-testid="endpoint"]')
    assert endpoint.inner_text() == "POST /api/v1/rooms/{room_id}/sessions/new/"
    web.check()

    page.set_viewport_size({"width": 375, "height": 800})
    web.check()
    sideways = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert sideways <= 0, f"the page scrolls sideways by {sideways}px on a phone"
    # Nothing pokes out of the viewport except inside a table's own scroll region.
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.app-table-scroll'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert overflowing == []
