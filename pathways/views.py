from copy import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fca.access import get_pathway_for_user, get_step_for_user
from fca.models import OrganisationMembership
from pathways import services
from pathways.forms import PathwayForm, PathwaySettingsForm, StepForm
from pathways.models import MAX_STEPS


def _add_problems(form, error: services.PathwayError) -> None:
    for name, problem in error.problems.items():
        form.add_error(name if name in form.fields else None, problem)


@login_required
@require_http_methods(["GET", "POST"])
def pathway_create(request: HttpRequest) -> HttpResponse:
    """A new care pathway, hosted by an organisation the person is a QI lead of."""
    hosts = [
        m.organisation
        for m in request.user.org_memberships.filter(
            role=OrganisationMembership.Role.QI_LEAD
        ).select_related("organisation")
    ]
    if not hosts:
        raise PermissionDenied("Only an organisation's QI leads can add its pathways")
    form = PathwayForm(request.POST or None, hosts=hosts)
    if request.method == "POST" and form.is_valid():
        try:
            pathway = services.create_pathway(**form.cleaned_data)
        except services.PathwayError as error:
            _add_problems(form, error)
        else:
            messages.success(request, "Pathway added. Now add its steps.")
            return redirect("pathway_steps", pathway_id=pathway.pk)
    status = 400 if form.errors else 200
    return render(request, "pathways/pathway_form.html", {"form": form}, status=status)


@login_required
@require_GET
def pathway_detail(request: HttpRequest, pathway_id: int) -> HttpResponse:
    pathway, access = get_pathway_for_user(request.user, pathway_id)
    context = {
        "pathway": pathway,
        "access": access,
        "steps": pathway.steps.all(),
        "rooms": pathway.rooms.select_related("host"),
        "episodes": pathway.episodes.count(),
        "metrics": [label for value, label in pathway.Metric.choices if value in pathway.metrics],
    }
    return render(request, "pathways/pathway_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def pathway_settings(request: HttpRequest, pathway_id: int) -> HttpResponse:
    pathway, _ = get_pathway_for_user(request.user, pathway_id, write=True)
    form = PathwaySettingsForm(request.POST or None, instance=copy(pathway))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_pathway(pathway=pathway, **form.cleaned_data)
        except services.PathwayError as error:
            _add_problems(form, error)
        else:
            messages.success(request, "Pathway saved.")
            return redirect("pathway_detail", pathway_id=pathway.pk)
    context = {"pathway": pathway, "form": form}
    status = 400 if form.errors else 200
    return render(request, "pathways/pathway_settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def pathway_steps(request: HttpRequest, pathway_id: int) -> HttpResponse:
    """The pathway's steps in order; add one at the end."""
    pathway, _ = get_pathway_for_user(request.user, pathway_id, write=True)
    form = StepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_step(pathway=pathway, **form.cleaned_data)
        except services.PathwayError as error:
            _add_problems(form, error)
        else:
            messages.success(request, "Step added.")
            return redirect("pathway_steps", pathway_id=pathway.pk)
    context = {"pathway": pathway, "form": form, "steps": pathway.steps.all(),
               "max_steps": MAX_STEPS}  # fmt: skip
    status = 400 if form.errors else 200
    return render(request, "pathways/pathway_steps.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, step_id: int) -> HttpResponse:
    step = get_step_for_user(request.user, step_id)
    form = StepForm(request.POST or None, instance=copy(step))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_step(pathway=step.pathway, step=step, **form.cleaned_data)
        except services.PathwayError as error:
            _add_problems(form, error)
        else:
            messages.success(request, "Step saved.")
            return redirect("pathway_steps", pathway_id=step.pathway_id)
    context = {"pathway": step.pathway, "step": step, "form": form}
    status = 400 if form.errors else 200
    return render(request, "pathways/step_form.html", context, status=status)


@login_required
@require_POST
def step_remove(request: HttpRequest, step_id: int) -> HttpResponse:
    step = get_step_for_user(request.user, step_id)
    services.remove_step(step=step)
    messages.success(request, f"The step “{step.name}” was removed, with its times.")
    return redirect("pathway_steps", pathway_id=step.pathway_id)
