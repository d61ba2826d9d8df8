from django.urls import path

from fca import api

urlpatterns = [
    path("audit-events/", api.audit_event_list, name="api_audit_event_list"),
]
