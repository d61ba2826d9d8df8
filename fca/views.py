from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.mail import send_mail
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bigrooms.models import BigRoom
from fca import tokens
from fca.access import get_token_for_user
from fca.forms import EmailLinkForm, IntegrationTokenForm, NHSSetPasswordForm, TokenForm
from fca.glossary import TERMS
from fca.invitations import invited_user, sign_in_token, user_for_sign_in
from fca.models import ApiToken, Organisation, OrganisationMembership, User
from fca.twofactor_views import sign_in_or_ask_for_code
from pathways.models import Pathway

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    rooms = (
        BigRoom.objects.visible_to(request.user)
        .select_related("host")
        .annotate(measure_count=Count("measures"))
        .order_by("host__name", "name")
    )
    pathways = Pathway.objects.visible_to(request.user).select_related("host")
    qi_lead = request.user.org_memberships.filter(role=OrganisationMembership.Role.QI_LEAD)
    context = {
        "rooms": rooms,
        "pathways": pathways,
        "can_add_pathway": qi_lead.exists(),
        # QI leads and viewers to their organisation's dashboard; academy admins to all.
        "dashboards": [] if request.user.is_academy_admin
        else list(Organisation.objects.readable_by(request.user)),
    }  # fmt: skip
    return render(request, "fca/home.html", context)


@require_GET
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and uptime checks: the app answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out, and say so on the sign-in page."""
    logout(request)
    messages.success(request, "You have signed out.")
    return redirect("login")


@login_required
@require_http_methods(["GET", "POST"])
def personal_tokens(request: HttpRequest) -> HttpResponse:
    """Your API tokens: each acts as you. A new one is shown once."""
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _, new_token = tokens.create_token(
            user=request.user, name=form.cleaned_data["name"], kind=ApiToken.Kind.PERSONAL
        )
        form = TokenForm()
    listed = ApiToken.objects.filter(user=request.user, kind=ApiToken.Kind.PERSONAL)
    context = {"form": form, "tokens": listed, "new_token": new_token}
    return render(request, "fca/tokens.html", context, status=400 if form.errors else 200)


def feed_tokens_page(
    request: HttpRequest, *, kind: str, owner, owner_url: str, feed_what: str
) -> HttpResponse:
    """A room's or a pathway's feed tokens (``kind`` "room" or "pathway"): list them, and
    make one, shown once. The caller has checked the person may manage ``owner``."""
    form = IntegrationTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _, new_token = tokens.create_token(
            user=request.user,
            kind=ApiToken.Kind.INTEGRATION,
            **{kind: owner},
            **form.cleaned_data,
        )
        form = IntegrationTokenForm()
    context = {
        "form": form, "tokens": owner.api_tokens.select_related("user"), "new_token": new_token,
        "owner": owner, "owner_url": owner_url, "owner_kind": kind, "feed_what": feed_what,
    }  # fmt: skip
    return render(request, "fca/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_token_for_user(request.user, token_id)
    tokens.revoke_token(token=token, by=request.user)
    messages.success(request, f"The token “{token.name}” was revoked: it no longer works.")
    if token.room_id:
        return redirect("room_tokens", room_id=token.room_id)
    if token.pathway_id:
        return redirect("pathway_tokens", pathway_id=token.pathway_id)
    return redirect("personal_tokens")


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Someone invited (to a room, or as a coach of a cohort) chooses a password, and is
    signed in."""
    person = invited_user(token)
    if person is None:
        return render(request, "registration/invitation_expired.html")
    form = NHSSetPasswordForm(person, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Welcome. Your password is set.")
        # Straight into their room when they have one (a coach the academy has paired).
        rooms = list(person.room_memberships.values_list("room", flat=True)[:2])
        next_url = reverse("room_detail", args=[rooms[0]]) if len(rooms) == 1 else reverse("home")
        return sign_in_or_ask_for_code(request, person, backend=MODEL_BACKEND, next_url=next_url)
    return render(request, "registration/accept_invitation.html", {"form": form, "person": person})


@login_required
@require_GET
def glossary(request: HttpRequest) -> HttpResponse:
    return render(request, "fca/glossary.html", {"terms": TERMS})


@require_http_methods(["GET", "POST"])
def email_link(request: HttpRequest) -> HttpResponse:
    """Sign in by a link sent by email, for people without a password to remember. The
    page says the same whether or not the address has an account."""
    form = EmailLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = User.objects.filter(
            email__iexact=form.cleaned_data["email"], is_active=True
        ).first()
        if person is not None:
            link = request.build_absolute_uri(
                reverse("email_link_sign_in", args=[sign_in_token(person)])
            )
            send_mail(
                "Your link to sign in to FCA big rooms",
                render_to_string("registration/email_link.txt", {"person": person, "link": link}),
                None,
                [person.email],
            )
        return render(request, "registration/email_link_sent.html")
    return render(
        request, "registration/email_link.html", {"form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def email_link_sign_in(request: HttpRequest, link: str) -> HttpResponse:
    """The emailed link. Signing in takes a press of a button, so that an email scanner
    opening the link does not spend it."""
    person = user_for_sign_in(link)
    if person is None:
        return render(request, "registration/email_link_expired.html")
    if request.method == "POST":
        return sign_in_or_ask_for_code(
            request, person, backend=MODEL_BACKEND, next_url=reverse("home")
        )
    return render(request, "registration/email_link_confirm.html", {"person": person})
