"""The audit log: what is recorded, who reads it, and what it never holds."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bigrooms.models import BigRoom, RoomMembership
from fca import audit
from fca.models import AuditEvent, Organisation, OrganisationMembership
from fca.tokens import REFUSALS_LOGGED_A_MINUTE
from pathways import services as pathway_services
from pathways.models import Episode, Pathway
from tests.conftest import PASSWORD


def _events(action: str):
    return AuditEvent.objects.filter(action=action)


def test_sign_ins_and_failures_are_recorded_with_the_address_but_never_the_password(client, cast):
    client.post(reverse("login"), {"username": "alice@north.nhs.uk", "password": "wrong-guess-1"})
    client.post(reverse("login"), {"username": "nobody@north.nhs.uk", "password": "wrong-guess-2"})
    # A password typed into the email box is never kept.
    client.post(reverse("login"), {"username": "wrong guess 3", "password": "x"})
    client.post(reverse("login"), {"username": "ALICE@north.nhs.uk", "password": PASSWORD})
    client.post(reverse("logout"))

    failed = list(_events("sign_in.failed").order_by("pk"))
    assert [(e.actor, e.actor_email, e.outcome) for e in failed] == [
        (cast.alice, "alice@north.nhs.uk", "failure"),
        (None, "nobody@north.nhs.uk", "failure"),
        (None, "(not an email address)", "failure"),
    ]
    signed_in = _events("sign_in").get()
    assert signed_in.actor == cast.alice and signed_in.ip_address == "127.0.0.1"
    assert signed_in.details == {"via": "login"}
    assert _events("sign_out").get().actor == cast.alice
    everything = json.dumps(list(AuditEvent.objects.values()), default=str)
    for secret in (PASSWORD, "wrong-guess-1", "wrong-guess-2", "wrong guess 3"):
        assert secret not in everything


def test_membership_changes_name_the_room_the_person_and_the_host_organisation(client, cast):
    client.force_login(cast.alice)
    client.post(
        reverse("room_members", args=[cast.room.pk]),
        {"email": "gp@surgery.nhs.uk", "full_name": "Gita Patel", "role": "member",
         "team_role": "gp", "can_contribute_data": ""},
    )  # fmt: skip
    added = _events("membership.added").get()
    gita = RoomMembership.objects.get(user__email="gp@surgery.nhs.uk")
    assert (added.actor, added.organisation, added.target_type, added.target_name) == (
        cast.alice,
        cast.north,
        "bigroom",
        "Hip fracture big room",
    )
    assert added.details == {"person": gita.user_id, "role": "member", "new_account": True}

    client.post(reverse("member_remove", args=[cast.room.pk, gita.pk]))
    removed = _events("membership.removed").get()
    assert removed.actor == cast.alice
    assert removed.details == {"person": gita.user_id, "role": "member"}


def test_tokens_made_and_revoked_are_recorded_without_the_token(client, cast):
    client.force_login(cast.alice)
    response = client.post(reverse("personal_tokens"), {"name": "My laptop"})
    text = response.context["new_token"]
    token = cast.alice.api_tokens.get()
    client.post(reverse("token_revoke", args=[token.pk]))
    made, revoked = _events("token.created").get(), _events("token.revoked").get()
    assert made.target_name == f"My laptop ({token.prefix}…)"
    assert revoked.actor == cast.alice
    assert text.split("_")[-1] not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_a_refused_token_is_recorded(client, cast, monkeypatch):
    from types import SimpleNamespace

    from fca import throttling

    # One minute's window throughout, whenever the test runs.
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: 6_000_000.0))
    response = client.get(
        reverse("api_measure_list"), HTTP_AUTHORIZATION="Bearer fca_nothing_made_up"
    )
    assert response.status_code == 401
    refused = _events("token.refused").get()
    assert refused.outcome == "refused" and refused.details["path"] == "/api/v1/measures/"
    # A flood from one address is refused every time but logged only so often.
    for _ in range(30):
        client.get(reverse("api_measure_list"), HTTP_AUTHORIZATION="Bearer fca_nothing_made_up")
    assert _events("token.refused").count() == REFUSALS_LOGGED_A_MINUTE


def test_downloads_and_deletions_are_recorded(client, cast):
    client.force_login(cast.alice)
    assert client.get(reverse("measure_csv", args=[cast.measure.pk])).status_code == 200
    export = _events("export").get()
    assert (export.target_type, export.target_id, export.organisation) == (
        "measure",
        str(cast.measure.pk),
        cast.north,
    )
    point = cast.measure.points.create(period="2026-01-05", value=4)
    client.post(reverse("point_remove", args=[cast.measure.pk, point.pk]))
    deleted = _events("deleted").get()
    assert (deleted.target_type, deleted.target_id, deleted.organisation) == (
        "datapoint",
        str(point.pk),
        cast.north,
    )


def test_each_retention_run_is_recorded_even_when_nothing_was_old_enough(cast):
    pathway = Pathway.objects.create(host=cast.north, name="Stroke", keep_episodes_months=12)
    long_ago = timezone.now() - timedelta(days=800)
    Episode.objects.create(
        pathway=pathway,
        episode_id="E1",
        arrived_at=long_ago,
        departed_at=long_ago,
        loaded_at=long_ago,
    )
    pathway_services.apply_retention()
    pathway_services.apply_retention()
    runs = list(_events("retention.run").order_by("pk"))
    assert [(r.target_type, r.details.get("deleted")) for r in runs] == [
        ("pathway", 1), ("", 1), ("", 0)
    ]  # fmt: skip
    assert runs[0].organisation == cast.north and runs[0].details["months"] == 12


def test_qi_leads_read_their_organisations_log_and_admins_everyones(client, cast):
    north_event = audit.record("export", actor=cast.alice, target=cast.room, format="csv")
    south_event = audit.record("export", actor=cast.charlie, target=cast.other_room)
    # An event with no organisation, about one of the north's own people.
    own_person = audit.record("sign_in", actor=cast.bob)

    client.force_login(cast.quinn)
    page = client.get(reverse("audit_log"))
    assert page.status_code == 200
    shown = {event.pk for event, *_ in page.context["rows"]}
    assert {north_event.pk, own_person.pk} <= shown and south_event.pk not in shown

    client.force_login(cast.ada)
    shown = {e.pk for e, *_ in client.get(reverse("audit_log")).context["rows"]}
    assert {north_event.pk, south_event.pk, own_person.pk} <= shown

    # Someone of the north who also works in the south: what they do there is the south's.
    OrganisationMembership.objects.create(user=cast.charlie, organisation=cast.north)
    in_the_south = audit.record("export", actor=cast.charlie, target=cast.other_room)
    charlie_signs_in = audit.record("sign_in", actor=cast.charlie)
    client.force_login(cast.quinn)
    shown = {e.pk for e, *_ in client.get(reverse("audit_log")).context["rows"]}
    assert charlie_signs_in.pk in shown
    assert not {in_the_south.pk, south_event.pk} & shown
    csv_text = b"".join(client.get(reverse("audit_log_csv")).streaming_content).decode()
    assert "Frailty big room" not in csv_text

    for person in (cast.alice, cast.vera):
        client.force_login(person)
        assert client.get(reverse("audit_log")).status_code == 404
        assert client.get(reverse("audit_log_csv")).status_code == 404


def test_the_log_filters_and_refuses_a_backwards_date_range(client, cast):
    audit.record("export", actor=cast.alice, target=cast.room)
    audit.record("sign_in.failed", actor=cast.bob, outcome="failure")
    client.force_login(cast.ada)
    failures = client.get(reverse("audit_log"), {"outcome": "failure"}).context["rows"]
    assert [what for _, what, _ in failures] == ["Sign-in failed"]
    downloads = client.get(reverse("audit_log"), {"group": "export"}).context["rows"]
    assert {e.actor_email for e, *_ in downloads} == {"alice@north.nhs.uk"}
    by_person = client.get(reverse("audit_log"), {"person": "BOB@"}).context["rows"]
    assert [e.actor for e, *_ in by_person] == [cast.bob]
    south = client.get(reverse("audit_log"), {"organisation": cast.south.pk}).context["rows"]
    assert list(south) == []

    backwards = client.get(reverse("audit_log"), {"since": "2026-05-02", "until": "2026-05-01"})
    assert backwards.status_code == 400
    assert "must be the same as or after" in backwards.content.decode()


def test_the_csv_is_filtered_neutralised_and_its_download_logged(client, cast):
    room = BigRoom.objects.create(name='=HYPERLINK("http://x")', host=cast.north)
    audit.record("export", actor=cast.alice, target=room, format="csv")
    client.force_login(cast.quinn)
    response = client.get(reverse("audit_log_csv"), {"group": "export"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == audit.CSV_HEADER
    # Newest first: this download itself, then the room's name, neutralised.
    assert [row[7] for row in rows[1:]] == ["", '\'=HYPERLINK("http://x")']
    logged = _events("export").filter(actor=cast.quinn).get()
    assert logged.details == {"format": "csv", "what": "audit log"}


def test_the_log_page_costs_the_same_queries_however_many_events(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.ada)
    for organisation in Organisation.objects.all():
        audit.record("export", actor=cast.alice, organisation=organisation)
    client.get(reverse("audit_log"))  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("audit_log"))
    for n in range(60):
        audit.record("export", actor=cast.alice, organisation=cast.north if n % 2 else cast.south)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("audit_log"))
    assert len(response.context["rows"]) == 50
    assert 'aria-label="Pages of events"' in response.content.decode()
    assert "Page 2 of 2" in response.content.decode()


def test_housekeeping_lets_go_of_expired_sessions_old_sign_in_records_and_audit_events(
    client, cast, settings
):
    from axes.models import AccessLog
    from django.contrib.sessions.models import Session

    from fca import housekeeping

    client.post(reverse("login"), {"username": "alice@north.nhs.uk", "password": PASSWORD})
    assert AccessLog.objects.count() == 1 and Session.objects.count() == 1
    old = audit.record("export", actor=cast.alice, target=cast.room)
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=800))

    # Kept while within their periods, and audit events kept for good by default.
    assert housekeeping.tidy() == {"sessions": 0, "sign_in_records": 0, "audit_events": 0}
    assert AuditEvent.objects.filter(pk=old.pk).exists()

    settings.FCA_AUDIT_KEEP_MONTHS = 24
    later = timezone.now() + timedelta(days=91)
    assert housekeeping.tidy(now=later) == {
        "sessions": 1, "sign_in_records": 1, "audit_events": 1
    }  # fmt: skip
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    runs = AuditEvent.objects.filter(action="retention.housekeeping").order_by("pk")
    assert [r.details["audit_events"] for r in runs] == [0, 1]


def test_an_operator_gives_and_takes_roles_and_disables_accounts_audited(client, cast):
    from django.core.management import CommandError, call_command

    out = io.StringIO()
    client.force_login(cast.bob)  # signed in with a password alone, as a member
    assert client.get(reverse("home")).status_code == 200
    call_command("set_access", "BOB@north.nhs.uk", "--organisation", "rxn", "--role", "qi_lead",
                 stdout=out)  # fmt: skip
    # Made QI lead, he signs in again, with the second factor the role needs.
    assert client.get(reverse("home")).status_code == 302
    assert "staff → qi_lead" in out.getvalue()
    assert cast.bob.org_memberships.get().role == "qi_lead"
    call_command("set_access", "bob@north.nhs.uk", "--academy-admin", "yes", stdout=out)
    call_command("set_access", "charlie@south.nhs.uk", "--organisation", "RYS", "--role", "none",
                 stdout=out)  # fmt: skip
    assert not cast.charlie.org_memberships.exists()

    client.force_login(cast.dana)
    assert client.get(reverse("home")).status_code == 200
    call_command("set_access", "dana@north.nhs.uk", "--disable", stdout=out)
    assert client.get(reverse("home")).status_code == 302  # signed out at once

    events = list(AuditEvent.objects.filter(actor_email__startswith="command line")
                  .order_by("pk").values_list("action", "target_name", "details"))  # fmt: skip
    assert events == [
        ("role.changed", "Bob Brown", {"role": "qi_lead", "was": "staff"}),
        ("role.academy_admin", "Bob Brown", {"admin": True}),
        ("role.changed", "Charlie Cole", {"role": "none", "was": "staff"}),
        ("account.disabled", "Dana Dale", {}),
    ]
    # The north's QI lead reads the changes to the north's people.
    client.force_login(cast.quinn)
    shown = {
        what for _, what, _ in client.get(reverse("audit_log"), {"group": "people"}).context["rows"]
    }
    assert {"Organisation role changed", "Account disabled"} <= shown

    for bad, words in (
        (["nobody@x.nhs.uk", "--disable"], "No account has the email address"),
        (["bob@north.nhs.uk", "--organisation", "ZZZ", "--role", "viewer"], "No organisation"),
        (["bob@north.nhs.uk", "--organisation", "RXN", "--role", "boss"], "is not a role"),
        (["bob@north.nhs.uk", "--role", "viewer"], "together"),
    ):
        with pytest.raises(CommandError, match=words):
            call_command("set_access", *bad, stdout=out)


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(client, cast, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    # The client's own X-Forwarded-For entry (anything) is left of what the proxy appended.
    client.post(
        reverse("login"), {"username": "alice@north.nhs.uk", "password": "wrong-guess"},
        HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9", REMOTE_ADDR="10.0.0.2",
    )  # fmt: skip
    assert _events("sign_in.failed").get().ip_address == "203.0.113.9"
    client.post(
        reverse("login"), {"username": "alice@north.nhs.uk", "password": "wrong-guess"},
        HTTP_X_FORWARDED_FOR="not an address", REMOTE_ADDR="10.0.0.2",
    )  # fmt: skip
    assert _events("sign_in.failed").order_by("pk").last().ip_address is None
