import pytest
from django.http import HttpResponse
from django.urls import include, path

from tests import walker


def test_every_url_answers_every_role_as_its_rules_say(cast):
    assert walker.walk(cast) == []


def test_the_walker_covers_every_page_of_the_app(cast):
    names = {route.name for route in walker.routes()}
    assert {"room_detail", "measure_detail", "add_point", "paste_points"} <= names
    assert names == set(walker.RULES)


# Positive control: a view that forgets its access helper, and a page with an
# unregistered parameter, must both be caught.
def leaky_view(request, room_id):
    return HttpResponse("anyone can read this")


urlpatterns = [
    path("", include("fca.urls")),
    path("leaky/<int:room_id>/", leaky_view, name="leaky"),
    path("unknown/<int:widget_id>/", leaky_view, name="unknown_param"),
]


@pytest.mark.urls("tests.test_access_walker")
def test_the_walker_catches_a_view_without_access_checks(cast):
    rules = {**walker.RULES, "leaky": {"GET": "room_read"}, "unknown_param": {"GET": "room_read"}}
    problems = walker.walk(cast, rules=rules)
    assert f"GET /leaky/{cast.room.pk}/ as charlie: got ok, expected 404" in problems
    assert f"GET /leaky/{cast.room.pk}/ as anonymous: got ok, expected sign in" in problems
    assert "unknown_param: no id registered for widget_id" in problems


@pytest.mark.urls("tests.test_access_walker")
def test_the_walker_fails_a_page_without_a_rule(cast):
    problems = walker.walk(cast)
    assert "leaky: no rule in the walker; add one" in problems
