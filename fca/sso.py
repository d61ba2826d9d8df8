"""Single sign-on with OpenID Connect: the authorization code flow with PKCE, state and
nonce, for the providers in settings.FCA_SSO_PROVIDERS (NHSmail and trusts' own Microsoft
Entra ID tenants, usually).

Authlib does the protocol: discovery from the issuer, the code exchange, and the ID
token's signature (against the provider's JWKS, fetched again when a new key id appears)
and its iss, aud, exp, iat and nonce. This module decides who that makes the person:
an existing, active account with the same email, when the email can be trusted.
No account is ever created here.
"""

import logging
import secrets
import time
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from joserfc.errors import JoseError

from fca.models import User

log = logging.getLogger(__name__)

# Discovery documents are kept this long, then fetched again (keys are refetched sooner,
# as soon as a token names one we have not seen).
DISCOVERY_MAX_AGE = 24 * 60 * 60
HTTP_TIMEOUT = 10  # seconds: a slow provider gets an error page, not a stuck worker
SIGNED_IN_WITH = "fca_signed_in_with"  # session key read by the two-factor sign-in


@dataclass(frozen=True)
class Provider:
    key: str
    issuer: str
    client_id: str
    client_secret: str
    label: str
    organisations: tuple[str, ...]  # ODS codes, or ("*",) for every organisation
    email_domains: tuple[str, ...] = ()
    enforces_mfa: bool = False

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def serves_everyone(self) -> bool:
        return self.organisations == ("*",)


class SignInRefused(Exception):
    """Why a person coming back from a provider is not signed in. ``reason`` is a short
    code for the page and the audit trail."""

    def __init__(self, reason: str, *, email: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.email = email


def providers() -> list[Provider]:
    return [
        Provider(
            key=key,
            issuer=conf["issuer"],
            client_id=conf["client_id"],
            client_secret=conf["client_secret"],
            label=conf["label"],
            organisations=tuple(conf["organisations"]),
            email_domains=tuple(conf.get("email_domains", ())),
            enforces_mfa=conf.get("enforces_mfa", False),
        )
        for key, conf in settings.FCA_SSO_PROVIDERS.items()
    ]


def get_provider(key: str) -> Provider | None:
    return next((p for p in providers() if p.key == key), None)


_clients: dict[Provider, DjangoOAuth2App] = {}


def client_for(provider: Provider) -> DjangoOAuth2App:
    """The provider's client, kept for the process so its discovery document and keys are
    fetched once (and again after DISCOVERY_MAX_AGE)."""
    client = _clients.get(provider)
    loaded_at = client.server_metadata.get("_loaded_at") if client else None
    if client is None or (loaded_at and time.time() - loaded_at > DISCOVERY_MAX_AGE):
        client = DjangoOAuth2App(
            DjangoIntegration(f"fca_sso_{provider.key}"),
            name=f"fca_sso_{provider.key}",
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={
                "scope": "openid email profile",
                "code_challenge_method": "S256",
                "default_timeout": HTTP_TIMEOUT,
            },
        )
        _clients[provider] = client
    return client


def safe_next(request: HttpRequest, candidate: str) -> str:
    """Where to go after signing in: ``candidate`` when it is on this site, else home."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def start_sign_in(request: HttpRequest, provider: Provider, *, next_url: str):
    """The redirect to the provider's sign-in page. Authlib keeps the state in the session,
    with the PKCE verifier, the nonce and the redirect URI, for an hour."""
    client = client_for(provider)
    state = secrets.token_urlsafe(32)
    redirect_uri = request.build_absolute_uri(reverse("sso_callback", args=[provider.key]))
    try:
        response = client.authorize_redirect(request, redirect_uri, state=state)
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as error:
        log.warning("SSO %s: discovery failed: %s", provider.key, error.__class__.__name__)
        raise SignInRefused("provider_error") from None
    # Where to go afterwards rides with Authlib's own state data, so it expires with it.
    data = client.framework.get_state_data(request.session, state)
    data["fca_next"] = safe_next(request, next_url)
    client.framework.set_state_data(request.session, state, data)
    return response


def finish_sign_in(request: HttpRequest, provider: Provider) -> HttpResponseRedirect:
    """Check what the provider sent back, sign the person in, and send them on.

    1. The provider's own refusal (the person cancelled, or an error) ends it.
    2. The state must be one this browser's session started, for this provider.
    3. Authlib exchanges the code (with the PKCE verifier) and checks the ID token.
    4. The email must be trusted (``trusted_email``) and belong to an active account
       that this provider may sign in (``account_for``).
    """
    error = request.GET.get("error")
    if error:
        log.info("SSO %s: the provider answered %s", provider.key, error[:50])
        raise SignInRefused("cancelled" if error == "access_denied" else "provider_error")
    client = client_for(provider)
    state = request.GET.get("state", "")
    data = client.framework.get_state_data(request.session, state) if state else None
    # Authlib keeps the expiry beside the state but does not check it on reading.
    expires = request.session.get(f"_state_{client.framework.name}_{state}", {}).get("exp", 0)
    if data is None or expires < time.time():
        raise SignInRefused("bad_state")
    next_url = data.get("fca_next", "")
    try:
        token = client.authorize_access_token(request)
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError) as e:
        log.warning("SSO %s: code exchange or ID token refused: %r", provider.key, e)
        raise SignInRefused("provider_error") from None
    claims = token.get("userinfo")
    if not claims:  # no ID token came back: nothing says who this is
        raise SignInRefused("provider_error")
    email = trusted_email(provider, claims)
    user = account_for(provider, email)
    from fca import twofactor
    from fca.twofactor_views import sign_in_or_ask_for_code

    if twofactor.required_for(user) and not second_factor_done(provider, claims):
        # A QI lead or academy admin whose provider did not ask for a second factor: the
        # app asks for its own code, as for a password sign-in.
        return sign_in_or_ask_for_code(
            request, user, backend="django.contrib.auth.backends.ModelBackend",
            next_url=safe_next(request, next_url),
        )  # fmt: skip
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SIGNED_IN_WITH] = f"sso:{provider.key}"
    return HttpResponseRedirect(safe_next(request, next_url))


def second_factor_done(provider: Provider, claims: dict) -> bool:
    """The provider asked for a second factor: it is set up to at every sign-in
    (FCA_SSO_<KEY>_ENFORCES_MFA), or its ID token says so (``amr`` holding "mfa")."""
    amr = claims.get("amr") or []
    return provider.enforces_mfa or (isinstance(amr, list) and "mfa" in amr)


def trusted_email(provider: Provider, claims: dict) -> str:
    """The email from the ID token, if it can be trusted to be the person's:

    - ``email_verified`` is true: the provider vouches for it;
    - ``email_verified`` is absent (Microsoft Entra ID never sends it) and the email's
      domain is one of the provider's FCA_SSO_<KEY>_EMAIL_DOMAINS: the provider owns
      that domain, so only it can hand out those addresses;
    - anything else, including ``email_verified`` false for a listed domain, or any email
      outside the listed domains when the provider has some, is refused.
    """
    email = claims.get("email")
    if not isinstance(email, str) or email.count("@") != 1 or len(email) > 254:
        raise SignInRefused("no_email")
    email = email.strip()
    verified = claims.get("email_verified")
    domain = email.rsplit("@", 1)[1].lower()
    if provider.email_domains and domain not in provider.email_domains:
        # A provider given its domains vouches for those only, verified or not.
        raise SignInRefused("email_unverified", email=email)
    if verified is True or verified == "true":  # a few providers send a string
        return email
    if verified is None and domain in provider.email_domains:
        return email
    raise SignInRefused("email_unverified", email=email)


def account_for(provider: Provider, email: str) -> User:
    """The active account with this email (in any case), which the provider serves."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise SignInRefused("no_account", email=email)
    if not user.is_active:
        raise SignInRefused("account_disabled", email=email)
    if (
        not provider.serves_everyone
        and not user.org_memberships.filter(
            organisation__ods_code__in=provider.organisations
        ).exists()
    ):
        raise SignInRefused("wrong_organisation", email=email)
    return user
