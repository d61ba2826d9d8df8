"""Care pathways: a QI lead adds one with its steps; settings; a room works on one; who
may read and change it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from pathways.models import Episode, Pathway, Step


@pytest.fixture
def pathway(cast):
    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture", not_discharges=["died"])
    cast.room.pathway = pathway
    cast.room.save()
    return pathway


def test_a_qi_lead_adds_a_pathway_and_its_steps(client, cast):
    client.force_login(cast.quinn)
    response = client.post(reverse("pathway_create"), {
        "host": cast.north.pk, "name": "Hip fracture", "specialty": "Trauma and orthopaedics",
    })  # fmt: skip
    pathway = Pathway.objects.get()
    assert response["Location"] == reverse("pathway_steps", args=[pathway.pk])
    assert pathway.not_discharges == ["died"]
    url = reverse("pathway_steps", args=[pathway.pk])
    client.post(url, {"name": "Orthogeriatric review", "code": "ortho_review",
                      "standard_hours": "72"})  # fmt: skip
    client.post(url, {"name": "Theatre", "code": "theatre", "standard_hours": "36"})
    steps = list(pathway.steps.values_list("slot", "code", "standard_hours"))
    assert steps == [(1, "ortho_review", 72.0), (2, "theatre", 36.0)]
    page = client.get(reverse("pathway_detail", args=[pathway.pk])).content.decode()
    flow = page[page.index('data-testid="pathway-steps"') :]
    assert flow.index("Arrival") < flow.index("Orthogeriatric review") < flow.index("Theatre")
    assert "within 36 hours" in flow


def test_only_a_qi_lead_adds_a_pathway(client, cast):
    client.force_login(cast.alice)
    assert client.get(reverse("pathway_create")).status_code == 403


def test_a_pathway_name_is_unique_in_its_organisation(client, cast, pathway):
    client.force_login(cast.quinn)
    response = client.post(reverse("pathway_create"), {"host": cast.north.pk,
                                                       "name": "hip FRACTURE"})  # fmt: skip
    assert response.status_code == 400
    assert "North Acute NHS Trust already has a pathway called “hip FRACTURE”" in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("arrived_at", "“arrived_at” is already a column of every episode file"),
        ("Theatre Time", "Use lower-case letters, digits and underscores"),
        ("theatre", "The pathway already has a step with the code “theatre”"),
    ],
)
def test_a_step_code_must_make_a_good_column_name(client, cast, pathway, code, message):
    Step.objects.create(pathway=pathway, code="theatre", name="Theatre", slot=1)
    client.force_login(cast.quinn)
    response = client.post(reverse("pathway_steps", args=[pathway.pk]),
                           {"name": "Step", "code": code})  # fmt: skip
    assert response.status_code == 400
    assert message in response.content.decode()
    assert pathway.steps.count() == 1


def test_a_pathway_has_at_most_eight_steps(client, cast, pathway):
    for slot in range(1, 9):
        Step.objects.create(pathway=pathway, code=f"step{slot}", name=f"Step {slot}", slot=slot)
    client.force_login(cast.quinn)
    page = client.get(reverse("pathway_steps", args=[pathway.pk])).content.decode()
    assert "The pathway has 8 steps, the most it can have." in page
    response = client.post(reverse("pathway_steps", args=[pathway.pk]),
                           {"name": "Ninth", "code": "ninth"})  # fmt: skip
    assert "A pathway has at most 8 steps" in response.content.decode()


def test_removing_a_step_removes_its_times_from_every_episode(client, cast, pathway):
    step = Step.objects.create(pathway=pathway, code="theatre", name="Theatre", slot=1)
    now = timezone.now()
    Episode.objects.create(pathway=pathway, episode_id="A1", arrived_at=now, step_1=now,
                           loaded_at=now)  # fmt: skip
    client.force_login(cast.quinn)
    page = client.get(reverse("step_remove", args=[step.pk])).content.decode()
    assert "removed from the 1 episode that holds one" in page
    client.post(reverse("step_remove", args=[step.pk]))
    assert Episode.objects.get().step_1 is None
    assert not pathway.steps.exists()


def test_settings_are_checked_and_saved(client, cast, pathway):
    client.force_login(cast.quinn)
    url = reverse("pathway_settings", args=[pathway.pk])
    data = {
        "name": "Hip fracture", "specialty": "", "description": "", "metrics": ["los_median_hours",
        "stranded"], "los_threshold_hours": "72", "stranded_days": "7",
        "super_stranded_days": "7", "not_discharges": "died, Transferred abroad, died",
        "data_lag_weeks": "1", "min_weekly_n": "10", "keep_episodes_months": "36",
    }  # fmt: skip
    response = client.post(url, data)
    assert "Super-stranded must be longer than stranded (7 days)" in response.content.decode()
    data["super_stranded_days"] = "21"
    client.post(url, data)
    pathway.refresh_from_db()
    assert pathway.metrics == ["los_median_hours", "stranded"]
    assert pathway.not_discharges == ["died", "Transferred abroad"]
    assert pathway.data_version == 1


def test_a_coach_chooses_the_rooms_pathway_from_its_host(client, cast):
    mine = Pathway.objects.create(host=cast.north, name="Hip fracture")
    theirs = Pathway.objects.create(host=cast.south, name="Falls")
    client.force_login(cast.alice)
    url = reverse("room_settings", args=[cast.room.pk])
    page = client.get(url).content.decode()
    assert "Hip fracture" in page and "Falls" not in page
    form = {"name": cast.room.name, "stage": "testing", "status": "active", "pathway": mine.pk,
            "meeting_minutes": "60"}  # fmt: skip
    assert client.post(url, form).status_code == 302
    cast.room.refresh_from_db()
    assert cast.room.pathway == mine
    assert client.post(url, {**form, "pathway": theirs.pk}).status_code == 400
    page = client.get(reverse("room_detail", args=[cast.room.pk])).content.decode()
    assert "Works on the care pathway" in page


def test_readers_see_the_pathway_and_outsiders_do_not(client, cast, pathway):
    url = reverse("pathway_detail", args=[pathway.pk])
    for reader in (cast.bob, cast.vera, cast.ada):
        client.force_login(reader)
        page = client.get(url).content.decode()
        assert "Hip fracture" in page and "Change the pathway" not in page
    client.force_login(cast.charlie)
    assert client.get(url).status_code == 404
    for reader in (cast.bob, cast.alice):  # a coach of its room loads data, no more
        client.force_login(reader)
        assert client.get(reverse("pathway_settings", args=[pathway.pk])).status_code == 403
    client.force_login(cast.quinn)
    home = client.get(reverse("home")).content.decode()
    assert "Add a care pathway" in home and reverse("pathway_detail", args=[pathway.pk]) in home
