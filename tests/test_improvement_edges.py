"""The edges of the Model for Improvement pages: double clicks, stale pages, links that
would silently break, and dates shown as people write them."""

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from bigrooms.models import PDSA, BigRoom, ChangeIdea, Driver, Multivote, SpecificAim
from fca.models import User


@pytest.fixture
def coach(client, cast):
    client.force_login(cast.alice)
    return client


@pytest.fixture
def pdsa(cast):
    idea = ChangeIdea.objects.create(room=cast.room, title="Huddle")
    cycle = PDSA.objects.create(room=cast.room, ramp=idea.ramps.create(), number=1,
                                objective="Try it", starts_on=date(2026, 1, 5))  # fmt: skip
    cycle.questions.create(question="Will it work?", prediction="Yes")
    cycle.measures.add(cast.measure)
    return cycle


def test_a_second_click_on_move_does_not_move_the_cycle_twice(coach, pdsa):
    url = reverse("pdsa_move", args=[pdsa.pk])
    coach.post(url, {"status": "planning"})
    response = coach.post(url, {"status": "planning"}, follow=True)
    assert "This cycle is already at Doing: nothing was moved" in response.content.decode()
    pdsa.refresh_from_db()
    assert pdsa.status == "doing"


def test_study_and_act_wait_until_the_cycle_reaches_them(coach, pdsa):
    response = coach.post(
        reverse("pdsa_edit_act", args=[pdsa.pk]), {"decision": "adopt"}, follow=True
    )
    assert "The cycle is at Planning: move it on first." in response.content.decode()
    pdsa.refresh_from_db()
    assert pdsa.decision == ""
    page = coach.get(reverse("pdsa_detail", args=[pdsa.pk])).content.decode()
    assert "Write the Act" not in page and "Change the plan" in page


def test_a_driver_that_a_change_idea_or_measure_hangs_on_is_not_removed(coach, cast):
    driver = Driver.objects.create(room=cast.room, title="Theatre capacity")
    ChangeIdea.objects.create(room=cast.room, title="Huddle").drivers.add(driver)
    cast.measure.driver = driver
    cast.measure.save()
    response = coach.post(reverse("driver_remove", args=[driver.pk]), follow=True)
    assert (
        "“Theatre capacity” is linked to the change idea “Huddle”, the measure “Time to "
        "theatre”: link them elsewhere first" in response.content.decode()
    )
    assert Driver.objects.filter(pk=driver.pk).exists()


def test_renaming_a_change_idea_redraws_the_charts_its_cycles_mark(coach, cast, pdsa):
    before = type(cast.measure).objects.get(pk=cast.measure.pk).data_version
    coach.post(reverse("change_idea_edit", args=[pdsa.ramp.change_idea.pk]),
               {"title": "Daily huddle", "description": ""})  # fmt: skip
    assert type(cast.measure).objects.get(pk=cast.measure.pk).data_version == before + 1


def test_a_room_with_aims_and_a_whole_diagram_can_still_be_deleted(cast, pdsa):
    primary = Driver.objects.create(room=cast.room, title="Primary")
    Driver.objects.create(room=cast.room, title="Secondary", parent=primary)
    SpecificAim.objects.create(room=cast.room, what="x", measure=cast.measure, target=1,
                               target_on=date(2027, 1, 1))  # fmt: skip
    BigRoom.objects.filter(pk=cast.room.pk).delete()
    assert not Driver.objects.exists() and not PDSA.objects.exists()


def test_a_room_has_one_open_multivote_at_most(cast):
    Multivote.objects.create(room=cast.room)
    with pytest.raises(IntegrityError), transaction.atomic():
        Multivote.objects.create(room=cast.room)


def test_a_bad_number_of_votes_is_shown_on_its_field(coach, cast):
    for title in ("One", "Two"):
        cast.room.themes.create(title=title)
    response = coach.post(reverse("multivote_open", args=[cast.room.pk]), {"votes_each": "50"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_votes_each"' in page and "less than or equal to 20" in page


def test_a_task_owner_who_left_the_team_is_kept(coach, cast, pdsa):
    eve = User.objects.create_user("eve@north.nhs.uk", None, full_name="Eve Evans")
    task = pdsa.tasks.create(task="Book the room", owner=eve, due_on=date(2026, 1, 4))
    page = coach.get(reverse("pdsa_edit_plan", args=[pdsa.pk])).content.decode()
    assert f'<option value="{eve.pk}" selected>Eve Evans</option>' in page
    assert 'value="4 Jan 2026"' in page and 'value="5 Jan 2026"' in page  # day first
    assert task.owner == eve


def test_a_specific_aim_is_edited_with_its_date_written_day_first(coach, cast):
    aim = SpecificAim.objects.create(room=cast.room, what="x", measure=cast.measure,
                                     target=1, target_on=date(2027, 3, 31))  # fmt: skip
    page = coach.get(reverse("specific_aim_edit", args=[aim.pk])).content.decode()
    assert 'value="31 Mar 2027"' in page


def test_a_coach_removes_a_specific_aim_a_theme_and_an_untested_change_idea(coach, cast):
    aim = SpecificAim.objects.create(room=cast.room, what="Test aim", measure=cast.measure,
                                     target=1, target_on=date(2027, 1, 1))  # fmt: skip
    theme = cast.room.themes.create(title="Old theme")
    idea = ChangeIdea.objects.create(room=cast.room, title="Untested")
    response = coach.post(reverse("specific_aim_remove", args=[aim.pk]), follow=True)
    assert "The specific aim “Test aim” was removed." in response.content.decode()
    coach.post(reverse("theme_remove", args=[theme.pk]))
    coach.post(reverse("change_idea_remove", args=[idea.pk]))
    assert not SpecificAim.objects.exists() and not cast.room.themes.exists()
    assert not ChangeIdea.objects.exists()


def test_a_change_idea_with_pdsa_cycles_stays(coach, pdsa):
    idea = pdsa.ramp.change_idea
    response = coach.post(reverse("change_idea_remove", args=[idea.pk]), follow=True)
    assert "“Huddle” has PDSA cycles: it stays, with what they taught" in (
        response.content.decode()
    )
    assert ChangeIdea.objects.filter(pk=idea.pk).exists()


def test_a_pdsa_task_reaches_its_owners_actions_and_is_ticked_off(client, cast, pdsa):
    task = pdsa.tasks.create(task="Print the criteria cards", owner=cast.bob,
                             due_on=date(2026, 12, 1))  # fmt: skip
    client.force_login(cast.bob)
    page = client.get(reverse("my_actions")).content.decode()
    assert "Print the criteria cards" in page and "PDSA 1: Huddle" in page
    client.post(reverse("pdsa_task_done", args=[task.pk]))
    task.refresh_from_db()
    assert task.done
    assert 'data-testid="my-pdsa-task"' not in client.get(reverse("my_actions")).content.decode()
    other = pdsa.tasks.create(task="Someone else's", owner=cast.alice)
    assert client.post(reverse("pdsa_task_done", args=[other.pk])).status_code == 403
