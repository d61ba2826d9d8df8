"""Error pages in the NHS.UK style. They render without the request's user context
processors failing, so a broken database still gets a readable 500 page."""

from django.http import HttpRequest, HttpResponse
from django.template import loader


def _page(template: str, status: int, request: HttpRequest | None = None) -> HttpResponse:
    return HttpResponse(loader.render_to_string(template, request=request), status=status)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _page("403.html", 403, request)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _page("404.html", 404, request)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: whatever failed may fail again while rendering the header.
    return _page("500.html", 500)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _page("400.html", 400, request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent from a page that had expired (signed out and in again, another tab)."""
    return _page("csrf_failure.html", 403, request)
