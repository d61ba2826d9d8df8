import csv
from copy import copy
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fca import audit
from fca.access import get_big_room_for_user, get_measure_for_user, require_academy_admin
from fca.csvio import safe_cell
from fca.spreadsheets import column_letter, guess_layout
from measures import services
from measures.forms import (
    AnnotationForm,
    ColumnsForm,
    DataPointForm,
    MeasureForm,
    MeasureSettingsForm,
    PasteForm,
    PhaseForm,
    UploadForm,
    summarise,
)


def form_endpoint(view):
    """A form's POST target. A GET, as when signing in again after the session ran out
    bounces back here, goes to the measure page rather than an error."""

    @wraps(view)
    def wrapper(request, measure_id, **kwargs):
        if request.method != "POST":
            get_measure_for_user(request.user, measure_id)
            return redirect("measure_detail", measure_id=measure_id)
        return view(request, measure_id, **kwargs)

    return require_http_methods(["GET", "POST"])(wrapper)


TABLE_ROWS = 104  # two years of weeks; the CSV has every value


def _chart_context(measure, access) -> dict:
    """What the chart region and the data table show."""
    chart = getattr(measure, "chart", None)
    signals = {p["period"]: p for p in chart.result.get("points", [])} if chart else {}
    points = measure.points.order_by("-period")
    table = [
        {"id": pk, "period": period, "value": value, "provisional": provisional,
         "point": signals.get(period.isoformat())}
        for pk, period, value, provisional in points.values_list(
            "pk", "period", "value", "provisional"
        )[:TABLE_ROWS]
    ]  # fmt: skip
    return {
        "measure": measure,
        "access": access,
        "chart": chart,
        "chart_figure_id": f"chart-figure-{chart.data_version}" if chart else "",
        "current": chart is not None and chart.is_current_for(measure),
        "failed": chart is not None and chart.failed_for(measure),
        "table": table,
        # What the rows show, for the kept table's key (fca.fragments).
        "table_rows": repr([(r["id"], r["period"], r["value"], r["provisional"]) for r in table]),
        "table_total": points.count() if len(table) == TABLE_ROWS else len(table),
    }


def _render_measure(request, measure, access, status=200, **forms):
    context = {
        **_chart_context(measure, access),
        "room": measure.room,
        "pathway": measure.pathway,
        "is_partner": access.is_partner,
        "phases": measure.phases.all(),
        "notes": measure.annotations.all(),
        "cycles": measure.pdsas.select_related("ramp__change_idea").order_by("starts_on", "pk"),
        "point_form": forms.get("point_form") or DataPointForm(measure=measure),
        "paste_form": forms.get("paste_form") or PasteForm(measure=measure),
        "phase_form": forms.get("phase_form") or PhaseForm(),
        "note_form": forms.get("note_form") or AnnotationForm(),
    }
    return render(request, "measures/measure_detail.html", context, status=status)


@login_required
@require_GET
def measure_detail(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id)
    return _render_measure(request, measure, access)


@login_required
@require_GET
def chart_status(request: HttpRequest, measure_id: int) -> HttpResponse:
    """Polled while a chart is recalculating: the chart region, and once the chart is
    current the data table too, swapped in place so nothing typed in the forms is lost."""
    measure, access = get_measure_for_user(request.user, measure_id)
    context = _chart_context(measure, access)
    html = render_to_string("measures/_chart_region.html", context, request=request)
    if context["current"]:
        html += render_to_string(
            "measures/_data_table.html", {**context, "oob": True}, request=request
        )
    return HttpResponse(html)


@login_required
@form_endpoint
def add_point(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, data=True)
    form = DataPointForm(request.POST, measure=measure)
    if form.is_valid():
        try:
            services.add_data_point(
                measure=measure, day=form.cleaned_data["day"], numbers=form.numbers()
            )
        except services.DataError as error:
            form.add_error(None, error.problems)
        else:
            messages.success(request, "Value saved. The chart is being recalculated.")
            return redirect("measure_detail", measure_id=measure.pk)
    return _render_measure(request, measure, access, status=400, point_form=form)


@login_required
@form_endpoint
def paste_points(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, data=True)
    form = PasteForm(request.POST, measure=measure)
    if form.is_valid():
        rows = [(row.line, row.day, row.numbers) for row in form.cleaned_data["rows"]]
        try:
            counts = services.save_data_points(measure=measure, rows=rows)
        except services.DataError as error:
            form.add_error("rows", summarise(error.problems))
        else:
            messages.success(request, _counts_message(counts))
            texts = [row.date_text for row in form.cleaned_data["rows"]]
            if date_warning := services.day_first_warning(measure, texts):
                messages.warning(request, date_warning)
            return redirect("measure_detail", measure_id=measure.pk)
    return _render_measure(request, measure, access, status=400, paste_form=form)


def _counts_message(counts: dict) -> str:
    message = (
        f"{counts['added']:,} values added, {counts['updated']:,} updated and "
        f"{counts['unchanged']:,} unchanged."
    )
    if counts["added"] or counts["updated"]:
        message += " The chart is being recalculated."
    return message


@login_required
@require_http_methods(["GET", "POST"])
def measure_create(request: HttpRequest, room_id: int) -> HttpResponse:
    room, _ = get_big_room_for_user(request.user, room_id, write=True)
    form = MeasureForm(request.POST or None, room=room)
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.create_measure(room=room, **form.cleaned_data)
        except services.DataError as error:
            form.add_error("name", error.problems)
        else:
            messages.success(request, f"“{measure.name}” added. Now add its data.")
            return redirect("measure_detail", measure_id=measure.pk)
    status = 400 if form.errors else 200
    return render(
        request, "measures/measure_form.html", {"room": room, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def measure_settings(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, _ = get_measure_for_user(request.user, measure_id, write=True)
    # The form works on a copy: the page keeps showing the measure as saved.
    form = MeasureSettingsForm(request.POST or None, instance=copy(measure))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_measure(measure=measure, **form.cleaned_data)
        except services.DataError as error:
            form.add_error("chart_type", error.problems)
        else:
            messages.success(request, "Measure saved. The chart is being recalculated.")
            return redirect("measure_detail", measure_id=measure.pk)
    status = 400 if form.errors else 200
    context = {"measure": measure, "room": measure.room, "pathway": measure.pathway, "form": form}
    return render(request, "measures/measure_settings.html", context, status=status)


@login_required
@form_endpoint
def phase_create(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, write=True)
    form = PhaseForm(request.POST)
    if form.is_valid():
        try:
            services.start_phase(measure=measure, by=request.user, **form.cleaned_data)
        except services.DataError as error:
            form.add_error("starts_on", error.problems)
        else:
            messages.success(request, "New phase started. The chart is being recalculated.")
            return redirect("measure_detail", measure_id=measure.pk)
    return _render_measure(request, measure, access, status=400, phase_form=form)


@login_required
@form_endpoint
def annotation_create(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, note=True)
    form = AnnotationForm(request.POST)
    if form.is_valid():
        services.add_annotation(measure=measure, by=request.user, **form.cleaned_data)
        messages.success(request, "Note added to the chart.")
        return redirect("measure_detail", measure_id=measure.pk)
    return _render_measure(request, measure, access, status=400, note_form=form)


@login_required
@require_GET
def measure_csv(request: HttpRequest, measure_id: int) -> HttpResponse:
    """The chart's data as CSV: each point with its centre line, limits and signal."""
    measure, _ = get_measure_for_user(request.user, measure_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(measure.name)}.csv"'
    audit.record("export", request=request, target=measure, format="csv")
    writer = csv.writer(response)
    for row in services.export_rows(measure):
        writer.writerow(safe_cell(cell) for cell in row)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def point_remove(request: HttpRequest, measure_id: int, point_id: int) -> HttpResponse:
    """Confirm, then remove one value: the way to mend a typing slip."""
    measure, _ = get_measure_for_user(request.user, measure_id, data=True)
    if request.method == "POST":
        point = services.remove_data_point(measure=measure, point_id=point_id)
        if point is None:
            messages.info(request, "That value had already been removed.")
        else:
            audit.record("deleted", request=request, target=point, target_id=point_id)
            when = services.describe_period(measure, point.period)
            messages.success(request, f"The value for {when} was removed.")
        return redirect("measure_detail", measure_id=measure.pk)
    point = get_object_or_404(measure.points, pk=point_id)
    context = {
        "measure": measure,
        "room": measure.room,
        "pathway": measure.pathway,
        "point": point,
        "when": services.describe_period(measure, point.period),
    }
    return render(request, "measures/point_remove.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def upload_start(request: HttpRequest, measure_id: int) -> HttpResponse:
    """Step 1 of an upload: choose the file."""
    measure, _ = get_measure_for_user(request.user, measure_id, data=True)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            upload = services.stage_upload(
                measure=measure, filename=file.name, data=file.read(), by=request.user
            )
        except services.DataError as error:
            form.add_error("file", error.problems)
        else:
            return redirect("upload_review", measure_id=measure.pk, upload_id=upload.pk)
    status = 400 if form.errors else 200
    context = {"measure": measure, "room": measure.room, "pathway": measure.pathway, "form": form}
    return render(request, "measures/upload_start.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def upload_review(request: HttpRequest, measure_id: int, upload_id: int) -> HttpResponse:
    """Step 2: pick the heading row and the columns, see every problem or what will change,
    then load. Nothing is saved until the person chooses to load."""
    measure, _ = get_measure_for_user(request.user, measure_id, data=True)
    upload = get_object_or_404(measure.uploads, pk=upload_id)
    if request.method == "POST" and "sheet" in request.POST:
        try:
            services.choose_sheet(upload=upload, sheet=request.POST["sheet"])
        except services.DataError as error:
            messages.error(request, error.problems[0])
        return redirect("upload_review", measure_id=measure.pk, upload_id=upload.pk)
    header, columns = guess_layout(upload.rows, measure.numbers_per_period)
    initial = {"header_row": header}
    names = measure.entry_columns
    initial.update({f"{n}_column": str(c) for n, c in zip(names, columns, strict=True)})
    form = ColumnsForm(request.POST or None, measure=measure, upload=upload, initial=initial)
    plan = problems = None
    date_warning = span = ""
    if request.method == "POST" and form.is_valid():
        try:
            header_row, columns = form.cleaned_data["header_row"], form.columns()
            rows = services.rows_from_upload(upload=upload, header_row=header_row, columns=columns)
            dates = [row[columns[0]] for row in upload.rows[header_row:] if columns[0] < len(row)]
            date_warning = services.day_first_warning(measure, dates)
            if "load" in request.POST:
                counts = services.load_upload(measure=measure, upload=upload, rows=rows)
                messages.success(request, f"From {upload.filename}: {_counts_message(counts)}")
                if date_warning:
                    messages.warning(request, date_warning)
                return redirect("measure_detail", measure_id=measure.pk)
            plan = services.plan_data_points(measure=measure, rows=rows)
            span = services.describe_span(measure, rows)
        except services.DataError as error:
            problems = error.problems
    context = {
        "measure": measure,
        "room": measure.room,
        "pathway": measure.pathway,
        "upload": upload,
        "form": form,
        "preview": upload.rows[:12],
        "letters": [column_letter(i) for i in range(max(map(len, upload.rows), default=0))],
        "plan": plan,
        "span": span,
        "date_warning": date_warning,
        "problems": summarise(problems) if problems else None,
        "problem_count": len(problems) if problems else 0,
    }
    status = 400 if (form.errors or problems) else 200
    return render(request, "measures/upload_review.html", context, status=status)


@login_required
@require_POST
def phase_remove(request: HttpRequest, measure_id: int, phase_id: int) -> HttpResponse:
    measure, _ = get_measure_for_user(request.user, measure_id, write=True)
    phase = services.remove_phase(measure=measure, phase_id=phase_id)
    if phase is not None:
        audit.record("deleted", request=request, target=phase, target_id=phase_id)
        when = services.describe_period(measure, phase.starts_on)
        messages.success(
            request, f"The phase from {when} was removed; its points join the one before."
        )
    return redirect("measure_detail", measure_id=measure.pk)


@login_required
@require_GET
def failed_work(request: HttpRequest) -> HttpResponse:
    """Background work that failed after its retries, for the academy's admins: charts
    that could not be updated, and episode files that could not be loaded."""
    from pathways.models import EpisodeUpload

    require_academy_admin(request.user)
    uploads = EpisodeUpload.objects.filter(status=EpisodeUpload.Status.FAILED).select_related(
        "pathway__host"
    )
    context = {
        "charts": services.failed_charts(),
        "uploads": uploads.order_by("-status_changed_at"),
    }
    return render(request, "measures/failed_work.html", context)
