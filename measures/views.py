import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fca.access import get_big_room_for_user, get_measure_for_user
from fca.csvio import safe_cell
from measures import services
from measures.forms import (
    AnnotationForm,
    DataPointForm,
    MeasureForm,
    MeasureSettingsForm,
    PasteForm,
    PhaseForm,
)


def _render_measure(request, measure, access, status=200, **forms):
    chart = getattr(measure, "chart", None)
    context = {
        "measure": measure,
        "room": measure.room,
        "access": access,
        "chart": chart,
        "current": chart is not None and chart.is_current_for(measure),
        "phases": measure.phases.all(),
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
    """Polled while a chart is recalculating; tells the page to reload once it is current."""
    measure, _ = get_measure_for_user(request.user, measure_id)
    chart = getattr(measure, "chart", None)
    current = chart is not None and chart.is_current_for(measure)
    response = render(
        request, "measures/_chart_status.html", {"measure": measure, "current": current}
    )
    if current and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def add_point(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, data=True)
    form = DataPointForm(request.POST, measure=measure)
    if form.is_valid():
        try:
            services.add_data_point(
                measure=measure, day=form.cleaned_data["day"], numbers=form.numbers()
            )
        except services.DataError as error:
            form.add_error("day", error.problems)
        else:
            messages.success(request, "Value saved. The chart is being recalculated.")
            return redirect("measure_detail", measure_id=measure.pk)
    return _render_measure(request, measure, access, status=400, point_form=form)


@login_required
@require_POST
def paste_points(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, data=True)
    form = PasteForm(request.POST, measure=measure)
    if form.is_valid():
        rows = [(row.line, row.day, row.numbers) for row in form.cleaned_data["rows"]]
        try:
            counts = services.save_data_points(measure=measure, rows=rows)
        except services.DataError as error:
            form.add_error("rows", error.problems[:10])
        else:
            messages.success(request, _counts_message(counts))
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
    form = MeasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        measure = services.create_measure(room=room, **form.cleaned_data)
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
    form = MeasureSettingsForm(request.POST or None, instance=measure)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_measure(measure=measure, **form.cleaned_data)
        except services.DataError as error:
            form.add_error("chart_type", error.problems)
        else:
            messages.success(request, "Measure saved. The chart is being recalculated.")
            return redirect("measure_detail", measure_id=measure.pk)
    status = 400 if form.errors else 200
    context = {"measure": measure, "room": measure.room, "form": form}
    return render(request, "measures/measure_settings.html", context, status=status)


@login_required
@require_POST
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
@require_POST
def annotation_create(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, data=True)
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
    chart = getattr(measure, "chart", None)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(measure.name)}.csv"'
    writer = csv.writer(response)
    writer.writerow(["period", "value", "numerator", "denominator", "centre", "lower",
                     "upper", "rule", "point_type"])  # fmt: skip
    computed = {p["period"]: p for p in (chart.result.get("points", []) if chart else [])}
    for point in measure.points.order_by("period"):
        row = computed.get(point.period.isoformat(), {})
        writer.writerow(
            safe_cell(cell)
            for cell in (
                point.period.isoformat(),
                point.value,
                point.numerator,
                point.denominator,
                row.get("centre"),
                row.get("lower"),
                row.get("upper"),
                row.get("rule"),
                row.get("point_type"),
            )
        )
    return response
