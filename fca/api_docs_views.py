"""The API reference: our own page, built from the generated OpenAPI schema."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from fca import api_docs


@login_required
@require_GET
def api_reference(request: HttpRequest) -> HttpResponse:
    sections = api_docs.build_reference(
        api_docs.openapi_schema(),
        base_url=request.build_absolute_uri("/").rstrip("/"),
        feed_ops=api_docs.feed_token_operations(),
    )
    context = {
        "sections": sections,
        "info": api_docs.openapi_schema().get("info", {}),
        "reads_per_minute": settings.FCA_API_READS_PER_MINUTE,
        "writes_per_minute": settings.FCA_API_WRITES_PER_MINUTE,
        "page_size": settings.REST_FRAMEWORK["PAGE_SIZE"],
    }
    return render(request, "api/reference.html", context)
