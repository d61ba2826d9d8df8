"""The academy's pages, for academy admins: cohorts, enrolment, taught days, coaches,
the programme's figures."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bigrooms.models import BigRoom
from fca import academy, audit
from fca import programme as programme_figures
from fca.academy_forms import (
    AttendanceForm,
    CoachStatusForm,
    CohortForm,
    EnrolmentForm,
    PairForm,
    TaughtDayForm,
)
from fca.access import get_academy_object, require_academy_admin
from fca.csvio import safe_cell
from fca.models import Coach, Cohort, Enrolment, Organisation, TaughtDay


@login_required
@require_GET
def academy_home(request: HttpRequest) -> HttpResponse:
    require_academy_admin(request.user)
    cohorts = Cohort.objects.annotate(coach_count=Count("coaches"))
    return render(request, "fca/academy/home.html", {"cohorts": cohorts})


@login_required
@require_http_methods(["GET", "POST"])
def cohort_create(request: HttpRequest) -> HttpResponse:
    require_academy_admin(request.user)
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cohort = form.save()
        messages.success(request, f"{cohort.name} added. Now enrol its coaches.")
        return redirect("cohort_detail", cohort_id=cohort.pk)
    status = 400 if form.errors else 200
    return render(request, "fca/academy/cohort_form.html", {"form": form}, status=status)


@login_required
@require_GET
def cohort_detail(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = get_academy_object(request.user, Cohort, cohort_id)
    coaches = list(cohort.coaches.select_related("user", "organisation"))
    statuses = academy.shown_statuses(coaches)
    rooms = academy.coach_rooms(coaches)
    for coach in coaches:
        coach.shown_status, coach.rooms = statuses[coach.pk], rooms.get(coach.user_id, [])
    days = cohort.days.annotate(came=Count("present"))
    context = {"cohort": cohort, "coaches": coaches, "days": days,
               "enrolments": cohort.enrolments.filter(confirmed_at__isnull=False)[:5]}  # fmt: skip
    return render(request, "fca/academy/cohort_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_new(request: HttpRequest, cohort_id: int) -> HttpResponse:
    """Upload the list: the next page previews every row before anything is saved."""
    cohort = get_academy_object(request.user, Cohort, cohort_id)
    form = EnrolmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            enrolment = academy.stage_enrolment(
                cohort=cohort, filename=upload.name, data=upload.read(), by=request.user
            )
        except academy.EnrolmentError as error:
            form.add_error("file", str(error))
        else:
            return redirect("enrolment_detail", enrolment_id=enrolment.pk)
    status = 400 if form.errors else 200
    context = {"cohort": cohort, "form": form}
    return render(request, "fca/academy/enrolment_new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_detail(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    """The preview of a list, every row with its problems; confirm when it has none."""
    enrolment = get_academy_object(request.user, Enrolment, enrolment_id)
    if request.method == "POST":
        try:
            outcome = academy.confirm_enrolment(enrolment=enrolment, by=request.user)
        except academy.EnrolmentError as error:
            messages.error(request, str(error))
            return redirect("enrolment_detail", enrolment_id=enrolment.pk)
        messages.success(request, _enrolled_words(outcome))
        return redirect("cohort_detail", cohort_id=enrolment.cohort_id)
    context = {"enrolment": enrolment, "cohort": enrolment.cohort,
               "problems": enrolment.problem_rows}  # fmt: skip
    return render(request, "fca/academy/enrolment_detail.html", context)


def _enrolled_words(outcome: dict) -> str:
    enrolled, invited, already = (outcome.get(k, 0) for k in ("enrolled", "invited", "already"))
    words = f"{enrolled} coach{'es' if enrolled != 1 else ''} enrolled"
    if invited:
        words += f"; {invited} invited by email to set a password"
    if already:
        words += f"; {already} already in the cohort, left as they were"
    return words + "."


@login_required
@require_http_methods(["GET", "POST"])
def taught_day_create(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = get_academy_object(request.user, Cohort, cohort_id)
    form = TaughtDayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        day, created = TaughtDay.objects.get_or_create(
            cohort=cohort, held_on=form.cleaned_data["held_on"],
            defaults={"title": form.cleaned_data["title"]},
        )  # fmt: skip
        if created:
            return redirect("taught_day_attendance", day_id=day.pk)
        form.add_error("held_on", f"{cohort.name} already has a day on that date: {day.title}")
    status = 400 if form.errors else 200
    context = {"cohort": cohort, "form": form}
    return render(request, "fca/academy/taught_day_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def taught_day_attendance(request: HttpRequest, day_id: int) -> HttpResponse:
    day = get_academy_object(request.user, TaughtDay, day_id)
    coaches = day.cohort.coaches.select_related("user", "organisation")
    initial = {"present": [str(pk) for pk in day.present.values_list("pk", flat=True)]}
    form = AttendanceForm(request.POST or None, initial=initial, coaches=coaches)
    if request.method == "POST" and form.is_valid():
        day.present.set([int(pk) for pk in form.cleaned_data["present"]])
        messages.success(request, f"Attendance at {day.title} saved.")
        return redirect("cohort_detail", cohort_id=day.cohort_id)
    context = {"day": day, "cohort": day.cohort, "form": form}
    return render(request, "fca/academy/taught_day_attendance.html", context)


def _coach_forms(coach: Coach, data=None, *, status_form=None, pair_form=None):
    other = Coach.Kind.INDEPENDENT if coach.kind == Coach.Kind.CLINICAL else Coach.Kind.CLINICAL
    partners = Coach.objects.filter(kind=other).select_related("user", "organisation")
    rooms = BigRoom.objects.exclude(status=BigRoom.Status.CLOSED).select_related("host")
    return (
        status_form
        or CoachStatusForm(initial={"status": coach.status, "reason": coach.status_reason}),
        pair_form or PairForm(data, partners=partners, rooms=rooms),
    )


def _render_coach(request, coach: Coach, status=200, **forms) -> HttpResponse:
    status_form, pair_form = _coach_forms(coach, **forms)
    context = {
        "coach": coach,
        "cohort": coach.cohort,
        "shown_status": academy.shown_statuses([coach])[coach.pk],
        "rooms": academy.coach_rooms([coach]).get(coach.user_id, []),
        "status_form": status_form,
        "pair_form": pair_form,
        "can_resend": not coach.user.has_usable_password(),
    }
    return render(request, "fca/academy/coach_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def coach_detail(request: HttpRequest, coach_id: int) -> HttpResponse:
    """A coach: their status (set by an admin, or read from their rooms' sessions)."""
    coach = get_academy_object(request.user, Coach, coach_id)
    if request.method == "POST":
        form = CoachStatusForm(request.POST)
        if form.is_valid():
            academy.set_coach_status(coach=coach, by=request.user, **form.cleaned_data)
            messages.success(request, f"{coach.user.full_name}'s status saved.")
            return redirect("coach_detail", coach_id=coach.pk)
        return _render_coach(request, coach, status=400, status_form=form)
    return _render_coach(request, coach)


@login_required
@require_POST
def coach_pair(request: HttpRequest, coach_id: int) -> HttpResponse:
    """Pair the coach with a coach of the other kind as the coaches of a big room."""
    coach = get_academy_object(request.user, Coach, coach_id)
    _, form = _coach_forms(coach, request.POST)
    if form.is_valid():
        partner = Coach.objects.select_related("user").get(pk=form.cleaned_data["partner"])
        room = BigRoom.objects.get(pk=form.cleaned_data["room"])
        clinical, independent = (coach, partner) if coach.kind == "clinical" else (partner, coach)
        try:
            academy.assign_pair(room=room, clinical=clinical, independent=independent,
                                by=request.user)  # fmt: skip
        except academy.EnrolmentError as error:
            form.add_error("partner", str(error))
        else:
            messages.success(
                request,
                f"{clinical.user.full_name} and {independent.user.full_name} now coach {room.name}.",
            )
            return redirect("coach_detail", coach_id=coach.pk)
    return _render_coach(request, coach, status=400, pair_form=form)


@login_required
@require_POST
def coach_resend(request: HttpRequest, coach_id: int) -> HttpResponse:
    coach = get_academy_object(request.user, Coach, coach_id)
    if academy.resend_invitation(coach=coach, by=request.user):
        messages.success(request, f"A new invitation is on its way to {coach.user.email}.")
    else:
        messages.info(request, f"{coach.user.full_name} has already set a password.")
    return redirect("coach_detail", coach_id=coach.pk)


def _scope_choices():
    choices = [("", "The whole academy")]
    choices += [(f"cohort-{c.pk}", f"Cohort: {c.name}") for c in Cohort.objects.all()]
    choices += [(f"organisation-{o.pk}", f"Organisation: {o.name}")
                for o in Organisation.objects.all()]  # fmt: skip
    return choices


@login_required
@require_GET
def programme(request: HttpRequest) -> HttpResponse:
    """The programme's figures by quarter, charted, for everyone, a cohort or an
    organisation."""
    require_academy_admin(request.user)
    scope = programme_figures.scope_for(request.GET.get("scope", ""))
    rows = programme_figures.figures(scope)
    charts = [
        ("People", programme_figures.chart(rows, ["coaches_trained", "coaching"])),
        ("Big rooms", programme_figures.chart(rows, ["rooms_running", "pathways", "sustained"])),
        ("Sessions logged", programme_figures.chart(rows, ["sessions"], kind="bars")),
        (
            "PDSA cycles decided",
            programme_figures.chart(rows, ["adopt", "adapt", "abandon"], kind="bars"),
        ),  # fmt: skip
    ]
    context = {"scope": scope, "rows": rows, "charts": charts,
               "columns": programme_figures.COLUMNS, "choices": _scope_choices()}  # fmt: skip
    return render(request, "fca/academy/programme.html", context)


@login_required
@require_GET
def programme_csv(request: HttpRequest) -> HttpResponse:
    require_academy_admin(request.user)
    scope = programme_figures.scope_for(request.GET.get("scope", ""))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="programme-{slugify(scope.label)}.csv"'
    audit.record("export", request=request, format="csv", what="programme", scope=scope.label)
    writer = csv.writer(response)
    for row in programme_figures.csv_rows(scope, programme_figures.figures(scope)):
        writer.writerow(safe_cell(cell) for cell in row)
    return response
