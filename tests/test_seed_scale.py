"""manage.py seed_scale: realistic data at any scale, for dashboards and benchmarks."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from bigrooms.models import (
    PDSA,
    Action,
    Attendance,
    BigRoom,
    ChangeIdea,
    Evaluation,
    RoomMembership,
    Session,
)
from fca.models import Organisation, OrganisationMembership, User
from measures.models import ChartResult, DataPoint, Measure
from tests.conftest import enter_demo_code

SMALL = {"organisations": 2, "rooms": 3, "sessions": 6, "measures": 3, "points": 20}
PASSWORD = "a-seeded-password"
MODELS = {
    "organisations": Organisation,
    "users": User,
    "big rooms": BigRoom,
    "room memberships": RoomMembership,
    "sessions": Session,
    "attendances": Attendance,
    "evaluations": Evaluation,
    "actions": Action,
    "measures": Measure,
    "data points": DataPoint,
    "change ideas": ChangeIdea,
    "PDSA cycles": PDSA,
    "charts": ChartResult,
}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_scale", **{**SMALL, "password": PASSWORD, **options}, stdout=out)
    return out.getvalue()


def counts_said(output: str) -> dict[str, int]:
    """The summary's "label   count" lines."""
    rows = re.findall(r"^  ([A-Za-z ]+?) +([\d,]+)$", output, flags=re.MULTILINE)
    return {label: int(count.replace(",", "")) for label, count in rows}


def test_it_creates_exactly_the_counts_it_says(db):
    said = counts_said(seed())
    assert set(said) == set(MODELS)
    assert {label: model.objects.count() for label, model in MODELS.items()} == said
    assert said["organisations"] == 2
    assert said["big rooms"] == 2 * 3
    assert said["sessions"] == 2 * 3 * 6
    assert said["measures"] == 2 * 3 * 3
    assert said["data points"] == 2 * 3 * 3 * 20
    assert said["room memberships"] == 2 * 3 * 8  # two coaches and six members a room


def test_each_room_has_its_coaches_measures_and_sessions(db):
    seed()
    for room in BigRoom.objects.all():
        roles = list(room.memberships.values_list("role", flat=True))
        assert roles.count("clinical_coach") == roles.count("independent_coach") == 1
        assert roles.count("member") == 6
        assert room.sessions.count() == 6
        assert room.meeting_weekday is not None
        kinds = sorted(room.measures.values_list("kind", flat=True))
        assert kinds == ["balancing", "outcome", "process"]


def test_every_measure_has_a_chart_with_its_points(db):
    seed()
    for measure in Measure.objects.select_related("chart"):
        result = measure.chart.result
        assert "error" not in result, result
        assert len(result["points"]) == 20
        assert measure.chart.is_current_for(measure)
        assert result["summary"]
        if measure.chart_type != "run":
            assert result["variation_icon"], measure.name


def test_each_organisations_qi_lead_can_sign_in_with_the_password(client, db):
    output = seed()
    leads = OrganisationMembership.objects.filter(role="qi_lead").select_related("user")
    assert leads.count() == 2
    for membership in leads:
        email = membership.user.email
        assert re.fullmatch(r"qi-lead-\d+@seed\.example", email)
        assert email in output
        response = client.post(reverse("login"), {"username": email, "password": PASSWORD})
        assert response["Location"] == reverse("two_factor_code"), f"{email} could not sign in"
        assert enter_demo_code(client, membership.user)["Location"] == "/"
        assert client.get("/").status_code == 200
        client.post(reverse("logout"))
    assert f"password for all: {PASSWORD}" in output
    assert "two-factor key for all: FCAB IGRO OMSD EMOS ECRE T234" in output


def test_a_second_run_is_refused_without_force(db):
    seed()
    with pytest.raises(CommandError, match="2 seed organisations .* already exist: use --force"):
        seed()
    assert Organisation.objects.count() == 2


def test_force_adds_organisations_with_fresh_numbers(db):
    seed()
    seed(organisations=1, rooms=1, sessions=1, measures=1, points=1, force=True)
    codes = sorted(Organisation.objects.values_list("ods_code", flat=True))
    assert codes == ["SEED0001", "SEED0002", "SEED0003"]
    assert User.objects.filter(email="qi-lead-3@seed.example").exists()


@pytest.mark.parametrize("name", list(SMALL))
@pytest.mark.parametrize("value", [0, -1])
def test_it_refuses_counts_below_one(db, name, value):
    with pytest.raises(CommandError, match=f"--{name} must be at least 1, not {value}"):
        seed(**{name: value})
    assert not Organisation.objects.exists()


def test_it_refuses_production_settings(db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses production"):
        seed()
