from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from fca.access import get_big_room_for_user


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
