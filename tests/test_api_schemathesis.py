"""Schemathesis against the API's own schema, loaded from the app: signed in with a real
personal token of a seeded coach (who is also her organisation's QI lead, so every
operation can succeed), with real ids in every path, every operation is sent generated
requests. None may fail with a server error, answer outside its documented statuses, or
send a body its schema does not describe; and every operation refuses a caller without
credentials."""

from datetime import date

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from bigrooms.models import PDSA, ChangePackage
from fca.models import Cohort, OrganisationMembership
from fca.tokens import create_token
from fca.wsgi import application
from measures.models import Measure
from pathways.models import Pathway

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def wsgi_in_the_test_transaction():
    """Requests through the raw WSGI application, as Django's own test client makes them:
    without closing the database connection at each request's end, which would end the
    test's transaction (PostgreSQL)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def seeded(cast, settings, wsgi_in_the_test_transaction):
    """Alice coaches the North room, whose pathway, measure, session, action, parking lot
    item and PDSA cycle are real; she is also North's QI lead."""
    settings.FCA_API_READS_PER_MINUTE = settings.FCA_API_WRITES_PER_MINUTE = 100_000
    OrganisationMembership.objects.filter(user=cast.alice).update(role="qi_lead")
    room = cast.room
    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture", metrics=["arrivals"])
    pathway.steps.create(code="theatre", name="Theatre", slot=1, standard_hours=36)
    Measure.objects.create(pathway=pathway, name="Arrivals a week", source="arrivals",
                           unit="patients", frequency="weekly")  # fmt: skip
    room.pathway = pathway
    room.save(update_fields=["pathway"])
    cast.measure.points.create(period=date(2026, 1, 5), value=30)
    session = room.sessions.create(held_on=date(2026, 1, 6), notes="Agreed", guests=1)
    session.attendances.create(user=cast.bob)
    session.evaluations.create(score=8)
    action = room.actions.create(what="Audit the lists", owner=cast.alice, raised_in=session)
    room.parking_lot.create(text="Weekend cover")
    idea = room.change_ideas.create(title="Consultant at the front door")
    pdsa = PDSA.objects.create(room=room, ramp=idea.ramps.create(), number=1,
                               objective="Try it", starts_on=date(2026, 1, 5))  # fmt: skip
    task = pdsa.tasks.create(task="Book the room", owner=cast.dana)
    primary = room.drivers.create(title="Early senior review")
    room.drivers.create(title="Rota", parent=primary)
    idea.drivers.add(primary)
    room.themes.create(title="Delays at the front door")
    room.specific_aims.create(what="Seen within 14 hours", measure=cast.measure, target=80,
                              target_on=date(2027, 3, 31))  # fmt: skip
    room.five_vs.create(value="Fewer delays", created_by=cast.alice)
    room.stakeholders.create(name="Ward 7 sister")
    room.photos.create(caption="Process map", image=ContentFile(b"\x89PNG", name="map.png"))
    room.multivotes.create(votes_each=3)
    room.board_packs.create(requested_by=cast.alice, status="ready", progress=100,
                            file=ContentFile(b"%PDF", name="pack.pdf"))  # fmt: skip
    cohort = Cohort.objects.create(name="Cohort 9", academy="North", starts_on=date(2026, 1, 5))
    package = ChangePackage.objects.create(room=room, title="Hips home sooner",
                                           summary="Earlier review", organisation="North")  # fmt: skip
    upload = pathway.uploads.create(
        filename="episodes.csv", status="checked", report={"rows": 2, "valid": 2},
        file=ContentFile(b"episode_id\n", name="episodes.csv"),
    )  # fmt: skip
    _, token = create_token(user=cast.alice, name="Schemathesis", kind="personal")
    ids = {
        "room_id": room.pk, "session_id": session.pk, "action_id": action.pk,
        "pdsa_id": pdsa.pk, "measure_id": cast.measure.pk, "pathway_id": pathway.pk,
        "episode_upload_id": upload.pk, "org_id": cast.north.pk, "task_id": task.pk,
        "package_id": package.pk, "cohort_id": cohort.pk,
    }  # fmt: skip
    return {"ids": ids, "headers": {"Authorization": f"Bearer {token}"}}


def _operations() -> list[tuple[str, str]]:
    """Every operation in the schema, as the app generates it (no database needed)."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_every_operation_answers_within_its_schema(method, path, seeded):
    # Loaded as a client loads it: from the app, signed in with the token.
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", application, headers=seeded["headers"]
    )
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=12,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers(case):
        case.path_parameters = {name: seeded["ids"][name] for name in case.path_parameters}
        case.call_and_validate(headers=seeded["headers"], checks=CHECKS)

    answers()


def test_every_operation_refuses_a_caller_without_credentials(seeded, client, cast):
    client.force_login(cast.bob)
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert len(paths) >= 20
    anonymous, bad_token = Client(), Client(HTTP_AUTHORIZATION="Bearer fca_nope_nope")
    for template, operations in paths.items():
        url = template.format(**seeded["ids"])
        for method in operations:
            for caller in (anonymous, bad_token):
                response = caller.generic(method.upper(), url)
                assert response.status_code == 401, f"{method.upper()} {url}"
                assert set(response.json()) == {"detail"}
