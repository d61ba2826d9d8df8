"""Single sign-on pages: off to the provider, and back. Every way it can go wrong ends on
a page that says what happened and what to do next, never an error page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fca import audit, sso
from fca.models import User

# What the page says happened, for each refusal.
HEADINGS = {
    "unknown_provider": "This sign-in option is not available",
    "cancelled": "You did not finish signing in",
    "bad_state": "This sign-in could not be completed",
    "provider_error": "The sign-in service is not working",
    "no_email": "We could not confirm your email address",
    "email_unverified": "We could not confirm your email address",
    "no_account": "You do not have an account yet",
    "account_disabled": "Your account is switched off",
    "wrong_organisation": "Your organisation does not sign in this way",
}

# The status each refusal is answered with: the person's account (403), the request
# itself (400), or the provider (502).
STATUS = {
    "unknown_provider": 400,
    "cancelled": 400,
    "bad_state": 400,
    "provider_error": 502,
    "no_email": 403,
    "email_unverified": 403,
    "no_account": 403,
    "account_disabled": 403,
    "wrong_organisation": 403,
}


@require_GET
@never_cache
def sso_start(request: HttpRequest, provider: str) -> HttpResponse:
    found = sso.get_provider(provider)
    if found is None:
        return _refused(request, None, sso.SignInRefused("unknown_provider"))
    try:
        return sso.start_sign_in(request, found, next_url=request.GET.get("next", ""))
    except sso.SignInRefused as refusal:
        return _refused(request, found, refusal)


@require_GET
@never_cache
def sso_callback(request: HttpRequest, provider: str) -> HttpResponse:
    found = sso.get_provider(provider)
    if found is None:
        return _refused(request, None, sso.SignInRefused("unknown_provider"))
    try:
        return sso.finish_sign_in(request, found)
    except sso.SignInRefused as refusal:
        return _refused(request, found, refusal)


def _refused(request: HttpRequest, provider, refusal: sso.SignInRefused) -> HttpResponse:
    """Record the refusal (the email, never the provider's tokens or other claims) and say
    what happened."""
    email = refusal.email
    person = User.objects.filter(email__iexact=email).first() if email else None
    audit.record(
        "sign_in.sso",
        request=request,
        actor=person or email,
        outcome="failure",
        provider=provider.key if provider else "",
        reason=refusal.reason,
    )
    context = {
        "provider": provider,
        "reason": refusal.reason,
        "heading": HEADINGS[refusal.reason],
        "email": email,
    }
    return render(request, "registration/sso_refused.html", context, status=STATUS[refusal.reason])
