from copy import copy
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fca import audit
from fca.access import get_episode_upload_for_user, get_pathway_for_user, get_step_for_user
from fca.models import OrganisationMembership
from fca.views import feed_tokens_page
from pathways import episodes, services
from pathways.forms import EpisodeFileForm, PathwayForm, PathwaySettingsForm, StepForm
from pathways.models import MAX_STEPS


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
            form.add_problems(error.problems)
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
        "uploads": pathway.uploads.select_related("created_by")[:5] if access.can_load else [],
        "metrics": [label for value, label in pathway.Metric.choices if value in pathway.metrics],
        "measures": pathway.measures.select_related("chart").defer("chart__figure"),
        "heatmaps": _heatmap_tables(pathway.heatmap),
        "heatmap_from": pathway.heatmap and date.fromisoformat(pathway.heatmap["start"]),
        "heatmap_to": pathway.heatmap
        and date.fromisoformat(pathway.heatmap["end"]) - timedelta(days=1),
        "recomputing": pathway.metrics_version < pathway.data_version,
    }
    return render(request, "pathways/pathway_detail.html", context)


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _heatmap_tables(heatmap: dict) -> list[dict]:
    """Arrivals and discharges as two weekday × hour tables, each cell shaded 0–4 by its
    share of the busiest hour (the number is in the cell too: colour is never alone)."""
    if not heatmap:
        return []
    tables = []
    for key, title in (("arrivals", "Arrivals"), ("discharges", "Discharges")):
        grid = heatmap[key]
        top = max((n for row in grid for n in row), default=0) or 1
        rows = [
            {"day": day, "cells": [(n, min(4, round(4 * n / top))) for n in row]}
            for day, row in zip(DAYS, grid, strict=True)
        ]
        tables.append({"key": key, "title": title, "rows": rows})
    return tables


@login_required
@require_http_methods(["GET", "POST"])
def pathway_settings(request: HttpRequest, pathway_id: int) -> HttpResponse:
    pathway, _ = get_pathway_for_user(request.user, pathway_id, write=True)
    form = PathwaySettingsForm(request.POST or None, instance=copy(pathway))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_pathway(pathway=pathway, **form.cleaned_data)
        except services.PathwayError as error:
            form.add_problems(error.problems)
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
            form.add_problems(error.problems)
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
            form.add_problems(error.problems)
        else:
            messages.success(request, "Step saved.")
            return redirect("pathway_steps", pathway_id=step.pathway_id)
    context = {"pathway": step.pathway, "step": step, "form": form}
    status = 400 if form.errors else 200
    return render(request, "pathways/step_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def step_remove(request: HttpRequest, step_id: int) -> HttpResponse:
    """Confirm, then remove a step: its times go from every episode held."""
    step = get_step_for_user(request.user, step_id)
    if request.method == "GET":
        held = step.pathway.episodes.exclude(**{f"step_{step.slot}": None}).count()
        context = {"pathway": step.pathway, "step": step, "held": held}
        return render(request, "pathways/step_remove.html", context)
    services.remove_step(step=step)
    audit.record("deleted", request=request, target=step, target_id=step_id)
    messages.success(request, f"The step “{step.name}” was removed, with its times.")
    return redirect("pathway_steps", pathway_id=step.pathway_id)


@login_required
@require_http_methods(["GET", "POST"])
def episode_upload_new(request: HttpRequest, pathway_id: int) -> HttpResponse:
    """Upload a file of episodes: it is kept and checked, then the person chooses."""
    pathway, _ = get_pathway_for_user(request.user, pathway_id, load=True)
    form = EpisodeFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = services.receive_upload(pathway=pathway, file=form.cleaned_data["file"],
                                         by=request.user)  # fmt: skip
        return redirect("episode_upload", episode_upload_id=upload.pk)
    context = {"pathway": pathway, "form": form, "steps": pathway.steps.all(),
               "max_mb": settings.FCA_MAX_EPISODE_FILE_MB}  # fmt: skip
    status = 400 if form.errors else 200
    return render(request, "pathways/upload_new.html", context, status=status)


def _upload_for(request, upload_id: int):
    upload = get_episode_upload_for_user(request.user, upload_id)
    return upload, upload.pathway


@login_required
@require_GET
def episode_upload(request: HttpRequest, episode_upload_id: int) -> HttpResponse:
    """Where an upload has got to; while it is being checked or loaded the page refreshes
    its status by itself (htmx), and works as a plain page without JavaScript."""
    upload, pathway = _upload_for(request, episode_upload_id)
    report = upload.report or {}
    context = {"upload": upload, "pathway": pathway, "report": report,
               "date_warning": episodes.swapped_warning(report.get("swappable_time"))}  # fmt: skip
    template = "pathways/_upload_status.html" if request.htmx else "pathways/upload.html"
    return render(request, template, context)


@login_required
@require_POST
def episode_upload_confirm(request: HttpRequest, episode_upload_id: int) -> HttpResponse:
    upload, _ = _upload_for(request, episode_upload_id)
    try:
        services.confirm_upload(upload=upload, valid_only=request.POST.get("valid_only") == "1")
    except services.PathwayError as error:
        messages.error(request, error.problems["__all__"])
    return redirect("episode_upload", episode_upload_id=upload.pk)


@login_required
@require_POST
def episode_upload_discard(request: HttpRequest, episode_upload_id: int) -> HttpResponse:
    upload, pathway = _upload_for(request, episode_upload_id)
    if services.discard_upload(upload=upload):
        audit.record("upload.episodes_discarded", request=request, target=pathway, upload=upload.pk)
        messages.success(request, f"{upload.filename} was discarded: nothing from it was loaded.")
    else:
        messages.error(request, f"{upload.filename} is {upload.get_status_display().lower()}.")
    return redirect("episode_upload_new", pathway_id=pathway.pk)


@login_required
@require_http_methods(["GET", "POST"])
def pathway_tokens(request: HttpRequest, pathway_id: int) -> HttpResponse:
    """The pathway's feed tokens: a data warehouse sends its episodes with one, nightly."""
    pathway, _ = get_pathway_for_user(request.user, pathway_id, write=True)
    return feed_tokens_page(
        request,
        kind="pathway",
        owner=pathway,
        owner_url=reverse("pathway_detail", args=[pathway.pk]),
        feed_what="this pathway's episodes",
    )
