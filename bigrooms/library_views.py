"""The learning library's pages: browse and search change packages, read one, copy it
into a room you coach; publish your room's; curate (academy admins)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bigrooms import library
from bigrooms.forms import CopyForm, CurateForm, PublishForm
from bigrooms.models import BigRoom, ChangePackage, RoomMembership
from bigrooms.services import ImprovementError
from fca.access import get_big_room_for_user, get_package_for_user, require_academy_admin


def _rooms_coached(user):
    return BigRoom.objects.filter(
        memberships__user=user, memberships__role__in=RoomMembership.COACH_ROLES
    ).distinct()


@login_required
@require_GET
def library_list(request: HttpRequest) -> HttpResponse:
    packages = ChangePackage.objects.all()
    if not request.user.is_academy_admin:
        packages = packages.filter(status=ChangePackage.Status.PUBLISHED)
    q, specialty = request.GET.get("q", "")[:100], request.GET.get("specialty", "")[:100]
    specialties = sorted(set(packages.exclude(specialty="").values_list("specialty", flat=True)))
    context = {"packages": library.search(packages, q=q, specialty=specialty), "q": q,
               "specialty": specialty, "specialties": specialties}  # fmt: skip
    return render(request, "bigrooms/library.html", context)


def _render_package(request, package, *, copy_form=None, curate_form=None, status=200):
    rooms = _rooms_coached(request.user)
    context = {
        "package": package,
        "content": package.content,
        "outline": library.outline(package.content),
        "copy_form": copy_form or CopyForm(rooms=rooms),
        "can_copy": rooms.exists(),
        "curate_form": curate_form or CurateForm(initial={
            "featured": package.featured, "note": package.curator_note,
            "withdrawn": package.status == ChangePackage.Status.WITHDRAWN}),
    }  # fmt: skip
    return render(request, "bigrooms/library_detail.html", context, status=status)


@login_required
@require_GET
def library_detail(request: HttpRequest, package_id: int) -> HttpResponse:
    return _render_package(request, get_package_for_user(request.user, package_id))


@login_required
@require_POST
def library_copy(request: HttpRequest, package_id: int) -> HttpResponse:
    """Copy the package into a room the person coaches, as a starting point."""
    package = get_package_for_user(request.user, package_id)
    form = CopyForm(request.POST, rooms=_rooms_coached(request.user))
    if not form.is_valid():
        return _render_package(request, package, copy_form=form, status=400)
    room, _ = get_big_room_for_user(request.user, int(form.cleaned_data["room"]), write=True)
    added = library.copy_package(package=package, room=room)
    words = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in added.items() if n)
    messages.success(request, f"Copied into {room.name}: {words or 'nothing new'}.")
    return redirect("room_detail", room_id=room.pk)


@login_required
@require_POST
def library_curate(request: HttpRequest, package_id: int) -> HttpResponse:
    require_academy_admin(request.user)
    package = get_package_for_user(request.user, package_id)
    form = CurateForm(request.POST)
    if not form.is_valid():
        return _render_package(request, package, curate_form=form, status=400)
    library.curate(package=package, **form.cleaned_data)
    messages.success(request, "Saved.")
    return redirect("library_detail", package_id=package.pk)


@login_required
@require_http_methods(["GET", "POST"])
def room_publish(request: HttpRequest, room_id: int) -> HttpResponse:
    """A coach publishes the room's change package once it has adopted a change."""
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    form = PublishForm(request.POST or None, initial={"summary": library.learning_so_far(room)})
    if request.method == "POST" and form.is_valid():
        try:
            package = library.publish_package(room=room, by=request.user, **form.cleaned_data)
        except ImprovementError as error:
            form.add_problems(error.problems)
        else:
            messages.success(request, "Published in the learning library.")
            return redirect("library_detail", package_id=package.pk)
    content = library.snapshot(room)
    context = {"room": room, "form": form, "may_publish": library.may_publish(room),
               "content": content, "outline": library.outline(content)}  # fmt: skip
    return render(request, "bigrooms/library_publish.html", context,
                  status=400 if form.errors else 200)  # fmt: skip
