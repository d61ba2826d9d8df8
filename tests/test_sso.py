"""Single sign-on with OpenID Connect, against a real provider: oidc-provider, run by node
from tests/oidc/provider.mjs, signing real ID tokens with a key made at its start.

The flow is driven by a real HTTP client (requests, following redirects between the live
server and the provider) and, once, by the browser.
"""

import json
import re
import shutil
import socket
import subprocess
import threading
import time
from importlib import import_module
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from joserfc.jwk import RSAKey

from fca import settings as fca_settings
from fca import sso
from fca.models import AuditEvent
from tests.conftest import wait_for

PROVIDER_SCRIPT = Path(__file__).parent / "oidc" / "provider.mjs"
CLIENT_ID = "fca-big-rooms"
CLIENT_SECRET = "a-test-client-secret-that-is-long-enough"


class RunningProvider:
    """The running provider, and the accounts it signs in (changed per test)."""

    def __init__(self, issuer: str, accounts_file: Path):
        self.issuer = issuer
        self.accounts_file = accounts_file

    def set_accounts(self, **accounts: dict) -> None:
        self.accounts_file.write_text(json.dumps(accounts), encoding="utf-8")


@pytest.fixture(scope="session")
def oidc_provider(live_server, tmp_path_factory):
    """``node tests/oidc/provider.mjs``, with one client whose redirect URIs are the live
    server's callbacks; stopped at the end of the session."""
    node = shutil.which("node")
    assert node, "node is needed for the single sign-on tests (it runs the test provider)"
    folder = tmp_path_factory.mktemp("oidc")
    accounts = folder / "accounts.json"
    accounts.write_text("{}", encoding="utf-8")
    callbacks = [
        live_server.url + reverse("sso_callback", args=[key]) for key in ("testidp", "trust")
    ]
    config = folder / "config.json"
    config.write_text(json.dumps({
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "redirect_uris": callbacks, "accounts_file": str(accounts),
    }), encoding="utf-8")  # fmt: skip
    process = subprocess.Popen(
        [node, str(PROVIDER_SCRIPT), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line, f"the test provider did not start (exit code {process.poll()})"
        issuer = json.loads(line)["issuer"]

        def discovery_answers() -> bool:
            try:
                response = requests.get(issuer + "/.well-known/openid-configuration", timeout=2)
            except requests.ConnectionError:
                return False
            return response.ok and response.json()["issuer"] == issuer

        wait_for(discovery_answers, timeout=30, message="the test provider's discovery")
        yield RunningProvider(issuer, accounts)
    finally:
        process.terminate()
        process.wait(timeout=10)


def provider_settings(issuer: str, **overrides) -> dict:
    return {
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "label": "Sign in with the test provider",
        "organisations": ["*"],
        "email_domains": [],
        **overrides,
    }


@pytest.fixture
def idp(oidc_provider, settings, transactional_db):
    """The test provider configured as "testidp", serving every organisation."""
    settings.FCA_SSO_PROVIDERS = {"testidp": provider_settings(oidc_provider.issuer)}
    oidc_provider.set_accounts(alice={"email": "alice@north.nhs.uk", "email_verified": True})
    return oidc_provider


def sign_in_with_provider(live_server, login: str, *, next_path: str = "", key="testidp"):
    """As a person does: the button on the sign-in page, the provider's page, and back.
    Returns the HTTP session and the last response."""
    session = requests.Session()
    query = f"?next={next_path}" if next_path else ""
    page = session.get(live_server.url + reverse("login") + query, timeout=10)
    start = re.search(rf'href="(/account/sso/{key}/[^"]*)"', page.text)
    assert start, "no button for the provider on the sign-in page"
    at_provider = session.get(live_server.url + start[1].replace("&amp;", "&"), timeout=10)
    assert at_provider.status_code == 200, at_provider.text
    action = re.search(r'action="(/interaction/[^"]+/login)"', at_provider.text)[1]
    issuer = at_provider.url.split("/interaction/")[0]
    return session, session.post(issuer + action, data={"login": login}, timeout=10)


def signed_in_email(live_server, session) -> str | None:
    """Who the app's session cookie signs in, read from the session store."""
    key = next(
        (c.value for c in session.cookies if c.name == django_settings.SESSION_COOKIE_NAME), None
    )
    if not key:
        return None
    store = import_module(django_settings.SESSION_ENGINE).SessionStore(session_key=key)
    from fca.models import User

    user = User.objects.filter(pk=store.get("_auth_user_id")).first()
    return f"{user.email} via {store.get(sso.SIGNED_IN_WITH)}" if user else None


# --- The sign-in page -------------------------------------------------------------------


def test_the_sign_in_page_has_no_single_sign_on_buttons_when_none_is_configured(client, db):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b"sso-buttons" not in page.content
    assert b"/account/sso/" not in page.content


def test_the_sign_in_page_has_a_button_for_each_provider_above_the_password_form(
    client, db, settings
):
    settings.FCA_SSO_PROVIDERS = {
        "nhsmail": provider_settings("https://login.example/nhs", label="Sign in with NHSmail"),
        "rxn": provider_settings("https://login.example/rxn", label="Sign in with North"),
    }
    page = client.get(reverse("login") + "?next=/glossary/").content.decode()
    assert 'href="/account/sso/nhsmail/?next=/glossary/"' in page
    assert ">Sign in with NHSmail</a>" in page
    assert ">Sign in with North</a>" in page
    assert page.index("Sign in with North") < page.index('name="password"')


# --- Signing in -------------------------------------------------------------------------


@pytest.mark.oidc
def test_a_person_signs_in_with_the_provider_and_lands_on_the_home_page(live_server, idp, cast):
    session, landed = sign_in_with_provider(live_server, "alice")
    assert landed.status_code == 200
    assert landed.url == live_server.url + "/"
    assert "Alice Adams" in landed.text  # the header names who is signed in
    assert signed_in_email(live_server, session) == "alice@north.nhs.uk via sso:testidp"
    signed_in = AuditEvent.objects.get(action="sign_in")
    assert (signed_in.actor, signed_in.details["via"]) == (cast.alice, "sso_callback")


@pytest.mark.oidc
def test_a_qi_lead_is_not_asked_again_when_the_provider_asks_for_a_second_factor(
    live_server, idp, cast, settings
):
    settings.FCA_SSO_PROVIDERS = {
        "testidp": provider_settings(idp.issuer, enforces_mfa=True)
    }  # fmt: skip
    idp.set_accounts(quinn={"email": "quinn@north.nhs.uk", "email_verified": True})
    session, landed = sign_in_with_provider(live_server, "quinn")
    assert landed.url == live_server.url + "/"
    assert signed_in_email(live_server, session) == "quinn@north.nhs.uk via sso:testidp"


@pytest.mark.oidc
def test_a_qi_lead_gives_the_apps_own_code_when_the_provider_did_not_ask(live_server, idp, cast):
    from tests.conftest import next_demo_code

    idp.set_accounts(quinn={"email": "quinn@north.nhs.uk", "email_verified": True})
    session, landed = sign_in_with_provider(live_server, "quinn", next_path="/glossary/")
    assert landed.url == live_server.url + reverse("two_factor_code")
    assert signed_in_email(live_server, session) is None  # not yet
    page = session.get(landed.url, timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    done = session.post(
        landed.url, data={"csrfmiddlewaretoken": token, "code": next_demo_code(cast.quinn)},
        headers={"Referer": landed.url}, timeout=10,
    )  # fmt: skip
    assert done.url == live_server.url + "/glossary/"
    assert signed_in_email(live_server, session).startswith("quinn@north.nhs.uk")


@pytest.mark.oidc
def test_it_lands_on_the_page_asked_for_and_never_off_the_site(live_server, idp, cast):
    _, landed = sign_in_with_provider(live_server, "alice", next_path="/glossary/")
    assert landed.url == live_server.url + "/glossary/"
    _, landed = sign_in_with_provider(live_server, "alice", next_path="https://evil.example/")
    assert landed.url == live_server.url + "/"


@pytest.mark.oidc
def test_the_email_is_matched_in_any_case(live_server, idp, cast):
    idp.set_accounts(alice={"email": "Alice@North.NHS.uk", "email_verified": True})
    session, landed = sign_in_with_provider(live_server, "alice")
    assert landed.url == live_server.url + "/"
    assert signed_in_email(live_server, session).startswith("alice@north.nhs.uk")


# --- Refusals ---------------------------------------------------------------------------


def refusal(live_server, login: str, **kwargs):
    session, page = sign_in_with_provider(live_server, login, **kwargs)
    assert signed_in_email(live_server, session) is None
    return page


@pytest.mark.oidc
def test_someone_without_an_account_is_told_to_ask_for_an_invitation(live_server, idp, cast):
    idp.set_accounts(erin={"email": "erin@north.nhs.uk", "email_verified": True})
    page = refusal(live_server, "erin")
    assert page.status_code == 403
    assert "You do not have an account yet" in page.text
    assert "erin@north.nhs.uk does not have an account" in page.text
    assert "QI lead to invite you" in page.text
    event = AuditEvent.objects.get(action="sign_in.sso")
    assert (event.outcome, event.actor_email) == ("failure", "erin@north.nhs.uk")
    assert event.details == {"provider": "testidp", "reason": "no_account"}


@pytest.mark.oidc
def test_an_email_the_provider_has_not_verified_is_refused(live_server, idp, cast):
    idp.set_accounts(alice={"email": "alice@north.nhs.uk", "email_verified": False})
    page = refusal(live_server, "alice")
    assert page.status_code == 403
    assert "We could not confirm your email address" in page.text
    assert AuditEvent.objects.get(action="sign_in.sso").details["reason"] == "email_unverified"


@pytest.mark.oidc
def test_without_email_verified_the_email_is_trusted_only_in_the_providers_domains(
    live_server, idp, cast, settings
):
    # Microsoft Entra ID sends no email_verified at all.
    idp.set_accounts(alice={"email": "alice@north.nhs.uk"})
    assert refusal(live_server, "alice").status_code == 403
    settings.FCA_SSO_PROVIDERS = {
        "testidp": provider_settings(idp.issuer, email_domains=["north.nhs.uk"])
    }
    session, landed = sign_in_with_provider(live_server, "alice")
    assert landed.url == live_server.url + "/"
    # A provider that says outright the email is not verified is believed, domain or not.
    idp.set_accounts(alice={"email": "alice@north.nhs.uk", "email_verified": False})
    assert refusal(live_server, "alice").status_code == 403
    # And a provider given its domains vouches for nothing outside them, verified or not.
    idp.set_accounts(charlie={"email": "charlie@south.nhs.uk", "email_verified": True})
    assert refusal(live_server, "charlie").status_code == 403


@pytest.mark.oidc
def test_a_switched_off_account_is_refused(live_server, idp, cast):
    cast.alice.is_active = False
    cast.alice.save(update_fields=["is_active"])
    page = refusal(live_server, "alice")
    assert page.status_code == 403
    assert "Your account is switched off" in page.text


@pytest.mark.oidc
def test_a_trusts_provider_signs_in_only_its_own_organisations_people(
    live_server, idp, cast, settings
):
    settings.FCA_SSO_PROVIDERS = {
        "trust": provider_settings(idp.issuer, organisations=["RYS"], label="South")
    }
    page = refusal(live_server, "alice", key="trust")
    assert "Your organisation does not sign in this way" in page.text
    idp.set_accounts(charlie={"email": "charlie@south.nhs.uk", "email_verified": True})
    session, landed = sign_in_with_provider(live_server, "charlie", key="trust")
    assert signed_in_email(live_server, session) == "charlie@south.nhs.uk via sso:trust"


@pytest.mark.oidc
def test_a_tampered_state_is_refused_and_the_genuine_one_still_works(live_server, idp, cast):
    session = requests.Session()
    at_provider = session.get(live_server.url + "/account/sso/testidp/", timeout=10)
    action = re.search(r'action="(/interaction/[^"]+/login)"', at_provider.text)[1]
    issuer = at_provider.url.split("/interaction/")[0]
    # Follow the provider's redirects by hand, up to (not into) the app's callback.
    response = session.post(issuer + action, data={"login": "alice"}, allow_redirects=False)
    while not response.headers["Location"].startswith(live_server.url):
        response = session.get(
            requests.compat.urljoin(response.url, response.headers["Location"]),
            allow_redirects=False,
        )
    callback = response.headers["Location"]
    state = re.search(r"state=([^&]+)", callback)[1]
    tampered = session.get(callback.replace(state, state[:-4] + "AAAA"), timeout=10)
    assert tampered.status_code == 400
    assert "This sign-in could not be completed" in tampered.text
    assert signed_in_email(live_server, session) is None
    genuine = session.get(callback, timeout=10)
    assert genuine.url == live_server.url + "/"
    # A code and state are good once only.
    replayed = requests.Session().get(callback, timeout=10)
    assert "This sign-in could not be completed" in replayed.text


@pytest.mark.oidc
def test_a_sign_in_left_for_over_an_hour_is_refused(live_server, idp, cast):
    session = requests.Session()
    at_provider = session.get(live_server.url + "/account/sso/testidp/", timeout=10)
    # An hour and more passes on the app's side: its record of the state has expired.
    key = next(c.value for c in session.cookies if c.name == django_settings.SESSION_COOKIE_NAME)
    store = import_module(django_settings.SESSION_ENGINE).SessionStore(session_key=key)
    for name in [n for n in store.keys() if n.startswith("_state_")]:  # noqa: SIM118 (no __iter__)
        store[name] = {**store[name], "exp": time.time() - 1}
    store.save()
    action = re.search(r'action="(/interaction/[^"]+/login)"', at_provider.text)[1]
    issuer = at_provider.url.split("/interaction/")[0]
    page = session.post(issuer + action, data={"login": "alice"}, timeout=10)
    assert "This sign-in could not be completed" in page.text
    assert signed_in_email(live_server, session) is None


@pytest.mark.oidc
def test_cancelling_at_the_provider_says_nothing_changed(live_server, idp, cast):
    session = requests.Session()
    at_provider = session.get(live_server.url + "/account/sso/testidp/", timeout=10)
    action = re.search(r'action="(/interaction/[^"]+/cancel)"', at_provider.text)[1]
    issuer = at_provider.url.split("/interaction/")[0]
    page = session.post(issuer + action, timeout=10)
    assert page.status_code == 400
    assert "You did not finish signing in" in page.text
    assert AuditEvent.objects.get(action="sign_in.sso").details["reason"] == "cancelled"


@pytest.mark.oidc
def test_an_id_token_signed_with_another_key_is_refused(live_server, idp, cast):
    """The app checks the signature: with the provider's key id mapped to another key in
    the app's cached key set, the provider's real token fails."""
    session = requests.Session()
    at_provider = session.get(live_server.url + "/account/sso/testidp/", timeout=10)
    client = sso.client_for(sso.get_provider("testidp"))
    real = client.fetch_jwk_set(force=True)
    impostor = RSAKey.generate_key(2048).as_dict(private=False)
    client.server_metadata["jwks"] = {"keys": [{**impostor, "kid": real["keys"][0]["kid"]}]}
    action = re.search(r'action="(/interaction/[^"]+/login)"', at_provider.text)[1]
    issuer = at_provider.url.split("/interaction/")[0]
    page = session.post(issuer + action, data={"login": "alice"}, timeout=10)
    client.server_metadata["jwks"] = real
    assert page.status_code == 502
    assert "did not answer as expected" in page.text
    assert signed_in_email(live_server, session) is None


def test_a_provider_that_does_not_answer_gets_a_page_not_a_crash(client, db, settings):
    # Nothing listens on port 9 of the loopback address.
    settings.FCA_SSO_PROVIDERS = {"down": provider_settings("http://127.0.0.1:9")}
    page = client.get("/account/sso/down/")
    assert page.status_code == 502
    assert b"The sign-in service is not working" in page.content
    assert not page.wsgi_request.user.is_authenticated


def test_a_provider_that_hangs_is_given_up_on(client, db, settings, monkeypatch):
    monkeypatch.setattr(sso, "HTTP_TIMEOUT", 1)
    client.get("/account/sso/unknown/")  # the first request of a process is slow to start
    with socket.socket() as silent:  # takes the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        # Without a timeout the app would wait for ever: end the wait after 6 s, so the
        # test fails (too slow) rather than hangs.
        threading.Timer(6, silent.close).start()
        issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.FCA_SSO_PROVIDERS = {"slow": provider_settings(issuer)}
        started = time.monotonic()
        page = client.get("/account/sso/slow/")
    assert page.status_code == 502
    assert time.monotonic() - started < 4


def test_an_unknown_provider_or_a_callback_without_state_is_explained(client, db, settings):
    assert b"This sign-in option is not available" in client.get("/account/sso/nope/").content
    settings.FCA_SSO_PROVIDERS = {"down": provider_settings("http://127.0.0.1:9")}
    page = client.get("/account/sso/down/callback/?code=x&state=forged")
    assert page.status_code == 400
    assert b"This sign-in could not be completed" in page.content


# --- In the browser -----------------------------------------------------------------------


@pytest.mark.oidc
@pytest.mark.browser
def test_a_coach_signs_in_with_the_provider_in_the_browser(web, idp, cast):
    page = web.page
    web.goto("/account/sign-in/?next=/glossary/")
    page.get_by_role("button", name="Sign in with the test provider").click()
    web.check()  # the provider's own page
    page.get_by_label("Test account").fill("alice")
    page.get_by_role("button", name="Sign in to the test provider").click()
    page.wait_for_url(web.base_url + "/glossary/")
    web.check()
    assert page.get_by_text("Alice Adams").is_visible()


@pytest.mark.oidc
@pytest.mark.browser
def test_someone_without_an_account_reads_what_to_do_in_the_browser(web, idp, cast):
    idp.set_accounts(erin={"email": "erin@north.nhs.uk", "email_verified": True})
    page = web.page
    web.goto("/account/sign-in/")
    page.get_by_role("button", name="Sign in with the test provider").click()
    web.check()
    page.get_by_label("Test account").fill("erin")
    page.get_by_role("button", name="Sign in to the test provider").click()
    page.get_by_role("heading", name="You do not have an account yet").wait_for()
    web.check()
    assert page.get_by_text("QI lead to invite you").is_visible()
    page.get_by_role("link", name="Go to the sign-in page").click()
    web.check()
    assert page.get_by_role("button", name="Sign in with the test provider").is_visible()


# --- Settings -----------------------------------------------------------------------------

GOOD = {
    "FCA_SSO_PROVIDERS": "nhsmail, RXN",
    "FCA_SSO_NHSMAIL_ISSUER": "https://login.microsoftonline.com/tenant-id/v2.0",
    "FCA_SSO_NHSMAIL_CLIENT_ID": "client",
    "FCA_SSO_NHSMAIL_CLIENT_SECRET": "secret",
    "FCA_SSO_NHSMAIL_LABEL": "Sign in with NHSmail",
    "FCA_SSO_NHSMAIL_ORGANISATIONS": "*",
    "FCA_SSO_NHSMAIL_EMAIL_DOMAINS": "nhs.net",
    "FCA_SSO_RXN_ISSUER": "https://login.microsoftonline.com/north/v2.0",
    "FCA_SSO_RXN_CLIENT_ID": "client",
    "FCA_SSO_RXN_CLIENT_SECRET": "secret",
    "FCA_SSO_RXN_LABEL": "Sign in with your North account",
    "FCA_SSO_RXN_ORGANISATIONS": "rxn, RYS",
}


def providers_from(monkeypatch, **changes):
    for name, value in {**GOOD, **changes}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return fca_settings.env_sso_providers()


def test_providers_are_read_from_the_environment(monkeypatch):
    providers = providers_from(monkeypatch)
    assert list(providers) == ["nhsmail", "rxn"]
    assert providers["nhsmail"]["email_domains"] == ["nhs.net"]
    assert providers["rxn"]["organisations"] == ["RXN", "RYS"]
    assert providers["rxn"]["email_domains"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"FCA_SSO_PROVIDERS": "nhs_mail"}, "'nhs_mail' is not a provider key"),
        ({"FCA_SSO_PROVIDERS": "nhsmail,NHSmail"}, "names 'NHSmail' twice"),
        ({"FCA_SSO_NHSMAIL_CLIENT_SECRET": None}, "FCA_SSO_NHSMAIL_CLIENT_SECRET must be set"),
        ({"FCA_SSO_NHSMAIL_ORGANISATIONS": ""}, "FCA_SSO_NHSMAIL_ORGANISATIONS must be set"),
        ({"FCA_SSO_NHSMAIL_ISSUER": "http://login.example"}, "FCA_SSO_NHSMAIL_ISSUER must be"),
        ({"FCA_SSO_NHSMAIL_ISSUER": "login.example"}, "FCA_SSO_NHSMAIL_ISSUER must be"),
        ({"FCA_SSO_RXN_ORGANISATIONS": "RXN,*"}, "must be ODS codes"),
        ({"FCA_SSO_RXN_ORGANISATIONS": "North Trust"}, "not 'North Trust'"),
        ({"FCA_SSO_NHSMAIL_EMAIL_DOMAINS": "@nhs.net"}, "'@nhs.net' is not an email domain"),
    ],
)
def test_a_malformed_provider_setting_stops_the_app_starting(monkeypatch, change, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        providers_from(monkeypatch, **change)


def test_a_loopback_http_issuer_is_allowed_for_development_only(monkeypatch):
    local = {"FCA_SSO_NHSMAIL_ISSUER": "http://127.0.0.1:9000"}
    assert providers_from(monkeypatch, **local)["nhsmail"]["issuer"] == "http://127.0.0.1:9000"
    monkeypatch.setattr(fca_settings, "PRODUCTION", True)
    with pytest.raises(ImproperlyConfigured, match="ISSUER must be"):
        providers_from(monkeypatch, **local)
