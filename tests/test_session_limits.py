"""Sessions end after 30 minutes idle and 12 hours at most (shorter on a shared computer),
at once on signing out or when the person is disabled; the meeting screen's signed link is
read-only and lasts the meeting instead. Time travels by editing the session's clock."""

from datetime import date
from unittest import mock

from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from bigrooms.models import Session
from bigrooms.services import SCREEN_HOURS, screen_ticket
from fca.middleware import ACTIVE_AT, SIGNED_IN_AT
from tests.conftest import PASSWORD

MINUTE, HOUR = 60, 60 * 60


def _sign_in(client, email, **extra):
    response = client.post(reverse("login"), {"username": email, "password": PASSWORD, **extra})
    assert response["Location"] == "/", response
    return response


def _age(client, *, idle: int = 0, since: int = 0) -> None:
    """As if the last activity were ``idle`` seconds ago and sign-in ``since`` seconds ago."""
    session = client.session
    session[ACTIVE_AT] -= idle
    session[SIGNED_IN_AT] -= since
    session.save()


def _room(cast) -> str:
    return reverse("room_detail", args=[cast.room.pk])


def test_thirty_minutes_idle_signs_out_and_says_why_with_next(client, cast):
    _sign_in(client, cast.alice.email)
    _age(client, idle=30 * MINUTE + 1, since=30 * MINUTE + 1)
    response = client.get(_room(cast))
    assert response["Location"] == f"/account/sign-in/?next={_room(cast)}"
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out because you had not used the app for 30 minutes." in page
    assert f'name="next" value="{_room(cast)}"' in page
    # What was typed on the page stays on this (personal) computer for the same person.
    assert "data-clear-all-drafts" not in page
    # Said once: the next visit to the sign-in page is a plain one.
    assert "You were signed out because" not in client.get(reverse("login")).content.decode()
    # And signing in again goes back to where they were.
    response = client.post(
        response["Location"],
        {"username": cast.alice.email, "password": PASSWORD, "next": _room(cast)},
    )
    assert response["Location"] == _room(cast)


def test_a_little_under_thirty_minutes_idle_is_still_signed_in(client, cast):
    _sign_in(client, cast.alice.email)
    _age(client, idle=29 * MINUTE, since=29 * MINUTE)
    assert client.get(_room(cast)).status_code == 200
    assert client.session[ACTIVE_AT] >= client.session[SIGNED_IN_AT] + 29 * MINUTE


def test_activity_is_written_at_most_once_a_minute(client, cast):
    _sign_in(client, cast.alice.email)
    _age(client, idle=50, since=50)
    before = client.session[ACTIVE_AT]
    cookie = client.cookies["sessionid"].value
    response = client.get(_room(cast))
    assert response.status_code == 200
    assert client.session[ACTIVE_AT] == before, "under a minute since: nothing written"
    assert "sessionid" not in response.cookies, "the session was not saved again"
    assert client.cookies["sessionid"].value == cookie
    _age(client, idle=11)
    client.get(_room(cast))
    assert client.session[ACTIVE_AT] >= before + 50, "a minute on: written as now"


def test_twelve_hours_in_all_signs_out_even_when_busy(client, cast):
    _sign_in(client, cast.alice.email)
    _age(client, idle=5 * MINUTE, since=12 * HOUR + 1)
    response = client.get("/")
    assert response["Location"] == "/account/sign-in/?next=/"
    page = client.get(response["Location"]).content.decode()
    assert "you had been signed in for 12 hours, the longest a sign-in lasts" in page


def test_the_limits_come_from_settings(client, cast, settings):
    settings.FCA_SESSION_IDLE_MINUTES = 5
    _sign_in(client, cast.alice.email)
    _age(client, idle=5 * MINUTE + 1)
    assert client.get("/").status_code == 302
    assert "for 5 minutes" in client.get(reverse("login")).content.decode()


def test_a_shared_computer_has_shorter_limits_and_a_browser_session_cookie(client, cast):
    response = _sign_in(client, cast.alice.email, shared_computer="on")
    cookie = response.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == "", "ends with the browser"
    _age(client, idle=9 * MINUTE)
    assert client.get("/").status_code == 200
    _age(client, idle=10 * MINUTE + 1)
    response = client.get("/")
    assert response["Location"] == "/account/sign-in/?next=/"
    page = client.get(response["Location"]).content.decode()
    assert "had not used the app for 10 minutes on a shared computer" in page
    assert "data-clear-all-drafts" in page, "nothing typed stays on a shared computer"


def test_a_shared_computer_session_lasts_two_hours_at_most(client, cast):
    _sign_in(client, cast.alice.email, shared_computer="on")
    _age(client, idle=MINUTE, since=2 * HOUR + 1)
    assert client.get("/").status_code == 302
    assert "2 hours on a shared computer" in client.get(reverse("login")).content.decode()


def test_a_personal_computer_keeps_the_cookie_for_twelve_hours(client, cast):
    response = _sign_in(client, cast.alice.email)
    assert response.cookies["sessionid"]["max-age"] == 12 * HOUR


def test_a_disabled_person_is_signed_out_on_the_very_next_request(client, cast):
    _sign_in(client, cast.alice.email)
    assert client.get(_room(cast)).status_code == 200
    cast.alice.is_active = False
    cast.alice.save()
    response = client.get(_room(cast))
    assert response["Location"] == f"/account/sign-in/?next={_room(cast)}"
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "your account has been disabled" in page
    # The API, through the same session, answers as to a stranger.
    assert client.get(reverse("api_measure_list")).status_code in (401, 403)


def test_a_password_changed_elsewhere_ends_the_session(client, cast):
    _sign_in(client, cast.alice.email)
    cast.alice.set_password("a-brand-new-password")
    cast.alice.save()
    response = client.get(_room(cast))
    assert response["Location"] == f"/account/sign-in/?next={_room(cast)}"
    assert SESSION_KEY not in client.session


def test_signing_out_ends_the_session_on_the_server(client, cast):
    _sign_in(client, cast.alice.email)
    stolen = client.cookies["sessionid"].value
    client.post(reverse("logout"))
    other = Client()
    other.cookies["sessionid"] = stolen
    assert other.get(_room(cast))["Location"].startswith("/account/sign-in/")


def test_a_session_signed_in_another_way_gets_the_limits_too(client, cast):
    client.force_login(cast.alice)  # as single sign-on does: login() with no sign-in page
    assert client.get("/").status_code == 200
    assert client.session[SIGNED_IN_AT] == client.session[ACTIVE_AT]
    _age(client, idle=31 * MINUTE)
    assert client.get("/").status_code == 302


# --- The meeting screen's signed link ----------------------------------------------------


def _screen(cast):
    session = cast.room.sessions.create(held_on=date(2026, 1, 6))
    ticket = screen_ticket(session)
    return (
        session,
        reverse("meeting_screen", args=[ticket]),
        reverse("meeting_state", args=[ticket]),
    )


def test_the_screen_link_is_read_only(client, cast):
    session, screen, state = _screen(cast)
    assert client.get(screen).status_code == 200
    before = Session.objects.filter(pk=session.pk).values().get()
    for url in (screen, state):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, {"to": "next", "what": "Hijack"})
            assert response.status_code == 405, f"{method} {url}"
    assert Session.objects.filter(pk=session.pk).values().get() == before
    assert not cast.room.actions.exists()
    # Its page offers nothing to press that writes.
    assert "<form" not in client.get(screen).content.decode()


def test_the_screen_needs_no_sign_in_and_ignores_the_idle_limit(client, cast):
    _, screen, state = _screen(cast)
    assert Client().get(screen).status_code == 200  # no session at all
    _sign_in(client, cast.alice.email)
    _age(client, idle=2 * HOUR, since=2 * HOUR)
    assert client.get(screen).status_code == 200
    assert client.get(state).status_code == 200


def test_the_screen_polling_does_not_keep_a_session_alive(client, cast):
    _, _, state = _screen(cast)
    _sign_in(client, cast.alice.email)
    _age(client, idle=5 * MINUTE)
    before = client.session[ACTIVE_AT]
    assert client.get(state).status_code == 200
    assert client.session[ACTIVE_AT] == before


def test_the_screen_link_lasts_the_meeting_then_ends(client, cast):
    assert SCREEN_HOURS == 12
    session = cast.room.sessions.create(held_on=date(2026, 1, 6))
    import time

    now = time.time()
    with mock.patch("django.core.signing.time.time", return_value=now - 11 * HOUR):
        eleven_hours_ago = screen_ticket(session)
    with mock.patch("django.core.signing.time.time", return_value=now - 12 * HOUR - 60):
        too_old = screen_ticket(session)
    assert client.get(reverse("meeting_screen", args=[eleven_hours_ago])).status_code == 200
    page = client.get(reverse("meeting_screen", args=[too_old]))
    assert page.status_code == 200 and b"meeting_state" not in page.content
    assert client.get(reverse("meeting_state", args=[too_old])).status_code == 410
