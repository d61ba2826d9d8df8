"""The driver diagram: drivers in a tree, change ideas serving several drivers, drawn as a
picture with an outline beside it, downloadable as SVG and PNG."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from bigrooms.models import ChangeIdea, Driver


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


@pytest.fixture
def tree(cast):
    room = cast.room
    review = Driver.objects.create(room=room, title="Early senior review")
    theatre = Driver.objects.create(room=room, title="Theatre capacity")
    rota = Driver.objects.create(room=room, title="Consultant rota", parent=review)
    lists = Driver.objects.create(room=room, title="Trauma list planning", parent=theatre)
    return review, theatre, rota, lists


def test_a_coach_adds_primary_and_secondary_drivers(coach, cast):
    url = reverse("driver_diagram", args=[cast.room.pk])
    coach.post(url, {"title": "Early senior review", "parent": ""})
    review = Driver.objects.get()
    response = coach.post(url, {"title": "Consultant rota", "parent": review.pk})
    assert response.status_code == 302
    rota = Driver.objects.get(title="Consultant rota")
    assert rota.parent == review
    page = coach.get(url).content.decode()
    outline = page[page.index('data-testid="driver-outline"') :]
    assert outline.index("Early senior review") < outline.index("Consultant rota")
    assert f'data-key="driver-{rota.pk}"' in page  # drawn in the picture too


def test_a_change_idea_serves_several_drivers_and_shows_under_each(coach, cast, tree):
    review, theatre, rota, lists = tree
    response = coach.post(
        reverse("change_idea_create", args=[cast.room.pk]),
        {"title": "Daily trauma huddle", "drivers": [rota.pk, lists.pk]},
    )
    assert response.status_code == 302
    idea = ChangeIdea.objects.get()
    assert set(idea.drivers.all()) == {rota, lists}
    page = coach.get(reverse("driver_diagram", args=[cast.room.pk])).content.decode()
    outline = page[page.index('data-testid="driver-outline"') :]
    assert outline.count("Change idea: <a") == 2
    assert page.count(f'data-key="idea-{idea.pk}"') == 1


@pytest.mark.parametrize("under", ["itself", "its own secondary driver"])
def test_a_driver_cannot_go_under_itself_and_nothing_changes(coach, cast, tree, under):
    review, theatre, rota, lists = tree
    parent = review if under == "itself" else rota
    response = coach.post(
        reverse("driver_edit", args=[review.pk]),
        {"title": "Early senior review by a consultant", "parent": parent.pk},
    )
    page = response.content.decode()
    assert response.status_code == 400
    expected = (
        "“Early senior review” cannot go under itself: choose another place"
        if under == "itself"
        else "“Early senior review” cannot go under “Consultant rota”, which is under it: "
        "choose another place"
    )
    assert expected in page
    assert 'value="Early senior review by a consultant"' in page  # the typing is kept
    review.refresh_from_db()
    assert (review.title, review.parent) == ("Early senior review", None)


def test_a_driver_moves_under_another_primary(coach, cast, tree):
    review, theatre, rota, lists = tree
    response = coach.post(
        reverse("driver_edit", args=[rota.pk]), {"title": "Consultant rota", "parent": theatre.pk}
    )
    assert response.status_code == 302
    rota.refresh_from_db()
    assert rota.parent == theatre


def test_a_driver_with_drivers_under_it_is_not_removed(coach, cast, tree):
    review, theatre, rota, lists = tree
    response = coach.post(reverse("driver_remove", args=[review.pk]), follow=True)
    assert "“Early senior review” has 1 driver under it: move or remove them first" in (
        response.content.decode()
    )
    assert Driver.objects.count() == 4
    coach.post(reverse("driver_remove", args=[rota.pk]))
    assert not Driver.objects.filter(pk=rota.pk).exists()


def test_the_diagram_downloads_as_svg_and_png(coach, cast, tree):
    ChangeIdea.objects.create(room=cast.room, title="Daily huddle <now>").drivers.add(tree[2])
    svg = coach.get(reverse("driver_diagram_svg", args=[cast.room.pk]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert "attachment" in svg["Content-Disposition"]
    text = svg.content.decode()
    assert text.lstrip().startswith("<svg") or text.lstrip().startswith("<?xml")
    assert "Daily huddle &lt;now&gt;" in text and "<now>" not in text
    png = coach.get(reverse("driver_diagram_png", args=[cast.room.pk]))
    assert png["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    assert image.width > 400 and image.height > 100


def test_a_reader_sees_the_diagram_but_not_the_forms(client, cast, tree):
    client.force_login(cast.bob)
    page = client.get(reverse("driver_diagram", args=[cast.room.pk])).content.decode()
    assert "Trauma list planning" in page
    assert "Add a driver" not in page and "Change<span" not in page
