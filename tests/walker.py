"""The access walker: every URL pattern, every method, every role, against the rules.

A URL pattern without a rule, or with a parameter that has no id registered, is itself a
failure: no page ships unwalked.
"""

import io
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image

from bigrooms.models import PDSA
from bigrooms.services import scoring_ticket, screen_ticket
from fca.models import User
from fca.tokens import create_token
from pathways.models import Pathway

ROLES = ("anonymous", "alice", "bob", "dana", "charlie", "quinn", "vera", "ada")
METHODS = ("GET", "POST")
ROOM_READERS = {"alice", "bob", "dana", "quinn", "vera", "ada"}
ROOM_COACHES = {"alice"}
ROOM_DATA = {"alice", "dana"}
ROOM_TEAM = {"alice", "quinn"}
ROOM_MEMBERS = {"alice", "bob", "dana"}  # on the team: they vote in multivotes
PATHWAY_MANAGERS = {"quinn"}  # the host's QI lead
ROOM_NOTES = (
    ROOM_READERS - {"ada"}
)  # the room's own working: not the academy's to read  # the coach, and the host organisation's QI lead

# What each kind of page answers each role: "ok", 403, 404 (anonymous: sign in, always).
KINDS = {
    "public": lambda role: "ok",
    "signed_in": lambda role: "ok",
    "room_read": lambda role: "ok" if role in ROOM_READERS else 404,
    "room_manage": lambda role: (
        "ok" if role in ROOM_COACHES else 403 if role in ROOM_READERS else 404
    ),
    "room_data": lambda role: "ok" if role in ROOM_DATA else 403 if role in ROOM_READERS else 404,
    "room_notes": lambda role: "ok" if role in ROOM_NOTES else 403 if role in ROOM_READERS else 404,
    "room_members": lambda role: (
        "ok" if role in ROOM_TEAM else 403 if role in ROOM_READERS else 404
    ),
    "pathway_read": lambda role: "ok" if role in ROOM_READERS else 404,
    "pathway_manage": lambda role: (
        "ok" if role in PATHWAY_MANAGERS else 403 if role in ROOM_READERS else 404
    ),
    "qi_lead": lambda role: "ok" if role == "quinn" else 403,
    # The organisation's dashboards: its QI leads and viewers, and academy admins.
    "org_read": lambda role: "ok" if role in {"quinn", "vera", "ada"} else 404,
    # The academy's pages: its admins' alone.
    "academy": lambda role: "ok" if role == "ada" else 404,
    "pathway_load": lambda role: (
        "ok" if role in {"alice", "dana", "quinn"} else 403 if role in ROOM_READERS else 404
    ),
    "room_vote": lambda role: (
        "ok" if role in ROOM_MEMBERS else 403 if role in ROOM_READERS else 404
    ),
    # The audit log: QI leads (their organisation's) and academy admins (everyone's).
    "audit": lambda role: "ok" if role in {"quinn", "ada"} else 404,
    # The board pack: the room's coaches and its host's QI leads (BoardPack.may_make).
    "board_pack": lambda role: "ok" if role in ROOM_TEAM else 403 if role in ROOM_READERS else 404,
}

# Every named URL: the methods it accepts and the kind of access each needs.
RULES = {
    "login": {"GET": "public", "POST": "public"},
    "logout": {"POST": "public"},
    "password_reset": {"GET": "public", "POST": "public"},
    "password_reset_done": {"GET": "public"},
    "password_reset_confirm": {"GET": "public", "POST": "public"},
    "password_reset_complete": {"GET": "public"},
    "health": {"GET": "public"},
    "home": {"GET": "signed_in"},
    "glossary": {"GET": "signed_in"},
    "password_change": {"GET": "signed_in", "POST": "signed_in"},
    "password_change_done": {"GET": "signed_in"},
    # Two-factor sign-in: the code step answers anyone (without a password step first it
    # leads back to sign-in); the rest are the signed-in person's own; resets are admins'.
    "two_factor_code": {"GET": "public", "POST": "public"},
    "two_factor_setup": {"GET": "signed_in", "POST": "signed_in"},
    "two_factor_account": {"GET": "signed_in"},
    "two_factor_recovery_codes": {"POST": "signed_in"},
    "two_factor_change": {"POST": "signed_in"},
    "two_factor_reset": {"GET": "academy", "POST": "academy"},
    "room_detail": {"GET": "room_read"},
    "measure_create": {"GET": "room_manage", "POST": "room_manage"},
    "measure_detail": {"GET": "room_read"},
    "measure_settings": {"GET": "room_manage", "POST": "room_manage"},
    "measure_csv": {"GET": "room_read"},
    "phase_create": {"GET": "room_read", "POST": "room_manage"},
    "phase_remove": {"POST": "room_manage"},
    "point_remove": {"GET": "room_data", "POST": "room_data"},
    "session_new": {"GET": "room_manage", "POST": "room_manage"},
    "room_settings": {"GET": "room_manage", "POST": "room_manage"},
    "room_build": {"GET": "room_notes", "POST": "room_manage"},
    "stall_note": {"POST": "room_manage"},
    "room_photo": {"GET": "room_notes"},
    "room_members": {"GET": "room_members", "POST": "room_members"},
    "member_remove": {"POST": "room_members"},
    "accept_invitation": {"GET": "public", "POST": "public"},
    "email_link": {"GET": "public", "POST": "public"},
    "email_link_sign_in": {"GET": "public", "POST": "public"},
    # No provider is configured in the walk: both answer a page saying so (400), to anyone.
    "sso_start": {"GET": "public"},
    "sso_callback": {"GET": "public"},
    "score_session": {"GET": "public", "POST": "public"},
    "session_detail": {"GET": "room_read"},
    "session_finish": {"POST": "room_manage"},
    "session_notes": {"GET": "room_manage", "POST": "room_manage"},
    "meeting_drive": {"GET": "room_manage"},
    "meeting_move": {"POST": "room_manage"},
    "meeting_action": {"POST": "room_manage"},
    "meeting_screen": {"GET": "public"},
    "meeting_state": {"GET": "public"},
    "session_autosave": {"POST": "room_manage"},
    "my_actions": {"GET": "signed_in"},
    # The walker's action is dana's: its owner and the room's coach may move it on.
    "action_status": {"POST": "room_data"},
    "personal_tokens": {"GET": "signed_in", "POST": "signed_in"},
    "room_tokens": {"GET": "room_manage", "POST": "room_manage"},
    "token_revoke": {"POST": "room_manage"},
    "api_measure_list": {"GET": "signed_in"},
    "api_measure_detail": {"GET": "room_read"},
    "api_point_list": {"GET": "room_read"},
    "api_point_upsert": {"POST": "room_data"},
    "upload_start": {"GET": "room_data", "POST": "room_data"},
    "upload_review": {"GET": "room_data", "POST": "room_data"},
    "annotation_create": {"GET": "room_read", "POST": "room_data"},
    "chart_status": {"GET": "room_read"},
    "add_point": {"GET": "room_read", "POST": "room_data"},
    "paste_points": {"GET": "room_read", "POST": "room_data"},
    "room_themes": {"GET": "room_read", "POST": "room_manage"},
    "multivote_open": {"POST": "room_manage"},
    "theme_remove": {"POST": "room_manage"},
    # The walker's PDSA task is dana's: its owner and the room's coach may tick it off.
    "pdsa_task_done": {"POST": "room_data"},
    "pathway_create": {"GET": "qi_lead", "POST": "qi_lead"},
    "organisations": {"GET": "signed_in"},
    "academy_home": {"GET": "academy"},
    "cohort_create": {"GET": "academy", "POST": "academy"},
    "cohort_detail": {"GET": "academy"},
    "enrolment_new": {"GET": "academy", "POST": "academy"},
    "enrolment_detail": {"GET": "academy", "POST": "academy"},
    "taught_day_create": {"GET": "academy", "POST": "academy"},
    "taught_day_attendance": {"GET": "academy", "POST": "academy"},
    "coach_detail": {"GET": "academy", "POST": "academy"},
    "coach_pair": {"POST": "academy"},
    "coach_resend": {"POST": "academy"},
    "programme": {"GET": "academy"},
    "failed_work": {"GET": "academy"},
    "library_list": {"GET": "signed_in"},
    "library_detail": {"GET": "signed_in"},
    "library_copy": {"POST": "signed_in"},  # into a room the person coaches, or a 400
    "library_curate": {"POST": "academy"},
    "room_publish": {"GET": "room_manage", "POST": "room_manage"},
    "programme_csv": {"GET": "academy"},
    "audit_log": {"GET": "audit"},
    "audit_log_csv": {"GET": "audit"},
    "organisation_dashboard": {"GET": "org_read"},
    "organisation_measures": {"GET": "org_read"},
    "organisation_measures_csv": {"GET": "org_read"},
    "pathway_detail": {"GET": "pathway_read"},
    "pathway_settings": {"GET": "pathway_manage", "POST": "pathway_manage"},
    "pathway_steps": {"GET": "pathway_manage", "POST": "pathway_manage"},
    "step_edit": {"GET": "pathway_manage", "POST": "pathway_manage"},
    "step_remove": {"GET": "pathway_manage", "POST": "pathway_manage"},
    "episode_upload_new": {"GET": "pathway_load", "POST": "pathway_load"},
    "pathway_tokens": {"GET": "pathway_manage", "POST": "pathway_manage"},
    "api_send_episodes": {"POST": "pathway_load"},
    "api_room_list": {"GET": "signed_in"},
    "api_room_detail": {"GET": "room_read"},
    "api_session_list": {"GET": "room_read"},
    "api_session_log": {"POST": "room_manage"},
    "api_session_detail": {"GET": "room_read"},
    "api_action_list": {"GET": "room_read"},
    "api_action_create": {"POST": "room_manage"},
    "api_my_actions": {"GET": "signed_in"},
    "api_action_detail": {"GET": "room_read"},
    # The walker's action is dana's: its owner and the room's coach may move it on.
    "api_action_change": {"POST": "room_data"},
    "api_action_complete": {"POST": "room_data"},
    "api_pdsa_list": {"GET": "room_read"},
    "api_pdsa_detail": {"GET": "room_read"},
    # The walker's PDSA task is dana's: its owner and the room's coach may tick it off.
    "api_pdsa_task_done": {"POST": "room_data"},
    "api_session_scores": {"POST": "room_manage"},
    "api_room_improvement": {"GET": "room_read"},
    "api_room_build": {"GET": "room_notes"},
    "api_multivote_list": {"GET": "room_read"},
    "api_board_pack_list": {"GET": "board_pack"},
    "api_package_list": {"GET": "signed_in"},
    "api_package_detail": {"GET": "signed_in"},
    "api_audit_event_list": {"GET": "audit"},
    "api_cohort_list": {"GET": "academy"},
    "api_cohort_detail": {"GET": "academy"},
    "api_programme_figures": {"GET": "academy"},
    "api_organisation_dashboard": {"GET": "org_read"},
    "api_pathway_list": {"GET": "signed_in"},
    "api_pathway_detail": {"GET": "pathway_read"},
    "api_episode_upload_list": {"GET": "pathway_load"},
    "api_schema": {"GET": "signed_in"},
    "api_docs": {"GET": "signed_in"},
    "api_docs_try": {"GET": "signed_in"},
    "api_episode_upload": {"GET": "pathway_load"},
    "episode_upload": {"GET": "pathway_load"},
    "episode_upload_confirm": {"POST": "pathway_load"},
    "episode_upload_discard": {"POST": "pathway_load"},
    "specific_aim_remove": {"POST": "room_manage"},
    "change_idea_remove": {"POST": "room_manage"},
    "multivote_detail": {"GET": "room_read", "POST": "room_vote"},
    "multivote_close": {"POST": "room_manage"},
    "room_aims": {"GET": "room_read", "POST": "room_manage"},
    "specific_aim_create": {"GET": "room_manage", "POST": "room_manage"},
    "specific_aim_edit": {"GET": "room_manage", "POST": "room_manage"},
    "driver_diagram": {"GET": "room_read", "POST": "room_manage"},
    "driver_diagram_svg": {"GET": "room_read"},
    "driver_diagram_png": {"GET": "room_read"},
    "driver_edit": {"GET": "room_manage", "POST": "room_manage"},
    "driver_remove": {"POST": "room_manage"},
    "change_idea_create": {"GET": "room_manage", "POST": "room_manage"},
    "change_idea_detail": {"GET": "room_read"},
    "change_idea_edit": {"GET": "room_manage", "POST": "room_manage"},
    "pdsa_create": {"GET": "room_manage", "POST": "room_manage"},
    "room_pdsas": {"GET": "room_read"},
    "pdsa_detail": {"GET": "room_read"},
    "pdsa_move": {"POST": "room_manage"},
    "pdsa_next": {"POST": "room_manage"},
    "board_pack": {"GET": "board_pack", "POST": "board_pack"},
    "board_pack_status": {"GET": "board_pack"},
    "board_pack_download": {"GET": "board_pack"},
    **{
        f"pdsa_edit_{part}": {"GET": "room_manage", "POST": "room_manage"}
        for part in ("plan", "do", "study", "act")
    },
}


def ids_for(cast) -> dict:
    """A real object's id for every URL parameter, all in the cast's North room."""
    point = cast.measure.points.create(period=date(2026, 1, 5), value=30.0)
    session = cast.room.sessions.create(held_on=date(2026, 1, 6))
    return {
        "room_id": cast.room.pk,
        "org_id": cast.north.pk,
        "package_id": _package(cast).pk,
        **_academy_ids(cast),
        "measure_id": cast.measure.pk,
        "point_id": point.pk,
        "phase_id": cast.measure.phases.create(starts_on=date(2026, 1, 5), reason="x").pk,
        # Someone to take off the room, so nobody in the cast loses their place.
        "membership_id": cast.room.memberships.create(
            user=User.objects.create_user("eve@north.nhs.uk", None, full_name="Eve Evans")
        ).pk,
        "photo_id": cast.room.photos.create(
            image=ContentFile(_png(), name="flipchart.png"), caption="Flipchart"
        ).pk,
        "session_id": session.pk,
        "ticket": scoring_ticket(session),
        "screen": screen_ticket(session),
        "link": "not-a-real-link",
        "provider": "nhsmail",
        "action_id": cast.room.actions.create(what="Audit the lists", owner=cast.dana).pk,
        "token_id": create_token(user=cast.alice, name="Feed", kind="integration", room=cast.room)[
            0
        ].pk,
        "upload_id": cast.measure.uploads.create(
            filename="data.csv", rows=[["Week", "Hours"], ["2026-01-05", "30"]]
        ).pk,
        **_improvement_ids(cast),
        **_pathway_ids(cast),
        "uidb64": urlsafe_base64_encode(force_bytes(cast.bob.pk)),
        "token": default_token_generator.make_token(cast.bob),
        "board_pack_id": _board_pack_id(cast),
    }


# Pages that delete what they are given: each request gets a fresh object, so the first
# role to succeed does not leave the next with a 404.
FRESH = {
    "specific_aim_remove": lambda cast: {"aim_id": cast.room.specific_aims.create(
        what="Fresh", measure=cast.measure, target=1, target_on=date(2027, 1, 1)).pk},
    "theme_remove": lambda cast: {"theme_id": cast.room.themes.create(
        title=f"Theme {cast.room.themes.count() + 1}").pk},
    "change_idea_remove": lambda cast: {"idea_id": cast.room.change_ideas.create(
        title="Fresh").pk},
    "step_remove": lambda cast: {"step_id": _fresh_step(cast.room.pathway).pk},
}  # fmt: skip


def _fresh_step(pathway):
    pathway.steps.filter(name="Fresh").delete()  # the last request's, if it is still there
    slot = min(set(range(1, 9)) - set(pathway.steps.values_list("slot", flat=True)))
    return pathway.steps.create(code=f"step{slot}", name="Fresh", slot=slot)


def _package(cast):
    from bigrooms.models import ChangePackage

    return ChangePackage.objects.create(title="Early theatre slot", summary="It works",
                                        organisation=cast.north.name, room=cast.room)  # fmt: skip


def _academy_ids(cast) -> dict:
    from fca.models import Coach, Cohort, Enrolment

    cohort = Cohort.objects.create(name="Cohort 1", academy="FCA", starts_on=date(2026, 1, 5))
    coach = Coach.objects.create(cohort=cohort, user=cast.alice, organisation=cast.north,
                                 kind="clinical")  # fmt: skip
    return {
        "cohort_id": cohort.pk,
        "coach_id": coach.pk,
        "day_id": cohort.days.create(held_on=date(2026, 1, 5), title="Day 1").pk,
        "enrolment_id": Enrolment.objects.create(cohort=cohort, filename="c.csv").pk,
    }


def _pathway_ids(cast) -> dict:
    """North's pathway, which the cast's room works on, and one of its steps."""
    pathway = Pathway.objects.create(host=cast.north, name="Hip fracture")
    cast.room.pathway = pathway
    cast.room.save(update_fields=["pathway"])
    return {
        "pathway_id": pathway.pk,
        "step_id": pathway.steps.create(code="theatre", name="Theatre", slot=1).pk,
        "episode_upload_id": pathway.uploads.create(filename="episodes.csv", status="checked").pk,
    }


def _improvement_ids(cast) -> dict:
    """A theme's multivote, an aim, a driver under another, a change idea and a cycle."""
    room = cast.room
    for title in ("Delays at the front door", "Discharge before noon"):
        room.themes.create(title=title)
    primary = room.drivers.create(title="Early senior review")
    idea = room.change_ideas.create(title="Consultant at the front door")
    idea.drivers.add(primary)
    room.drivers.create(title="Rota", parent=primary)
    pdsa = PDSA.objects.create(
        room=room,
        ramp=idea.ramps.create(),
        number=1,
        objective="Try it",
        starts_on=date(2026, 1, 5),
    )
    aim = room.specific_aims.create(
        what="Seen within 14 hours", measure=cast.measure, target=80, target_on=date(2027, 3, 31)
    )
    return {
        "multivote_id": room.multivotes.create(votes_each=3).pk,
        "aim_id": aim.pk,
        # A driver with one under it, so removing it is refused and the next role finds it.
        "driver_id": primary.pk,
        "idea_id": idea.pk,
        "task_id": pdsa.tasks.create(task="Book the room", owner=cast.dana).pk,
        "theme_id": room.themes.first().pk,
        "pdsa_id": pdsa.pk,
    }


def _board_pack_id(cast) -> int:
    """A board pack of the North room, made and ready to download."""
    from bigrooms.models import BoardPack

    pdf = ContentFile(b"%PDF-1.4\n%%EOF\n", name="pack.pdf")
    return BoardPack.objects.create(room=cast.room, status="ready", file=pdf, size=14).pk


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Route:
    name: str
    params: tuple[str, ...]


def routes(patterns=None) -> list[Route]:
    found = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            found.extend(routes(entry.url_patterns))
        elif isinstance(entry, URLPattern):
            found.append(Route(entry.name or f"<unnamed {entry.pattern}>", _params(entry)))
    return found


def _params(entry: URLPattern) -> tuple[str, ...]:
    return tuple(entry.pattern.converters) if hasattr(entry.pattern, "converters") else ()


def _verdict(response) -> str | int:
    if response.status_code == 302 and "/account/sign-in/" in response["Location"]:
        return "sign in"
    if response.status_code == 401:  # the API's answer to a caller with no credentials
        return "sign in"
    # 415: past the access checks, refused for its (empty) content type.
    if response.status_code in (200, 202, 302, 400, 415):
        return "ok"
    return response.status_code


def _clients(cast) -> dict[str, Client]:
    clients = {"anonymous": Client()}
    for role in ROLES[1:]:
        clients[role] = Client()
        clients[role].force_login(getattr(cast, role))
    return clients


def walk(cast, *, rules=RULES) -> list[str]:
    """Every mismatch between what a role got and what it should get, as sentences."""
    problems = []
    ids = ids_for(cast)
    for route in routes():
        if route.name not in rules:
            problems.append(f"{route.name}: no rule in the walker; add one")
            continue
        missing = [p for p in route.params if p not in ids]
        if missing:
            problems.append(f"{route.name}: no id registered for {', '.join(missing)}")
            continue
        url = reverse(route.name, kwargs={p: ids[p] for p in route.params})
        clients = _clients(cast)  # afresh for each page: signing out ends a session
        for method in METHODS:
            kind = rules[route.name].get(method)
            for role in ROLES:
                if route.name in FRESH:
                    fresh = {**ids, **FRESH[route.name](cast)}
                    url = reverse(route.name, kwargs={p: fresh[p] for p in route.params})
                response = clients[role].generic(method, url)
                got = _verdict(response)
                if kind is None:
                    expected = "sign in" if role == "anonymous" and got == "sign in" else 405
                elif role == "anonymous" and kind != "public":
                    expected = "sign in"
                else:
                    expected = KINDS[kind](role)
                if kind == "public" and got == "sign in":
                    got = "ok"  # signing out, or a finished reset, leads to the sign-in page
                if got != expected:
                    problems.append(f"{method} {url} as {role}: got {got}, expected {expected}")
    return problems
