from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fca.access import get_big_room_for_user, get_measure_for_user
from measures import services
from measures.forms import DataPointForm, MeasureForm, PasteForm


def _render_measure(request, measure, access, *, point_form=None, paste_form=None, status=200):
    chart = getattr(measure, "chart", None)
    context = {
        "measure": measure,
        "room": measure.room,
        "access": access,
        "chart": chart,
        "current": chart is not None and chart.is_current_for(measure),
        "points": measure.points.order_by("-period"),
        "point_form": point_form or DataPointForm(),
        "paste_form": paste_form or PasteForm(),
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
    response = render(
        request,
        "measures/_chart_status.html",
        {"measure": measure, "current": chart is not None and chart.is_current_for(measure)},
    )
    if chart is not None and chart.is_current_for(measure) and request.htmx:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def add_point(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, data=True)
    form = DataPointForm(request.POST)
    if form.is_valid():
        try:
            services.add_data_point(
                measure=measure, day=form.cleaned_data["day"], value=form.cleaned_data["value"]
            )
        except services.DataError as error:
            form.add_error("day", error.problems)
        else:
            messages.success(request, "Value saved. The chart is being recalculated.")
            return redirect("measure_detail", measure_id=measure.pk)
    return _render_measure(request, measure, access, point_form=form, status=400)


@login_required
@require_POST
def paste_points(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure, access = get_measure_for_user(request.user, measure_id, data=True)
    form = PasteForm(request.POST)
    if form.is_valid():
        rows = [(row.line, row.day, row.value) for row in form.cleaned_data["rows"]]
        try:
            counts = services.save_data_points(measure=measure, rows=rows)
        except services.DataError as error:
            form.add_error("rows", error.problems[:10])
        else:
            messages.success(
                request,
                f"{counts['added']:,} values added and {counts['updated']:,} updated. "
                "The chart is being recalculated.",
            )
            return redirect("measure_detail", measure_id=measure.pk)
    return _render_measure(request, measure, access, paste_form=form, status=400)


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
