"""Two-factor sign-in: the code step of every local sign-in, setting it up, the account page
and an academy admin's reset. Signing in is finished here, never before the code."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from fca import sealing, twofactor
from fca.access import require_academy_admin
from fca.middleware import signed_out_because, start_session
from fca.models import User
from fca.qr import qr_svg
from fca.twofactor_forms import (
    AccountCodeForm,
    CodeForm,
    ResetForm,
    SetUpForm,
    SignInWithSharedForm,
)

# Between a right password (or emailed link, or invitation) and the code: who, and where
# to after. Not signed in yet; it lapses after ten minutes.
PENDING = "fca_two_factor_pending"
PENDING_SECONDS = 10 * 60
NEW_SECRET = "fca_two_factor_new_secret"


def sign_in_or_ask_for_code(
    request: HttpRequest, user: User, *, backend: str, next_url: str, shared: bool = False
) -> HttpResponse:
    """The one way a local sign-in ends: at once for people without two-factor sign-in,
    otherwise after the code (or after setting it up, for those who must)."""
    if not twofactor.code_needed(user):
        _finish(request, user, backend=backend, shared=shared)
        return redirect(next_url)
    # A new session key from the right password on: a session planted beforehand (a fixed
    # cookie) never holds the sign-in half done, nor the new key shown at set-up.
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk, "backend": backend, "since": int(time.time()), "next": next_url,
        "shared": shared,
    }  # fmt: skip
    return redirect("two_factor_code" if twofactor.device_for(user) else "two_factor_setup")


def _pending(request: HttpRequest) -> tuple[User, dict] | None:
    data = request.session.get(PENDING)
    if not data:
        return None
    user = User.objects.filter(pk=data["user"], is_active=True).first()
    expired = time.time() - data["since"] > PENDING_SECONDS
    if user is None or expired:  # disabled since the password step, or too slow
        del request.session[PENDING]
        if expired:
            messages.info(request, "Signing in took too long. Sign in again.")
        return None
    return user, data


def _finish(request: HttpRequest, user: User, *, backend: str, shared: bool) -> None:
    request.session.pop(PENDING, None)
    request.session.pop(NEW_SECRET, None)
    login(request, user, backend=backend)
    start_session(request, shared=shared)


REASONS = {
    "idle": "You were signed out because you had not used the app for {idle} minutes.",
    "max": "You were signed out because you had been signed in for {most} hours, the "
    "longest a sign-in lasts.",
    "shared_idle": "You were signed out because you had not used the app for "
    "{shared_idle} minutes on a shared computer.",
    "shared_max": "You were signed out because you had been signed in for {shared_most} "
    "hours on a shared computer.",
    "disabled": "You were signed out because your account has been disabled. Ask your QI "
    "lead or academy admin if you think this is wrong.",
    "ended": "You were signed out.",
}


class SignInView(LoginView):
    """The sign-in page: a right password signs in, or leads on to the code step."""

    authentication_form = SignInWithSharedForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        return sign_in_or_ask_for_code(
            self.request, user, backend=user.backend, next_url=self.get_success_url(),
            shared=form.cleaned_data.get("shared_computer", False),
        )  # fmt: skip

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reason = signed_out_because(self.request)
        if reason in REASONS:
            context["signed_out_because"] = REASONS[reason].format(
                idle=settings.FCA_SESSION_IDLE_MINUTES,
                most=settings.FCA_SESSION_MAX_HOURS,
                shared_idle=settings.FCA_SHARED_SESSION_IDLE_MINUTES,
                shared_most=settings.FCA_SHARED_SESSION_MAX_HOURS,
            )
            # What was typed on a timed-out page stays for the same person; a shared
            # computer, or a disabled account, keeps nothing.
            context["keep_drafts"] = reason in {"idle", "max"}
        return context


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_code(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app, or a recovery code."""
    pending = _pending(request)
    if pending is None:
        return redirect("home" if request.user.is_authenticated else "login")
    user, data = pending
    if twofactor.device_for(user) is None:  # reset by an admin since the password step
        return redirect("two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = twofactor.check(user=user, code=form.cleaned_data["code"], request=request)
        if outcome in (twofactor.Outcome.OK, twofactor.Outcome.RECOVERY):
            _finish(request, user, backend=data["backend"], shared=data["shared"])
            if outcome is twofactor.Outcome.RECOVERY:
                left = twofactor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code: you have {left} left. If your phone "
                    "is lost, set up two-factor sign-in on a new one from your account.",
                )
            return redirect(data["next"])
        form.add_error("code", twofactor.message(outcome))
    context = {"form": form, "person": user}
    return render(request, "registration/two_factor_code.html", context, status=_status(form))


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), confirm with a code,
    then see ten recovery codes, once. At sign-in for those who must, or from the account."""
    pending = _pending(request)
    if pending is None and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    user, data = pending if pending else (request.user, None)
    if twofactor.device_for(user) is not None:
        return redirect("two_factor_code" if data else "two_factor_account")
    secret = _new_secret(request, user)
    form = SetUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done, codes = twofactor.set_up(
            user=user, secret=secret, code=form.cleaned_data["code"], request=request
        )
        if done:
            request.session.pop(NEW_SECRET, None)
            if data:
                _finish(request, user, backend=data["backend"], shared=data["shared"])
            next_url = data["next"] if data else reverse("two_factor_account")
            return _show_codes(request, codes, next_url=next_url, new=True)
        form.add_error("code", "The code is not right. Check the key in your app and enter "
                               "the 6-digit code it shows now")  # fmt: skip
    uri = twofactor.provisioning_uri(secret=secret, email=user.email)
    context = {
        "form": form, "person": user, "signing_in": bool(data), "required": twofactor.required_for(user),
        "qr": qr_svg(uri, scale=4, title="QR code to add FCA big rooms to an authenticator app"),
        "secret": twofactor.grouped(secret),
    }  # fmt: skip
    return render(request, "registration/two_factor_setup.html", context, status=_status(form))


def _new_secret(request: HttpRequest, user) -> str:
    """The key being set up, kept in the session (sealed, as a device's is) until a code
    confirms it: a key of its own for each person, and a new one if the old cannot open."""
    stored = request.session.get(NEW_SECRET) or {}
    if stored.get("user") == user.pk:
        try:
            return sealing.unseal(stored["sealed"])
        except (KeyError, sealing.Unreadable):
            pass
    secret = twofactor.new_secret()
    request.session[NEW_SECRET] = {"user": user.pk, "sealed": sealing.seal(secret)}
    return secret


def _show_codes(request, codes: list[str], *, next_url: str, new: bool) -> HttpResponse:
    context = {"codes": codes, "next_url": next_url, "new": new}
    return render(request, "registration/two_factor_recovery_codes.html", context)


def _status(*forms) -> int:
    return 400 if any(form.errors for form in forms) else 200


def _account(request, *, codes_form=None, change_form=None) -> HttpResponse:
    user = request.user
    device = twofactor.device_for(user)
    codes_form = codes_form or AccountCodeForm(prefix="codes")
    change_form = change_form or AccountCodeForm(prefix="change")
    context = {
        "device": device, "required": twofactor.required_for(user),
        "codes_left": twofactor.recovery_codes_left(user) if device else 0,
        "codes_form": codes_form, "change_form": change_form,
    }  # fmt: skip
    status = _status(codes_form, change_form)
    return render(request, "registration/two_factor_account.html", context, status=status)


@login_required
@never_cache
@require_http_methods(["GET"])
def two_factor_account(request: HttpRequest) -> HttpResponse:
    """Your two-factor sign-in: on or off, recovery codes left, what you may change."""
    return _account(request)


def _code_checked(request, form: CodeForm) -> bool:
    """A right code (or recovery code) from the signed-in person, to change their settings:
    someone at an unattended screen cannot."""
    if not form.is_valid():
        return False
    outcome = twofactor.check(user=request.user, code=form.cleaned_data["code"], request=request)
    if outcome in (twofactor.Outcome.OK, twofactor.Outcome.RECOVERY):
        return True
    form.add_error("code", twofactor.message(outcome))
    return False


@login_required
@require_POST
def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Ten new recovery codes, shown once; the old ones stop working."""
    if twofactor.device_for(request.user) is None:
        return redirect("two_factor_account")
    form = AccountCodeForm(request.POST, prefix="codes")
    if not _code_checked(request, form):
        return _account(request, codes_form=form)
    codes = twofactor.regenerate_recovery_codes(user=request.user, request=request)
    return _show_codes(request, codes, next_url=reverse("two_factor_account"), new=False)


@login_required
@require_POST
def two_factor_change(request: HttpRequest) -> HttpResponse:
    """Set it up again on a new phone, or (for those who need not use it) turn it off."""
    if twofactor.device_for(request.user) is None:
        return redirect("two_factor_account")
    form = AccountCodeForm(request.POST, prefix="change")
    turn_off = request.POST.get("then") == "turn_off"
    if turn_off and twofactor.required_for(request.user):
        form.is_valid()
        form.add_error(None, "QI leads and academy admins must use two-factor sign-in: it "
                             "cannot be turned off")  # fmt: skip
        return _account(request, change_form=form)
    if not _code_checked(request, form):
        return _account(request, change_form=form)
    twofactor.remove(user=request.user, by=request.user, request=request)
    if turn_off:
        messages.success(request, "Two-factor sign-in is off.")
        return redirect("two_factor_account")
    return redirect("two_factor_setup")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_reset(request: HttpRequest) -> HttpResponse:
    """An academy admin resets someone's two-factor sign-in (a lost phone): they set it up
    again at their next sign-in."""
    require_academy_admin(request.user)
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        person = User.objects.filter(email__iexact=email).first()
        if person is None:
            form.add_error("email", f"No one has the email address {email}")
        elif not twofactor.remove(user=person, by=request.user, request=request):
            form.add_error("email", f"{person} ({person.email}) has not set up two-factor "
                                    "sign-in: there is nothing to reset")  # fmt: skip
        else:
            messages.success(request, f"Two-factor sign-in for {person} ({person.email}) was "
                                      "reset. They set it up again the next time they sign in.")  # fmt: skip
            return redirect("two_factor_reset")
    return render(request, "registration/two_factor_reset.html", {"form": form},
                  status=_status(form))  # fmt: skip
