"""The audit log's pages: QI leads read their organisation's, academy admins everyone's."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from fca import audit
from fca.csvio import safe_cell
from fca.forms import AuditFilterForm

EVENTS_PER_PAGE = 50


def _filtered(request: HttpRequest):
    """The person's events and the filter form; 404 for anyone who reads no log."""
    organisations = audit.organisations_for(request.user)
    if organisations == []:
        raise Http404("No such page")
    form = AuditFilterForm(request.GET or None, organisations=organisations)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit.events_for(request.user, **{k: v for k, v in filters.items() if v})
    return form, events, organisations


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form, events, organisations = _filtered(request)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form, "page": page, "query": query.urlencode(),
        "scope": "Every organisation" if organisations is None
        else ", ".join(o.name for o in organisations),
        "rows": [(event, audit.label(event.action), audit.describe_details(event.details))
                 for event in page],
    }  # fmt: skip
    status = 400 if form.errors else 200
    return render(request, "fca/audit.html", context, status=status)


class _Echo:
    def write(self, value):
        return value


@login_required
@require_GET
def audit_log_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered log as CSV, streamed; downloading it is itself logged."""
    form, events, _ = _filtered(request)
    if form.errors:
        return audit_log(request)  # the page, saying which filter is wrong
    audit.record("export", request=request, format="csv", what="audit log")
    writer = csv.writer(_Echo())
    rows = (writer.writerow([safe_cell(c) for c in row]) for row in audit.csv_rows(events))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
