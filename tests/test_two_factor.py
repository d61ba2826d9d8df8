"""Two-factor sign-in: QI leads and academy admins enter a code from their phone after the
password (or emailed link, or invitation); others may turn it on."""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from fca import twofactor
from fca.invitations import invitation_token, sign_in_token
from fca.middleware import SHARED
from fca.models import AuditEvent, OrganisationMembership, RecoveryCode, TwoFactorDevice, User
from fca.twofactor_views import PENDING
from tests.conftest import PASSWORD, enter_demo_code, make_user


def _password(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password, **extra})


def _code(client, code):
    return client.post(reverse("two_factor_code"), {"code": code})


def _signed_in(client) -> bool:
    return SESSION_KEY in client.session


def _secret_on(page: str) -> str:
    found = re.search(r'data-testid="two-factor-secret">([A-Z2-7 ]+)<', page)
    return found[1].replace(" ", "")


def _codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", page)


def _actions(user) -> list[str]:
    return list(
        AuditEvent.objects.filter(actor=user, action__startswith="two_factor")
        .order_by("pk")
        .values_list("action", flat=True)
    )


# --- The codes themselves --------------------------------------------------------------


def test_codes_match_the_rfc_6238_test_vectors():
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890"
    # RFC 6238 appendix B (SHA-1), the last six of its eight digits.
    assert twofactor.code_at(secret, 59 // 30) == "287082"
    assert twofactor.code_at(secret, 1111111109 // 30) == "081804"
    assert twofactor.code_at(secret, 1234567890 // 30) == "005924"
    assert twofactor.code_at(secret, 2000000000 // 30) == "279037"


def test_a_code_one_step_either_side_is_accepted_but_not_two():
    secret, now = twofactor.new_secret(), time.time()
    step = twofactor.step_at(now)
    for offset in (-1, 0, 1):
        code = twofactor.code_at(secret, step + offset)
        assert twofactor.matching_step(secret, code, when=now) == step + offset
    for offset in (-2, 2):
        code = twofactor.code_at(secret, step + offset)
        if code not in {twofactor.code_at(secret, step + k) for k in (-1, 0, 1)}:
            assert twofactor.matching_step(secret, code, when=now) is None


def test_the_setup_link_names_the_app_and_the_person():
    uri = twofactor.provisioning_uri(secret="ABCDEFGH", email="quinn@north.nhs.uk")
    assert uri == (
        "otpauth://totp/FCA%20big%20rooms%3Aquinn%40north.nhs.uk?secret=ABCDEFGH"
        "&issuer=FCA%20big%20rooms&digits=6&period=30"
    )


# --- Signing in with a code ------------------------------------------------------------


def test_a_qi_lead_is_not_signed_in_by_the_password_alone(client, cast):
    response = _password(client, cast.quinn.email)
    assert response["Location"] == reverse("two_factor_code")
    assert not _signed_in(client)
    assert client.get("/")["Location"].startswith("/account/sign-in/")
    page = client.get(reverse("two_factor_code")).content.decode()
    assert "Enter your security code" in page and cast.quinn.email in page


def test_the_password_step_starts_a_new_session_key(client, cast):
    session = client.session  # a session someone planted before the password
    session["planted"] = True
    session.save()
    client.cookies["sessionid"] = planted = session.session_key
    _password(client, cast.quinn.email)
    assert client.cookies["sessionid"].value != planted


def test_the_right_code_signs_in_and_goes_on_to_next(client, cast):
    next_url = reverse("room_detail", args=[cast.room.pk])
    client.post(
        f"{reverse('login')}?next={next_url}",
        {"username": cast.quinn.email, "password": PASSWORD, "next": next_url},
    )
    response = enter_demo_code(client, cast.quinn)
    assert response["Location"] == next_url
    assert client.session[SESSION_KEY] == str(cast.quinn.pk)
    assert client.get(next_url).status_code == 200
    assert AuditEvent.objects.filter(actor=cast.quinn, action="sign_in").exists()


def test_an_academy_admin_needs_a_code_too(client, cast):
    assert _password(client, cast.ada.email)["Location"] == reverse("two_factor_code")


def test_a_wrong_code_is_refused_and_recorded(client, cast):
    _password(client, cast.quinn.email)
    good = twofactor.demo_code()
    wrong = "000000" if good != "000000" else "111111"
    response = _code(client, wrong)
    assert response.status_code == 400
    assert "The code is not right" in response.content.decode()
    assert not _signed_in(client)
    event = AuditEvent.objects.get(action="two_factor.failed")
    assert event.actor == cast.quinn and event.outcome == "failure"


def test_a_code_is_refused_the_second_time(client, cast):
    _password(client, cast.quinn.email)
    step = twofactor.step_at()
    code = twofactor.code_at(twofactor.DEMO_SECRET, step)
    assert _code(client, code).status_code == 302
    client.post(reverse("logout"))
    _password(client, cast.quinn.email)
    if twofactor.step_at() == step:  # still the same 30 seconds: the same code is shown
        response = _code(client, code)
        assert response.status_code == 400
        assert "That code has been used already" in response.content.decode()
        assert not _signed_in(client)
    TwoFactorDevice.objects.filter(user=cast.quinn).update(last_step=step + 1)
    response = _code(client, twofactor.code_at(twofactor.DEMO_SECRET, step + 1))
    assert response.status_code == 400, "an earlier step than the last used is refused"


def test_wrong_codes_lock_the_second_factor_for_a_while(client, cast, settings):
    settings.AXES_FAILURE_LIMIT = 3
    _password(client, cast.quinn.email)
    for _ in range(2):
        assert "The code is not right" in _code(client, "abc").content.decode()
    response = _code(client, "zzz-not-a-code")
    assert "Too many wrong codes. Wait 15 minutes" in response.content.decode()
    # Locked: even the right code is refused until the cool-off ends.
    response = _code(client, twofactor.demo_code())
    assert "Too many wrong codes" in response.content.decode()
    assert not _signed_in(client)
    device = TwoFactorDevice.objects.get(user=cast.quinn)
    assert device.locked_until > timezone.now() + timedelta(minutes=14)
    device.locked_until = timezone.now() - timedelta(seconds=1)
    device.save()
    assert enter_demo_code(client, cast.quinn).status_code == 302
    assert _signed_in(client)
    assert TwoFactorDevice.objects.get(user=cast.quinn).failures == 0


def test_the_code_step_lapses_after_ten_minutes(client, cast):
    _password(client, cast.quinn.email)
    session = client.session
    session[PENDING]["since"] -= 10 * 60 + 1
    session.save()
    response = enter_demo_code(client, cast.quinn)
    assert response["Location"] == reverse("login")
    assert "Signing in took too long" in client.get(response["Location"]).content.decode()
    assert not _signed_in(client)


def test_a_person_disabled_during_the_code_step_is_not_signed_in(client, cast):
    _password(client, cast.quinn.email)
    User.objects.filter(pk=cast.quinn.pk).update(is_active=False)
    assert enter_demo_code(client, cast.quinn)["Location"] == reverse("login")
    assert not _signed_in(client)


def test_the_code_page_without_a_password_first_leads_to_sign_in(client, cast):
    assert client.get(reverse("two_factor_code"))["Location"] == reverse("login")
    assert _code(client, twofactor.demo_code())["Location"] == reverse("login")
    assert not _signed_in(client)


def test_the_shared_computer_choice_outlasts_the_code_step(client, cast):
    _password(client, cast.quinn.email, shared_computer="on")
    enter_demo_code(client, cast.quinn)
    assert client.session[SHARED] is True
    assert client.session.get_expire_at_browser_close()


# --- Recovery codes --------------------------------------------------------------------


def _set_up(client, email):
    """Password, then set-up: the page's key, a code from it; the recovery codes shown."""
    response = _password(client, email)
    assert response["Location"] == reverse("two_factor_setup")
    page = client.get(response["Location"]).content.decode()
    secret = _secret_on(page)
    response = client.post(
        reverse("two_factor_setup"), {"code": twofactor.code_at(secret, twofactor.step_at())}
    )
    assert response.status_code == 200
    return secret, _codes_on(response.content.decode())


def test_a_recovery_code_signs_in_once(client, cast):
    _, codes = _set_up(
        client, make_user("lead@north.nhs.uk", "Lee Lead", is_academy_admin=True).email
    )
    lead = User.objects.get(email="lead@north.nhs.uk")
    client.post(reverse("logout"))
    _password(client, lead.email)
    response = _code(client, codes[3].upper().replace("-", " "))  # as someone might type it
    assert response.status_code == 302 and _signed_in(client)
    assert "you have 9 left" in client.get("/").content.decode()
    assert "two_factor.recovery_used" in _actions(lead)
    client.post(reverse("logout"))
    _password(client, lead.email)
    assert _code(client, codes[3]).status_code == 400, "a recovery code works once"
    assert not _signed_in(client)


def test_recovery_codes_are_stored_hashed(client, cast):
    make_user("lead@north.nhs.uk", "Lee Lead", is_academy_admin=True)
    _, codes = _set_up(client, "lead@north.nhs.uk")
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert len(stored) == 10
    assert not any(code.replace("-", "") in h or code in h for code in codes for h in stored)


# --- Setting it up ---------------------------------------------------------------------


def test_a_qi_lead_without_a_phone_set_up_is_taken_through_set_up(client, cast):
    lead = make_user("newlead@north.nhs.uk", "Nia New")
    OrganisationMembership.objects.create(user=lead, organisation=cast.north, role="qi_lead")
    response = _password(client, lead.email)
    assert response["Location"] == reverse("two_factor_setup")
    page = client.get(reverse("two_factor_setup")).content.decode()
    assert "<svg" in page and "QR code to add FCA big rooms to an authenticator app" in page
    secret = _secret_on(page)
    assert len(secret) == 32
    assert (
        client.get(reverse("two_factor_setup")).content.decode().count(twofactor.grouped(secret))
    ), "the key stays the same while the person sets it up"

    response = client.post(reverse("two_factor_setup"), {"code": "123456"})
    if twofactor.matching_step(secret, "123456") is None:
        assert response.status_code == 400
        assert "Check the key in your app" in response.content.decode()
        assert not _signed_in(client)

    response = client.post(
        reverse("two_factor_setup"), {"code": twofactor.code_at(secret, twofactor.step_at())}
    )
    page = response.content.decode()
    assert "Two-factor sign-in is set up" in page and "Save your recovery codes" in page
    assert len(_codes_on(page)) == 10
    assert _signed_in(client)
    assert TwoFactorDevice.objects.get(user=lead).secret == secret
    assert _actions(lead) == ["two_factor.set_up"]

    client.post(reverse("logout"))
    assert _password(client, lead.email)["Location"] == reverse("two_factor_code")


def test_set_up_at_sign_in_after_an_emailed_link(client, cast):
    link = reverse("email_link_sign_in", args=[sign_in_token(cast.quinn)])
    response = client.post(link)
    assert response["Location"] == reverse("two_factor_code")
    assert not _signed_in(client)
    assert enter_demo_code(client, cast.quinn)["Location"] == "/"
    assert _signed_in(client)


def test_accepting_an_invitation_as_a_qi_lead_goes_through_set_up(client, cast):
    lead = User.objects.create_user("invited@north.nhs.uk", None, full_name="Ian Invited")
    OrganisationMembership.objects.create(user=lead, organisation=cast.north, role="qi_lead")
    response = client.post(
        reverse("accept_invitation", args=[invitation_token(lead)]),
        {"new_password1": "a-long-new-password", "new_password2": "a-long-new-password"},
    )
    assert response["Location"] == reverse("two_factor_setup")
    assert not _signed_in(client)
    lead.refresh_from_db()
    assert lead.check_password("a-long-new-password")


def test_a_coach_is_not_asked_for_a_code(client, cast):
    assert _password(client, cast.alice.email)["Location"] == "/"
    assert _signed_in(client)


def test_when_not_required_qi_leads_sign_in_with_the_password(client, cast, settings):
    settings.FCA_REQUIRE_TWO_FACTOR = False
    TwoFactorDevice.objects.filter(user=cast.quinn).delete()
    assert _password(client, cast.quinn.email)["Location"] == "/"
    assert _signed_in(client)


def test_someone_signed_in_by_single_sign_on_is_not_asked_again(client, cast):
    # The callback signs in itself once a second factor is done (the provider's or the
    # app's: tests/test_sso.py); the pages never ask again.
    client.force_login(cast.quinn)
    session = client.session
    session["fca_signed_in_with"] = "sso:nhsmail"
    session.save()
    assert client.get("/").status_code == 200


# --- The account page ------------------------------------------------------------------


def test_a_coach_turns_it_on_and_off_from_their_account(client, cast):
    _password(client, cast.alice.email)
    page = client.get(reverse("two_factor_account")).content.decode()
    assert "<strong>Off</strong>" in page
    secret = _secret_on(client.get(reverse("two_factor_setup")).content.decode())
    response = client.post(
        reverse("two_factor_setup"), {"code": twofactor.code_at(secret, twofactor.step_at())}
    )
    codes = _codes_on(response.content.decode())
    assert len(codes) == 10
    page = client.get(reverse("two_factor_account")).content.decode()
    assert "<strong>On</strong>" in page and "10 recovery codes left" in page
    # Turned on, the next sign-in asks for a code.
    client.post(reverse("logout"))
    assert _password(client, cast.alice.email)["Location"] == reverse("two_factor_code")
    _code(client, twofactor.code_at(secret, twofactor.step_at() + 1))
    assert _signed_in(client)

    response = client.post(reverse("two_factor_change"), {"change-code": "", "then": "turn_off"})
    assert response.status_code == 400 and TwoFactorDevice.objects.filter(user=cast.alice)
    response = client.post(
        reverse("two_factor_change"), {"change-code": codes[0], "then": "turn_off"}
    )
    assert response["Location"] == reverse("two_factor_account")
    assert not TwoFactorDevice.objects.filter(user=cast.alice).exists()
    assert not RecoveryCode.objects.filter(user=cast.alice).exists()
    assert _actions(cast.alice) == [
        "two_factor.set_up",
        "two_factor.recovery_used",
        "two_factor.turned_off",
    ]
    client.post(reverse("logout"))
    assert _password(client, cast.alice.email)["Location"] == "/"


def test_a_qi_lead_cannot_turn_it_off(client, cast):
    client.force_login(cast.quinn)
    page = client.get(reverse("two_factor_account")).content.decode()
    assert "Turn off two-factor sign-in" not in page
    response = client.post(
        reverse("two_factor_change"), {"change-code": twofactor.demo_code(), "then": "turn_off"}
    )
    assert response.status_code == 400
    assert "must use two-factor sign-in: it cannot be turned off" in response.content.decode()
    assert TwoFactorDevice.objects.filter(user=cast.quinn).exists()


def test_a_qi_lead_moves_to_a_new_phone(client, cast):
    client.force_login(cast.quinn)
    response = client.post(
        reverse("two_factor_change"), {"change-code": twofactor.demo_code(), "then": "set_up_again"}
    )
    assert response["Location"] == reverse("two_factor_setup")
    secret = _secret_on(client.get(response["Location"]).content.decode())
    assert secret != twofactor.DEMO_SECRET
    client.post(
        reverse("two_factor_setup"), {"code": twofactor.code_at(secret, twofactor.step_at())}
    )
    assert TwoFactorDevice.objects.get(user=cast.quinn).secret == secret


def test_new_recovery_codes_replace_the_old_ones(client, cast):
    make_user("lead@north.nhs.uk", "Lee Lead", is_academy_admin=True)
    secret, old = _set_up(client, "lead@north.nhs.uk")
    lead = User.objects.get(email="lead@north.nhs.uk")
    wrong = client.post(reverse("two_factor_recovery_codes"), {"codes-code": "999-no"})
    assert wrong.status_code == 400 and "The code is not right" in wrong.content.decode()
    response = client.post(reverse("two_factor_recovery_codes"), {"codes-code": old[0]})
    new = _codes_on(response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert "your old codes no longer work" in response.content.decode()
    assert "two_factor.codes_regenerated" in _actions(lead)
    client.post(reverse("logout"))
    _password(client, lead.email)
    assert _code(client, old[1]).status_code == 400
    assert _code(client, new[1]).status_code == 302


# --- An academy admin's reset ----------------------------------------------------------


def test_an_academy_admin_resets_a_lost_phone(client, cast):
    client.force_login(cast.ada)
    assert "Reset someone" in client.get(reverse("academy_home")).content.decode()
    response = client.post(
        reverse("two_factor_reset"), {"email": cast.quinn.email.upper(), "checked": "on"}
    )
    assert response["Location"] == reverse("two_factor_reset")
    assert (
        "Two-factor sign-in for Quinn Quayle" in client.get(response["Location"]).content.decode()
    )
    assert not TwoFactorDevice.objects.filter(user=cast.quinn).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert event.actor == cast.ada and event.target_id == str(cast.quinn.pk)

    quinn = type(client)()
    assert _password(quinn, cast.quinn.email)["Location"] == reverse("two_factor_setup")


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        (
            {"email": "nobody@north.nhs.uk", "checked": "on"},
            "No one has the email address nobody@north.nhs.uk",
        ),
        (
            {"email": "alice@north.nhs.uk", "checked": "on"},
            "Alice Adams (alice@north.nhs.uk) has not set up",
        ),
        ({"email": "quinn@north.nhs.uk"}, "Confirm that you have checked who is asking"),
        ({"email": "not an email", "checked": "on"}, "Enter a valid email address"),
    ],
)
def test_a_reset_that_cannot_be_done_says_why(client, cast, form, problem):
    client.force_login(cast.ada)
    response = client.post(reverse("two_factor_reset"), form)
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert TwoFactorDevice.objects.filter(user=cast.quinn).exists()


def test_only_academy_admins_reset(client, cast):
    client.force_login(cast.quinn)
    response = client.post(reverse("two_factor_reset"), {"email": cast.ada.email, "checked": "on"})
    assert response.status_code == 404
    assert TwoFactorDevice.objects.filter(user=cast.ada).exists()


# --- The demo --------------------------------------------------------------------------


def test_the_demo_gives_its_qi_leads_and_admin_the_known_key(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("load_demo", stdout=out)
    devices = TwoFactorDevice.objects.select_related("user")
    keyed = {device.user.email for device in devices if device.secret == twofactor.DEMO_SECRET}
    assert keyed == {
        "qilead@bhr.demo.nhs.uk",
        "qilead@leeds.demo.nhs.uk",
        "admin@academy.demo.nhs.uk",
    }
    assert "FCAB IGRO OMSD EMOS ECRE T234" in out.getvalue()
    code = StringIO()
    call_command("demo_code", stdout=code)
    assert re.match(r"\d{6} \(for \d+ more seconds\)", code.getvalue())
    assert code.getvalue()[:6] in {
        twofactor.demo_code(),
        twofactor.demo_code(when=time.time() - 30),
    }


# --- Keys sealed at rest ------------------------------------------------------------------

OLD_KEY, NEW_KEY = "old-" + "k" * 60, "new-" + "n" * 60


def test_a_key_is_sealed_at_rest_in_the_database_and_while_being_set_up(client, cast, settings):
    client.force_login(cast.bob)
    page = client.get(reverse("two_factor_setup")).content.decode()
    secret = _secret_on(page)
    stored = client.session.load()
    assert secret not in str(stored)  # the session row holds it sealed
    client.post(
        reverse("two_factor_setup"), {"code": twofactor.code_at(secret, twofactor.step_at())}
    )
    sealed = TwoFactorDevice.objects.values_list("sealed_secret", flat=True).get(user=cast.bob)
    assert secret not in sealed and len(sealed) > 100
    assert TwoFactorDevice.objects.get(user=cast.bob).secret == secret


def test_a_key_sealed_under_an_earlier_secret_key_opens_and_is_sealed_again(cast, settings):
    settings.SECRET_KEY = OLD_KEY
    device = twofactor.demo_device(cast.quinn)
    under_old = device.sealed_secret
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    code = twofactor.demo_code(after_step=device.last_step)
    assert twofactor.check(user=cast.quinn, code=code) is twofactor.Outcome.OK
    device.refresh_from_db()
    assert device.sealed_secret != under_old
    settings.SECRET_KEY_FALLBACKS = []  # the old key can go now
    assert device.secret == twofactor.DEMO_SECRET


def test_a_key_sealed_under_a_key_now_gone_matches_no_code_and_says_why_in_the_log(
    cast, settings, caplog
):
    settings.SECRET_KEY = OLD_KEY
    twofactor.demo_device(cast.quinn)
    settings.SECRET_KEY = NEW_KEY
    code = twofactor.demo_code()
    assert twofactor.check(user=cast.quinn, code=code) is twofactor.Outcome.WRONG
    assert "reset their two-factor sign-in" in caplog.text
    # The recovery codes still let them in, to set up their app again.
    settings.SECRET_KEY = OLD_KEY
    codes = twofactor.regenerate_recovery_codes(user=cast.quinn)
    settings.SECRET_KEY = NEW_KEY
    assert twofactor.check(user=cast.quinn, code=codes[0]) is twofactor.Outcome.RECOVERY


def test_the_migration_seals_the_keys_stored_before_it_and_unseals_them_reversed(migrate_to):
    before = [("fca", "0008_token_uses_now_in_the_audit_log")]
    old = migrate_to(before)
    user = old.get_model("fca", "User").objects.create(email="old@north.nhs.uk", password="!")
    old.get_model("fca", "TwoFactorDevice").objects.create(user=user, secret="JBSWY3DPEHPK3PXP")

    migrate_to([("fca", "0009_two_factor_secrets_sealed")])
    device = TwoFactorDevice.objects.get(user_id=user.pk)
    assert "JBSWY3DPEHPK3PXP" not in device.sealed_secret
    assert device.secret == "JBSWY3DPEHPK3PXP"

    plain = migrate_to(before).get_model("fca", "TwoFactorDevice")
    assert plain.objects.get(user_id=user.pk).secret == "JBSWY3DPEHPK3PXP"
