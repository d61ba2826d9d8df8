"""In a real browser, on a desktop and on a phone: every page of the Model for Improvement
passes axe, and none is wider than the screen (the diagram scrolls inside its own box)."""

import pytest
from django.urls import reverse

from tests.walker import RULES, _improvement_ids, routes

pytestmark = pytest.mark.browser

PAGES = [
    "room_themes", "multivote_detail", "room_aims", "specific_aim_create", "specific_aim_edit",
    "driver_diagram", "driver_edit", "change_idea_create", "change_idea_detail",
    "change_idea_edit", "pdsa_create", "room_pdsas", "pdsa_detail", "pdsa_edit_plan",
    "pdsa_edit_do", "pdsa_edit_study", "pdsa_edit_act", "room_detail",
]  # fmt: skip


def test_every_improvement_page_passes_axe_on_a_desktop_and_a_phone(web, cast, transactional_db):
    ids = {"room_id": cast.room.pk, **_improvement_ids(cast)}
    pdsa = cast.room.pdsas.get()
    pdsa.status = "acting"  # so every part's page is open
    pdsa.save()
    pdsa.questions.create(question="Will it work?", prediction="Yes")
    pdsa.measures.add(cast.measure)
    params = {route.name: route.params for route in routes()}
    urls = []
    for name in PAGES:
        assert "GET" in RULES[name]
        urls.append(reverse(name, kwargs={p: ids[p] for p in params[name]}))
    web.sign_in(cast.alice.email)
    for width in (1280, 390):
        web.page.set_viewport_size({"width": width, "height": 900})
        for url in urls:
            web.goto(url)
            overflow = web.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{url} is {overflow}px wider than a {width}px screen"
    web.assert_every_page_checked()
