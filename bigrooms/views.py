import csv
from copy import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Avg, Case, Count, F, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bigrooms import dashboard, diagram, services
from bigrooms.forms import (
    ActForm,
    ChangeIdeaForm,
    DashboardFilterForm,
    DoForm,
    DriverForm,
    FiveVsForm,
    GlobalAimForm,
    MeasureFilterForm,
    MemberForm,
    MultivoteForm,
    PhotoForm,
    PlanForm,
    RoomForm,
    ScoreForm,
    SessionForm,
    SpecificAimForm,
    StakeholderForm,
    StudyForm,
    ThemeForm,
    VoteForm,
)
from bigrooms.models import (
    PDSA,
    Action,
    Attendance,
    BigRoom,
    BoardPack,
    ChangeIdea,
    Driver,
    Evaluation,
    GlobalAim,
    Multivote,
    PDSATask,
    RoomAccess,
    SpecificAim,
    StallNote,
    Theme,
)
from bigrooms.story import outline, story
from fca import audit
from fca.access import (
    get_action_for_user,
    get_big_room_for_user,
    get_organisation_for_user,
    get_pdsa_task_for_user,
    get_room_part_for_user,
    get_session_for_user,
)
from fca.csvio import safe_cell
from fca.dates import format_date
from fca.identifiers import text_warnings
from fca.models import Organisation
from fca.qr import qr_svg
from fca.views import feed_tokens_page


@login_required
@require_GET
def room_detail(request: HttpRequest, room_id: int) -> HttpResponse:
    room, access = get_big_room_for_user(request.user, room_id)
    kind_order = Case(
        *(When(kind=k, then=Value(i)) for i, k in enumerate(("outcome", "process", "balancing")))
    )
    measures = (
        room.all_measures()
        .select_related("chart", "driver")
        .defer("chart__figure")
        .order_by(kind_order, "name")
    )
    members = room.memberships.select_related("user").order_by("role", "user__full_name")
    # The latest ten, each counted by a subquery of its own: read down the (room, day)
    # index, so only those ten are counted, not every session the room ever held.
    sessions = room.sessions.annotate(
        attended=Coalesce(Subquery(
            Attendance.objects.filter(session=OuterRef("pk")).values("session")
            .annotate(n=Count("pk")).values("n")
        ), 0),
        mean_score=Subquery(
            Evaluation.objects.filter(session=OuterRef("pk")).values("session")
            .annotate(mean=Avg("score")).values("mean")
        ),
    ).order_by("-held_on")[:10]  # fmt: skip
    context = {
        "room": room,
        "access": access,
        "measures": measures,
        "members": members,
        "sessions": sessions,
        "stages": BigRoom.Stage.choices,
        "stage_changes": room.stage_changes.select_related("changed_by"),
        "status_changes": room.status_changes.select_related("changed_by"),
        "stalls": room.stalls_with_context(),
        # Parking-lot items come from sessions: read with the notes, not by the academy.
        "parking": room.parking_lot.filter(closed_on__isnull=True) if access.can_read_notes else [],
        "is_partner": access.is_partner,
        **story(room),
    }
    layout, drivers, ideas, _ = _diagram(room, context["aim"])
    if drivers or ideas:
        context["diagram_svg"] = _diagram_svg(room, layout, where_listed=LISTED_IN_APP)
    return render(request, "bigrooms/room_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def room_tokens(request: HttpRequest, room_id: int) -> HttpResponse:
    """The room's integration tokens, for data systems that feed its measures."""
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    return feed_tokens_page(
        request,
        kind="room",
        owner=room,
        owner_url=reverse("room_detail", args=[room.pk]),
        feed_what="values to this room's measures",
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest, room_id: int) -> HttpResponse:
    """Log this week's session: one page, top to bottom, that works as a plain form."""
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    members = services.team(room)
    open_actions = list(room.actions.filter(status=Action.Status.OPEN).select_related("owner"))
    suggested = services.suggest_roles(room)
    initial = {"held_on": format_date(services.next_meeting_day(room))}
    initial.update({f"role_{role}": user_id for role, user_id in suggested.items()})
    parking = list(room.parking_lot.filter(closed_on__isnull=True))
    form = SessionForm(
        request.POST or None,
        members=members,
        open_actions=open_actions,
        parking=parking,
        agenda=room.agenda,
        initial=initial,
    )
    existing = None
    if request.method == "POST" and form.is_valid():
        try:
            session = services.record_session(room=room, record=form.record(), by=request.user)
        except services.SessionError as error:
            existing = error.existing
            for name, problem in error.problems.items():
                form.add_error(None if name == "__all__" else _field_for(name), problem)
        else:
            messages.success(request, "Session saved.")
            return redirect("session_detail", session_id=session.pk)
    context = {"room": room, "form": form, "existing": existing}
    return render(
        request, "bigrooms/session_form.html", context, status=400 if form.errors else 200
    )


def _field_for(problem_key: str) -> str:
    """The form field a service's problem belongs to (action_1_owner → new_1_owner)."""
    if problem_key.startswith("action_"):
        return problem_key.replace("action_", "new_", 1)
    return problem_key


@login_required
@require_GET
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session, access = get_session_for_user(request.user, session_id)
    scoring_link = request.build_absolute_uri(
        reverse("score_session", args=[services.scoring_ticket(session)])
    )
    context = {
        "scoring_link": scoring_link,
        "can_write": session.writable_by(request.user, access),
        "scoring_qr": qr_svg(scoring_link) if access.can_manage else "",
        "session": session,
        "room": session.room,
        "access": access,
        "attendances": session.attendances.select_related("user").order_by("user__full_name"),
        "agenda": session.agenda.all(),
        "actions": session.actions_raised.select_related("owner", "chaser"),
        "scores": list(session.evaluations.values_list("score", flat=True)),
        "comments": [c for c in session.evaluations.values_list("comment", flat=True) if c],
        "roles": [
            (label, getattr(session, role)) for role, label in services.SESSION_ROLES.items()
        ],
    }
    return render(request, "bigrooms/session_detail.html", context)


@login_required
@require_GET
def my_actions(request: HttpRequest) -> HttpResponse:
    """Your open actions across all your rooms, overdue first."""
    rooms = BigRoom.objects.visible_to(request.user)
    actions = (
        Action.objects.filter(room__in=rooms, status=Action.Status.OPEN)
        .filter(Q(owner=request.user) | Q(chaser=request.user))
        .select_related("room", "owner")
        .order_by(F("due_on").asc(nulls_last=True), "pk")
    )
    # And the tasks of PDSA cycles still under way that name you.
    tasks = (
        PDSATask.objects.filter(owner=request.user, done=False, pdsa__room__in=rooms)
        .exclude(pdsa__status=PDSA.Status.COMPLETE)
        .select_related("pdsa__room", "pdsa__ramp__change_idea")
        .order_by(F("due_on").asc(nulls_last=True), "pk")
    )
    context = {"actions": actions, "tasks": tasks, "today": timezone.localdate()}
    return render(request, "bigrooms/my_actions.html", context)


@login_required
@require_POST
def pdsa_task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    """Tick off a PDSA task: its owner, or a coach of the room."""
    task = get_pdsa_task_for_user(request.user, task_id)
    services.finish_pdsa_task(task=task)
    messages.success(request, f"“{task.task}” is done.")
    return redirect(request.POST.get("next") if _safe_next(request) else "my_actions")


@login_required
@require_POST
def action_status(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_action_for_user(request.user, action_id)
    status = request.POST.get("status", "")
    try:
        services.update_action(action=action, status=status)
    except ValueError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"“{action.what}” is now {action.get_status_display().lower()}.")
    return redirect(request.POST.get("next") if _safe_next(request) else "my_actions")


def _safe_next(request: HttpRequest) -> bool:
    return url_has_allowed_host_and_scheme(
        request.POST.get("next"),
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def room_settings(request: HttpRequest, room_id: int) -> HttpResponse:
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    form = RoomForm(request.POST or None, instance=copy(room))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_room(room=room, by=request.user, **form.cleaned_data)
        except services.SessionError as error:
            for name, problem in error.problems.items():
                form.add_error(name, problem)
        else:
            messages.success(request, "Room saved.")
            return redirect("room_detail", room_id=room.pk)
    status = 400 if form.errors else 200
    return render(request, "bigrooms/room_form.html", {"room": room, "form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def room_members(request: HttpRequest, room_id: int) -> HttpResponse:
    """The team: add someone from any organisation, or take them off."""
    room, _ = get_big_room_for_user(request.user, room_id, members=True)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invite = form.invite()
        try:
            membership = services.add_member(room=room, invite=invite, by=request.user)
        except services.SessionError as error:
            form.add_problems(error.problems)
        else:
            messages.success(
                request, f"{membership.user.full_name} was added and has been sent an email."
            )
            return redirect("room_members", room_id=room.pk)
    members = room.memberships.select_related("user").order_by("role", "user__full_name")
    context = {"room": room, "form": form, "members": members}
    return render(request, "bigrooms/members.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def member_remove(request: HttpRequest, room_id: int, membership_id: int) -> HttpResponse:
    room, _ = get_big_room_for_user(request.user, room_id, members=True)
    try:
        membership = services.remove_member(room=room, membership_id=membership_id, by=request.user)
    except services.SessionError as error:
        messages.error(request, error.problems["__all__"])
    else:
        if membership is not None:
            messages.success(request, f"{membership.user.full_name} is no longer a member.")
    return redirect("room_members", room_id=room.pk)


@require_http_methods(["GET", "POST"])
def score_session(request: HttpRequest, ticket: str) -> HttpResponse:
    """Score a meeting from a phone, from the link or QR code shown in the room; no sign-in.
    A shared tablet takes one score after another."""
    session = services.session_for_ticket(ticket)
    if session is None:
        return render(request, "bigrooms/score_expired.html")
    form = ScoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_score(session=session, **form.cleaned_data)
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            return redirect(f"{request.path}?thanks=1")
    context = {"session": session, "room": session.room, "form": form,
               "thanks": request.GET.get("thanks") == "1"}  # fmt: skip
    return render(request, "bigrooms/score.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def session_finish(request: HttpRequest, session_id: int) -> HttpResponse:
    session, access = get_session_for_user(request.user, session_id)
    if not access.can_manage:
        raise PermissionDenied("Only the room's coaches can finish a session")
    sent = services.finish_session(session=session, by=request.user)
    if sent:
        messages.success(
            request, f"Session finished. {sent} members were emailed a link to this summary."
        )
    return redirect("session_detail", session_id=session.pk)


@login_required
@require_http_methods(["GET", "POST"])
def room_build(request: HttpRequest, room_id: int) -> HttpResponse:
    """Building the big room: the 5Vs (each save a version), photos, stakeholders."""
    room, access = get_big_room_for_user(request.user, room_id, write=request.method == "POST")
    if not access.can_read_notes:
        raise PermissionDenied("The room's own working is for its members and QI leads")
    latest = room.five_vs.first()
    five_vs = FiveVsForm(instance=copy(latest) if latest else None)
    photo, stakeholder = PhotoForm(), StakeholderForm()
    if request.method == "POST":
        action = request.POST.get("form")
        if action == "five_vs":
            five_vs = FiveVsForm(request.POST)
            if five_vs.is_valid():
                saved = services.save_five_vs(room=room, by=request.user, **five_vs.cleaned_data)
                messages.success(request, "5Vs saved as a new version." if saved else "No change.")
                return redirect("room_build", room_id=room.pk)
        elif action == "photo":
            photo = PhotoForm(request.POST, request.FILES)
            if photo.is_valid():
                try:
                    services.add_photo(room=room, by=request.user, **photo.cleaned_data)
                except services.SessionError as error:
                    photo.add_error("image", error.problems["image"])
                else:
                    messages.success(request, "Photo added.")
                    return redirect("room_build", room_id=room.pk)
        elif action == "stakeholder":
            stakeholder = StakeholderForm(request.POST)
            if stakeholder.is_valid():
                services.add_stakeholder(room=room, **stakeholder.cleaned_data)
                messages.success(request, "Stakeholder added.")
                return redirect("room_build", room_id=room.pk)
    context = {
        "room": room, "access": access, "five_vs": five_vs, "photo_form": photo,
        "stakeholder_form": stakeholder, "versions": room.five_vs.select_related("created_by"),
        "photos": room.photos.all(), "stakeholders": room.stakeholders.all(),
    }  # fmt: skip
    failed = any(f.errors for f in (five_vs, photo, stakeholder))
    return render(request, "bigrooms/build.html", context, status=400 if failed else 200)


@login_required
@require_GET
def room_photo(request: HttpRequest, room_id: int, photo_id: int) -> FileResponse:
    """A photo's file, to people who may see the room's own working only."""
    room, access = get_big_room_for_user(request.user, room_id)
    if not access.can_read_notes:
        raise PermissionDenied("The room's own working is for its members and QI leads")
    photo = get_object_or_404(room.photos, pk=photo_id)
    kind = "image/png" if photo.image.name.lower().endswith(".png") else "image/jpeg"
    response = FileResponse(photo.image.open("rb"), content_type=kind)
    response["Content-Disposition"] = "inline"
    return response


def _writable_session(request: HttpRequest, session_id: int):
    session, access = get_session_for_user(request.user, session_id)
    if not session.writable_by(request.user, access):
        raise PermissionDenied("Only the coaches and this session's role holders write it")
    return session


@login_required
@require_http_methods(["GET", "POST"])
def session_notes(request: HttpRequest, session_id: int) -> HttpResponse:
    """Write the notes as the meeting runs: each part saved on its own, and with
    JavaScript as you type. A part someone else changed meanwhile is shown beside yours."""
    session = _writable_session(request, session_id)
    conflicts = {}
    if request.method == "POST":
        for part, text, version in _posted_parts(request, session):
            try:
                services.save_session_part(session=session, part=part, text=text, version=version)
            except services.StaleVersion as stale:
                conflicts[part] = {"theirs": stale.theirs, "version": stale.version, "mine": text}
        if not conflicts:
            warnings = {
                w for _, text, _ in _posted_parts(request, session) for w in text_warnings(text)
            }
            if warnings:
                messages.warning(
                    request,
                    f"Notes saved, but something in them {' and '.join(sorted(warnings))}: "
                    "if it is about a patient, remove it now.",
                )
            else:
                messages.success(request, "Notes saved.")
            return redirect("session_detail", session_id=session.pk)
        session.refresh_from_db()
    context = {"session": session, "room": session.room, "parts": _parts(session, conflicts)}
    return render(request, "bigrooms/session_notes.html", context, status=409 if conflicts else 200)


def _parts(session, conflicts: dict) -> list[dict]:
    """The parts to show, with the other person's text beside any that clashed."""
    parts = session.note_parts()
    for part in parts:
        if part["part"] in conflicts:
            clash = conflicts[part["part"]]
            part.update(text=clash["mine"], theirs=clash["theirs"], version=clash["version"])
    return parts


def _posted_parts(request: HttpRequest, session) -> list[tuple[str, str, int]]:
    posted = []
    for part in session.note_parts():
        name = part["part"]
        version = request.POST.get(f"{name}__version", "")
        if name in request.POST and version.isdigit():
            posted.append((name, request.POST[name], int(version)))
    return posted


@login_required
@require_POST
def session_autosave(request: HttpRequest, session_id: int) -> JsonResponse:
    """One part of a session, saved as it is typed (static/js/autosave.js)."""
    session = _writable_session(request, session_id)
    version = request.POST.get("version", "")
    if not version.isdigit():
        return JsonResponse({"error": "version is missing"}, status=400)
    try:
        saved = services.save_session_part(
            session=session,
            part=request.POST.get("part", ""),
            text=request.POST.get("text", ""),
            version=int(version),
        )
    except services.StaleVersion as stale:
        return JsonResponse({"theirs": stale.theirs, "version": stale.version}, status=409)
    except ValueError as error:
        return JsonResponse({"error": str(error)}, status=400)
    # Saved, never lost; but say so when it looks like a patient identifier.
    return JsonResponse({"version": saved, "warnings": text_warnings(request.POST.get("text", ""))})


def _meeting_context(session, request) -> dict:
    services.ensure_agenda(session)
    agenda = list(session.agenda.all())
    current = next((i for i in agenda if i.order == session.screen_item), agenda[0])
    allotted = max(1, round(session.room.meeting_minutes / max(len(agenda), 1)))
    room = session.room
    return {
        "session": session,
        "room": room,
        "agenda": agenda,
        "current": current,
        "allotted": allotted,
        "next_items": [i for i in agenda if i.order > current.order][:3],
        "last_weeks_actions": room.actions.filter(raised_in__held_on__lt=session.held_on)
        .filter(Q(status=Action.Status.OPEN) | Q(updated_at__gte=session.created_at))
        .select_related("owner")[:8],
        "new_actions": session.actions_raised.select_related("owner"),
        "parking": room.parking_lot.filter(closed_on__isnull=True),
        "ticket": services.screen_ticket(session),
        "is_evaluation": current.title.lower().startswith("evaluation"),
        # The data item puts the room's measures and their icons on the screen.
        "measures": room.all_measures().select_related("chart").defer("chart__figure")
        if "data" in current.title.lower()
        else [],
        # Drawn only when shown: the screen asks for its state every second.
        "scoring_qr": qr_svg(
            request.build_absolute_uri(
                reverse("score_session", args=[services.scoring_ticket(session)])
            )
        )
        if current.title.lower().startswith("evaluation")
        else "",
    }


@login_required
@require_GET
def meeting_drive(request: HttpRequest, session_id: int) -> HttpResponse:
    """Meeting mode on the laptop that drives the projector: keyboard shortcuts move on."""
    session = _writable_session(request, session_id)
    context = {**_meeting_context(session, request), "driving": True}
    context["screen_link"] = request.build_absolute_uri(
        reverse("meeting_screen", args=[context["ticket"]])
    )
    return render(request, "bigrooms/meeting.html", context)


@login_required
@require_POST
def meeting_move(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _writable_session(request, session_id)
    try:
        services.move_screen(session=session, to=request.POST.get("to", ""))
    except ValueError:
        return HttpResponse(status=400)
    return redirect("meeting_drive", session_id=session.pk)


@login_required
@require_POST
def meeting_action(request: HttpRequest, session_id: int) -> HttpResponse:
    session = _writable_session(request, session_id)
    try:
        services.add_meeting_action(
            session=session,
            what=request.POST.get("what", ""),
            owner_text=request.POST.get("owner_text", ""),
            by=request.user,
        )
    except services.SessionError as error:
        messages.error(request, error.problems["what"])
    return redirect("meeting_drive", session_id=session.pk)


@require_GET
def meeting_screen(request: HttpRequest, screen: str) -> HttpResponse:
    """The room's screen from a signed, read-only link that lasts the meeting."""
    session = services.session_for_screen(screen)
    if session is None:
        return render(request, "bigrooms/meeting_expired.html")
    return render(
        request, "bigrooms/meeting.html", {**_meeting_context(session, request), "driving": False}
    )


@require_GET
def meeting_state(request: HttpRequest, screen: str) -> HttpResponse:
    """What the screen shows now: polled every second, so a second device's moves appear."""
    session = services.session_for_screen(screen)
    if session is None:
        return HttpResponse(status=410)
    return render(request, "bigrooms/_meeting_state.html", _meeting_context(session, request))


@login_required
@require_POST
def stall_note(request: HttpRequest, room_id: int) -> HttpResponse:
    """A coach adds context to a stall flag; it shows beside the flag."""
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    kind, note = request.POST.get("kind", ""), request.POST.get("note", "").strip()
    if kind in {stall.kind for stall in room.stalls()} and note:
        StallNote.objects.create(room=room, kind=kind, note=note[:300], created_by=request.user)
        messages.success(request, "Note added to the flag.")
    else:
        messages.error(request, "Write the note to add to the flag.")
    return redirect("room_detail", room_id=room.pk)


# The Model for Improvement: themes, multivotes, aims, driver diagram, change ideas, PDSAs.


def _render(request, template: str, context: dict, *forms_shown) -> HttpResponse:
    failed = any(form is not None and form.errors for form in forms_shown)
    return render(request, template, context, status=400 if failed else 200)


@login_required
@require_http_methods(["GET", "POST"])
def room_themes(request: HttpRequest, room_id: int) -> HttpResponse:
    """The themes found while building the room, and the multivotes that ranked them."""
    room, access = get_big_room_for_user(request.user, room_id, write=request.method == "POST")
    form = ThemeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_theme(room=room, **form.cleaned_data)
        except services.ImprovementError as error:
            form.add_problems(error.problems)
        else:
            messages.success(request, "Theme added.")
            return redirect("room_themes", room_id=room.pk)
    return _themes_page(request, room, access, form, MultivoteForm())


def _themes_page(request, room, access, form, vote_form) -> HttpResponse:
    context = {
        "room": room, "access": access, "form": form, "vote_form": vote_form,
        "themes": room.themes.annotate(aims=Count("specific_aims")),
        "multivotes": room.multivotes.all(),
        "open_vote": room.multivotes.filter(closed_on__isnull=True).first(),
    }  # fmt: skip
    return _render(request, "bigrooms/themes.html", context, form, vote_form)


@login_required
@require_POST
def multivote_open(request: HttpRequest, room_id: int) -> HttpResponse:
    room, access = get_big_room_for_user(request.user, room_id, write=True)
    form = MultivoteForm(request.POST)
    if form.is_valid():
        try:
            vote = services.open_multivote(room=room, by=request.user, **form.cleaned_data)
        except services.ImprovementError as error:
            form.add_problems(error.problems)
        else:
            return redirect("multivote_detail", multivote_id=vote.pk)
    return _themes_page(request, room, access, ThemeForm(), form)


@login_required
@require_http_methods(["GET", "POST"])
def multivote_detail(request: HttpRequest, multivote_id: int) -> HttpResponse:
    """Vote (each member, from their own phone or the room's tablet), and the ranking."""
    vote, access = get_room_part_for_user(request.user, Multivote, multivote_id)
    if request.method == "POST" and not access.is_member:
        raise PermissionDenied("Only the room's members vote")
    given = dict(vote.votes.filter(voter=request.user).values_list("theme_id", "count"))
    form = VoteForm(request.POST or None, themes=vote.room.themes.all(),
                    votes_each=vote.votes_each, given=given)  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            services.cast_votes(multivote=vote, voter=request.user, counts=form.counts())
        except services.ImprovementError as error:
            form.add_problems(error.problems)
        else:
            given = sum(form.counts().values())
            messages.success(
                request, "Your votes are in." if given else "Your votes are withdrawn."
            )
            return redirect("multivote_detail", multivote_id=vote.pk)
    voters = vote.votes.values("voter").distinct().count() if vote.is_open else None
    context = {"vote": vote, "room": vote.room, "access": access, "form": form,
               "ranking": services.tally(vote), "voters": voters, "given": given}  # fmt: skip
    return _render(request, "bigrooms/multivote.html", context, form)


@login_required
@require_POST
def multivote_close(request: HttpRequest, multivote_id: int) -> HttpResponse:
    vote, _ = get_room_part_for_user(request.user, Multivote, multivote_id, write=True)
    services.close_multivote(multivote=vote)
    messages.success(request, "The multivote is closed and its result kept.")
    return redirect("multivote_detail", multivote_id=vote.pk)


@login_required
@require_http_methods(["GET", "POST"])
def room_aims(request: HttpRequest, room_id: int) -> HttpResponse:
    """The global aim, in words, and the specific aims that say how the room will know."""
    room, access = get_big_room_for_user(request.user, room_id, write=request.method == "POST")
    aim = GlobalAim.objects.filter(room=room).first()
    form = GlobalAimForm(request.POST or None, instance=copy(aim), room=room)
    if request.method == "POST" and form.is_valid():
        services.save_global_aim(room=room, by=request.user, **form.cleaned_data)
        messages.success(request, "Global aim saved.")
        return redirect("room_aims", room_id=room.pk)
    specific = room.specific_aims.select_related("measure__chart", "theme").defer(
        "measure__chart__figure"
    )
    context = {"room": room, "access": access, "form": form, "aim": aim, "specific": specific}
    return _render(request, "bigrooms/aims.html", context, form)


@login_required
@require_http_methods(["GET", "POST"])
def specific_aim_create(request: HttpRequest, room_id: int) -> HttpResponse:
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    return _specific_aim_form(request, room, None)


@login_required
@require_http_methods(["GET", "POST"])
def specific_aim_edit(request: HttpRequest, aim_id: int) -> HttpResponse:
    aim, _ = get_room_part_for_user(request.user, SpecificAim, aim_id, write=True)
    return _specific_aim_form(request, aim.room, aim)


def _specific_aim_form(request, room, aim) -> HttpResponse:
    form = SpecificAimForm(request.POST or None, instance=copy(aim), room=room)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_specific_aim(room=room, aim=aim, **form.cleaned_data)
        except services.ImprovementError as error:
            form.add_problems(error.problems)
        else:
            messages.success(request, "Specific aim saved.")
            return redirect("room_aims", room_id=room.pk)
    context = {"room": room, "form": form, "aim": aim}
    return _render(request, "bigrooms/specific_aim_form.html", context, form)


def _diagram(room: BigRoom, aim: GlobalAim | None = None):
    """The room's driver diagram, laid out, with the drivers and ideas it was drawn from."""
    drivers = list(room.drivers.all())
    ideas = list(room.change_ideas.prefetch_related("drivers"))
    aim = aim or GlobalAim.objects.filter(room=room).first()
    words = aim.statement if aim else "The aim is not written yet"
    layout = diagram.layout(
        words,
        [diagram.Node(d.pk, d.parent_id, d.title) for d in drivers],
        [diagram.Idea(i.pk, i.title, tuple(d.pk for d in i.drivers.all())) for i in ideas],
    )
    return layout, drivers, ideas, aim


def _diagram_svg(room: BigRoom, layout, *, where_listed: str) -> str:
    return diagram.to_svg(
        layout,
        title=f"Driver diagram of {room.name}",
        description="The aim on the left, its primary and secondary drivers, and the change "
        f"ideas on the right. {where_listed}",
    )


# A PNG is drawn on request: bounded, so a huge diagram cannot tie up the server.
PNG_MAX_PIXELS = 24_000_000
LISTED_IN_APP = "The driver diagram page of the room writes it out as a list."


@login_required
@require_http_methods(["GET", "POST"])
def driver_diagram(request: HttpRequest, room_id: int) -> HttpResponse:
    """The driver diagram, drawn and as an outline; coaches add drivers and change ideas."""
    room, access = get_big_room_for_user(request.user, room_id, write=request.method == "POST")
    form = DriverForm(request.POST or None, room=room)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_driver(room=room, **form.cleaned_data)
        except services.ImprovementError as error:
            form.add_problems(error.problems)
        else:
            messages.success(request, "Driver added.")
            return redirect("driver_diagram", room_id=room.pk)
    layout, drivers, ideas, aim = _diagram(room)
    context = {
        "room": room, "access": access, "form": form, "idea_form": ChangeIdeaForm(room=room, auto_id="idea_%s"),
        "svg": _diagram_svg(room, layout, where_listed="The same diagram is written out as a "
                            "list below it."),
        "outline": outline(drivers, ideas), "aim": aim,
        "unplaced": [i for i in ideas if not i.drivers.all()],
    }  # fmt: skip
    return _render(request, "bigrooms/driver_diagram.html", context, form)


@login_required
@require_GET
def driver_diagram_image(request: HttpRequest, room_id: int, kind: str) -> HttpResponse:
    """The diagram to download, as SVG or PNG, for slides and the big room's wall."""
    room, _ = get_big_room_for_user(request.user, room_id)
    layout = _diagram(room)[0]
    if kind == "png":
        scale = min(2.0, (PNG_MAX_PIXELS / (layout.width * layout.height)) ** 0.5)
        response = HttpResponse(diagram.to_png(layout, scale=scale), content_type="image/png")
    else:
        svg = _diagram_svg(room, layout, where_listed=LISTED_IN_APP)
        response = HttpResponse(svg, content_type="image/svg+xml")
    filename = f"driver-diagram-{slugify(room.name) or room.pk}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def driver_edit(request: HttpRequest, driver_id: int) -> HttpResponse:
    driver, _ = get_room_part_for_user(request.user, Driver, driver_id, write=True)
    initial = {"title": driver.title, "parent": driver.parent_id}
    form = DriverForm(request.POST or None, initial=initial, room=driver.room)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_driver(room=driver.room, driver=driver, **form.cleaned_data)
        except services.ImprovementError as error:
            form.add_problems(error.problems)
        else:
            messages.success(request, "Driver saved.")
            return redirect("driver_diagram", room_id=driver.room_id)
    context = {"room": driver.room, "driver": driver, "form": form}
    return _render(request, "bigrooms/driver_form.html", context, form)


@login_required
@require_POST
def driver_remove(request: HttpRequest, driver_id: int) -> HttpResponse:
    driver, _ = get_room_part_for_user(request.user, Driver, driver_id, write=True)
    try:
        services.remove_driver(driver=driver)
    except services.ImprovementError as error:
        messages.error(request, error.problems["__all__"])
        return redirect("driver_edit", driver_id=driver.pk)
    audit.record("deleted", request=request, target=driver, target_id=driver_id)
    messages.success(request, f"“{driver.title}” was removed.")
    return redirect("driver_diagram", room_id=driver.room_id)


@login_required
@require_http_methods(["GET", "POST"])
def change_idea_create(request: HttpRequest, room_id: int) -> HttpResponse:
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    return _change_idea_form(request, room, None)


def _change_idea_form(request, room, idea) -> HttpResponse:
    initial = idea and {"title": idea.title, "description": idea.description,
                        "drivers": list(idea.drivers.all())}  # fmt: skip
    form = ChangeIdeaForm(request.POST or None, initial=initial, room=room)
    if request.method == "POST" and form.is_valid():
        try:
            idea = services.save_change_idea(room=room, idea=idea, **form.cleaned_data)
        except services.ImprovementError as error:
            form.add_problems(error.problems)
        else:
            messages.success(request, "Change idea saved.")
            return redirect("driver_diagram", room_id=room.pk)
    context = {"room": room, "form": form, "idea": idea}
    return _render(request, "bigrooms/change_idea_form.html", context, form)


@login_required
@require_http_methods(["GET", "POST"])
def change_idea_edit(request: HttpRequest, idea_id: int) -> HttpResponse:
    idea, _ = get_room_part_for_user(request.user, ChangeIdea, idea_id, write=True)
    return _change_idea_form(request, idea.room, idea)


@login_required
@require_POST
def change_idea_remove(request: HttpRequest, idea_id: int) -> HttpResponse:
    idea, _ = get_room_part_for_user(request.user, ChangeIdea, idea_id, write=True)
    try:
        services.remove_change_idea(idea=idea)
    except services.ImprovementError as error:
        messages.error(request, error.problems["__all__"])
        return redirect("change_idea_detail", idea_id=idea.pk)
    audit.record("deleted", request=request, target=idea, target_id=idea_id)
    messages.success(request, f"“{idea.title}” was removed.")
    return redirect("driver_diagram", room_id=idea.room_id)


@login_required
@require_POST
def specific_aim_remove(request: HttpRequest, aim_id: int) -> HttpResponse:
    aim, _ = get_room_part_for_user(request.user, SpecificAim, aim_id, write=True)
    aim.delete()
    audit.record("deleted", request=request, target=aim, target_id=aim_id)
    messages.success(request, f"The specific aim “{aim.what}” was removed.")
    return redirect("room_aims", room_id=aim.room_id)


@login_required
@require_POST
def theme_remove(request: HttpRequest, theme_id: int) -> HttpResponse:
    """Take a theme off the list; closed multivotes keep it in their result."""
    theme, _ = get_room_part_for_user(request.user, Theme, theme_id, write=True)
    theme.delete()
    audit.record("deleted", request=request, target=theme, target_id=theme_id)
    messages.success(request, f"The theme “{theme.title}” was removed.")
    return redirect("room_themes", room_id=theme.room_id)


@login_required
@require_GET
def change_idea_detail(request: HttpRequest, idea_id: int) -> HttpResponse:
    """A change idea and its ramps: the cycles in order with their scale and decisions."""
    idea, access = get_room_part_for_user(request.user, ChangeIdea, idea_id)
    ramps = idea.ramps.prefetch_related(
        Prefetch("cycles", queryset=PDSA.objects.order_by("number"))
    )
    context = {"room": idea.room, "idea": idea, "access": access, "ramps": ramps,
               "drivers": idea.drivers.all()}  # fmt: skip
    return render(request, "bigrooms/change_idea.html", context)


def _plan_form(request, room, pdsa=None) -> PlanForm:
    questions = list(pdsa.questions.all()) if pdsa else []
    tasks = list(pdsa.tasks.select_related("owner")) if pdsa else []
    initial = None if pdsa else {"starts_on": format_date(timezone.localdate())}
    return PlanForm(
        request.POST or None, instance=copy(pdsa), initial=initial, room=room,
        team=services.team(room), questions=questions, tasks=tasks,
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def pdsa_create(request: HttpRequest, idea_id: int) -> HttpResponse:
    """Plan the first cycle of a new ramp for a change idea."""
    idea, _ = get_room_part_for_user(request.user, ChangeIdea, idea_id, write=True)
    form = _plan_form(request, idea.room)
    if request.method == "POST" and form.is_valid():
        try:
            pdsa = services.start_pdsa(
                idea=idea, plan=form.plan(), questions=form.questions(), tasks=form.tasks(),
                measures=list(form.cleaned_data["measures"]), by=request.user,
            )  # fmt: skip
        except services.ImprovementError as error:
            form.add_problems(error.problems)
        else:
            messages.success(request, f"PDSA {pdsa.number} planned.")
            return redirect("pdsa_detail", pdsa_id=pdsa.pk)
    context = {"room": idea.room, "idea": idea, "form": form, "part": "plan"}
    return _render(request, "bigrooms/pdsa_form.html", context, form)


def _pdsa(request, pdsa_id: int, *, write: bool = False) -> tuple[PDSA, RoomAccess]:
    return get_room_part_for_user(request.user, PDSA, pdsa_id, write=write)


@login_required
@require_GET
def pdsa_detail(request: HttpRequest, pdsa_id: int) -> HttpResponse:
    pdsa, access = _pdsa(request, pdsa_id)
    pdsa = (
        PDSA.objects.select_related("ramp__change_idea", "room")
        .prefetch_related("measures", "questions", "tasks__owner")
        .get(pk=pdsa.pk)
    )
    latest = pdsa.ramp.cycles.order_by("-number").values_list("number", flat=True).first()
    context = {"room": pdsa.room, "pdsa": pdsa, "access": access,
               "statuses": PDSA.Status.choices, "is_latest": latest == pdsa.number,
               "parts_open": {part: pdsa.reached(part) for part in PDSA.PARTS.values()}}  # fmt: skip
    return render(request, "bigrooms/pdsa_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def pdsa_edit(request: HttpRequest, pdsa_id: int, part: str) -> HttpResponse:
    """Write one part of a cycle: plan, do, study or act. Saving always keeps what was
    typed; "save and move on" then checks the part is complete enough to move."""
    pdsa, _ = _pdsa(request, pdsa_id, write=True)
    if not pdsa.reached(part):
        messages.error(request, f"The cycle is at {pdsa.get_status_display()}: move it on first.")
        return redirect("pdsa_detail", pdsa_id=pdsa.pk)
    form = _part_form(request, pdsa, part)
    if request.method == "POST" and form.is_valid():
        _save_part(pdsa, part, form)
        if "move" not in request.POST:
            messages.success(request, "Saved.")
            return redirect("pdsa_detail", pdsa_id=pdsa.pk)
        try:
            services.move_pdsa(pdsa=pdsa, expected=request.POST.get("status"))
        except services.NeedsConfirming as warning:
            return render(request, "bigrooms/pdsa_confirm.html",
                          {"room": pdsa.room, "pdsa": pdsa, "warning": warning})  # fmt: skip
        except services.ImprovementError as error:
            form = _part_form(request, pdsa, part)
            form.is_valid()
            form.add_problems(error.problems)
            form.add_error(None, "Your changes are saved, but the cycle cannot move on yet")
        else:
            messages.success(request, f"Saved. The cycle is now {pdsa.get_status_display()}.")
            return redirect("pdsa_detail", pdsa_id=pdsa.pk)
    context = {"room": pdsa.room, "pdsa": pdsa, "idea": pdsa.ramp.change_idea,
               "form": form, "part": part}  # fmt: skip
    return _render(request, "bigrooms/pdsa_form.html", context, form)


def _part_form(request, pdsa: PDSA, part: str):
    data = request.POST or None
    if part == "plan":
        return _plan_form(request, pdsa.room, pdsa)
    if part == "do":
        return DoForm(data, instance=copy(pdsa))
    if part == "study":
        return StudyForm(data, questions=pdsa.questions.all(),
                         initial={"learning": pdsa.learning})  # fmt: skip
    return ActForm(data, instance=copy(pdsa))


def _save_part(pdsa: PDSA, part: str, form) -> None:
    if part == "plan":
        services.save_plan(pdsa=pdsa, plan=form.plan(), questions=form.questions(),
                           tasks=form.tasks(), measures=list(form.cleaned_data["measures"]))  # fmt: skip
    elif part == "do":
        services.save_do(pdsa=pdsa, **form.cleaned_data)
    elif part == "study":
        services.save_study(pdsa=pdsa, results=form.results(),
                            learning=form.cleaned_data["learning"])  # fmt: skip
    else:
        services.save_act(pdsa=pdsa, **form.cleaned_data)


@login_required
@require_POST
def pdsa_move(request: HttpRequest, pdsa_id: int) -> HttpResponse:
    """Move the cycle on from its page; what is missing sends the person to that part."""
    pdsa, _ = _pdsa(request, pdsa_id, write=True)
    try:
        services.move_pdsa(pdsa=pdsa, expected=request.POST.get("status"),
                           confirmed="confirmed" in request.POST)  # fmt: skip
    except services.NeedsConfirming as warning:
        return render(request, "bigrooms/pdsa_confirm.html",
                      {"room": pdsa.room, "pdsa": pdsa, "warning": warning})  # fmt: skip
    except services.ImprovementError as error:
        for problem in error.problems.values():
            messages.error(request, problem)
    else:
        messages.success(request, f"The cycle is now {pdsa.get_status_display()}.")
    return redirect("pdsa_detail", pdsa_id=pdsa.pk)


@login_required
@require_POST
def pdsa_next(request: HttpRequest, pdsa_id: int) -> HttpResponse:
    pdsa, _ = _pdsa(request, pdsa_id, write=True)
    try:
        cycle = services.next_cycle(pdsa=pdsa, by=request.user)
    except services.ImprovementError as error:
        messages.error(request, error.problems["__all__"])
        return redirect("pdsa_detail", pdsa_id=pdsa.pk)
    messages.success(request, f"PDSA {cycle.number} started from PDSA {cycle.number - 1}.")
    return redirect("pdsa_edit_plan", pdsa_id=cycle.pk)


@login_required
@require_GET
def room_pdsas(request: HttpRequest, room_id: int) -> HttpResponse:
    """Every PDSA cycle of the room by status, and each change idea's ramps."""
    room, access = get_big_room_for_user(request.user, room_id)
    cycles = room.pdsas.select_related("ramp__change_idea").order_by("-starts_on", "-pk")
    by_status = {value: [] for value, _ in PDSA.Status.choices}
    for cycle in cycles:
        by_status[cycle.status].append(cycle)
    columns = [(label, by_status[value]) for value, label in PDSA.Status.choices]
    ideas = room.change_ideas.prefetch_related(
        Prefetch("ramps__cycles", queryset=PDSA.objects.order_by("number"))
    )
    context = {"room": room, "access": access, "columns": columns, "ideas": ideas}
    return render(request, "bigrooms/room_pdsas.html", context)


@login_required
@require_GET
def organisations(request: HttpRequest) -> HttpResponse:
    """The organisations whose dashboards the person may read: one for most QI leads."""
    readable = list(Organisation.objects.readable_by(request.user))
    if len(readable) == 1 and not request.user.is_academy_admin:
        return redirect("organisation_dashboard", org_id=readable[0].pk)
    return render(request, "bigrooms/organisations.html", {"organisations": readable})


@login_required
@require_GET
def organisation_dashboard(request: HttpRequest, org_id: int) -> HttpResponse:
    """Every big room the organisation hosts at a glance, filtered and ordered."""
    organisation = get_organisation_for_user(request.user, org_id)
    rows = dashboard.room_rows(organisation)
    form = DashboardFilterForm(request.GET, rows=rows)
    chosen = dashboard.choose(rows, **form.cleaned_data) if form.is_valid() else rows
    context = {
        "organisation": organisation,
        "rows": chosen,
        "total": len(rows),
        "summary": dashboard.summary(organisation, rows),
        "form": form,
        "filtered": form.is_valid() and any(form.cleaned_data.values()),
    }
    return render(request, "bigrooms/dashboard.html", context)


MEASURES_PER_PAGE = 100


@login_required
@require_GET
def organisation_measures(request: HttpRequest, org_id: int) -> HttpResponse:
    """Every measure of the organisation's rooms and pathways, by its icons."""
    organisation = get_organisation_for_user(request.user, org_id)
    measures = dashboard.organisation_measures(organisation)
    form = MeasureFilterForm(request.GET)
    chosen = (
        dashboard.choose_measures(measures, **form.cleaned_data) if form.is_valid() else measures
    )
    # A page at a time: a large organisation has a thousand measures (the CSV has all).
    page = Paginator(chosen, MEASURES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"organisation": organisation, "measures": page.object_list, "page": page,
               "matching": len(chosen), "total": len(measures), "form": form,
               "query": query.urlencode()}  # fmt: skip
    return render(request, "bigrooms/dashboard_measures.html", context)


@login_required
@require_GET
def organisation_measures_csv(request: HttpRequest, org_id: int) -> HttpResponse:
    """The measure summary as CSV, with the same filters as the page."""
    organisation = get_organisation_for_user(request.user, org_id)
    form = MeasureFilterForm(request.GET)
    measures = dashboard.organisation_measures(organisation)
    if form.is_valid():
        measures = dashboard.choose_measures(measures, **form.cleaned_data)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = slugify(f"{organisation.name} measures")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    audit.record("export", request=request, target=organisation, format="csv")
    writer = csv.writer(response)
    for row in dashboard.measure_csv_rows(measures):
        writer.writerow(safe_cell(cell) for cell in row)
    return response


# Board packs: a PDF of the room for its organisation's quality committee.


def _board_pack_room(request: HttpRequest, room_id: int) -> BigRoom:
    room, access = get_big_room_for_user(request.user, room_id)
    if not BoardPack.may_make(access):
        raise PermissionDenied("Only the room's coaches and its organisation's QI leads")
    return room


def _board_pack_for(request: HttpRequest, board_pack_id: int) -> BoardPack:
    pack, access = get_room_part_for_user(request.user, BoardPack, board_pack_id)
    if not BoardPack.may_make(access):
        raise PermissionDenied("Only the room's coaches and its organisation's QI leads")
    return pack


def _board_pack_context(room: BigRoom, pack: BoardPack | None) -> dict:
    """The latest pack, and the latest one ready to download (the same, or an older one
    when the latest failed or is still being made)."""
    ready = pack if pack and pack.status == BoardPack.Status.READY else None
    ready = ready or room.board_packs.filter(status=BoardPack.Status.READY).exclude(file="").first()
    return {"room": room, "pack": pack, "ready": ready}


@login_required
@require_http_methods(["GET", "POST"])
def board_pack(request: HttpRequest, room_id: int) -> HttpResponse:
    """Make the room's board pack (the worker builds it), watch it being made, download it.
    The page updates itself with htmx, and works as a plain page without JavaScript."""
    room = _board_pack_room(request, room_id)
    if request.method == "POST":
        services.request_board_pack(room=room, by=request.user)
        return redirect("board_pack", room_id=room.pk)
    pack = room.board_packs.select_related("requested_by").first()
    return render(request, "bigrooms/board_pack.html", _board_pack_context(room, pack))


@login_required
@require_GET
def board_pack_status(request: HttpRequest, board_pack_id: int) -> HttpResponse:
    """Where a pack has got to: the fragment the page polls while it is being made."""
    pack = _board_pack_for(request, board_pack_id)
    context = _board_pack_context(pack.room, pack)
    return render(request, "bigrooms/_board_pack_status.html", context)


@login_required
@require_GET
def board_pack_download(request: HttpRequest, board_pack_id: int) -> FileResponse:
    pack = _board_pack_for(request, board_pack_id)
    if pack.status != BoardPack.Status.READY or not pack.file:
        raise Http404("This board pack is not ready, or a newer one has replaced it")
    made_on = timezone.localdate(pack.updated_at).isoformat()
    filename = f"board-pack-{slugify(pack.room.name)[:80] or pack.room_id}-{made_on}.pdf"
    audit.record("export", request=request, target=pack.room, format="board pack")
    return FileResponse(
        pack.file.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
    )
