"""Themes from the 5Vs, and a multivote that ranks them and keeps the result with its date."""

import pytest
from django.urls import reverse
from django.utils import timezone

from bigrooms.models import Multivote, Theme, Vote


@pytest.fixture
def themes(cast):
    return [
        Theme.objects.create(room=cast.room, title=title, source="value")
        for title in ("Waits for theatre", "Weekend discharges", "Delirium screening")
    ]


def test_a_coach_adds_a_theme_from_the_5vs(client, cast):
    client.force_login(cast.alice)
    url = reverse("room_themes", args=[cast.room.pk])
    response = client.post(url, {"title": "Waits for theatre", "source": "evidence"})
    assert response.status_code == 302
    theme = cast.room.themes.get()
    assert theme.get_source_display() == "eVidence"
    assert "Waits for theatre" in client.get(url).content.decode()


def test_a_theme_with_the_same_name_is_refused_and_the_typing_kept(client, cast, themes):
    client.force_login(cast.alice)
    response = client.post(
        reverse("room_themes", args=[cast.room.pk]),
        {"title": "waits for THEATRE", "description": "Again"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The room already has a theme called “waits for THEATRE”" in page
    assert "\nAgain</textarea>" in page or ">Again</textarea>" in page
    assert cast.room.themes.count() == 3


def test_members_spread_their_votes_and_the_ranking_follows(client, cast, themes):
    client.force_login(cast.alice)
    response = client.post(reverse("multivote_open", args=[cast.room.pk]), {"votes_each": "3"})
    vote = Multivote.objects.get()
    assert response["Location"] == reverse("multivote_detail", args=[vote.pk])
    url = reverse("multivote_detail", args=[vote.pk])
    waits, weekends, delirium = themes
    client.post(url, {f"theme_{waits.pk}": "2", f"theme_{delirium.pk}": "1"})
    client.force_login(cast.bob)
    client.post(url, {f"theme_{weekends.pk}": "3"})
    client.force_login(cast.dana)
    client.post(url, {f"theme_{waits.pk}": "1", f"theme_{weekends.pk}": "1"})
    # Bob changes his mind: his votes are replaced, not added.
    client.force_login(cast.bob)
    client.post(url, {f"theme_{weekends.pk}": "1", f"theme_{delirium.pk}": "2"})
    page = client.get(url).content.decode()
    assert "3 people have voted so far" in page
    ranking = [row["title"] for row in _tally(vote)]
    assert ranking == ["Waits for theatre", "Delirium screening", "Weekend discharges"]


def _tally(vote):
    from bigrooms.services import tally

    return tally(vote)


def test_more_votes_than_each_person_has_are_refused_and_earlier_votes_stay(client, cast, themes):
    vote = Multivote.objects.create(room=cast.room, votes_each=3)
    url = reverse("multivote_detail", args=[vote.pk])
    client.force_login(cast.bob)
    client.post(url, {f"theme_{themes[0].pk}": "3"})
    response = client.post(url, {f"theme_{themes[0].pk}": "3", f"theme_{themes[1].pk}": "2"})
    assert response.status_code == 400
    assert "You gave 5 votes: each person has 3" in response.content.decode()
    assert list(Vote.objects.values_list("theme__title", "count")) == [("Waits for theatre", 3)]


def test_closing_keeps_the_ranking_with_its_date_even_when_themes_change(client, cast, themes):
    vote = Multivote.objects.create(room=cast.room, votes_each=3)
    Vote.objects.create(multivote=vote, voter=cast.bob, theme=themes[1], count=3)
    client.force_login(cast.alice)
    client.post(reverse("multivote_close", args=[vote.pk]))
    vote.refresh_from_db()
    assert vote.closed_on == timezone.localdate()
    assert vote.result[0] == {
        "theme_id": themes[1].pk, "title": "Weekend discharges", "votes": 3, "voters": 1,
        "rank": 1,
    }  # fmt: skip
    themes[1].title = "Discharges at weekends"
    themes[1].save()
    page = client.get(reverse("multivote_detail", args=[vote.pk])).content.decode()
    assert "Weekend discharges" in page
    # A closed vote takes no more votes.
    client.force_login(cast.dana)
    response = client.post(
        reverse("multivote_detail", args=[vote.pk]), {f"theme_{themes[0].pk}": "1"}
    )
    assert "This multivote has closed" in response.content.decode()
    assert vote.votes.count() == 1


def test_a_second_multivote_waits_for_the_first_to_close(client, cast, themes):
    Multivote.objects.create(room=cast.room)
    client.force_login(cast.alice)
    response = client.post(
        reverse("multivote_open", args=[cast.room.pk]), {"votes_each": "3"}, follow=True
    )
    assert "A multivote is already open: close it first" in response.content.decode()
    assert Multivote.objects.count() == 1


def test_a_viewer_reads_the_ranking_but_cannot_vote(client, cast, themes):
    vote = Multivote.objects.create(room=cast.room)
    client.force_login(cast.quinn)
    url = reverse("multivote_detail", args=[vote.pk])
    page = client.get(url).content.decode()
    assert "The ranking so far" in page and "Save my votes" not in page
    assert client.post(url, {f"theme_{themes[0].pk}": "1"}).status_code == 403


def test_tied_themes_share_a_rank(cast, themes):
    from bigrooms.services import tally

    vote = Multivote.objects.create(room=cast.room)
    Vote.objects.create(multivote=vote, voter=cast.bob, theme=themes[2], count=2)
    assert [(r["rank"], r["title"]) for r in tally(vote)] == [
        (1, "Delirium screening"), (2, "Waits for theatre"), (2, "Weekend discharges")
    ]  # fmt: skip
