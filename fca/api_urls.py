from django.urls import path

from fca import api

urlpatterns = [
    path("audit-events/", api.audit_event_list, name="api_audit_event_list"),
    path("cohorts/", api.cohort_list, name="api_cohort_list"),
    path("cohorts/<int:cohort_id>/", api.cohort_detail, name="api_cohort_detail"),
    path("programme/", api.programme_figures, name="api_programme_figures"),
]
