import re

from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD, enter_demo_code


def _sign_in(client, email, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_it_signs_in_by_email_and_shows_the_persons_organisation_and_role(client, cast):
    response = _sign_in(client, "Quinn@North.nhs.uk", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_code")
    response = enter_demo_code(client, cast.quinn)  # a QI lead: two-factor sign-in
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert "Quinn Quayle" in page
    assert "North Acute NHS Trust (QI lead)" in page
    assert "Hip fracture big room" in page


def test_a_wrong_password_gets_a_clear_message(client, cast):
    response = _sign_in(client, cast.alice.email, "not-the-password")
    assert response.status_code == 200
    assert "Enter a correct email address and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_out_ends_the_session_and_says_so(client, cast):
    _sign_in(client, cast.alice.email, PASSWORD)
    assert client.get("/")["Cache-Control"] == "no-store"  # not kept on a shared computer
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "You have signed out." in client.get(response["Location"]).content.decode()
    assert client.get("/")["Location"].startswith("/account/sign-in/")


def test_signed_out_people_are_sent_to_sign_in(client, cast):
    response = client.get(reverse("room_detail", args=[cast.room.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"/account/sign-in/?next=/rooms/{cast.room.pk}/"


def test_a_password_reset_email_leads_to_a_new_password(client, cast):
    response = client.post(reverse("password_reset"), {"email": cast.bob.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/account/password/reset/\S+/)", mail.outbox[0].body)[1]
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    short = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "short1", "new_password2": "short1"}
    )
    assert "at least 10 characters" in short.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-much-longer-secret", "new_password2": "a-much-longer-secret"},
    )
    assert done.status_code == 302
    assert _sign_in(client, cast.bob.email, "a-much-longer-secret").status_code == 302


def test_a_reset_for_an_unknown_email_says_the_same_and_sends_nothing(client, cast):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.nhs.uk"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_a_person_can_change_their_password(client, cast):
    client.force_login(cast.alice)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-secret",
            "new_password2": "another-long-secret",
        },
    )
    assert response.status_code == 302
    cast.alice.refresh_from_db()
    assert cast.alice.check_password("another-long-secret")


def test_repeated_failures_lock_that_account_from_that_address_only(client, cast, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        # Changing the case of the email does not start a fresh count.
        email = cast.alice.email.upper() if attempt % 2 else cast.alice.email
        _sign_in(client, email, "wrong-password", ip="10.1.1.1")
    locked = _sign_in(client, cast.alice.email, PASSWORD, ip="10.1.1.1")
    assert locked.status_code == 429
    assert "Too many attempts to sign in" in locked.content.decode()
    # A colleague behind the same hospital address still signs in...
    assert _sign_in(client, cast.bob.email, PASSWORD, ip="10.1.1.1").status_code == 302
    client.post(reverse("logout"))
    # ...and so does the same person from another address.
    assert _sign_in(client, cast.alice.email, PASSWORD, ip="10.2.2.2").status_code == 302


def test_a_partner_signs_in_by_an_emailed_link_that_works_once(client, cast):
    response = client.post(reverse("email_link"), {"email": "BOB@north.nhs.uk"})
    assert "Check your email" in response.content.decode()
    link = re.search(r"http://testserver(/account/email-link/\S+/)", mail.outbox[0].body)[1]
    confirm = client.get(link)
    assert "Sign in as Bob Brown" in confirm.content.decode()
    assert "_auth_user_id" not in client.session  # opening the link alone signs nobody in
    assert client.post(link).status_code == 302
    assert client.session["_auth_user_id"] == str(cast.bob.pk)
    client.post(reverse("logout"))
    assert "expired or been used" in client.get(link).content.decode()


def test_an_unknown_address_is_told_the_same_and_sent_nothing(client, cast):
    response = client.post(reverse("email_link"), {"email": "nobody@example.com"})
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []
