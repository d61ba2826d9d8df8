from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bigrooms.models import BigRoom


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    rooms = (
        BigRoom.objects.visible_to(request.user)
        .select_related("host")
        .prefetch_related("measures")
        .order_by("host__name", "name")
    )
    return render(request, "fca/home.html", {"rooms": rooms})


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
