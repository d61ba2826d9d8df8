"""Two-factor sign-in in a real browser: a new academy admin sets it up, then signs in with
a code and with a recovery code; a shared computer's cookie ends with the browser."""

import re

import pytest

from fca import twofactor
from fca.models import TwoFactorDevice
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


def _password(web, email, *, shared=False, next_path="/academy/"):
    page = web.page
    web.goto(f"/account/sign-in/?next={next_path}")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    if shared:
        page.get_by_label("This is a shared computer").check()
    page.get_by_role("button", name="Sign in").click()
    web.check()


def test_an_admin_sets_it_up_then_signs_in_with_a_code_and_a_recovery_code(web, cast):
    admin = make_user("sam@academy.nhs.uk", "Sam Admin", is_academy_admin=True)
    page = web.page
    _password(web, admin.email)
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-factor sign-in"
    assert page.get_by_role("img", name="QR code to add FCA big rooms to an authenticator app")
    secret = page.get_by_test_id("two-factor-secret").inner_text().replace(" ", "")

    page.get_by_label("Security code").fill("12345")
    page.get_by_role("button", name="Confirm").click()
    web.check()
    assert "Check the key in your app" in page.locator(".nhsuk-error-summary").inner_text()

    page.get_by_label("Security code").fill(twofactor.code_at(secret, twofactor.step_at()))
    page.get_by_role("button", name="Confirm").click()
    web.check()
    assert "Two-factor sign-in is set up" in page.content()
    codes = page.get_by_test_id("recovery-codes").locator("code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9-]{19}", code) for code in codes)
    page.get_by_role("link", name="I have saved them, continue").click()
    web.check()
    assert page.url.endswith("/academy/")

    # The account page says it is on.
    page.get_by_role("link", name="Two-factor sign-in", exact=True).click()
    web.check()
    assert "On" in page.get_by_test_id("two-factor-status").inner_text()
    assert "10 recovery codes left" in page.get_by_test_id("two-factor-status").inner_text()
    page.get_by_role("button", name="Sign out").click()
    web.check()

    # Next time: a wrong code is explained, then the right one signs in.
    _password(web, admin.email)
    assert page.get_by_role("heading", level=1).inner_text() == "Enter your security code"
    page.get_by_label("Security code").fill("00000x")
    page.get_by_role("button", name="Continue").click()
    web.check()
    assert "The code is not right" in page.locator(".nhsuk-error-summary").inner_text()
    last = TwoFactorDevice.objects.get(user=admin).last_step
    page.get_by_label("Security code").fill(twofactor.code_at(secret, last + 1))
    page.get_by_role("button", name="Continue").click()
    web.check()
    assert page.url.endswith("/academy/")
    page.get_by_role("button", name="Sign out").click()
    web.check()

    # Without the phone: a recovery code, once.
    _password(web, admin.email)
    page.get_by_text("I do not have my phone").click()
    page.get_by_label("Security code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    web.check()
    assert "you have 9 left" in page.content()


def test_a_qi_lead_signs_in_through_the_code_step_on_a_shared_computer(web, cast):
    _password(web, cast.quinn.email, shared=True, next_path="/")
    web.enter_code(cast.quinn.email)
    assert "Quinn Quayle" in web.page.content()
    cookie = next(c for c in web.page.context.cookies() if c["name"] == "sessionid")
    assert cookie["expires"] == -1, "a shared computer's session ends with the browser"
