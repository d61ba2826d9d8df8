from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from fca import tokens
from fca.access import get_big_room_for_user
from fca.forms import IntegrationTokenForm
from fca.models import ApiToken


@login_required
@require_GET
def room_detail(request: HttpRequest, room_id: int) -> HttpResponse:
    room, access = get_big_room_for_user(request.user, room_id)
    measures = room.measures.select_related("chart").order_by("name")
    members = room.memberships.select_related("user").order_by("role", "user__full_name")
    return render(
        request,
        "bigrooms/room_detail.html",
        {"room": room, "access": access, "measures": measures, "members": members},
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_tokens(request: HttpRequest, room_id: int) -> HttpResponse:
    """The room's integration tokens, for data systems that feed its measures."""
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    form = IntegrationTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _, new_token = tokens.create_token(
            user=request.user, kind=ApiToken.Kind.INTEGRATION, room=room, **form.cleaned_data
        )
        form = IntegrationTokenForm()
    listed = room.api_tokens.select_related("user")
    context = {"form": form, "tokens": listed, "new_token": new_token, "room": room}
    return render(request, "fca/tokens.html", context, status=400 if form.errors else 200)
